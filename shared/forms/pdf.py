"""The DSR forms in a PDF: from its form fields when it is the fillable form, else from its
text layer when it was printed or flattened (label and value in two columns).

Nothing in the file is trusted to be small. The form's field tree is walked once, without
recursion, and refused past MAX_PDF_FORM_FIELDS; only the first MAX_PDF_PAGES_READ pages are
ever looked at (the page tree is walked to them, never flattened whole), and only while their
drawing fits in MAX_PDF_CONTENT_BYTES; those pages are read as printed without copying the
document: each page's drawn objects are inlined and its fields' values drawn as text on a
page made for reading, which pypdf's layout extraction reads (its plain extraction when that
finds nothing). pypdf's own limits are tightened while reading (MAX_PDF_STREAM_BYTES). A PDF
protected only against changes (it opens with an empty password) is read like any other.

This module opens the PDF, chooses how to read it and bounds the reading of its pages; the
parts live beside it: the field tree in `pdf_fields.py`, the pages made for reading and their
text in `pdf_text.py`, the fields' values drawn on those pages in `pdf_value_drawing.py`.
Their limits and messages are importable from here too.
"""

from __future__ import annotations

import io
import logging

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError

from shared.forms.fields import (
    FormUnreadableError,
    RawForm,
    canonical_fields,
    detect_kinds,
)
from shared.forms.pdf_fields import (
    FIELDS_TOO_DEEP,
    MAX_PDF_FIELD_DEPTH,
    MAX_PDF_FIELD_NAME_CHARS,
    MAX_PDF_FIELD_VALUE_CHARS,
    MAX_PDF_FORM_FIELDS,
    NAME_TOO_LONG,
    TOO_MANY_FIELDS,
    VALUES_TOO_LONG,
)
from shared.forms.pdf_fields import _Form as _Form
from shared.forms.pdf_text import MAX_PDF_PAGE_TREE_NODES, _first_pages
from shared.forms.pdf_text import _page_for_reading as _page_for_reading
from shared.forms.pdf_text import _page_text as _page_text
from shared.forms.text_form import read_text_forms

__all__ = [
    "DAMAGED",
    "ENCRYPTED",
    "FIELDS_TOO_DEEP",
    "IMAGES_ONLY",
    "MAX_PDF_CONTENT_BYTES",
    "MAX_PDF_FIELD_DEPTH",
    "MAX_PDF_FIELD_NAME_CHARS",
    "MAX_PDF_FIELD_VALUE_CHARS",
    "MAX_PDF_FORM_FIELDS",
    "MAX_PDF_PAGES_READ",
    "MAX_PDF_PAGE_TREE_NODES",
    "MAX_PDF_STREAM_BYTES",
    "MAX_TEXT_PAGES",
    "NAME_TOO_LONG",
    "TOO_COMPLEX",
    "TOO_LARGE",
    "TOO_MANY_FIELDS",
    "VALUES_TOO_LONG",
    "read_pdf_forms",
]

# pypdf logs warnings about damaged files; a damaged form becomes a FORM_UNREADABLE reason
# instead, so those warnings would only be noise in the functions' logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_PDF_PAGES_READ = 20
"""A printed form is a few pages; a long document (a care plan) is read to here, no further.
Only these pages are ever looked at: a 50,000-page PDF costs what a 20-page one does."""
MAX_TEXT_PAGES = MAX_PDF_PAGES_READ  # its former name

MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
"""The most any one stream (a page's content, a drawn object) may decode to, given to pypdf
as its limit while the PDF is read."""

MAX_PDF_CONTENT_BYTES = 512 * 1024
"""The most drawing instructions (decoded page contents, the drawn objects inlined in them,
the field values drawn) read from a PDF's pages: a page of a printed form holds 5-50 KB,
twenty pages of a thesis 500 KB, an engineering drawing a megabyte a page. Reading goes page
by page while it lasts; a PDF whose very first page is past it is refused. Reading this much
takes up to about a second and a half (tiny operations are the slowest to read)."""

