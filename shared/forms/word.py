"""The text of a Word (.docx) form, as lines the text-form reader understands.

A .docx is a zip of XML: read with zipfile and ElementTree, no Word library. The main part is
found as Word finds it, through the package's `_rels/.rels` (usually `word/document.xml`);
strict Office Open XML reads like the usual kind. Paragraphs become lines; a table row becomes
`label<TAB>value` (pairs of cells, so a four-column row is two fields); a content control with
a title or tag becomes `title: value`, empty when it still shows its placeholder; tick boxes
become ☒ or ☐.

Nothing in the file is trusted to be small: the main part is inflated in chunks and counted
(never the size the zip's directory declares), parsed as it inflates with its elements
counted, walked without recursion, and each body-level block is let go once read. Every limit
is a constant below; a document past one is refused with a FormUnreadableError saying which.
"""

from __future__ import annotations

import io
import posixpath
import struct
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
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

MAX_WORD_ELEMENTS = 500_000
"""The most XML elements the main part may hold (a ten-page form has tens of thousands, a
300-page report about 400,000), counted while parsing: a document of millions of empty
paragraphs is refused, not read. Reading this many takes one to two seconds, and at most
about 110 MB when one table holds them all (a body's blocks are let go as they are read)."""

MAX_WORD_TEXT_CHARS = 2_000_000
"""The most text gathered from the document, a nested table's or content control's text
counting again for each table cell or control it sits in (so deep nesting cannot make the
work grow faster than the document)."""

_CHUNK = 64 * 1024  # inflated and parsed this much at a time

DAMAGED = "is a damaged Word document that cannot be opened"
ENCRYPTED = "is a password-protected Word document"
UNSUPPORTED_PACKING = (
    "is a Word document packed in a way Word never uses (an unsupported zip compression method)"
)
TOO_LARGE = f"is a Word document larger than {MAX_WORD_XML_BYTES // (1024 * 1024)} MB when unpacked"
TOO_MANY_PARTS = "is a Word document with too many parts to read"
TOO_MANY_ELEMENTS = (
    f"is a Word document too long to read (more than {MAX_WORD_ELEMENTS:,} XML elements)"
)
TOO_MUCH_TEXT = (
    f"is a Word document with too much text to read (more than {MAX_WORD_TEXT_CHARS:,} "
    "characters, counting nested tables and controls)"
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_STRICT = "{http://purl.oclc.org/ooxml/wordprocessingml/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_OFFICE_DOCUMENT = "/officeDocument"  # the relationship type's last segment, transitional or strict
# The main part's content type, for a document or a template, with or without macros.
_WORD_MAIN_TYPES = ("wordprocessingml.document.main+xml", "wordprocessingml.template.main+xml")
_WORD_MACRO_MAIN_TYPES = (
    "ms-word.document.macroenabled.main+xml",
    "ms-word.template.macroenabledtemplate.main+xml",
)

_BODY, _P, _TBL, _TR, _TC = f"{_W}body", f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_SDT, _SDT_PR, _SDT_CONTENT = f"{_W}sdt", f"{_W}sdtPr", f"{_W}sdtContent"
_T, _TAB, _SYM, _CHECK_BOX = f"{_W}t", f"{_W}tab", f"{_W}sym", f"{_W}checkBox"
_BREAKS = (f"{_W}br", f"{_W}cr")
_PLACEHOLDER = f"{_W}showingPlcHdr"
_STRUCTURE = frozenset({_P, _SDT, _TBL, _TC, _TR, _SDT_CONTENT})
_SHOWN = frozenset({_TAB, _SYM, _CHECK_BOX, *_BREAKS})
_VAL = f"{_W}val"

_TICKED, _UNTICKED = "☒", "☐"
# Wingdings characters Word uses for tick boxes typed as symbols.
_SYMBOL_TICKS = {
    "F0FE": _TICKED,
    "F078": _TICKED,
    "F0FD": _TICKED,
    "F0A8": _UNTICKED,
    "F06F": _UNTICKED,
}
# Word never writes a document type declaration; one can only be there to expand entities.
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
_MARKER_TAIL = max(len(marker) for marker in _DTD_MARKERS)


def word_text(content: bytes) -> str:
    """The document's text as lines: paragraphs, table rows as `label<TAB>value`, content
    controls as `title: value`. Raises FormUnreadableError when it cannot be read."""
    try:
        with _open(content) as archive:
            main = _main_part(archive)
            lines = _document_lines(_inflate(archive, main, MAX_WORD_XML_BYTES, TOO_LARGE))
    except (FormUnreadableError, MemoryError, RecursionError):
        raise
    except Exception:  # zipfile and zlib raise many kinds for a damaged package
        pass
    else:
        return "\n".join(lines)
    raise FormUnreadableError(DAMAGED)


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
    if info.flag_bits & 0x1:
        raise FormUnreadableError(ENCRYPTED)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
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


def _document_lines(chunks: Iterable[bytes]) -> list[str]:
    """Parses the main part as it inflates, counting elements, reading each block of the body
    (a paragraph, a table, a content control) once it ends and then letting it go."""
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
        events=("start", "end")
    )
    budget = _Budget()
    lines: list[str] = []
    depth = 0
    elements = 0
    strict = False
    body: ElementTree.Element | None = None

    def read(events: Iterator[Any]) -> None:
        nonlocal depth, elements, strict, body
        done = 0
        for event, element in events:
            if event == "start":
                depth += 1
                elements += 1
                if elements > MAX_WORD_ELEMENTS:
                    raise FormUnreadableError(TOO_MANY_ELEMENTS)
                if strict:
                    _transitional(element)
                if depth == 2:
                    if body is None and element.tag == _BODY:
                        body = element
                elif depth == 1:
                    strict = element.tag.startswith(_W_STRICT)
                    if strict:
                        _transitional(element)
            else:
                if depth == 3 and body is not None and len(body) > done and body[done] is element:
                    lines.extend(_block_lines(element, budget))
                    done += 1
                depth -= 1
        if body is not None and done:
            del body[:done]  # read: let the blocks go

    try:
        for chunk in _without_dtd(chunks):
            parser.feed(chunk)
            read(parser.read_events())
        parser.close()
        read(parser.read_events())
    except ElementTree.ParseError:
        pass
    else:
        return lines
    raise FormUnreadableError(DAMAGED)


