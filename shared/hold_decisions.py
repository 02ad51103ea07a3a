"""What a withdrawal from outside the team, and a coordinator's confirmation of it, come to
(shared.holds says what a hold is). Pure, like shared.intake."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shared.case import Decision, Effect
from shared.case_updates import CaseFormDecider, CaseRegister, Hasher
from shared.forms.case_forms import Withdrawal
from shared.holds import HOLD_DAYS, HOLD_RETENTION, HeldWithdrawal, hold_reference_for
from shared.mail import InboundMail
from shared.notices import Answering, Notices
from shared.outcome import Outcome, Reason, ReasonCode
from shared.settings import Settings


class HoldRegister(CaseRegister, Protocol):
    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None: ...


def _details(withdrawal: Withdrawal) -> str:
    identity = withdrawal.identity
    lines = [
        f"Case reference given: {identity.case_reference or '(none)'}",
        f"NHS number: {identity.nhs_number}",
        f"Date of birth: {identity.date_of_birth:%d/%m/%Y}",
        f"Withdrawn by: {' '.join(withdrawal.withdrawn_by_name.split())} "
        f"({' '.join(withdrawal.withdrawn_by_relationship.split())})",
        f"Withdrawal date: {withdrawal.withdrawal_date:%d/%m/%Y}",
    ]
    return "\n" + "\n".join(lines) + "\n"


class HoldDecider:
    def __init__(
        self, settings: Settings, now: datetime, register: HoldRegister, hasher: Hasher
    ) -> None:
        self.settings = settings
        self.now = now
        self.register = register
        self.hasher = hasher
        self.notices = Notices(settings)

    def hold(
        self,
        mail: InboundMail,
        message_id: str,
        withdrawal: Withdrawal,
        *,
        from_family: bool = False,
    ) -> Decision:
        """Held, unread against the register: the sender learns nothing of whether the child
        is on it; the coordinators get the details and the reference to confirm.
        `from_family`: an authenticated address outside the allowed domains (a family's)."""
        held = HeldWithdrawal(
            reference=hold_reference_for(message_id),
            message_id=message_id,
            sender=mail.sender,
            withdrawal=withdrawal,
            received_at=self.now,
            # A keyed hash, computed without reading the register.
            person_key=self.hasher.person_key(withdrawal.identity.nhs_number),
        )
        effects: list[Effect] = [
            *self.notices.withdrawal_held(
                held, _details(withdrawal), HOLD_DAYS, from_family=from_family
            ),
            *self.notices.withdrawal_received(held, answering=Answering.to(mail, self.now)),
        ]
        where = (
            "a family's own address outside the allowed domains (SPF, DKIM and DMARC passed)"
            if from_family
            else "outside the DSR team"
        )
        reason = Reason(
            code=ReasonCode.WITHDRAWAL_HELD,
            message=f"A withdrawal from {where}, held as {held.reference} until a coordinator "
            "confirms it.",
        )
        return Decision(outcome=Outcome.HELD, reasons=[reason], hold=held, effects=effects)

    def confirm(self, mail: InboundMail, message_id: str, reference: str) -> Decision:
        """A coordinator confirms a held withdrawal: it is applied now, against the register
        as it is now, exactly as if the coordinator had sent the form; its sender is told."""
        held = self.register.held_withdrawal(reference)
        if held is not None and held.received_at + HOLD_RETENTION < self.now:
            held = None  # lapsed (the table's TTL removes it within a day or two)
        if held is None:
            return self._refuse(
                mail,
                f"No withdrawal is held as {reference}: it was confirmed already, or it is "
                f"older than {HOLD_DAYS} days, or the reference is mistyped. If the family "
                "still wants consent withdrawn, send the withdrawal form yourself from your "
                "coordinator address: it is applied straight away.",
            )
        cases = CaseFormDecider(self.settings, self.now, self.register, self.hasher)
        decision = cases.withdraw(mail, message_id, held.withdrawal)
        if decision.outcome is Outcome.WITHDRAWN and decision.case is not None and (
            self._given_since(decision.case.case_id, held)
        ):
            # The child's current case began, or consent was given again, after the
            # withdrawal was sent: an old hold never erases it.
            refused = self._refuse(
                mail,
                f"The withdrawal held as {reference} came before the child's current case was "
                "opened, or consent was given again, so it is not applied to it. Please check "
                "with the family.",
            )
            refused.release_hold = reference
            return refused
        if decision.outcome is Outcome.WITHDRAWN and all(
            other.reference != held.reference for other in decision.purged_holds
        ):
            decision.purged_holds.append(held)  # its email is erased with the case
        if decision.outcome is Outcome.WITHDRAWN and decision.case is not None:
            uk_date = held.withdrawal.withdrawal_date.strftime("%d/%m/%Y")
            decision.effects += self.notices.acknowledgement(
                "withdrawal_confirmed",
                held.sender,
                decision.case,
                withdrawal_date=uk_date,
                case_note="",
                case_flags="",
            )
        # Answered either way: a case not found or mismatched is the coordinator's to resolve.
        decision.release_hold = reference
        return decision

    def _refuse(self, mail: InboundMail, message: str) -> Decision:
        """To the coordinator who confirmed: why not, without blank forms (none was wrong)."""
        reason = Reason(code=ReasonCode.CASE_NOT_FOUND, message=message)
        answer = self.notices.rejection(
            mail.sender, [reason], answering=Answering.to(mail, self.now), with_forms=False
        )
        return Decision(outcome=Outcome.REJECTED, reasons=[reason], effects=list(answer))

    def _given_since(self, case_id: str, held: HeldWithdrawal) -> bool:
        """Whether the case was opened, or its consent recorded, after the hold came."""
        case = self.register.case(case_id)
        if case is None:
            return False
        moments = [case.created_at, *(record.recorded_at for record in case.consent_history)]
        return max(moments) > held.received_at
