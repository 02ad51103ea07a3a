"""The lines of one body-level block of a Word document (a paragraph, a table, a content
control), walked without recursion: paragraphs as lines, table rows as `label<TAB>value`,
content controls as `title: value` (empty while showing their placeholder), tick boxes as ☒
or ☐; the text gathered is counted against MAX_WORD_TEXT_CHARS.
"""

from __future__ import annotations

from xml.etree import ElementTree

from shared.forms.fields import FormUnreadableError

MAX_WORD_TEXT_CHARS = 2_000_000
"""The most text gathered from the document, a nested table's or content control's text
counting again for each table cell or control it sits in (so deep nesting cannot make the
work grow faster than the document)."""

TOO_MUCH_TEXT = (
    f"is a Word document with too much text to read (more than {MAX_WORD_TEXT_CHARS:,} "
    "characters, counting nested tables and controls)"
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_STRICT = "{http://purl.oclc.org/ooxml/wordprocessingml/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"

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
