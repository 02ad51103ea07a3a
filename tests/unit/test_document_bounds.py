"""Hostile and odd documents: every one is read, or refused with a FormUnreadableError that
says what it is, within bounds of time and memory measured here, in this process.

The documents are made here (bench/bench_forms.py makes larger ones from the same builders):
zip bombs that lie about their size, zips packed in ways zipfile cannot unpack, Word runs and
tables nested thousands deep, hundreds of thousands of paragraphs, PDFs of thousands of pages
or fields, restriction-only PDFs, list boxes with export values, drawn objects that cannot be
inlined, and random or mutated Word files (hypothesis).
"""

from __future__ import annotations

import contextlib
import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.constants import UserAccessPermissions
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from infrastructure.sample_documents import printed_form, renamed_form, word_form
from infrastructure.samples import consent_fields, referral_fields, referral_pdf
from shared.forms import pdf, word
from shared.forms.documents import read_attachment
from shared.forms.fields import FormKind, FormUnreadableError, RawForm
from shared.mail import Attachment
from templates.forms.layout import REFERRAL

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
SECONDS = 15.0  # generous: each read here takes well under a second alone, more on a loaded CI machine
MEGABYTES = 150  # likewise: the function has 512 MB, and reads up to ten attachments


# --- Building Word documents --------------------------------------------------------------

W_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NAMESPACE = "http://purl.oclc.org/ooxml/wordprocessingml/main"
OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def document_xml(body: str, namespace: str = W_NAMESPACE) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{namespace}"><w:body>{body}</w:body></w:document>'
    ).encode()


def docx(document: bytes, *, main: str = "word/document.xml") -> bytes:
    """A .docx as Word saves it, its main part at `main` (found through _rels/.rels)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main}" ContentType="{MAIN_TYPE}"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{OFFICE_DOCUMENT}" Target="/{main}"/></Relationships>',
        )
        archive.writestr(main, document)
    return out.getvalue()


@dataclass
class Member:
    """One part of a zip written byte by byte, so its headers can lie."""

    name: str
    data: bytes  # as stored: compressed when `method` says so
    method: int = zipfile.ZIP_DEFLATED
    crc: int = 0
    declared_size: int = 0  # the uncompressed size the headers claim
    flags: int = 0


def raw_zip(members: list[Member]) -> bytes:
    out = bytearray()
    directory = bytearray()
    for member in members:
        name = member.name.encode()
        offset = len(out)
        sizes = (member.crc, len(member.data), member.declared_size)
        out += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, member.flags, member.method, 0, 0, *sizes, len(name), 0
        )
        out += name + member.data
        directory += struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            member.flags,
            member.method,
            0,
            0,
            *sizes,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        directory += name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(out), 0
    )
    return bytes(out + directory + end)


def deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def deflated_repeat(prefix: bytes, unit: bytes, count: int, suffix: bytes) -> bytes:
    """Raw deflate data of prefix + unit * count + suffix, made without ever holding it:
    independently compressed, byte-aligned segments simply follow one another."""

    def segment(data: bytes, *, last: bool = False) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH
        )

    return segment(prefix) + segment(unit) * count + segment(suffix, last=True)


def package(main: Member) -> bytes:
    """A Word package around a hand-made main part (its headers as given)."""
    parts = zipfile.ZipFile(io.BytesIO(docx(b"<x/>")))
    others = [
        Member(
            name,
            deflated(parts.read(name)),
            crc=zlib.crc32(parts.read(name)),
            declared_size=len(parts.read(name)),
        )
        for name in ("[Content_Types].xml", "_rels/.rels")
    ]
    return raw_zip([*others, main])


def word_bomb(inflated_mib: int, declared_size: int, *, right_crc: bool = False) -> bytes:
    """document.xml inflating to `inflated_mib` MiB of text, its headers declaring
    `declared_size`, and a CRC that cannot match unless `right_crc`."""
    prefix = document_xml("<w:p><w:r><w:t>").split(b"</w:body>")[0]
    unit, suffix = b"a" * (1024 * 1024), b"</w:t></w:r></w:p></w:body></w:document>"
    crc = 0
    if right_crc:
        crc = zlib.crc32(prefix)
        for _ in range(inflated_mib):
            crc = zlib.crc32(unit, crc)
        crc = zlib.crc32(suffix, crc)
    data = deflated_repeat(prefix, unit, inflated_mib, suffix)
    return package(Member("word/document.xml", data, crc=crc, declared_size=declared_size))


def packed_with(
    method: int = zipfile.ZIP_DEFLATED, flags: int = 0, data: bytes | None = None
) -> bytes:
    xml = document_xml("<w:p><w:r><w:t>Referral form</w:t></w:r></w:p>")
    stored = deflated(xml) if data is None else data
    return package(Member("word/document.xml", stored, method, zlib.crc32(xml), len(xml), flags))


def nested(opening: str, closing: str, depth: int, inside: str = "") -> str:
    return opening * depth + inside + closing * depth


def paragraphs(count: int) -> bytes:
    return docx(document_xml("<w:p/>" * count + "<w:p><w:r><w:t>end</w:t></w:r></w:p>"))


def billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f'<w:document xmlns:w="{W_NAMESPACE}"><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p></w:body></w:document>'
    )
    return docx(xml.encode())


def many_parts(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", document_xml(""))
        for number in range(count):
            archive.writestr(f"word/media/{'x' * 60}{number}.bin", b"")
    return out.getvalue()


# --- Building PDFs -------------------------------------------------------------------------


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (object n is objects[n - 1], the catalog is object 1), with an
    honest cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        start,
    )
    return bytes(out)


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(data), data)


def text_operations(lines: list[str], x: int = 50, top: int = 780) -> bytes:
    return b"\n".join(
        b"BT /F1 10 Tf %d %d Td (%s) Tj ET" % (x, top - 16 * number, line.encode("latin-1"))
        for number, line in enumerate(lines)
    )


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def many_pages(count: int, texts: dict[int, list[str]]) -> bytes:
    """`count` pages in one flat page tree; page n (from 1) shows texts[n] if given."""
    first_page = 4
    first_content = first_page + count
    kids = b" ".join(b"%d 0 R" % (first_page + number) for number in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>"
        % (kids, count),
        FONT,
    ]
    contents = []
    for number in range(count):
        lines = texts.get(number + 1)
        content = b""
        if lines:
            contents.append(stream(text_operations(lines)))
            content = b" /Contents %d 0 R" % (first_content + len(contents) - 1)
        objects.append(b"<< /Type /Page /Parent 2 0 R%s >>" % content)
    return raw_pdf(objects + contents)


def many_fields(count: int) -> bytes:
    """A one-page fillable PDF with `count` text fields."""
    first = 5
    refs = b" ".join(b"%d 0 R" % (first + number) for number in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>" % refs,
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [%s] /Contents 4 0 R /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        % refs,
        stream(text_operations(["A form of many fields"])),
    ]
    objects += [
        b"<< /FT /Tx /T (f%d) /V (value %d) /Subtype /Widget /Rect [10 10 20 20] /P 3 0 R >>"
        % (n, n)
        for n in range(count)
    ]
    return raw_pdf(objects)


def nested_fields(depth: int) -> bytes:
    """Fields each the only kid of the one before, `depth` deep."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    objects += [b"<< /T (n%d) /Kids [%d 0 R] >>" % (n, n + 5) for n in range(depth)]
    objects.append(b"<< /FT /Tx /T (leaf) /V (x) >>")
    return raw_pdf(objects)


