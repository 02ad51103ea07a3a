"""The register table's part in retention, on the embedded stack's real table (moto): the
sparse ClosedByDay index, the erasure's transaction, and the outcome records that expire."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from infrastructure.local_stack import LocalStack, load_template
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.adapters.register_table.keys import (
    ITEM_KINDS,
    OUTCOME_GUARD_RETENTION,
    header_partition,
)
from shared.case import (
    Case,
    CaseChange,
    CaseStatus,
    Closure,
    ClosureReason,
    Decision,
    EraseEffect,
)
from shared.errors import ConcurrentChangeError
from shared.outcome import Outcome
from shared.retention import RETENTION_LABEL, retention_erasure

NOW = datetime.now(UTC).replace(microsecond=0)
# Closure days no other test uses (theirs close today or later): the index is shared.
FAR_PAST = date(1991, 1, 1)


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


def new_case(status: CaseStatus, **fields: Any) -> Case:
    reference = "DSR-" + uuid.uuid4().hex[:8].upper()
    return Case.model_validate(
        {
            "case_id": reference,
            "status": status,
            "person_key": f"retention-test-{uuid.uuid4().hex}",
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
        }
    )


def stored(register: RegisterTable, case: Case) -> Case:
    register.record_change(CaseChange(event_id=uuid.uuid4().hex, label="test", case=case), NOW)
    read = register.case(case.case_id)
    assert read is not None
    return read


def closed(register: RegisterTable, on: date, person_key: str | None = None) -> Case:
    case = new_case(
        CaseStatus.CLOSED, closure=Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=on)
    )
    if person_key:
        case.person_key = person_key
    return stored(register, case)


def raw_item(register: RegisterTable, pk: str, sk: str) -> dict[str, Any] | None:
    response = register.dynamodb.get_item(
        TableName=register.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def test_the_index_lists_cases_closed_by_a_day_oldest_first(register: RegisterTable) -> None:
    days = [FAR_PAST + timedelta(days=n) for n in (5, 0, 9, 3)]
    cases = [closed(register, day) for day in days]
    active = stored(register, new_case(CaseStatus.ACTIVE))
    lapsing = stored(
        register,
        new_case(
            CaseStatus.AWAITING_CONSENT,
            pending_expires_at=datetime(1991, 1, 2, 17, 0, tzinfo=UTC),
        ),
    )
    listed = register.closed_cases(FAR_PAST + timedelta(days=5), 10)
    by_day = sorted(zip(days, (case.case_id for case in cases), strict=True))
    # Day 9 is after the bound; the pending case counts from the day it lapses (day 1).
    expected = [case_id for day, case_id in by_day if day <= FAR_PAST + timedelta(days=5)]
    expected.insert(1, lapsing.case_id)
    assert listed == expected
    assert active.case_id not in register.closed_cases(date(2100, 1, 1), 10_000)
    assert register.closed_cases(FAR_PAST + timedelta(days=5), 2) == expected[:2]
    assert register.closed_cases(FAR_PAST - timedelta(days=1), 10) == []


def test_an_erasure_is_one_transaction_that_leaves_the_index(register: RegisterTable) -> None:
    case = closed(register, date(1992, 3, 4))
    assert register.case_for_person(case.person_key) is not None
    change = retention_erasure(case, NOW)
    register.record_change(change, NOW, forget_person_key=case.person_key)
    tombstone = register.case(case.case_id)
    assert tombstone is not None and tombstone.status is CaseStatus.WITHDRAWN
    assert tombstone.closure == Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=date(1992, 3, 4))
    assert case.case_id not in register.closed_cases(date(1992, 12, 31), 100)
    assert register.case_for_person(case.person_key) is None
    item = raw_item(register, f"CASE#{case.case_id}", "CASE")
    assert item is not None and "retention_queue" not in item and "closed_on" not in item
    # Audited without personal data; the erase effect waits in the outbox; no email.
    [entry] = [
        e for e in register.audit_entries(NOW, NOW) if e.event_id == change.event_id
    ]
    assert (entry.label, entry.case_id) == (RETENTION_LABEL, case.case_id)
    effect = register.outbox_entry(f"OUTBOX#{change.event_id}|EFFECT#00")
    assert effect is not None and effect.effect == EraseEffect(case_id=case.case_id)
    assert register.outbox_entry(f"OUTBOX#{change.event_id}|EFFECT#01") is None
    assert change.event_id in register.case_events(case.case_id)


def test_an_erasure_on_a_stale_version_or_a_moved_lookup_writes_nothing(
    register: RegisterTable,
) -> None:
    case = closed(register, date(1993, 5, 6))
    stale = retention_erasure(case.model_copy(update={"version": case.version - 1}), NOW)
    with pytest.raises(ConcurrentChangeError):
        register.record_change(stale, NOW, forget_person_key=case.person_key)
    # The child's lookup now names a newer case: deleting it is refused, and with it all.
    newer = stored(register, new_case(CaseStatus.ACTIVE).model_copy(
        update={"person_key": case.person_key}))  # fmt: skip
    with pytest.raises(ConcurrentChangeError):
        register.record_change(
            retention_erasure(case, NOW), NOW, forget_person_key=case.person_key
        )
    unchanged = register.case(case.case_id)
    assert unchanged is not None and unchanged.status is CaseStatus.CLOSED
    assert unchanged.version == case.version
    found = register.case_for_person(case.person_key)
    assert found is not None and found.case_id == newer.case_id
    assert case.case_id in register.closed_cases(date(1993, 12, 31), 100)


def test_the_outcome_of_an_email_about_no_case_expires_and_a_cases_does_not(
    register: RegisterTable,
) -> None:
    rejected, accepted = uuid.uuid4().hex, uuid.uuid4().hex
    register.record(rejected, f"<{rejected}@nhs.net>", Decision(outcome=Outcome.REJECTED), NOW)
    case = new_case(CaseStatus.ACTIVE)
    register.record(accepted, f"<{accepted}@nhs.net>",
                    Decision(outcome=Outcome.ACCEPTED, case=case), NOW)  # fmt: skip
    expiry = int((NOW + OUTCOME_GUARD_RETENTION).timestamp())
    kept = raw_item(register, f"SUBMISSION#{accepted}", "SUBMISSION")
    gone = raw_item(register, f"SUBMISSION#{rejected}", "SUBMISSION")
    assert gone is not None and gone["expires_at"] == {"N": str(expiry)}
    assert kept is not None and "expires_at" not in kept
    # Every duplicate key expires the same way (it only guards against the same email again).
    for message_id in (rejected, accepted):
        header = raw_item(register, header_partition(f"<{message_id}@nhs.net>"), "HEADER")
        assert header is not None and header["expires_at"] == {"N": str(expiry)}
    # ... and outlives the longest the raw email may be kept (and reprocessed), with the
    # lifecycle's lag.
    longest = load_template()["Parameters"]["RawMailRetentionDays"]["MaxValue"]
    assert timedelta(days=longest + 2) < OUTCOME_GUARD_RETENTION


def test_every_item_the_stack_has_written_is_a_kind_with_a_retention(
    stack: LocalStack, register: RegisterTable
) -> None:
    """Whatever the tests run so far wrote (this module's own erasure at least): each item's
    key is one of ITEM_KINDS, whose retention the README states."""
    closed(register, date(1994, 7, 8))
    prefixes = set()
    paginator = register.dynamodb.get_paginator("scan")
    for page in paginator.paginate(TableName=register.table_name, ProjectionExpression="PK"):
        prefixes |= {item["PK"]["S"].split("#", 1)[0] + "#" for item in page["Items"]}
    assert {"CASE#", "PERSON#", "AUDIT#", "EVENT#", "CASEEVENT#"} <= prefixes
    assert prefixes <= set(ITEM_KINDS), prefixes - set(ITEM_KINDS)
