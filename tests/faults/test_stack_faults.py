"""End to end on the embedded stack (moto), where the DynamoDB adapter's own conditions
matter: decisions recorded against the versions they read, erase_case_events, the sweeper's
OutboxByAge index. Children 971-979 are used here and nowhere else in the session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import email
from shared.adapters import client
from shared.adapters.delivery import effect_delivery
from shared.adapters.identity import KmsIdentityHasher
from shared.adapters.mail_store import RawMailStore
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import schedule_name
from shared.case import Decision, EmailEffect, RegisterReads, Submission
from shared.effects import SENDING_LEASE
from shared.intake_service import IntakeService
from shared.outcome import Outcome
from shared.settings import Settings
from tests.faults.invariants import found, readable_text
from tests.faults.world import _consent, _key, person, referral_email, withdrawal_email

COORDINATORS = ("dsr.coordinator@nhs.net", "dsr.lead@nhs.net")  # the local stack's


class InterleavedTable(RegisterTable):
    """The real table; `before[message_id]` runs once just before that email's write."""

    def __init__(self, stack: LocalStack) -> None:
        super().__init__(client("dynamodb"), stack.resources["RegisterTable"])
        self.before: dict[str, Callable[[], object]] = {}
        self.recorded: list[str] = []

    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
        **options: Any,  # the console's actor, label, the triage item it resolves
    ) -> Submission:
        action = self.before.pop(message_id, None)
        if action is not None:
            action()
        self.recorded.append(message_id)
        return super().record(message_id, header_message_id, decision, now, reads, **options)


@pytest.fixture
def table(stack: LocalStack) -> InterleavedTable:
    return InterleavedTable(stack)


def intake(stack: LocalStack, table: RegisterTable) -> IntakeService:
    settings = Settings.from_environment()
    return IntakeService(
        settings,
        RawMailStore(client("s3"), stack.resources["RawMailBucket"]),
        table,
        KmsIdentityHasher(client("kms"), stack.resources["IdentityKey"]),
        clock=stack.now,
    )


def schedules(stack: LocalStack) -> set[str]:
    scheduler = stack.client("scheduler")
    group = stack.resources["ReviewScheduleGroup"]
    names: set[str] = set()
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        names |= {schedule["Name"] for schedule in page["Schedules"]}
    return names


def outbox_items(stack: LocalStack, event_id: str) -> list[str]:
    response = stack.client("dynamodb").query(
        TableName=stack.resources["RegisterTable"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"OUTBOX#{event_id}"}},
        ConsistentRead=True,
    )
    return [f"{item['PK']['S']}|{item['SK']['S']}" for item in response["Items"]]


