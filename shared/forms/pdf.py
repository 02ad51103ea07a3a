"""The DSR forms in a PDF: from its form fields when it is the fillable form, else from its
text layer when it was printed or flattened (label and value in two columns).

Nothing in the file is trusted to be small. The form's field tree is walked once, without
recursion, and refused past MAX_PDF_FORM_FIELDS; only the first MAX_PDF_PAGES_READ pages are
ever looked at (the page tree is walked to them, never flattened whole), and only while their
drawing fits in MAX_PDF_CONTENT_BYTES; those pages are read as printed without copying the
document: each page's drawn objects are inlined and its fields' values drawn as text on a
page made for reading, which pypdf's layout extraction reads (its plain extraction when that
finds nothing). pypdf's own limits are tightened while reading (MAX_PDF_STREAM_BYTES). A PDF
protected only against changes (it opens with an empty password) is read like any other.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from pypdf import PageObject, PasswordType, PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    create_string_object,
)

from shared.forms.fields import (
    FormUnreadableError,
    RawForm,
    canonical_fields,
    detect_kinds,
)
from shared.forms.text_form import read_text_forms

# pypdf logs warnings about damaged files; a damaged form becomes a FORM_UNREADABLE reason
# instead, so those warnings would only be noise in the functions' logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)

MAX_PDF_PAGES_READ = 20
"""A printed form is a few pages; a long document (a care plan) is read to here, no further.
Only these pages are ever looked at: a 50,000-page PDF costs what a 20-page one does."""
MAX_TEXT_PAGES = MAX_PDF_PAGES_READ  # its former name

MAX_PDF_FORM_FIELDS = 2_000
"""The most entries (fields and their widgets) a fillable form's field tree may hold; our
referral has about a hundred, the largest official forms a few hundred."""

MAX_PDF_FIELD_DEPTH = 32
"""How deeply fields may nest (`section.part.field` is three deep)."""

MAX_PDF_FIELD_NAME_CHARS = 1_000
"""The longest full field name (`topmostSubform[0].Page1[0].NHSNumber[0]` is 40)."""

MAX_PDF_PAGE_TREE_NODES = 1_000
"""The most page-tree entries looked at to find the first pages (a balanced tree needs a few
dozen); past it, only the pages found so far are read."""

MAX_PDF_FIELD_VALUE_CHARS = 1_000_000
"""The most text all of a form's field values may hold together (a filled referral holds a
few thousand characters)."""

MAX_PDF_STREAM_BYTES = 16 * 1024 * 1024
"""The most any one stream (a page's content, a drawn object) may decode to, given to pypdf
as its limit while the PDF is read."""

MAX_PDF_CONTENT_BYTES = 512 * 1024
"""The most drawing instructions (decoded page contents, the drawn objects inlined in them,
the field values drawn) read from a PDF's pages: a page of a printed form holds 5-50 KB,
twenty pages of a thesis 500 KB, an engineering drawing a megabyte a page. Reading goes page
by page while it lasts; a PDF whose very first page is past it is refused. Reading this much
takes up to about a second and a half (tiny operations are the slowest to read)."""

DAMAGED = "is a damaged PDF that cannot be opened"
ENCRYPTED = "is an encrypted or password-protected PDF"
IMAGES_ONLY = "is a PDF of images only (a scan or a photo), with no text to read"
TOO_MANY_FIELDS = f"is a PDF form with more than {MAX_PDF_FORM_FIELDS:,} fields"
FIELDS_TOO_DEEP = f"is a PDF form with fields nested more than {MAX_PDF_FIELD_DEPTH} deep"
NAME_TOO_LONG = (
    f"is a PDF form with a field name longer than {MAX_PDF_FIELD_NAME_CHARS:,} characters"
)
VALUES_TOO_LONG = (
    f"is a PDF form whose fields hold more than {MAX_PDF_FIELD_VALUE_CHARS:,} characters"
)
TOO_COMPLEX = (
    f"is a PDF whose first pages hold more than {MAX_PDF_CONTENT_BYTES // 1024:,} KB of "
    "drawing instructions, too many to read"
)
TOO_LARGE = (
    f"is a PDF with content larger than {MAX_PDF_STREAM_BYTES // (1024 * 1024)} MB when "
    "unpacked, or too complex to read"
)

_LIMITS = {
    name: MAX_PDF_STREAM_BYTES
    for name in (
        "maximum_declared_stream_length",
        "array_based_stream_maximum_output_length",
        "jbig2_maximum_output_length",
        "lzw_maximum_output_length",
        "run_length_maximum_output_length",
        "zlib_maximum_output_length",
        "brotli_maximum_output_length",
        "image_maximum_buffer_size",
        "stream_decoding_work_maximum_length",
        "xfa_decoding_work_maximum_length",
    )
}
# The operators that show text (Tj, TJ, ' and "), as whole tokens.
_TEXT_SHOWN = re.compile(rb"(?<![A-Za-z])(?:Tj|TJ)(?![A-Za-z])|['\"]")
_INHERITED_BY_PAGES = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_PUSH_BUTTON, _MULTILINE = 1 << 16, 1 << 12  # field flags (/Ff)


def read_pdf_forms(content: bytes, source: str) -> list[RawForm]:
    """The forms in a PDF; none when it holds no DSR form (a covering letter, say).

    Raises FormUnreadableError when it cannot be opened, is protected by a password, is
    only images (a scan), or is larger than the limits above."""
    try:
        with apply_configuration(None, **_LIMITS):
            return _read(content, source)
    except (FormUnreadableError, MemoryError, RecursionError):
        raise
    except LimitReachedError:
        failure = TOO_LARGE
    except Exception:  # pypdf raises many kinds for a damaged file
        failure = DAMAGED
    raise FormUnreadableError(failure)


def _read(content: bytes, source: str) -> list[RawForm]:
    reader = _open(content)
    form = _Form.read(reader)
    named = form.values
    # Which form it is decides what an ambiguous name means, so: map, detect, map again.
    kinds = detect_kinds(canonical_fields(named))
    if kinds:
        return [
            RawForm(kind=kind, fields=canonical_fields(named, kind.value), source=source)
            for kind in kinds
        ]
    texts: list[str] = []
    failed = False
    budget = _ContentBudget()
    for page, inherited in _first_pages(reader, MAX_PDF_PAGES_READ):
        try:
            reading = _page_for_reading(reader, page, inherited, form, budget)
            if reading is None:
                break  # past MAX_PDF_CONTENT_BYTES: read no further
            texts.append(_page_text(reading))
        except (MemoryError, RecursionError, LimitReachedError):
            raise
        except Exception:  # this page cannot be read; the others may be
            failed = True
    text = "\n".join(texts)
    if not text.strip():
        if budget.exceeded:
            raise FormUnreadableError(TOO_COMPLEX)
        raise FormUnreadableError(DAMAGED if failed or not texts else IMAGES_ONLY)
    return read_text_forms(text, source)


def _open(content: bytes) -> PdfReader:
    """The PDF, opened; one protected only against changes (encrypted with an empty password
    to open it, as many official forms are) is read like any other."""
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
    except (MemoryError, RecursionError, LimitReachedError):
        raise
    except Exception:  # pypdf raises many kinds for a damaged file
        encrypted = None
    if encrypted is None:
        raise FormUnreadableError(DAMAGED)
    if encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except (MemoryError, RecursionError):
            raise
        except Exception:  # an encryption pypdf cannot undo (a certificate, an unknown handler)
            opened = False
        if not opened:
            raise FormUnreadableError(ENCRYPTED)
    return reader


def _key(entry: object) -> object:
    """What identifies an object: its object number, or the object itself when it is direct."""
    if isinstance(entry, IndirectObject):
        return (entry.idnum, entry.generation)
    return id(entry)


def _dictionary(entry: object) -> DictionaryObject | None:
    resolved = entry.get_object() if isinstance(entry, PdfObject) else None
    return resolved if isinstance(resolved, DictionaryObject) else None


def _array(entry: object) -> ArrayObject:
    resolved = entry.get_object() if isinstance(entry, PdfObject) else None
    return resolved if isinstance(resolved, ArrayObject) else ArrayObject()


def _text_of(value: object) -> str:
    """A field's value as text: a string, a name (`/Yes`), or the lines of a list's choices
    (a list inside a list read flat, without recursion)."""
    parts: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            item = item.get_object()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, StreamObject):  # a long text value may be kept as a stream
            parts.append(str(create_string_object(item.get_data())).strip())
        elif isinstance(item, ByteStringObject):
            parts.append(bytes(item).decode("latin-1").strip())
        elif item is not None:
            parts.append(str(item).strip())
    return "\n".join(parts)


def _length(value: object) -> int:
    """How long a value's text is, found without copying it (a stream's, decoded)."""
    length = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            item = item.get_object()
        if isinstance(item, (str, bytes)):
            length += len(item) + 1
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, StreamObject):
            length += len(item.get_data()) + 1
        else:
            length += 16  # a name, a number: short
    return length


def _name(value: object) -> str:
    """A name's text (`/Tx`, `/Off`); a long one (no name is) reads as none."""
    return _text_of(value) if value is not None and _length(value) <= 128 else ""