def _transitional(element: ElementTree.Element) -> None:
    """A strict Office Open XML element renamed to its usual (transitional) namespace."""
    if element.tag.startswith(_W_STRICT):
        element.tag = _W + element.tag[len(_W_STRICT) :]
    for name in [name for name in element.attrib if name.startswith(_W_STRICT)]:
        element.attrib[_W + name[len(_W_STRICT) :]] = element.attrib.pop(name)


class _Budget:
    """The text gathered so far (MAX_WORD_TEXT_CHARS)."""

    def __init__(self) -> None:
        self.spent = 0

    def spend(self, amount: int) -> None:
        self.spent += amount
        if self.spent > MAX_WORD_TEXT_CHARS:
            raise FormUnreadableError(TOO_MUCH_TEXT)


class _Gathered:
    """One walk of a block, without recursion, recording what its lines need: the visible
    text in document order (`parts`) with, for each paragraph and control content, the run of
    parts it spans; the paragraphs inside each table cell, the controls inside each paragraph
    and cell, the rows inside each table (nested ones included, as Word shows them)."""

    def __init__(self, block: ElementTree.Element, budget: _Budget) -> None:
        self.budget = budget
        self.parts: list[str] = []
        # How deep the innermost control showing its placeholder around each part is (-1: none).
        self.hidden_at: list[int] = []
        self.spans: dict[ElementTree.Element, tuple[int, int, int]] = {}  # start, end, depth
        self.paragraphs_in: dict[ElementTree.Element, list[ElementTree.Element]] = {}
        self.controls_in: dict[ElementTree.Element, list[ElementTree.Element]] = {}
        self.rows_in: dict[ElementTree.Element, list[ElementTree.Element]] = {}
        self._texts: dict[ElementTree.Element, str] = {}
        self._control_lines: dict[ElementTree.Element, str | None] = {}
        self._walk(block)

    def _walk(self, block: ElementTree.Element) -> None:
        cells: list[ElementTree.Element] = []
        paragraphs: list[ElementTree.Element] = []
        tables: list[ElementTree.Element] = []
        placeholders: list[int] = []  # depths of the controls showing a placeholder we are in
        starts: dict[ElementTree.Element, int] = {}
        stack: list[tuple[ElementTree.Element, int, bool]] = [(block, 0, False)]
        visited = 0
        while stack:
            node, depth, leaving = stack.pop()
            tag = node.tag
            if leaving:
                if tag in (_P, _SDT_CONTENT):
                    self.spans[node] = (starts.pop(node), len(self.parts), depth)
                if tag == _P:
                    paragraphs.pop()
                elif tag == _TC:
                    cells.pop()
                elif tag == _TBL:
                    tables.pop()
                elif tag == _SDT and placeholders and placeholders[-1] == depth:
                    placeholders.pop()
                continue
            visited += 1
            if tag in _STRUCTURE:
                if tag != _TR:
                    stack.append((node, depth, True))
                if tag == _P:
                    starts[node] = len(self.parts)
                    self._add_to(self.paragraphs_in, cells, node)
                    paragraphs.append(node)
                elif tag == _SDT_CONTENT:
                    starts[node] = len(self.parts)
                elif tag == _TC:
                    cells.append(node)
                elif tag == _TBL:
                    tables.append(node)
                elif tag == _TR:
                    self._add_to(self.rows_in, tables, node)
                elif tag == _SDT:
                    self._add_to(self.controls_in, paragraphs, node)
                    self._add_to(self.controls_in, cells, node)
                    properties = node.find(_SDT_PR)
                    if properties is not None and properties.find(_PLACEHOLDER) is not None:
                        placeholders.append(
                            depth
                        )  # "Click or tap here to enter text." is no answer
            elif tag == _T or tag in _SHOWN:
                part = _visible_part(node)
                if part:
                    self.parts.append(part)
                    self.hidden_at.append(placeholders[-1] if placeholders else -1)
            if len(node):
                child_depth = depth + 1
                stack.extend([(child, child_depth, False) for child in reversed(node)])
        self.budget.spend(visited)

    def _add_to(
        self,
        lists: dict[ElementTree.Element, list[ElementTree.Element]],
        owners: list[ElementTree.Element],
        node: ElementTree.Element,
    ) -> None:
        self.budget.spend(len(owners))
        for owner in owners:
            lists.setdefault(owner, []).append(node)

    def text(self, element: ElementTree.Element) -> str:
        """The visible text of a paragraph or a control's content: runs, tabs and breaks,
        tick boxes; never a placeholder's prompt inside it."""
        if element not in self._texts:
            start, end, depth = self.spans.get(element, (0, 0, 0))
            self.budget.spend(end - start)
            text = "".join(
                self.parts[index]
                for index in range(start, end)
                if self.hidden_at[index] < depth  # a placeholder around it, not inside it
            ).strip()
            self.budget.spend(len(text))
            self._texts[element] = text
        return self._texts[element]

    def control_line(self, control: ElementTree.Element) -> str | None:
        """`title: value` for a content control that has a title or tag, else None."""
        if control not in self._control_lines:
            self._control_lines[control] = self._read_control(control)
        return self._control_lines[control]

    def _read_control(self, control: ElementTree.Element) -> str | None:
        properties = control.find(_SDT_PR)
        if properties is None:
            return None
        name = ""
        for tag in (f"{_W}alias", f"{_W}tag"):
            found = properties.find(tag)
            if found is not None and found.get(_VAL):
                name = found.get(_VAL, "")
                break
        if not name:
            return None
        box = properties.find(f"{_W14}checkbox")
        if box is not None:
            checked = box.find(f"{_W14}checked")
            ticked = checked is not None and checked.get(f"{_W14}val") in ("1", "true")
            return f"{name}: {'Yes' if ticked else 'No'}"
        if properties.find(_PLACEHOLDER) is not None:
            return f"{name}: "
        content = control.find(_SDT_CONTENT)
        return f"{name}: {self.text(content) if content is not None else ''}"

    def control_lines(self, owner: ElementTree.Element) -> list[str]:
        lines = [self.control_line(control) for control in self.controls_in.get(owner, ())]
        return [line for line in lines if line is not None]


