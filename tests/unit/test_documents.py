"""Forms in other documents: printed (flattened) PDFs, other areas' forms printed from Word,
Word forms, scans, and a referral and consent combined in one document."""

from __future__ import annotations

import pytest

from infrastructure.sample_documents import printed_form, scanned_pdf, text_pdf, word_form
from infrastructure.samples import (
    child,
    consent_fields,
    email,
    referral_fields,
    uk,
    years_ago,
)
from shared.forms.documents import read_attachment
from shared.forms.fields import FormKind, FormUnreadableError, RawForm
from shared.forms.pdf import read_pdf_forms
from shared.forms.word import word_text
from shared.mail import Attachment
from shared.outcome import Outcome
from shared.settings import Settings
from templates.forms.layout import CONSENT, LAYOUTS, REFERRAL
from tests.unit.test_decisions import Desk

PERSON = child(81)
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def read_file(content_type: str, content: bytes) -> list[RawForm]:
    """The forms in one attachment of this type, as the intake reads it."""
    return read_attachment(Attachment(position=1, content_type=content_type, content=content))


def _answers(layout_id: str) -> dict[str, str]:
    """Every field of the form answered, ticks ticked, as someone filling it in fully would."""
    layout = next(layout for layout in LAYOUTS if layout.form_id == layout_id)
    answers = {}
    for section in layout.sections:
        for field in section.fields:
            if field.type == "check":
                answers[field.name] = "/Yes"
            elif field.options:  # a drop-down or radio group: its last option
                answers[field.name] = field.options[-1][0]
            elif "date" in field.name:
                answers[field.name] = uk(years_ago(0, days=3))
            else:
                answers[field.name] = f"Answer for {field.label.split('(')[0].strip()}"
    answers["child_nhs_number"] = PERSON["child_nhs_number"]
    return answers


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.form_id)
def test_each_printed_form_reads_back_every_answer(layout) -> None:  # type: ignore[no-untyped-def]
    answers = _answers(layout.form_id)
    [form] = read_pdf_forms(printed_form(layout, answers), "attachment 1")
    assert form.kind.value == layout.form_id
    # (A drop-down's or radio group's printed choice reads as the value it stores.)
    wrong = {
        name: form.fields.get(name)
        for name, value in answers.items()
        if form.fields.get(name) != value
    }
    assert wrong == {}


def test_printed_ticks_left_blank_read_as_unticked() -> None:
    [form] = read_pdf_forms(printed_form(REFERRAL, referral_fields()), "attachment 1")
    assert form.fields["diagnosis_autism"] == "/Yes"
    assert form.fields["diagnosis_learning_disability"] == "/Off"
    assert form.fields["services_involved"] == "CAMHS\nSocial care"  # a long answer over two lines