def stored_text(stack: LocalStack) -> str:
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    texts = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.resources["RegisterTable"]):
        texts += [str(item) for item in page["Items"]]
    bucket = stack.resources["RawMailBucket"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            texts.append(
                readable_text(s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read())
            )
    return "\n".join(texts)


def submitted(stack: LocalStack, table: RegisterTable, raw: bytes) -> Submission:
    message_id = stack.deliver_email(raw)
    stack.run_pipeline()
    submission = table.submission(message_id)
    assert submission is not None
    return submission


def test_stack_a_referral_racing_a_consent_is_decided_again_on_the_real_table(
    stack: LocalStack, table: InterleavedTable
) -> None:
    """Fault: a referral and a consent for the same new child are processed at once; the
    consent is recorded between the referral's read and its write (real DynamoDB conditions).
    Promise: the referral's transaction is refused (a person read as new now has a case),
    it is decided again and completes that case; SQS's own delivery later changes nothing."""
    child = person(971)
    referral = stack.deliver_email(referral_email(child, consent=False))
    consent = stack.deliver_email(
        email(("consent.pdf", _consent(_key(child))), sender="gp.surgery@nhs.net")
    )
    service = intake(stack, table)
    table.before[referral] = lambda: service.process(f"inbound/{consent}")
    result = service.process(f"inbound/{referral}")
    assert result.submission.outcome is Outcome.UPDATED, result.submission.reasons
    assert table.recorded.count(referral) == 2  # the stale decision, then the fresh one
    stack.run_pipeline()
    case = table.case(result.submission.case_id or "")
    assert case is not None and case.status.value == "active"
    assert table.submission(consent) is not None
    assert schedule_name(case.case_id) in schedules(stack)


def test_stack_a_repeat_referral_against_a_case_withdrawn_meanwhile_becomes_a_new_case(
    stack: LocalStack, table: InterleavedTable
) -> None:
    """Fault: a repeat referral is decided "already on the register"; a withdrawal of that
    case is recorded (and erased) before the referral is written.
    Promise: the transaction's check of the case version refuses the stale decision; decided
    again, the referral opens a new case; the withdrawn case has no schedule."""
    child = person(972)
    old = submitted(stack, table, referral_email(child))
    assert old.outcome is Outcome.ACCEPTED and old.case_id
    repeat = stack.deliver_email(referral_email(child, sender="school.nurse@nhs.net"))
    withdrawal = stack.deliver_email(withdrawal_email(child, old.case_id))
    service = intake(stack, table)
    table.before[repeat] = lambda: service.process(f"inbound/{withdrawal}")
    result = service.process(f"inbound/{repeat}")
    assert result.submission.outcome is Outcome.ACCEPTED, result.submission.reasons
    assert result.submission.case_id not in (None, old.case_id)
    stack.run_pipeline()
    tombstone = table.case(old.case_id)
    assert tombstone is not None and tombstone.status.value == "withdrawn"
    names = schedules(stack)
    assert schedule_name(old.case_id) not in names
    assert schedule_name(result.submission.case_id or "") in names


def test_stack_records_out_of_order_the_erasure_first_then_the_earlier_emails(
    stack: LocalStack, table: InterleavedTable
) -> None:
    """Fault: the stream's shards hand over a withdrawal's erase item before the items of the
    child's acceptance (which the stream then replays as well).
    Promise: erase_case_events deletes the earlier items, so their late records send nothing;
    nothing of the child is sent after the erasure or held in the table or the bucket; the
    case has no schedule; the withdrawal's own answers go out."""
    child = person(973, unique_name=0)
    referral = stack.deliver_email(referral_email(child))
    stack.run_intake()
    accepted = table.submission(referral)
    assert accepted is not None and accepted.case_id
    withdrawal = stack.deliver_email(withdrawal_email(child, accepted.case_id))
    stack.run_intake()
    assert (table.submission(withdrawal) or accepted).outcome is Outcome.WITHDRAWN
    delivery = effect_delivery(Settings.from_environment(), table)
    before = len(sent_emails())
    withdrawal_items, late = outbox_items(stack, withdrawal), outbox_items(stack, referral)
    assert late
    for outbox_id in withdrawal_items + late:
        delivery.deliver(outbox_id)
    assert outbox_items(stack, referral) == []
    stack.run_pipeline()  # the stream's own records, all of them late now
    after = sent_emails()[before:]
    assert after and not any(found(child, e.subject + e.body + str(e.attachments)) for e in after)
    assert found(child, stored_text(stack)) == set()
    assert schedule_name(accepted.case_id) not in schedules(stack)
    assert outbox_items(stack, withdrawal) == []


def test_stack_the_sweeper_finds_left_items_by_age_and_leaves_one_mid_send(
    stack: LocalStack, table: InterleavedTable
) -> None:
    """Fault: the stream never delivered a new case's items (retries exhausted) and one
    delivery of the acknowledgement died mid-send.
    Promise: the sweeper finds them through the OutboxByAge index and delivers them, leaves
    the one mid-send alone while its lease runs, then replaces it by one alert to each
    coordinator - the acknowledgement is never sent."""
    child = person(974)
    referral = stack.deliver_email(referral_email(child))
    stack.run_intake()
    items = outbox_items(stack, referral)
    entries = [table.outbox_entry(outbox_id) for outbox_id in items]
    [ack] = [
        entry.outbox_id
        for entry in entries
        if entry is not None
        and isinstance(entry.effect, EmailEffect)
        and "sam.patel@nhs.net" in entry.effect.to
    ]
    assert table.mark_sending(ack, stack.now())
    before = len(sent_emails())
    later = stack.now() + timedelta(minutes=1)
    swept: dict[str, Any] = stack.invoke("sweeper", {"older_than_minutes": 0}, at=later)
    assert "still waiting" in swept["summary"]
    assert set(outbox_items(stack, referral)) == {ack}
    assert not [e for e in sent_emails()[before:] if "sam.patel@nhs.net" in e.to]
    stack.invoke("sweeper", {"older_than_minutes": 0}, at=later + SENDING_LEASE)
    stack.run_pipeline()
    assert outbox_items(stack, referral) == []
    sent = sent_emails()[before:]
    assert not [e for e in sent if "sam.patel@nhs.net" in e.to]
    alerts = [e for e in sent if ack in e.body]
    assert sorted(address for e in alerts for address in e.to) == sorted(COORDINATORS)