def cyclic_trees() -> bytes:
    """A page tree and a field tree that each lead back to themselves."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 3 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R /Resources << /Font << /F1 %s >> >> >>"
            % FONT,
            b"<< /T (a) /Kids [5 0 R] >>",
            b"<< /T (b) /Kids [4 0 R] /FT /Tx /V (x) >>",
            stream(text_operations(["Dear DSR team,"])),
        ]
    )


def stream_bomb(inflated_mib: int) -> bytes:
    """A page whose content stream inflates to `inflated_mib` MiB."""
    data = zlib.compress(b" " * (inflated_mib * 1024 * 1024), 9)
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            stream(data, b"/Filter /FlateDecode"),
        ]
    )


def drawn_objects(*, nested_text: list[str], broken: bool, page_text: list[str]) -> bytes:
    """A page drawing a form XObject (/X1) that draws another (/X2) holding `nested_text`,
    so layout extraction (which leaves drawn objects out) sees only what is inlined; with
    `broken`, a third drawn object (/Bad) whose data cannot be inflated."""
    resources = b"<< /Font << /F1 %s >> /XObject << /X1 5 0 R /Bad 7 0 R >> >>" % FONT
    operations = text_operations(page_text) + b"\n/X1 Do" + (b"\n/Bad Do" if broken else b"")
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources %s >>"
            % resources,
            stream(operations),
            stream(
                b"/X2 Do",
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /X2 6 0 R >> >>",
            ),
            stream(
                text_operations(nested_text, top=500),
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 %s >> >>"
                % FONT,
            ),
            stream(
                b"\xff" * 64, b"/Type /XObject /Subtype /Form /BBox [0 0 9 9] /Filter /FlateDecode"
            ),
        ]
    )


def restricted(content: bytes, algorithm: str) -> bytes:
    """Encrypted with an empty password to open it (only changes are restricted)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    writer.encrypt(
        user_password="",
        owner_password="owner-only",
        permissions_flag=UserAccessPermissions.PRINT,
        algorithm=algorithm,
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_list_box(content: bytes) -> bytes:
    """The fillable PDF with a list box added whose options carry export values."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(content)))
    page = writer.pages[0]
    options = ArrayObject(
        ArrayObject([TextStringObject(export), TextStringObject(shown)])
        for export, shown in (("E1", "Education"), ("H2", "Health"), ("S3", "Social care"))
    )
    box = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Ch"),
            NameObject("/T"): TextStringObject("ListBox1"),
            NameObject("/Opt"): options,
            NameObject("/V"): TextStringObject("H2"),
            NameObject("/Ff"): NumberObject(0),
            NameObject("/DA"): TextStringObject("/Helv 0 Tf 0 g"),
            NameObject("/Rect"): ArrayObject(FloatObject(n) for n in (400, 20, 560, 60)),
            NameObject("/P"): page.indirect_reference,
        }
    )
    reference = writer._add_object(box)
    page[NameObject("/Annots")].append(reference)  # type: ignore[attr-defined]
    writer._root_object["/AcroForm"]["/Fields"].append(reference)  # type: ignore[index]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def meaningless_names(layout: Any, fields: dict[str, str]) -> bytes:
    """Another area's fillable form whose field names mean nothing (`Text1` ...)."""
    return renamed_form(
        layout, fields, {name: f"Text{n}" for n, name in enumerate(layout.field_names())}
    )


# --- Measuring -----------------------------------------------------------------------------


@dataclass
class Measured:
    result: list[RawForm] | str | FormUnreadableError
    seconds: float
    megabytes: float


def measure(read: Callable[[], list[RawForm] | str]) -> Measured:
    """The read's result (or refusal), time and traced peak memory, in this process."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result: list[RawForm] | str | FormUnreadableError = read()
    except FormUnreadableError as error:
        result = error
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return Measured(result, seconds, peak / 1024 / 1024)


def read_file(content_type: str, content: bytes) -> list[RawForm]:
    return read_attachment(Attachment(position=1, content_type=content_type, content=content))


def timed(
    read: Callable[[], list[RawForm] | str],
) -> tuple[list[RawForm] | str | FormUnreadableError, float]:
    """The read's result (or refusal) and time, untraced (tracing slows allocation tenfold)."""
    started = time.perf_counter()
    try:
        result: list[RawForm] | str | FormUnreadableError = read()
    except FormUnreadableError as error:
        result = error
    return result, time.perf_counter() - started


def bounded(content_type: str, content: bytes) -> list[RawForm] | FormUnreadableError:
    """Read once for the time, once more (traced) for the peak memory."""
    result, seconds = timed(lambda: read_file(content_type, content))
    assert seconds < SECONDS
    traced = measure(lambda: read_file(content_type, content))
    assert traced.megabytes < MEGABYTES
    assert type(traced.result) is type(result)
    assert not isinstance(result, str)
    return result


def refused(content_type: str, content: bytes, says: str) -> None:
    result = bounded(content_type, content)
    assert isinstance(result, FormUnreadableError), result
    assert says in str(result)


# --- Word ----------------------------------------------------------------------------------


def test_a_zip_bomb_declaring_1_kb_stops_at_what_it_declared() -> None:
    # zipfile stops at the declared size, and the check of the data's CRC then fails; it
    # would first have inflated all of it in one piece had it been asked to read it whole.
    refused(DOCX, word_bomb(1024, declared_size=1024), "is a damaged Word document")


def test_a_zip_bomb_declaring_its_size_is_refused_before_inflating() -> None:
    refused(DOCX, word_bomb(1024, declared_size=1024**3), "larger than 20 MB when unpacked")


def test_a_zip_bomb_declaring_just_under_the_limit_is_inflated_no_further() -> None:
    refused(DOCX, word_bomb(64, declared_size=19 * 1024 * 1024), "is a damaged Word document")


def test_the_main_part_is_inflated_a_chunk_at_a_time() -> None:
    honest = word_bomb(64, declared_size=64 * 1024 * 1024 + 201, right_crc=True)
    archive = zipfile.ZipFile(io.BytesIO(honest))
    info = archive.getinfo("word/document.xml")
    measured = measure(
        lambda: str(
            sum(len(chunk) for chunk in word._inflate(archive, info, 128 * 1024**2, "too large"))
        )
    )
    assert measured.result == str(
        64 * 1024 * 1024
        + len(b"</w:t></w:r></w:p></w:body></w:document>")
        + len(document_xml("<w:p><w:r><w:t>").split(b"</w:body>")[0])
    )
    assert measured.megabytes < 2  # never the whole 64 MB at once
    with pytest.raises(FormUnreadableError, match="too large"):
        next(word._inflate(archive, info, 1024 * 1024, "too large"))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (packed_with(method=9), "unsupported zip compression method"),  # Deflate64
        (packed_with(method=99), "unsupported zip compression method"),  # WinZip AES
        (packed_with(method=77), "unsupported zip compression method"),  # no such method
        (packed_with(flags=0x1), "is a password-protected Word document"),
        (packed_with(data=b"\xff" * 200), "is a damaged Word document"),  # invalid deflate block
        (packed_with(data=deflated(b"<w:document")[:-3]), "is a damaged Word document"),
        (packed_with(data=b""), "is a damaged Word document"),  # ends before its data
        (packed_with(method=zipfile.ZIP_STORED, data=b"<w:doc"), "is a damaged Word document"),
        (word_form(heading="Referral form")[:300], "is a damaged Word document"),  # truncated
        (billion_laughs(), "is a damaged Word document"),
        (docx(b"<w:document><w:body>"), "is a damaged Word document"),  # not well formed
        (many_parts(20_000), "too many parts"),
    ],
    ids=[
        "deflate64",
        "aes",
        "unknown-method",
        "encrypted",
        "corrupt-deflate",
        "truncated-deflate",
        "no-data",
        "truncated-xml",
        "truncated-zip",
        "billion-laughs",
        "not-xml",
        "many-parts",
    ],
)
def test_packages_zipfile_cannot_unpack_are_refused_saying_what_they_are(
    content: bytes, says: str
) -> None:
    refused(DOCX, content, says)


