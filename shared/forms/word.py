"""The text of a Word (.docx) form, as lines the text-form reader understands.

A .docx is a zip of XML: read with zipfile and ElementTree, no Word library. Paragraphs
become lines; a table row becomes `label<TAB>value` (pairs of cells, so a four-column row is
two fields); a content control with a title or tag becomes `title: value`, empty when it
still shows its placeholder; tick boxes become ☒ or ☐.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree

from shared.forms.fields import FormUnreadableError

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
_TICKED, _UNTICKED = "☒", "☐"
# Wingdings characters Word uses for tick boxes typed as symbols.
_SYMBOL_TICKS = {
    "F0FE": _TICKED,
    "F078": _TICKED,
    "F0FD": _TICKED,
    "F0A8": _UNTICKED,
    "F06F": _UNTICKED,
}
_MAX_XML_BYTES = 20 * 1024 * 1024  # a zip bomb stops here, not in the function's memory


def word_text(content: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > _MAX_XML_BYTES:
                raise FormUnreadableError("is a Word document too large to read")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as error:
        raise FormUnreadableError("is a damaged Word document that cannot be opened") from error
    body = root.find(f"{_W}body")
    lines: list[str] = []
    for block in body if body is not None else []:
        _block(block, lines)
    return "\n".join(lines)


def _block(block: ElementTree.Element, lines: list[str]) -> None:
    if block.tag == f"{_W}p":
        lines.append(_text(block))
        lines += _control_lines(block)
    elif block.tag == f"{_W}tbl":
        for row in block.iter(f"{_W}tr"):
            cells = [_cell_lines(cell) for cell in row.findall(f"{_W}tc")]
            lines += _row_lines(cells)
            for cell in row.findall(f"{_W}tc"):
                lines += _control_lines(cell)
    elif block.tag == f"{_W}sdt":
        lines += _control_lines(block, nested=False)
        content = block.find(f"{_W}sdtContent")
        for inner in content if content is not None else []:
            _block(inner, lines)


def _row_lines(cells: list[list[str]]) -> list[str]:
    """Label and value cells side by side; a value over several lines continues indented."""
    lines = []
    for label, value in zip(cells[0::2], cells[1::2], strict=False):
        label_text = " ".join(part for part in label if part)
        value_lines = [part for part in value if part] or [""]
        lines.append(f"{label_text}\t{value_lines[0]}")
        # Indented to the value's column, so the text-form reader continues the value.
        lines += [" " * (len(label_text) + 1) + part for part in value_lines[1:]]
    if len(cells) % 2:
        lines += cells[-1]  # an odd cell out: a heading or a note across the row
    return lines


def _cell_lines(cell: ElementTree.Element) -> list[str]:
    return [_text(paragraph) for paragraph in cell.findall(f".//{_W}p")]


def _control_lines(element: ElementTree.Element, *, nested: bool = True) -> list[str]:
    """`title: value` for each content control that has a title or tag."""
    controls = element.iter(f"{_W}sdt") if nested else [element]
    lines = []
    for control in controls:
        properties = control.find(f"{_W}sdtPr")
        if properties is None:
            continue
        name = ""
        for tag in (f"{_W}alias", f"{_W}tag"):
            found = properties.find(tag)
            if found is not None and found.get(f"{_W}val"):
                name = found.get(f"{_W}val", "")
                break
        if not name:
            continue
        box = properties.find(f"{_W14}checkbox")
        if box is not None:
            checked = box.find(f"{_W14}checked")
            ticked = checked is not None and checked.get(f"{_W14}val") in ("1", "true")
            lines.append(f"{name}: {'Yes' if ticked else 'No'}")
        elif properties.find(f"{_W}showingPlcHdr") is not None:
            lines.append(f"{name}: ")
        else:
            content = control.find(f"{_W}sdtContent")
            lines.append(f"{name}: {_text(content) if content is not None else ''}")
    return lines


def _text(element: ElementTree.Element) -> str:
    """The visible text: runs, tabs and breaks, tick boxes; never a placeholder's prompt."""
    parts: list[str] = []
    _visible(element, parts)
    return "".join(parts).strip()


def _visible(node: ElementTree.Element, parts: list[str]) -> None:
    if node.tag == f"{_W}sdt":
        properties = node.find(f"{_W}sdtPr")
        if properties is not None and properties.find(f"{_W}showingPlcHdr") is not None:
            return  # "Click or tap here to enter text." is not an answer
    if node.tag == f"{_W}t" and node.text:
        parts.append(node.text)
    elif node.tag == f"{_W}tab":
        parts.append("\t")
    elif node.tag in (f"{_W}br", f"{_W}cr"):
        parts.append(" ")
    elif node.tag == f"{_W}sym":
        parts.append(_SYMBOL_TICKS.get(node.get(f"{_W}char", "").upper(), ""))
    elif node.tag == f"{_W}checkBox":  # a legacy form-field tick box
        checked = node.find(f"{_W}checked")
        state = checked if checked is not None else node.find(f"{_W}default")
        ticked = state is not None and state.get(f"{_W}val", "1") not in ("0", "false")
        parts.append(_TICKED if ticked else _UNTICKED)
    for child in node:
        _visible(child, parts)
