"""The blank DSR forms a rejection attaches, so the sender can fill in the right one.

The outbox names them (`EmailEffect.blank_forms`); the delivery reads the PDFs from the
`templates.forms` package (which the Lambda layer ships) when it sends the email.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from shared.forms.fields import FormKind

REFERRAL_FORM = "dsr-referral-form.pdf"
CONSENT_FORM = "dsr-consent-form.pdf"
REVIEW_FORM = "dsr-review-outcome-form.pdf"
WITHDRAWAL_FORM = "dsr-withdrawal-form.pdf"
BLANK_FORMS = (REFERRAL_FORM, CONSENT_FORM, REVIEW_FORM, WITHDRAWAL_FORM)

_BY_KIND = {
    FormKind.REFERRAL: (REFERRAL_FORM, CONSENT_FORM),
    FormKind.CONSENT: (REFERRAL_FORM, CONSENT_FORM),
    FormKind.REVIEW: (REVIEW_FORM,),
    FormKind.WITHDRAWAL: (WITHDRAWAL_FORM,),
}


@dataclass(frozen=True)
class BlankForm:
    """One blank form to attach, under its own name."""

    filename: str
    content: bytes


def blank_forms_for(form_ids: list[str | None]) -> tuple[str, ...]:
    """The blank forms for problems with these forms (`Reason.form`): the referral and
    consent forms for theirs, or for problems naming no form (no form found, a file that
    could not be read); the review outcome or withdrawal form for theirs."""
    names: list[str] = []
    for form_id in form_ids or [None]:
        try:
            kind = FormKind(form_id) if form_id else FormKind.REFERRAL
        except ValueError:
            kind = FormKind.REFERRAL
        names += _BY_KIND[kind]
    return tuple(name for name in BLANK_FORMS if name in names)


def read_blank_form(filename: str) -> BlankForm:
    """The blank form's PDF; only the forms named above (never a path from elsewhere)."""
    if filename not in BLANK_FORMS:
        raise ValueError(f"no such blank form: {filename[:80]!r}")
    content = resources.files("templates.forms").joinpath(filename).read_bytes()
    return BlankForm(filename=filename, content=content)
