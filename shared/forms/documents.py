"""The DSR forms in one attachment, whatever kind of document it is.

Whatever a file holds, reading it ends in forms, none, or a FormUnreadableError that says what
the file is: nothing a library raises on a damaged or hostile file (and no MemoryError or
RecursionError) escapes `read_attachment`. The readers bound their own work (see the limits in
`pdf*.py` and `word*.py`).
"""

from __future__ import annotations

from shared.forms.fields import FormUnreadableError, RawForm
from shared.forms.text_form import read_text_forms
from shared.forms.word import is_word_package, word_text
from shared.mail import Attachment

# What mail clients attach that is never a form (S/MIME and PGP signatures of signed mail).
_NEVER_FORMS = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
        "application/pgp-keys",
    }
)
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A password-protected .docx (or .xlsx ...) is an OLE file holding this stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def read_attachment(attachment: Attachment) -> list[RawForm]:
    """The forms in the attachment; none when it is not a form (a letter, a signature logo).

    Raises FormUnreadableError when it may hold a form that cannot be read automatically."""
    try:
        return _read(attachment)
    except FormUnreadableError:
        raise
    except MemoryError:
        failure = f"is {_kind(attachment)} too large to read"
    except RecursionError:
        failure = f"is {_kind(attachment)} nested too deeply to read"
    except Exception:  # whatever a library raises on a damaged or hostile file
        failure = _damaged(attachment)
    # Raised here, not in the handler, so the library's exception (its message may hold the
    # file's text or names; a MemoryError's frames may hold a lot) is neither kept nor shown.
    raise FormUnreadableError(failure)


def _read(attachment: Attachment) -> list[RawForm]:
    if attachment.looks_like_pdf:
        from shared.forms.pdf import read_pdf_forms  # pypdf loads for the first PDF only

        return read_pdf_forms(attachment.content, attachment.source)
    if _is_word(attachment):
        return read_text_forms(word_text(attachment.content), attachment.source)
    if attachment.content[:8] == _OLE_MAGIC and _ENCRYPTED_PACKAGE in attachment.content:
        raise FormUnreadableError("is a password-protected Word (or other Office) document")
    unreadable = attachment.unreadable_kind
    if unreadable is not None:
        raise FormUnreadableError(f"is {unreadable}")
    if attachment.content_type.startswith("text/"):
        # A letter, or a form typed into a text file.
        text = attachment.content.decode("utf-8", errors="replace")
        return read_text_forms(text, attachment.source)
    if attachment.content_type.startswith(("message/", "multipart/")) or (
        attachment.content_type in _NEVER_FORMS
    ):
        return []  # a signature or a delivery report: never a form
    raise FormUnreadableError(
        f"is a file of a kind that cannot be read ({attachment.content_type})"
    )


def _is_word(attachment: Attachment) -> bool:
    """A .docx without macros: one holding `word/document.xml`, one sent as a .docx, or a
    Word package whose main part has another name (found through its `_rels/.rels`)."""
    if attachment.is_word_document:
        return True
    if attachment.content[:2] != b"PK" or attachment.unreadable_kind is not None:
        return False
    return attachment.content_type == _DOCX or is_word_package(attachment.content)


def _kind(attachment: Attachment) -> str:
    if attachment.looks_like_pdf:
        return "a PDF"
    if attachment.content[:2] == b"PK" and attachment.unreadable_kind is None:
        return "a Word document"
    if attachment.content_type.startswith("text/"):
        return "a text file"
    return "a file"


def _damaged(attachment: Attachment) -> str:
    kind = _kind(attachment)
    if kind == "a PDF":
        return "is a damaged PDF that cannot be opened"
    if kind == "a Word document":
        return "is a damaged Word document that cannot be opened"
    return f"is {kind} that cannot be read"
