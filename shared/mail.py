"""Reading the raw MIME that SES stores, and deciding whether the sender is trusted."""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from pydantic import BaseModel, ConfigDict

from shared.outcome import Reason, ReasonCode
from shared.settings import Settings, domain_matches

_PDF_MAGIC = b"%PDF-"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office files (.doc, .xls)
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"GIF8")  # JPEG PNG TIFF GIF


class Attachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    position: int
    content_type: str
    content: bytes

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
    def source(self) -> str:
        # Filenames often name the child ("J Smith referral.pdf"), so attachments are
        # identified by their position and type only.
        return f"attachment {self.position} ({self.content_type})"


class MailVerdicts(BaseModel):
    """What SES said about the message: each `PASS`, `FAIL`, `GRAY`, ... or None if absent."""

    model_config = ConfigDict(frozen=True)

    spam: str | None = None
    virus: str | None = None
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None


class InboundMail(BaseModel):
    model_config = ConfigDict(frozen=True)

    sender: str  # the From address, lower case
    header_message_id: str  # the Message-ID header, or a hash of the raw email without one
    verdicts: MailVerdicts
    attachments: tuple[Attachment, ...]
    body_text: str = ""  # the plain-text body (forms are sometimes typed into it)
    # The trusted forwarder (the DSR shared mailbox) the email came through, when it did;
    # `sender` is then the original referrer, found in the forwarded message.
    forwarded_by: str | None = None
    original_sender_found: bool = True


_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


def _verdicts(message: EmailMessage) -> MailVerdicts:
    found: dict[str, str] = {}
    # The topmost Authentication-Results header is the one the receiving server (SES) added;
    # lower ones came with the message and cannot be trusted.
    top_results = message.get("Authentication-Results")
    if top_results:
        for method, result in _AUTH_RESULT.findall(str(top_results)):
            found.setdefault(method.lower(), result.upper())
    received_spf = message.get("Received-SPF")
    if received_spf and "spf" not in found:
        found["spf"] = str(received_spf).split()[0].upper() if str(received_spf).split() else ""
    spam = message.get("X-SES-Spam-Verdict")
    virus = message.get("X-SES-Virus-Verdict")
    return MailVerdicts(
        spam=str(spam).strip().upper() if spam else None,
        virus=str(virus).strip().upper() if virus else None,
        **found,
    )


def _attached_files(message: EmailMessage) -> list[tuple[EmailMessage, bytes]]:
    """Every file in the message, however deeply the sender's client nested it: each leaf
    part except the text of the message itself."""
    files = []
    for part in message.walk():
        if part.is_multipart():
            continue
        is_text = part.get_content_maintype() == "text" and part.get_filename() is None
        if is_text and part.get_content_disposition() != "attachment":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            files.append((part, payload))
    return files


def _from_address(message: EmailMessage) -> str:
    addresses = getaddresses([str(value) for value in message.get_all("From", [])])
    return addresses[0][1].strip().lower() if addresses else ""


def _body_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return text if isinstance(text, str) else ""


# The line mail clients put above a message forwarded inline, then its header block.
_FORWARD_MARKER = re.compile(
    r"^[ >]*(?:-{2,}\s*(?:forwarded message|original message)\s*-{2,}|begin forwarded message:"
    r"|_{10,})\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARDED_FROM = re.compile(r"^[ >*]*from:\**\s*(?P<line>.+)$", re.IGNORECASE | re.MULTILINE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def _forwarded_original(message: EmailMessage) -> tuple[str, str] | None:
    """(original sender, original body) of a forwarded email: from the attached message
    (`message/rfc822`) if there is one, else from an inline forward's header block."""
    for part in message.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            if isinstance(inner, EmailMessage) and _from_address(inner):
                return _from_address(inner), _body_text(inner)
    body = _body_text(message)
    marker = _FORWARD_MARKER.search(body)
    if marker is None:
        return None
    header_block = body[marker.end() :].lstrip("\n").split("\n\n", 1)[0]
    from_line = _FORWARDED_FROM.search(header_block)
    addresses = _ADDRESS.findall(from_line.group("line")) if from_line else []
    # "From: Patel, Sam (BROMLEY CAMHS) <sam.patel@nhs.net>": the address is the last one.
    return (addresses[-1].lower(), body) if addresses else None


def parse_mail(raw: bytes, trusted_forwarders: tuple[str, ...] = ()) -> InboundMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    sender = _from_address(message)
    body_text = _body_text(message)
    forwarded_by: str | None = None
    original_found = True
    if sender in trusted_forwarders:
        forwarded_by = sender
        original = _forwarded_original(message)
        if original is None:
            original_found = False
        else:
            sender, body_text = original
    attachments = tuple(
        Attachment(position=position, content_type=part.get_content_type(), content=payload)
        for position, (part, payload) in enumerate(_attached_files(message), start=1)
    )
    message_id = message.get("Message-ID")
    return InboundMail(
        sender=sender,
        # Without a Message-ID, the bytes themselves identify a second delivery of the same email.
        header_message_id=str(message_id).strip()
        if message_id
        else "sha256:" + hashlib.sha256(raw).hexdigest(),
        verdicts=_verdicts(message),
        attachments=attachments,
        body_text=body_text,
        forwarded_by=forwarded_by,
        original_sender_found=original_found,
    )


_FAILED = {"FAIL", "PERMERROR"}


def trust_reasons(mail: InboundMail, settings: Settings) -> list[Reason]:
    """Every reason not to trust this email. Untrusted mail is quarantined, never answered."""
    reasons: list[Reason] = []
    if not mail.original_sender_found:
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The email came through a trusted forwarder, but the original sender "
                "could not be found in it. A coordinator should check who sent it.",
            )
        )
    if mail.sender == settings.inbox_address.lower():
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The email is from the DSR's own address (one of our emails came back); "
                "it is not answered, so no loop of replies starts.",
            )
        )
    verdicts = mail.verdicts
    if verdicts.virus is not None and verdicts.virus != "PASS":
        reasons.append(Reason(code=ReasonCode.VIRUS, message="The virus scan did not pass."))
    if verdicts.spam == "FAIL":
        reasons.append(Reason(code=ReasonCode.SPAM, message="The spam check failed."))
    failed = [name for name in ("spf", "dkim", "dmarc") if getattr(verdicts, name) in _FAILED]
    # An SPF soft fail is common for forwarded mail; it counts only when DMARC did not pass.
    if verdicts.spf == "SOFTFAIL" and verdicts.dmarc != "PASS":
        failed.insert(0, "spf")
    if failed:
        reasons.append(
            Reason(
                code=ReasonCode.MAIL_AUTH_FAILED,
                message=f"Sender authentication failed ({', '.join(failed).upper()}).",
            )
        )
    allowed = domain_matches(mail.sender, settings.allowed_sender_domains) or (
        mail.sender in settings.coordinator_addresses
    )
    if mail.original_sender_found and not allowed:
        reasons.append(
            Reason(
                code=ReasonCode.SENDER_NOT_ALLOWED,
                message="The sender's domain is not one the DSR accepts referrals from.",
            )
        )
    return reasons
