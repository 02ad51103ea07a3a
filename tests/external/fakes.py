"""In-memory stand-ins for the IntakeService's store and register, for running real mail
through the whole intake in-process, as the IntakeFunction does, without AWS.

The register refuses what DynamoDB would: an item over 400 KB, a transaction over 100
items or 4 MB, and text that is not valid UTF-8 (a lone surrogate). So an outcome that could
not be stored in AWS fails here too, in the `record` stage, instead of passing unnoticed.
"""

from __future__ import annotations

from datetime import datetime

from shared.case import Case, Decision, Effect, EffectSummary, Submission, part_submission_id
from shared.errors import AlreadyRecordedError

MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024


class UnstorableError(Exception):
    """What DynamoDB would refuse (a ValidationException)."""


class MailStore:
    """The raw mail bucket: one email, under the key SES would give it."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.reads = 0

    def read(self, key: str) -> bytes:
        self.reads += 1
        return self.raw


def _stored(text: str, what: str) -> int:
    """The size DynamoDB would count for one string attribute, or UnstorableError."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnstorableError(f"{what} is not valid UTF-8") from None
    if size > MAX_ITEM_BYTES:
        raise UnstorableError(f"{what} is {size} bytes, over DynamoDB's item limit")
    return size


class RecordingRegister:
    """The register as a dict: what `RegisterTable` reads and writes for an email, with
    DynamoDB's limits on what one transaction can store."""

    def __init__(self) -> None:
        self.submissions: dict[str, Submission] = {}
        self.cases_by_id: dict[str, Case] = {}
        self.person_cases: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.outbox: dict[str, list[Effect]] = {}  # the effects recorded, by message id

    # The reads the decision makes (shared.intake.Register).
    def case_for_person(self, person_key: str) -> Case | None:
        case_id = self.person_cases.get(person_key)
        return self.cases_by_id.get(case_id) if case_id else None

    def case(self, case_id: str) -> Case | None:
        return self.cases_by_id.get(case_id)

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        return self.headers.get(header_message_id.strip())

    def submission(self, message_id: str) -> Submission | None:
        return self.submissions.get(message_id)

    def record(
        self, message_id: str, header_message_id: str | None, decision: Decision, now: datetime
    ) -> Submission:
        """Store the outcome, case and outbox as RegisterTable's one transaction would."""
        if message_id in self.submissions:
            raise AlreadyRecordedError(message_id)
        submission = Submission(
            message_id=message_id,
            outcome=decision.outcome,
            case_id=decision.case_id,
            reasons=decision.reasons,
            effects=[EffectSummary.of(effect) for effect in decision.effects],
            received_at=now,
            parts=[part_submission_id(message_id, n) for n in range(1, len(decision.parts) + 1)],
        )
        items = [_stored(submission.model_dump_json(), "the submission")]
        items.append(_stored(message_id, "the audit entry"))
        if header_message_id:
            _stored(header_message_id, "the Message-ID header")
        if decision.case is not None:
            items.append(_stored(decision.case.model_dump_json(), "the case"))
            items.append(_stored(decision.case.person_key or "", "the person lookup"))
        items += [
            _stored(effect.model_dump_json(), "an outbox item") for effect in decision.effects
        ]
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise UnstorableError(f"a transaction of {len(items)} items")
        if sum(items) > MAX_TRANSACTION_BYTES:
            raise UnstorableError(f"a transaction of {sum(items)} bytes")
        self.submissions[message_id] = submission
        self.outbox[message_id] = list(decision.effects)
        if header_message_id and decision.outcome.value not in ("duplicate", "quarantined"):
            self.headers.setdefault(header_message_id.strip(), message_id)
        if decision.case is not None:
            self.cases_by_id[decision.case.case_id] = decision.case.model_copy(
                update={"version": decision.case.version + 1}
            )
            if decision.case.person_key:
                self.person_cases[decision.case.person_key] = decision.case.case_id
        if decision.forget_person_key:
            self.person_cases.pop(decision.forget_person_key, None)
        return submission
