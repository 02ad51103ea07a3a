"""Reading the raw fields of a form out of a PDF, and naming them canonically."""

from __future__ import annotations

import io
import json
import logging
import re
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict
from pypdf import PdfReader
from pypdf.errors import PyPdfError

# pypdf logs warnings about damaged files; a damaged form becomes a FORM_UNREADABLE reason
# instead, so those warnings would only be noise in the functions' logs.
logging.getLogger("pypdf").setLevel(logging.ERROR)


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
    """A document that should hold a form but cannot be read (corrupt, encrypted, ...)."""


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


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def _alias_data() -> dict[str, object]:
    data: dict[str, object] = json.loads(
        resources.files("shared.forms").joinpath("aliases.json").read_text("utf-8")
    )
    return data


def _table(entries: dict[str, list[str]]) -> dict[str, str]:
    return {_key(alias): canonical for canonical, aliases in entries.items() for alias in aliases}


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
        table[_key(canonical)] = canonical
    return table


def _printed_labels(form_id: str | None) -> dict[str, list[str]]:
    from templates.forms.layout import LAYOUTS

    return {
        field.name: [field.label.removesuffix(" (required)")]
        for layout in LAYOUTS
        if layout.form_id == form_id
        for section in layout.sections
        for field in section.fields
    }


def canonical_field_name(name: str, form_id: str | None = None) -> str:
    """The canonical name of a field, or the name itself (normalised) when it is unknown."""
    if name in alias_table(form_id).values():
        return name
    return alias_table(form_id).get(_key(name), name.strip().lower())


def canonical_fields(named: dict[str, str], form_id: str | None = None) -> dict[str, str]:
    return {canonical_field_name(name, form_id): value for name, value in named.items()}


def _value_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_value_text(part) for part in value)
    return str(value).strip()


def read_pdf_form(content: bytes, source: str) -> RawForm | None:
    """The form in a PDF, or None when the PDF has no DSR form fields (e.g. a letter).

    Raises FormUnreadableError when the PDF itself cannot be read.
    """
    try:
        reader = PdfReader(io.BytesIO(content))
        encrypted = reader.is_encrypted
        pdf_fields = {} if encrypted else reader.get_fields() or {}
        named = {name: _value_text(field.get("/V")) for name, field in pdf_fields.items()}
    except PyPdfError as error:
        raise FormUnreadableError("the PDF is damaged and cannot be opened") from error
    except Exception as error:
        raise FormUnreadableError("the PDF is damaged and cannot be opened") from error
    if encrypted:
        raise FormUnreadableError("the PDF is encrypted or password-protected")
    # Which form it is decides what an ambiguous name means, so: map, detect, map again.
    kind = detect_kind(canonical_fields(named))
    if kind is None:
        return None
    return RawForm(kind=kind, fields=canonical_fields(named, kind.value), source=source)


def detect_kind(fields: dict[str, str]) -> FormKind | None:
    """Which form this is: from `form_id`, else from the fields only one form has."""
    form_id = fields.get("form_id", "").strip().upper()
    for kind in FormKind:
        if form_id == kind.value:
            return kind
    scores = {kind: len(markers & fields.keys()) for kind, markers in _KIND_MARKERS.items()}
    best = max(scores, key=lambda kind: scores[kind])
    return best if scores[best] >= 2 else None


def is_ticked(value: str) -> bool:
    """A checkbox is ticked when its value is anything but `/Off` or empty."""
    cleaned = value.strip()
    return cleaned not in ("", "/Off", "Off", "/off", "off")
