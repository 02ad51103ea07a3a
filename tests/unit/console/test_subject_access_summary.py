"""The subject access summary (summary.txt) reads as a family would need it: who consented and
on what basis, the address and gender and every other answer in the forms' own words, each
review's actions and keyworker, corrections in plain words, a console review listed as a
review (not as an email); case.json without the keyed hash of the NHS number (#11)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import Actor, Case, Correction, ReviewRecord, StaffRole, Submission
from shared.console.subject_access import HeldEmail, subject_access_export, summary_text
from shared.mail import Attachment
from shared.outcome import Outcome
from shared.rating import Rating
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

COORDINATOR = Actor(sub="sar-coord", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)
PANEL = Actor(sub="sar-panel", email="panel.gp@nhs.net", role=StaffRole.PANEL)


def _case(settings: Settings) -> Case:
    person = child(2171, age=5)  # the sample ages with its seed
    decision = Desk(settings).receive(
        email(
            ("r.pdf", referral_pdf(**person, child_gender="Male",
                                   child_address="4 Rowan Close, Bromley BR2 9XX",
                                   child_postcode="BR2 9XX")),
            ("c.pdf", consent_pdf(**person, consenting_person_name="Jo Rowan",
                                  consenting_person_relationship="Mother")),
        )
    )  # fmt: skip
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    review = ReviewRecord(
        review_date=NOW.date() - timedelta(days=1),
        rating=Rating.RED,
        outcome_summary="Placement under strain; crisis plan agreed.",
        actions="CAMHS to visit weekly; school to review timetable.",
        keyworker_referred=True,
        keyworker_name="Priya Nair",
        ctr_recommended=True,
        reviewer_name="Dr Lee",
        reviewer_role="Panel chair",
        message_id="console-review-tok0123456789abcdef",
        recorded_at=NOW,
    )
    fix = Correction(
        field="given_name",
        old="Olivr",
        new="Oliver",
        reason="Misspelt on the referral; mother confirmed by phone.",
        by=COORDINATOR,
        at=NOW,
    )
    return decision.case.model_copy(update={"reviews": [review], "corrections": [fix]})


def test_the_summary_says_who_consented_the_address_reviews_and_corrections(
    settings: Settings,
) -> None:
    case = _case(settings)
    referral_email = Submission(message_id="ses-1", outcome=Outcome.ACCEPTED,
                                case_id=case.case_id, received_at=NOW)  # fmt: skip
    console_review = Submission(message_id="console-review-tok0123456789abcdef",
                                outcome=Outcome.UPDATED, case_id=case.case_id,
                                received_at=NOW)  # fmt: skip
    scan = Attachment(position=1, content_type="application/pdf", content=b"%PDF-1.4 x",
                      filename="referral.pdf")  # fmt: skip
    emails = [
        HeldEmail("ses-1", referral_email, (scan,)),
        HeldEmail(console_review.message_id, console_review),
    ]
    summary = summary_text(case, [], emails, NOW, COORDINATOR)

    # The consent: who, their relationship and the basis, in a sentence; then as read.
    consent_day = case.consent.consent_date.strftime("%d/%m/%Y")  # type: ignore[union-attr]
    assert (f"Consent given on {consent_day} by Jo Rowan (Mother), parental responsibility."
            in summary)  # fmt: skip
    assert "  Consent basis: Parental responsibility" in summary
    assert "  Name of the person consenting: Jo Rowan" in summary
    # The referral's answers in the form's words: address and gender among them.
    assert "  Address: 4 Rowan Close, Bromley BR2 9XX" in summary
    assert "  Gender: Male" in summary
    assert "  Referrer's organisation: Bromley CAMHS" in summary
    assert "  Referrer's name: Dr Sam Patel" in summary
    assert "Escalating self-harm" in summary
    assert "risk_" not in summary and "service_camhs" not in summary
    # The review with its actions and keyworker.
    assert "by Dr Lee (Panel chair)" in summary
    assert "    Actions: CAMHS to visit weekly; school to review timetable." in summary
    assert "    Keyworker programme: referred; keyworker: Priya Nair" in summary
    assert "    Care (Education) and Treatment Review: recommended" in summary
    # The correction in plain words.
    assert (f"Given name(s) corrected from 'Olivr' to 'Oliver' on {NOW:%d/%m/%Y} by a DSR "
            "coordinator: Misspelt on the referral; mother confirmed by phone.") in summary  # fmt: skip
    assert "given_name:" not in summary
    # The console review is a review, not "email 2: updated, 0 file(s)".
    assert f"{NOW:%d/%m/%Y %H:%M}: a review recorded in the console (updated)" in summary
    assert "Email 1, " in summary and "Email 2" not in summary
    assert "files/email-1/attachment-1.pdf (sent as: referral.pdf)" in summary


def test_the_zip_numbers_emails_only_and_case_json_has_no_person_key(settings: Settings) -> None:
    case = _case(settings)
    assert case.person_key  # the decider set the lookup key: it must not leave the register
    console_close = Submission(message_id="console-close-tok0123456789abcdef",
                               outcome=Outcome.UPDATED, received_at=NOW)  # fmt: skip
    first = Submission(message_id="ses-9", outcome=Outcome.ACCEPTED, received_at=NOW)
    pdf = Attachment(position=1, content_type="application/pdf", content=b"%PDF-1.4 y")
    archive = zipfile.ZipFile(io.BytesIO(subject_access_export(
        case, [], [HeldEmail(console_close.message_id, console_close),
                   HeldEmail("ses-9", first, (pdf,))], NOW, COORDINATOR)))  # fmt: skip
    held = json.loads(archive.read("case.json"))
    assert "person_key" not in held and case.person_key not in archive.read("case.json").decode()
    assert held["case_id"] == case.case_id and held["corrections"][0]["new"] == "Oliver"
    listed = json.loads(archive.read("emails.json"))
    assert [(e["email"], e["files"]) for e in listed] == [
        (None, []),
        (1, ["files/email-1/attachment-1.pdf"]),
    ]
    assert archive.read("files/email-1/attachment-1.pdf") == b"%PDF-1.4 y"
    summary = archive.read("summary.txt").decode()
    assert "the case closed in the console (updated)" in summary


def test_a_best_interest_consent_names_the_decision_maker(settings: Settings) -> None:
    person = child(2173, age=5)
    decision = Desk(settings).receive(
        email(
            ("r.pdf", referral_pdf(**person)),
            ("c.pdf", consent_pdf(**person, consent_basis="best_interest",
                                  consenting_person_name="", consenting_person_relationship="",
                                  best_interest_decision_maker="Dr Ada Shaw",
                                  best_interest_decision_role="Consultant psychiatrist",
                                  best_interest_reason="Significant concern; no one to consent.",
                                  consent_given_by="Dr Ada Shaw")),
        )
    )  # fmt: skip
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    assert decision.case is not None
    summary = summary_text(decision.case, [], [], NOW, COORDINATOR)
    assert "by a best interest decision by Dr Ada Shaw (Consultant psychiatrist)." in summary
    assert "  Reason for the decision: Significant concern; no one to consent." in summary