def test_an_encrypted_office_file_says_it_is_password_protected() -> None:
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le")
    )
    refused(DOCX, ole, "is a password-protected Word")


@pytest.mark.parametrize(
    "body",
    [
        nested("<w:r>", "</w:r>", 5_000, "<w:t>Referral form</w:t>"),
        "<w:p>" + nested("<w:r>", "</w:r>", 5_000, "<w:t>Referral form</w:t>") + "</w:p>",
        nested(
            '<w:sdt><w:sdtPr><w:alias w:val="NHS number"/></w:sdtPr><w:sdtContent>',
            "</w:sdtContent></w:sdt>",
            2_500,
            "<w:p><w:r><w:t>943 476 5919</w:t></w:r></w:p>",
        ),
        nested(
            "<w:tbl><w:tr><w:tc>",
            "</w:tc></w:tr></w:tbl>",
            1_700,
            "<w:p><w:r><w:t>x</w:t></w:r></w:p>",
        ),
        nested("<w:p>", "</w:p>", 5_000, "<w:r><w:t>x</w:t></w:r>"),
        nested(
            "<w:tbl><w:tr><w:tc><w:p>",
            "</w:p></w:tc></w:tr></w:tbl>",
            1_200,
            "<w:r><w:t>x</w:t></w:r>",
        ),
    ],
    ids=["runs", "runs-in-paragraph", "controls", "tables", "paragraphs", "tables-in-paragraphs"],
)
def test_nesting_thousands_deep_is_read_or_refused_in_bounds(body: str) -> None:
    result = bounded(DOCX, docx(document_xml(body)))
    assert isinstance(result, list) or "too much text" in str(result)