@dataclass
class _Widget:
    """A field's box on a page, and the field it shows."""

    owner: DictionaryObject  # the field: the widget itself, or the field it is a kid of
    kind: str  # /Tx, /Btn, /Ch (inherited from a parent field when not its own)
    flags: int
    value: str  # the field's value as text


@dataclass
class _Form:
    values: dict[str, str] = field(default_factory=dict)  # full field name -> value
    widgets: dict[object, _Widget] = field(default_factory=dict)  # by _key

    @classmethod
    def read(cls, reader: PdfReader) -> _Form:
        """The field tree (/AcroForm /Fields) walked once, without recursion, in pypdf's
        order (a field before its kids); refused past MAX_PDF_FORM_FIELDS entries (counted
        as they are found, so an array of kids listed by every field costs nothing)."""
        form = cls()
        acro_form = _dictionary(reader.root_object.get("/AcroForm"))
        if acro_form is None:
            return form
        fields = _array(acro_form.get("/Fields"))
        found = len(fields)
        if found > MAX_PDF_FORM_FIELDS:
            raise FormUnreadableError(TOO_MANY_FIELDS)
        value_chars = 0
        # Each entry: the field or widget; the name, field and value it sits in; the
        # inherited field type and flags; how deep it is.
        stack: list[tuple[PdfObject, str, DictionaryObject | None, str, str, int, int]] = [
            (entry, "", None, "", "", 0, 0) for entry in reversed(fields)
        ]
        seen: set[object] = set()
        while stack:
            entry, prefix, parent, value, kind, flags, depth = stack.pop()
            key = _key(entry)
            if key in seen:
                continue
            seen.add(key)
            if depth > MAX_PDF_FIELD_DEPTH:
                raise FormUnreadableError(FIELDS_TOO_DEEP)
            node = _dictionary(entry)
            if node is None:
                continue
            own_kind = node.get("/FT")
            kind = _name(own_kind) if own_kind is not None else kind
            own_flags = node.get("/Ff")
            flags = int(own_flags) if isinstance(own_flags, (int, float)) else flags
            name = prefix
            if "/T" in node:
                value_chars += _length(node.get("/V"))
                if value_chars > MAX_PDF_FIELD_VALUE_CHARS:
                    raise FormUnreadableError(VALUES_TOO_LONG)
                value = _text_of(node.get("/V"))
                title = node["/T"]
                if _length(title) + len(prefix) >= MAX_PDF_FIELD_NAME_CHARS:
                    raise FormUnreadableError(NAME_TOO_LONG)
                name = f"{prefix}.{_text_of(title)}" if prefix else _text_of(title)
                mapped = node.get("/TM")
                if mapped is not None and _length(mapped) >= MAX_PDF_FIELD_NAME_CHARS:
                    raise FormUnreadableError(NAME_TOO_LONG)
                form.values[_text_of(mapped) if mapped is not None else name] = value
                parent = node
            elif node.get("/Subtype") == "/Widget" and parent is None:
                value_chars += _length(node.get("/V"))
                if value_chars > MAX_PDF_FIELD_VALUE_CHARS:
                    raise FormUnreadableError(VALUES_TOO_LONG)
                value = _text_of(node.get("/V"))
            if node.get("/Subtype") == "/Widget":
                form.widgets[key] = _Widget(parent or node, kind, flags, value)
            kids = _array(node.get("/Kids"))
            found += len(kids)
            if found > MAX_PDF_FORM_FIELDS:
                raise FormUnreadableError(TOO_MANY_FIELDS)
            stack.extend(
                (kid, name, parent, value, kind, flags, depth + 1) for kid in reversed(kids)
            )
        return form


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


class _ContentBudget:
    """What is left of MAX_PDF_CONTENT_BYTES for the pages still to read."""

    def __init__(self) -> None:
        self.left = MAX_PDF_CONTENT_BYTES
        self.exceeded = False

    def take(self, size: int) -> bool:
        if size > self.left:
            self.exceeded = True
            return False
        self.left -= size
        return True


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
