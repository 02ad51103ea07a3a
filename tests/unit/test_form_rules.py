"""Every rule of forms.md for the referral and consent forms, one reason code each."""

from datetime import date, timedelta

import pytest

from infrastructure.samples import TICK, consent_fields, referral_fields, uk, years_ago
from shared.forms.consent import ConsentBasis, identity_mismatches, validate_consent
from shared.forms.fields import FormKind, RawForm
from shared.forms.referral import validate_referral
from shared.rating import Rating
from shared.settings import Settings

TODAY = date.today()


def referral(**overrides: str) -> RawForm:
    return RawForm(
        kind=FormKind.REFERRAL, fields=referral_fields(**overrides), source="attachment 1"
    )


def consent(**overrides: str) -> RawForm:
    return RawForm(kind=FormKind.CONSENT, fields=consent_fields(**overrides), source="attachment 2")


def codes(reasons: list) -> set[tuple[str, str | None]]:  # type: ignore[type-arg]
    return {(reason.code.value, reason.field) for reason in reasons}


def test_a_complete_referral_is_valid() -> None:
    result, reasons = validate_referral(referral(suggested_rag="rEd"), TODAY, Settings())
    assert reasons == []
    assert result is not None
    assert result.suggested_rating is Rating.RED
    assert result.child.nhs_number == "9434765919"
    assert result.postcode == "BR1 3AA"
    assert result.risk_factors == ("risk_escalating_behaviour", "risk_crisis_last_year")
    assert result.services_involved == ("CAMHS", "Social care")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"child_given_name": ""}, ("FIELD_MISSING", "child_given_name")),
        ({"child_nhs_number": "943 476 5918"}, ("NHS_NUMBER_INVALID", "child_nhs_number")),
        ({"child_date_of_birth": "12/31/2012"}, ("DATE_INVALID", "child_date_of_birth")),
        (
            {"child_date_of_birth": uk(TODAY + timedelta(days=1))},
            ("DATE_INVALID", "child_date_of_birth"),
        ),
        ({"child_date_of_birth": uk(years_ago(18))}, ("NOT_ELIGIBLE_AGE", "child_date_of_birth")),
        ({"child_postcode": ""}, ("FIELD_MISSING", "child_postcode")),
        ({"child_postcode": "NOT A CODE"}, ("FIELD_INVALID", "child_postcode")),
        ({"diagnosis_autism": "/Off"}, ("NOT_ELIGIBLE_DIAGNOSIS", "diagnosis_learning_disability")),
        (
            {"diagnosis_autism": "/Off", "diagnosis_awaiting_assessment": TICK},
            ("NOT_ELIGIBLE_DIAGNOSIS", "diagnosis_learning_disability"),
        ),
        ({"mental_health_concern": "  "}, ("NOT_ELIGIBLE_NO_CONCERN", "mental_health_concern")),
        ({"suggested_rag": "Purple"}, ("FIELD_INVALID", "suggested_rag")),
        ({"suggested_rag": ""}, ("FIELD_MISSING", "suggested_rag")),
        ({"reason_for_referral": ""}, ("FIELD_MISSING", "reason_for_referral")),
        ({"referrer_organisation": ""}, ("FIELD_MISSING", "referrer_organisation")),
        ({"referrer_email": "not-an-email"}, ("FIELD_INVALID", "referrer_email")),
        ({"referral_date": uk(TODAY + timedelta(days=2))}, ("DATE_INVALID", "referral_date")),
    ],
)
def test_each_referral_rule(overrides: dict[str, str], expected: tuple[str, str]) -> None:
    result, reasons = validate_referral(referral(**overrides), TODAY, Settings())
    assert result is None
    assert expected in codes(reasons)


def test_every_problem_is_listed_at_once() -> None:
    _, reasons = validate_referral(
        referral(child_nhs_number="1234567890", diagnosis_autism="/Off", referrer_name=""),
        TODAY,
        Settings(),
    )
    assert {"NHS_NUMBER_INVALID", "NOT_ELIGIBLE_DIAGNOSIS", "FIELD_MISSING"} <= {
        r.code.value for r in reasons
    }


def test_age_limits_are_settings() -> None:
    kingston = Settings(minimum_age=14, maximum_age=17, area_name="Kingston and Richmond")
    _, reasons = validate_referral(referral(child_date_of_birth=uk(years_ago(13))), TODAY, kingston)
    assert ("NOT_ELIGIBLE_AGE", "child_date_of_birth") in codes(reasons)
    assert "Kingston and Richmond" in reasons[0].message
    result, reasons = validate_referral(
        referral(child_date_of_birth=uk(years_ago(14))), TODAY, kingston
    )
    assert reasons == [] and result is not None


