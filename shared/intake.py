"""The intake decision: one email in, exactly one outcome out, with the case state to store
and the effects to deliver. Pure: the register and the identity hasher are passed in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.blank_forms import CONSENT_FORM, REFERRAL_FORM
from shared.bounces import bounce_notice
from shared.case import (
    Case,
    CaseStatus,
    ConsentRecord,
    Decision,
    Effect,
    RatingChange,
    case_reference_for,
    email_of,
    part_submission_id,
)
from shared.case_updates import CaseFormDecider
from shared.console.roles import TRIAGED, redecision_id
from shared.forms.case_forms import validate_review, validate_withdrawal
from shared.forms.consent import Consent, identity_mismatches, validate_consent
from shared.forms.fields import FormKind, RawForm
from shared.forms.found import MAX_CHILDREN_PER_EMAIL, FoundForms, by_child, find_forms, sources
from shared.forms.reader import clean_answer
from shared.forms.referral import Referral, validate_referral
from shared.hold_decisions import HoldDecider
from shared.holds import HeldWithdrawal, confirmation_in
from shared.mail import InboundMail, is_authenticated, is_team_sender, trust_reasons
from shared.mail.trust import is_authenticated_family
from shared.notices import Answering, Notices
from shared.outcome import Outcome, Reason, ReasonCode
from shared.reminders import reminder_effect
from shared.settings import Settings
from shared.synthetic import test_number_refusals


class Register(Protocol):
    """What the decision needs to know of the register (a DynamoDB adapter in production)."""

    def case_for_person(self, person_key: str) -> Case | None: ...

    def case(self, case_id: str) -> Case | None: ...

    def first_submission_with_header(self, header_message_id: str) -> str | None: ...

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None: ...

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]: ...


class IdentityHasher(Protocol):
    def person_key(self, nhs_number: str) -> str: ...


@dataclass
class IntakeContext:
    settings: Settings
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


# Which outcome an email with several children's forms is recorded with: the first of these
# any part has (a rejected child matters more than an accepted one).
_ATTENTION = [
    Outcome.REJECTED,
    Outcome.PENDING,
    Outcome.HELD,
    Outcome.PASSED_ON,
    Outcome.UPDATED,
    Outcome.ACCEPTED,
    Outcome.DUPLICATE,
    Outcome.WITHDRAWN,
    Outcome.QUARANTINED,
]


MAX_REFERENCES_READ = 5
_PASSED_ON_SUBJECT = re.compile(r"passed to a coordinator", re.IGNORECASE)
_CASE_REFERENCE = re.compile(r"\bDSR-[A-HJ-NP-Z2-9]{8}\b", re.IGNORECASE)


def _holds_no_form(found: FoundForms) -> bool:
    """Nothing in the email is or may be a form: only the NO_FORM_FOUND reason."""
    return (
        not (found.referrals or found.consents or found.case_forms or found.unreadable)
        and bool(found.reasons)
        and all(reason.code is ReasonCode.NO_FORM_FOUND for reason in found.reasons)
    )


def _only_unreadable(reasons: list[Reason]) -> bool:
    """Every reason is a file that could not be read (a scan): the coordinators enter it."""
    return bool(reasons) and all(r.code is ReasonCode.FORM_UNREADABLE for r in reasons)


def _answering_about(answering: Answering, found: FoundForms) -> Answering:
    """The answer names the child by the initials of the name their forms gave, if any."""
    for form in [*found.referrals, *found.consents]:
        given = clean_answer(form.fields.get("child_given_name", ""))
        family = clean_answer(form.fields.get("child_family_name", ""))
        if given.strip() or family.strip():
            return answering.about(given, family)
    return answering


def summary_outcome(part_outcomes: list[Outcome]) -> Outcome:
    """An email with several children's forms: the part outcome that most needs attention."""
    return min(part_outcomes, key=_ATTENTION.index)


