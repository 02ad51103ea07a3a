"""What each of the console's actions is built on: the service's ports, the stored email
read again, and a decision recorded like an email's - against the register as read, decided
again when it changed meanwhile."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from shared.case import Actor, RegisterReads, part_submission_id
from shared.clock import CLOCK
from shared.console.act import ConsoleAct
from shared.console.ports import ActionDone, ConsoleMail, ConsoleRegister
from shared.console.roles import ConsoleAction, ConsoleDecision, event_id_for, refusal, require
from shared.errors import AlreadyRecordedError, ConcurrentChangeError, RawMailMissingError
from shared.intake import IdentityHasher
from shared.intake_service import MAX_DECISION_ATTEMPTS, ReadTracker
from shared.mail import InboundMail, parse_mail
from shared.settings import Settings


class ConsoleRecording:
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

    def _decide(self, actor: Actor, decide: Callable[[ConsoleAct], ConsoleDecision]) -> ActionDone:
        """Decided by `actor` against the register as read, recorded like an email's decision
        (decided again when the register changed meanwhile)."""
        for attempt in range(1, MAX_DECISION_ATTEMPTS + 1):
            now = self.clock()
            tracker = ReadTracker(self.register)
            made = decide(ConsoleAct(actor, self.settings, now, tracker, self.hasher))
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

    def _once(
        self,
        actor: Actor,
        action: ConsoleAction,
        token: str,
        decide: Callable[[ConsoleAct], ConsoleDecision],
    ) -> ActionDone:
        """A change from one form (a case's, a held withdrawal's): allowed for the actor's
        role, and done once."""
        require(actor, action)
        recorded = self._recorded(action, token)
        return recorded if recorded is not None else self._decide(actor, decide)

    def _recorded(self, action: ConsoleAction, token: str) -> ActionDone | None:
        """The same form again, recorded already: what it came to (deciding it again would
        find it done - the review recorded, the case erased - and refuse)."""
        event_id = event_id_for(action, token)
        recorded = self.register.submission(event_id)
        if recorded is None:
            return None
        return ActionDone(event_id, action.value, recorded.case_id, recorded.outcome.value,
                          already=True)  # fmt: skip
