"""What the console's service asks of the register and the mail store (the AWS adapters are
shared.adapters.console_register), and what it answers the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.case import Actor, AuditEntry, Case, CaseChange, Decision, RegisterReads, Submission
from shared.console.triage import TriageRead
from shared.intake_service import RecordingRegister
from shared.mail import Attachment


class ConsoleRegister(RecordingRegister, Protocol):
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
    ) -> Submission: ...

    def record_change(
        self,
        change: CaseChange,
        now: datetime,
        forget_person_key: str | None = None,
        *,
        resolves: str | None = None,
    ) -> None: ...

    def triage_waiting(self, now: datetime) -> TriageRead: ...

    def audit_view(
        self,
        actor: Actor,
        label: str,
        case_id: str | None,
        now: datetime,
        *,
        message_id: str | None = None,
    ) -> str: ...

    def case_audit(self, case: Case, until: datetime) -> list[AuditEntry]: ...

    # Oldest first, by when each was recorded: the order emails are listed and numbered in.
    def case_submissions(self, case_id: str) -> list[tuple[str, Submission | None]]: ...

    def case_events(self, case_id: str) -> list[str]: ...


class ConsoleMail(Protocol):
    def raw_email(self, message_id: str) -> bytes:
        """The stored email; RawMailMissingError once it has expired or was erased."""
        ...

    def files(self, message_id: str) -> list[Attachment]: ...

    def discard(self, message_id: str) -> None: ...


@dataclass(frozen=True)
class ActionDone:
    """What an action came to, for the page (ids and codes only)."""

    event_id: str
    label: str
    case_id: str | None
    outcome: str | None  # a decision's outcome; None for a change
    already: bool = False  # this very form (or release, entry) was recorded before
