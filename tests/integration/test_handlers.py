"""The Lambda handlers, invoked in-process as Lambda would, against the embedded stack."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import schedule_name
from shared.outcome import Outcome


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


def sqs_record(bucket: str, key: str, message_id: str | None = None) -> dict[str, object]:
    body = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
            }
        ]
    }
    return {
        "messageId": message_id or uuid.uuid4().hex,
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:intake",
        "awsRegion": "eu-west-2",
    }


def test_an_email_stored_by_ses_reaches_an_outcome(
    stack: LocalStack, register: RegisterTable
) -> None:
    identity = child(201)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**identity)), ("c.pdf", consent_pdf(**identity)))
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.ACCEPTED
    case = register.case(submission.case_id or "")
    assert case is not None and case.status.value == "active"


def test_one_bad_record_fails_alone(stack: LocalStack, register: RegisterTable) -> None:
    bucket = stack.resources["RawMailBucket"]
    identity = child(202)
    good_key = "inbound/" + uuid.uuid4().hex
    client("s3").put_object(
        Bucket=bucket, Key=good_key, Body=email(("r.pdf", referral_pdf(**identity)))
    )
    garbled = sqs_record(bucket, "inbound/whatever", "bad-one")
    garbled["body"] = "not an S3 notification"
    response = stack.invoke("intake", {"Records": [sqs_record(bucket, good_key), garbled]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "bad-one"}]}
    submission = register.submission(good_key.rsplit("/", 1)[1])
    assert submission is not None and submission.outcome is Outcome.PENDING


def test_a_raw_email_no_longer_held_is_an_outcome_not_a_failure(
    stack: LocalStack, register: RegisterTable
) -> None:
    """S3 answers NoSuchKey (the role may list inbound/): recorded, so a redrive clears it."""
    bucket = stack.resources["RawMailBucket"]
    message_id = uuid.uuid4().hex
    response = stack.invoke("intake", {"Records": [sqs_record(bucket, f"inbound/{message_id}")]})
    assert response == {"batchItemFailures": []}
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.QUARANTINED


def test_the_s3_test_event_is_skipped(stack: LocalStack) -> None:
    record = sqs_record("b", "k")
    record["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})
    assert stack.invoke("intake", {"Records": [record]}) == {"batchItemFailures": []}


def test_url_encoded_keys_are_decoded(stack: LocalStack, register: RegisterTable) -> None:
    bucket = stack.resources["RawMailBucket"]
    client("s3").put_object(
        Bucket=bucket, Key="inbound/odd name", Body=email(("note.txt", b"hi", "text/plain"))
    )
    assert stack.invoke("intake", {"Records": [sqs_record(bucket, "inbound/odd+name")]}) == {
        "batchItemFailures": []
    }
    submission = register.submission("odd name")
    assert submission is not None and submission.outcome is Outcome.REJECTED


def test_a_redelivered_message_changes_nothing(stack: LocalStack, register: RegisterTable) -> None:
    bucket = stack.resources["RawMailBucket"]
    identity = child(203)
    key = "inbound/" + uuid.uuid4().hex
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=email(("r.pdf", referral_pdf(**identity)), ("c.pdf", consent_pdf(**identity))),
    )
    stack.invoke("intake", {"Records": [sqs_record(bucket, key)]})
    stack.run_effects()
    cases_before, sent_before = len(register.cases()), len(sent_emails())
    stack.invoke("intake", {"Records": [sqs_record(bucket, key)]})  # SQS delivers it again
    stack.run_effects()
    assert len(register.cases()) == cases_before
    assert len(sent_emails()) == sent_before


def test_effects_are_delivered_once_even_when_the_stream_repeats(
    stack: LocalStack, register: RegisterTable
) -> None:
    identity = child(204)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**identity)), ("c.pdf", consent_pdf(**identity)))
    )
    stack.run_intake()
    before = len(sent_emails())
    position = dict(stack._stream_positions)
    stack.run_effects()
    submission = register.submission(message_id)
    assert submission is not None
    expected = [e for e in submission.effects if e.kind == "email"]
    assert (
        len(sent_emails()) - before == len(expected) == 2
    )  # coordinators (all secure) and referrer
    # The stream hands the same records over again (a retried batch): nothing is sent twice.
    stack._stream_positions = position
    stack.run_effects()
    assert len(sent_emails()) - before == 2


def test_the_review_schedule_is_one_at_schedule_per_case(
    stack: LocalStack, register: RegisterTable
) -> None:
    identity = child(205)
    message_id = stack.deliver_email(
        email(
            ("r.pdf", referral_pdf(**identity, suggested_rag="Red")),
            ("c.pdf", consent_pdf(**identity)),
        )
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.case_id
    scheduler = stack.client("scheduler")
    schedule = scheduler.get_schedule(
        Name=schedule_name(submission.case_id), GroupName=stack.resources["ReviewScheduleGroup"]
    )
    [at] = [e.at for e in submission.effects if e.kind == "schedule"]
    assert at is not None
    assert schedule["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert schedule["Target"]["Arn"].endswith(stack.resources["ReminderFunction"])
    assert json.loads(schedule["Target"]["Input"]) == {"case_id": submission.case_id}
    assert schedule["Target"]["DeadLetterConfig"]["Arn"].endswith(
        stack.resources["ScheduleDLQ"].rsplit("/", 1)[-1]
    )


def test_the_reminder_tells_the_coordinators_once(
    stack: LocalStack, register: RegisterTable
) -> None:
    identity = child(206)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**identity)), ("c.pdf", consent_pdf(**identity)))
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.case_id
    case = register.case(submission.case_id)
    assert case is not None and case.next_review_on is not None
    due = datetime.combine(case.next_review_on, time(9), UTC)
    before = len(sent_emails())
    # Too early (a stale schedule): nothing is due, nothing is recorded.
    early = stack.invoke("reminder", {"case_id": submission.case_id}, at=due - timedelta(hours=1))
    assert early == {"case_id": submission.case_id, "done": "nothing due"}
    response = stack.invoke("reminder", {"case_id": submission.case_id}, at=due)
    # With it, on the same day: no first review yet, and no keyworker referral (Amber).
    assert response["case_id"] == submission.case_id
    assert "review_due" in response["done"].removeprefix("reminder:").split(",")
    # Scheduler delivers at least once: the same firing again does nothing more.
    again = stack.invoke("reminder", {"case_id": submission.case_id}, at=due)
    assert again["done"] == "nothing due"
    stack.run_effects()
    [reminder] = [
        sent
        for sent in sent_emails()[before:]
        if sent.subject == f"DSR review due - case {submission.case_id}"
    ]
    assert set(reminder.to) == {"dsr.coordinator@nhs.net", "dsr.lead@nhs.net"}
    moved = register.case(submission.case_id)
    assert moved is not None and f"review_due:{case.next_review_on}" in moved.reminders_sent


def test_an_untrusted_email_twice_is_quarantined_twice_and_reserves_nothing(
    stack: LocalStack, register: RegisterTable
) -> None:
    raw = email(
        ("r.pdf", referral_pdf(**child(207))),
        sender="someone@gmail.com",
        message_id="<twice@gmail.com>",
        # DMARC failed: not a self-referral (a proved one is recorded pending, reserving them).
        auth="spf=pass smtp.mailfrom=gmail.com; dkim=pass; dmarc=fail header.from=gmail.com",
    )
    first = stack.deliver_email(raw)
    stack.run_pipeline()
    second = stack.deliver_email(raw)
    stack.run_pipeline()  # raises if the second delivery fails (it would retry into the DLQ)
    outcomes = [register.submission(m) for m in (first, second)]
    # Only trusted mail reserves its sender and Message-ID, so no forgery can make a genuine
    # email a silent duplicate; each delivery of an untrusted one is quarantined on its own.
    assert [s.outcome for s in outcomes if s] == [Outcome.QUARANTINED, Outcome.QUARANTINED]
    assert register.first_submission_with_header("someone@gmail.com\n<twice@gmail.com>") is None


def test_coordinators_get_unreadable_files_for_manual_entry(
    stack: LocalStack, register: RegisterTable
) -> None:
    from infrastructure.sample_documents import scanned_pdf

    person = child(95)
    scan = scanned_pdf()
    before = len(sent_emails())
    message_id = stack.deliver_email(
        email(
            ("referral.pdf", referral_pdf(**person)),
            ("consent scan.pdf", scan),
            sender="sam.patel@nhs.net",
        )
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.PENDING
    sent = sent_emails()[before:]
    [manual] = [mail for mail in sent if "manual entry" in mail.subject]
    # The file as it came, named by its position only (a filename may name the child).
    assert manual.attachments == {"original-attachment-2.pdf": scan}
    assert "FORM_UNREADABLE" in manual.body and message_id in manual.body
    # Nobody else gets the scan: the referrer only the blank consent form their case awaits.
    others = [mail for mail in sent if mail is not manual]
    assert all(set(mail.attachments) <= {"dsr-consent-form.pdf"} for mail in others)
    assert [set(mail.attachments) for mail in others if "sam.patel@nhs.net" in mail.to] == [
        {"dsr-consent-form.pdf"}
    ]


def test_several_childrens_forms_are_recorded_child_by_child(
    stack: LocalStack, register: RegisterTable
) -> None:
    first, second = child(96), child(97)
    message_id = stack.deliver_email(
        email(
            ("r1.pdf", referral_pdf(**first)),
            ("c1.pdf", consent_pdf(**first)),
            ("r2.pdf", referral_pdf(**second)),
        )
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.parts == [f"{message_id}.1", f"{message_id}.2"]
    parts = [register.submission(part) for part in submission.parts]
    assert [part.outcome for part in parts if part] == [Outcome.ACCEPTED, Outcome.PENDING]
    assert submission.outcome is Outcome.PENDING
    # Processing the same email again changes nothing: every part keeps its outcome.
    stack.invoke(
        "intake",
        {"Records": [sqs_record(stack.resources["RawMailBucket"], f"inbound/{message_id}")]},
    )
    assert [register.submission(part) for part in submission.parts] == parts


def test_a_rejection_arrives_threaded_with_the_blank_forms_attached(
    stack: LocalStack, register: RegisterTable
) -> None:
    """#13 part 2, end to end: the referrer's email with a consent form that gives no basis;
    the answer SES sends threads to it and carries the blank referral and consent forms."""
    from importlib import resources

    person = child(96)
    their_id = "<CAF7pQ2x.e2e96@mail.nhs.net>"
    before = len(sent_emails())
    message_id = stack.deliver_email(
        email(
            ("Referral for the child.pdf", referral_pdf(**person)),
            ("consent.pdf", consent_pdf(**person, consent_basis="")),
            sender="sam.patel@nhs.net",
            subject="Referral",
            message_id=their_id,
        )
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.REJECTED
    [answer] = [mail for mail in sent_emails()[before:] if mail.to == ("sam.patel@nhs.net",)]
    assert answer.subject == "Re: Referral"
    assert answer.headers["In-Reply-To"] == their_id
    assert answer.headers["References"] == their_id
    assert answer.headers["Auto-Submitted"] == "auto-replied"
    forms = resources.files("templates.forms")
    assert answer.attachments == {
        name: forms.joinpath(name).read_bytes()
        for name in ("dsr-referral-form.pdf", "dsr-consent-form.pdf")
    }
    assert "1. Referral for the child.pdf (PDF)" in answer.body  # a secure address
    assert submission.reasons and "consent_basis" not in answer.body
    assert all(reason.code.value not in answer.body for reason in submission.reasons)
