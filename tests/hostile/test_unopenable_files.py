"""Files the readers cannot open: each is FORM_UNREADABLE for that file (the coordinators get
it for manual entry), never an exception out of the intake. Before, a .docx zipped with
Deflate64 or an encrypted zip entry raised NotImplementedError or RuntimeError out of the Word
reader, and the email came back to the queue until it reached the dead-letter queue.

Every file is real bytes: a Word form written with zipfile, then its zip headers patched (the
packing method, the flag bits, a CRC); a PDF encrypted by pypdf, then its encryption
dictionary patched to an algorithm nobody implements."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader, PdfWriter

from shared.case import EmailPurpose
from shared.forms.fields import FormUnreadableError
from shared.forms.word import word_text
from shared.outcome import Outcome
from tests.hostile.builders import (
    PDF,
    REFERRER,
    consent_form,
    from_line,
    message,
    raw_email,
    referral_form,
    typed_referral,
)
from tests.hostile.desk import Desk, Processed

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)


def word_referral(document: str | None = None) -> bytes:
    """The sample child's referral typed into a Word document, a paragraph a line, zipped
    (deflated) by zipfile as Word zips it."""
    if document is None:
        body = "".join(
            f'<w:p><w:r><w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'
            for line in typed_referral().splitlines()
        )
        document = f'<w:document xmlns:w="{_W}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


# ----- patching a zip's headers -----
def _members(data: bytearray) -> Iterator[tuple[int, int]]:
    """Each member's central directory header and local header offsets."""
    end = data.rfind(b"PK\x05\x06")
    count, _, position = struct.unpack_from("<HII", data, end + 10)
    for _ in range(count):
        assert data[position : position + 4] == b"PK\x01\x02"
        name, extra, comment = struct.unpack_from("<HHH", data, position + 28)
        (local,) = struct.unpack_from("<I", data, position + 42)
        assert data[local : local + 4] == b"PK\x03\x04"
        yield position, local
        position += 46 + name + extra + comment


def patched(change: Callable[[bytearray, int, int], None]) -> bytes:
    """The Word referral with `change(data, central, local)` made to every member."""
    data = bytearray(word_referral())
    for central, local in list(_members(data)):
        change(data, central, local)
    return bytes(data)


def method(number: int) -> Callable[[bytearray, int, int], None]:
    """The packing method (compress_type) both headers declare."""

    def change(data: bytearray, central: int, local: int) -> None:
        struct.pack_into("<H", data, central + 10, number)
        struct.pack_into("<H", data, local + 8, number)

    return change


def flags(bits: int) -> Callable[[bytearray, int, int], None]:
    """General-purpose flag bits set in both headers."""

    def change(data: bytearray, central: int, local: int) -> None:
        for offset in (central + 8, local + 6):
            (value,) = struct.unpack_from("<H", data, offset)
            struct.pack_into("<H", data, offset, value | bits)

    return change


def wrong_crc(data: bytearray, central: int, local: int) -> None:
    for offset in (central + 16, local + 14):
        (value,) = struct.unpack_from("<I", data, offset)
        struct.pack_into("<I", data, offset, value ^ 0xFFFFFFFF)


def other_local_name(data: bytearray, central: int, local: int) -> None:
    """The local header names another file than the directory does."""
    data[local + 30] ^= 0x20


