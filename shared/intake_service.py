"""Processing one stored email: read it, decide, record the outcome once.

Pure orchestration over plain interfaces; the IntakeFunction wires the AWS adapters in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.case import Decision, Submission, part_submission_id
from shared.clock import CLOCK
from shared.errors import AlreadyRecordedError
from shared.intake import IdentityHasher, IntakeContext, IntakeDecider, Register
from shared.mail import parse_mail
from shared.settings import Settings


class MailStore(Protocol):
    def read(self, key: str) -> bytes: ...


class RecordingRegister(Register, Protocol):
    def submission(self, message_id: str) -> Submission | None: ...

    def record(
        self, message_id: str, header_message_id: str | None, decision: Decision, now: datetime
    ) -> Submission: ...


@dataclass(frozen=True)
class IntakeResult:
    submission: Submission
    redelivered: bool  # True when this message id already had its outcome


def message_id_of(key: str) -> str:
    """SES names the object after its message id: `inbound/<ses-message-id>`."""
    return key.rsplit("/", 1)[-1]


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
        mail = parse_mail(
            self.mail_store.read(key),
            self.settings.trusted_forwarders,
            max_part_bytes=self.settings.max_attachment_bytes,
        )
        now = self.clock()
        decision = IntakeDecider(
            IntakeContext(self.settings, now), self.register, self.hasher
        ).decide(mail, message_id)
        for number, part in enumerate(decision.parts, start=1):
            part_id = part_submission_id(message_id, number)
            if self.register.submission(part_id) is None:  # a retry keeps what was recorded
                with contextlib.suppress(AlreadyRecordedError):  # another delivery won
                    self.register.record(part_id, None, part, now)
        try:
            submission = self.register.record(message_id, mail.duplicate_key, decision, now)
        except AlreadyRecordedError:
            # Another delivery of this message won the race: its outcome stands.
            recorded = self.register.submission(message_id)
            assert recorded is not None
            return IntakeResult(recorded, redelivered=True)
        return IntakeResult(submission, redelivered=False)
