"""The DSR forms in one attachment, whatever kind of document it is."""

from __future__ import annotations

from shared.forms.fields import FormUnreadableError, RawForm
from shared.forms.pdf import read_pdf_forms
from shared.forms.text_form import read_text_forms
from shared.forms.word import word_text
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


def read_attachment(attachment: Attachment) -> list[RawForm]:
    """The forms in the attachment; none when it is not a form (a letter, a signature logo).

    Raises FormUnreadableError when it may hold a form that cannot be read automatically."""
    if attachment.looks_like_pdf:
        return read_pdf_forms(attachment.content, attachment.source)
    if attachment.is_word_document:
        return read_text_forms(word_text(attachment.content), attachment.source)
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
