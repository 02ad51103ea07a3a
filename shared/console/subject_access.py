"""A subject access request: everything the register holds about one person, as one ZIP -
a readable summary, the case as stored (JSON), its audit lines, the outcomes of its emails
and the original files those emails carried. Pure: the service reads what it needs."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass
from datetime import date, datetime

from shared.case import Actor, AuditEntry, Case, Submission
from shared.mail import Attachment

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


def summary_text(
    case: Case, audit: list[AuditEntry], emails: list[HeldEmail], at: datetime, by: Actor
) -> str:
    """The readable summary: plain text (nothing in it is ever interpreted as markup)."""
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
    if case.referral is not None:
        referral = case.referral
        lines += [
            f"Postcode: {referral.postcode}",
            f"Referred on {_uk(referral.referral_date)} by {referral.referrer_name}, "
            f"{referral.referrer_organisation}",
            f"Mental health concern: {referral.mental_health_concern}",
            f"Reason for referral: {referral.reason_for_referral}",
        ]
    if case.consent is not None:
        lines.append(
            f"Consent: {case.consent.basis.value.replace('_', ' ')} on "
            f"{_uk(case.consent.consent_date)}"
        )
    if case.rating is not None:
        lines.append(f"Rating: {case.rating.value}; next review {_uk(case.next_review_on)}")
    lines += ["", "Ratings:"] + [
        f"  {_uk(change.on)} {change.rating.value} ({change.source})"
        for change in case.rating_history
    ]
    lines += ["", "Reviews:"] + [
        f"  {_uk(review.review_date)} {review.rating.value if review.rating else '-'}: "
        f"{review.outcome_summary}"
        for review in case.reviews
    ]
    lines += ["", "Corrections:"] + [
        f"  {_uk(fix.at)} {fix.field}: '{fix.old}' to '{fix.new}' ({fix.reason})"
        for fix in case.corrections
    ]
    if case.closure is not None:
        lines += ["", f"Closed on {_uk(case.closure.on)}: {case.closure.reason.value}"]
    lines += ["", "Emails:"]
    for number, email in enumerate(emails, start=1):
        outcome = email.submission.outcome.value if email.submission else "not yet recorded"
        lines.append(f"  email {number}: {outcome}, {len(email.files)} file(s)")
        for file in email.files:
            lines.append(f"    {file_name(number, file)} (sent as: {file.filename or '-'})")
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
        archive.writestr("case.json", case.model_dump_json(indent=2))
        archive.writestr("audit.json", json.dumps([_audit_line(e) for e in audit], indent=2))
        archive.writestr(
            "emails.json",
            json.dumps(
                [
                    {
                        "email": number,
                        "message_id": email.message_id,
                        "outcome": email.submission.model_dump(mode="json")
                        if email.submission
                        else None,
                        "files": [file_name(number, file) for file in email.files],
                    }
                    for number, email in enumerate(emails, start=1)
                ],
                indent=2,
            ),
        )
        for number, email in enumerate(emails, start=1):
            for file in email.files:
                archive.writestr(file_name(number, file), file.content)
    return out.getvalue()
