"""The emails the intake sends, rendered from `templates/email/`.

This is the one place that decides who may see personal data: recipients in the secure
domains get the child's details, everyone else the case reference only.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib import resources
from string import Template

from shared.case import Case, EmailAttachment, EmailEffect, EmailPurpose, OriginalFiles
from shared.holds import HeldWithdrawal
from shared.mail import InboundMail
from shared.outcome import Reason
from shared.settings import Settings, domain_matches


@cache
def _template(name: str) -> tuple[Template, Template]:
    text = resources.files("templates.email").joinpath(f"{name}.txt").read_text("utf-8")
    subject_line, _, body = text.partition("\n\n")
    assert subject_line.startswith("Subject: "), f"{name}.txt must start with a Subject line"
    return Template(subject_line.removeprefix("Subject: ").strip()), Template(body)


def _uk(day: date) -> str:
    return day.strftime("%d/%m/%Y")


MAX_REPLY_CHARS = 3000  # of a reply's own text passed to the coordinators


def _indented(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _one_line(value: str) -> str:
    """A form's value on one line: its line breaks cannot add lines that look like fields."""
    return " ".join(value.split())


def child_details(case: Case) -> str:
    """The details a secure recipient sees about the child (never sent anywhere else)."""
    source = case.referral.child if case.referral else case.consent.child if case.consent else None
    if source is None:
        return ""
    lines = [
        f"Child: {_one_line(source.given_name)} {_one_line(source.family_name)}",
        f"Date of birth: {_uk(source.date_of_birth)}",
        f"NHS number: {source.nhs_number}",
    ]
    if case.referral is not None:
        referral = case.referral
        lines += [
            f"Suggested rating: {referral.suggested_rating.value}",
            f"Referrer: {_one_line(referral.referrer_name)}, "
            f"{_one_line(referral.referrer_organisation)} ({_one_line(referral.referrer_email)})",
        ]
        if referral.risk_factors:
            lines.append(
                "Risk factors: "
                + ", ".join(
                    f.removeprefix("risk_").replace("_", " ") for f in referral.risk_factors
                )
            )
    if case.consent is not None:
        lines.append(
            f"Consent: {case.consent.basis.value.replace('_', ' ')} on {_uk(case.consent.consent_date)}"
        )
    return "\n".join(lines) + "\n"


_SERVICE_NAMES = {
    "service_camhs": "CAMHS",
    "service_social_care": "Social care",
    "service_education": "Education",
    "service_paediatrics": "Paediatrics",
    "service_keyworker": "Keyworker",
    "service_youth_offending": "Youth offending",
}
_DIAGNOSES = (
    ("diagnosis_learning_disability", "learning disability"),
    ("diagnosis_autism", "autism"),
    ("diagnosis_awaiting_assessment", "awaiting assessment"),
)


def _block(title: str, value: str) -> list[str]:
    """A long answer under its title, every line indented: whatever it holds, no line of it
    can pass for another field of the email. Runs of blank lines become one."""
    lines: list[str] = []
    for line in value.splitlines():
        if line.strip() or (lines and lines[-1]):
            lines.append("    " + line.strip() if line.strip() else "")
    while lines and not lines[-1]:
        lines.pop()
    return [f"{title}:", *lines]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def referral_substance(case: Case) -> str:
    """What the referral says of the child's situation, for the coordinators at secure
    addresses only: the concern, the reason, needs, services, school, plans and who to
    contact. One-line answers stay on one line; long answers are indented blocks."""
    referral = case.referral
    if referral is None:
        return ""
    details = referral.details
    diagnoses = [name for field, name in _DIAGNOSES if getattr(referral, field)]
    lines = ["", "From the referral:"]
    if diagnoses:
        lines.append("Diagnosis: " + ", ".join(diagnoses))
    if "diagnosis_details" in details:
        lines += _block("Diagnosis details", details["diagnosis_details"])
    lines += _block("Mental health concern", referral.mental_health_concern)
    lines += _block("Reason for referral", referral.reason_for_referral)
    services: list[str] = []
    for name in (
        *(_SERVICE_NAMES.get(field, field) for field in referral.services),
        *(_one_line(line) for line in referral.services_involved),
    ):
        if name and name.lower() not in {known.lower() for known in services}:
            services.append(name)
    if services:
        lines += _block("Services involved", "\n".join(services))
    for field, title in (
        ("needs_health", "Health needs"),
        ("needs_education", "Education needs"),
        ("needs_social_care", "Social care needs"),
        ("care_plans", "Specialist care plans"),
    ):
        if field in details:
            lines += _block(title, details[field])
    if "school_or_setting" in details:
        lines.append(f"School or setting: {_one_line(details['school_or_setting'])}")
    lines.append(f"EHCP: {_yes_no(referral.has_ehcp)}")
    lines.append(f"Looked after: {_yes_no(referral.child_looked_after)}")
    if referral.interpreter_needed:
        language = details.get("child_first_language")
        lines.append("Interpreter needed: yes" + (f" ({_one_line(language)})" if language else ""))
    carer = [
        _one_line(details[field])
        for field in ("parent_carer_name", "parent_carer_relationship")
        if field in details
    ]
    contacts = [
        _one_line(details[field])
        for field in ("parent_carer_phone", "parent_carer_email")
        if field in details
    ]
    if carer or contacts:
        who = carer[0] if carer else "(no name given)"
        if len(carer) > 1:
            who += f" ({carer[1]})"
        lines.append("Parent/carer: " + ", ".join([who, *contacts]))
    for field, title in (
        ("referrer_role", "Referrer's role"),
        ("referrer_phone", "Referrer's phone"),
    ):
        if field in details:
            lines.append(f"{title}: {_one_line(details[field])}")
    return "\n".join(lines) + "\n"


