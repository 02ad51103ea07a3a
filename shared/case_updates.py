"""Review outcome and withdrawal forms: finding the case they are about and applying them.

Pure, like shared.intake: the register and the identity hasher are passed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from shared.case import (
    Case,
    CaseStatus,
    Closure,
    ClosureReason,
    Decision,
    Effect,
    EraseEffect,
    RatingChange,
    ReviewRecord,
    UnscheduleEffect,
)
from shared.forms.case_forms import CaseIdentity, ReviewOutcome, Withdrawal
from shared.forms.reader import label
from shared.holds import HeldWithdrawal
from shared.mail import InboundMail
from shared.notices import Answering, Notices, case_flags
from shared.outcome import Outcome, Reason, ReasonCode
from shared.reminders import reminder_effect
from shared.retention import erased_by_retention
from shared.settings import Settings

_REVIEW_KEYS = ("review_due:", "review_overdue:", "first_review_overdue")


class CaseRegister(Protocol):
    def case(self, case_id: str) -> Case | None: ...

    def case_for_person(self, person_key: str) -> Case | None: ...

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]: ...


class Hasher(Protocol):
    def person_key(self, nhs_number: str) -> str: ...


class CaseLookupError(Exception):
    """The form names no case we may act on; `reason` says why."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.code.value)
        self.reason = reason


def _not_found(form_id: str, message: str, field: str | None = "case_reference") -> Reason:
    return Reason(code=ReasonCode.CASE_NOT_FOUND, field=field, message=message, form=form_id)


def find_case(identity: CaseIdentity, form_id: str, register: CaseRegister, hasher: Hasher) -> Case:
    """The case the form is about: by its reference, else by NHS number and date of birth.

    Either way the NHS number and date of birth must be the case's. A withdrawn case is
    returned as its tombstone (nothing left to match it against).
    """
    if identity.case_reference is not None:
        case = register.case(identity.case_reference)
        if case is None:
            raise CaseLookupError(
                _not_found(
                    form_id,
                    f"There is no DSR case with the reference on the form. Please check the "
                    f"{label('case_reference', form_id)} against the register's emails.",
                )
            )
        if case.status is CaseStatus.WITHDRAWN:
            return case
    else:
        found = register.case_for_person(hasher.person_key(identity.nhs_number))
        if found is None:
            raise CaseLookupError(
                _not_found(
                    form_id,
                    "No DSR case was found for the NHS number and date of birth on the form, and "
                    "no case reference was given. Please add the case reference.",
                    "child_nhs_number",
                )
            )
        case = found
    child = case.child
    if child is None or child.nhs_number != identity.nhs_number:
        raise CaseLookupError(
            Reason(
                code=ReasonCode.IDENTITY_MISMATCH,
                field="child_nhs_number",
                form=form_id,
                message="The NHS number on the form is not the one held for this case. Please "
                "check the case reference and the NHS number.",
            )
        )
    if child.date_of_birth != identity.date_of_birth:
        raise CaseLookupError(
            Reason(
                code=ReasonCode.IDENTITY_MISMATCH,
                field="child_date_of_birth",
                form=form_id,
                message="The date of birth on the form is not the one held for this case. Please "
                "check it.",
            )
        )
    return case


def _already_done(
    form_id: str, case: Case, message: str, effects: list[Effect] | None = None
) -> Decision:
    """The form asks for what the register already holds: nothing changes, nobody is told."""
    return Decision(
        outcome=Outcome.DUPLICATE,
        reasons=[Reason(code=ReasonCode.ALREADY_ON_REGISTER, form=form_id, message=message)],
        related_case_id=case.case_id,
        effects=effects or [],
    )


