"""Emails and reports waiting for a person, dealt with from Triage: a quarantined email
released or dismissed, a self-referral verified or declined, a scanned form entered by
hand, a bounced answer noted."""

from __future__ import annotations

from shared.case import Actor, CaseChange, Submission
from shared.console.manual_entry import EnteredForm, enter_by_hand
from shared.console.ports import ActionDone
from shared.console.quarantine import dismiss, release
from shared.console.roles import TRIAGED, ConsoleAction, event_id_for, redecision_id, require
from shared.console.self_referrals import DECLINED, decline, verify
from shared.console.service.recording import ConsoleRecording
from shared.console.waiting import event_item
from shared.errors import AlreadyRecordedError
from shared.outcome import Outcome


class TriageDecisions(ConsoleRecording):
    def _outcomes(self, message_id: str) -> tuple[Submission | None, Submission | None]:
        """The email's recorded outcome and its triage's (a release, a verification...), as
        this attempt reads them."""
        recorded = self.register.submission(message_id)
        return recorded, self.register.submission(redecision_id(message_id, TRIAGED))

    def release(self, actor: Actor, message_id: str) -> ActionDone:
        require(actor, ConsoleAction.RELEASE)
        mail = self._mail(message_id)
        return self._decide(
            actor,
            lambda act: release(act, mail, message_id, *self._outcomes(message_id)),
        )

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
            actor,
            lambda act: dismiss(
                message_id, self.register.submission(message_id), triaged, actor=act.actor
            ),
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
            actor,
            lambda act: verify(act, mail, message_id, *self._outcomes(message_id)),
        )

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
            actor,
            lambda act: decline(act, mail, message_id, self.register.submission(message_id),
                                triaged),
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
            actor,
            lambda act: enter_by_hand(
                act, mail, message_id, standing(), entered, send_rejection=send_rejection
            ),
        )