class Notices:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def is_secure(self, address: str) -> bool:
        return domain_matches(address, self.settings.secure_domains)

    def _render(
        self,
        name: str,
        purpose: EmailPurpose,
        to: list[str],
        values: dict[str, str],
        case: Case | None,
        secure_values: dict[str, str] | None = None,
    ) -> list[EmailEffect]:
        """One email per group of recipients: the secure ones (with details) and the rest.
        `secure_values` fill their placeholders for the secure group only; the rest get them
        empty."""
        subject, body = _template(name)
        common = {
            "area_name": self.settings.area_name,
            "inbox_address": self.settings.inbox_address,
            "case_flags": "",
            "referral_substance": "",
        }
        private = {"child_details": child_details(case) if case else "", **(secure_values or {})}
        effects = []
        secure = sorted({a for a in to if self.is_secure(a)})
        others = sorted({a for a in to if not self.is_secure(a)})
        withheld = dict.fromkeys(private, "")
        for group, details in ((secure, private), (others, withheld)):
            if not group:
                continue
            filled = {**common, **values, **details}
            effects.append(
                EmailEffect(
                    purpose=purpose,
                    to=tuple(group),
                    subject=subject.substitute(filled),
                    body=body.substitute(filled),
                )
            )
        return effects

    def acknowledgement(self, name: str, to: str, case: Case, **values: str) -> list[EmailEffect]:
        """The sender's answer, with the child's details at secure addresses."""
        values = {"case_reference": case.case_id, **values}
        return self._render(name, EmailPurpose.ACKNOWLEDGEMENT, [to], values, case)

    def reference_only(self, name: str, to: str, case: Case, **values: str) -> list[EmailEffect]:
        """The sender's answer about a case that may not be theirs: its reference, never
        what it holds."""
        values = {"case_reference": case.case_id, **values}
        return self._render(name, EmailPurpose.ACKNOWLEDGEMENT, [to], values, None)

    def coordinator_notification(
        self,
        headline: str,
        outcome: str,
        case: Case,
        message_id: str,
        today: date | None = None,
        *,
        new_case: bool = False,
    ) -> list[EmailEffect]:
        """To the coordinators. A new case's carries the referral's substance, at secure
        addresses only."""
        values = {
            "headline": headline,
            "outcome": outcome,
            "case_reference": case.case_id,
            "message_id": message_id,
            "case_flags": case_flags(case, today) if today else "",
        }
        return self._render(
            "coordinator_notification",
            EmailPurpose.COORDINATOR_NOTIFICATION,
            list(self.settings.coordinator_addresses),
            values,
            case,
            {"referral_substance": referral_substance(case) if new_case else ""},
        )

    def reminder(
        self, name: str, case: Case, today: date, *, lead: bool = False, **values: str
    ) -> list[EmailEffect]:
        """A reminder about a case to the coordinators (and the DSR lead when escalated)."""
        recipients = list(self.settings.coordinator_addresses)
        if lead:
            recipients.append(self.settings.lead_address)
        values = {
            "case_reference": case.case_id,
            "rating": case.rating.value if case.rating else "not yet rated",
            "case_flags": case_flags(case, today),
            **values,
        }
        return self._render(f"reminder_{name}", EmailPurpose.REMINDER, recipients, values, case)

    def panel_pack(
        self, plain: str, with_names: str, csv_text: str, today: date
    ) -> list[EmailEffect]:
        """The pack to the coordinators and panel: names and the CSV to secure addresses only."""
        subject, body = _template("panel_pack")
        recipients = {*self.settings.coordinator_addresses, *self.settings.panel_pack_addresses}
        csv_file = EmailAttachment(
            filename=f"dsr-panel-pack-{today.isoformat()}.csv",
            content_type="text/csv",
            text=csv_text,
        )
        groups = (
            (True, with_names, "The attached CSV lists every open case with its details.\n"),
            (False, plain, "Names and the case list are sent to secure addresses only.\n"),
        )
        effects = []
        for secure, pack, note in groups:
            group = tuple(sorted(a for a in recipients if self.is_secure(a) is secure))
            if not group:
                continue
            filled = {
                "area_name": self.settings.area_name,
                "pack_date": _uk(today),
                "pack": pack,
                "attachment_note": note,
            }
            effects.append(
                EmailEffect(
                    purpose=EmailPurpose.PANEL_PACK,
                    to=group,
                    subject=subject.substitute(filled),
                    body=body.substitute(filled),
                    attachments=(csv_file,) if secure else (),
                )
            )
        return effects

    def rejection(self, to: str, reasons: list[Reason]) -> list[EmailEffect]:
        return self._render(
            "rejection", EmailPurpose.REJECTION, [to], {"reason_lines": reason_lines(reasons)}, None
        )

    def manual_entry(
        self, reasons: list[Reason], message_id: str, positions: tuple[int, ...], outcome: str
    ) -> list[EmailEffect]:
        """The coordinators' copy of files that could not be read, for entry by hand. The files
        themselves go to secure addresses only; the others are told where the email is kept."""
        effects = []
        for group in self._by_security(self.settings.coordinator_addresses):
            secure = self.is_secure(group[0])
            where = (
                "The files are attached as they came."
                if secure
                else "The files are not attached here (not a secure address)."
            )
            [email] = self._render(
                "manual_entry",
                EmailPurpose.MANUAL_ENTRY,
                list(group),
                {
                    "reason_lines": reason_lines(reasons),
                    "message_id": message_id,
                    "outcome": outcome,
                    "attached": where,
                },
                None,
            )
            if secure:
                email = email.model_copy(
                    update={"originals": OriginalFiles(message_id=message_id, positions=positions)}
                )
            effects.append(email)
        return effects

    def _by_security(self, addresses: tuple[str, ...]) -> list[tuple[str, ...]]:
        secure = tuple(sorted({a for a in addresses if self.is_secure(a)}))
        others = tuple(sorted({a for a in addresses if not self.is_secure(a)}))
        return [group for group in (secure, others) if group]

    def send_uncertain(
        self, email: EmailEffect, case_id: str | None, attempted_at: datetime, outbox_id: str
    ) -> list[EmailEffect]:
        """To the coordinators: an email whose send could not be confirmed, so it was not
        sent again (SES has no idempotency token; sending blind could send it twice)."""
        effects = []
        for address in self.settings.coordinator_addresses:
            # Addresses and subjects may identify people: only secure recipients see them.
            secure = self.is_secure(address)
            withheld = "(withheld: not a secure address)"
            values = {
                "purpose": email.purpose.value.replace("_", " "),
                "recipients": ", ".join(email.to) if secure else withheld,
                "subject": _one_line(email.subject) if secure else withheld,
                "case_reference": case_id or "no case",
                "attempted_at": attempted_at.strftime("%d/%m/%Y %H:%M"),
                "outbox_id": outbox_id,
            }
            effects += self._render(
                "send_uncertain", EmailPurpose.SEND_UNCERTAIN, [address], values, None
            )
        return effects

    def mail_problem(
        self, problem: str, email_purpose: str, case_id: str | None, recipients: list[str],
        on: datetime,
    ) -> list[EmailEffect]:  # fmt: skip
        """To the coordinators: an answer we sent bounced, was refused or complained of."""
        effects = []
        for address in self.settings.coordinator_addresses:
            secure = self.is_secure(address)
            values = {
                "problem": problem,
                "purpose": email_purpose.replace("_", " "),
                "recipients": ", ".join(recipients) if secure else "(withheld: not a secure address)",
                "case_reference": case_id or "no case",
                "on": on.strftime("%d/%m/%Y %H:%M"),
            }
            effects += self._render(
                "mail_problem", EmailPurpose.MAIL_PROBLEM, [address], values, None
            )
        return effects

    def withdrawal_held(
        self, held: HeldWithdrawal, details: str, days: int
    ) -> list[EmailEffect]:
        """To the coordinators: a withdrawal from outside the team, to confirm. The form's
        details and the sender only at secure addresses."""
        effects = []
        for address in self.settings.coordinator_addresses:
            secure = self.is_secure(address)
            withheld = "(withheld: not a secure address)"
            values = {
                "hold_reference": held.reference,
                "sender": held.sender if secure else withheld,
                "received_on": held.received_at.strftime("%d/%m/%Y %H:%M"),
                "withdrawal_details": details if secure else "",
                "hold_days": str(days),
            }
            effects += self._render(
                "withdrawal_held", EmailPurpose.COORDINATOR_NOTIFICATION, [address], values, None
            )
        return effects

    def withdrawal_received(self, held: HeldWithdrawal) -> list[EmailEffect]:
        """To the sender of a held withdrawal: received, to be confirmed (nothing more)."""
        return self._render(
            "withdrawal_received",
            EmailPurpose.ACKNOWLEDGEMENT,
            [held.sender],
            {"hold_reference": held.reference},
            None,
        )

    def reply_for_coordinators(
        self, mail: InboundMail, message_id: str, case_id: str | None
    ) -> list[EmailEffect]:
        """To the coordinators: a reply to one of our emails, for a person to answer. What
        the sender wrote only at secure addresses (it may name the child)."""
        effects = []
        for address in self.settings.coordinator_addresses:
            secure = self.is_secure(address)
            withheld = "(withheld: not a secure address)"
            text = mail.own_text.strip()[:MAX_REPLY_CHARS] or "(no text of their own)"
            values = {
                "case_reference": case_id or "no case reference found",
                "sender": mail.sender if secure else withheld,
                "their_subject": _one_line(mail.subject) if secure else withheld,
                "their_text": _indented(text) if secure else "  " + withheld,
                "files": str(mail.file_count),
                "message_id": message_id,
            }
            effects += self._render(
                "reply_for_coordinators",
                EmailPurpose.COORDINATOR_NOTIFICATION,
                [address],
                values,
                None,
            )
        return effects

    def reply_passed_on(self, to: str) -> list[EmailEffect]:
        return self._render("reply_passed_on", EmailPurpose.ACKNOWLEDGEMENT, [to], {}, None)

    def quarantine_alert(
        self, sender: str, reasons: list[Reason], message_id: str
    ) -> list[EmailEffect]:
        effects = []
        for address in self.settings.coordinator_addresses:
            # The sender's address is itself personal data: only secure recipients see it.
            shown_sender = sender if self.is_secure(address) else "(withheld: not a secure address)"
            effects += self._render(
                "quarantine_alert",
                EmailPurpose.QUARANTINE_ALERT,
                [address],
                {
                    "reason_lines": reason_lines(reasons),
                    "reason_codes": ", ".join(reason.code.value for reason in reasons),
                    "sender": shown_sender,
                    "message_id": message_id,
                },
                None,
            )
        return effects


def case_flags(case: Case, today: date) -> str:
    """What the team should see at a glance; no personal data (rating and dates only)."""
    lines = []
    if case.rating is not None:
        lines.append(f"Rating: {case.rating.value}")
    if case.next_review_on is not None and case.status.value == "active":
        lines.append(f"Next review due: {_uk(case.next_review_on)}")
    if case.red_until is not None and case.red_until > today:
        lines.append(f"Stays Red after discharge until: {_uk(case.red_until)}")
    if case.keyworker_eligible(today):
        lines.append("Keyworker programme: ELIGIBLE (Red, Amber or Blue, aged 0 to 25)")
    return "\n".join(lines) + "\n" if lines else ""


def reason_lines(reasons: list[Reason]) -> str:
    lines = []
    for number, reason in enumerate(reasons, start=1):
        where = f" (field: {reason.field})" if reason.field else ""
        lines.append(f"{number}. [{reason.code.value}]{where} {reason.message}")
    return "\n".join(lines)
