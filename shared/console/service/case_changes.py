"""Changes of a case from its page: a correction, a review, a closure, consent withdrawn -
each from one form, allowed for the actor's role, done once however often it is sent."""

from __future__ import annotations

from collections.abc import Mapping

from shared.case import Actor
from shared.console.case_actions import close_case, record_review, withdraw_consent
from shared.console.corrections import correct_field
from shared.console.ports import ActionDone
from shared.console.roles import ConsoleAction, event_id_for, refusal, require
from shared.console.service.recording import ConsoleRecording
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.intake_service import MAX_DECISION_ATTEMPTS


class CaseChanges(ConsoleRecording):
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
            lambda act: record_review(act, act.register.case(case_id), case_id, typed, token),
        )  # fmt: skip

    def close(self, actor: Actor, token: str, case_id: str, removal_reason: str) -> ActionDone:
        return self._once(
            actor, ConsoleAction.CLOSE, token,
            lambda act: close_case(act, act.register.case(case_id), case_id, removal_reason, token),
        )  # fmt: skip

    def withdraw(
        self, actor: Actor, token: str, case_id: str, typed: Mapping[str, str]
    ) -> ActionDone:
        return self._once(
            actor, ConsoleAction.WITHDRAW, token,
            lambda act: withdraw_consent(act, act.register.case(case_id), case_id, typed, token),
        )  # fmt: skip
