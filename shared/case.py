"""A case on the register, and what the intake asks the world to do about it."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.forms.consent import Consent
from shared.forms.referral import Referral
from shared.outcome import Outcome, Reason
from shared.rating import Rating

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_case_reference() -> str:
    """A reference people can read out on the phone; random, so it says nothing of the child."""
    return "DSR-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


class CaseStatus(StrEnum):
    AWAITING_CONSENT = "awaiting_consent"  # referral here, consent to follow
    AWAITING_REFERRAL = "awaiting_referral"  # consent here, referral to follow
    ACTIVE = "active"  # on the register

    @property
    def is_pending(self) -> bool:
        return self is not CaseStatus.ACTIVE


class RatingChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    rating: Rating
    on: date
    source: str  # e.g. "referral" (suggested by the referrer), later "review"


class ConsentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    consent: Consent
    recorded_at: datetime


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
    submissions: list[str] = Field(default_factory=list)  # SES message ids, oldest first
    version: int = 0


class EmailPurpose(StrEnum):
    COORDINATOR_NOTIFICATION = "coordinator_notification"
    ACKNOWLEDGEMENT = "acknowledgement"
    REJECTION = "rejection"
    QUARANTINE_ALERT = "quarantine_alert"


class EmailEffect(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["email"] = "email"
    purpose: EmailPurpose
    to: tuple[str, ...]
    subject: str
    body: str


class ScheduleEffect(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["schedule"] = "schedule"
    case_id: str
    at: datetime


Effect = EmailEffect | ScheduleEffect


class Decision(BaseModel):
    """What one email comes to: its single outcome, the reasons, the new case state and effects."""

    outcome: Outcome
    reasons: list[Reason] = Field(default_factory=list)
    case: Case | None = None  # the new state to store; None when the register does not change
    related_case_id: str | None = None  # the case an unchanged-register outcome is about
    effects: list[Effect] = Field(default_factory=list)

    @property
    def case_id(self) -> str | None:
        return self.case.case_id if self.case else self.related_case_id


class EffectSummary(BaseModel):
    """What an effect did, without its body: what reports and the CLI show."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["email", "schedule"]
    to: tuple[str, ...] | None = None
    subject: str | None = None
    at: datetime | None = None

    @classmethod
    def of(cls, effect: Effect) -> EffectSummary:
        if isinstance(effect, EmailEffect):
            return cls(kind="email", to=effect.to, subject=effect.subject)
        return cls(kind="schedule", at=effect.at)


class Submission(BaseModel):
    """The recorded outcome of one email, keyed by its SES message id."""

    message_id: str
    outcome: Outcome
    case_id: str | None = None
    reasons: list[Reason] = Field(default_factory=list)
    effects: list[EffectSummary] = Field(default_factory=list)
    received_at: datetime
