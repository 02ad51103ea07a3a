"""A case on the register, and what the intake asks the world to do about it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.dates import age_on, birthday
from shared.forms.consent import Consent
from shared.forms.referral import Child, Referral
from shared.holds import HeldWithdrawal
from shared.outcome import Outcome, Reason
from shared.rating import Rating
from shared.settings import ADULT_REGISTER_AGE

KEYWORKER_RATINGS = frozenset({Rating.RED, Rating.AMBER, Rating.BLUE})
KEYWORKER_AGES = range(0, 26)  # the keyworker programme is for ages 0 to 25
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def case_reference_for(message_id: str) -> str:
    """A reference people can read out on the phone, drawn from the SES message id of the email
    that opened the case: random, so it says nothing of the child, and the same however often
    that email is processed."""
    digest = hashlib.sha256(message_id.encode("utf-8")).digest()
    return "DSR-" + "".join(_REFERENCE_ALPHABET[byte % 32] for byte in digest[:8])


class CaseStatus(StrEnum):
    AWAITING_CONSENT = "awaiting_consent"  # referral here, consent to follow
    AWAITING_REFERRAL = "awaiting_referral"  # consent here, referral to follow
    ACTIVE = "active"  # on the register
    CLOSED = "closed"  # left the register (panel decision, or transition at 18); record kept
    WITHDRAWN = "withdrawn"  # consent withdrawn: a tombstone, the person's data erased

    @property
    def is_pending(self) -> bool:
        return self in (CaseStatus.AWAITING_CONSENT, CaseStatus.AWAITING_REFERRAL)

    @property
    def is_open(self) -> bool:
        """Pending or on the register: a new referral for the person joins this case."""
        return self.is_pending or self is CaseStatus.ACTIVE


class RatingChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    rating: Rating
    on: date
    source: str  # e.g. "referral" (suggested by the referrer), later "review"


class ReviewRecord(BaseModel):
    """One panel review as the review outcome form recorded it."""

    model_config = ConfigDict(frozen=True)

    review_date: date
    rating: Rating | None
    outcome_summary: str
    actions: str | None = None
    next_review_on: date | None = None
    discharge_date: date | None = None
    keyworker_referred: bool = False
    keyworker_name: str | None = None
    ctr_recommended: bool = False
    ctr_date: date | None = None  # the day a C(E)TR took place
    ctr_outcome: str | None = None
    reviewer_name: str
    reviewer_role: str | None = None
    message_id: str
    recorded_at: datetime


class ClosureReason(StrEnum):
    REMOVED_BY_PANEL = "removed_by_panel"
    TRANSITION_AT_18 = "transition_at_18"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    PENDING_LAPSED = "pending_lapsed"  # the other form never came (a retention tombstone's)


class Closure(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: ClosureReason
    on: date  # when it took effect: the form's date, the review's, the birthday
    detail: str | None = None  # the panel's removal reason; never kept for a withdrawal
    # When the register recorded it: the panel pack lists a leaver in the first pack after
    # this, however far back `on` is (a withdrawal dated before the last pack, confirmed
    # after it). None for a closure recorded before this was kept.
    recorded_at: datetime | None = None


class ConsentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    consent: Consent
    recorded_at: datetime


class StaffRole(StrEnum):
    """A console user's role (a Cognito group): what they may see and do (shared.console.roles)."""

    COORDINATOR = "coordinator"
    PANEL = "panel"
    ADMIN = "admin"


class Actor(BaseModel):
    """Who did something in the console: the Cognito `sub`, their (work) address and role.
    The audit keeps all three: a `sub` names nobody once the account is deleted, and the
    audit outlives staff accounts (it is the accountability record)."""

    model_config = ConfigDict(frozen=True)

    sub: str
    email: str
    role: StaffRole


class Correction(BaseModel):
    """A coordinator's correction of one of the case's fields: the old value is kept here, on
    the case (erased with it), never in the audit trail."""

    model_config = ConfigDict(frozen=True)

    field: str
    old: str
    new: str
    reason: str
    by: Actor
    at: datetime


