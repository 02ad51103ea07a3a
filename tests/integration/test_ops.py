"""`dsr-intake ops` against the embedded stack: each command answers its alarm and says what
it did in counts and ids, never personal data."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest

from infrastructure import ops
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import schedule_name
from shared.case import CaseChange, EmailEffect, EmailPurpose
from shared.outcome import Outcome


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


@pytest.fixture
def target(stack: LocalStack) -> ops.LocalTarget:
    return ops.LocalTarget(stack)


def accepted(stack: LocalStack, register: RegisterTable, seed: int) -> str:
    person = child(seed)
    message_id = stack.deliver_email(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.ACCEPTED
    assert submission.case_id
    return submission.case_id


def schedule_of(stack: LocalStack, case_id: str) -> dict[str, object] | None:
    scheduler = stack.client("scheduler")
    try:
        found: dict[str, object] = scheduler.get_schedule(
            Name=schedule_name(case_id), GroupName=stack.resources["ReviewScheduleGroup"]
        )
    except scheduler.exceptions.ResourceNotFoundException:
        return None
    return found


def test_reconcile_recreates_a_lost_schedule_and_moves_one_to_the_wrong_function(
    stack: LocalStack, register: RegisterTable, target: ops.LocalTarget
) -> None:
    lost, misdirected = accepted(stack, register, 931), accepted(stack, register, 932)
    group = stack.resources["ReviewScheduleGroup"]
    scheduler = stack.client("scheduler")
    scheduler.delete_schedule(Name=schedule_name(lost), GroupName=group)
    wrong = scheduler.get_schedule(Name=schedule_name(misdirected), GroupName=group)
    scheduler.update_schedule(
        Name=wrong["Name"],
        GroupName=group,
        ScheduleExpression=wrong["ScheduleExpression"],
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={**wrong["Target"], "Arn": wrong["Target"]["Arn"] + "-old"},
    )
    before = ops.status(target)
    assert any("schedules:" in line and "(not repaired)" in line for line in before)
    assert schedule_of(stack, lost) is None, "status changes nothing"
    summary = ops.reconcile_schedules(target)
    counts = re.search(r"(\d+) missing \(created\), (\d+) at the wrong time", summary)
    assert counts is not None and int(counts[1]) >= 1 and int(counts[2]) >= 1, summary
    assert schedule_of(stack, lost) is not None
    repaired = schedule_of(stack, misdirected)
    assert repaired is not None and not str(repaired["Target"]).count("-old")
    again = ops.reconcile_schedules(target)
    assert "0 missing (created), 0 at the wrong time (moved)" in again


def test_deliver_outbox_sends_what_the_stream_left_once(
    stack: LocalStack, register: RegisterTable, target: ops.LocalTarget
) -> None:
    subject = f"left in the outbox {uuid.uuid4().hex[:8]}"
    change = CaseChange(
        event_id=f"test-{uuid.uuid4().hex}",
        label="test",
        effects=[
            EmailEffect(
                purpose=EmailPurpose.REMINDER,
                to=("dsr.coordinator@nhs.net",),
                subject=subject,
                body="b",
            )
        ],
    )
    register.record_change(change, stack.now() - timedelta(hours=2))
    assert register.oldest_undelivered() is not None
    assert "1 delivered" in ops.deliver_outbox(target)  # runs the stream after it too
    assert [e.subject for e in sent_emails()].count(subject) == 1
    assert "outbox: nothing undelivered" in ops.status(target)


def test_redrive_intake_and_reprocess_end_an_email_without_an_outcome(
    stack: LocalStack, register: RegisterTable, target: ops.LocalTarget
) -> None:
    sqs = stack.client("sqs")
    person = child(933)
    # The notification S3 sent is lost (taken off the queue unprocessed).
    message_id = stack.deliver_email(email(("r.pdf", referral_pdf(**person))))
    for message in sqs.receive_message(
        QueueUrl=stack.resources["IntakeQueue"], MaxNumberOfMessages=10
    ).get("Messages", []):
        sqs.delete_message(
            QueueUrl=stack.resources["IntakeQueue"], ReceiptHandle=message["ReceiptHandle"]
        )
    assert register.submission(message_id) is None
    assert ops.reprocess(target, message_id) == f"queued {message_id} for the intake again"
    target.run_intake()
    recorded = register.submission(message_id)
    assert recorded is not None and recorded.outcome is Outcome.PENDING
    assert "already has its outcome (pending)" in ops.reprocess(target, message_id)
    with pytest.raises(ops.OpsError, match="no raw email"):
        ops.reprocess(target, "no-such-message")
    with pytest.raises(ops.OpsError, match="letters, digits"):
        ops.reprocess(target, "../etc/passwd")
    # An email parked in the intake DLQ goes back to work.
    parked = stack.deliver_email(email(("r.pdf", referral_pdf(**child(934)))))
    notification = sqs.receive_message(QueueUrl=stack.resources["IntakeQueue"])["Messages"][0]
    sqs.send_message(QueueUrl=stack.resources["IntakeDLQ"], MessageBody=notification["Body"])
    sqs.delete_message(
        QueueUrl=stack.resources["IntakeQueue"], ReceiptHandle=notification["ReceiptHandle"]
    )
    assert (
        ops.redrive_intake(target)
        == "moved 1 messages from the intake DLQ back to the intake queue"
    )
    target.run_intake()
    assert register.submission(parked) is not None


def test_redrive_schedule_runs_parked_reminders_and_timers_again(
    stack: LocalStack, register: RegisterTable, target: ops.LocalTarget
) -> None:
    case_id = accepted(stack, register, 935)
    stack.client("scheduler").delete_schedule(
        Name=schedule_name(case_id), GroupName=stack.resources["ReviewScheduleGroup"]
    )
    sqs = stack.client("sqs")
    dlq = stack.resources["ScheduleDLQ"]
    reminder_arn = stack.environment["DSR_REMINDER_FUNCTION_ARN"]
    # Scheduler's own DLQ message is the target's input; Lambda's on-failure record wraps it.
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"case_id": case_id}))
    sqs.send_message(
        QueueUrl=dlq,
        MessageBody=json.dumps(
            {
                "requestContext": {"functionArn": reminder_arn + ":$LATEST"},
                "requestPayload": {"case_id": case_id},
            }
        ),
    )
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"timer": "reconcile"}))
    sqs.send_message(QueueUrl=dlq, MessageBody="not one of ours")
    assert ops.redrive_schedule(target) == (
        "ran 3 parked scheduled events again; 1 left in the queue (not this stack's)"
    )
    assert schedule_of(stack, case_id) is not None, "the reminder run set the schedule again"