def test_controls_nested_deep_read_their_text_once_each() -> None:
    body = nested(
        '<w:sdt><w:sdtPr><w:alias w:val="NHS number"/></w:sdtPr><w:sdtContent>',
        "</w:sdtContent></w:sdt>",
        2_000,
        "<w:p><w:r><w:t>943 476 5919</w:t></w:r></w:p>",
    )
    measured = measure(lambda: word.word_text(docx(document_xml(body))))
    assert isinstance(measured.result, str)
    assert measured.result.splitlines()[:2] == ["NHS number: 943 476 5919"] * 2
    assert measured.seconds < SECONDS


def test_deeply_nested_tables_are_refused_for_the_text_they_repeat() -> None:
    # Each cell holds the paragraphs of every table inside it (as Word shows them), so
    # 5,000 nested tables would repeat their text 12 million times: refused, quickly.
    body = nested(
        "<w:tbl><w:tr><w:tc>", "</w:tc></w:tr></w:tbl>", 5_000, "<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    )
    refused(DOCX, docx(document_xml(body)), "too much text to read")


def test_a_hundred_thousand_empty_paragraphs_are_read() -> None:
    # How fast, against pypdf/zipfile alone, is bench/bench_hostile.py's (3 million of them).
    large = paragraphs(150_000)
    large_result, large_seconds = timed(lambda: word.word_text(large))
    assert isinstance(large_result, str)
    assert large_result.endswith("end")
    assert large_seconds < SECONDS  # a hang guard, not a speed target
    assert measure(lambda: word.word_text(large)).megabytes < MEGABYTES


def test_millions_of_paragraphs_are_refused_by_counting_elements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    millions = paragraphs(3_000_000)
    result, seconds = timed(lambda: read_file(DOCX, millions))
    assert isinstance(result, FormUnreadableError)
    assert "more than 500,000 XML elements" in str(result)
    assert seconds < SECONDS
    # The memory at any cap, traced at a lower one (tracing the whole count takes long).
    monkeypatch.setattr(word, "MAX_WORD_ELEMENTS", 50_000)
    assert measure(lambda: read_file(DOCX, millions)).megabytes < 10


def test_an_honest_19_mb_run_of_text_is_inflated_parsed_and_refused_for_its_text() -> None:
    content = word_bomb(19, declared_size=19 * 1024 * 1024 + 201, right_crc=True)
    refused(DOCX, content, "too much text to read")


def test_a_long_label_beside_many_value_lines_is_refused_before_its_indents_are_made() -> None:
    # Each continuation line is indented by the label's length: 100,000 x 1,000 characters.
    label = "<w:p><w:r><w:t>" + "L" * 100_000 + "</w:t></w:r></w:p>"
    value = "<w:p><w:r><w:t>v</w:t></w:r></w:p>" * 1_000
    body = f"<w:tbl><w:tr><w:tc>{label}</w:tc><w:tc>{value}</w:tc></w:tr></w:tbl>"
    refused(DOCX, docx(document_xml(body)), "too much text to read")


def test_much_text_in_one_paragraph_is_refused() -> None:
    refused(
        DOCX,
        docx(document_xml("<w:p><w:r><w:t>" + "a" * 5_000_000 + "</w:t></w:r></w:p>")),
        "too much text",
    )


def test_a_main_part_not_named_word_document_xml_is_found_through_the_relationships() -> None:
    form = word_form(heading="Referral form", table=[("NHS number", "943 476 5919")])
    document = zipfile.ZipFile(io.BytesIO(form)).read("word/document.xml")
    renamed = docx(document, main="word/document2.xml")
    assert b"word/document.xml" not in renamed
    assert word.is_word_package(renamed)
    [referral] = read_file(DOCX, renamed)
    assert referral.fields["child_nhs_number"] == "943 476 5919"
    [sent_as_anything] = read_file("application/octet-stream", renamed)
    assert sent_as_anything.fields == referral.fields


def test_strict_office_open_xml_reads_like_the_usual_kind() -> None:
    form = word_form(
        heading="Referral form",
        table=[("NHS number", "943 476 5919")],
        controls=[("Family name", "Okafor")],
    )
    document = zipfile.ZipFile(io.BytesIO(form)).read("word/document.xml").decode()
    strict = document.replace(W_NAMESPACE, W_STRICT_NAMESPACE)
    assert word.word_text(docx(strict.encode())) == word.word_text(form)


def test_a_spreadsheet_is_not_taken_for_a_word_document() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" Type="{OFFICE_DOCUMENT}" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert not word.is_word_package(out.getvalue())
    refused(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        out.getvalue(),
        "a file of a kind that cannot be read",
    )


# --- PDF -----------------------------------------------------------------------------------


def test_only_the_first_20_pages_of_a_long_pdf_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(printed_form(REFERRAL, referral_fields()))))
    for _ in range(2_000):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    read_pages: list[object] = []
    page_text = pdf._page_text

    def counted(page: object) -> str:
        read_pages.append(page)
        return page_text(page)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf, "_page_text", counted)
    [referral] = bounded(PDF, out.getvalue())  # type: ignore[misc]
    assert referral.kind is FormKind.REFERRAL
    assert len(read_pages) == 2 * pdf.MAX_PDF_PAGES_READ  # read twice: timed, then traced