class Case(BaseModel):
    """The whole state of one child's case. `version` guards every write (optimistic locking)."""

    case_id: str
    status: CaseStatus
    person_key: str  # keyed hash of the NHS number; never the number itself
    referral: Referral | None = None
    consent: Consent | None = None
    rating: Rating | None = None
    rating_history: list[RatingChange] = Field(default_factory=list)
    consent_history: list[ConsentRecord] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    accepted_at: datetime | None = None
    next_review_on: date | None = None
    pending_expires_at: datetime | None = None
    reviews: list[ReviewRecord] = Field(default_factory=list)
    red_until: date | None = None  # after a discharge the rating stays Red until this day
    reminders_sent: list[str] = Field(default_factory=list)  # checkpoint keys already acted on
    closure: Closure | None = None
    submissions: list[str] = Field(default_factory=list)  # SES message ids, oldest first
    # Who sent its referral and consent forms: each is told when the case is complete.
    contributors: list[str] = Field(default_factory=list)
    corrections: list[Correction] = Field(default_factory=list)  # oldest first
    version: int = 0

    @property
    def child(self) -> Child | None:
        if self.referral is not None:
            return self.referral.child
        return self.consent.child if self.consent is not None else None

    def transition_day(self, age: int = ADULT_REGISTER_AGE) -> date | None:
        """The birthday on which the young person leaves the register (`Settings.transition_age`)."""
        child = self.child
        return birthday(child.date_of_birth, age) if child else None

    def keyworker_eligible(self, today: date) -> bool:
        """Red, Amber and Blue cases aged 0 to 25 are eligible for the keyworker programme."""
        child = self.child
        return (
            self.status is CaseStatus.ACTIVE
            and self.rating in KEYWORKER_RATINGS
            and child is not None
            and age_on(child.date_of_birth, today) in KEYWORKER_AGES
        )

    def tombstone(self, closure: Closure, now: datetime) -> Case:
        """What is kept after consent is withdrawn: the case id, dates and the reason code."""
        return Case(
            case_id=self.case_id,
            status=CaseStatus.WITHDRAWN,
            person_key="",
            created_at=self.created_at,
            updated_at=now,
            accepted_at=self.accepted_at,
            closure=Closure(reason=closure.reason, on=closure.on, recorded_at=closure.recorded_at),
            version=self.version,
        )


class EmailPurpose(StrEnum):
    COORDINATOR_NOTIFICATION = "coordinator_notification"
    ACKNOWLEDGEMENT = "acknowledgement"
    REJECTION = "rejection"
    QUARANTINE_ALERT = "quarantine_alert"
    REMINDER = "reminder"
    PANEL_PACK = "panel_pack"
    MANUAL_ENTRY = "manual_entry"
    SEND_UNCERTAIN = "send_uncertain"  # to the coordinators: an email that may not have gone
    MAIL_PROBLEM = "mail_problem"  # to the coordinators: an answer bounced or was refused


class EmailAttachment(BaseModel):
    model_config = ConfigDict(frozen=True)

    filename: str
    content_type: str
    text: str


class OriginalFiles(BaseModel):
    """Files of a received email to attach as they came, read from the stored raw email when
    the email is sent (an outbox item is too small to carry them)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    positions: tuple[int, ...]  # as numbered in the reasons: "attachment 2 (image)"


class EmailEffect(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["email"] = "email"
    purpose: EmailPurpose
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[EmailAttachment, ...] = ()
    originals: OriginalFiles | None = None  # secure recipients only: may hold anything
    # An answer to an email threads to it: In-Reply-To its Message-ID, References its chain
    # then its Message-ID (real `<...>` ids only; none when it had none).
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # Blank DSR forms to attach, by file name (shared.blank_forms), read when it is sent: the
    # outbox item holds their names, never their bytes.
    blank_forms: tuple[str, ...] = ()


class ScheduleEffect(BaseModel):
    """Create or move the case's one reminder schedule."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["schedule"] = "schedule"
    case_id: str
    at: datetime


class UnscheduleEffect(BaseModel):
    """Delete the case's reminder schedule: it has nothing left to remind anyone of."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["unschedule"] = "unschedule"
    case_id: str


class EraseEffect(BaseModel):
    """Erase what is held of a withdrawn case outside its tombstone: its stored emails and
    derived objects, undelivered outbox items, and its schedule."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["erase"] = "erase"
    case_id: str


