"""A Word document's package: the zip (its directory's size checked before zipfile lists it),
the main part named by its relationships (`_rels/.rels`) and `[Content_Types].xml`, and each
part inflated in chunks within a byte cap, never trusting the size the zip declares; XML with
a document type declaration is refused.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Iterable, Iterator
from urllib.parse import unquote
from xml.etree import ElementTree

from shared.forms.fields import FormUnreadableError

MAX_WORD_XML_BYTES = 20 * 1024 * 1024
"""The most the main part (the document's text as XML) may inflate to. Counted while
inflating, so a zip bomb that declares 1 KB stops here, not in the function's memory."""

MAX_WORD_PART_BYTES = 1024 * 1024
"""The most each part read to find the main part (`_rels/.rels`, `[Content_Types].xml`) may
inflate to."""

MAX_WORD_DIRECTORY_BYTES = 1024 * 1024
"""The most the zip's central directory (its list of parts) may take: a .docx lists a few
dozen parts, and zipfile builds an entry for every one before anything is read."""

_CHUNK = 64 * 1024  # inflated and parsed this much at a time

# Zip flag bits (APPNOTE 4.4.4) that zipfile cannot read past: it raises RuntimeError or
# NotImplementedError for them, so they are refused first, saying what they are.
_ENCRYPTED_FLAGS = 0x1 | 0x40  # encrypted; strong encryption
_PATCHED_DATA_FLAG = 0x20  # "compressed patched data": packing Word never uses

DAMAGED = "is a damaged Word document that cannot be opened"
ENCRYPTED = "is a password-protected Word document"
UNSUPPORTED_PACKING = (
    "is a Word document packed in a way Word never uses (an unsupported zip compression method)"
)
TOO_LARGE = f"is a Word document larger than {MAX_WORD_XML_BYTES // (1024 * 1024)} MB when unpacked"
TOO_MANY_PARTS = "is a Word document with too many parts to read"

_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_OFFICE_DOCUMENT = "/officeDocument"  # the relationship type's last segment, transitional or strict
# The main part's content type, for a document or a template, with or without macros.
_WORD_MAIN_TYPES = ("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml")
_WORD_MACRO_MAIN_TYPES = (
    "ms-word.document.macroenabled.main+xml",
    "ms-word.template.macroenabledtemplate.main+xml",
)

# Word never writes a document type declaration; one can only be there to expand entities.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_MARKER_TAIL = max(len(marker) for marker in _DTD_MARKERS)


def is_word_package(content: bytes) -> bool:
    """A .docx (or .dotx) whatever its main part is called: a zip whose `_rels/.rels` names
    an officeDocument part that `[Content_Types].xml` says is a Word document's main part.
    Macro-enabled documents are not (they are refused as such elsewhere)."""
    if content[:2] != b"PK":
        return False
    try:
        with _open(content) as archive:
            main = _office_document(archive)
            if main is None:
                return False
            content_type = _content_type(archive, main.filename).lower()
    except Exception:  # not a package we can open: not one to read as Word
        return False
    return content_type.endswith(_WORD_MAIN_TYPES) and not content_type.endswith(
        _WORD_MACRO_MAIN_TYPES
    )


def _open(content: bytes) -> zipfile.ZipFile:
    if _directory_size(content) > MAX_WORD_DIRECTORY_BYTES:
        raise FormUnreadableError(TOO_MANY_PARTS)
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except Exception:  # BadZipFile, and whatever a hostile directory makes zipfile raise
        pass
    raise FormUnreadableError(DAMAGED)


def _directory_size(content: bytes) -> int:
    """The size the end-of-directory record gives the central directory (0 when there is no
    such record: zipfile then refuses the file itself)."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 22 - 65535))
    if end < 0 or len(content) < end + 22:
        return 0
    (size,) = struct.unpack_from("<I", content, end + 12)
    locator = end - 20
    if size == 0xFFFFFFFF and locator >= 0 and content[locator : locator + 4] == b"PK\x06\x07":
        (record,) = struct.unpack_from("<Q", content, locator + 8)
        if content[record : record + 4] == b"PK\x06\x06" and len(content) >= record + 48:
            (size,) = struct.unpack_from("<Q", content, record + 40)
    return int(size)


def _inflate(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, too_large: str
) -> Iterator[bytes]:
    """The part's bytes in chunks, refused as soon as they pass `limit`: the size the zip
    declares is never trusted (zipfile would inflate all of the data at once to check it)."""
    if info.flag_bits & _ENCRYPTED_FLAGS:
        raise FormUnreadableError(ENCRYPTED)
    if info.flag_bits & _PATCHED_DATA_FLAG or info.compress_type not in (
        zipfile.ZIP_STORED,
        zipfile.ZIP_DEFLATED,
    ):
        raise FormUnreadableError(UNSUPPORTED_PACKING)
    if info.file_size > limit:
        raise FormUnreadableError(too_large)
    total = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise FormUnreadableError(too_large)
            yield chunk


def _find(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    """The part of that name; part names are compared ignoring case, as Word does."""
    try:
        return archive.getinfo(name)
    except KeyError:
        pass
    wanted = name.lower()
    return next((info for info in archive.infolist() if info.filename.lower() == wanted), None)


def _small_part(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    info = _find(archive, name)
    if info is None:
        return None
    too_large = (
        f"is a Word document whose {name} part is larger than {MAX_WORD_PART_BYTES // 1024} KB"
    )
    parser = ElementTree.XMLParser()
    for chunk in _without_dtd(_inflate(archive, info, MAX_WORD_PART_BYTES, too_large)):
        parser.feed(chunk)
    return parser.close()


def _office_document(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The main part the package's relationships name, if it is there."""
    relationships = _small_part(archive, "_rels/.rels")
    for relationship in relationships if relationships is not None else ():
        if (
            relationship.tag == _RELATIONSHIP
            and relationship.get("Type", "").endswith(_OFFICE_DOCUMENT)
            and relationship.get("TargetMode", "Internal") != "External"
        ):
            target = posixpath.normpath("/" + unquote(relationship.get("Target", ""))).lstrip("/")
            found = _find(archive, target)
            if found is not None:
                return found
    return None


def _main_part(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    main = _office_document(archive) or _find(archive, "word/document.xml")
    if main is None:
        raise FormUnreadableError(DAMAGED)
    return main


def _content_type(archive: zipfile.ZipFile, part: str) -> str:
    types = _small_part(archive, "[Content_Types].xml")
    if types is None:
        return ""
    extension = part.rpartition(".")[2].lower()
    default = ""
    for entry in types:
        if entry.tag == f"{_CONTENT_TYPES}Override":
            if entry.get("PartName", "").lstrip("/").lower() == part.lower():
                return entry.get("ContentType", "")
        elif (
            entry.tag == f"{_CONTENT_TYPES}Default"
            and entry.get("Extension", "").lower() == extension
        ):
            default = entry.get("ContentType", "")
    return default


def _without_dtd(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, refused when they hold a document type declaration (the way to a
    "billion laughs" entity expansion); a marker split between two chunks is seen too."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk[: 2 * _MARKER_TAIL]
        if any(marker in window or marker in chunk for marker in _DTD_MARKERS):
            raise FormUnreadableError(DAMAGED)
        tail = chunk[-_MARKER_TAIL:]
        yield chunk