def test_206_printed_pages_drawing_objects_are_read_to_page_20_only() -> None:
    # The old reader cloned and flattened every page before reading twenty.
    forms = bounded(PDF, _long_printed(206))
    assert isinstance(forms, list)
    assert {form.kind for form in forms} == {FormKind.REFERRAL}
    assert len(forms) == 7  # the referrals on pages 1-20 (three pages each)


def test_a_form_after_page_20_is_never_read() -> None:
    content = many_pages(2_000, {21: ["Referral form", "NHS number: 943 476 5919"]})
    refused(PDF, content, "images only")


def test_a_pdf_of_10_000_pages_costs_what_20_do() -> None:
    content = many_pages(10_000, {1: ["Dear DSR team,", "Please find the forms attached."]})
    assert bounded(PDF, content) == []


def heavy_pages(pages: int, kib_per_page: int) -> bytes:
    """Pages of text drawn a line at a time, `kib_per_page` KiB of drawing each."""
    line = b"BT /F1 10 Tf 50 700 Td (Dear DSR team, a line of a long letter) Tj ET\n"
    content = line * (kib_per_page * 1024 // len(line))
    return _pages_with(pages, content)


def _pages_with(pages: int, content: bytes) -> bytes:
    """`pages` pages all drawing the same content (one stream, deflated)."""
    first_content = 4 + pages
    kids = b" ".join(b"%d 0 R" % (4 + number) for number in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>"
        % (kids, pages),
        FONT,
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /Contents %d 0 R >>" % first_content for _ in range(pages)
    ]
    objects.append(stream(zlib.compress(content), b"/Filter /FlateDecode"))
    return raw_pdf(objects)


def test_reading_stops_when_the_drawing_read_passes_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_pages: list[object] = []
    page_text = pdf._page_text

    def counted(page: object) -> str:
        read_pages.append(page)
        return page_text(page)  # type: ignore[arg-type]

    monkeypatch.setattr(pdf, "_page_text", counted)
    assert bounded(PDF, heavy_pages(20, 300)) == []  # a long letter: read while the budget lasts
    assert len(read_pages) == 2 * (pdf.MAX_PDF_CONTENT_BYTES // (300 * 1024))


def test_a_first_page_past_the_drawing_budget_is_refused() -> None:
    refused(PDF, heavy_pages(1, 1024), "more than 512 KB of drawing instructions")


def test_thousands_of_fields_are_refused_before_any_is_drawn() -> None:
    refused(PDF, many_fields(5_000), "more than 2,000 fields")


def test_fields_nested_too_deep_are_refused() -> None:
    refused(PDF, nested_fields(40), "nested more than 32 deep")
    refused(PDF, nested_fields(10), "images only")  # read: it has no text


def test_kids_every_field_lists_again_are_counted_as_they_are_found() -> None:
    # 1,000 fields each listing the same 1,000 kids: a million entries to walk.
    kids = b" ".join(b"%d 0 R" % (5 + n) for n in range(1_000))
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>" % kids,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            b"[%s]" % kids,
            *[b"<< /T (f%d) /Kids 4 0 R >>" % n for n in range(1_000)],
        ]
    )
    refused(PDF, content, "more than 2,000 fields")


