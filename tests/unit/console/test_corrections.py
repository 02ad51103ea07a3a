"""Corrections beyond the child's names, date of birth and postcode (#11 walkthrough 2,
finding 11): the address, gender and the referrer's contact details, each checked as the
referral form checks it, the old value kept, the audit line naming the field only; the NHS
number still refused. On cases the intake really made (real PDFs, no AWS)."""

from __future__ import annotations

import pytest

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import Actor, AuditEntry, Case, StaffRole
from shared.console.corrections import CORRECTABLE, NHS_NUMBER_REFUSAL, correct_field
from shared.console.subject_access import correction_words
from shared.console.wording import audit_words, correction_label
from shared.errors import ActionRefusedError
from shared.outcome import Outcome, ReasonCode
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

COORDINATOR = Actor(sub="sub-coord-c", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
TOKEN = "form-token-corrections-0123"
REASON = "The referrer phoned: the form was out of date"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def accepted(desk: Desk, seed: int, **fields: str) -> Case:
    person = child(seed)
    decision = desk.receive(
        email(("r.pdf", referral_pdf(**person, **fields)), ("c.pdf", consent_pdf(**person)))
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


def correct(case: Case, settings: Settings, field: str, value: str) -> Case:
    change = correct_field(case, field, value, REASON, actor=COORDINATOR, token=TOKEN,
                           settings=settings, now=NOW)  # fmt: skip
    assert change.label == f"console:correct:{field}" and change.effects == []
    assert value.strip() not in change.label or not value.strip()  # the label holds no value
    assert change.case is not None
    return change.case


@pytest.mark.parametrize(
    ("field", "typed", "held", "old", "read"),
    [
        ("address", "  7 Larch Walk,\nBromley ", "child_address", "12 Example Road, Bromley",
         "7 Larch Walk,\nBromley"),
        ("gender", " Non-binary ", "child_gender", "Female", "Non-binary"),
        ("referrer_phone", "020 3000 0000", "referrer_phone", "", "020 3000 0000"),
        ("referrer_name", " Dr Sam  Patel-Jones ", "referrer_name", "Dr Sam Patel",
         "Dr Sam Patel-Jones"),
        ("referrer_organisation", "Oxleas CAMHS", "referrer_organisation", "Bromley CAMHS",
         "Oxleas CAMHS"),
        ("referrer_email", "Sam.Patel2@NHS.net", "referrer_email", "sam.patel@nhs.net",
         "sam.patel2@nhs.net"),
    ],
)  # fmt: skip
def test_the_address_gender_and_referrers_details_are_corrected_the_old_value_kept(
    desk: Desk, settings: Settings, field: str, typed: str, held: str, old: str, read: str
) -> None:
    case = accepted(desk, 1401 + list(CORRECTABLE).index(field))
    corrected = correct(case, settings, field, typed)
    assert corrected.referral is not None and case.referral is not None
    value = corrected.referral.details.get(held) or getattr(corrected.referral, held, None)
    assert value == read
    [fix] = corrected.corrections
    assert (fix.field, fix.old, fix.new, fix.reason) == (field, old, read, REASON)
    # Nothing else of the referral moved; the child is as they were.
    others = {name for name in type(case.referral).model_fields} - {held, "details"}
    assert all(getattr(corrected.referral, n) == getattr(case.referral, n) for n in others)
    assert corrected.child == case.child


def test_an_optional_answer_may_be_cleared_a_required_one_may_not(
    desk: Desk, settings: Settings
) -> None:
    case = accepted(desk, 1411)
    cleared = correct(case, settings, "gender", "   ")
    assert cleared.referral is not None and "child_gender" not in cleared.referral.details
    [fix] = cleared.corrections
    assert (fix.old, fix.new) == ("Female", "")
    assert correction_words(fix).startswith("Gender corrected from 'Female' to blank on ")
    for required in ("referrer_name", "referrer_email"):
        with pytest.raises(ActionRefusedError) as refused:
            correct(case, settings, required, "  ")
        assert {r.code for r in refused.value.reasons} == {ReasonCode.FIELD_MISSING}


@pytest.mark.parametrize(
    ("field", "value", "code", "where"),
    [
        ("referrer_email", "sam.patel at nhs.net", ReasonCode.FIELD_INVALID, "referrer_email"),
        ("referrer_phone", "0" * 201, ReasonCode.FIELD_INVALID, "referrer_phone"),
        ("gender", "x" * 201, ReasonCode.FIELD_INVALID, "child_gender"),
        ("address", "x" * 4001, ReasonCode.FIELD_INVALID, "child_address"),
        # A professional's referral (an nhs.net referrer) must name the organisation.
        ("referrer_organisation", " ", ReasonCode.FIELD_MISSING, "referrer_organisation"),
    ],
)
def test_each_is_checked_as_the_referral_form_checks_it(
    desk: Desk, settings: Settings, field: str, value: str, code: ReasonCode, where: str
) -> None:
    case = accepted(desk, 1412)
    with pytest.raises(ActionRefusedError) as refused:
        correct(case, settings, field, value)
    assert [(r.code, r.field) for r in refused.value.reasons] == [(code, where)]
    assert str(refused.value) == "invalid"
    if value.strip():  # the page is told what is wrong, never shown the value again
        assert all(value.strip() not in r.message for r in refused.value.reasons)


def test_a_familys_referral_may_have_its_organisation_cleared(
    desk: Desk, settings: Settings
) -> None:
    """A family's own referral needs no organisation, as on the form."""
    case = accepted(desk, 1413, referrer_email="jo.rowan@example.org", referrer_organisation="")
    corrected = correct(case, settings, "referrer_organisation", "Rowan family")
    cleared = correct(corrected, settings, "referrer_organisation", "")
    assert cleared.referral is not None and cleared.referral.referrer_organisation == ""


def test_the_nhs_number_is_still_refused_and_the_page_says_why(
    desk: Desk, settings: Settings
) -> None:
    case = accepted(desk, 1414)
    with pytest.raises(ActionRefusedError) as refused:
        correct(case, settings, "nhs_number", "9434765919")
    assert refused.value.reasons[0].message == NHS_NUMBER_REFUSAL
    assert "how the register finds the child" in NHS_NUMBER_REFUSAL
    assert "Withdraw" in NHS_NUMBER_REFUSAL and "referred again" in NHS_NUMBER_REFUSAL
    assert "nhs_number" not in CORRECTABLE


def test_the_audit_line_and_the_page_name_the_field_in_words() -> None:
    def line(field: str) -> str:
        return audit_words(AuditEntry(at=NOW, event_id="e", outcome=None, reason_codes=(),
                                      case_id="DSR-X", label=f"console:correct:{field}"))  # fmt: skip

    assert line("referrer_email") == "Corrected referrer's email"
    assert line("address") == "Corrected address"
    assert line("given_name") == "Corrected given name(s)"
    assert {correction_label(field) for field in CORRECTABLE} == {
        "Given name(s)", "Family name", "Date of birth", "Postcode", "Address", "Gender",
        "Referrer's name", "Referrer's organisation", "Referrer's email", "Referrer's phone",
    }  # fmt: skip
