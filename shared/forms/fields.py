"""Reading the raw fields of a form out of a PDF, and naming them canonically."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict


class FormKind(StrEnum):
    REFERRAL = "DSR-REFERRAL-1"
    CONSENT = "DSR-CONSENT-1"
    REVIEW = "DSR-REVIEW-1"
    WITHDRAWAL = "DSR-WITHDRAWAL-1"

    @property
    def display_name(self) -> str:
        return {
            FormKind.REFERRAL: "referral form",
            FormKind.CONSENT: "consent form",
            FormKind.REVIEW: "review outcome form",
            FormKind.WITHDRAWAL: "withdrawal form",
        }[self]


class FormUnreadableError(Exception):
    """A document that may hold a form but cannot be read. Its message completes the
    sentence "Attachment 2 (image/jpeg) ...": what the document is, never what it holds."""


class RawForm(BaseModel):
    """A form's fields under their canonical names, values as the referrer typed them."""

    model_config = ConfigDict(frozen=True)

    kind: FormKind
    fields: dict[str, str]
    source: str  # the attachment's position and type, never its filename (it may name the child)


# Fields only one kind of form has: they tell the kind when `form_id` is missing.
_KIND_MARKERS = {
    FormKind.REFERRAL: {"mental_health_concern", "suggested_rag", "reason_for_referral"},
    FormKind.CONSENT: {"consent_basis", "consent_date"},
    FormKind.REVIEW: {"rag_rating", "outcome_summary", "review_date"},
    FormKind.WITHDRAWAL: {"withdrawn_by_name", "withdrawal_date"},
}


_NOTE = re.compile(r"\((?:required|optional)\)|\*", re.IGNORECASE)


def label_key(name: str) -> str:
    """A name or printed label as the alias table matches it: lower case, letters and digits
    only, without the `(required)` or `*` a printed form adds."""
    return re.sub(r"[^a-z0-9]", "", _NOTE.sub("", name).lower())


@cache
def _alias_data() -> dict[str, object]:
    data: dict[str, object] = json.loads(
        resources.files("shared.forms").joinpath("aliases.json").read_text("utf-8")
    )
    return data


def _table(entries: dict[str, list[str]]) -> dict[str, str]:
    return {
        label_key(alias): canonical for canonical, aliases in entries.items() for alias in aliases
    }


@cache
def alias_table(form_id: str | None = None) -> dict[str, str]:
    """Normalised name -> canonical field name: the common aliases, then the form's own,
    then the canonical names themselves (which always mean themselves)."""
    data = _alias_data()
    common = {name: value for name, value in data.items() if not name.startswith("_")}
    by_form = data.get("_by_form", {})
    assert isinstance(by_form, dict)
    table = _table(common)  # type: ignore[arg-type]
    # A form's own printed labels ("Relationship to the child") mean its own fields.
    table.update(_table(_printed_labels(form_id)))
    table.update(_table(by_form.get(form_id or "", {})))
    for canonical in [*common, *(name for form in by_form.values() for name in form)]:
        table[label_key(canonical)] = canonical
    return table


@cache
def _printed_fields(form_id: str | None) -> dict[str, tuple[str, ...]]:
    """Each printed label of the form -> the fields it labels, in the order printed."""
    from templates.forms.layout import LAYOUTS

    fields: dict[str, tuple[str, ...]] = {}
    for layout in LAYOUTS:
        if layout.form_id == form_id:
            for section in layout.sections:
                for field in section.fields:
                    key = label_key(field.label)
                    fields[key] = (*fields.get(key, ()), field.name)
    return fields


def _printed_labels(form_id: str | None) -> dict[str, list[str]]:
    """The labels that name one field only: these are aliases of that field."""
    return {names[0]: [key] for key, names in _printed_fields(form_id).items() if len(names) == 1}


def printed_labels_in_order(form_id: str | None) -> dict[str, tuple[str, ...]]:
    """Labels the form prints for several fields ("Name" of the parent, then of the
    referrer): each means the next of its fields, in the order the form prints them."""
    return {key: names for key, names in _printed_fields(form_id).items() if len(names) > 1}