def test_one_long_value_shared_by_every_field_is_refused() -> None:
    value = b"(" + b"a" * 600_000 + b")"
    fields = b" ".join(b"%d 0 R" % (5 + n) for n in range(10))
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>" % fields,
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            value,
            *[b"<< /FT /Tx /T (f%d) /V 4 0 R >>" % n for n in range(10)],
        ]
    )
    refused(PDF, content, "fields hold more than 1,000,000 characters")


def test_a_field_name_too_long_is_refused_before_it_is_copied() -> None:
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            b"<< /FT /Tx /T (%s) /V (x) >>" % (b"n" * 5_000),
        ]
    )
    refused(PDF, content, "field name longer than 1,000 characters")


def test_a_long_value_in_many_boxes_is_drawn_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One field, a 100,000-character value, shown in 1,500 boxes on the page.
    widgets = b" ".join(b"%d 0 R" % (6 + n) for n in range(1_500))
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [%s] /Contents 4 0 R /Resources << /Font << /F1 %s >> >> >>"
            % (widgets, FONT),
            stream(text_operations(["Dear DSR team,"])),
            b"<< /FT /Tx /T (letter) /V (%s) /Kids [%s] >>" % (b"word " * 20_000, widgets),
            *[b"<< /Subtype /Widget /Parent 5 0 R /Rect [10 10 300 40] >>" for _ in range(1_500)],
        ]
    )
    within_the_drawing_budget(content, monkeypatch)


def within_the_drawing_budget(content: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read within bounds at the real budget; its memory traced at a quarter of it (tracing
    the whole budget's work takes long), and a quarter of the budget is a quarter the peak."""
    result, seconds = timed(lambda: read_file(PDF, content))
    assert result == []
    assert seconds < SECONDS
    monkeypatch.setattr(pdf, "MAX_PDF_CONTENT_BYTES", pdf.MAX_PDF_CONTENT_BYTES // 4)
    assert measure(lambda: read_file(PDF, content)).megabytes < MEGABYTES / 4


def test_an_object_drawn_sixty_thousand_times_is_inlined_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    content = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 %s >> /XObject << /X 5 0 R >> >> >>"
            % FONT,
            stream(zlib.compress(b"/X Do\n" * 60_000), b"/Filter /FlateDecode"),
            stream(
                text_operations(["Dear DSR team,"]),
                b"/Type /XObject /Subtype /Form /BBox [0 0 595 842]",
            ),
        ]
    )
    within_the_drawing_budget(content, monkeypatch)


def test_trees_leading_back_to_themselves_end() -> None:
    assert bounded(PDF, cyclic_trees()) == []


def test_a_content_stream_bomb_is_refused() -> None:
    refused(PDF, stream_bomb(100), "larger than 16 MB when unpacked")


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_a_restriction_only_pdf_is_read(algorithm: str) -> None:
    [referral] = bounded(PDF, restricted(referral_pdf(), algorithm))  # type: ignore[misc]
    assert referral.kind is FormKind.REFERRAL
    assert referral.fields["child_nhs_number"] == referral_fields()["child_nhs_number"]


def test_a_pdf_needing_a_password_to_open_is_refused() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(referral_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    refused(PDF, out.getvalue(), "password-protected")


def test_a_form_with_a_list_box_of_export_values_is_read_by_its_labels() -> None:
    fields = referral_fields(child_given_name="Łucja Zoë")
    content = with_list_box(meaningless_names(REFERRAL, fields))
    reader = PdfReader(io.BytesIO(content))
    page = pdf._page_for_reading(
        reader, reader.pages[0], {}, pdf._Form.read(reader), pdf._ContentBudget()
    )
    assert page is not None
    assert "Health" in pdf._page_text(page)  # the choice's display text, not "H2"
    [referral] = bounded(PDF, content)  # type: ignore[misc]
    assert referral.kind is FormKind.REFERRAL
    assert {name: referral.fields.get(name) for name in fields} == fields


def test_a_fillable_form_of_meaningless_names_is_read_by_its_labels_ticks_and_all() -> None:
    from templates.forms.layout import CONSENT

    for layout, fields in ((REFERRAL, referral_fields()), (CONSENT, consent_fields())):
        [form] = bounded(PDF, meaningless_names(layout, fields))  # type: ignore[misc]
        assert {name: form.fields.get(name) for name in fields} == fields


def test_text_only_plain_extraction_finds_is_read() -> None:
    content = drawn_objects(
        nested_text=["Dear DSR team,", "NHS number: 943 476 5919"], broken=False, page_text=[]
    )
    reader = PdfReader(io.BytesIO(content))
    page = pdf._page_for_reading(reader, reader.pages[0], {}, pdf._Form(), pdf._ContentBudget())
    assert page is not None
    assert not page.extract_text(extraction_mode="layout").strip()
    assert "NHS number" in pdf._page_text(page)
    assert bounded(PDF, content) == []  # read (a letter), not called images only


def test_a_drawn_object_that_cannot_be_inlined_is_left_out_not_the_file() -> None:
    content = drawn_objects(nested_text=["Inside"], broken=True, page_text=["Dear DSR team,"])
    assert bounded(PDF, content) == []


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 40,
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
        raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids 7 /Count 1 >>"]),
        raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /AcroForm 5 >>",
                b"<< /Type /Pages /Kids [3 0 R] >>",
                b"<< /Type /Page /Contents 4 0 R >>",
                stream(b"BT /F9 10 Tf (x) Tj ET"),
            ]
        ),
    ],
    ids=["garbage", "self-referencing", "kids-not-array", "missing-font"],
)
def test_hostile_pdfs_end_in_forms_or_a_refusal(content: bytes) -> None:
    bounded(PDF, content)


