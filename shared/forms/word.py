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
is a named constant (below, or in the module beside this one that applies it); a document past
one is refused with a FormUnreadableError saying which.

This module parses the main part as it inflates; the parts live beside it: the package (the
zip, its relationships and content types, inflating within a byte cap) in `word_package.py`,
the lines of each body-level block in `word_lines.py`. Their limits and messages are
importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from xml.etree import ElementTree

from shared.forms.fields import FormUnreadableError
from shared.forms.word_lines import (
    _BODY,
    _W,
    _W_STRICT,
    MAX_WORD_TEXT_CHARS,
    TOO_MUCH_TEXT,
    _block_lines,
    _Budget,
)
from shared.forms.word_package import (
    DAMAGED,
    ENCRYPTED,
    MAX_WORD_DIRECTORY_BYTES,
    MAX_WORD_PART_BYTES,
    MAX_WORD_XML_BYTES,
    TOO_LARGE,
    TOO_MANY_PARTS,
    UNSUPPORTED_PACKING,
    _main_part,
    _open,
    _without_dtd,
    is_word_package,
)
from shared.forms.word_package import _inflate as _inflate

__all__ = [
    "DAMAGED",
    "ENCRYPTED",
    "MAX_WORD_DIRECTORY_BYTES",
    "MAX_WORD_ELEMENTS",
    "MAX_WORD_PART_BYTES",
    "MAX_WORD_TEXT_CHARS",
    "MAX_WORD_XML_BYTES",
    "TOO_LARGE",
    "TOO_MANY_ELEMENTS",
    "TOO_MANY_PARTS",
    "TOO_MUCH_TEXT",
    "UNSUPPORTED_PACKING",
    "is_word_package",
    "word_text",
]

MAX_WORD_ELEMENTS = 500_000
"""The most XML elements the main part may hold (a ten-page form has tens of thousands, a
300-page report about 400,000), counted while parsing: a document of millions of empty
paragraphs is refused, not read. Reading this many takes one to two seconds, and at most
about 110 MB when one table holds them all (a body's blocks are let go as they are read)."""

TOO_MANY_ELEMENTS = (
    f"is a Word document too long to read (more than {MAX_WORD_ELEMENTS:,} XML elements)"
)


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
