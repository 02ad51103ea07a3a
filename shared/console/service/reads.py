"""What the console shows, each view audited: a case, its subject access export, and
everything waiting in Triage (each email's sender, subject, the start of its text and its
files from its stored copy; a file downloaded), and what a Triage decision came to."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

from shared.case import Actor, Case, CaseStatus, Submission, email_of
from shared.console.roles import ALLOWED, ConsoleAction, refusal, require
from shared.console.service.recording import ConsoleRecording
from shared.console.subject_access import HeldEmail, file_name, subject_access_export
from shared.console.triage import (
    ListedFile,
    TriageItem,
    WaitingEmail,
    excerpt_of,
    triage_queue,
)
from shared.console.waiting import Waiting
from shared.console.wording import CameOf, came_of
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
        sender, subject, the start of its text and its files from its stored copy."""
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
        return WaitingEmail(submission, why, since, mail.sender or None, files, mail.subject,
                            excerpt_of(mail.body_text))  # fmt: skip

    def waiting_file(
        self, actor: Actor, message_id: str, position: int
    ) -> tuple[str, Attachment] | None:
        """One file of an email waiting in Triage (only one waiting: never any stored email
        by its id) and a safe name to save it as (its case's reference, or when it came, and
        its position: the sender's filename may hold anything); the download audited as a
        case's file is."""
        require(actor, ConsoleAction.VIEW_EMAIL)
        now = self.clock()
        waiting = [(s, since) for s, _, since in self.register.triage_waiting(now).emails
                   if s.message_id == message_id]  # fmt: skip
        if not waiting:
            return None
        submission, since = waiting[0]
        try:
            mail = self._mail(email_of(message_id))
        except ActionRefusedError:  # no longer held
            return None
        found = [a for a in mail.attachments if a.position == position]
        if not found:
            return None
        self.register.audit_view(
            actor, ConsoleAction.VIEW_EMAIL.value, submission.case_id, now, message_id=message_id
        )
        extension = PurePosixPath(file_name(1, found[0])).suffix
        named = submission.case_id or f"triage-{since:%Y%m%d-%H%M}"
        return f"{named}-attachment-{position}{extension}", found[0]

    def came_of(self, actor: Actor, event_id: str) -> CameOf | None:
        """What a Triage decision (its event id) came to, for its confirmation; None when it
        is not recorded, or not the actor's to see."""
        if actor.role not in ALLOWED[ConsoleAction.VIEW_EMAIL]:
            return None
        submission = self.register.submission(event_id)
        if submission is None:
            return None
        case = self.register.case(submission.case_id) if submission.case_id else None
        return came_of(submission, case)
