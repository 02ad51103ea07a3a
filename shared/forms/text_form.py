"""Forms as text: `Label: value` lines typed into an email body, the rows of a Word table, or
the text layer of a printed (flattened) PDF, where label and value sit in two columns.

Labels go through the same alias table as PDF field names, so `NHS No.: 943 476 5919`,
`Child's D.O.B. - 03/04/2012` and `Forename(s)    Amira` all land on their canonical field.
Lines whose label is not a known field are ignored (greetings, signatures, printed guidance).
Checkboxes read Yes/No words and tick marks, before or after the label (`☒ Autism`,
`[x] Autism`, `Autism: Yes`). Indented lines continue the value above them, as a printed
long answer wraps. A text holding several forms is split at each form's heading.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from shared.forms.fields import (
    FormKind,
    RawForm,
    alias_table,
    detect_kinds,
    label_key,
    printed_labels_in_order,
)
from templates.forms.layout import LAYOUTS

# "Label: value", "Label - value", a tab, or the gap between a printed form's two columns.
_SEPARATOR = re.compile(r"\s*(?::|\s-\s|\t)\s*|\s{2,}")
_BULLET = re.compile(r"^\s*[-*\u2022]?\s*")
# A tick box printed before its label: "☒ Autism", "[x] Autism", "X  Autism".
_MARK = re.compile(r"^(\[\s*[xX✓✔]?\s*\]|\(\s*[xX]?\s*\)|[☒☑☐□■✓✔✗xX])\s+")
_UNTICKED = {
    "", "no", "n", "false", "none", "n/a", "na", "off", "/off", "-",
    "☐", "□", "[ ]", "[]", "( )", "()", "not ticked", "unticked",
}  # fmt: skip
_FORM_HEADING = re.compile(
    r"^\s*(?:(?:dynamic support register|dsr)\s*[-:\u2013]?\s*)?(?:form\s*id\s*:?\s*)?"
    r"(?:(?P<id>DSR-(?:REFERRAL|CONSENT|REVIEW|WITHDRAWAL)-\d)"
    r"|(?P<name>referral|consent|review outcome|withdrawal)(?:\s+form|\s+of\s+consent)?)\s*:?\s*$",
    re.IGNORECASE,
)
_NAMED = {
    "referral": FormKind.REFERRAL,
    "consent": FormKind.CONSENT,
    "review outcome": FormKind.REVIEW,
    "withdrawal": FormKind.WITHDRAWAL,
}


@cache
def _checkboxes() -> frozenset[str]:
    return frozenset(
        field.name
        for layout in LAYOUTS
        for section in layout.sections
        for field in section.fields
        if field.type == "check"
    )


@cache
def _known_labels(kind: FormKind | None) -> frozenset[str]:
    form_id = kind.value if kind else None
    return frozenset(alias_table(form_id)) | frozenset(printed_labels_in_order(form_id))


@dataclass
class _Line:
    label: str
    value: str
    ticks_only: bool  # a tick box or a bare label: nothing continues it
    column: int = 0  # where the value starts: a line indented to it continues the value


def _read_line(line: str, kind: FormKind | None) -> _Line | None:
    """The label and value of a line that starts with a known label, else None. The longest
    known label wins: `Diagnosis: Autism (ASC): Yes` is the field `Diagnosis: Autism (ASC)`."""
    text = _BULLET.sub("", line, count=1).strip()
    known = _known_labels(kind)
    for separator in reversed(list(_SEPARATOR.finditer(text))):
        label = text[: separator.start()].strip()
        if 0 < len(label) <= 80 and label_key(label) in known:
            value = text[separator.end() :].strip()
            column = line.find(value, line.find(label) + len(label)) if value else 0
            return _Line(label, value, ticks_only=False, column=column)
    mark = _MARK.match(text)
    label = text[mark.end() :] if mark else text
    if label_key(label) in known:
        # A label alone, or after its tick box: a checkbox, ticked when marked.
        ticked = mark is not None and mark.group(1).strip("[]() ") not in ("", "☐", "□")
        return _Line(label, "Yes" if ticked else "", ticks_only=True)
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip()) if line.strip() else 0


def _aligned(line: str, above: _Line) -> bool:
    # A printed long answer wraps to the column its first line started in.
    return abs(_indent(line) - above.column) <= 2


def _lines(text: str, kind: FormKind | None) -> list[_Line]:
    read: list[_Line] = []
    open_value: _Line | None = None  # the value an indented line would continue
    for line in text.splitlines():
        entry = _read_line(line, kind)
        bare = entry is None or (entry.ticks_only and not entry.value)
        if open_value is not None and bare and _indent(line) > 1 and _aligned(line, open_value):
            open_value.value += "\n" + line.strip()  # even "Social care" under "Services"
        elif entry is not None:
            read.append(entry)
            open_value = None if entry.ticks_only or not entry.value else entry
        elif line.strip():
            open_value = None
    return read


def _fields(lines: list[_Line], kind: FormKind | None) -> dict[str, str]:
    form_id = kind.value if kind else None
    aliases = alias_table(form_id)
    in_order = printed_labels_in_order(form_id)
    seen: Counter[str] = Counter()
    fields: dict[str, str] = {}
    for line in lines:
        key = label_key(line.label)
        if key in in_order:
            # A label the form prints more than once ("Name" of the parent, then of the
            # referrer) means its fields in the order the form prints them.
            names = in_order[key]
            if seen[key] >= len(names):
                continue
            name = names[seen[key]]
            seen[key] += 1
        else:
            name = aliases[key]
        if name in _checkboxes():
            ticked = line.value.strip().lower() not in _UNTICKED
            if ticked or name not in fields:
                fields[name] = "/Yes" if ticked else "/Off"
        elif not fields.get(name):
            fields[name] = line.value
    return fields


def _sections(text: str) -> list[tuple[FormKind | None, str]]:
    """The text cut at each form heading (`Referral form`, `Form id: DSR-CONSENT-1`, ...)."""
    sections: list[tuple[FormKind | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        heading = _FORM_HEADING.match(line)
        if heading:
            kind = (
                FormKind(heading.group("id").upper())
                if heading.group("id")
                else _NAMED[heading.group("name").lower()]
            )
            sections.append((kind, []))
        else:
            sections[-1][1].append(line)
    return [(kind, "\n".join(lines)) for kind, lines in sections if lines or kind]


def read_text_forms(text: str, source: str) -> list[RawForm]:
    """Every DSR form in the text (none when it holds no form)."""
    forms = []
    for heading_kind, section in _sections(text):
        # Which form it is decides what a printed label means, so: read, detect, read again.
        # Without a heading, one text may hold a referral and a consent together.
        kinds = (
            [heading_kind] if heading_kind else detect_kinds(_fields(_lines(section, None), None))
        )
        for kind in kinds:
            fields = _fields(_lines(section, kind), kind)
            if fields:
                forms.append(RawForm(kind=kind, fields=fields, source=source))
    return forms
