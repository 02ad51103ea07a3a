"""The fields of a fillable PDF form: its field tree (/AcroForm /Fields) walked once, without
recursion, into each field's value by its full name and each widget (a field's box on a page)
with the field it shows; refused past the limits below. Also the small readers of PDF objects
the rest of the PDF reading shares (an object's identity, a dictionary, an array, a value's
text and its length), none trusting an object to be what it should be, or small.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    PdfObject,
    StreamObject,
    create_string_object,
)

from shared.forms.fields import FormUnreadableError

MAX_PDF_FORM_FIELDS = 2_000
"""The most entries (fields and their widgets) a fillable form's field tree may hold; our
referral has about a hundred, the largest official forms a few hundred."""

MAX_PDF_FIELD_DEPTH = 32
"""How deeply fields may nest (`section.part.field` is three deep)."""

MAX_PDF_FIELD_NAME_CHARS = 1_000
"""The longest full field name (`topmostSubform[0].Page1[0].NHSNumber[0]` is 40)."""

MAX_PDF_FIELD_VALUE_CHARS = 1_000_000
"""The most text all of a form's field values may hold together (a filled referral holds a
few thousand characters)."""

TOO_MANY_FIELDS = f"is a PDF form with more than {MAX_PDF_FORM_FIELDS:,} fields"
FIELDS_TOO_DEEP = f"is a PDF form with fields nested more than {MAX_PDF_FIELD_DEPTH} deep"
NAME_TOO_LONG = (
    f"is a PDF form with a field name longer than {MAX_PDF_FIELD_NAME_CHARS:,} characters"
)
VALUES_TOO_LONG = (
    f"is a PDF form whose fields hold more than {MAX_PDF_FIELD_VALUE_CHARS:,} characters"
)


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
                if kind == "/Btn" and not value and "/T" not in node and name in form.values:
                    # A radio group or tick box whose chosen state is only on its widget (its
                    # /AS), as some writers leave it: the group's value is that state.
                    state = _name(node.get("/AS"))
                    if state not in ("", "/Off"):
                        form.values[name] = value = state
            kids = _array(node.get("/Kids"))
            found += len(kids)
            if found > MAX_PDF_FORM_FIELDS:
                raise FormUnreadableError(TOO_MANY_FIELDS)
            stack.extend(
                (kid, name, parent, value, kind, flags, depth + 1) for kid in reversed(kids)
            )
        return form
