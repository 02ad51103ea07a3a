"""Forms typed as text: `Label: value` lines, as referrers type a form into an email body.

Labels go through the same alias table as PDF field names, so `NHS No.: 943 476 5919`,
`Child's D.O.B. - 03/04/2012` and `Forename(s): Amira` all land on their canonical field.
Lines whose label is not a known field are ignored (greetings, signatures). Checkbox fields
read Yes/No words; a body holding several forms is split at each form's heading.
"""

from __future__ import annotations

import re
from functools import cache

from shared.forms.fields import (
    FormKind,
    RawForm,
    alias_table,
    canonical_fields,
    detect_kind,
)
from templates.forms.layout import LAYOUTS

_SEPARATOR = re.compile(r"\s*(?::|\s-\s|\t)\s*")  # "Label: value", "Label - value", tabs
_BULLET = re.compile(r"^\s*[-*\u2022]?\s*")
_UNTICKED = {"", "no", "n", "false", "none", "n/a", "na", "☐", "[ ]", "[]", "off", "/off", "-"}
_FORM_HEADING = re.compile(
    r"^\s*(?:form\s*id\s*:\s*)?(?:(?P<id>DSR-(?:REFERRAL|CONSENT|REVIEW|WITHDRAWAL)-\d)"
    r"|(?:dsr\s+)?(?P<name>referral|consent|review outcome|withdrawal)(?:\s+form)?)\s*:?\s*$",
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


def _known(label: str, kind: FormKind | None) -> bool:
    return re.sub(r"[^a-z0-9]", "", label.lower()) in alias_table(kind.value if kind else None)


def _split(line: str, kind: FormKind | None) -> tuple[str, str] | None:
    """(label, value) when the line starts with a known label and a separator. The longest
    known label wins: `Diagnosis: Autism (ASC): Yes` is the field `Diagnosis: Autism (ASC)`."""
    text = _BULLET.sub("", line, count=1)
    for separator in reversed(list(_SEPARATOR.finditer(text))):
        label = text[: separator.start()].strip()
        if 0 < len(label) <= 60 and _known(label, kind):
            return label, text[separator.end() :].strip()
    return None


def _sections(text: str) -> list[tuple[FormKind | None, list[str]]]:
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
    return [(kind, lines) for kind, lines in sections if lines or kind]


def _named_values(lines: list[str], kind: FormKind | None) -> dict[str, str]:
    named: dict[str, str] = {}
    for line in lines:
        pair = _split(line, kind)
        if pair is not None:
            named.setdefault(*pair)
    return named


def read_text_forms(text: str, source: str) -> list[RawForm]:
    """Every DSR form typed in the text (none when it holds no form)."""
    forms = []
    for heading_kind, lines in _sections(text):
        named = _named_values(lines, heading_kind)
        if not named:
            continue
        kind = heading_kind or detect_kind(canonical_fields(named))
        if kind is None:
            continue
        fields = canonical_fields(named, kind.value)
        for name in _checkboxes() & fields.keys():
            fields[name] = "/Off" if fields[name].strip().lower() in _UNTICKED else "/Yes"
        forms.append(RawForm(kind=kind, fields=fields, source=source))
    return forms
