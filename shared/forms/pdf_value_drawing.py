"""Fields' values drawn as text in their boxes on a page made for reading (`pdf_text.py`), so
the printed labels beside them read them: text as typed, a choice's display text, an X for a
ticked box; drawn while the reading's content budget lasts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    PdfObject,
)

from shared.forms.pdf_fields import (
    _array,
    _dictionary,
    _Form,
    _key,
    _length,
    _name,
    _text_of,
    _Widget,
)

if TYPE_CHECKING:
    from shared.forms.pdf import _ContentBudget

_PUSH_BUTTON, _MULTILINE = 1 << 16, 1 << 12  # field flags (/Ff)


class _ValueDrawing:
    """Fields' values drawn as text in their boxes, in Helvetica whose codes map to whatever
    characters the values hold (a ToUnicode map), so any name reads back as typed."""

    SIZE = 10.0  # points

    def __init__(self, fonts: DictionaryObject, budget: _ContentBudget) -> None:
        self.fonts = fonts
        self.budget = budget
        self.codes: dict[str, int] = {}
        self.font: NameObject | None = None
        self.count = 0
        self.shown: dict[int, list[str]] = {}  # each text or choice field's lines, once

    def draw(self, page: DictionaryObject, form: _Form) -> list[tuple[list[object], bytes]]:
        """The values of the page's fields, while the content budget lasts."""
        operations: list[tuple[list[object], bytes]] = []
        if not form.widgets:
            return operations
        for entry in _array(page.get("/Annots")):
            widget_of = form.widgets.get(_key(entry))
            widget = _dictionary(entry) if widget_of is not None else None
            if widget is None or widget_of is None:
                continue
            try:
                drawing = self._widget(widget, widget_of)
            except (MemoryError, RecursionError, LimitReachedError):
                raise
            except Exception:  # a box that cannot be drawn (no usable /Rect): left out
                continue
            if drawing is None:
                break  # past the budget
            operations += drawing
        return operations

    def _widget(
        self, widget: DictionaryObject, widget_of: _Widget
    ) -> list[tuple[list[object], bytes]] | None:
        """The value drawn in this box; None once past the content budget."""
        rect = [float(number) for number in _array(widget.get("/Rect"))[:4]]
        if len(rect) < 4:
            return []
        left, bottom = min(rect[0], rect[2]), min(rect[1], rect[3])
        top = max(rect[1], rect[3])
        lines = self._shown(widget, widget_of)
        size = min(self.SIZE, max(top - bottom - 2, 4.0))
        multiline = widget_of.flags & _MULTILINE or len(lines) > 1
        y = top - size - 1 if multiline else bottom + (top - bottom - size) / 2 + 1
        operations: list[tuple[list[object], bytes]] = []
        for line in lines:
            if not self.budget.take(len(line) + 64):
                return None
            operations += self._text(line, left + 2, y, size)
            y -= size * 1.2
        return operations

    def _shown(self, widget: DictionaryObject, widget_of: _Widget) -> list[str]:
        """What the field shows in this box, as lines: its text, its choice's display text,
        or an X when the box is ticked."""
        if widget_of.kind == "/Btn":
            if widget_of.flags & _PUSH_BUTTON:
                return []
            state = widget.get("/AS")
            if state is None:
                appearances = _dictionary(widget.get("/AP"))
                normal = _dictionary(appearances.get("/N")) if appearances is not None else None
                on = normal is not None and widget_of.value in normal
                return ["X"] if widget_of.value not in ("", "/Off") and on else []
            return ["X"] if _name(state) not in ("", "/Off") else []
        lines = self.shown.get(id(widget_of.owner))
        if lines is None:
            lines = [line for line in widget_of.value.splitlines() if line.strip()]
            if widget_of.kind == "/Ch":
                lines = self._displayed(widget_of.owner, lines)
            self.shown[id(widget_of.owner)] = lines
        return lines

    def _displayed(self, choice: DictionaryObject, chosen: list[str]) -> list[str]:
        """A choice whose options carry export values shows their display text (options
        looked through while the content budget lasts)."""
        wanted = {len(value) for value in chosen}
        shown: dict[str, str] = {}
        for option in _array(choice.get("/Opt")):
            if not self.budget.take(16):
                break
            pair = option.get_object() if isinstance(option, PdfObject) else option
            if isinstance(pair, list) and len(pair) >= 2 and _length(pair[0]) - 1 in wanted:
                export = _text_of(pair[0])
                if export in chosen and export not in shown:
                    shown[export] = _text_of(pair[1]) if _length(pair[1]) <= 1_000 else export
        return [shown.get(value, value) for value in chosen]

    def _text(self, text: str, x: float, y: float, size: float) -> list[tuple[list[object], bytes]]:
        starting_font = self.font
        operations: list[tuple[list[object], bytes]] = []
        run = bytearray()
        for character in text:
            if character not in self.codes or self.font is None:
                if len(self.codes) >= 255 or self.font is None:
                    if run:
                        operations.append(([ByteStringObject(bytes(run))], b"Tj"))
                        run = bytearray()
                    self._new_font()
                    assert self.font is not None
                    operations.append(([self.font, FloatObject(size)], b"Tf"))
                if character not in self.codes:
                    self.codes[character] = len(self.codes) + 1
                    self._map_font()
            run.append(self.codes[character])
        if run:
            operations.append(([ByteStringObject(bytes(run))], b"Tj"))
        if not operations:
            return []
        if operations[0][1] != b"Tf":  # begun in the font the last value ended in
            operations.insert(0, ([starting_font, FloatObject(size)], b"Tf"))
        return [
            ([], b"BT"),
            ([FloatObject(value) for value in (1, 0, 0, 1, x, y)], b"Tm"),
            *operations,
            ([], b"ET"),
        ]

    def _new_font(self) -> None:
        self.count += 1
        self.codes = {}
        self.font = NameObject(f"/DSRValues{self.count}")
        self.fonts[self.font] = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/FirstChar"): NumberObject(0),
                NameObject("/LastChar"): NumberObject(255),
                NameObject("/Widths"): ArrayObject([NumberObject(556)] * 256),
            }
        )

    def _map_font(self) -> None:
        """The font's ToUnicode map, rewritten as codes are given out (a few per field)."""
        assert self.font is not None
        entries = [
            f"<{code:02X}> <{character.encode('utf-16-be').hex().upper()}>"
            for character, code in self.codes.items()
        ]
        blocks = "\n".join(
            f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar"
            for chunk in (entries[start : start + 100] for start in range(0, len(entries), 100))
        )
        cmap = DecodedStreamObject()
        cmap.set_data(
            (
                "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
                "/CMapName /DSR-Values def /CMapType 2 def\n"
                "1 begincodespacerange <00> <FF> endcodespacerange\n"
                f"{blocks}\nendcmap CMapName currentdict /CMap defineresource pop end end"
            ).encode("ascii")
        )
        font = self.fonts[self.font]
        assert isinstance(font, DictionaryObject)
        font[NameObject("/ToUnicode")] = cmap
        widths = font["/Widths"]
        assert isinstance(widths, ArrayObject)
        if " " in self.codes:
            widths[self.codes[" "]] = NumberObject(278)
