"""The subject access ZIP on the embedded stack, after a correction and a console review: the
summary says who consented, the address and gender, the review's actions and keyworker, the
correction in plain words and the console review as a review; the referral's PDF is there as
it came; case.json holds no keyed hash of the NHS number (#11)."""

from __future__ import annotations

import io
import json
import zipfile

from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf, uk
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Actor, StaffRole
from shared.console.service import ConsoleService
from shared.outcome import Outcome

COORDINATOR = Actor(sub="sar-int-coord", email="dsr.coordinator@nhs.net", role=StaffRole.COORDINATOR)


def test_the_subject_access_zip_reads_plainly_after_a_correction_and_a_console_review(
    stack: LocalStack, register: ConsoleRegisterTable, console: ConsoleService
) -> None:
    person = {**child(2163, age=5), "child_given_name": "Olivr"}  # (ages with its seed)
    referral = referral_pdf(**person, child_gender="Male",
                            child_address="9 Birch Way, Bromley BR1 4ZZ")  # fmt: skip
    message_id = stack.deliver_email(
        email(
            ("referral.pdf", referral),
            ("consent.pdf", consent_pdf(**person, consenting_person_name="Sam Birch",
                                        consenting_person_relationship="Father")),
        )
    )  # fmt: skip
    stack.run_pipeline()
    accepted = register.submission(message_id)
    assert accepted is not None and accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    case_id = accepted.case_id
    console.correct(COORDINATOR, "tok-sar-2163-correct", case_id, "given_name", "Oliver",
                    "Misspelt on the referral")  # fmt: skip
    typed = {"review_date": uk(stack.now().date()), "rag_rating": "Red",
             "outcome_summary": "Crisis plan agreed.", "actions": "CAMHS to visit weekly.",
             "keyworker_referred": "/Yes", "reviewer_name": "Dr Lee"}  # fmt: skip
    assert console.review(COORDINATOR, "tok-sar-2163-review", case_id, typed).outcome == "updated"
    stack.run_pipeline()

    archive = zipfile.ZipFile(io.BytesIO(console.export_subject_access(COORDINATOR, case_id)))
    summary = archive.read("summary.txt").decode()
    assert "Name: Oliver " in summary
    assert "by Sam Birch (Father), parental responsibility." in summary
    assert "  Address: 9 Birch Way, Bromley BR1 4ZZ" in summary and "  Gender: Male" in summary
    assert "    Actions: CAMHS to visit weekly." in summary
    assert "    Keyworker programme: referred" in summary
    today = stack.now().strftime("%d/%m/%Y")
    assert (f"Given name(s) corrected from 'Olivr' to 'Oliver' on {today} by a DSR coordinator: "
            "Misspelt on the referral") in summary  # fmt: skip
    assert ": a review recorded in the console (updated)" in summary
    assert "Email 2" not in summary and "0 file(s)" not in summary
    assert "files/email-1/attachment-1.pdf (sent as: referral.pdf)" in summary
    assert archive.read("files/email-1/attachment-1.pdf") == referral

    held = json.loads(archive.read("case.json"))
    assert held["case_id"] == case_id and "person_key" not in held
    person_key = register.case(case_id).person_key  # type: ignore[union-attr]
    assert person_key and person_key not in archive.read("case.json").decode()
    emails = json.loads(archive.read("emails.json"))
    assert [e["email"] for e in emails] == [1, None]  # the referral's email; the console review