def _visible_part(node: ElementTree.Element) -> str:
    """What one element shows by itself: a run's text, a tab, a break, a tick box."""
    tag = node.tag
    if tag == _T:
        return node.text or ""
    if tag == _TAB:
        return "\t"
    if tag in _BREAKS:
        return " "
    if tag == _SYM:
        return _SYMBOL_TICKS.get(node.get(f"{_W}char", "").upper(), "")
    if tag == _CHECK_BOX:  # a legacy form-field tick box
        checked = node.find(f"{_W}checked")
        state = checked if checked is not None else node.find(f"{_W}default")
        ticked = state is not None and state.get(_VAL, "1") not in ("0", "false")
        return _TICKED if ticked else _UNTICKED
    return ""


def _block_lines(block: ElementTree.Element, budget: _Budget) -> list[str]:
    """The lines of one body-level block: a paragraph, a table, or a content control (whose
    content is blocks in turn)."""
    if block.tag == _P:
        simple = _simple_paragraph(block)
        if simple is not None:
            budget.spend(len(simple) + 1)
            return [simple]
    gathered = _Gathered(block, budget)
    lines: list[str] = []
    pending = [block]
    while pending:
        item = pending.pop()
        if item.tag == _P:
            lines.append(gathered.text(item))
            lines += gathered.control_lines(item)
        elif item.tag == _TBL:
            for row in gathered.rows_in.get(item, ()):
                budget.spend(len(row))
                cells = [cell for cell in row if cell.tag == _TC]
                paragraphs = [gathered.paragraphs_in.get(cell, ()) for cell in cells]
                lines += _row_lines(
                    [[gathered.text(p) for p in cell] for cell in paragraphs], budget
                )
                for cell in cells:
                    lines += gathered.control_lines(cell)
        elif item.tag == _SDT:
            line = gathered.control_line(item)
            if line is not None:
                lines.append(line)
            content = item.find(_SDT_CONTENT)
            if content is not None:
                pending.extend(reversed(content))
    budget.spend(sum(len(line) + 1 for line in lines))
    return lines


