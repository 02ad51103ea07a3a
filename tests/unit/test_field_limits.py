# ruff: noqa: RUF001  (the look-alike digits are the point)
"""Values as the register can hold them: ASCII digits, dates in range, bounded lengths, so
a case always fits in one DynamoDB item; and output that a spreadsheet or a reader cannot
mistake for something else."""

from __future__ import annotations

import pytest

from infrastructure.samples import consent_fields, referral_fields
from shared.case import Case, CaseStatus, ConsentRecord
from shared.dates import DateFormatError, parse_uk_date
from shared.forms.consent import validate_consent
from shared.forms.fields import FormKind, RawForm
from shared.forms.reader import MAX_ANSWER_CHARS, MAX_LONG_ANSWER_CHARS
from shared.forms.referral import validate_referral
from shared.identifiers import is_valid_nhs_number
from shared.notices import child_details
from shared.panel_pack import panel_pack_csv
from shared.settings import Settings
from templates.forms.layout import LAYOUTS
from tests.conftest import NOW

DYNAMODB_ITEM_BYTES = 400 * 1024


def _referral(**overrides: str) -> RawForm:
    return RawForm(kind=FormKind.REFERRAL, fields=referral_fields(**overrides), source="test")


def _codes(form: RawForm) -> list[tuple[str, str | None]]:
    _, reasons = validate_referral(form, NOW.date(), Settings())
    return [(reason.code.value, reason.field) for reason in reasons]


@pytest.mark.parametrize(
    "digits",
    ["⁹⁴³⁴⁷⁶⁵⁹¹⁹", "⑨④③④⑦⑥⑤⑨①⑨", "٩٤٣٤٧٦٥٩١٩", "９４３４７６５９１９"],
)
def test_only_ascii_digits_make_an_nhs_number(digits: str) -> None:
    assert not is_valid_nhs_number(digits)
    assert _codes(_referral(child_nhs_number=digits)) == [
        ("NHS_NUMBER_INVALID", "child_nhs_number")
    ]


@pytest.mark.parametrize("text", ["٠٣/٠٤/٢٠١٢", "０３/０４/２０１２", "31/12/9999", "01/01/0001"])
def test_dates_are_ascii_and_in_a_sensible_range(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_uk_date(text)
    assert ("DATE_INVALID", "referral_date") in _codes(_referral(referral_date=text))


def test_an_answer_past_its_length_is_refused_by_name() -> None:
    codes = _codes(
        _referral(
            child_given_name="A" * (MAX_ANSWER_CHARS + 1),
            mental_health_concern="x" * (MAX_LONG_ANSWER_CHARS + 1),
        )
    )
    assert ("FIELD_INVALID", "child_given_name") in codes
    assert ("FIELD_INVALID", "mental_health_concern") in codes
    assert _codes(_referral(mental_health_concern="x" * 5_000_000)) == [
        ("FIELD_INVALID", "mental_health_concern")
    ]


def _longest(kind: FormKind, fields: dict[str, str]) -> RawForm:
    """Every free-text answer at its longest, in 4-byte characters."""
    layout = next(layout for layout in LAYOUTS if layout.form_id == kind.value)
    filled = dict(fields)
    for section in layout.sections:
        for field in section.fields:
            if field.type == "long":
                filled[field.name] = "\U0001f600" * MAX_LONG_ANSWER_CHARS
            elif field.type == "text" and field.name not in fields:
                filled[field.name] = "\U0001f600" * MAX_ANSWER_CHARS
    return RawForm(kind=kind, fields=filled, source="test")


def test_the_largest_case_the_forms_allow_fits_in_one_dynamodb_item() -> None:
    today = NOW.date()
    referral, problems = validate_referral(
        _longest(FormKind.REFERRAL, referral_fields()), today, Settings()
    )
    assert referral is not None, problems
    consent, problems = validate_consent(_longest(FormKind.CONSENT, consent_fields()), today)
    assert consent is not None, problems
    case = Case(
        case_id="DSR-AAAAAAAA",
        status=CaseStatus.ACTIVE,
        person_key="k",
        created_at=NOW,
        updated_at=NOW,
        referral=referral,
        consent=consent,
    )
    case.consent_history.append(ConsentRecord(consent=consent, recorded_at=NOW))
    size = len(case.model_dump_json().encode("utf-8"))
    assert size < DYNAMODB_ITEM_BYTES * 0.75, size


def test_values_are_clean_text() -> None:
    referral, problems = validate_referral(
        _referral(child_given_name="Am\x00ira\ud800", reason_for_referral="line one\nline two"),
        NOW.date(),
        Settings(),
    )
    assert referral is not None, problems
    assert referral.child.given_name == "Amira?"
    assert referral.reason_for_referral == "line one\nline two"  # free text keeps its lines


def test_csv_cells_and_email_lines_are_inert() -> None:
    referral, problems = validate_referral(
        _referral(
            child_given_name='=HYPERLINK("http://x.example","y")',
            child_family_name="Okafor\nNHS number: 000 000 0000",
        ),
        NOW.date(),
        Settings(),
    )
    assert referral is not None, problems
    case = Case(
        case_id="DSR-AAAAAAAA",
        status=CaseStatus.ACTIVE,
        person_key="k",
        created_at=NOW,
        updated_at=NOW,
        referral=referral,
    )
    csv_text = panel_pack_csv([case], NOW.date())
    row = csv_text.splitlines()[1]
    assert row.split(",")[2].startswith("'=") or "\"'=HYPERLINK" in row
    details = child_details(case).splitlines()
    assert [line for line in details if line.startswith("NHS number:")] == [
        f"NHS number: {referral.child.nhs_number}"
    ]


@pytest.mark.parametrize(
    ("written", "rating"),
    [("A", "Amber"), ("r", "Red"), ("Green - a mild case", "Green"), ("Red (crisis)", "Red")],
)
def test_a_rating_may_be_a_drop_downs_letter_but_a_letter_is_never_a_word(
    written: str, rating: str
) -> None:
    referral, problems = validate_referral(_referral(suggested_rag=written), NOW.date(), Settings())
    assert referral is not None, problems
    assert referral.suggested_rating.value == rating
    assert ("FIELD_INVALID", "suggested_rag") in _codes(_referral(suggested_rag="A or G"))


@pytest.mark.parametrize("written", ["PR", "Parent/carer", "Person with parental responsibility"])
def test_consent_basis_synonyms(written: str) -> None:
    consent, problems = validate_consent(
        RawForm(kind=FormKind.CONSENT, fields=consent_fields(consent_basis=written), source="t"),
        NOW.date(),
    )
    assert consent is not None, problems
    assert consent.basis.value == "parental_responsibility"