# --- Any file: only FormUnreadableError escapes ---------------------------------------------


def test_memory_and_recursion_errors_become_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_memory(content: bytes, source: str) -> list[RawForm]:
        raise MemoryError

    def too_deep(content: bytes) -> str:
        raise RecursionError

    monkeypatch.setattr("shared.forms.pdf.read_pdf_forms", out_of_memory)
    monkeypatch.setattr("shared.forms.documents.word_text", too_deep)
    with pytest.raises(FormUnreadableError, match=r"^is a PDF too large to read$") as caught:
        read_file(PDF, b"%PDF-1.7")
    assert caught.value.__context__ is None  # nothing of the library's failure kept
    with pytest.raises(FormUnreadableError, match=r"^is a Word document nested too deeply"):
        read_file(DOCX, word_form(heading="x"))


def test_any_library_failure_becomes_unreadable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(content: bytes) -> str:
        raise KeyError("J Smith referral.docx")  # a library's message may name the file

    monkeypatch.setattr("shared.forms.documents.word_text", broken)
    with pytest.raises(FormUnreadableError) as caught:
        read_file(DOCX, word_form(heading="x"))
    assert str(caught.value) == "is a damaged Word document that cannot be opened"
    assert "Smith" not in repr(caught.value.__context__) + repr(caught.value.__cause__)


# --- Random and mutated Word files (hypothesis) ----------------------------------------------

_TAGS = [
    "p",
    "r",
    "t",
    "tab",
    "br",
    "sym",
    "tbl",
    "tr",
    "tc",
    "sdt",
    "sdtPr",
    "sdtContent",
    "alias",
    "tag",
    "showingPlcHdr",
    "checkBox",
    "checked",
    "default",
    "body",
]
_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["w:val", "w:char", "w14:val", "x"]),
    st.sampled_from(["1", "0", "F0FE", "NHS number", "true", ""]),
    max_size=2,
)


# Characters XML allows (no control characters, no lone surrogates).
_XML_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8)


def _xml_element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def element(tag: str, attributes: dict[str, str], inner: list[str], text: str) -> str:
        attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
        escaped = text.replace("&", "&amp;").replace("<", "&lt;")
        return f"<w:{tag}{attrs}>{escaped}{''.join(inner)}</w:{tag}>"

    return st.builds(
        element, st.sampled_from(_TAGS), _ATTRIBUTES, st.lists(children, max_size=4), _XML_TEXT
    )


_BODIES = st.recursive(st.just(""), _xml_element, max_leaves=40)


def _xml(body: str) -> bytes:
    return (
        f'<w:document xmlns:w="{W_NAMESPACE}" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml">'
        f"<w:body>{body}</w:body></w:document>"
    ).encode()


def _only_text_or_unreadable(content: bytes) -> None:
    with contextlib.suppress(FormUnreadableError):
        assert isinstance(word.word_text(content), str)
    with contextlib.suppress(FormUnreadableError):
        assert isinstance(read_file(DOCX, content), list)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.lists(_BODIES, max_size=4))
def test_random_word_xml_gives_text(bodies: list[str]) -> None:
    text = word.word_text(docx(_xml("".join(bodies))))
    assert isinstance(text, str)


