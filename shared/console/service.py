"""The console's actions carried out: read what the action needs, decide it (the pure
functions of shared.console), record it in one transaction with its outbox - against the
register as read, decided again when it changed meanwhile - and audit who did it.

Pure orchestration over plain interfaces, like shared.intake_service; the console's handler
wires the AWS adapters in (shared.adapters.console_register)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime

from shared.case import (
    Actor,
    Case,
    CaseChange,
    CaseStatus,
    RegisterReads,
    Submission,
    email_of,
    part_submission_id,
)
from shared.clock import CLOCK
from shared.console.case_actions import close_case, record_review, withdraw_consent
from shared.console.corrections import correct_field
from shared.console.manual_entry import EnteredForm, enter_by_hand
from shared.console.ports import ActionDone, ConsoleMail, ConsoleRegister
from shared.console.quarantine import dismiss, release
from shared.console.roles import (
    TRIAGED,
    ConsoleAction,
    ConsoleDecision,
    event_id_for,
    redecision_id,
    refusal,
    require,
)
from shared.console.self_referrals import DECLINED, decline, verify
from shared.console.subject_access import HeldEmail, subject_access_export
from shared.console.triage import ListedFile, TriageItem, WaitingEmail, triage_queue
from shared.console.waiting import Waiting, event_item
from shared.errors import (
    ActionRefusedError,
    AlreadyRecordedError,
    ConcurrentChangeError,
    RawMailMissingError,
)
from shared.intake import IdentityHasher, Register
from shared.intake_service import MAX_DECISION_ATTEMPTS, ReadTracker
from shared.mail import Attachment, InboundMail, parse_mail
from shared.outcome import Outcome
from shared.settings import Settings


class ConsoleService:
    def __init__(
        self,
        settings: Settings,
        register: ConsoleRegister,
        mail: ConsoleMail,
        hasher: IdentityHasher,
        clock: Callable[[], datetime] = CLOCK.now,
    ) -> None:
        self.settings = settings
        self.register = register
        self.mail = mail
        self.hasher = hasher
        self.clock = clock

    # ----- views: each audited -----
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

    # ----- changes of a case -----
    def correct(
        self, actor: Actor, token: str, case_id: str, field: str, value: str, reason: str
    ) -> ActionDone:
        require(actor, ConsoleAction.CORRECT)
        event_id = event_id_for(ConsoleAction.CORRECT, token)
        if event_id in self.register.case_events(case_id):
            # The same form again: done already (its value is now the one held).
            return ActionDone(event_id, ConsoleAction.CORRECT.value, case_id, None, already=True)
        for attempt in range(1, MAX_DECISION_ATTEMPTS + 1):
            case = self.register.case(case_id)
            if case is None:
                raise refusal("no-case", f"There is no case {case_id}.")
            now = self.clock()
            change = correct_field(
                case, field, value, reason, actor=actor, token=token, settings=self.settings,
                now=now,
            )  # fmt: skip
            done = ActionDone(change.event_id, change.label, case_id, None)
            try:
                self.register.record_change(change, now)
            except AlreadyRecordedError:
                return ActionDone(change.event_id, change.label, case_id, None, already=True)
            except ConcurrentChangeError:
                if attempt == MAX_DECISION_ATTEMPTS:
                    raise
                continue
            return done
        raise AssertionError("unreachable")

    def review(
        self, actor: Actor, token: str, case_id: str, typed: Mapping[str, str]
    ) -> ActionDone:
        return self._once(
            actor, ConsoleAction.REVIEW, token,
            lambda register, now: record_review(
                register.case(case_id), case_id, typed, actor=actor, token=token,
                settings=self.settings, now=now, register=register, hasher=self.hasher,
            )
        )  # fmt: skip

    def close(self, actor: Actor, token: str, case_id: str, removal_reason: str) -> ActionDone:
        return self._once(
            actor, ConsoleAction.CLOSE, token,
            lambda register, now: close_case(
                register.case(case_id), case_id, removal_reason, actor=actor, token=token,
                settings=self.settings, now=now, register=register, hasher=self.hasher,
            )
        )  # fmt: skip

    def withdraw(
        self, actor: Actor, token: str, case_id: str, typed: Mapping[str, str]
    ) -> ActionDone:
        return self._once(
            actor, ConsoleAction.WITHDRAW, token,
            lambda register, now: withdraw_consent(
                register.case(case_id), case_id, typed, actor=actor, token=token,
                settings=self.settings, now=now, register=register, hasher=self.hasher,
            )
        )  # fmt: skip

    # ----- emails waiting for a person -----
    def release(self, actor: Actor, message_id: str) -> ActionDone:
        require(actor, ConsoleAction.RELEASE)
        mail = self._mail(message_id)
        return self._decide(
            lambda register, now: release(
                mail, message_id, self.register.submission(message_id),
                self.register.submission(redecision_id(message_id, TRIAGED)), actor=actor,
                settings=self.settings, now=now, register=register, hasher=self.hasher,
            )
        )  # fmt: skip

    def dismiss(self, actor: Actor, message_id: str) -> ActionDone:
        """Recorded first, then the raw email erased: a dismissal repeated after a failed
        erasure finds it recorded and erases it again."""
        require(actor, ConsoleAction.DISMISS)
        triaged = self.register.submission(redecision_id(message_id, TRIAGED))
        if triaged is not None and triaged.outcome is Outcome.QUARANTINED:
            self.mail.discard(message_id)
            return ActionDone(triaged.message_id, ConsoleAction.DISMISS.value, None,
                              triaged.outcome.value, already=True)  # fmt: skip
        done = self._decide(
            lambda register, now: dismiss(
                message_id, self.register.submission(message_id), triaged, actor=actor
            )
        )
        self.mail.discard(message_id)
        return done

    def verify(self, actor: Actor, message_id: str) -> ActionDone:
        """A self-referral decided as from its sender (shared.console.self_referrals)."""
        require(actor, ConsoleAction.VERIFY)
        triaged = self.register.submission(redecision_id(message_id, TRIAGED))
        if triaged is not None and not any(r.message == DECLINED for r in triaged.reasons):
            return ActionDone(triaged.message_id, ConsoleAction.VERIFY.value, triaged.case_id,
                              triaged.outcome.value, already=True)  # fmt: skip
        mail = self._mail(message_id)
        return self._decide(
            lambda register, now: verify(
                mail, message_id, self.register.submission(message_id),
                self.register.submission(redecision_id(message_id, TRIAGED)), actor=actor,
                settings=self.settings, now=now, register=register, hasher=self.hasher,
            )
        )  # fmt: skip

    def decline(self, actor: Actor, message_id: str) -> ActionDone:
        """Recorded and its sender told, then the raw email erased (as a dismissal's: a
        decline repeated after a failed erasure erases it again)."""
        require(actor, ConsoleAction.DECLINE)
        triaged = self.register.submission(redecision_id(message_id, TRIAGED))
        if triaged is not None and any(r.message == DECLINED for r in triaged.reasons):
            self.mail.discard(message_id)
            return ActionDone(triaged.message_id, ConsoleAction.DECLINE.value, None,
                              triaged.outcome.value, already=True)  # fmt: skip
        mail = self._mail(message_id)
        done = self._decide(
            lambda register, now: decline(
                mail, message_id, self.register.submission(message_id), triaged, actor=actor,
                settings=self.settings, now=now,
            )
        )  # fmt: skip
        self.mail.discard(message_id)
        return done

    def note(self, actor: Actor, token: str, event_id: str) -> ActionDone:
        """A bounced answer dealt with (the sender reached another way): out of Triage,
        audited with who did it."""
        require(actor, ConsoleAction.NOTE)
        change = CaseChange(
            event_id=event_id_for(ConsoleAction.NOTE, token), label=ConsoleAction.NOTE.value,
            actor=actor,
        )  # fmt: skip
        try:
            self.register.record_change(change, self.clock(), resolves=event_item(event_id))
        except AlreadyRecordedError:
            return ActionDone(change.event_id, change.label, None, None, already=True)
        return ActionDone(change.event_id, change.label, None, None)

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

    def enter_by_hand(
        self,
        actor: Actor,
        message_id: str,
        entered: list[EnteredForm],
        *,
        send_rejection: bool = False,
    ) -> ActionDone:
        require(actor, ConsoleAction.ENTER_BY_HAND)
        mail = self._mail(message_id)

        def standing() -> Submission | None:
            released = self.register.submission(redecision_id(message_id, TRIAGED))
            return released or self.register.submission(message_id)

        return self._decide(
            lambda register, now: enter_by_hand(
                mail, message_id, standing(), entered, actor=actor, settings=self.settings,
                now=now, register=register, hasher=self.hasher, send_rejection=send_rejection,
            )
        )  # fmt: skip

    def _once(
        self,
        actor: Actor,
        action: ConsoleAction,
        token: str,
        decide: Callable[[Register, datetime], ConsoleDecision],
    ) -> ActionDone:
        """A case's change from one form: allowed for the actor's role, and done once."""
        require(actor, action)
        recorded = self._recorded(action, token)
        return recorded if recorded is not None else self._decide(decide)

    def _recorded(self, action: ConsoleAction, token: str) -> ActionDone | None:
        """The same form again, recorded already: what it came to (deciding it again would
        find it done - the review recorded, the case erased - and refuse)."""
        event_id = event_id_for(action, token)
        recorded = self.register.submission(event_id)
        if recorded is None:
            return None
        return ActionDone(event_id, action.value, recorded.case_id, recorded.outcome.value,
                          already=True)  # fmt: skip

    def _mail(self, message_id: str) -> InboundMail:
        try:
            raw = self.mail.raw_email(message_id)
        except RawMailMissingError:
            raise refusal("no-email", "That email is no longer held.") from None
        return parse_mail(
            raw,
            self.settings.trusted_forwarders,
            max_part_bytes=self.settings.max_attachment_bytes,
        )

    # ----- recording a decision like an email's -----
    def _decide(self, decide: Callable[[Register, datetime], ConsoleDecision]) -> ActionDone:
        for attempt in range(1, MAX_DECISION_ATTEMPTS + 1):
            now = self.clock()
            tracker = ReadTracker(self.register)
            made = decide(tracker, now)
            try:
                return self._record(made, tracker.reads, now)
            except AlreadyRecordedError:
                recorded = self.register.submission(made.event_id)
                return ActionDone(
                    made.event_id,
                    made.label,
                    recorded.case_id if recorded else None,
                    recorded.outcome.value if recorded else None,
                    already=True,
                )
            except ConcurrentChangeError:
                if attempt == MAX_DECISION_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _record(self, made: ConsoleDecision, reads: RegisterReads, now: datetime) -> ActionDone:
        decision = made.decision
        checked: RegisterReads | None = reads
        if decision.parts:
            # Several children's forms (a released email): each part recorded against what
            # it read, as the intake records them; the summary then checks nothing more.
            expected = RegisterReads(dict(reads.case_versions), set(reads.absent_people))
            for number, part in enumerate(decision.parts, start=1):
                with contextlib.suppress(AlreadyRecordedError):
                    self.register.record(
                        part_submission_id(made.event_id, number), None, part, now,
                        expected.excluding(part), actor=made.actor, label=made.label,
                    )  # fmt: skip
                if part.case is not None:
                    expected.case_versions[part.case.case_id] = part.case.version + 1
                    expected.absent_people.discard(part.case.person_key)
            checked = None
        submission = self.register.record(
            made.event_id, made.header_message_id, decision, now, checked,
            actor=made.actor, label=made.label, resolves=made.resolves,
        )  # fmt: skip
        return ActionDone(made.event_id, made.label, submission.case_id, submission.outcome.value)