def test_messages_never_echo_the_values() -> None:
    _, reasons = validate_referral(
        referral(
            child_nhs_number="943 476 5918",
            child_date_of_birth="31/02/2012",
            child_postcode="ZZ99 ZZZ",
        ),
        TODAY,
        Settings(),
    )
    text = " ".join(reason.message for reason in reasons)
    for value in ("943 476 5918", "9434765918", "31/02/2012", "ZZ99", "Amira", "Okafor"):
        assert value not in text


def test_parental_responsibility_consent_is_valid() -> None:
    result, reasons = validate_consent(consent(), TODAY)
    assert reasons == []
    assert result is not None and result.basis is ConsentBasis.PARENTAL_RESPONSIBILITY
    assert result.share_with == ("share_with_health",)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"consent_basis": ""}, ("FIELD_MISSING", "consent_basis")),
        ({"consent_basis": "neighbour"}, ("FIELD_INVALID", "consent_basis")),
        (
            {"consent_basis": "self", "capacity_confirmed": TICK},
            ("CONSENT_INVALID", "consent_basis"),
        ),
        (
            {"consent_basis": "self", "child_date_of_birth": uk(years_ago(17))},
            ("CONSENT_INVALID", "capacity_confirmed"),
        ),
        (
            {"consenting_person_relationship": ""},
            ("CONSENT_INVALID", "consenting_person_relationship"),
        ),
        ({"consenting_person_name": ""}, ("FIELD_MISSING", "consenting_person_name")),
        ({"fact_sheet_given": "/Off"}, ("CONSENT_INVALID", "fact_sheet_given")),
        ({"consent_basis": "best_interest"}, ("CONSENT_INVALID", "best_interest_reason")),
        ({"consent_date": uk(TODAY + timedelta(days=1))}, ("DATE_INVALID", "consent_date")),
        ({"child_nhs_number": "0000000001"}, ("NHS_NUMBER_INVALID", "child_nhs_number")),
    ],
)
def test_each_consent_rule(overrides: dict[str, str], expected: tuple[str, str]) -> None:
    result, reasons = validate_consent(consent(**overrides), TODAY)
    assert result is None
    assert expected in codes(reasons)


def test_self_consent_from_16_with_capacity() -> None:
    sixteen = uk(years_ago(16))
    result, reasons = validate_consent(
        consent(
            child_date_of_birth=sixteen,
            consent_basis="Self",
            capacity_confirmed=TICK,
            consenting_person_relationship="",
        ),
        TODAY,
    )
    assert reasons == [] and result is not None and result.basis is ConsentBasis.SELF


def test_self_consent_age_is_on_the_consent_date() -> None:
    # 16 today, but the form was signed a month before the 16th birthday.
    born = years_ago(16, days=10)
    _, reasons = validate_consent(
        consent(
            child_date_of_birth=uk(born),
            consent_basis="self",
            capacity_confirmed=TICK,
            consent_date=uk(TODAY - timedelta(days=30)),
        ),
        TODAY,
    )
    assert ("CONSENT_INVALID", "consent_basis") in codes(reasons)


def test_best_interest_needs_no_fact_sheet() -> None:
    result, reasons = validate_consent(
        consent(
            consent_basis="best interest",
            fact_sheet_given="/Off",
            consenting_person_name="",
            consenting_person_relationship="",
            best_interest_decision_maker="Dr Jones",
            best_interest_decision_role="Consultant",
            best_interest_reason="Significant risk; no consent",
        ),
        TODAY,
    )
    assert reasons == [] and result is not None and result.basis is ConsentBasis.BEST_INTEREST


def test_identity_match_ignores_case_spaces_and_hyphens_only() -> None:
    ref, _ = validate_referral(referral(), TODAY, Settings())
    same, _ = validate_consent(
        consent(child_given_name="AMIRA ", child_family_name="okafor lewis"), TODAY
    )
    assert ref and same
    assert identity_mismatches(ref.child, same.child) == []
    other, _ = validate_consent(
        consent(child_date_of_birth=uk(years_ago(12)), child_family_name="Okafor"), TODAY
    )
    assert other
    assert {r.field for r in identity_mismatches(ref.child, other.child)} == {
        "child_date_of_birth",
        "child_family_name",
    }


@pytest.mark.parametrize(
    ("written", "rating"),
    [
        ("Red (crisis)", Rating.RED),
        ("amber - urgent", Rating.AMBER),
        ("GREEN", Rating.GREEN),
        (" blue ", Rating.BLUE),
    ],
)
def test_a_rating_with_a_gloss_reads_as_its_first_word(written: str, rating: Rating) -> None:
    result, reasons = validate_referral(referral(suggested_rag=written), TODAY, Settings())
    assert reasons == [] and result is not None and result.suggested_rating is rating


@pytest.mark.parametrize("written", ["Red/Amber", "between amber and red", "urgent", "R or A"])
def test_an_ambiguous_rating_is_refused(written: str) -> None:
    _, reasons = validate_referral(referral(suggested_rag=written), TODAY, Settings())
    assert ("FIELD_INVALID", "suggested_rag") in codes(reasons)
