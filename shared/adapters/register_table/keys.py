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

import hashlib
from datetime import datetime, timedelta
from typing import Any

from shared.case import Actor
from shared.console.waiting import Waiting

Attributes = dict[str, dict[str, str]]  # an item's (or its key's) attribute values
Key = Attributes

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


# ----- attribute values -----
def text(value: str) -> dict[str, str]:
    return {"S": value}


def number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def moment(attribute: dict[str, str] | None) -> datetime | None:
    return datetime.fromisoformat(attribute["S"]) if attribute and "S" in attribute else None


# ----- each kind of item's key (the table above) -----
def key(pk: str, sk: str) -> Key:
    return {"PK": text(pk), "SK": text(sk)}


def case_key(case_id: str) -> Key:
    return key(f"CASE#{case_id}", "CASE")


def case_id_of(item: dict[str, Any]) -> str:
    return str(item["PK"]["S"]).removeprefix("CASE#")


def person_lookup_key(person_key: str) -> Key:
    return key(f"PERSON#{person_key}", "PERSON")


def submission_key(message_id: str) -> Key:
    return key(f"SUBMISSION#{message_id}", "SUBMISSION")


def header_partition(header_message_id: str) -> str:
    return "HEADER#" + hashlib.sha256(header_message_id.strip().encode("utf-8")).hexdigest()


def header_key(header_message_id: str) -> Key:
    return key(header_partition(header_message_id), "HEADER")


def audit_partition(month: datetime) -> str:
    return f"AUDIT#{month:%Y-%m}"


def audit_key(now: datetime, event_id: str) -> Key:
    return key(audit_partition(now), f"{now.isoformat()}#{event_id}")


def outbox_partition(event_id: str) -> str:
    return f"{OUTBOX_PREFIX}{event_id}"


def outbox_key(event_id: str, effect_number: int) -> Key:
    return key(outbox_partition(event_id), f"EFFECT#{effect_number:02d}")


def outbox_item_key(outbox_id: str) -> Key:
    """The key of an outbox id ("<PK>|<SK>")."""
    pk, _, sk = outbox_id.partition("|")
    return key(pk, sk)


def outbox_id(item: dict[str, Any]) -> str:
    """The outbox id ("<PK>|<SK>") of an outbox item."""
    return f"{item['PK']['S']}|{item['SK']['S']}"


def outbox_id_of(keys: dict[str, Any]) -> str | None:
    """The outbox id of a stream record's keys; None if not an outbox item."""
    if not keys.get("PK", {}).get("S", "").startswith(OUTBOX_PREFIX):
        return None
    return outbox_id(keys)


def case_events_partition(case_id: str) -> str:
    return f"CASEEVENT#{case_id}"


def case_event_key(case_id: str, event_id: str) -> Key:
    return key(case_events_partition(case_id), f"EVENT#{event_id}")


def case_event_id(item: dict[str, Any]) -> str:
    """The event a case's event item lists."""
    return str(item["SK"]["S"]).removeprefix("EVENT#")


def event_key(event_id: str) -> Key:
    return key(f"EVENT#{event_id}", "EVENT")


def hold_key(reference: str) -> Key:
    return key(f"HOLD#{reference}", "HOLD")


def person_holds_partition(person_key: str) -> str:
    return f"PERSONHOLD#{person_key}"


def person_hold_key(person_key: str, reference: str) -> Key:
    return key(person_holds_partition(person_key), f"HOLD#{reference}")


def held_reference(item: dict[str, Any]) -> str:
    """The hold a child's held-withdrawal item points to."""
    return str(item["SK"]["S"]).removeprefix("HOLD#")


MAILBOX_DELTA_KEY = key(MAILBOX_DELTA_PK, MAILBOX_DELTA_SK)


# ----- what waits for a person (the TriageQueue index) -----
def triage_mark(queue: str, since: str, kind: Waiting) -> Attributes:
    return {
        "triage_queue": text(queue),
        "triage_since": text(since),
        "triage_kind": text(kind.value),
    }


def triage_key(item_id: str) -> Key:
    """The table item of a triage item id (shared.console.waiting)."""
    kind, _, ref = item_id.partition(":")
    return {"email": submission_key, "hold": hold_key, "event": event_key}[kind](ref)


def triage_item_id(item: dict[str, Any]) -> str:
    """The triage item id of an item the TriageQueue index lists (and `case:<case id>`)."""
    prefix, _, ref = item["PK"]["S"].partition("#")
    kinds = {"SUBMISSION": "email", "HOLD": "hold", "EVENT": "event", "CASE": "case"}
    return f"{kinds[prefix]}:{ref}"


def actor_attributes(actor: Actor | None) -> Attributes:
    """Who made a console change, on its audit line (nothing for the system's own)."""
    if actor is None:
        return {}
    return {
        "actor_sub": text(actor.sub),
        "actor_role": text(actor.role.value),
        "actor_email": text(actor.email),
    }
