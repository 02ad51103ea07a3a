"""A subject access request: everything the register holds about one person, as one ZIP -
a readable summary, the case as stored (JSON), its audit lines, the outcomes of its emails
and the original files those emails carried. Pure: the service reads what it needs."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass
from datetime import date, datetime

from pydantic import BaseModel

from shared.case import Actor, AuditEntry, Case, Correction, ReviewRecord, Submission, email_of
from shared.console.roles import ROLE_NAMES, ConsoleAction
from shared.console.wording import closure_words, correction_label, form_rows, label_of
from shared.forms.consent import Consent, ConsentBasis
from shared.mail import Attachment
from shared.outcome import Outcome

_EXTENSIONS = {
    "PDF": ".pdf",
    "Word": ".docx",
    "text": ".txt",
    "email": ".eml",
}
_IMAGE_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif",
                     "image/gif": ".gif"}  # fmt: skip


@dataclass(frozen=True)
class HeldEmail:
    """One email about the case: its recorded outcome (None while unrecorded) and its files
    (none once the raw email has expired or was erased)."""

    message_id: str
    submission: Submission | None
    files: tuple[Attachment, ...] = ()


def file_name(email_number: int, file: Attachment) -> str:
    """A name inside the ZIP from the email's number and the file's position and kind: the
    sender's filename may hold anything (`../`, a drive letter), so it is listed, not used."""
    extension = _EXTENSIONS.get(file.kind_name) or _IMAGE_EXTENSIONS.get(file.content_type, ".bin")
    return f"files/email-{email_number}/attachment-{file.position}{extension}"


def _uk(day: date | datetime | None) -> str:
    if day is None:
        return "-"
    return day.strftime("%d/%m/%Y %H:%M" if isinstance(day, datetime) else "%d/%m/%Y")


def _words(value: object) -> str:
    """A held value as a family reads it: ticks as yes/no, dates day-first, lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return _uk(value)
    if isinstance(value, tuple | list):
        return ", ".join(str(item) for item in value) or "none"
    return "-" if value is None or value == "" else " ".join(str(value).split())


# Fields whose printed label ("Name", "Email") means something only under its section.
_WHOSE = {"referrer_": "Referrer's", "parent_carer_": "Parent or carer's"}


def _label(name: str) -> str:
    for prefix, whose in _WHOSE.items():
        if name.startswith(prefix):
            return f"{whose} {label_of(name).lower()}"
    return label_of(name)


def _form(title: str, form: BaseModel) -> list[str]:
    """A referral or consent as held, every field given in the printed form's words (the
    child is shown on their own; a field left blank is not held, so not listed)."""
    names = [name for name in type(form).model_fields if name != "child"]
    lines = ["", f"{title}:"]
    for name, (_, value) in zip(names, form_rows(form), strict=True):
        if value is None or value == "":
            continue
        if isinstance(getattr(form, name), dict):
            # The optional answers each on its own line: the address, gender, school ...
            details: dict[str, str] = getattr(form, name)
            lines += [f"  {_label(key)}: {_words(item)}" for key, item in details.items()]
        else:
            lines.append(f"  {_label(name)}: {_words(value)}")
    return lines


def _consent_sentence(consent: Consent) -> str:
    """Who consented and on what basis, in a sentence."""
    basis = label_of(consent.basis.value).lower()
    if consent.basis is ConsentBasis.BEST_INTEREST:
        who = (f"a best interest decision by {_words(consent.best_interest_decision_maker)} "
               f"({_words(consent.best_interest_decision_role)})")  # fmt: skip
    else:
        who = _words(consent.consenting_person_name)
        if consent.consenting_person_relationship:
            who += f" ({_words(consent.consenting_person_relationship)})"
        who += f", {basis}"
    return f"Consent given on {_uk(consent.consent_date)} by {who}."


def _review(review: ReviewRecord) -> list[str]:
    rating = review.rating.value if review.rating else "no rating"
    by = review.reviewer_name + (f" ({review.reviewer_role})" if review.reviewer_role else "")
    keyworker = "referred" if review.keyworker_referred else "not referred"
    if review.keyworker_name:
        keyworker += f"; keyworker: {review.keyworker_name}"
    lines = [
        f"  Review of {_uk(review.review_date)}: {rating}, by {_words(by)}",
        f"    Outcome: {_words(review.outcome_summary)}",
        f"    Actions: {_words(review.actions)}",
        f"    Keyworker programme: {keyworker}",
    ]
    if review.ctr_recommended or review.ctr_date:
        ctr = "recommended" if review.ctr_recommended else "not recommended"
        if review.ctr_date:
            ctr += f"; held on {_uk(review.ctr_date)}: {_words(review.ctr_outcome)}"
        lines.append(f"    Care (Education) and Treatment Review: {ctr}")
    if review.discharge_date:
        lines.append(f"    Discharged from hospital on {_uk(review.discharge_date)}")
    if review.next_review_on:
        lines.append(f"    Next review set for {_uk(review.next_review_on)}")
    return lines


def correction_words(fix: Correction) -> str:
    """A correction in words: "Given name(s) corrected from 'Olivr' to 'Oliver' on
    15/12/2026 by a DSR coordinator: <reason>"."""
    role = ROLE_NAMES[fix.by.role]
    old, new = (f"'{value}'" if value else "blank" for value in (fix.old, fix.new))
    return (f"{correction_label(fix.field)} corrected from {old} to {new} on "
            f"{_uk(fix.at.date())} by a {role}: {_words(fix.reason)}")  # fmt: skip


