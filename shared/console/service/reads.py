"""What the console shows, each view audited: a case, its subject access export, and
everything waiting in Triage (each email's sender and files from its stored copy)."""

from __future__ import annotations

from datetime import datetime

from shared.case import Actor, Case, CaseStatus, Submission, email_of
from shared.console.roles import ConsoleAction, refusal, require
from shared.console.service.recording import ConsoleRecording
from shared.console.subject_access import HeldEmail, subject_access_export
from shared.console.triage import ListedFile, TriageItem, WaitingEmail, triage_queue
from shared.console.waiting import Waiting
from shared.errors import ActionRefusedError
from shared.mail import Attachment


class ConsoleReads(ConsoleRecording):
    def view_case(self, actor: Actor, case_id: str) -> Case | None:
        require(actor, ConsoleAction.VIEW_CASE)
        case = self.register.case(case_id)
        if case is not None:
            self.register.audit_view(actor, ConsoleAction.VIEW_CASE.value, case_id, self.clock())
        return case

    def export_subject_access(self, actor: Actor, case_id: str) -> bytes:
        """The ZIP of everything held about the case's person; the export is audited first,
        so its own line is in it."""
        require(actor, ConsoleAction.EXPORT_SAR)
        case = self.register.case(case_id)
        if case is None:
            raise refusal("no-case", f"There is no case {case_id}.")
        now = self.clock()
        self.register.audit_view(actor, ConsoleAction.EXPORT_SAR.value, case_id, now)
        held: list[HeldEmail] = []
        files_of: dict[str, tuple[Attachment, ...]] = {}
        for event_id, submission in self.register.case_submissions(case_id):
            email = email_of(event_id)
            # An email's files once, with the first of its outcomes (a part, a re-decision).
            files = () if email in files_of else tuple(self.mail.files(email))
            files_of.setdefault(email, files)
            held.append(HeldEmail(event_id, submission, files))
        audit = self.register.case_audit(case, now)
        return subject_access_export(case, audit, held, now, actor)

    def triage(self, actor: Actor) -> list[TriageItem]:
        """Everything waiting for a person the actor may see, oldest first; each email's
        sender and files from its stored copy (never its text)."""
        require(actor, ConsoleAction.VIEW_TRIAGE)
        now = self.clock()
        read = self.register.triage_waiting(now)
        emails = []
        for submission, why, since in read.emails:
            if submission.case_id is not None:
                case = self.register.case(submission.case_id)
                if case is None or case.status is CaseStatus.WITHDRAWN:
                    continue  # erased with its case: nothing left to do
            emails.append(self._waiting_email(submission, why, since))
        return triage_queue(
            actor, now, emails=emails, holds=read.holds, reports=read.reports, cases=read.cases
        )

    def _waiting_email(self, submission: Submission, why: Waiting, since: datetime) -> WaitingEmail:
        try:
            mail = self._mail(email_of(submission.message_id))
        except ActionRefusedError:  # no longer held
            return WaitingEmail(submission, why, since)
        files = tuple(
            ListedFile(a.position, a.filename, a.content_type, a.full_size)
            for a in mail.attachments
        )
        return WaitingEmail(submission, why, since, mail.sender or None, files)