class PanelPackEffect(BaseModel):
    """Send the panel pack as of `at`, built from the register when it is sent: a child
    withdrawn meanwhile is not in it, and the outbox holds no personal data for it."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["panel_pack"] = "panel_pack"
    at: datetime


Effect = EmailEffect | ScheduleEffect | UnscheduleEffect | EraseEffect | PanelPackEffect


class Decision(BaseModel):
    """What one email comes to: its single outcome, the reasons, the new case state and effects."""

    outcome: Outcome
    reasons: list[Reason] = Field(default_factory=list)
    case: Case | None = None  # the new state to store; None when the register does not change
    related_case_id: str | None = None  # the case an unchanged-register outcome is about
    forget_person_key: str | None = None  # a withdrawal: the person lookup to erase
    effects: list[Effect] = Field(default_factory=list)
    # Several children in one email: each child's forms decided on their own, recorded as
    # submissions `<message id>.<n>`; this decision then only summarises them.
    parts: list[Decision] = Field(default_factory=list)
    hold: HeldWithdrawal | None = None  # a withdrawal to keep until a coordinator confirms
    release_hold: str | None = None  # the hold a coordinator's confirmation answers
    # A key reserved with the decision, so an answer goes once (a passed-on notice: a day).
    answered_once: str | None = None
    # A withdrawal: the child's other holds, removed, their emails erased with the case.
    purged_holds: list[HeldWithdrawal] = Field(default_factory=list)

    @property
    def case_id(self) -> str | None:
        return self.case.case_id if self.case else self.related_case_id


@dataclass
class RegisterReads:
    """What a decision read of the register: each case's version, and the people it found no
    case for. The decision is recorded only if all of it is still so (else decided again)."""

    case_versions: dict[str, int]
    absent_people: set[str]

    def excluding(self, written: Decision) -> RegisterReads:
        """The checks a decision's own writes do not already make (one item, one action)."""
        case = written.case
        people = {written.forget_person_key, case.person_key if case else None}
        return RegisterReads(
            {
                case_id: version
                for case_id, version in self.case_versions.items()
                if not (case and case.case_id == case_id)
            },
            {person for person in self.absent_people if person not in people},
        )


class EffectSummary(BaseModel):
    """What an effect did, without its body: what reports and the CLI show."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["email", "schedule", "unschedule", "erase", "panel_pack"]
    to: tuple[str, ...] | None = None
    subject: str | None = None
    at: datetime | None = None

    @classmethod
    def of(cls, effect: Effect) -> EffectSummary:
        if isinstance(effect, EmailEffect):
            return cls(kind="email", to=effect.to, subject=effect.subject)
        if isinstance(effect, ScheduleEffect | PanelPackEffect):
            return cls(kind=effect.kind, at=effect.at)
        return cls(kind=effect.kind)


def part_submission_id(message_id: str, number: int) -> str:
    """The submission of the n-th child's forms in an email that held several children's."""
    return f"{message_id}.{number}"


def email_of(event_id: str) -> str:
    """The email an event came from: a part `<message id>.<n>` came from `<message id>`."""
    return event_id.split(".", 1)[0]


class Submission(BaseModel):
    """The recorded outcome of one email, keyed by its SES message id."""

    message_id: str
    outcome: Outcome
    case_id: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    effects: list[EffectSummary] = Field(default_factory=list)
    received_at: datetime
    parts: list[str] = Field(default_factory=list)  # submissions of each child's forms


class CaseChange(BaseModel):
    """A change not caused by an email - a reminder firing, the panel pack - recorded with its
    effects in one transaction, like an email's decision."""

    event_id: str  # unique per change: a second delivery of the same event changes nothing
    label: str  # what happened, for the audit trail (no personal data)
    case: Case | None = None
    effects: list[Effect] = Field(default_factory=list)
    actor: Actor | None = None  # the console user who made it; None for the system's own


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail: an email's outcome or a change's label, never the child's
    personal data; a console user's action names the user (`Actor`)."""

    at: datetime
    event_id: str
    outcome: str | None  # an email's outcome
    label: str | None  # a change's label, e.g. "reminder:review_due"
    reason_codes: tuple[str, ...]
    case_id: str | None
    # A console user's: their Cognito sub, role and work address (never the child's data).
    actor_sub: str | None = None
    actor_role: str | None = None
    actor_email: str | None = None
