"""In-memory stand-ins for the mail bucket and the register table, strict where AWS is strict.

`RecordingRegister` mirrors `shared/adapters/register_table/`: one all-or-nothing
transaction per `record`, the same conditions (a second record of a message id raises
`AlreadyRecordedError`, any other failed condition `ConcurrentChangeError`), the case and
person items, the forgotten person on withdrawal, the header reservation, the case events
and the outbox. Like DynamoDB it refuses an item over 400 KB, a transaction of more than 100
items or 4 MB, and text that is not valid UTF-8 (`ItemRejectedError`, which the intake must
never provoke). It also keeps every decision recorded, with its effects in full, for the
tests to inspect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from shared.case import (
    AuditEntry,
    Case,
    CaseStatus,
    Decision,
    Effect,
    EffectSummary,
    RegisterReads,
    Submission,
    part_submission_id,
)
from shared.errors import AlreadyRecordedError, ConcurrentChangeError, RawMailMissingError
from shared.holds import HeldWithdrawal
from shared.outcome import Outcome

ITEM_LIMIT = 400 * 1024  # DynamoDB's largest item
TRANSACTION_ITEMS = 100  # TransactWriteItems: at most 100 actions
TRANSACTION_BYTES = 4 * 1024 * 1024  # ... and 4 MB in all


class ItemRejectedError(Exception):
    """What DynamoDB would answer with a ValidationException: the write cannot be stored."""


class MemoryMailStore:
    """The raw mail bucket: `inbound/<ses message id>` -> the bytes SES stored."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, message_id: str, raw: bytes) -> str:
        key = f"inbound/{message_id}"
        self.objects[key] = raw
        return key

    def read(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise RawMailMissingError(key) from None


def _json(model: BaseModel, where: str, **kwargs: Any) -> str:
    """The model as the register table stores it (pydantic JSON); text that is not valid
    Unicode (a lone surrogate) cannot be stored, as DynamoDB would refuse it."""
    try:
        return model.model_dump_json(**kwargs)
    except PydanticSerializationError as error:
        raise ItemRejectedError(f"{where}: not valid UTF-8 ({error})") from None


def _utf8(value: str, where: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ItemRejectedError(f"{where}: not valid UTF-8 ({error.reason})") from None


def item_size(item: dict[str, str | int | bool], where: str) -> int:
    """DynamoDB's size of an item: each attribute's name plus its value, in UTF-8 bytes."""
    size = 0
    for name, value in item.items():
        size += len(_utf8(name, where))
        size += len(_utf8(value, where)) if isinstance(value, str) else 21
    if size > ITEM_LIMIT:
        raise ItemRejectedError(f"{where}: item of {size} bytes is over DynamoDB's 400 KB")
    return size


@dataclass
class _Person:
    case_id: str
    open: bool
    expires_at: datetime | None


@dataclass
class _Write:
    """One item of a transaction, checked (conditions, size) before anything is applied."""

    where: str
    item: dict[str, str | int | bool]
    apply: Any = None


@dataclass
class RecordingRegister:
    submissions: dict[str, str] = field(default_factory=dict)  # message id -> Submission JSON
    case_items: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (version, JSON)
    people: dict[str, _Person] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    holds: dict[str, HeldWithdrawal] = field(default_factory=dict)
    case_events: dict[str, list[str]] = field(default_factory=dict)
    outbox: dict[str, list[str]] = field(default_factory=dict)  # event id -> effect JSON
    audit: list[AuditEntry] = field(default_factory=list)
    decisions: dict[str, Decision] = field(default_factory=dict)  # for the tests to inspect

    # ----- the Register protocol of shared.intake -----
    def case_for_person(self, person_key: str) -> Case | None:
        person = self.people.get(person_key)
        return self.case(person.case_id) if person else None

    def case(self, case_id: str) -> Case | None:
        stored = self.case_items.get(case_id)
        if stored is None:
            return None
        version, text = stored
        case = Case.model_validate_json(text)
        case.version = version
        return case

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        return self.headers.get(header_message_id.strip())

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None:
        return self.holds.get(reference)

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        return [held for held in self.holds.values() if held.person_key == person_key]

    # ----- the RecordingRegister protocol of shared.intake_service -----
    def submission(self, message_id: str) -> Submission | None:
        text = self.submissions.get(message_id)
        return Submission.model_validate_json(text) if text else None

    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
    ) -> Submission:
        submission = Submission(
            message_id=message_id,
            outcome=decision.outcome,
            case_id=decision.case_id,
            reasons=decision.reasons,
            effects=[EffectSummary.of(effect) for effect in decision.effects],
            received_at=now,
            parts=[part_submission_id(message_id, n) for n in range(1, len(decision.parts) + 1)],
        )
        submission_json = _json(submission, f"submission {message_id}")
        writes = [
            _Write(
                f"submission {message_id}",
                {"PK": f"SUBMISSION#{message_id}", "SK": "SUBMISSION",
                 "outcome": decision.outcome.value, "submission": submission_json},
            ),
            _Write(
                f"audit {message_id}",
                {"PK": f"AUDIT#{now:%Y-%m}", "SK": f"{now.isoformat()}#{message_id}",
                 "outcome": decision.outcome.value,
                 "reason_codes": ",".join(reason.code.value for reason in decision.reasons),
                 **({"case_id": decision.case_id} if decision.case_id else {})},
            ),
        ]  # fmt: skip
        # Conditions, in the order DynamoDB reports them: the submission's first.
        if message_id in self.submissions:
            raise AlreadyRecordedError(message_id)
        header = header_message_id.strip() if header_message_id else None
        # Only trusted mail reserves its duplicate key (sender and Message-ID): a quarantined
        # forgery must not make the genuine email a silent duplicate.
        reserve_header = (
            bool(header)
            and decision.outcome is not Outcome.QUARANTINED
            and (decision.outcome is not Outcome.DUPLICATE or decision.related_case_id is not None)
        )
        if reserve_header:
            assert header is not None
            if header in self.headers:
                raise ConcurrentChangeError(f"header already reserved while recording {message_id}")
            writes.append(
                _Write(f"header {message_id}", {"PK": "HEADER#" + header, "SK": "HEADER"})
            )
        case = decision.case
        case_json = ""
        if case is not None:
            case_json = _json(case, f"case {case.case_id}", exclude={"version"})
            self._check_case(case, now)
            writes.append(
                _Write(
                    f"case {case.case_id}",
                    {"PK": f"CASE#{case.case_id}", "SK": "CASE", "status": case.status.value,
                     "version": case.version + 1, "case": case_json},
                )
            )  # fmt: skip
            if case.status is not CaseStatus.WITHDRAWN:
                writes.append(
                    _Write(
                        f"person of {case.case_id}",
                        {"PK": f"PERSON#{case.person_key}", "SK": "PERSON",
                         "case_id": case.case_id, "open": case.status.is_open},
                    )
                )  # fmt: skip
        forget = decision.forget_person_key
        if forget:
            person = self.people.get(forget)
            if person is None or person.case_id != (decision.case_id or ""):
                raise ConcurrentChangeError(f"person changed while recording {message_id}")
        if reads is not None:
            checked = reads.excluding(decision)
            for case_id, version in checked.case_versions.items():
                stored = self.case_items.get(case_id)
                if stored is None or stored[0] != version:
                    raise ConcurrentChangeError(f"case {case_id} changed since it was read")
                writes.append(_Write(f"check case {case_id}", {"PK": f"CASE#{case_id}"}))
            for person_key in checked.absent_people:
                if person_key in self.people:
                    raise ConcurrentChangeError("a case was opened for a person read as new")
                writes.append(_Write("check person", {"PK": f"PERSON#{person_key}"}))
        if decision.answered_once and decision.answered_once.strip() in self.headers:
            raise ConcurrentChangeError(f"answered already while recording {message_id}")
        if decision.hold is not None and decision.hold.reference in self.holds:
            raise ConcurrentChangeError(f"hold {decision.hold.reference} already held")
        if decision.release_hold and decision.release_hold not in self.holds:
            raise ConcurrentChangeError(f"hold {decision.release_hold} no longer held")
        effects_json = [_json(effect, f"outbox {message_id}") for effect in decision.effects]
        for number, text in enumerate(effects_json):
            writes.append(
                _Write(
                    f"outbox {message_id} effect {number}",
                    {"PK": f"OUTBOX#{message_id}", "SK": f"EFFECT#{number:02d}", "effect": text,
                     **({"case_id": decision.case_id} if decision.case_id else {})},
                )
            )  # fmt: skip
        if decision.case_id:
            writes.append(
                _Write(
                    f"case event {message_id}",
                    {"PK": f"CASEEVENT#{decision.case_id}", "SK": f"EVENT#{message_id}"},
                )
            )
        if len(writes) > TRANSACTION_ITEMS:
            raise ItemRejectedError(
                f"transaction for {message_id} has {len(writes)} items (DynamoDB allows 100)"
            )
        total = sum(item_size(write.item, write.where) for write in writes)
        if total > TRANSACTION_BYTES:
            raise ItemRejectedError(f"transaction for {message_id} is {total} bytes (over 4 MB)")

        # All conditions hold and every item fits: apply, all or nothing.
        self.submissions[message_id] = submission_json
        self.audit.append(
            AuditEntry(
                at=now,
                event_id=message_id,
                outcome=decision.outcome.value,
                label=None,
                reason_codes=tuple(reason.code.value for reason in decision.reasons),
                case_id=decision.case_id,
            )
        )
        if reserve_header:
            assert header is not None
            self.headers[header] = message_id
        if case is not None:
            self.case_items[case.case_id] = (case.version + 1, case_json)
            if case.status is not CaseStatus.WITHDRAWN:
                self.people[case.person_key] = _Person(
                    case.case_id, case.status.is_open, case.pending_expires_at
                )
        if forget:
            del self.people[forget]
        if decision.hold is not None:
            self.holds[decision.hold.reference] = decision.hold
        if decision.answered_once:
            self.headers[decision.answered_once.strip()] = message_id
        if decision.release_hold:
            del self.holds[decision.release_hold]
        for held in decision.purged_holds:
            self.holds.pop(held.reference, None)
            if decision.case_id:
                self.case_events.setdefault(decision.case_id, []).append(held.message_id)
        if decision.case_id:
            self.case_events.setdefault(decision.case_id, []).append(message_id)
        self.outbox[message_id] = effects_json
        self.decisions[message_id] = decision
        return submission

    def _check_case(self, case: Case, now: datetime) -> None:
        stored = self.case_items.get(case.case_id)
        if case.version == 0:
            if stored is not None:
                raise ConcurrentChangeError(f"case {case.case_id} already exists")
        elif stored is None or stored[0] != case.version:
            raise ConcurrentChangeError(f"case {case.case_id} changed (version)")
        if case.status is CaseStatus.WITHDRAWN:
            return
        person = self.people.get(case.person_key)
        if case.version == 0:
            # A lapsed pending case or a closed one may be followed by a new case.
            if (
                person is not None
                and person.open
                and not (person.expires_at is not None and person.expires_at < now)
            ):
                raise ConcurrentChangeError(f"person already has open case {person.case_id}")
        elif person is None or person.case_id != case.case_id:
            raise ConcurrentChangeError(f"person of case {case.case_id} changed")

    # ----- what the panel pack reads -----
    def cases(self) -> list[Case]:
        found = [self.case(case_id) for case_id in self.case_items]
        return sorted((case for case in found if case), key=lambda case: case.created_at)

    def audit_entries(self, since: datetime, until: datetime) -> list[AuditEntry]:
        return [entry for entry in self.audit if since <= entry.at <= until]

    # ----- for the tests -----
    def effects_of(self, message_id: str) -> list[Effect]:
        """Every effect recorded for an email and for each child's part of it."""
        decision = self.decisions.get(message_id)
        if decision is None:
            return []
        effects = list(decision.effects)
        for number, part in enumerate(decision.parts, start=1):
            recorded = self.decisions.get(part_submission_id(message_id, number), part)
            effects += recorded.effects
        return effects

    def stored_text(self) -> str:
        """Everything held, as the table would hold it (for searches)."""
        return json.dumps(
            [self.submissions, {k: v[1] for k, v in self.case_items.items()}, self.outbox]
        )
