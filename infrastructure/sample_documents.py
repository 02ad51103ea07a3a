"""Forms as referrers also send them: printed (flattened) PDFs, other areas' forms printed
from Word, Word documents, and scans. Built with pypdf and the standard library only, so the
tests need nothing more; every person in them is fictional.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from infrastructure.samples import FORMS
from templates.forms.layout import FormLayout

A4 = (595, 842)


def _stream(writer: PdfWriter, data: bytes, **entries: PdfObject) -> PdfObject:
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in entries.items():
        stream[NameObject("/" + key)] = value
    return writer._add_object(stream)


def printed_form(layout: FormLayout, fields: dict[str, str]) -> bytes:
    """Our fillable form, filled in and then printed to PDF: no fields left, the answers drawn
    on the page beside their printed labels, ticks (and the chosen radio button) drawn as an X."""
    from infrastructure.samples import filled_form

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(filled_form(layout, fields))))
    resources = writer._root_object["/AcroForm"].get_object()["/DR"]  # type: ignore[index]
    tick = _stream(
        writer,
        b"BT /Helv 10 Tf 2 3 Td (X) Tj ET",
        Type=NameObject("/XObject"),
        Subtype=NameObject("/Form"),
        BBox=ArrayObject([NumberObject(0), NumberObject(0), NumberObject(14), NumberObject(14)]),
        Resources=resources,
    )
    radios = {field.name for field in layout.fields() if field.type == "radio"}
    values = {
        name: f"/{value}" if name in radios and not value.startswith("/") else value
        for name, value in fields.items()
        if value
    }
    for page in writer.pages:
        writer.update_page_form_field_values(page, values, auto_regenerate=False)
        for annotation in page.get("/Annots", []):
            widget = annotation.get_object()
            appearance = widget.get("/AP")
            if appearance is None:
                continue
            normal = appearance["/N"].get_object()
            states = [state for state in normal if state != "/Off"]
            if "/Off" in normal:  # a tick box or radio button: the tick as text, as printed
                for state in states:
                    normal[NameObject(state)] = tick
            elif "/Resources" not in normal:
                normal[NameObject("/Resources")] = resources
        # pypdf draws every flattened widget of one field under one name (`/Fm_<field>`), so
        # a radio group's unchosen buttons (an empty circle when printed) are left out.
        annotations = page.get("/Annots")
        if annotations is not None:
            kept = [
                annotation
                for annotation in annotations
                if not (
                    "/T" not in annotation.get_object()
                    and annotation.get_object().get("/AS") == "/Off"
                    and "/Parent" in annotation.get_object()
                    and "/Kids" in annotation.get_object()["/Parent"].get_object()
                    and len(annotation.get_object()["/Parent"].get_object()["/Kids"]) > 1
                )
            ]
            page[NameObject("/Annots")] = ArrayObject(kept)
        writer.update_page_form_field_values(page, values, auto_regenerate=False, flatten=True)
    writer.remove_annotations(subtypes="/Widget")
    del writer._root_object["/AcroForm"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def renamed_form(layout: FormLayout, fields: dict[str, str], names: dict[str, str]) -> bytes:
    """Another area's fillable form: ours, filled in, with its fields renamed (`names`:
    canonical -> theirs, e.g. "NHS No.") and no form id, as their own forms arrive."""
    from infrastructure.samples import filled_form

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(filled_form(layout, fields, form_id=""))))
    for page in writer.pages:
        for annotation in page.get("/Annots", []):
            widget = annotation.get_object()
            field = widget if "/T" in widget else widget.get("/Parent", widget).get_object()
            name = str(field.get("/T", ""))
            if name in names:
                field[NameObject("/T")] = TextStringObject(names[name])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted(pdf: bytes) -> bytes:
    """The PDF protected with a password, as some trusts' mail gateways do."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_text(text: str) -> bytes:
    return (
        b"("
        + text.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        + b")"
    )


