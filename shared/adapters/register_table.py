"""The register's DynamoDB table: the one place that knows its keys.

| item       | PK                      | SK                   |
| ---------- | ----------------------- | -------------------- |
| case       | CASE#<case id>          | CASE                 |
| person     | PERSON#<keyed hash>     | PERSON               |
| submission | SUBMISSION#<SES msg id> | SUBMISSION           |
| header     | HEADER#<sha256>         | HEADER               |
| audit      | AUDIT#<yyyy-mm>         | <time>#<event id>    |
| outbox     | OUTBOX#<event id>       | EFFECT#<nn>          |
| alert      | OUTBOX#<event id>~alert | EFFECT#<nn>          |
| case event | CASEEVENT#<case id>     | EVENT#<event id>     |
| event      | EVENT#<event id>        | EVENT                |
| hold       | HOLD#<hold reference>   | HOLD                 |
| its child  | PERSONHOLD#<keyed hash> | HOLD#<hold reference>|
| mailbox    | MAILBOX#inbox           | DELTA                |

An event is an email (its SES message id) or a change not caused by an email (a reminder,
the panel pack). Every state change for one event is ONE transaction with conditions, so a
redelivered or stale event can neither create a second case nor overwrite a newer state.
Case events list every event about a case, so withdrawal can erase all of them.
Undelivered outbox items carry `outbox_queue`/`outbox_since`, the keys of the sparse index
`OutboxByAge` the sweeper reads; an email being sent carries `sending_since`. A case that
has left the register (closed, or pending: it lapses) carries `retention_queue`/`closed_on`,
the keys of the sparse index `ClosedByDay` the reconciliation reads for cases past their
retention (shared.retention); its tombstone drops them.
What waits for a person (shared.console.waiting) carries `triage_queue`/`triage_since`/
`triage_kind`, the keys of the sparse index `TriageQueue` the console's Triage reads: an
email's outcome, a hold or a bounce report in queue WAITING (since it came), written in the
transaction that records it and removed in the one that records what a coordinator did
(`resolves`); a pending case in queue LAPSING (by the moment it lapses) and a case on the
register in queue REVIEW (by its review day), rewritten with the case.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from shared.case import (
    Actor,
    AuditEntry,
    Case,
    CaseChange,
    CaseStatus,
    Decision,
    Effect,
    EffectSummary,
    EmailEffect,
    RegisterReads,
    Submission,
    email_of,
    part_submission_id,
)
from shared.console.waiting import Waiting, change_waits, decision_waits
from shared.effects import EFFECT, OutboxEntry
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.holds import HOLD_RETENTION, HeldWithdrawal
from shared.outcome import Outcome
from shared.retention import closed_on

OUTBOX_PREFIX = "OUTBOX#"
OUTBOX_INDEX = "OutboxByAge"
OUTBOX_QUEUE = "OUTBOX"
TTL_ATTRIBUTE = "expires_at"
EVENT_GUARD_RETENTION = timedelta(days=35)
MAILBOX_DELTA_PK = "MAILBOX#inbox"
MAILBOX_DELTA_SK = "DELTA"
CLOSED_INDEX = "ClosedByDay"
CLOSED_QUEUE = "CLOSED"
TRIAGE_INDEX = "TriageQueue"
TRIAGE_WAITING = "WAITING"  # emails, holds and reports waiting, by when they came
TRIAGE_LAPSING = "LAPSING"  # pending cases, by when they lapse
TRIAGE_REVIEW = "REVIEW"  # cases on the register, by their next review day
TRIAGE_ATTRIBUTES = ("triage_queue", "triage_since", "triage_kind")
# The outcome of an email about no case (rejected, quarantined, a copy, a reply passed on,
# a held withdrawal) and every email's duplicate key: kept while the raw email may still be
# read again (`ops reprocess`; RawMailRetentionDays is at most 365, the lifecycle runs a day
# or two late), then expired. A case's emails keep theirs (its erasure checks them).
OUTCOME_GUARD_RETENTION = timedelta(days=400)

# Every kind of item the table holds, by key prefix: the README's "What is kept, for how
# long, and why" has a row for each (tests/unit/test_retention_kinds.py checks both ways).
ITEM_KINDS = {
    "CASE#": "case",
    "PERSON#": "person lookup",
    "SUBMISSION#": "email outcome",
    "HEADER#": "duplicate key",
    "AUDIT#": "audit entry",
    "OUTBOX#": "outbox item",
    "CASEEVENT#": "case event",
    "EVENT#": "change guard",
    "HOLD#": "held withdrawal",
    "PERSONHOLD#": "held withdrawal's child",
    "MAILBOX#": "mailbox position",
}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": _s(pk), "SK": _s(sk)}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _outbox_key(outbox_id: str) -> dict[str, dict[str, str]]:
    pk, _, sk = outbox_id.partition("|")
    return _key(pk, sk)


def _moment(attribute: dict[str, str] | None) -> datetime | None:
    return datetime.fromisoformat(attribute["S"]) if attribute and "S" in attribute else None


def audit_key(now: datetime, event_id: str) -> dict[str, dict[str, str]]:
    return _key(f"AUDIT#{now:%Y-%m}", f"{now.isoformat()}#{event_id}")


def actor_attributes(actor: Actor | None) -> dict[str, dict[str, str]]:
    """Who made a console change, on its audit line (nothing for the system's own)."""
    if actor is None:
        return {}
    return {
        "actor_sub": _s(actor.sub),
        "actor_role": _s(actor.role.value),
        "actor_email": _s(actor.email),
    }


def triage_mark(queue: str, since: str, kind: Waiting) -> dict[str, dict[str, str]]:
    return {
        "triage_queue": _s(queue),
        "triage_since": _s(since),
        "triage_kind": _s(kind.value),
    }


def triage_key(item_id: str) -> dict[str, dict[str, str]]:
    """The table item of a triage item id (shared.console.waiting)."""
    kind, _, ref = item_id.partition(":")
    pk, sk = {"email": ("SUBMISSION#", "SUBMISSION"), "hold": ("HOLD#", "HOLD"),
              "event": ("EVENT#", "EVENT")}[kind]  # fmt: skip
    return _key(pk + ref, sk)


def header_key(header_message_id: str) -> str:
    return "HEADER#" + hashlib.sha256(header_message_id.strip().encode("utf-8")).hexdigest()


class RegisterTable:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key=_key(pk, sk), ConsistentRead=True
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    # Reads the intake decision needs (the `Register` protocol of shared.intake).
    def case_for_person(self, person_key: str) -> Case | None:
        person = self._get(f"PERSON#{person_key}", "PERSON")
        return self.case(person["case_id"]["S"]) if person else None

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        item = self._get(header_key(header_message_id), "HEADER")
        return item["message_id"]["S"] if item else None

    def case(self, case_id: str) -> Case | None:
        item = self._get(f"CASE#{case_id}", "CASE")
        if item is None:
            return None
        case = Case.model_validate_json(item["case"]["S"])
        case.version = int(item["version"]["N"])
        return case

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None:
        item = self._get(f"HOLD#{reference}", "HOLD")
        return HeldWithdrawal.model_validate_json(item["hold"]["S"]) if item else None

    # The Graph route's place in the shared mailbox's Inbox: MAILBOX#inbox / DELTA holds the
    # delta link (Graph's opaque state token, no personal data). The MailboxFunction's role
    # may touch this one item only (dynamodb:LeadingKeys).
    def mailbox_delta_link(self) -> str | None:
        item = self._get(MAILBOX_DELTA_PK, MAILBOX_DELTA_SK)
        return item["delta_link"]["S"] if item else None

    def save_mailbox_delta_link(self, delta_link: str) -> None:
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={**_key(MAILBOX_DELTA_PK, MAILBOX_DELTA_SK), "delta_link": _s(delta_link)},
        )

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        found = []
        for link in self._query_keys(f"PERSONHOLD#{person_key}"):
            held = self.held_withdrawal(link["SK"]["S"].removeprefix("HOLD#"))
            if held is not None:
                found.append(held)
        return found

    def submission(self, message_id: str) -> Submission | None:
        item = self._get(f"SUBMISSION#{message_id}", "SUBMISSION")
        return Submission.model_validate_json(item["submission"]["S"]) if item else None

    def audit_entries(self, since: datetime, until: datetime) -> list[AuditEntry]:
        """The audit trail between two moments (inclusive), oldest first."""
        entries = []
        month = datetime(since.year, since.month, 1, tzinfo=since.tzinfo)
        while month <= until:
            paginator = self.dynamodb.get_paginator("query")
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="PK = :month AND SK BETWEEN :since AND :until",
                ExpressionAttributeValues={
                    ":month": _s(f"AUDIT#{month:%Y-%m}"),
                    ":since": _s(since.isoformat()),
                    ":until": _s(until.isoformat() + "~"),
                },
            ):
                for item in page["Items"]:
                    moment, _, event_id = item["SK"]["S"].partition("#")
                    codes = item.get("reason_codes", {}).get("S", "")
                    entries.append(
                        AuditEntry(
                            at=datetime.fromisoformat(moment),
                            event_id=event_id,
                            outcome=item["outcome"]["S"] if "outcome" in item else None,
                            label=item["label"]["S"] if "label" in item else None,
                            reason_codes=tuple(code for code in codes.split(",") if code),
                            case_id=item["case_id"]["S"] if "case_id" in item else None,
                            **{
                                name: item[name]["S"]
                                for name in ("actor_sub", "actor_role", "actor_email")
                                if name in item
                            },
                        )
                    )
            month = datetime(
                month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=month.tzinfo
            )
        return entries

    def cases(self) -> list[Case]:
        cases = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table_name,
            FilterExpression="SK = :case",
            ExpressionAttributeValues={":case": _s("CASE")},
        ):
            for item in page["Items"]:
                case = Case.model_validate_json(item["case"]["S"])
                case.version = int(item["version"]["N"])
                cases.append(case)
        return sorted(cases, key=lambda case: case.created_at)

    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
        *,
        actor: Actor | None = None,
        label: str | None = None,
        resolves: str | None = None,
    ) -> Submission:
        """Store the outcome, the case, an audit event and the outbox, all or nothing - and
        only while what the decision read (`reads`) is still so. A console action's decision
        (shared.console) is audited with its `label` and `actor`, and takes the triage item
        it `resolves` out of the queue."""
        submission = Submission(
            message_id=message_id,
            outcome=decision.outcome,
            case_id=decision.case_id,
            reasons=decision.reasons,
            effects=[EffectSummary.of(effect) for effect in decision.effects],
            received_at=now,
            parts=[part_submission_id(message_id, n) for n in range(1, len(decision.parts) + 1)],
        )
        guard_expiry = {TTL_ATTRIBUTE: _n(_epoch(now + OUTCOME_GUARD_RETENTION))}
        # An email about no case expires; a case's (and a summary of parts) is kept with it.
        outcome_expiry = guard_expiry if decision.case_id is None and not decision.parts else {}
        waits = decision_waits(decision)
        writes: list[dict[str, Any]] = [
            self._put(
                {
                    **_key(f"SUBMISSION#{message_id}", "SUBMISSION"),
                    "outcome": _s(decision.outcome.value),
                    "submission": _s(submission.model_dump_json()),
                    **outcome_expiry,
                    **(triage_mark(TRIAGE_WAITING, now.isoformat(), waits) if waits else {}),
                },
                "attribute_not_exists(PK)",
            ),
            self._put(
                {
                    **audit_key(now, message_id),
                    "outcome": _s(decision.outcome.value),
                    "reason_codes": _s(",".join(reason.code.value for reason in decision.reasons)),
                    **({"case_id": _s(decision.case_id)} if decision.case_id else {}),
                    **({"label": _s(label)} if label else {}),
                    **actor_attributes(actor),
                }
            ),
        ]
        # Only trusted mail reserves its sender and Message-ID: a quarantined forgery must not
        # make the genuine email, sent later, a silent duplicate. A copy of an email already
        # recorded (a DUPLICATE about no case) finds it reserved already.
        reserves = decision.outcome is not Outcome.QUARANTINED and (
            decision.outcome is not Outcome.DUPLICATE or decision.related_case_id is not None
        )
        if header_message_id and reserves:
            writes.append(
                self._put(
                    {
                        **_key(header_key(header_message_id), "HEADER"),
                        "message_id": _s(message_id),
                        **guard_expiry,
                    },
                    "attribute_not_exists(PK)",
                )
            )
        if decision.case is not None:
            writes += self._case_writes(decision.case, now)
        if decision.forget_person_key:
            writes.append(self._forget_person(decision.forget_person_key, decision.case_id))
        if decision.answered_once:
            # Read as a header key by the decision; a race for it is decided again.
            writes.append(
                self._put(
                    {
                        **_key(header_key(decision.answered_once), "HEADER"),
                        "message_id": _s(message_id),
                        TTL_ATTRIBUTE: _n(_epoch(now + EVENT_GUARD_RETENTION)),
                    },
                    "attribute_not_exists(PK)",
                )
            )
        if decision.hold is not None:
            writes += self._hold(decision.hold, now)
        for held in decision.purged_holds:
            if held.reference != decision.release_hold:  # that one is deleted just below
                writes.append(self._delete(f"HOLD#{held.reference}", "HOLD"))
            if held.person_key:
                writes.append(
                    self._delete(f"PERSONHOLD#{held.person_key}", f"HOLD#{held.reference}")
                )
            if decision.case_id:
                # Listed with the case: the held email is erased with it.
                writes.append(self._case_event(decision.case_id, held.message_id, "email"))
        if decision.release_hold:
            # Once: a second confirmation of the same hold is decided again and finds it gone.
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": _key(f"HOLD#{decision.release_hold}", "HOLD"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                }
            )
        if decision.case_id:
            writes.append(self._case_event(decision.case_id, message_id, "email"))
        writes += self._outbox_writes(message_id, decision.effects, decision.case_id, now)
        if resolves:
            writes.append(self._resolve(resolves))
        if reads is not None:
            writes += self._read_checks(reads.excluding(decision))
        self._transact(writes, message_id)
        return submission

    def _read_checks(self, reads: RegisterReads) -> list[dict[str, Any]]:
        checks: list[dict[str, Any]] = [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": _key(f"CASE#{case_id}", "CASE"),
                    "ConditionExpression": "version = :read",
                    "ExpressionAttributeValues": {":read": _n(version)},
                }
            }
            for case_id, version in sorted(reads.case_versions.items())
        ]
        checks += [
            {
                "ConditionCheck": {
                    "TableName": self.table_name,
                    "Key": _key(f"PERSON#{person_key}", "PERSON"),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for person_key in sorted(reads.absent_people)
        ]
        return checks

    def record_change(
        self,
        change: CaseChange,
        now: datetime,
        forget_person_key: str | None = None,
        *,
        resolves: str | None = None,
    ) -> None:
        """Store a change not caused by an email (reminder, panel pack, a retention erasure
        with `forget_person_key`, its person lookup) with its effects, once; a console
        change takes the triage item it `resolves` out of the queue."""
        case_id = change.case.case_id if change.case else None
        waits = change_waits(change)
        writes: list[dict[str, Any]] = [
            self._put(
                {
                    **_key(f"EVENT#{change.event_id}", "EVENT"),
                    TTL_ATTRIBUTE: _n(_epoch(now + EVENT_GUARD_RETENTION)),
                    # A report waiting in Triage keeps what it was (no personal data).
                    **(triage_mark(TRIAGE_WAITING, now.isoformat(), waits) if waits else {}),
                    **({"label": _s(change.label)} if waits else {}),
                },
                "attribute_not_exists(PK)",
            ),
            self._put(
                {
                    **audit_key(now, change.event_id),
                    "label": _s(change.label),
                    **({"case_id": _s(case_id)} if case_id else {}),
                    **actor_attributes(change.actor),
                }
            ),
        ]
        if change.case is not None:
            writes += self._case_writes(change.case, now)
            writes.append(self._case_event(change.case.case_id, change.event_id, "change"))
        if forget_person_key:
            writes.append(self._forget_person(forget_person_key, case_id))
        writes += self._outbox_writes(change.event_id, change.effects, case_id, now)
        if resolves:
            writes.append(self._resolve(resolves))
        self._transact(writes, change.event_id)

    def _resolve(self, item_id: str) -> dict[str, Any]:
        """Out of the triage queue (the item itself stays: an email's outcome, a report)."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": triage_key(item_id),
                "UpdateExpression": "REMOVE " + ", ".join(TRIAGE_ATTRIBUTES),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }

    def _transact(self, writes: list[dict[str, Any]], event_id: str) -> None:
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise AlreadyRecordedError(event_id) from None
            raise ConcurrentChangeError(
                f"register changed while recording {event_id}: {codes}"
            ) from None

    def _outbox_writes(
        self, event_id: str, effects: list[Effect], case_id: str | None, now: datetime
    ) -> list[dict[str, Any]]:
        return [
            self._put(
                {
                    **_key(f"{OUTBOX_PREFIX}{event_id}", f"EFFECT#{number:02d}"),
                    "effect": _s(effect.model_dump_json()),
                    **({"case_id": _s(case_id)} if case_id else {}),
                    "outbox_queue": _s(OUTBOX_QUEUE),
                    "outbox_since": _s(now.isoformat()),
                },
                "attribute_not_exists(PK)",
            )
            for number, effect in enumerate(effects)
        ]

    def _hold(self, held: HeldWithdrawal, now: datetime) -> list[dict[str, Any]]:
        expiry = {TTL_ATTRIBUTE: _n(_epoch(now + HOLD_RETENTION))}
        hold = {
            **_key(f"HOLD#{held.reference}", "HOLD"),
            "hold": _s(held.model_dump_json()),
            # In Triage until confirmed, purged (both delete it) or lapsed.
            **triage_mark(
                TRIAGE_WAITING, held.received_at.isoformat(), Waiting.HELD_WITHDRAWAL
            ),
        }
        writes = [self._put({**hold, **expiry}, "attribute_not_exists(PK)")]
        if held.person_key:
            link = _key(f"PERSONHOLD#{held.person_key}", f"HOLD#{held.reference}")
            writes.append(self._put({**link, **expiry}))
        return writes

    def _delete(self, pk: str, sk: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table_name, "Key": _key(pk, sk)}}

    def _case_event(self, case_id: str, event_id: str, kind: str) -> dict[str, Any]:
        return self._put({**_key(f"CASEEVENT#{case_id}", f"EVENT#{event_id}"), "kind": _s(kind)})

    def _forget_person(self, person_key: str, case_id: str | None) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self.table_name,
                "Key": _key(f"PERSON#{person_key}", "PERSON"),
                "ConditionExpression": "case_id = :case_id",
                "ExpressionAttributeValues": {":case_id": _s(case_id or "")},
            }
        }

    # ----- erasure (consent withdrawn) and outbox clean-up -----
    def _query_keys(self, pk: str) -> Iterator[dict[str, Any]]:
        for item in self._query_items(pk):
            yield {"PK": item["PK"], "SK": item["SK"]}

    def _query_items(self, pk: str) -> Iterator[dict[str, Any]]:
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _s(pk)},
            ConsistentRead=True,
        ):
            yield from page["Items"]

    def case_events(self, case_id: str) -> list[str]:
        """Every event (email or change) recorded about the case."""
        return [
            item["SK"]["S"].removeprefix("EVENT#")
            for item in self._query_keys(f"CASEEVENT#{case_id}")
        ]

    def erase_case_events(self, case_id: str, keep_event: str | None = None) -> int:
        """Delete the outbox items of the case's events (but `keep_event`'s: the erasing
        withdrawal's own answers), then the list of events itself. The outcomes recorded for
        its emails stay for the audit trail, without who was answered or the subjects."""
        deleted = 0
        for event_id in self.case_events(case_id):
            self._forget_recipients(event_id)
            if event_id != email_of(event_id):  # one child's part: the whole email's too
                self._forget_recipients(email_of(event_id))
            if event_id == keep_event:
                continue
            for item in self._query_keys(f"{OUTBOX_PREFIX}{event_id}"):
                self.dynamodb.delete_item(TableName=self.table_name, Key=item)
                deleted += 1
        for item in self._query_keys(f"CASEEVENT#{case_id}"):
            self.dynamodb.delete_item(TableName=self.table_name, Key=item)
        return deleted

    def _forget_recipients(self, message_id: str) -> None:
        """An erased case's email outcome keeps its outcome, reasons and kinds of effect, but
        not the addresses or subjects: at a secure address a subject is `Re: <theirs>`, which
        may name the child. Idempotent, so an erasure done again does it again harmlessly."""
        submission = self.submission(message_id)
        if submission is None or not any(e.to or e.subject for e in submission.effects):
            return
        effects = [e.model_copy(update={"to": None, "subject": None}) for e in submission.effects]
        forgotten = submission.model_copy(update={"effects": effects})
        # Gone meanwhile (an outcome about no case expires): nothing left to forget.
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_key(f"SUBMISSION#{message_id}", "SUBMISSION"),
                UpdateExpression="SET submission = :submission",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":submission": _s(forgotten.model_dump_json())},
            )

    def delete_outbox_item(self, outbox_id: str) -> None:
        """A delivered effect's stored copy (its email may hold personal data) is not kept."""
        self.dynamodb.delete_item(TableName=self.table_name, Key=_outbox_key(outbox_id))

    # ----- the outbox, as the EffectsFunction and the sweeper deliver it -----
    def outbox_entry(self, outbox_id: str) -> OutboxEntry | None:
        item = self._get(*outbox_id.partition("|")[::2])
        if item is None or "effect" not in item:
            return None
        return OutboxEntry(
            outbox_id=outbox_id,
            effect=EFFECT.validate_json(item["effect"]["S"]),
            case_id=item["case_id"]["S"] if "case_id" in item else None,
            queued_at=_moment(item.get("outbox_since")),
            sending_since=_moment(item.get("sending_since")),
        )

    def mark_sending(self, outbox_id: str, now: datetime) -> bool:
        # A token of this attempt: when the SDK retries an update whose answer was lost, the
        # retry fails its condition, and the token shows the mark is ours after all.
        attempt = uuid.uuid4().hex
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_outbox_key(outbox_id),
                UpdateExpression="SET sending_since = :now, sending_attempt = :attempt",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(sending_since)",
                ExpressionAttributeValues={":now": _s(now.isoformat()), ":attempt": _s(attempt)},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            item = self._get(*outbox_id.partition("|")[::2])
            return item is not None and item.get("sending_attempt", {}).get("S") == attempt
        return True

    def release_sending(self, outbox_id: str) -> None:
        with contextlib.suppress(self.dynamodb.exceptions.ConditionalCheckFailedException):
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_outbox_key(outbox_id),
                UpdateExpression="REMOVE sending_since, sending_attempt",
                ConditionExpression="attribute_exists(PK)",
            )

    def replace_with_alert(
        self, entry: OutboxEntry, alerts: list[EmailEffect], now: datetime
    ) -> bool:
        """The item left "sending" goes; the coordinators' alerts take its place, once."""
        event_id = f"{entry.event_id}~alert{entry.outbox_id.partition('|')[2]}"
        writes: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": _outbox_key(entry.outbox_id),
                    "ConditionExpression": "attribute_exists(sending_since)",
                }
            },
            *self._outbox_writes(event_id, list(alerts), entry.case_id, now),
        ]
        if entry.case_id:
            # Listed with the case, so an erasure removes an alert not yet sent.
            writes.append(self._case_event(entry.case_id, event_id, "alert"))
        try:
            self.dynamodb.transact_write_items(TransactItems=writes)
        except self.dynamodb.exceptions.TransactionCanceledException:
            return False
        return True

    def undelivered_outbox(self, queued_before: datetime) -> list[str]:
        """Outbox items queued before this moment and still undelivered, oldest first."""
        found = []
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=OUTBOX_INDEX,
            KeyConditionExpression="outbox_queue = :queue AND outbox_since < :before",
            ExpressionAttributeValues={
                ":queue": _s(OUTBOX_QUEUE),
                ":before": _s(queued_before.isoformat()),
            },
        ):
            found += [f"{item['PK']['S']}|{item['SK']['S']}" for item in page["Items"]]
        return found

    def oldest_undelivered(self) -> datetime | None:
        response = self.dynamodb.query(
            TableName=self.table_name,
            IndexName=OUTBOX_INDEX,
            KeyConditionExpression="outbox_queue = :queue",
            ExpressionAttributeValues={":queue": _s(OUTBOX_QUEUE)},
            Limit=1,
        )
        items = response.get("Items", [])
        return _moment(items[0].get("outbox_since")) if items else None

    def closed_cases(self, closed_by: date, limit: int) -> list[str]:
        """Ids of cases that left the register on or before `closed_by` (the ClosedByDay
        index, eventually consistent), oldest first, at most `limit`."""
        found: list[str] = []
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=CLOSED_INDEX,
            KeyConditionExpression="retention_queue = :queue AND closed_on <= :by",
            ExpressionAttributeValues={
                ":queue": _s(CLOSED_QUEUE),
                ":by": _s(closed_by.isoformat()),
            },
            PaginationConfig={"PageSize": limit},
        ):
            found += [item["PK"]["S"].removeprefix("CASE#") for item in page["Items"]]
            if len(found) >= limit:
                break
        return found[:limit]

    def triage_marks(self, queue: str, until: str | None = None) -> list[tuple[str, str, str]]:
        """(item id, why it waits, since) of one triage queue's items (the TriageQueue index,
        eventually consistent), oldest first, `triage_since` up to `until` inclusive. Item
        ids as shared.console.waiting's, and `case:<case id>`."""
        condition = "triage_queue = :queue" + (" AND triage_since <= :until" if until else "")
        values = {":queue": _s(queue), **({":until": _s(until)} if until else {})}
        kinds = {"SUBMISSION": "email", "HOLD": "hold", "EVENT": "event", "CASE": "case"}
        found = []
        paginator = self.dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=TRIAGE_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
        ):
            for item in page["Items"]:
                prefix, _, ref = item["PK"]["S"].partition("#")
                found.append(
                    (f"{kinds[prefix]}:{ref}", item["triage_kind"]["S"], item["triage_since"]["S"])
                )
        return found

    def waiting_report_label(self, event_id: str) -> str | None:
        item = self._get(f"EVENT#{event_id}", "EVENT")
        return item["label"]["S"] if item and "label" in item else None

    def unrecorded_emails(self, case_id: str) -> list[str]:
        emails = []
        for item in self._query_items(f"CASEEVENT#{case_id}"):
            if item.get("kind", {}).get("S") != "email":
                continue
            message_id = email_of(item["SK"]["S"].removeprefix("EVENT#"))
            if self._get(f"SUBMISSION#{message_id}", "SUBMISSION") is None:
                emails.append(message_id)
        return list(dict.fromkeys(emails))

    def _put(
        self,
        item: dict[str, Any],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table_name, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    def _case_writes(self, case: Case, now: datetime) -> list[dict[str, Any]]:
        expected = case.version
        expiry = (
            {TTL_ATTRIBUTE: _n(_epoch(case.pending_expires_at))} if case.pending_expires_at else {}
        )
        closed = closed_on(case)
        retention = (
            {"retention_queue": _s(CLOSED_QUEUE), "closed_on": _s(closed.isoformat())}
            if closed is not None
            else {}
        )
        case_item = {
            **_key(f"CASE#{case.case_id}", "CASE"),
            "status": _s(case.status.value),
            "version": _n(expected + 1),
            "case": _s(case.model_dump_json(exclude={"version"})),
            **expiry,
            **retention,
            **_case_triage(case),
        }
        if expected == 0:
            case_write = self._put(case_item, "attribute_not_exists(PK)")
        else:
            case_write = self._put(case_item, "version = :expected", {":expected": _n(expected)})
        if case.status is CaseStatus.WITHDRAWN:
            return [case_write]  # the person lookup is erased (Decision.forget_person_key)
        person_item = {
            **_key(f"PERSON#{case.person_key}", "PERSON"),
            "case_id": _s(case.case_id),
            "open": {"BOOL": case.status.is_open},
            **expiry,
        }
        if expected == 0:
            # A lapsed pending case (expired, not yet removed by TTL) or a closed case may be
            # followed by a new one; an open case may not.
            person_write = self._put(
                person_item,
                f"attribute_not_exists(PK) OR {TTL_ATTRIBUTE} < :now OR #open = :closed",
                {":now": _n(_epoch(now)), ":closed": {"BOOL": False}},
            )
            person_write["Put"]["ExpressionAttributeNames"] = {"#open": "open"}
        else:
            person_write = self._put(
                person_item, "case_id = :case_id", {":case_id": _s(case.case_id)}
            )
        return [case_write, person_write]


def _case_triage(case: Case) -> dict[str, dict[str, str]]:
    """A pending case by when it lapses, a case on the register by its review day: Triage
    reads the few near or past them, never the whole table."""
    if case.status.is_pending and case.pending_expires_at is not None:
        return triage_mark(TRIAGE_LAPSING, case.pending_expires_at.isoformat(), Waiting.LAPSING)
    if case.status is CaseStatus.ACTIVE and case.next_review_on is not None:
        return triage_mark(
            TRIAGE_REVIEW, case.next_review_on.isoformat(), Waiting.REVIEW_OVERDUE
        )
    return {}


def outbox_id_of(keys: dict[str, Any]) -> str | None:
    """The outbox id ("<PK>|<SK>") of a stream record's keys; None if not an outbox item."""
    pk = keys.get("PK", {}).get("S", "")
    if not pk.startswith(OUTBOX_PREFIX):
        return None
    return f"{pk}|{keys['SK']['S']}"