def _simple_paragraph(paragraph: ElementTree.Element) -> str | None:
    """The text of a paragraph holding no control, table or paragraph (most of them), read
    in one pass; None for any other."""
    parts = []
    for node in paragraph.iter():
        tag = node.tag
        if tag == _T:
            if node.text:
                parts.append(node.text)
        elif tag in _STRUCTURE and node is not paragraph:
            return None
        elif tag in _SHOWN:
            parts.append(_visible_part(node))
    return "".join(parts).strip()


def _row_lines(cells: list[list[str]], budget: _Budget) -> list[str]:
    """Label and value cells side by side; a value over several lines continues indented
    (the indent paid for before it is made: a long label times many lines is much text)."""
    lines = []
    for label, value in zip(cells[0::2], cells[1::2], strict=False):
        label_text = " ".join(part for part in label if part)
        value_lines = [part for part in value if part] or [""]
        lines.append(f"{label_text}\t{value_lines[0]}")
        budget.spend((len(label_text) + 1) * (len(value_lines) - 1))
        # Indented to the value's column, so the text-form reader continues the value.
        lines += [" " * (len(label_text) + 1) + part for part in value_lines[1:]]
    if len(cells) % 2:
        lines += cells[-1]  # an odd cell out: a heading or a note across the row
    return lines