# ----- sections: the same label means different fields in different parts of a form -----
#
# Other areas' forms print generic labels (`Name:`, `Email:`, `Tel/Mobile No:`) under
# section headings ("Child/young person details", "Parent/carer", "Referrer"). A heading is
# recognised by its words (`_sections` in aliases.json, the first section named wins), and
# a generic label (any label of `_by_section`) means the field its section's table names,
# or nothing when that table has none (a parent's date of birth is not the child's). Outside
# any recognised section a generic label means what the alias table and the form's own
# printed labels say. `_by_section_on_form` adjusts a section's table on one form (on the
# consent form the parent/carer's name is the consenting person's).

ISOLATED = ""
"""What a generic label means in a section whose table does not name it: nothing."""


def _phrase_pattern(phrase: str) -> str:
    words = [re.escape(word) for word in re.split(r"[\s/-]+", phrase.lower()) if word]
    return r"(?<![a-z0-9])" + r"[\s/-]+".join(words) + r"(?:s|'s|\u2019s|s')?(?![a-z0-9])"


@cache
def _section_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    sections = _alias_data().get("_sections", {})
    assert isinstance(sections, dict)
    return tuple(
        (name, re.compile("|".join(_phrase_pattern(phrase) for phrase in phrases)))
        for name, phrases in sections.items()
        if not name.startswith("_")
    )


def section_named(heading: str) -> str | None:
    """The section a heading's words name (`child`, `parent_carer`, `referrer`, `other`), or
    None when they name none."""
    text = heading.lower()
    for name, pattern in _section_patterns():
        if pattern.search(text):
            return name
    return None


@cache
def _section_tables(form_id: str | None) -> dict[str, dict[str, str]]:
    data = _alias_data()
    by_section = data.get("_by_section", {})
    on_form = data.get("_by_section_on_form", {})
    assert isinstance(by_section, dict) and isinstance(on_form, dict)
    tables = {
        name: _table(entries) for name, entries in by_section.items() if not name.startswith("_")
    }
    for name, entries in on_form.get(form_id or "", {}).items():
        tables[name] = {**tables.get(name, {}), **_table(entries)}
    for name, _ in _section_patterns():
        tables.setdefault(name, {})
    return tables


@cache
def generic_labels() -> frozenset[str]:
    """The labels whose meaning depends on their section (`Name`, `Email` ...), normalised."""
    data = _alias_data()
    by_section = data.get("_by_section", {})
    on_form = data.get("_by_section_on_form", {})
    assert isinstance(by_section, dict) and isinstance(on_form, dict)
    tables = [
        *by_section.values(),
        *(table for form in on_form.values() for table in form.values()),
    ]
    return frozenset(
        label_key(alias) for table in tables for aliases in table.values() for alias in aliases
    )


def field_in_section(key: str, section: str | None, form_id: str | None) -> str | None:
    """What a label (normalised) means in a section: its field, ISOLATED (nothing) for a
    generic label the section does not name, or None when the section does not decide (no
    section, or a label that means the same everywhere, like `Child's NHS number`)."""
    if section is None or key not in generic_labels():
        return None
    return _section_tables(form_id).get(section, {}).get(key, ISOLATED)


def canonical_field_name(name: str, form_id: str | None = None) -> str:
    """The canonical name of a field, or the name itself (normalised) when it is unknown."""
    if name in alias_table(form_id).values():
        return name
    return alias_table(form_id).get(label_key(name), name.strip().lower())


def canonical_fields(named: dict[str, str], form_id: str | None = None) -> dict[str, str]:
    return {canonical_field_name(name, form_id): value for name, value in named.items()}


def detect_kinds(fields: dict[str, str]) -> list[FormKind]:
    """Which forms these fields are: the one `form_id` names, and any other whose own fields
    are here too (a referral and consent combined in one document)."""
    form_id = fields.get("form_id", "").strip().upper()
    named = [kind for kind in FormKind if kind.value == form_id]
    return named + [
        kind
        for kind, markers in _KIND_MARKERS.items()
        if kind not in named and len(markers & fields.keys()) >= 2
    ]


def detect_kind(fields: dict[str, str]) -> FormKind | None:
    """Which form this is: from `form_id`, else from the fields only one form has."""
    kinds = detect_kinds(fields)
    return kinds[0] if kinds else None


_NOT_TICKED = frozenset({"", "off", "no", "n", "false", "0"})


def is_ticked(value: str) -> bool:
    """A checkbox is ticked when its value is anything but `/Off` or empty; a Yes/No radio
    group's `/No` (or a typed `No`, `False`) is not ticked either."""
    return value.strip().lstrip("/").lower() not in _NOT_TICKED
