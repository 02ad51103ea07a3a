"""Processing one stored email: read it, decide, record the outcome once.

Pure orchestration over plain interfaces; the IntakeFunction wires the AWS adapters in.
A decision is recorded only against the register state it read: when another email or a
withdrawal changed that state first, the email is decided again on the fresh state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.case import Case, Decision, RegisterReads, Submission, part_submission_id
from shared.clock import CLOCK
from shared.errors import AlreadyRecordedError, ConcurrentChangeError, RawMailMissingError
from shared.holds import HeldWithdrawal
from shared.intake import IdentityHasher, IntakeContext, IntakeDecider, Register, summary_outcome
from shared.mail import InboundMail, parse_mail
from shared.settings import Settings

# Deciding again after a lost race; more races than this in one invocation go back to the
# queue, which delivers the email again later.
MAX_DECISION_ATTEMPTS = 3


class MailStore(Protocol):
    def read(self, key: str) -> bytes: ...


class RecordingRegister(Register, Protocol):
    def submission(self, message_id: str) -> Submission | None: ...

    def record(
        self,
        message_id: str,
        header_message_id: str | None,
        decision: Decision,
        now: datetime,
        reads: RegisterReads | None = None,
    ) -> Submission: ...


@dataclass(frozen=True)
class IntakeResult:
    submission: Submission
    redelivered: bool  # True when this message id already had its outcome


def message_id_of(key: str) -> str:
    """SES names the object after its message id: `inbound/<ses-message-id>`."""
    return key.rsplit("/", 1)[-1]


class ReadTracker:
    """The register as one decision sees it, noting what it read (RegisterReads)."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.reads = RegisterReads({}, set())

    def _seen(self, case: Case | None) -> Case | None:
        if case is not None:
            self.reads.case_versions.setdefault(case.case_id, case.version)
        return case

    def case_for_person(self, person_key: str) -> Case | None:
        case = self.register.case_for_person(person_key)
        if case is None:
            self.reads.absent_people.add(person_key)
        return self._seen(case)

    def case(self, case_id: str) -> Case | None:
        return self._seen(self.register.case(case_id))

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        return self.register.first_submission_with_header(header_message_id)

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        return self.register.holds_for_person(person_key)

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None:
        # Not a read to check: confirming releases the hold on the condition it is still held.
        return self.register.held_withdrawal(reference)


class IntakeService:
    def __init__(
        self,
        settings: Settings,
        mail_store: MailStore,
        register: RecordingRegister,
        hasher: IdentityHasher,
        clock: Callable[[], datetime] = CLOCK.now,
    ) -> None:
        self.settings = settings
        self.mail_store = mail_store
        self.register = register
        self.hasher = hasher
        self.clock = clock

    def process(self, key: str) -> IntakeResult:
        message_id = message_id_of(key)
        recorded = self.register.submission(message_id)
        if recorded is not None:
            return IntakeResult(recorded, redelivered=True)
        try:
            raw = self.mail_store.read(key)
        except RawMailMissingError:
            # Expired or erased before it had its outcome: a redrive must still end it.
            return self._no_longer_held(message_id)
        mail = parse_mail(
            raw,
            self.settings.trusted_forwarders,
            max_part_bytes=self.settings.max_attachment_bytes,
        )
        for attempt in range(1, MAX_DECISION_ATTEMPTS + 1):
            try:
                return self._decide_and_record(mail, message_id)
            except ConcurrentChangeError:
                if attempt == MAX_DECISION_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _decide_and_record(self, mail: InboundMail, message_id: str) -> IntakeResult:
        now = self.clock()
        tracker = ReadTracker(self.register)
        decision = IntakeDecider(
            IntakeContext(self.settings, now), tracker, self.hasher
        ).decide(mail, message_id)
        reads: RegisterReads | None = tracker.reads
        if decision.parts:
            decision = self._record_parts(message_id, decision, tracker.reads, now)
            reads = None  # each part was recorded against what it read
        try:
            submission = self.register.record(
                message_id, mail.duplicate_key, decision, now, reads
            )
        except AlreadyRecordedError:
            # Another delivery of this message won the race: its outcome stands.
            recorded = self.register.submission(message_id)
            assert recorded is not None
            return IntakeResult(recorded, redelivered=True)
        return IntakeResult(submission, redelivered=False)

    def _no_longer_held(self, message_id: str) -> IntakeResult:
        now = self.clock()
        decision = IntakeDecider(
            IntakeContext(self.settings, now), self.register, self.hasher
        ).no_longer_held(message_id)
        try:
            return IntakeResult(self.register.record(message_id, None, decision, now), False)
        except AlreadyRecordedError:
            recorded = self.register.submission(message_id)
            assert recorded is not None
            return IntakeResult(recorded, redelivered=True)

    def _record_parts(
        self, message_id: str, decision: Decision, reads: RegisterReads, now: datetime
    ) -> Decision:
        """Record each child's part not yet recorded; the email's outcome then summarises the
        parts as recorded (a retry keeps what an earlier delivery recorded, never re-judges
        it: a child accepted then would look 'already on the register' now)."""
        expected = RegisterReads(dict(reads.case_versions), set(reads.absent_people))
        outcomes = []
        for number, part in enumerate(decision.parts, start=1):
            part_id = part_submission_id(message_id, number)
            recorded = self.register.submission(part_id)
            if recorded is None:
                with contextlib.suppress(AlreadyRecordedError):  # another delivery won
                    recorded = self.register.record(
                        part_id, None, part, now, expected.excluding(part)
                    )
                if part.case is not None:
                    # The next part may read the case this one wrote: check against that.
                    expected.case_versions[part.case.case_id] = part.case.version + 1
                    expected.absent_people.discard(part.case.person_key)
                recorded = recorded or self.register.submission(part_id)
            assert recorded is not None
            outcomes.append(recorded.outcome)
        return decision.model_copy(update={"outcome": summary_outcome(outcomes)})
