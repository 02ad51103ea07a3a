"""Forms typed into the email body as `Label: value` lines, with other areas' labels."""

from __future__ import annotations

from email.message import EmailMessage

from infrastructure.samples import child, passing_auth, uk, years_ago
from shared.forms.fields import FormKind
from shared.forms.text_form import read_text_forms
from shared.outcome import Outcome
from tests.unit.test_decisions import Desk

PERSON = child(70)


def body_email(body: str, sender: str = "sam.patel@nhs.net") -> bytes:
    message = EmailMessage()
    message["Authentication-Results"] = f"amazonses.com; {passing_auth(sender)}"
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["From"] = sender
    message["To"] = "bromley.dsr@nhs.net"
    message["Subject"] = "DSR referral"
    message["Message-ID"] = f"<{abs(hash(body))}@nhs.net>"
    message.set_content(body)
    return bytes(message)


TYPED = f"""Hello DSR team,

Please see the referral and consent below, typed from our own forms.

REFERRAL FORM
Forename(s): {PERSON["child_given_name"]}
Surname: {PERSON["child_family_name"]}
Child's D.O.B.: {PERSON["child_date_of_birth"]}
NHS No.: {PERSON["child_nhs_number"]}
Post code: BR2 9AA
Diagnosis: Autism (ASC): Yes
Learning disability: No
Mental health concern: Escalating distress at home; two A&E attendances this month.
Suggested RAG rating: Amber
Reason for referral: Family placement at risk of breakdown.
Referrer's name: Dr Kim Lee
Organisation: Bromley CAMHS
Referrer's email: kim.lee@nhs.net
Date of referral: {uk(years_ago(0, days=2))}

Consent form
First name: {PERSON["child_given_name"]}
Last name: {PERSON["child_family_name"]}
Date of birth: {PERSON["child_date_of_birth"]}
NHS Number: {PERSON["child_nhs_number"]}
Basis of consent: parental_responsibility
Name of the person consenting: Pat Lee
Relationship to the child: Father
DSR fact sheet given: Yes
Date of consent: {uk(years_ago(0, days=2))}

Kind regards,
Kim
"""


def test_typed_forms_are_read_through_the_alias_table() -> None:
    forms = read_text_forms(TYPED, "the email body")
    assert [form.kind for form in forms] == [FormKind.REFERRAL, FormKind.CONSENT]
    referral, consent = forms
    assert referral.fields["child_nhs_number"] == PERSON["child_nhs_number"]
    assert referral.fields["diagnosis_autism"] == "/Yes"
    assert referral.fields["diagnosis_learning_disability"] == "/Off"
    assert referral.fields["suggested_rag"] == "Amber"
    assert consent.fields["fact_sheet_given"] == "/Yes"
    assert "hello dsr team" not in " ".join(referral.fields).lower()


def test_a_typed_referral_and_consent_put_the_child_on_the_register(desk: Desk) -> None:
    decision = desk.receive(body_email(TYPED))
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None and decision.case.referral is not None
    assert decision.case.referral.referrer_email == "kim.lee@nhs.net"


def test_a_typed_form_with_gaps_gets_every_reason(desk: Desk) -> None:
    partial = "\n".join(
        line for line in TYPED.splitlines() if not line.startswith(("NHS No.", "Post code"))
    )
    decision = desk.receive(body_email(partial))
    assert decision.outcome is Outcome.REJECTED
    assert {(r.code.value, r.field) for r in decision.reasons} >= {
        ("FIELD_MISSING", "child_nhs_number"),
        ("FIELD_MISSING", "child_postcode"),
    }


def test_an_ordinary_email_is_not_read_as_a_form(desk: Desk) -> None:
    decision = desk.receive(
        body_email("Hi,\nDate: tomorrow\nName: Sam\nCould you call me about a referral?\n")
    )
    assert [r.code.value for r in decision.reasons] == ["NO_FORM_FOUND"]


import pytest  # noqa: E402

from shared.settings import Settings  # noqa: E402


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


@pytest.mark.parametrize(
    ("name", "content", "content_type", "said"),
    [
        ("scan.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg", "an image"),
        (
            "form.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "application/octet-stream",
            "legacy Word",
        ),
        ("form.docm", b"PK\x03\x04word/vbaProject.bin", "application/octet-stream", "macros"),
        (
            "form.docx",
            b"PK\x03\x04word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "a damaged Word document",
        ),
    ],
)
def test_what_cannot_be_read_says_what_it_is_and_what_to_send(
    desk: Desk, name: str, content: bytes, content_type: str, said: str
) -> None:
    from infrastructure.samples import email

    decision = desk.receive(email((name, content, content_type)))
    assert decision.outcome is Outcome.REJECTED
    [reason] = decision.reasons
    assert reason.code.value == "FORM_UNREADABLE"
    assert said in reason.message and "fillable PDF" in reason.message
    assert name not in reason.message  # filenames may name the child


def test_an_unreadable_extra_beside_valid_forms_does_not_block_them(desk: Desk) -> None:
    from infrastructure.samples import consent_pdf, email, referral_pdf

    person = child(71)
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person)),
            ("c.pdf", consent_pdf(**person)),
            ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED


def test_a_typed_referral_is_read_beside_an_attached_consent(desk: Desk) -> None:
    from email import message_from_bytes, policy

    from infrastructure.samples import consent_pdf

    referral_only = TYPED.split("Consent form")[0]
    message = message_from_bytes(body_email(referral_only), policy=policy.default)
    message.add_attachment(
        consent_pdf(**PERSON), maintype="application", subtype="pdf", filename="c.pdf"
    )
    decision = desk.receive(bytes(message))
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons


def test_a_typed_form_never_replaces_an_attached_one(desk: Desk) -> None:
    from email import message_from_bytes, policy

    from infrastructure.samples import consent_pdf, referral_pdf

    # The body's referral names another NHS number: the attached referral is the one read.
    other = TYPED.split("Consent form")[0].replace(PERSON["child_nhs_number"], "401 023 2137")
    message = message_from_bytes(body_email(other), policy=policy.default)
    for name, pdf in (("r.pdf", referral_pdf(**PERSON)), ("c.pdf", consent_pdf(**PERSON))):
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=name)
    decision = desk.receive(bytes(message))
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None and decision.case.referral is not None
    assert decision.case.referral.referrer_email == "sam.patel@nhs.net"  # the PDF's, not Kim's
