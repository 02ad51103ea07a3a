"""The referral form's "Organisation" is asked of a professional referrer only: required when
the email comes from an allowed domain and the referrer the form names writes from one too;
a family or young person (a self-referral from their own address, or their form sent on by
a professional) may leave it blank (#11, finding 7)."""

from __future__ import annotations

import pytest

from infrastructure.samples import consent_pdf, email, referral_fields, referral_pdf
from shared.case import EmailEffect
from shared.forms.fields import FormKind, RawForm
from shared.forms.referral import from_a_professional, validate_referral
from shared.notices import child_details
from shared.outcome import Outcome
from shared.settings import Settings
from templates.forms.layout import REFERRAL
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

FAMILY = {
    "referrer_name": "Grace Okafor",
    "referrer_role": "Mother",
    "referrer_organisation": "",
    "referrer_email": "grace.okafor@gmail.com",
}


def _validate(sender: str | None, **overrides: str) -> list[tuple[str, str | None]]:
    form = RawForm(kind=FormKind.REFERRAL, fields=referral_fields(**overrides), source="a")
    _, reasons = validate_referral(form, NOW.date(), Settings(), sender=sender)
    return [(r.code.value, r.field) for r in reasons]


@pytest.mark.parametrize(
    ("sender", "referrer_email", "required"),
    [
        ("sam.patel@nhs.net", "sam.patel@nhs.net", True),  # a professional
        ("worker@bromley.gov.uk", "worker@bromley.gov.uk", True),  # allowed, not secure
        (None, "sam.patel@nhs.net", True),  # the sender not known: the form's referrer
        ("grace.okafor@gmail.com", "grace.okafor@gmail.com", False),  # a self-referral
        ("grace.okafor@gmail.com", "sam.patel@nhs.net", False),  # sent by the family
        ("sam.patel@nhs.net", "grace.okafor@gmail.com", False),  # the family's form sent on
        ("someone@school.org.uk", "someone@school.org.uk", False),  # outside allowed domains
    ],
)
def test_the_organisation_is_required_of_a_professional_only(
    sender: str | None, referrer_email: str, required: bool
) -> None:
    assert from_a_professional(referrer_email, sender, Settings()) is required
    missing = ("FIELD_MISSING", "referrer_organisation")
    reasons = _validate(sender, referrer_email=referrer_email, referrer_organisation="")
    assert (missing in reasons) is required
    assert reasons == ([missing] if required else [])
    # Given, it is kept either way.
    assert _validate(sender, referrer_email=referrer_email) == []


def test_a_familys_referral_keeps_a_blank_organisation_and_reads_plainly() -> None:
    form = RawForm(kind=FormKind.REFERRAL, fields=referral_fields(**FAMILY), source="a")
    referral, reasons = validate_referral(
        form, NOW.date(), Settings(), sender="grace.okafor@gmail.com"
    )
    assert reasons == [] and referral is not None
    assert referral.referrer_organisation == ""


def test_the_form_says_who_leaves_the_organisation_blank() -> None:
    [field] = [f for f in REFERRAL.fields() if f.name == "referrer_organisation"]
    assert not field.required  # not starred: required of a professional only
    assert "leave blank if you are the child's family or the young person" in field.hint
    [section] = [s for s in REFERRAL.sections if s.title == "6. Referrer"]
    assert "a professional's organisation" in section.guidance


def test_a_professional_leaving_it_blank_is_still_told(settings: Settings) -> None:
    decision = Desk(settings).receive(
        email(("r.pdf", referral_pdf(referrer_organisation="")), ("c.pdf", consent_pdf()))
    )
    assert decision.outcome is Outcome.REJECTED
    assert [(r.code.value, r.field) for r in decision.reasons] == [
        ("FIELD_MISSING", "referrer_organisation")
    ]


def test_a_familys_form_sent_on_by_a_professional_is_accepted(settings: Settings) -> None:
    """A social worker emails the family's own form (the mother the referrer, no
    organisation): accepted; the coordinators read the referrer without an empty part."""
    decision = Desk(settings).receive(
        email(
            ("r.pdf", referral_pdf(**FAMILY)),
            ("c.pdf", consent_pdf()),
            sender="k.mills@bromley.gov.uk",
        )
    )
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None
    details = child_details(decision.case)
    assert "Referrer: Grace Okafor (grace.okafor@gmail.com)" in details
    # The sender is outside the secure domains: their answer has no details of the child.
    [answer] = [e for e in decision.effects if isinstance(e, EmailEffect)
                and e.to == ("k.mills@bromley.gov.uk",)]  # fmt: skip
    assert "Grace" not in answer.body and "Okafor" not in answer.body