@_SETTINGS
@given(
    st.lists(_BODIES, max_size=3),
    st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=4)), max_size=4),
)
def test_mutated_word_xml_gives_text_or_unreadable(
    bodies: list[str], changes: list[tuple[int, bytes]]
) -> None:
    xml = bytearray(_xml("".join(bodies)))
    for at, inserted in changes:
        xml[at % len(xml) : at % len(xml) + len(inserted)] = inserted
    _only_text_or_unreadable(docx(bytes(xml)))


_VALID = word_form(
    heading="Referral form",
    table=[("NHS number", "943 476 5919"), ("Autism", "☒")],
    controls=[("Family name", "Okafor"), ("Tick", True), ("Empty", None)],
)


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(_VALID) - 1), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, len(_VALID)),
)
def test_mutated_docx_zips_give_text_or_unreadable(
    changes: list[tuple[int, bytes]], keep: int
) -> None:
    content = bytearray(_VALID)
    for at, replacement in changes:
        content[at : at + len(replacement)] = replacement
    _only_text_or_unreadable(bytes(content[: max(keep, 2)]))
    _only_text_or_unreadable(bytes(content))


@_SETTINGS
@given(st.binary(max_size=2_000))
def test_random_bytes_sent_as_word_give_text_or_unreadable(content: bytes) -> None:
    _only_text_or_unreadable(b"PK" + content)


_PDF = printed_form(REFERRAL, referral_fields())


@_SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(_PDF) - 1), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, len(_PDF)),
)
def test_mutated_pdfs_give_forms_or_unreadable(changes: list[tuple[int, bytes]], keep: int) -> None:
    content = bytearray(_PDF)
    for at, replacement in changes:
        content[at : at + len(replacement)] = replacement
    for candidate in (bytes(content), bytes(content[: max(keep, 8)])):
        started = time.perf_counter()
        with contextlib.suppress(FormUnreadableError):
            assert isinstance(read_file(PDF, candidate), list)
        assert time.perf_counter() - started < SECONDS


def hostile_documents() -> Iterator[tuple[str, str, Callable[[], bytes]]]:
    """The families above at the sizes the issue found them (for bench/bench_forms.py):
    name, content type, how to make it."""
    yield "docx: bomb inflating to 1 GB, declaring 1 KB", DOCX, lambda: word_bomb(1024, 1024)
    yield "docx: bomb inflating to 1 GB, declaring it", DOCX, lambda: word_bomb(1024, 1024**3)
    yield (
        "docx: bomb inflating to 1 GB, declaring 19 MB",
        DOCX,
        lambda: word_bomb(1024, 19 * 1024**2),
    )
    yield (
        "docx: 19 MB of text in one run, honestly declared",
        DOCX,
        lambda: word_bomb(19, 19 * 1024**2 + 201, right_crc=True),
    )
    yield "docx: Deflate64", DOCX, lambda: packed_with(method=9)
    yield "docx: unknown compression method", DOCX, lambda: packed_with(method=77)
    yield "docx: encrypted zip", DOCX, lambda: packed_with(flags=0x1)
    yield "docx: corrupt deflate data", DOCX, lambda: packed_with(data=b"\xff" * 200)
    yield "docx: billion laughs", DOCX, billion_laughs
    yield (
        "docx: runs nested 5,000 deep",
        DOCX,
        lambda: docx(document_xml(nested("<w:r>", "</w:r>", 5_000, "<w:t>x</w:t>"))),
    )
    yield (
        "docx: tables nested 5,000 deep",
        DOCX,
        lambda: docx(
            document_xml(
                nested(
                    "<w:tbl><w:tr><w:tc>",
                    "</w:tc></w:tr></w:tbl>",
                    5_000,
                    "<w:p><w:r><w:t>x</w:t></w:r></w:p>",
                )
            )
        ),
    )
    yield "docx: 300,000 empty paragraphs", DOCX, lambda: paragraphs(300_000)
    yield "docx: 3 million empty paragraphs", DOCX, lambda: paragraphs(3_000_000)
    yield "pdf: 50,000 pages", PDF, lambda: many_pages(50_000, {1: ["Dear DSR team,"]})
    yield "pdf: 206 printed pages, drawn objects on each", PDF, lambda: _long_printed(206)
    yield "pdf: 50,000 form fields", PDF, lambda: many_fields(50_000)
    yield "pdf: content inflating to 100 MB", PDF, lambda: stream_bomb(100)
    yield "pdf: restriction-only (AES-256)", PDF, lambda: restricted(referral_pdf(), "AES-256")
    yield (
        "pdf: list box with export values",
        PDF,
        lambda: with_list_box(meaningless_names(REFERRAL, referral_fields())),
    )


def _long_printed(pages: int) -> bytes:
    """Printed referrals one after another: pages of their own, each drawing its objects."""
    printed = printed_form(REFERRAL, referral_fields())
    writer = PdfWriter()
    while len(writer.pages) < pages:
        writer.append(PdfReader(io.BytesIO(printed)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
