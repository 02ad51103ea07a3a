"""The text of a PDF's first pages, read as printed: the page tree walked to them (never
flattened whole), each page made anew for reading (nothing in the PDF is changed) with its
drawn objects inlined and its fields' values drawn as text, while the reading's content
budget (MAX_PDF_CONTENT_BYTES, in `pdf.py`) lasts; then pypdf's layout extraction, or its
plain extraction when that finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pypdf import PageObject, PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    PdfObject,
    StreamObject,
)

from shared.forms.pdf_fields import _array, _dictionary, _Form, _key
from shared.forms.pdf_value_drawing import _ValueDrawing

if TYPE_CHECKING:
    from shared.forms.pdf import _ContentBudget

MAX_PDF_PAGE_TREE_NODES = 1_000
"""The most page-tree entries looked at to find the first pages (a balanced tree needs a few
dozen); past it, only the pages found so far are read."""

# The operators that show text (Tj, TJ, ' and "), as whole tokens.
_TEXT_SHOWN = re.compile(rb"(?<![A-Za-z])(?:Tj|TJ)(?![A-Za-z])|['\"]")
_INHERITED_BY_PAGES = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _first_pages(
    reader: PdfReader, wanted: int
) -> Iterator[tuple[DictionaryObject, dict[str, PdfObject]]]:
    """The first `wanted` pages and what each inherits from the page tree (its resources,
    its size), walked without recursion and without touching the pages after them."""
    root = reader.root_object.get("/Pages")
    if not isinstance(root, PdfObject) or _dictionary(root) is None:
        return
    frames: list[tuple[Iterator[PdfObject], dict[str, PdfObject]]] = [(iter([root]), {})]
    seen: set[object] = set()
    found = 0
    examined = 0
    while frames and found < wanted and examined < MAX_PDF_PAGE_TREE_NODES:
        kids, inherited = frames[-1]
        entry = next(kids, None)
        if entry is None:
            frames.pop()
            continue
        examined += 1
        key = _key(entry)
        node = _dictionary(entry)
        if node is None or key in seen:
            continue
        seen.add(key)
        if node.get("/Type") == "/Pages" or ("/Kids" in node and node.get("/Type") != "/Page"):
            own = {name: node[name] for name in _INHERITED_BY_PAGES if name in node}
            frames.append((iter(_array(node.get("/Kids"))), {**inherited, **own}))
        else:
            found += 1
            yield node, inherited


def _page_for_reading(
    reader: PdfReader,
    page: DictionaryObject,
    inherited: dict[str, PdfObject],
    form: _Form,
    budget: _ContentBudget,
) -> PageObject | None:
    """The page as printed, made anew for reading (nothing in the PDF is changed): each drawn
    object (a flattened field) inlined in the page's own drawing, because pypdf's layout
    extraction leaves such objects out, and each field's value drawn as text in its box, so
    the printed labels beside them read them. None when its drawing does not fit in what is
    left of MAX_PDF_CONTENT_BYTES."""
    reading = PageObject(reader)
    for name in _INHERITED_BY_PAGES:
        if name in page or name in inherited:
            reading[NameObject(name)] = page.get(name, inherited.get(name))
    resources = DictionaryObject(_dictionary(reading.get("/Resources")) or {})
    fonts = DictionaryObject(_dictionary(resources.get("/Font")) or {})
    drawn = DictionaryObject(_dictionary(resources.get("/XObject")) or {})
    resources[NameObject("/Font")] = fonts
    resources[NameObject("/XObject")] = drawn
    reading[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    resolved = contents.get_object() if isinstance(contents, PdfObject) else None
    data = b""
    if isinstance(resolved, (StreamObject, ArrayObject)):
        own = ContentStream(resolved, reader, "bytes")
        data = own.get_data()
        if not budget.take(len(data)):
            return None
        if b"Do" in data and drawn:  # it may draw objects: inline them
            inlined = ContentStream(None, reader, "bytes")
            inlined.operations = _Inliner(reader, fonts, drawn, budget).inline(own.operations)
            data = inlined.get_data()
    values = ContentStream(None, reader, "bytes")
    values.operations = _ValueDrawing(fonts, budget).draw(page, form)
    stream = DecodedStreamObject()
    stream.set_data(b"q\n" + data + b"\nQ\n" + values.get_data())
    reading[NameObject("/Contents")] = stream
    return reading


class _Inliner:
    """Inlines the page's drawn objects (form XObjects), one level deep, while the content
    budget lasts; an object past it is left as it is (layout extraction leaves it out)."""

    def __init__(
        self,
        reader: PdfReader,
        fonts: DictionaryObject,
        drawn: DictionaryObject,
        budget: _ContentBudget,
    ) -> None:
        self.reader = reader
        self.fonts = fonts
        self.drawn = drawn
        self.budget = budget
        self.aliases = 0
        # Each object inlined once, however often it is drawn: its operations and size (None
        # when it cannot be inlined).
        self.inlined: dict[object, tuple[list[tuple[list[object], bytes]], int] | None] = {}

    def inline(
        self, operations: list[tuple[list[object], bytes]]
    ) -> list[tuple[list[object], bytes]]:
        result: list[tuple[list[object], bytes]] = []
        for operands, operator in operations:
            if operator != b"Do" or not operands:
                result.append((operands, operator))
                continue
            reference = self.drawn.get(operands[0])
            key = _key(reference)
            if key not in self.inlined:
                try:
                    self.inlined[key] = self._drawing(reference)
                except (MemoryError, RecursionError, LimitReachedError):
                    raise
                except Exception:  # an object that cannot be inlined is left out, not the file
                    self.inlined[key] = None
            inlined = self.inlined[key]
            if inlined is None:
                continue
            drawing, size = inlined
            if drawing and self.budget.take(size):
                result += drawing
            else:
                result.append((operands, operator))  # an image, or past the budget: as it was
        return result

    def _drawing(self, reference: object) -> tuple[list[tuple[list[object], bytes]], int]:
        """The drawn object's operations, ready to inline, and its size; no operations when
        it is not a form XObject (an image: drawn as it was)."""
        drawing = reference.get_object() if isinstance(reference, PdfObject) else None
        if not isinstance(drawing, StreamObject) or drawing.get("/Subtype") != "/Form":
            return [], 0
        content = ContentStream(drawing, self.reader, "bytes")
        size = max(len(content.get_data()), 64)
        if size > self.budget.left:
            return [], 0  # never parsed: it could not be inlined anyway
        operations = content.operations
        own = _dictionary(drawing.get("/Resources")) or DictionaryObject()
        renamed = {
            **self._merge(_dictionary(own.get("/Font")), self.fonts),
            **self._merge(_dictionary(own.get("/XObject")), self.drawn),
        }
        if renamed:
            operations = [
                (
                    [
                        renamed.get(operand, operand)
                        if isinstance(operand, NameObject)
                        else operand
                        for operand in operands
                    ],
                    operator,
                )
                for operands, operator in operations
            ]
        matrix = _array(drawing.get("/Matrix")) or [1, 0, 0, 1, 0, 0]
        inlined = [
            ([], b"q"),
            ([FloatObject(number) for number in matrix], b"cm"),
            *operations,
            ([], b"Q"),
        ]
        return inlined, size

    def _merge(
        self, own: DictionaryObject | None, into: DictionaryObject
    ) -> dict[NameObject, NameObject]:
        """The drawing's own resources added to the page's; a name the page already uses
        for something else is renamed (returned: old name -> new)."""
        renamed: dict[NameObject, NameObject] = {}
        for name, value in (own or {}).items():
            if name not in into:
                into[NameObject(name)] = value
            elif _key(into[name]) != _key(value):
                self.aliases += 1
                alias = NameObject(f"/DSRInlined{self.aliases}")
                into[alias] = value
                renamed[NameObject(name)] = alias
        return renamed


def _page_text(page: PageObject) -> str:
    """The page's text as laid out; when layout extraction finds nothing (or fails), pypdf's
    plain extraction, which reads some PDFs layout extraction cannot."""
    contents = page.get("/Contents")
    data = contents.get_data() if isinstance(contents, StreamObject) else b"Do"
    if not _TEXT_SHOWN.search(data) and b"Do" not in data:
        return ""  # only lines and shapes, no text and no drawn object to look in
    try:
        text = page.extract_text(extraction_mode="layout")
    except (MemoryError, RecursionError, LimitReachedError):
        raise
    except Exception:
        text = ""
    if not text.strip():
        text = page.extract_text()
    return text