def test_a_printed_referral_and_consent_put_the_child_on_the_register(desk: Desk) -> None:
    decision = desk.receive(
        email(
            ("referral.pdf", printed_form(REFERRAL, referral_fields(**PERSON))),
            ("consent.pdf", printed_form(CONSENT, consent_fields(**PERSON))),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons


Rows = list[tuple[str, str] | str]
OTHER_AREA_REFERRAL: Rows = [
    "Anytown Integrated Care Board",
    "Dynamic Support Register - Referral form",
    "Section A: about the young person",
    ("Forename(s)", PERSON["child_given_name"]),
    ("Surname", PERSON["child_family_name"]),
    ("Child's D.O.B.", PERSON["child_date_of_birth"]),
    ("NHS No.", PERSON["child_nhs_number"]),
    ("Post code", "BR5 1AA"),
    ("Diagnosis: Autism (ASC)", "[X]"),
    ("Learning disability", "[ ]"),
    ("Mental health concern", "Self-harm escalating over the summer;\nCAMHS crisis team visiting."),
    ("Suggested RAG rating", "Red (crisis)"),
    ("Reason for referral", "Admission being considered this week."),
    "Section B: referrer",
    ("Referrer's name", "Alex Jones"),
    ("Organisation", "Anytown CAMHS"),
    ("Referrer's email", "alex.jones@nhs.net"),
    ("Date of referral", uk(years_ago(0, days=1))),
]
OTHER_AREA_CONSENT: Rows = [
    "Consent form",
    ("First name", PERSON["child_given_name"]),
    ("Last name", PERSON["child_family_name"]),
    ("Date of birth", PERSON["child_date_of_birth"]),
    ("NHS Number", PERSON["child_nhs_number"]),
    ("Basis of consent", "parental_responsibility"),
    ("Name of the person consenting", "Chris Jones"),
    ("Relationship to the child", "Father"),
    ("DSR fact sheet given", "Yes"),
    ("Date of consent", uk(years_ago(0, days=1))),
]


def test_another_areas_form_printed_from_word_is_read_by_its_labels() -> None:
    [form] = read_pdf_forms(text_pdf(OTHER_AREA_REFERRAL), "attachment 1")
    assert form.kind is FormKind.REFERRAL
    assert form.fields["child_nhs_number"] == PERSON["child_nhs_number"]
    assert form.fields["diagnosis_autism"] == "/Yes"
    assert form.fields["diagnosis_learning_disability"] == "/Off"
    assert form.fields["mental_health_concern"].endswith("CAMHS crisis team visiting.")
    assert form.fields["suggested_rag"] == "Red (crisis)"


def test_a_referral_and_consent_combined_in_one_pdf_are_each_handled(desk: Desk) -> None:
    combined = text_pdf(OTHER_AREA_REFERRAL + OTHER_AREA_CONSENT)
    assert [form.kind for form in read_pdf_forms(combined, "a")] == [
        FormKind.REFERRAL,
        FormKind.CONSENT,
    ]
    decision = desk.receive(email(("forms.pdf", combined), sender="alex.jones@nhs.net"))
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None and decision.case.rating is not None
    assert decision.case.rating.value == "Red"


def test_a_scan_is_unreadable_and_says_so(desk: Desk) -> None:
    with pytest.raises(FormUnreadableError, match="images only"):
        read_pdf_forms(scanned_pdf(), "attachment 1")
    decision = desk.receive(email(("scan.pdf", scanned_pdf())))
    assert decision.outcome is Outcome.REJECTED
    [reason] = decision.reasons
    assert reason.code.value == "FORM_UNREADABLE" and "scan" in reason.message


def test_a_scan_beside_valid_forms_does_not_block_them(desk: Desk) -> None:
    decision = desk.receive(
        email(
            ("referral.pdf", printed_form(REFERRAL, referral_fields(**PERSON))),
            ("scan.pdf", scanned_pdf()),
            ("consent.pdf", printed_form(CONSENT, consent_fields(**PERSON))),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons


def _word_referral(**controls: str | bool | None) -> bytes:
    table = [(label, answer.replace("[X]", "☒").replace("[ ]", "☐")) for label, answer in
             (row for row in OTHER_AREA_REFERRAL if isinstance(row, tuple))]  # fmt: skip
    return word_form(heading="DSR referral form", table=table, controls=list(controls.items()))


def test_a_word_form_is_read_from_its_table() -> None:
    text = word_text(_word_referral())
    assert f"NHS No.\t{PERSON['child_nhs_number']}" in text
    [form] = read_file(WORD, _word_referral())
    assert form.fields["diagnosis_autism"] == "/Yes"
    assert form.fields["diagnosis_learning_disability"] == "/Off"
    assert form.fields["mental_health_concern"] == (
        "Self-harm escalating over the summer;\nCAMHS crisis team visiting."
    )


def test_word_content_controls_are_read_and_placeholders_are_blank() -> None:
    consent = word_form(
        heading="Consent form",
        controls=[
            ("Given name", PERSON["child_given_name"]),
            ("Family name", PERSON["child_family_name"]),
            ("Date of birth", PERSON["child_date_of_birth"]),
            ("NHS number", PERSON["child_nhs_number"]),
            ("Consent basis", "self"),
            ("Capacity confirmed", True),
            ("DSR fact sheet given", False),
            ("Date of consent", None),
        ],
    )
    [form] = read_file(WORD, consent)
    assert form.kind is FormKind.CONSENT
    assert form.fields["capacity_confirmed"] == "/Yes"
    assert form.fields["fact_sheet_given"] == "/Off"
    assert form.fields["consent_date"] == ""  # "Click or tap here to enter text." is no date


def test_a_word_referral_and_consent_are_accepted(desk: Desk) -> None:
    consent = word_form(
        heading="Consent form",
        table=[row for row in OTHER_AREA_CONSENT if isinstance(row, tuple)],
    )
    decision = desk.receive(
        email(
            ("referral.docx", _word_referral(), WORD),
            ("consent.docx", consent, WORD),
            sender="alex.jones@nhs.net",
        )
    )
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons


def test_a_word_document_with_macros_is_refused(desk: Desk) -> None:
    macro = word_form(heading="Referral form", table=[("NHS No.", "1")], macros=True)
    decision = desk.receive(email(("referral.docm", macro, "application/octet-stream")))
    [reason] = decision.reasons
    assert reason.code.value == "FORM_UNREADABLE" and "macros" in reason.message


def test_a_printed_withdrawal_is_read() -> None:
    from templates.forms.layout import WITHDRAWAL

    fields = {
        "child_nhs_number": PERSON["child_nhs_number"],
        "child_date_of_birth": PERSON["child_date_of_birth"],
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(years_ago(0, days=1)),
    }
    [form] = read_pdf_forms(printed_form(WITHDRAWAL, fields), "a")
    assert form.kind is FormKind.WITHDRAWAL
    assert {name: form.fields[name] for name in fields} == fields


def test_a_long_document_is_read_for_forms_only_in_its_first_pages() -> None:
    from shared.forms.pdf import MAX_TEXT_PAGES

    filler: Rows = [f"Care plan paragraph {n}." for n in range(45 * MAX_TEXT_PAGES)]
    assert read_pdf_forms(text_pdf(OTHER_AREA_REFERRAL), "a") != []
    assert read_pdf_forms(text_pdf(filler + OTHER_AREA_REFERRAL), "a") == []


@pytest.mark.parametrize(
    ("content_type", "content", "outcome", "codes"),
    [
        (
            "application/vnd.oasis.opendocument.text",
            b"PK\x03\x04odt",
            Outcome.REJECTED,
            ["FORM_UNREADABLE"],
        ),
        ("application/ms-tnef", b"\x78\x9f\x3e\x22", Outcome.REJECTED, ["FORM_UNREADABLE"]),
        ("application/pkcs7-signature", b"0\x82\x05", Outcome.REJECTED, ["NO_FORM_FOUND"]),
        ("text/plain", b"Dear team, please call me.", Outcome.REJECTED, ["NO_FORM_FOUND"]),
    ],
)
def test_unknown_formats_are_unreadable_but_signatures_and_letters_are_not_forms(
    desk: Desk, content_type: str, content: bytes, outcome: Outcome, codes: list[str]
) -> None:
    decision = desk.receive(email(("file", content, content_type)))
    assert decision.outcome is outcome
    assert [reason.code.value for reason in decision.reasons] == codes
    if codes == ["FORM_UNREADABLE"]:
        assert content_type in decision.reasons[0].message


def test_a_form_typed_into_a_text_attachment_is_read() -> None:
    rows = [
        f"{label}: {value}"
        for label, value in (r for r in OTHER_AREA_CONSENT if isinstance(r, tuple))
    ]
    forms = read_file("text/plain", "\n".join(["Consent form", *rows]).encode())
    assert [form.kind for form in forms] == [FormKind.CONSENT]
