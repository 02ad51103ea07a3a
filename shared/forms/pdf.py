"""The DSR forms in a PDF: from its form fields when it is the fillable form, else from its
text layer when it was printed or flattened (label and value in two columns)."""

from __future__ import annotations

import io
import logging

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, FloatObject, NameObject

from shared.forms.fields import (
    FormUnreadableError,
    RawForm,
    canonical_fields,
    detect_kinds,
)
from shared.forms.text_form import read_text_forms

# pypdf logs warnings about damaged files; a damaged form becomes a FORM_UNREADABLE reason
# instead, so those warnings would only be noise in the functions' logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)

# A printed form is a few pages; a long document (a care plan) is not read to its end.
MAX_TEXT_PAGES = 20


def _value_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_value_text(part) for part in value)
    return str(value).strip()


def _open(content: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
        if not encrypted:
            reader.get_fields()  # reads the whole form tree: a damaged one fails here
    except Exception as error:  # pypdf raises many kinds for a damaged file
        raise FormUnreadableError("is a damaged PDF that cannot be opened") from error
    if encrypted:
        raise FormUnreadableError("is an encrypted or password-protected PDF")
    return reader


def read_pdf_forms(content: bytes, source: str) -> list[RawForm]:
    """The forms in a PDF; none when it holds no DSR form (a covering letter, say).

    Raises FormUnreadableError when it cannot be opened, or is only images (a scan)."""
    reader = _open(content)
    named = {
        name: _value_text(field.get("/V")) for name, field in (reader.get_fields() or {}).items()
    }
    # Which form it is decides what an ambiguous name means, so: map, detect, map again.
    kinds = detect_kinds(canonical_fields(named))
    if kinds:
        return [
            RawForm(kind=kind, fields=canonical_fields(named, kind.value), source=source)
            for kind in kinds
        ]
    try:
        pages = _flattened(reader, named).pages[:MAX_TEXT_PAGES]
        text = "\n".join(_page_text(page) for page in pages)
    except Exception as error:
        raise FormUnreadableError("is a damaged PDF that cannot be opened") from error
    if not text.strip():
        raise FormUnreadableError(
            "is a PDF of images only (a scan or a photo), with no text to read"
        )
    return read_text_forms(text, source)


def _flattened(reader: PdfReader, values: dict[str, str]) -> PdfReader:
    """The PDF as printed: fields whose names we do not know drawn as page text, so their
    printed labels read them; and every drawn object (a flattened field) inlined in the
    page's own text, because pypdf's layout extraction leaves such objects out."""
    writer = PdfWriter(clone_from=reader)
    if values:
        for page in writer.pages:
            writer.update_page_form_field_values(
                page, {name: value for name, value in values.items() if value}, flatten=True
            )
    for page in writer.pages:
        _inline_drawn_objects(writer, page)
    out = io.BytesIO()
    writer.write(out)
    return PdfReader(io.BytesIO(out.getvalue()))


def _inline_drawn_objects(writer: PdfWriter, page: PageObject) -> None:
    resources = page.get("/Resources")
    if resources is None or not resources.get_object().get("/XObject"):
        return
    resources = resources.get_object()
    drawn = resources["/XObject"].get_object()
    fonts = resources.setdefault(NameObject("/Font"), DictionaryObject()).get_object()
    content = ContentStream(page.get_contents(), writer)
    operations: list[tuple[list[object], bytes]] = []
    for operands, operator in content.operations:
        drawing = drawn.get(operands[0]) if operator == b"Do" else None
        drawing = drawing.get_object() if drawing is not None else None
        if drawing is None or drawing.get("/Subtype") != "/Form":
            operations.append((operands, operator))
            continue
        own = drawing.get("/Resources")
        for name, font in (own.get_object().get("/Font", {}) if own else {}).items():
            fonts.setdefault(NameObject(name), font)
        matrix = drawing.get("/Matrix", [1, 0, 0, 1, 0, 0])
        operations += [
            ([], b"q"),
            ([FloatObject(number) for number in matrix], b"cm"),
            *ContentStream(drawing, writer).operations,
            ([], b"Q"),
        ]
    content.operations = operations
    page.replace_contents(content)


def _page_text(page: PageObject) -> str:
    return page.extract_text(extraction_mode="layout")