# A console form recorded like an email (`console-<action>-<token>`, shared.console.roles).
_CONSOLE_FORMS = {
    ConsoleAction.REVIEW: "a review recorded in the console",
    ConsoleAction.CLOSE: "the case closed in the console",
    ConsoleAction.WITHDRAW: "consent withdrawn in the console",
}
_REDECIDED = {"triage": "released or verified in the console", "entry": "entered by hand"}


def _console_form(event_id: str) -> str | None:
    for action, words in _CONSOLE_FORMS.items():
        if event_id.startswith(f"console-{action.name.lower().replace('_', '-')}-"):
            return words
    return "a change made in the console" if event_id.startswith("console-") else None


def numbered_emails(emails: list[HeldEmail]) -> dict[str, int]:
    """Each email's number (1, 2 ...) in the order first recorded: a part or a re-decision is
    its email's; a console form is no email."""
    numbers: dict[str, int] = {}
    for held in emails:
        if _console_form(held.message_id) is None:
            numbers.setdefault(email_of(held.message_id), len(numbers) + 1)
    return numbers


def _emails(emails: list[HeldEmail]) -> list[str]:
    numbers = numbered_emails(emails)
    lines = ["", "Emails and console records:"]
    for held in emails:
        outcome = held.submission.outcome.value if held.submission else "not yet recorded"
        when = _uk(held.submission.received_at) if held.submission else "-"
        console = _console_form(held.message_id)
        if console is not None:
            lines.append(f"  {when}: {console} ({outcome})")
            continue
        number = numbers[email_of(held.message_id)]
        parts = held.message_id.split(".")[1:]  # `<id>.triage`, `<id>.entry.2` ...
        kind = next((words for key, words in _REDECIDED.items() if key in parts), "")
        lines.append(f"  Email {number}{f', {kind}' if kind else ''}, {when}: {outcome}, "
                     f"{len(held.files)} file(s)")  # fmt: skip
        for file in held.files:
            lines.append(f"    {file_name(number, file)} (sent as: {file.filename or '-'})")
        if held.submission and held.submission.outcome is not Outcome.ACCEPTED:
            lines += [f"    {reason.message}" for reason in held.submission.reasons]
    return lines


def summary_text(
    case: Case, audit: list[AuditEntry], emails: list[HeldEmail], at: datetime, by: Actor
) -> str:
    """The readable summary: plain text (nothing in it is ever interpreted as markup), every
    field held in the printed forms' words."""
    child = case.child
    lines = [
        "Dynamic Support Register - subject access request",
        f"Case reference: {case.case_id}",
        f"Prepared on {_uk(at)} by {by.email}",
        "",
        f"Status: {case.status.value.replace('_', ' ')}",
        f"Opened: {_uk(case.created_at)}",
        f"On the register since: {_uk(case.accepted_at)}",
    ]
    if child is None:
        lines.append("No personal details are held: they were erased.")
    else:
        lines += [
            f"Name: {child.given_name} {child.family_name}",
            f"Date of birth: {_uk(child.date_of_birth)}",
            f"NHS number: {child.nhs_number}",
        ]
    if case.consent is not None:
        lines.append(_consent_sentence(case.consent))
    if case.rating is not None:
        lines.append(f"Rating: {case.rating.value}; next review {_uk(case.next_review_on)}")
    if case.referral is not None:
        lines += _form("The referral", case.referral)
    if case.consent is not None:
        lines += _form("The consent", case.consent)
    if case.consent_history:
        lines += ["", "Consent records:"] + [
            f"  Recorded on {_uk(record.recorded_at)}: {_consent_sentence(record.consent)}"
            for record in case.consent_history
        ]
    lines += ["", "Ratings:"] + [
        f"  {_uk(change.on)} {change.rating.value} ({change.source})"
        for change in case.rating_history
    ]
    lines += ["", "Reviews:"] + [line for review in case.reviews for line in _review(review)]
    lines += ["", "Corrections:"] + [f"  {correction_words(fix)}" for fix in case.corrections]
    if case.closure is not None:
        lines += ["", f"Closed on {_uk(case.closure.on)}: {closure_words(case.closure.reason.value)}"]
    lines += _emails(emails)
    lines += ["", f"Audit trail: {len(audit)} entries (audit.json)."]
    return "\n".join(lines) + "\n"


def _audit_line(entry: AuditEntry) -> dict[str, object]:
    line = asdict(entry)
    line["at"] = entry.at.isoformat()
    return line


def subject_access_export(
    case: Case, audit: list[AuditEntry], emails: list[HeldEmail], at: datetime, by: Actor
) -> bytes:
    """The ZIP of everything held about the case's person."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.txt", summary_text(case, audit, emails, at, by))
        # Not the keyed hash of the NHS number: an internal lookup key, nothing of theirs.
        archive.writestr("case.json", case.model_dump_json(indent=2, exclude={"person_key"}))
        archive.writestr("audit.json", json.dumps([_audit_line(e) for e in audit], indent=2))
        numbers = numbered_emails(emails)
        listed = []
        for held in emails:
            number = numbers.get(email_of(held.message_id))  # None: a console form
            listed.append(
                {
                    "email": number,
                    "message_id": held.message_id,
                    "outcome": held.submission.model_dump(mode="json") if held.submission else None,
                    "files": [file_name(number, f) for f in held.files] if number else [],
                }
            )
            if number is not None:
                for file in held.files:
                    archive.writestr(file_name(number, file), file.content)
        archive.writestr("emails.json", json.dumps(listed, indent=2))
    return out.getvalue()
