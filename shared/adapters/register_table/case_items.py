"""The items an event's transaction writes for a case and its child: the case (versioned),
its person lookup, a held withdrawal and its child's link, and the checks that what the
decision read is still so."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.adapters.register_table.keys import (
    CLOSED_QUEUE,
    TRIAGE_LAPSING,
    TRIAGE_REVIEW,
    TRIAGE_WAITING,
    TTL_ATTRIBUTE,
    Attributes,
    case_key,
    epoch,
    hold_key,
    number,
    person_hold_key,
    person_lookup_key,
    text,
    triage_mark,
)
from shared.adapters.register_table.table import TableAccess
from shared.case import Case, CaseStatus, RegisterReads
from shared.console.waiting import Waiting
from shared.holds import HOLD_RETENTION, HeldWithdrawal
from shared.retention import closed_on


class CaseItems(TableAccess):
    def _read_checks(self, reads: RegisterReads) -> list[dict[str, Any]]:
        checks: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": case_key(case_id),
                    "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": number(version)},
                }
            }
            for case_id, version in sorted(reads.case_versions.items())
        ]
        checks += [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": person_lookup_key(person_key),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for person_key in sorted(reads.absent_people)
        ]
        return checks

    def _hold(self, held: HeldWithdrawal, now: datetime) -> list[dict[str, Any]]:
        expiry = {TTL_ATTRIBUTE: number(epoch(now + HOLD_RETENTION))}
        hold = {
            **hold_key(held.reference),
            "hold": text(held.model_dump_json()),
            # In Triage until confirmed, purged (both delete it) or lapsed.
            **triage_mark(TRIAGE_WAITING, held.received_at.isoformat(), Waiting.HELD_WITHDRAWAL),
        }
        writes = [self._put({**hold, **expiry}, "attribute_not_exists(PK)")]
        if held.person_key:
            writes.append(self._put({**person_hold_key(held.person_key, held.reference), **expiry}))
        return writes

    def _forget_person(self, person_key: str, case_id: str | None) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table_name,
                "Key": person_lookup_key(person_key),
                "ConditionExpression": "case_id = :case_id",
                "ExpressionAttributeValues": {":case_id": text(case_id or "")},
            }
        }

    def _case_writes(self, case: Case, now: datetime) -> list[dict[str, Any]]:
        expected = case.version
        expiry = (
            {TTL_ATTRIBUTE: number(epoch(case.pending_expires_at))}
            if case.pending_expires_at
            else {}
        )
        closed = closed_on(case)
        retention = (
            {"retention_queue": text(CLOSED_QUEUE), "closed_on": text(closed.isoformat())}
            if closed is not None
            else {}
        )
        case_item = {
            **case_key(case.case_id),
            "status": text(case.status.value),
            "version": number(expected + 1),
            "case": text(case.model_dump_json(exclude={"version"})),
            **expiry,
            **retention,
            **_case_triage(case),
        }
        if expected == 0:
            case_write = self._put(case_item, "attribute_not_exists(PK)")
        else:
            case_write = self._put(
                case_item, "version = :expected", {":expected": number(expected)}
            )
        if case.status is CaseStatus.WITHDRAWN:
            return [case_write]  # the person lookup is erased (Decision.forget_person_key)
        person_item = {
            **person_lookup_key(case.person_key),
            "case_id": text(case.case_id),
            "open": {"BOOL": case.status.is_open},
            **expiry,
        }
        if expected == 0:
            # A lapsed pending case (expired, not yet removed by TTL) or a closed case may be
            # followed by a new one; an open case may not.
            person_write = self._put(
                person_item,
                f"attribute_not_exists(PK) OR {TTL_ATTRIBUTE} < :now OR #open = :closed",
                {":now": number(epoch(now)), ":closed": {"BOOL": False}},
            )
            person_write["Put"]["ExpressionAttributeNames"] = {"#open": "open"}
        else:
            person_write = self._put(
                person_item, "case_id = :case_id", {":case_id": text(case.case_id)}
            )
        return [case_write, person_write]


def _case_triage(case: Case) -> Attributes:
    """A pending case by when it lapses, a case on the register by its review day: Triage
    reads the few near or past them, never the whole table."""
    if case.status.is_pending and case.pending_expires_at is not None:
        return triage_mark(TRIAGE_LAPSING, case.pending_expires_at.isoformat(), Waiting.LAPSING)
    if case.status is CaseStatus.ACTIVE and case.next_review_on is not None:
        return triage_mark(TRIAGE_REVIEW, case.next_review_on.isoformat(), Waiting.REVIEW_OVERDUE)
    return {}