class CaseFormDecider:
    """What a review outcome or withdrawal form means for its case."""

    def __init__(
        self, settings: Settings, now: datetime, register: CaseRegister, hasher: Hasher
    ) -> None:
        self.settings = settings
        self.now = now
        self.today = now.date()
        self.register = register
        self.hasher = hasher
        self.notices = Notices(settings)

    def _reject(self, mail: InboundMail, reasons: list[Reason], case_id: str | None) -> Decision:
        return Decision(
            outcome=Outcome.REJECTED,
            reasons=reasons,
            effects=list(
                self.notices.rejection(
                    mail.sender, reasons, answering=Answering.to(mail, self.now)
                )
            ),
            related_case_id=case_id,
        )

    def _confirmation(
        self, name: str, mail: InboundMail, case: Case, **values: str
    ) -> list[Effect]:
        if mail.sender in self.settings.coordinator_addresses:
            return []  # a coordinator gets the coordinators' notification already
        flags = case_flags(case, self.today)
        return list(
            self.notices.acknowledgement(
                name,
                mail.sender,
                case,
                answering=Answering.to(mail, self.now),
                case_flags=flags,
                **values,
            )
        )

    # ----- review outcome -----
    def review(self, mail: InboundMail, message_id: str, review: ReviewOutcome) -> Decision:
        form_id = "DSR-REVIEW-1"
        try:
            case = find_case(review.identity, form_id, self.register, self.hasher)
        except CaseLookupError as error:
            return self._reject(mail, [error.reason], None)
        problems = self._review_problems(case, review)
        if problems:
            return self._reject(mail, problems, case.case_id)
        if any(
            recorded.review_date == review.review_date
            and recorded.rating == (review.rating or case.rating)
            and recorded.outcome_summary == review.outcome_summary
            for recorded in case.reviews
        ):
            return _already_done(
                form_id,
                case,
                f"This review of {review.review_date:%d/%m/%Y} is already recorded on case "
                f"{case.case_id}.",
            )
        updated = self._apply_review(case.model_copy(deep=True), review, message_id)
        uk_review = review.review_date.strftime("%d/%m/%Y")
        if updated.status is CaseStatus.CLOSED:
            headline = "removed from the register by the panel"
            effects: list[Effect] = [
                *self.notices.coordinator_notification(
                    headline, Outcome.UPDATED.value, updated, message_id, self.today
                ),
                *self._confirmation("case_removed", mail, updated, review_date=uk_review),
                UnscheduleEffect(case_id=updated.case_id),
            ]
        else:
            before, after = case.rating, updated.rating
            change = (
                f"rating changed from {before.value} to {after.value}"
                if before and after and before != after
                else f"rating {after.value} confirmed"
                if after
                else "recorded"
            )
            effects = [
                *self.notices.coordinator_notification(
                    f"review recorded, {change}",
                    Outcome.UPDATED.value,
                    updated,
                    message_id,
                    self.today,
                ),
                *self._confirmation("review_recorded", mail, updated, review_date=uk_review),
                reminder_effect(updated, self.settings, self.now),
            ]
        return Decision(outcome=Outcome.UPDATED, case=updated, effects=effects)

    def _review_problems(self, case: Case, review: ReviewOutcome) -> list[Reason]:
        form_id = "DSR-REVIEW-1"
        if case.status is not CaseStatus.ACTIVE:
            situation = {
                CaseStatus.AWAITING_CONSENT: "is waiting for its consent form and is not on the register yet",
                CaseStatus.AWAITING_REFERRAL: "is waiting for its referral form and is not on the register yet",
                CaseStatus.CLOSED: "has been closed",
                CaseStatus.WITHDRAWN: "was closed and its details erased after the retention "
                "period"
                if erased_by_retention(case)
                else "was withdrawn and its details erased",
            }[case.status]
            return [
                _not_found(form_id, f"Case {case.case_id} {situation}: no review can be recorded.")
            ]
        problems = []
        accepted = case.accepted_at.date() if case.accepted_at else self.today
        if review.review_date < accepted:
            problems.append(
                Reason(
                    code=ReasonCode.DATE_INVALID,
                    field="review_date",
                    form=form_id,
                    message=f"The {label('review_date', form_id)} is before the case joined the "
                    f"register ({accepted:%d/%m/%Y}). Please check it.",
                )
            )
        latest = max((recorded.review_date for recorded in case.reviews), default=None)
        if latest is not None and review.review_date < latest:
            problems.append(
                Reason(
                    code=ReasonCode.DATE_INVALID,
                    field="review_date",
                    form=form_id,
                    message=f"A later review ({latest:%d/%m/%Y}) is already recorded for case "
                    f"{case.case_id}. Please check the {label('review_date', form_id)}.",
                )
            )
        red_until = review.red_until or case.red_until
        if (
            red_until is not None
            and review.review_date < red_until
            and review.rating is not None
            and review.rating.value != "Red"
            and not review.remove_from_register
        ):
            problems.append(
                Reason(
                    code=ReasonCode.FIELD_INVALID,
                    field="rag_rating",
                    form=form_id,
                    message="After a discharge from hospital the rating must stay Red for at least "
                    f"14 days (until {red_until:%d/%m/%Y}). Please rate the case Red.",
                )
            )
        return problems

    def _apply_review(self, case: Case, review: ReviewOutcome, message_id: str) -> Case:
        rating = review.rating or case.rating
        assert rating is not None
        if review.remove_from_register:
            next_review = None
        elif review.next_review_date is not None:
            next_review = review.next_review_date
        else:
            next_review = review.review_date + timedelta(
                days=self.settings.review_interval_days(rating)
            )
        case.reviews.append(
            ReviewRecord(
                review_date=review.review_date,
                rating=rating,
                outcome_summary=review.outcome_summary,
                actions=review.actions,
                next_review_on=next_review,
                discharge_date=review.discharge_date,
                keyworker_referred=review.keyworker_referred,
                keyworker_name=review.keyworker_name,
                ctr_recommended=review.ctr_recommended,
                ctr_date=review.ctr_date,
                ctr_outcome=review.ctr_outcome,
                reviewer_name=review.reviewer_name,
                reviewer_role=review.reviewer_role,
                message_id=message_id,
                recorded_at=self.now,
            )
        )
        if rating != case.rating:
            case.rating_history.append(
                RatingChange(rating=rating, on=review.review_date, source="review")
            )
            case.rating = rating
        if review.red_until is not None:
            case.red_until = review.red_until
        # The review reminders of the old due date are spent; the new ones start afresh.
        case.reminders_sent = [
            key for key in case.reminders_sent if not key.startswith(_REVIEW_KEYS)
        ]
        case.next_review_on = next_review
        if review.remove_from_register:
            case.status = CaseStatus.CLOSED
            case.closure = Closure(
                reason=ClosureReason.REMOVED_BY_PANEL,
                on=review.review_date,
                detail=review.removal_reason,
                recorded_at=self.now,
            )
        case.updated_at = self.now
        case.submissions.append(message_id)
        return case

    # ----- withdrawal of consent -----
    def withdraw(self, mail: InboundMail, message_id: str, withdrawal: Withdrawal) -> Decision:
        """Consent is the child's: it is withdrawn from the child's current case (the one
        their person lookup names), even when the form gives the reference of an older,
        closed case of theirs."""
        form_id = "DSR-WITHDRAWAL-1"
        try:
            named = find_case(withdrawal.identity, form_id, self.register, self.hasher)
            case = self._current_case(named, withdrawal.identity, form_id)
        except CaseLookupError as error:
            return self._reject(mail, [error.reason], None)
        if case.status is CaseStatus.WITHDRAWN:
            return _already_done(
                form_id,
                case,
                f"Case {case.case_id} was closed and the person's details erased after the "
                "retention period."
                if erased_by_retention(case)
                else f"Consent for case {case.case_id} has already been withdrawn and the "
                "person's details erased.",
                # This email names the person again: it is erased like the first one.
                [EraseEffect(case_id=case.case_id)],
            )
        # The person lookup is deleted only when it names this case (the table deletes it on
        # that condition): a case it no longer names keeps the lookup of the newer one.
        person = self.register.case_for_person(case.person_key) if case.person_key else None
        forget = case.person_key if person is not None and person.case_id == case.case_id else None
        tombstone = case.tombstone(
            Closure(
                reason=ClosureReason.CONSENT_WITHDRAWN,
                on=withdrawal.withdrawal_date,
                recorded_at=self.now,
            ),
            self.now,
        )
        uk_date = withdrawal.withdrawal_date.strftime("%d/%m/%Y")
        note = (
            ""
            if named.case_id == case.case_id
            else f"The form gave the reference {named.case_id}, an earlier case of the same "
            f"child; consent was withdrawn from their current case, {case.case_id}.\n\n"
        )
        headline = f"consent withdrawn from {uk_date}, personal data erased"
        if note:
            headline += (
                f" (the form named their earlier case {named.case_id}, which keeps its record)"
            )
        effects: list[Effect] = [
            # The tombstone carries no personal data, so neither do these emails.
            *self.notices.coordinator_notification(
                headline, Outcome.WITHDRAWN.value, tombstone, message_id
            ),
            *self._confirmation(
                "withdrawal_confirmed", mail, tombstone, withdrawal_date=uk_date, case_note=note
            ),
            EraseEffect(case_id=case.case_id),
        ]
        return Decision(
            outcome=Outcome.WITHDRAWN,
            case=tombstone,
            forget_person_key=forget,
            effects=effects,
            # Held withdrawals for the same child go too (they name the child), and their
            # emails are erased with the case.
            purged_holds=self.register.holds_for_person(case.person_key) if case.person_key else [],
        )

    def _current_case(self, named: Case, identity: CaseIdentity, form_id: str) -> Case:
        """The child's current case when the form names an older one of theirs (a closed
        case, the person lookup naming a newer case), its identity checked like the named
        one's; else the named case."""
        if named.status is CaseStatus.WITHDRAWN or not named.person_key:
            return named  # a tombstone: nothing left to find the child by
        current = self.register.case_for_person(named.person_key)
        if current is None or current.case_id == named.case_id:
            return named
        child = current.child
        if (
            child is None
            or child.nhs_number != identity.nhs_number
            or child.date_of_birth != identity.date_of_birth
        ):
            raise CaseLookupError(
                Reason(
                    code=ReasonCode.IDENTITY_MISMATCH,
                    field="child_date_of_birth",
                    form=form_id,
                    message=f"Case {named.case_id} is an earlier case of this child; their "
                    f"current case, {current.case_id}, holds other details, so consent cannot be "
                    "withdrawn automatically. A coordinator should check both cases.",
                )
            )
        return current