PACKING = "unsupported zip compression method"
PROTECTED = "password-protected Word document"
DAMAGED = "damaged Word document"
WORD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {  # how to make it, what it is called
    "Deflate64 (method 9)": (lambda: patched(method(9)), PACKING),
    "bzip2 (method 12)": (lambda: patched(method(12)), PACKING),
    "LZMA (method 14)": (lambda: patched(method(14)), PACKING),
    "WinZip AES (method 99)": (lambda: patched(method(99)), PACKING),
    "an unknown method": (lambda: patched(method(0x7777)), PACKING),
    "encrypted entries": (lambda: patched(flags(0x1)), PROTECTED),
    "strong encryption": (lambda: patched(flags(0x41)), PROTECTED),
    "strong encryption flag alone": (lambda: patched(flags(0x40)), PROTECTED),
    "compressed patched data": (lambda: patched(flags(0x20)), PACKING),
    "a wrong CRC": (lambda: patched(wrong_crc), DAMAGED),
    "a local header for another name": (lambda: patched(other_local_name), DAMAGED),
    "cut in half": (lambda: word_referral()[: len(word_referral()) // 2], DAMAGED),
    "cut before its directory ends": (lambda: word_referral()[:-10], DAMAGED),
    "a zip bomb (30 MB of paragraphs)": (
        lambda: word_referral(
            f'<w:document xmlns:w="{_W}"><w:body>' + "<w:p/>" * 5_000_000 + "</w:body></w:document>"
        ),
        "larger than 20 MB when unpacked",
    ),
}


def _send(desk: Desk, referral: bytes, content_type: str) -> Processed:
    raw = raw_email(
        (from_line(REFERRER, "Dr Sam Patel"),),
        body=message(
            subject="DSR referral",
            attachments=[(referral, content_type), (consent_form(), PDF)],
        ),
    )
    return desk.receive(raw)


def _assert_unreadable_for_manual_entry(processed: Processed, kind: str = "") -> None:
    """The file is refused as FORM_UNREADABLE, saying what it is, and goes to the
    coordinators as it came for entry by hand; the consent beside it is still read."""
    assert processed.outcome is Outcome.PENDING, processed.submission.reasons
    [manual] = [e for e in processed.emails if e.purpose is EmailPurpose.MANUAL_ENTRY]
    assert "FORM_UNREADABLE" in manual.body and kind in manual.body, manual.body
    assert manual.originals is not None and manual.originals.positions == (1,)


def test_the_word_referral_itself_is_read(desk: Desk) -> None:
    """The control: unpatched, the same file and consent put the child on the register."""
    assert _send(desk, word_referral(), DOCX).outcome is Outcome.ACCEPTED


@pytest.mark.parametrize(("make", "says"), WORD_FILES.values(), ids=WORD_FILES.keys())
def test_a_word_file_zipfile_cannot_open_is_unreadable(
    desk: Desk, make: Callable[[], bytes], says: str
) -> None:
    _assert_unreadable_for_manual_entry(_send(desk, make(), DOCX), says)


@pytest.mark.parametrize(("make", "says"), WORD_FILES.values(), ids=WORD_FILES.keys())
def test_the_same_file_sent_with_no_type_is_unreadable_too(
    desk: Desk, make: Callable[[], bytes], says: str
) -> None:
    """Judged from its bytes when the sender's client calls it application/octet-stream."""
    _assert_unreadable_for_manual_entry(_send(desk, make(), "application/octet-stream"))


@pytest.mark.parametrize(("make", "says"), WORD_FILES.values(), ids=WORD_FILES.keys())
def test_the_word_reader_itself_raises_only_its_refusal(
    make: Callable[[], bytes], says: str
) -> None:
    """Not NotImplementedError, RuntimeError or BadZipFile: FormUnreadableError, saying what."""
    with pytest.raises(FormUnreadableError, match=says):
        word_text(make())


# ----- PDFs encrypted in ways pypdf cannot undo -----
def _encrypted_pdf(user_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(referral_form())))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _swap(content: bytes, old: bytes, new: bytes) -> bytes:
    """The same length, so every offset in the cross-reference table stays right."""
    assert len(old) == len(new) and old in content, old
    return content.replace(old, new, 1)


PDF_FILES: dict[str, Callable[[], bytes]] = {
    "an unknown security handler": lambda: _swap(
        _encrypted_pdf("", "AES-256"), b"/Filter /Standard", b"/Filter /Mystery1"
    ),
    "an unknown algorithm version": lambda: _swap(_encrypted_pdf("", "AES-256"), b"/V 5", b"/V 9"),
    "an unknown crypt filter method": lambda: _swap(
        _encrypted_pdf("", "AES-256"), b"/CFM /AESV3", b"/CFM /XXXV3"
    ),
    "a user password": lambda: _encrypted_pdf("secret", "AES-256"),
    "a user password, RC4": lambda: _encrypted_pdf("secret", "RC4-128"),
}


@pytest.mark.parametrize("make", PDF_FILES.values(), ids=PDF_FILES.keys())
def test_a_pdf_encrypted_past_reading_is_unreadable(desk: Desk, make: Callable[[], bytes]) -> None:
    _assert_unreadable_for_manual_entry(_send(desk, make(), PDF), "PDF")


def test_an_odd_revision_pypdf_still_decrypts_is_read(desk: Desk) -> None:
    """Revision 9 of the AES-256 handler is read as revision 6: read, not refused, not raised."""
    content = _swap(_encrypted_pdf("", "AES-256"), b"/R 6", b"/R 9")
    assert _send(desk, content, PDF).outcome is Outcome.ACCEPTED