def text_pdf(rows: list[tuple[str, str] | str]) -> bytes:
    """A form printed from a word processor: each row a heading or paragraph (a string) or a
    label and its answer in two columns, in Helvetica, ticks as `[X]`/`[ ]` text."""
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    pages: list[list[bytes]] = [[]]
    y = A4[1] - 60
    for row in rows:
        if y < 60:
            pages.append([])
            y = A4[1] - 60
        if isinstance(row, str):
            pages[-1].append(b"BT /F1 10 Tf 50 %d Td %s Tj ET" % (y, _pdf_text(row)))
        else:
            label, answer = row
            pages[-1].append(b"BT /F1 10 Tf 50 %d Td %s Tj ET" % (y, _pdf_text(label)))
            for offset, line in enumerate(answer.splitlines() or [""]):
                pages[-1].append(
                    b"BT /F1 10 Tf 250 %d Td %s Tj ET" % (y - 14 * offset, _pdf_text(line))
                )
                y -= 14 * (offset > 0)
        y -= 18
    for operations in pages:
        page = writer.add_blank_page(*A4)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page[NameObject("/Contents")] = _stream(writer, b"\n".join(operations))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A scanner's PDF: one page that is a picture, with no text layer."""
    writer = PdfWriter()
    image = _stream(
        writer,
        bytes([200, 200, 200] * 64 * 64),
        Type=NameObject("/XObject"),
        Subtype=NameObject("/Image"),
        Width=NumberObject(64),
        Height=NumberObject(64),
        ColorSpace=NameObject("/DeviceRGB"),
        BitsPerComponent=NumberObject(8),
    )
    page = writer.add_blank_page(*A4)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Scan"): image})}
    )
    page[NameObject("/Contents")] = _stream(writer, b"q 595 0 0 842 0 0 cm /Scan Do Q")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'


def _run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _paragraph(text: str) -> str:
    return f"<w:p>{_run(text)}</w:p>"


def _control(title: str, value: str | bool | None) -> str:
    """A content control titled `title`: text, a tick box (bool), or empty (None)."""
    if isinstance(value, bool):
        checkbox = f'<w14:checkbox><w14:checked w14:val="{int(value)}"/></w14:checkbox>'
        shown = "☒" if value else "☐"
        return (
            f'<w:sdt><w:sdtPr><w:alias w:val="{escape(title)}"/><w:tag w:val="{escape(title)}"/>'
            f"{checkbox}</w:sdtPr><w:sdtContent>{_run(shown)}</w:sdtContent></w:sdt>"
        )
    placeholder = "<w:showingPlcHdr/>" if value is None else ""
    shown = "Click or tap here to enter text." if value is None else value
    return (
        f'<w:sdt><w:sdtPr><w:alias w:val="{escape(title)}"/>{placeholder}</w:sdtPr>'
        f"<w:sdtContent>{_run(shown)}</w:sdtContent></w:sdt>"
    )


def _cell(text: str) -> str:
    """A table cell, each line of the text a paragraph of its own, as Word keeps them."""
    paragraphs = "".join(f"<w:p>{_run(line)}</w:p>" for line in text.splitlines() or [""])
    return f'<w:tc><w:tcPr><w:tcW w:w="4500" w:type="dxa"/></w:tcPr>{paragraphs}</w:tc>'


Block = str | list[list[str]]


def word_document(blocks: list[Block]) -> bytes:
    """A .docx laid out as other areas' forms are: each block a paragraph (a heading, a
    `Label: value` line) or a table, each row a list of cells (a row of one cell spans the
    table, as a section heading inside it does; four cells are two labels and answers)."""
    body = ""
    for block in blocks:
        if isinstance(block, str):
            body += _paragraph(block)
            continue
        rows = ""
        for row in block:
            if len(row) == 1:
                span = '<w:tcPr><w:gridSpan w:val="4"/></w:tcPr>'
                rows += f"<w:tr><w:tc>{span}{_paragraph(row[0])}</w:tc></w:tr>"
            else:
                rows += "<w:tr>" + "".join(_cell(cell) for cell in row) + "</w:tr>"
        body += f"<w:tbl><w:tblPr/>{rows}</w:tbl>"
    return _package(body)


def word_form(
    *,
    heading: str,
    table: list[tuple[str, str]] = (),  # type: ignore[assignment]
    controls: list[tuple[str, str | bool | None]] = (),  # type: ignore[assignment]
    macros: bool = False,
) -> bytes:
    """A .docx as Word saves it: a heading, a two-column table of labels and answers (a tick
    is `☒`), then a paragraph per content control (the way many areas' forms are built)."""
    rows = "".join(f"<w:tr>{_cell(label)}{_cell(answer)}</w:tr>" for label, answer in table)
    body = _paragraph(heading)
    if rows:
        body += f"<w:tbl><w:tblPr/>{rows}</w:tbl>"
    body += "".join(
        f"<w:p>{_run(title + ' ')}{_control(title, value)}</w:p>" for title, value in controls
    )
    return _package(body, macros=macros)


def _package(body: str, *, macros: bool = False) -> bytes:
    """The document's body packaged as Word saves it."""
    document = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_W}><w:body>{body}<w:sectPr/></w:body></w:document>'
    main = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macros
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        archive.writestr("word/document.xml", document)
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


__all__ = [
    "FORMS",
    "encrypted",
    "printed_form",
    "renamed_form",
    "scanned_pdf",
    "text_pdf",
    "word_document",
    "word_form",
]