class IntakeDecider:
    """Decides what one trusted-or-not email means for the register."""

    def __init__(self, context: IntakeContext, register: Register, hasher: IdentityHasher) -> None:
        self.context = context
        self.settings = context.settings
        self.register = register
        self.hasher = hasher
        self.notices = Notices(context.settings)
        # Deciding a self-referral a coordinator verified: a referral the register already
        # holds for the child (a professional's) is kept, never replaced by the family's.
        self.verifying = False

    def decide(self, mail: InboundMail, message_id: str) -> Decision:
        untrusted = trust_reasons(mail, self.settings)
        if untrusted and is_authenticated_family(mail, self.settings, untrusted):
            taken = self._from_family(mail, message_id)
            if taken is not None:
                return taken
        if untrusted:
            return self._quarantine(mail, message_id, untrusted)
        return self.decide_as_trusted(mail, message_id)

    def decide_verified(self, mail: InboundMail, message_id: str) -> Decision:
        """A self-referral a coordinator verified (shared.console.self_referrals): decided as
        from its sender, except that a referral already held for the child wins."""
        self.verifying = True
        try:
            return self.decide_as_trusted(mail, message_id)
        finally:
            self.verifying = False

    def decide_as_trusted(self, mail: InboundMail, message_id: str) -> Decision:
        """The email as from its sender, its trust reasons waived: a coordinator's release of
        a quarantined email (shared.console.quarantine, which never releases VIRUS or SPAM)."""
        first = self.register.first_submission_with_header(mail.duplicate_key)
        if first is not None and first != email_of(message_id):
            # The very same email again (same sender and Message-ID, or same bytes): it already
            # has its outcome and was answered then, whatever that outcome was. (Its own
            # outcome, awaiting verification, reserved them: its verification is no copy.)
            return Decision(outcome=Outcome.DUPLICATE)

        confirmed = confirmation_in(mail.own_text) if mail.body_is_main else None
        if confirmed is not None:
            return self._confirm_hold(mail, message_id, confirmed)

        found = find_forms(mail, self.settings)
        if found.passed_on_case_forms:
            return self._quarantine(
                mail,
                message_id,
                [
                    Reason(
                        code=ReasonCode.SENDER_NOT_ALLOWED,
                        message="The email passes on a review outcome or withdrawal form from "
                        "a forwarded or quoted message. Such forms are taken only from the "
                        "coordinator or panel member who sends them, attached to or typed "
                        "in their own email. A coordinator should check it.",
                    )
                ],
            )
        if mail.replies_to_us and _holds_no_form(found):
            # "Reply to this email and a coordinator will contact you": a person reads it.
            return self._pass_on(mail, message_id)
        children = by_child(found) if not found.reasons and not found.case_forms else [found]
        if len(children) > MAX_CHILDREN_PER_EMAIL:
            return self._reject(
                mail,
                [
                    Reason(
                        code=ReasonCode.FIELD_INVALID,
                        message=f"The email holds forms for {len(children)} children; at most "
                        f"{MAX_CHILDREN_PER_EMAIL} are read from one email. Please send them "
                        "in several emails.",
                    )
                ],
            )
        if len(children) > 1:
            decision = self._decide_each_child(mail, message_id, children)
        else:
            decision = self._decide_forms(mail, message_id, found)
        if found.unreadable and decision.outcome is not Outcome.QUARANTINED:
            decision.effects += self.notices.manual_entry(
                list(found.unreadable.values()),
                message_id,
                tuple(found.unreadable),
                decision.outcome.value,
                case_id=decision.case_id,
                received_at=self.context.now,
                sender_told=decision.outcome is Outcome.REJECTED
                and _only_unreadable(decision.reasons),
            )
        return decision

    def decide_entered(
        self, mail: InboundMail, message_id: str, entered: list[RawForm]
    ) -> Decision:
        """The email decided again with the forms a coordinator typed from its unreadable
        files (a scan) in place of those files (shared.console.manual_entry): the outcome,
        the case and the sender's answer are what the emailed forms would have had. Its trust
        and its duplicate key were judged when it was first decided (or released)."""
        found = find_forms(mail, self.settings)
        typed = FoundForms(
            referrals=[*found.referrals, *(f for f in entered if f.kind is FormKind.REFERRAL)],
            consents=[*found.consents, *(f for f in entered if f.kind is FormKind.CONSENT)],
            case_forms=found.case_forms,
            reasons=[r for r in found.reasons if r.code is not ReasonCode.FORM_UNREADABLE],
        )
        children = by_child(typed) if not typed.reasons and not typed.case_forms else [typed]
        if len(children) > 1:
            return self._decide_each_child(mail, message_id, children)
        return self._decide_forms(mail, message_id, typed)

    def no_longer_held(self, message_id: str) -> Decision:
        """An email whose stored copy is gone before it had its outcome (kept past the raw
        mail retention in a dead-letter queue): recorded, and the coordinators told."""
        reasons = [
            Reason(
                code=ReasonCode.EMAIL_UNREADABLE,
                message="The stored email is no longer held (it expired or was erased) "
                "before it could be read; its sender was not answered.",
            )
        ]
        alert = self.notices.quarantine_alert("(unknown: the email is no longer held)",
                                              reasons, message_id)  # fmt: skip
        return Decision(outcome=Outcome.QUARANTINED, reasons=reasons, effects=list(alert))

    def _from_family(self, mail: InboundMail, message_id: str) -> Decision | None:
        """An authenticated family's own email (shared.mail.trust.is_authenticated_family):
        what a family may send without a coordinator's release - a self-referral, which
        waits to be verified, or a withdrawal of consent, held for a coordinator to confirm
        (as from any sender outside the team). None for anything else: quarantined."""
        if self.register.first_submission_with_header(mail.duplicate_key):
            return Decision(outcome=Outcome.DUPLICATE)
        found = find_forms(mail, self.settings)
        if found.passed_on_case_forms:
            return None  # someone else's form passed on: a person looks
        if found.case_forms:
            [form, *others] = found.case_forms
            # A withdrawal alone, nothing else to read: a review is the team's, never a family's.
            alone = not (others or found.reasons or found.referrals or found.consents
                         or found.unreadable)  # fmt: skip
            if alone and form.kind is FormKind.WITHDRAWAL:
                return self._hold(mail, message_id, form, from_family=True)
            return None
        if not (found.referrals or found.consents or found.unreadable):
            return None
        return self._await_verification(mail, message_id)

    def _await_verification(self, mail: InboundMail, message_id: str) -> Decision:
        """A self-referral: recorded `pending` (AWAITING_VERIFICATION), no case made and the
        register not read; the sender gets its reference and nothing of the child (not a
        secure address), the coordinators the details at secure addresses."""
        # The reference of the case its verification opens (a new child's).
        reference = case_reference_for(redecision_id(message_id, TRIAGED))
        reason = Reason(
            code=ReasonCode.AWAITING_VERIFICATION,
            message=f"A self-referral from an address outside the allowed domains (SPF, DKIM "
            f"and DMARC passed), waiting as {reference} for a coordinator to verify it.",
        )
        effects: list[Effect] = [
            *self.notices.self_referral_waiting(mail, message_id, reference),
            *self.notices.self_referral_received(
                mail.sender, reference, answering=self._answering(mail)
            ),
        ]
        return Decision(outcome=Outcome.PENDING, reasons=[reason], effects=effects)

    def _decide_each_child(
        self, mail: InboundMail, message_id: str, children: list[FoundForms]
    ) -> Decision:
        """Several children's forms in one email: each child's decided on their own, as part
        `<message id>.<n>`. The email's own outcome is the part outcome that most needs
        attention; the register keeps every part's outcome."""
        parts = []
        for number, child in enumerate(children, start=1):
            part = self._decide_forms(mail, part_submission_id(message_id, number), child)
            if part.outcome is Outcome.REJECTED:
                # The sender must see which of their forms each answer is about.
                where = sources(child)
                part.reasons = [
                    reason.model_copy(update={"message": f"({where}) {reason.message}"})
                    for reason in part.reasons
                ]
                part.effects = list(
                    self.notices.rejection(
                        mail.sender,
                        part.reasons,
                        answering=_answering_about(self._answering(mail), child),
                    )
                )
            parts.append(part)
        return Decision(outcome=summary_outcome([part.outcome for part in parts]), parts=parts)

    def _answering(self, mail: InboundMail) -> Answering:
        return Answering.to(mail, self.context.now)

    def _decide_forms(self, mail: InboundMail, message_id: str, found: FoundForms) -> Decision:
        if found.case_forms and not found.reasons:
            return self._decide_case_form(mail, message_id, found.case_forms[0])
        reasons = list(found.reasons)
        referral: Referral | None = None
        consent: Consent | None = None
        answering = _answering_about(self._answering(mail), found)
        if not reasons:
            try:
                referral, consent, reasons = self._validate(found, mail.sender)
            except Exception:  # this child's forms only: another child's are still decided
                return self._not_checked(mail, message_id, found)
        if reasons:
            if found.unreadable and _only_unreadable(reasons):
                return self._for_entry(mail, reasons, found, answering)
            return self._reject(mail, reasons, answering)
        child = (referral or consent).child  # type: ignore[union-attr]
        refused = test_number_refusals(child.nhs_number, mail.sender, self.settings)
        if refused:
            return self._reject(mail, refused, answering)
        person_key = self.hasher.person_key(child.nhs_number)
        existing = self._live_case(person_key)
        answering = self._answering(mail).about(child.given_name, child.family_name)
        return self._apply(mail, message_id, person_key, existing, referral, consent, answering)

    def _validate(
        self, found: FoundForms, sender: str
    ) -> tuple[Referral | None, Consent | None, list[Reason]]:
        referral: Referral | None = None
        consent: Consent | None = None
        reasons: list[Reason] = []
        if found.referrals:
            referral, problems = validate_referral(
                found.referrals[0], self.context.today, self.settings, sender=sender
            )
            reasons += problems
        if found.consents:
            consent, problems = validate_consent(found.consents[0], self.context.today)
            reasons += problems
        if referral and consent:
            reasons += identity_mismatches(referral.child, consent.child)
        return referral, consent, reasons

    def _not_checked(self, mail: InboundMail, message_id: str, found: FoundForms) -> Decision:
        """Forms whose checking failed in a way nobody foresaw: rejected, and the coordinators
        get the email's reference to enter them by hand. Never a crash, never lost."""
        reason = Reason(
            code=ReasonCode.FORM_UNREADABLE,
            message="The forms could not be checked automatically. A coordinator has been "
            "told and will enter them by hand or contact you.",
        )
        decision = self._for_entry(
            mail, [reason], FoundForms(), _answering_about(self._answering(mail), found)
        )
        decision.effects += self.notices.manual_entry(
            [reason], message_id, (), Outcome.REJECTED.value,
            case_id=None, received_at=self.context.now, sender_told=True,
        )  # fmt: skip
        return decision

    def _for_entry(
        self, mail: InboundMail, reasons: list[Reason], found: FoundForms, answering: Answering
    ) -> Decision:
        """Nothing of the email could be read but files the coordinators get to enter by hand
        (a scan, a photo): nothing is taken, so `rejected` on the register, but its sender is
        told a coordinator will enter it - not to correct it and send it again."""
        sources = {attachment.position: attachment.source for attachment in mail.attachments}
        unread = [sources[position] for position in sorted(found.unreadable) if position in sources]
        return Decision(
            outcome=Outcome.REJECTED,
            reasons=reasons,
            effects=list(self.notices.for_entry(mail.sender, unread, answering=answering)),
        )

    def _quarantine(self, mail: InboundMail, message_id: str, reasons: list[Reason]) -> Decision:
        # An automatic reply is recorded without an alert: an out-of-office reply to the
        # alert would otherwise come back, be quarantined, and be alerted again. A bounce of
        # one of our answers on the Graph route tells the coordinators (shared.bounces).
        if mail.automatic:
            bounce = bounce_notice(mail, self.settings, self.register, self.context.now)
            if bounce is not None:
                return Decision(outcome=Outcome.QUARANTINED, reasons=reasons,
                                effects=bounce.effects, answered_once=bounce.answered_once,
                                related_case_id=bounce.case_id)  # fmt: skip
        alert = (
            []
            if mail.automatic
            else self.notices.quarantine_alert(mail.sender, reasons, message_id)
        )
        return Decision(outcome=Outcome.QUARANTINED, reasons=reasons, effects=list(alert))

    def _decide_case_form(self, mail: InboundMail, message_id: str, form: RawForm) -> Decision:
        """A review outcome or withdrawal: only from the team, proved so, then applied to its
        case. A withdrawal erases a child's case: never taken on anyone's word."""
        if mail.forwarded_by is not None:
            return self._quarantine(
                mail,
                message_id,
                [
                    Reason(
                        code=ReasonCode.SENDER_NOT_ALLOWED,
                        message=f"A {form.kind.display_name} is never taken through a forward; "
                        "the coordinator or panel member must send it themselves.",
                    )
                ],
            )
        if not is_team_sender(mail, self.settings) and form.kind is FormKind.WITHDRAWAL:
            return self._hold(mail, message_id, form)
        if not is_team_sender(mail, self.settings):
            return self._quarantine(
                mail,
                message_id,
                [
                    Reason(
                        code=ReasonCode.SENDER_NOT_ALLOWED,
                        message=f"A {form.kind.display_name} is taken only from the DSR "
                        "coordinators and panel members, with DMARC passing for their domain; "
                        "this email is not. A coordinator should check it.",
                    )
                ],
            )
        decider = CaseFormDecider(self.settings, self.context.now, self.register, self.hasher)
        try:
            review, problems = (
                validate_review(form, self.context.today)
                if form.kind is FormKind.REVIEW
                else (None, [])
            )
            withdrawal, withdrawal_problems = (
                validate_withdrawal(form, self.context.today)
                if form.kind is FormKind.WITHDRAWAL
                else (None, [])
            )
        except Exception:  # unforeseen input: a person looks at it
            return self._not_checked(mail, message_id, FoundForms(case_forms=[form]))
        if review is not None:
            return decider.review(mail, message_id, review)
        if withdrawal is not None:
            return decider.withdraw(mail, message_id, withdrawal)
        return self._reject(mail, problems + withdrawal_problems)

    def _pass_on(self, mail: InboundMail, message_id: str) -> Decision:
        """A reply to one of our emails that holds no form: to the coordinators, with the
        case reference it quotes when that case is held; the sender is told."""
        case = None
        quoted = _CASE_REFERENCE.findall(f"{mail.subject}\n{mail.body_text}")
        # A few lookups at most, however many references a hostile body repeats.
        for reference in list(dict.fromkeys(r.upper() for r in quoted))[:MAX_REFERENCES_READ]:
            case = self.register.case(reference)
            if case is not None:
                break
        live = case if case is not None and case.status is not CaseStatus.WITHDRAWN else None
        effects: list[Effect] = [
            *self.notices.reply_for_coordinators(mail, message_id, live.case_id if live else None),
        ]
        # The sender is told only when their address is proved (no backscatter to a forged
        # one), never in answer to our own "passed on" notice, and once a day at most (no
        # loop with a responder that does not mark its replies as automatic).
        once_a_day = f"passed-on\n{mail.sender}\n{self.context.today.isoformat()}"
        answer = (
            is_authenticated(mail, self.settings)
            and not _PASSED_ON_SUBJECT.search(mail.subject)
            and self.register.first_submission_with_header(once_a_day) is None
        )
        if answer:
            effects += self.notices.reply_passed_on(mail.sender, answering=self._answering(mail))
        return Decision(
            outcome=Outcome.PASSED_ON,
            related_case_id=live.case_id if live else None,
            effects=effects,
            answered_once=once_a_day if answer else None,
        )

    def _hold(
        self, mail: InboundMail, message_id: str, form: RawForm, *, from_family: bool = False
    ) -> Decision:
        """A withdrawal from outside the team: checked as a form, then held for a coordinator
        (shared.holds); the register is not read, so the sender learns nothing of it.
        `from_family`: from an authenticated address outside the allowed domains."""
        try:
            withdrawal, problems = validate_withdrawal(form, self.context.today)
        except Exception:  # unforeseen input: a person looks at it
            return self._not_checked(mail, message_id, FoundForms(case_forms=[form]))
        if withdrawal is None:
            return self._reject(mail, problems)
        holds = HoldDecider(self.settings, self.context.now, self.register, self.hasher)
        return holds.hold(mail, message_id, withdrawal, from_family=from_family)

    def _confirm_hold(self, mail: InboundMail, message_id: str, reference: str) -> Decision:
        """`CONFIRM WITHDRAWAL HOLD-...`: only a coordinator, proved so, sending it themselves."""
        coordinator = mail.sender in self.settings.coordinator_addresses
        if not (coordinator and is_team_sender(mail, self.settings)):
            return self._quarantine(
                mail,
                message_id,
                [
                    Reason(
                        code=ReasonCode.SENDER_NOT_ALLOWED,
                        message="A held withdrawal is confirmed only by a DSR coordinator "
                        "writing from their own address, with DMARC passing; this email is "
                        "not. A coordinator should check it.",
                    )
                ],
            )
        holds = HoldDecider(self.settings, self.context.now, self.register, self.hasher)
        return holds.confirm(mail, message_id, reference)

    def _live_case(self, person_key: str) -> Case | None:
        case = self.register.case_for_person(person_key)
        if case is not None and not case.status.is_open:
            return None  # closed or withdrawn: a new referral starts a new case
        if (
            case
            and case.status.is_pending
            and case.pending_expires_at
            and case.pending_expires_at <= self.context.now
        ):
            return None  # lapsed: a new referral starts afresh (the store's TTL removes it soon)
        return case

    def _reject(
        self, mail: InboundMail, reasons: list[Reason], answering: Answering | None = None
    ) -> Decision:
        answering = answering or self._answering(mail)
        return Decision(
            outcome=Outcome.REJECTED,
            reasons=reasons,
            effects=list(self.notices.rejection(mail.sender, reasons, answering=answering)),
        )

    def _apply(
        self,
        mail: InboundMail,
        message_id: str,
        person_key: str,
        existing: Case | None,
        referral: Referral | None,
        consent: Consent | None,
        answering: Answering,
    ) -> Decision:
        if existing is not None and existing.status is CaseStatus.ACTIVE:
            if referral is not None:
                return self._already_registered(
                    mail,
                    message_id,
                    existing,
                    "The child or young person is already on the register.",
                    answering,
                )
            assert consent is not None
            return self._renew_consent(mail, message_id, existing, consent, answering)

        if existing is not None:
            # A waiting case: the new forms complete it when they bring what it waits for.
            waiting_for_consent = existing.status is CaseStatus.AWAITING_CONSENT
            brings_missing = consent if waiting_for_consent else referral
            if brings_missing is None:
                situation = (
                    "A referral for this child or young person is already waiting for its consent form."
                    if waiting_for_consent
                    else "A consent form for this child or young person is already waiting for its referral form."
                )
                return self._already_registered(mail, message_id, existing, situation, answering)
            if self.verifying:
                referral = existing.referral or referral
            else:
                referral = referral or existing.referral
            consent = consent or existing.consent
            assert referral is not None and consent is not None
            mismatches = identity_mismatches(referral.child, consent.child)
            if mismatches:
                return self._reject(mail, mismatches, answering)
            case = self._activate(existing.model_copy(deep=True), referral, consent, message_id)
            earlier_senders = [sender for sender in case.contributors if sender != mail.sender]
            case.contributors = list(dict.fromkeys([*case.contributors, mail.sender]))
            decision = self._activated(
                Outcome.UPDATED,
                mail,
                message_id,
                case,
                "waiting case completed, now on the register",
                answering,
            )
            assert case.next_review_on is not None
            for earlier in earlier_senders:
                # The referrer whose referral waited hears it is complete, as the consent's
                # sender does (and the reverse).
                decision.effects += self.notices.acknowledgement(
                    "acknowledgement_accepted",
                    earlier,
                    case,
                    next_review=case.next_review_on.strftime("%d/%m/%Y"),
                )
            return decision

        case = Case(
            case_id=case_reference_for(message_id),
            status=CaseStatus.ACTIVE,
            person_key=person_key,
            created_at=self.context.now,
            updated_at=self.context.now,
        )
        if referral is not None and consent is not None:
            case = self._activate(case, referral, consent, message_id)
            return self._activated(
                Outcome.ACCEPTED, mail, message_id, case, "new case on the register", answering
            )
        return self._pending(mail, message_id, case, referral, consent, answering)

    def _activate(self, case: Case, referral: Referral, consent: Consent, message_id: str) -> Case:
        rating = referral.suggested_rating
        case.status = CaseStatus.ACTIVE
        case.referral = referral
        if case.consent != consent:
            case.consent_history.append(
                ConsentRecord(consent=consent, recorded_at=self.context.now)
            )
        case.consent = consent
        case.rating = rating
        case.rating_history.append(
            RatingChange(rating=rating, on=self.context.today, source="referral")
        )
        case.accepted_at = self.context.now
        case.next_review_on = self.context.today + timedelta(
            days=self.settings.review_interval_days(rating)
        )
        case.pending_expires_at = None
        case.updated_at = self.context.now
        case.submissions.append(message_id)
        return case

    def _activated(
        self,
        outcome: Outcome,
        mail: InboundMail,
        message_id: str,
        case: Case,
        headline: str,
        answering: Answering,
    ) -> Decision:
        assert case.next_review_on is not None
        effects: list[Effect] = [
            *self.notices.coordinator_notification(
                headline, outcome.value, case, message_id, self.context.today, new_case=True
            ),
            *self.notices.acknowledgement(
                "acknowledgement_accepted",
                mail.sender,
                case,
                answering=answering,
                next_review=case.next_review_on.strftime("%d/%m/%Y"),
            ),
            reminder_effect(case, self.settings, self.context.now),
        ]
        return Decision(outcome=outcome, case=case, effects=effects)

    def _pending(
        self,
        mail: InboundMail,
        message_id: str,
        case: Case,
        referral: Referral | None,
        consent: Consent | None,
        answering: Answering,
    ) -> Decision:
        case.referral = referral
        case.consent = consent
        if consent is not None:
            case.consent_history.append(
                ConsentRecord(consent=consent, recorded_at=self.context.now)
            )
        case.status = CaseStatus.AWAITING_CONSENT if referral else CaseStatus.AWAITING_REFERRAL
        case.pending_expires_at = self.context.now + timedelta(
            days=self.settings.pending_expiry_days
        )
        case.submissions.append(message_id)
        case.contributors = [mail.sender]
        template = (
            "acknowledgement_pending_consent" if referral else "acknowledgement_pending_referral"
        )
        headline = (
            "referral received, waiting for consent"
            if referral
            else "consent received, waiting for referral"
        )
        effects: list[Effect] = [
            *self.notices.coordinator_notification(
                headline, Outcome.PENDING.value, case, message_id, new_case=True
            ),
            *(
                # The form the case waits for, attached blank for whoever will fill it in.
                answer.model_copy(
                    update={"blank_forms": (CONSENT_FORM,) if referral else (REFERRAL_FORM,)}
                )
                for answer in self.notices.acknowledgement(
                    template,
                    mail.sender,
                    case,
                    answering=answering,
                    expires_on=case.pending_expires_at.strftime("%d/%m/%Y"),
                )
            ),
            reminder_effect(case, self.settings, self.context.now),  # the lapse, if it comes
        ]
        return Decision(outcome=Outcome.PENDING, case=case, effects=effects)

    def _renew_consent(
        self,
        mail: InboundMail,
        message_id: str,
        existing: Case,
        consent: Consent,
        answering: Answering,
    ) -> Decision:
        assert existing.referral is not None
        mismatches = identity_mismatches(existing.referral.child, consent.child)
        if mismatches:
            return self._reject(mail, mismatches, answering)
        case = existing.model_copy(deep=True)
        case.consent = consent
        case.consent_history.append(ConsentRecord(consent=consent, recorded_at=self.context.now))
        case.updated_at = self.context.now
        case.submissions.append(message_id)
        effects: list[Effect] = [
            *self.notices.coordinator_notification(
                "new consent recorded", Outcome.UPDATED.value, case, message_id
            ),
            *self.notices.acknowledgement(
                "acknowledgement_consent_updated", mail.sender, case, answering=answering
            ),
            reminder_effect(case, self.settings, self.context.now),  # reconfirmation moves on
        ]
        return Decision(outcome=Outcome.UPDATED, case=case, effects=effects)

    def _already_registered(
        self,
        mail: InboundMail,
        message_id: str,
        existing: Case,
        situation: str,
        answering: Answering,
    ) -> Decision:
        reason = Reason(
            code=ReasonCode.ALREADY_ON_REGISTER,
            message=f"{situation} Case reference {existing.case_id}.",
        )
        effects: list[Effect] = [
            *self.notices.coordinator_notification(
                "repeat referral for a case already held",
                Outcome.DUPLICATE.value,
                existing,
                message_id,
            ),
            # The case held may be another referrer's, and the sender may only know the NHS
            # number: they are told it is held, never what it holds.
            *self.notices.reference_only(
                "already_on_register",
                mail.sender,
                existing,
                answering=answering,
                situation=situation,
            ),
        ]
        # The case itself is not changed: the decision carries no new state.
        return Decision(
            outcome=Outcome.DUPLICATE,
            reasons=[reason],
            effects=effects,
            related_case_id=existing.case_id,
        )