DAMAGED = "is a damaged PDF that cannot be opened"
ENCRYPTED = "is an encrypted or password-protected PDF"
IMAGES_ONLY = "is a PDF of images only (a scan or a photo), with no text to read"

TOO_COMPLEX = (
    f"is a PDF whose first pages hold more than {MAX_PDF_CONTENT_BYTES // 1024:,} KB of "
    "drawing instructions, too many to read"
)
TOO_LARGE = (
    f"is a PDF with content larger than {MAX_PDF_STREAM_BYTES // (1024 * 1024)} MB when "
    "unpacked, or too complex to read"
)

_LIMITS = {
    name: MAX_PDF_STREAM_BYTES
    for name in (
        "maximum_declared_stream_length",
        "array_based_stream_maximum_output_length",
        "jbig2_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "zlib_maximum_output_length",
        "brotli_maximum_output_length",
        "image_maximum_buffer_size",
        "stream_decoding_work_maximum_length",
        "xfa_decoding_work_maximum_length",
    )
}


def read_pdf_forms(content: bytes, source: str) -> list[RawForm]:
    """The forms in a PDF; none when it holds no DSR form (a covering letter, say).

    Raises FormUnreadableError when it cannot be opened, is protected by a password, is
    only images (a scan), or is larger than the limits above."""
    try:
        with apply_configuration(None, **_LIMITS):
            return _read(content, source)
    except (FormUnreadableError, MemoryError, RecursionError):
        raise
    except LimitReachedError:
        failure = TOO_LARGE
    except Exception:  # pypdf raises many kinds for a damaged file
        failure = DAMAGED
    raise FormUnreadableError(failure)


def _read(content: bytes, source: str) -> list[RawForm]:
    reader = _open(content)
    form = _Form.read(reader)
    named = form.values
    # Which form it is decides what an ambiguous name means, so: map, detect, map again.
    kinds = detect_kinds(canonical_fields(named))
    if kinds:
        return [
            RawForm(kind=kind, fields=canonical_fields(named, kind.value), source=source)
            for kind in kinds
        ]
    texts: list[str] = []
    failed = False
    budget = _ContentBudget()
    for page, inherited in _first_pages(reader, MAX_PDF_PAGES_READ):
        try:
            reading = _page_for_reading(reader, page, inherited, form, budget)
            if reading is None:
                break  # past MAX_PDF_CONTENT_BYTES: read no further
            texts.append(_page_text(reading))
        except (MemoryError, RecursionError, LimitReachedError):
            raise
        except Exception:  # this page cannot be read; the others may be
            failed = True
    text = "\n".join(texts)
    if not text.strip():
        if budget.exceeded:
            raise FormUnreadableError(TOO_COMPLEX)
        raise FormUnreadableError(DAMAGED if failed or not texts else IMAGES_ONLY)
    return read_text_forms(text, source)


def _open(content: bytes) -> PdfReader:
    """The PDF, opened; one protected only against changes (encrypted with an empty password
    to open it, as many official forms are) is read like any other."""
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
    except (MemoryError, RecursionError, LimitReachedError):
        raise
    except Exception:  # pypdf raises many kinds for a damaged file
        encrypted = None
    if encrypted is None:
        raise FormUnreadableError(DAMAGED)
    if encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except (MemoryError, RecursionError):
            raise
        except Exception:  # an encryption pypdf cannot undo (a certificate, an unknown handler)
            opened = False
        if not opened:
            raise FormUnreadableError(ENCRYPTED)
    return reader


class _ContentBudget:
    """What is left of MAX_PDF_CONTENT_BYTES for the pages still to read."""

    def __init__(self) -> None:
        self.left = MAX_PDF_CONTENT_BYTES
        self.exceeded = False

    def take(self, size: int) -> bool:
        if size > self.left:
            self.exceeded = True
            return False
        self.left -= size
        return True
