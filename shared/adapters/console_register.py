"""What the console reads and writes beyond the intake's register and mail store: the audit
line of a view, a case's own audit lines and email outcomes, an email's files, and the
erasure of a dismissed email. Keys come from shared.adapters.register_table.keys."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from shared.adapters.mail_store import RawMailStore, raw_mail_key
from shared.adapters.register_table import RegisterTable
from shared.adapters.register_table.keys import (
    TRIAGE_LAPSING,
    TRIAGE_REVIEW,
    TRIAGE_WAITING,
    actor_attributes,
    audit_key,
    case_event_id,
    case_events_partition,
    text,
)
from shared.case import Actor, AuditEntry, Case, Submission
from shared.console.roles import CONSOLE_EVENT
from shared.console.triage import LAPSING_WITHIN, TriageRead, WaitingReport
from shared.console.waiting import Waiting
from shared.effects import MAX_ORIGINALS_BYTES
from shared.errors import RawMailMissingError
from shared.mail import Attachment, parse_mail


class ConsoleRegisterTable(RegisterTable):
    def audit_view(
        self,
        actor: Actor,
        label: str,
        case_id: str | None,
        now: datetime,
        *,
        message_id: str | None = None,
    ) -> str:
        """One audit line for a view of a person's data (no change, no event guard: every
        view is its own line): of a case, or of an email waiting in Triage (`message_id`:
        one about no case yet). Returns its event id."""
        event_id = f"console-view-{uuid.uuid4().hex}"
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={
                **audit_key(now, event_id),
                "label": text(label),
                **({"case_id": text(case_id)} if case_id else {}),
                **({"message_id": text(message_id)} if message_id else {}),
                **actor_attributes(actor),
            },
        )
        return event_id

    def case_audit(self, case: Case, until: datetime) -> list[AuditEntry]:
        """The case's audit lines, oldest first (from the month it was opened)."""
        return [
            entry
            for entry in self.audit_entries(case.created_at, until)
            if entry.case_id == case.case_id
        ]

    def case_submissions(self, case_id: str) -> list[tuple[str, Submission | None]]:
        """Each email (or console decision) recorded about the case, with its outcome (None
        while unrecorded); the changes (reminders, corrections) have none. Oldest first by
        the moment each was recorded (the partition's own order is the event ids'), the
        unrecorded last: the order the case page lists them and numbers their files in."""
        found = [
            (case_event_id(item), self.submission(case_event_id(item)))
            for item in self._query_items(case_events_partition(case_id))
            if item.get("kind", {}).get("S") == "email"
        ]
        recorded = {event_id: submission.received_at for event_id, submission in found
                    if submission is not None}  # fmt: skip
        # Within one second (the clock's grain) an email comes before the console's decisions
        # about it: a decision can only follow what it decides on.
        return sorted(found, key=lambda pair: (pair[0] not in recorded,
                                               recorded.get(pair[0], datetime.min),
                                               pair[0].startswith(CONSOLE_EVENT)))  # fmt: skip


    def triage_waiting(self, now: datetime) -> TriageRead:
        """What the TriageQueue index lists as waiting: emails' outcomes, holds and reports
        (all of them, few), pending cases lapsing within LAPSING_WITHIN and cases whose
        review day is past - never a scan of the table."""
        read = TriageRead()
        overdue_by = (now.date() - timedelta(days=1)).isoformat()
        marks = [
            *self.triage_marks(TRIAGE_WAITING),
            *self.triage_marks(TRIAGE_LAPSING, (now + LAPSING_WITHIN).isoformat()),
            *self.triage_marks(TRIAGE_REVIEW, overdue_by),
        ]
        for item_id, why, since in marks:
            kind, _, ref = item_id.partition(":")
            if kind == "email" and (submission := self.submission(ref)) is not None:
                read.emails.append((submission, Waiting(why), datetime.fromisoformat(since)))
            elif kind == "hold" and (held := self.held_withdrawal(ref)) is not None:
                read.holds.append(held)
            elif kind == "event" and (label := self.waiting_report_label(ref)) is not None:
                read.reports.append(WaitingReport(ref, label, datetime.fromisoformat(since)))
            elif kind == "case" and (case := self.case(ref)) is not None:
                read.cases.append(case)
        return read


class ConsoleMailStore(RawMailStore):
    def raw_email(self, message_id: str) -> bytes:
        return self.read(raw_mail_key(message_id))

    def files(self, message_id: str) -> list[Attachment]:
        """Every file of the email as it came (none once it has expired or was erased)."""
        try:
            raw = self.raw_email(message_id)
        except RawMailMissingError:
            return []
        return list(parse_mail(raw, max_part_bytes=MAX_ORIGINALS_BYTES).attachments)

    def discard(self, message_id: str) -> None:
        """Erase a dismissed email (deleting one already gone succeeds: safe to repeat)."""
        self.s3.delete_object(Bucket=self.bucket, Key=raw_mail_key(message_id))
