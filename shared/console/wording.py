"""The console's words for what the register stores as codes - one mapping, in one place:
a form's fields and choices by the printed form's own labels (templates/forms/layout.py),
an audit line's label and reasons, and what a Triage decision came to. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel

from shared.case import AuditEntry, Case, CaseStatus, Submission
from shared.console.roles import ConsoleAction
from shared.outcome import Outcome, ReasonCode
from templates.forms.layout import CONSENT, REFERRAL, REVIEW, WITHDRAWAL

# Every field and choice of the printed forms, by its stored name or value.
_FORM_LABELS: dict[str, str] = {
    name: label
    for layout in (REFERRAL, CONSENT, REVIEW, WITHDRAWAL)
    for form_field in layout.fields()
    for name, label in ((form_field.name, form_field.label), *form_field.options)
}
# The fields as the register keeps them, where the name is not the printed form's.
_HELD_NAMES = {
    "given_name": "Given name(s)",  # the child's, as a correction names them
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "suggested_rating": "Suggested RAG rating",
    "risk_factors": "Risk factors",
    "services": "Services",
    "services_involved": "Services involved",
    "details": "Other details",
    "basis": "Consent basis",
    "share_with": "Shared with",
}


# A corrected field's words (shared.console.corrections.CORRECTABLE): the form's own labels,
# with whose it is where the form's label ("Email") means something only under its section.
CORRECTION_LABELS = {
    "given_name": "Given name(s)",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "address": "Address",
    "gender": "Gender",
    "referrer_name": "Referrer's name",
    "referrer_organisation": "Referrer's organisation",
    "referrer_email": "Referrer's email",
    "referrer_phone": "Referrer's phone",
}
# Why a case left the register, as the numbers page and the case page say it.
_CLOSURE_WORDS = {
    "removed_by_panel": "Removed by the panel",
    "transition_at_18": "Turned 18",
    "consent_withdrawn": "Consent withdrawn",
    "pending_lapsed": "Lapsed: its other form never came",
}


def correction_label(field: str) -> str:
    """A corrected field in words ("Referrer's email")."""
    return CORRECTION_LABELS.get(field) or label_of(field)


def closure_words(reason: str) -> str:
    """Why a case left the register, in words ("Consent withdrawn")."""
    return _CLOSURE_WORDS.get(reason) or label_of(reason)


def label_of(name: str) -> str:
    """A field's or a choice's words, as printed on the form (else the name, readable)."""
    known = _HELD_NAMES.get(name) or _FORM_LABELS.get(name)
    return known or name.replace("_", " ").capitalize()


def _value(name: str, value: object) -> object:
    """A held value with its codes in words; ticks, dates and text stay as they are (the
    page's `shown` writes them)."""
    if name in {"risk_factors", "services", "share_with"} and isinstance(value, tuple | list):
        return tuple(label_of(str(item)) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{label_of(str(key))}: {item}" for key, item in value.items())
    if isinstance(value, Enum):
        return label_of(str(value.value))
    return value


def form_rows(form: BaseModel) -> list[tuple[str, object]]:
    """A referral or consent as read, field by field in the form's words (the child is shown
    on its own)."""
    return [
        (label_of(name), _value(name, getattr(form, name)))
        for name in type(form).model_fields
        if name != "child"
    ]


# What each console action's audit line says it did (the Who column names the person).
_ACTIONS = {
    ConsoleAction.VIEW_CASE: "Viewed the case",
    ConsoleAction.VIEW_FILE: "Downloaded an original file",
    ConsoleAction.VIEW_EMAIL: "Downloaded a file of an email waiting in Triage",
    ConsoleAction.EXPORT_SAR: "Exported everything held (subject access request)",
    ConsoleAction.CORRECT: "Corrected",
    ConsoleAction.REVIEW: "Recorded a review",
    ConsoleAction.CLOSE: "Closed the case",
    ConsoleAction.WITHDRAW: "Withdrew consent",
    ConsoleAction.ENTER_BY_HAND: "Entered a scanned form by hand",
    ConsoleAction.RELEASE: "Released from quarantine",
    ConsoleAction.DISMISS: "Dismissed a quarantined email",
    ConsoleAction.VERIFY: "Verified a self-referral",
    ConsoleAction.DECLINE: "Declined a self-referral",
    ConsoleAction.NOTE: "Noted a bounced answer",
    ConsoleAction.CONFIRM_WITHDRAWAL: "Confirmed a held withdrawal",
    ConsoleAction.DECLINE_WITHDRAWAL: "Declined a held withdrawal",
    ConsoleAction.VIEW_TRIAGE: "Viewed Triage",
}
_SERVICE = {
    "panel_pack": "The monthly panel pack",
    "mailbox:set_aside": "An email set aside in the mailbox",
}
_REASONS = {
    ReasonCode.SENDER_NOT_ALLOWED: "sender not allowed",
    ReasonCode.MAIL_AUTH_FAILED: "sender not proved",
    ReasonCode.SPAM: "spam",
    ReasonCode.VIRUS: "virus",
    ReasonCode.NO_FORM_FOUND: "no form found",
    ReasonCode.FORM_UNREADABLE: "a form could not be read",
    ReasonCode.ATTACHMENT_TOO_LARGE: "a file too large",
    ReasonCode.FIELD_MISSING: "a field missing",
    ReasonCode.FIELD_INVALID: "a field not valid",
    ReasonCode.NHS_NUMBER_INVALID: "NHS number not valid",
    ReasonCode.DATE_INVALID: "a date not valid",
    ReasonCode.NOT_ELIGIBLE_AGE: "not eligible: age",
    ReasonCode.NOT_ELIGIBLE_DIAGNOSIS: "not eligible: diagnosis",
    ReasonCode.NOT_ELIGIBLE_NO_CONCERN: "not eligible: no mental health concern",
    ReasonCode.CONSENT_INVALID: "consent not valid",
    ReasonCode.IDENTITY_MISMATCH: "the child's details do not match",
    ReasonCode.CASE_NOT_FOUND: "case not found",
    ReasonCode.ALREADY_ON_REGISTER: "already on the register",
    ReasonCode.EMAIL_UNREADABLE: "email unreadable",
    ReasonCode.WITHDRAWAL_HELD: "a withdrawal held for a coordinator",
    ReasonCode.AWAITING_VERIFICATION: "awaiting verification",
}


def _lower_first(words: str) -> str:
    return words[:1].lower() + words[1:]


def audit_words(entry: AuditEntry) -> str:
    """An audit line in words: what was done, what it came to, and why."""
    label = entry.label or ""
    if label.startswith(f"{ConsoleAction.CORRECT.value}:"):
        what = f"Corrected {_lower_first(correction_label(label.rsplit(':', 1)[1]))}"
    elif label in set(ConsoleAction):
        what = _ACTIONS[ConsoleAction(label)]
    elif label.startswith("reminder:"):
        what = "Reminder sent: " + ", ".join(
            part.replace("_", " ") for part in label.removeprefix("reminder:").split(",")
        )
    elif label.startswith("mail_problem:"):
        what = "One of our answers " + label.removeprefix("mail_problem:").replace("_", " ")
    else:
        what = _SERVICE.get(label) or (label.replace("_", " ").capitalize() if label else "Email")
    if entry.outcome:
        what += f": {entry.outcome.replace('_', ' ')}"
    reasons = [_REASONS.get(ReasonCode(code), code) for code in entry.reason_codes
               if code in set(ReasonCode)]  # fmt: skip
    return what + (f" ({', '.join(reasons)})" if reasons else "")


@dataclass(frozen=True)
class CameOf:
    """What a decision from Triage came to, for its confirmation."""

    outcome: str  # "Accepted", "Pending", "Rejected", ...
    case_id: str | None  # linked on the page
    words: str  # what follows the case, or the reasons


_WAITING_FOR = {
    CaseStatus.AWAITING_CONSENT: "waiting for the consent form",
    CaseStatus.AWAITING_REFERRAL: "waiting for the referral form",
}


def came_of(submission: Submission, case: Case | None) -> CameOf:
    """Accepted as a case, pending for its other form, rejected for the reasons its sender is
    told - in the words of the recorded outcome."""
    outcome = submission.outcome
    reasons = " ".join(reason.message for reason in submission.reasons)
    if outcome is Outcome.PENDING:
        waiting = _WAITING_FOR.get(case.status) if case else None
        return CameOf("Pending", submission.case_id, waiting or reasons)
    if outcome is Outcome.WITHDRAWN:
        return CameOf("Withdrawn", submission.case_id, "the person's details are being erased.")
    if outcome in {Outcome.REJECTED, Outcome.QUARANTINED}:
        return CameOf(outcome.value.capitalize(), None, reasons)
    return CameOf(outcome.value.replace("_", " ").capitalize(), submission.case_id, reasons)
