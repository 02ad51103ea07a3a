"""How an email ends: exactly one outcome, with every reason that applies."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    PENDING = "pending"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"
    HELD = "held"  # a withdrawal from outside the team, waiting for a coordinator
    PASSED_ON = "passed_on"  # a reply to one of our emails with no form: for a person
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    QUARANTINED = "quarantined"


class ReasonCode(StrEnum):
    SENDER_NOT_ALLOWED = "SENDER_NOT_ALLOWED"
    MAIL_AUTH_FAILED = "MAIL_AUTH_FAILED"
    SPAM = "SPAM"
    VIRUS = "VIRUS"
    NO_FORM_FOUND = "NO_FORM_FOUND"
    FORM_UNREADABLE = "FORM_UNREADABLE"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
    FIELD_MISSING = "FIELD_MISSING"
    FIELD_INVALID = "FIELD_INVALID"
    NHS_NUMBER_INVALID = "NHS_NUMBER_INVALID"
    DATE_INVALID = "DATE_INVALID"
    NOT_ELIGIBLE_AGE = "NOT_ELIGIBLE_AGE"
    NOT_ELIGIBLE_DIAGNOSIS = "NOT_ELIGIBLE_DIAGNOSIS"
    NOT_ELIGIBLE_NO_CONCERN = "NOT_ELIGIBLE_NO_CONCERN"
    CONSENT_INVALID = "CONSENT_INVALID"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    ALREADY_ON_REGISTER = "ALREADY_ON_REGISTER"
    EMAIL_UNREADABLE = "EMAIL_UNREADABLE"
    WITHDRAWAL_HELD = "WITHDRAWAL_HELD"
    # A self-referral (a family's own address, proved and clean), waiting for a coordinator.
    AWAITING_VERIFICATION = "AWAITING_VERIFICATION"


# Reasons that mean "not trusted": the email is quarantined and nobody outside the team is answered.
TRUST_REASONS = frozenset(
    {
        ReasonCode.SENDER_NOT_ALLOWED,
        ReasonCode.MAIL_AUTH_FAILED,
        ReasonCode.SPAM,
        ReasonCode.VIRUS,
        ReasonCode.EMAIL_UNREADABLE,
    }
)


class Reason(BaseModel):
    """One problem found in an email.

    `message` is written for the referrer: it names the field and says what to do, and it
    never echoes a value from the form (the values are the child's personal data).
    """

    model_config = ConfigDict(frozen=True)

    code: ReasonCode
    message: str
    field: str | None = None
    form: str | None = None

    def as_report(self) -> dict[str, str]:
        report = {"code": self.code.value, "message": self.message}
        if self.field:
            report["field"] = self.field
        return report
