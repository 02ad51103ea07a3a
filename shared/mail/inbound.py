"""An email as the intake judges it (`InboundMail`) and the files it carries (`Attachment`):
plain values that `shared.mail.message` reads out of the raw MIME."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.mail.authentication import MailVerdicts
from shared.mail.forwarding import own_text
from shared.mail.reports import DeliveryReport
from shared.outcome import Reason

_PDF_MAGIC = b"%PDF-"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office files (.doc, .xls)
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"GIF8")  # JPEG PNG TIFF GIF


_WORD_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-word.document.macroenabled.12",
    }
)
MAX_FILENAME_CHARS = 100


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    content_type: str
    content: bytes
    # The decoded size; larger than `content` when the file was over the size limit and was
    # therefore never decoded (`content` is then empty).
    size: int = 0
    # Found inside an attached (forwarded) message rather than in the sender's own email.
    inside_message: bool = False
    # The sender's filename, sanitised (one line, no controls, at most MAX_FILENAME_CHARS).
    # It often names the child: it is shown at secure addresses only, and never used to
    # judge the file, name a stored object or name a file we send.
    filename: str = ""

    @property
    def full_size(self) -> int:
        """The file's decoded size, whether or not it was decoded."""
        return max(self.size, len(self.content))

    @property
    def looks_like_pdf(self) -> bool:
        return self.content_type == "application/pdf" or self.content.lstrip()[:5] == _PDF_MAGIC

    @property
    def unreadable_kind(self) -> str | None:
        """What this attachment is when it may hold a form we cannot read, else None.

        Judged from the bytes and the declared type, never the filename."""
        head = self.content[:8]
        if self.content_type.startswith("image/") or head.startswith(_IMAGE_MAGIC):
            return "an image (a scan or a photo of a form)"
        if head.startswith(_OLE_MAGIC) or self.content_type == "application/msword":
            return "a legacy Word (.doc) document"
        if head.startswith(b"PK") and b"vbaProject.bin" in self.content:
            return "a Word document with macros"
        return None

    @property
    def is_word_document(self) -> bool:
        """A .docx without macros (a zip holding word/document.xml)."""
        return (
            self.content[:2] == b"PK"
            and b"word/document.xml" in self.content
            and b"vbaProject.bin" not in self.content
        )

    @property
    def kind_name(self) -> str:
        """What the file is, in plain words ("PDF", "Word"), judged from its bytes and
        declared type, never the filename."""
        if self.looks_like_pdf:
            return "PDF"
        if self.is_word_document or self.content_type in _WORD_TYPES:
            return "Word"
        if self.content_type.startswith("image/") or self.content[:8].startswith(_IMAGE_MAGIC):
            return "image"
        if self.content_type.startswith("text/"):
            return "text"
        if self.content_type in ("message/rfc822", "message/global"):
            return "email"
        return "file"

    @property
    def source(self) -> str:
        # Filenames often name the child ("J Smith referral.pdf"), so attachments are
        # identified by their position and what they are ("attachment 2 (PDF)") only.
        return f"attachment {self.position} ({self.kind_name})"


class InboundMail(BaseModel):
    model_config = ConfigDict(frozen=True)

    sender: str  # the From address, lower case ("" when there is no one sender)
    header_message_id: str  # the Message-ID header, or a hash of the raw email without one
    verdicts: MailVerdicts
    attachments: tuple[Attachment, ...] = ()
    file_count: int = 0  # files in the email; only the first MAX_FILES_KEPT are in attachments
    body_text: str = ""  # the plain-text body (forms are sometimes typed into it)
    # The body is the email's own main text (not a text part found further down, which may
    # be someone else's): only then can it carry a coordinator's command.
    body_is_main: bool = False

    @property
    def own_text(self) -> str:
        """What the sender wrote themselves: the body above any forward or reply marker,
        without lines quoted with `>`."""
        return own_text(self.body_text)

    # The trusted forwarder (the DSR shared mailbox) the email came through, when it did;
    # `sender` is then the original referrer, found in the forwarded message.
    forwarded_by: str | None = None
    original_sender_found: bool = True
    # What is wrong with the email itself (its From, its structure): it is then quarantined.
    problems: tuple[Reason, ...] = ()
    # An automatic reply or a delivery report: recorded, never answered.
    automatic: bool = False
    # A delivery status notification: what it says of the email it reports on (unvouched).
    delivery_report: DeliveryReport | None = None
    # The email's own subject (decoded, one line, bounded) and the Message-IDs it answers:
    # our answers thread to it, and a reply to one of our emails is recognised.
    subject: str = ""
    in_reply_to: tuple[str, ...] = ()
    # What our answers thread to (In-Reply-To and References) and say they answer: the
    # sender's own email (for a forward with the original attached, that original). Its
    # Message-ID only when a real `<...>` one (None: no threading headers), its References
    # chain (else its In-Reply-To), and its Date header (None: unreadable or absent).
    reply_to_id: str | None = None
    references: tuple[str, ...] = ()
    sent_at: datetime | None = None
    reply_subject: str = ""  # its subject (one line, bounded): may name the child

    @property
    def replies_to_us(self) -> bool:
        """A reply to one of our emails: SES names every email it sends `<...@<region>.
        amazonses.com>`, and our subjects all start "DSR"."""
        answers_ses = any(
            message_id.rstrip(">").lower().endswith(".amazonses.com")
            for message_id in self.in_reply_to
        )
        return answers_ses or bool(_REPLY_SUBJECT.match(self.subject))

    @property
    def authenticated_address(self) -> str:
        """The address SES's verdicts are about: the forwarder's, for a forwarded email."""
        return self.forwarded_by or self.sender

    @property
    def duplicate_key(self) -> str:
        """The same email sent again has the same sender and Message-ID."""
        return f"{self.sender}\n{self.header_message_id}"


_REPLY_SUBJECT = re.compile(r"^\s*(?:(?:re|aw|sv|antw|fw|fwd)\s*:\s*)+DSR\b", re.IGNORECASE)


def valid_text(text: str) -> str:
    """`text` as valid Unicode: lone surrogates (from a bad UTF-7 body, say) replaced."""
    return text.encode("utf-8", "replace").decode("utf-8")
