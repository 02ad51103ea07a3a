"""Held withdrawals dealt with from Triage: confirmed (applied as the emailed confirmation
is) or declined, each from one form, done once however often it is sent."""

from __future__ import annotations

from shared.case import Actor
from shared.console.held_withdrawals import confirm_withdrawal, decline_withdrawal
from shared.console.ports import ActionDone
from shared.console.roles import ConsoleAction
from shared.console.service.recording import ConsoleRecording


class HeldWithdrawals(ConsoleRecording):
    def confirm_withdrawal(self, actor: Actor, token: str, reference: str) -> ActionDone:
        return self._once(
            actor, ConsoleAction.CONFIRM_WITHDRAWAL, token,
            lambda act: confirm_withdrawal(act, reference, token),
        )  # fmt: skip

    def decline_withdrawal(self, actor: Actor, token: str, reference: str) -> ActionDone:
        return self._once(
            actor, ConsoleAction.DECLINE_WITHDRAWAL, token,
            lambda act: decline_withdrawal(act, reference, token),
        )  # fmt: skip
