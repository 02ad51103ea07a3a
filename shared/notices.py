"""The emails the intake sends, rendered from `templates/email/`.

This is the one place that decides who may see personal data: recipients in the secure
domains get the child's details, everyone else the case reference only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from importlib import resources
from string import Template
from zoneinfo import ZoneInfo

from shared.blank_forms import blank_forms_for
from shared.case import Case, EmailAttachment, EmailEffect, EmailPurpose, OriginalFiles
from shared.forms.fields import FormKind
from shared.forms.reader import label
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


WITHHELD = "(withheld: not a secure address)"
_FROM_FAMILY = (
    "It came from an address outside the domains the DSR takes referrals from (a family's\n"
    "or young person's own address, it seems); its sender was proved (SPF, DKIM and DMARC\n"
    "passed) and it passed the spam and virus checks.\n"
)
MAX_REPLY_CHARS = 3000  # of a reply's own text passed to the coordinators


@cache
def _uk_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except Exception:  # no time zone data on this machine: UTC is within an hour
        return UTC


def _uk_time(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(_uk_zone()).strftime("%d/%m/%Y %H:%M")


def initials(*names: str) -> str:
    """A name's initials ("A. O."): the first letter of each name given. Initials may go to
    any address; nothing more of the name ever does."""
    letters = []
    for name in names:
        first = next((c for c in name if c.isalpha()), None)
        if first is not None:
            letters.append(first.upper()[:1] + ".")
    return " ".join(letters)


MAX_FILES_LISTED = 20
MAX_REFERENCES_CHARS = 900  # SES takes a header value up to 995 characters
_REPLY_PREFIX = ("re:", "aw:", "sv:", "antw:", "fw:", "fwd:")


@dataclass(frozen=True)
class AnsweredFile:
    position: int
    filename: str  # the sender's (sanitised); shown at secure addresses only
    kind: str  # "PDF", "Word" ...


@dataclass(frozen=True)
class Answering:
    """The email an answer is to: what the answer says of it (when it was sent, its files,
    the child's initials when its forms gave a name) and how the answer threads to it."""

    message_id: str | None  # their real Message-ID: In-Reply-To it
    references: tuple[str, ...]  # their References chain
    subject: str  # theirs: may name the child (secure addresses only)
    sent_at: datetime  # their Date header, else when we received it
    dated: bool  # from their Date header
    files: tuple[AnsweredFile, ...]
    file_count: int
    initials: str = ""

    @classmethod
    def to(cls, mail: InboundMail, received_at: datetime) -> Answering:
        return cls(
            message_id=mail.reply_to_id,
            references=mail.references,
            subject=mail.reply_subject,
            sent_at=mail.sent_at or received_at,
            dated=mail.sent_at is not None,
            files=tuple(
                AnsweredFile(file.position, file.filename, file.kind_name)
                for file in mail.attachments
            ),
            file_count=max(mail.file_count, len(mail.attachments)),
        )

    def about(self, given_name: str, family_name: str) -> Answering:
        """The same, naming the child by the initials of the name their forms gave."""
        return replace(self, initials=initials(given_name, family_name))

    def text(self, secure: bool) -> str:
        """Which email this answers, its files (filenames at secure addresses only) and the
        child's initials."""
        when = ("your email of " if self.dated else "your email received ") + _uk_time(
            self.sent_at
        )
        count = self.file_count
        if not count:
            lines = [f"This answers {when} (no attachments)."]
        else:
            lines = [f"This answers {when}, with {count} attachment{'s' * (count != 1)}:"]
            for file in self.files[:MAX_FILES_LISTED]:
                if secure and file.filename:
                    lines.append(f"  {file.position}. {file.filename} ({file.kind})")
                else:
                    lines.append(f"  attachment {file.position} ({file.kind})")
            if count > min(len(self.files), MAX_FILES_LISTED):
                lines.append(f"  and {count - min(len(self.files), MAX_FILES_LISTED)} more")
        if self.initials:
            lines.append(f"It is about the child with initials {self.initials.rstrip('.')}.")
        return "\n".join(lines) + "\n\n"

    def subject_for(self, ours: str, secure: bool) -> str:
        """`Re: <their subject>` at a secure address; elsewhere (their subject may name the
        child), or when they gave none, our own with the child's initials."""
        theirs = self.subject.strip()
        while theirs.lower().startswith(_REPLY_PREFIX):
            theirs = theirs.split(":", 1)[1].strip()
        if secure and theirs:
            return _one_line(f"Re: {theirs}")
        return f"{ours} - child {self.initials}" if self.initials else ours

    def thread(self) -> dict[str, object]:
        """In-Reply-To and References for the answer (none without a real Message-ID)."""
        if self.message_id is None:
            return {}
        chain = [*self.references, self.message_id]
        while len(chain) > 1 and len(" ".join(chain)) > MAX_REFERENCES_CHARS:
            chain.pop(0)
        return {"in_reply_to": self.message_id, "references": tuple(chain)}


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
        referrer = ", ".join(
            _one_line(part) for part in (referral.referrer_name, referral.referrer_organisation)
            if part  # a family has no organisation
        )  # fmt: skip
        lines += [
            f"Suggested rating: {referral.suggested_rating.value}",
            f"Referrer: {referrer} ({_one_line(referral.referrer_email)})",
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
        *,
        answering: Answering | None = None,
        blank_forms: tuple[str, ...] = (),
    ) -> list[EmailEffect]:
        """One email per group of recipients: the secure ones (with details) and the rest.
        `secure_values` fill their placeholders for the secure group only; the rest get them
        empty. An answer to an email (`answering`) says which email it answers (filenames
        and their subject at secure addresses only) and threads to it."""
        subject, body = _template(name)
        common = {
            "area_name": self.settings.area_name,
            "inbox_address": self.settings.inbox_address,
            "case_flags": "",
            "referral_substance": "",
            "answering": "",
        }
        private = {"child_details": child_details(case) if case else "", **(secure_values or {})}
        effects = []
        secure = sorted({a for a in to if self.is_secure(a)})
        others = sorted({a for a in to if not self.is_secure(a)})
        withheld = dict.fromkeys(private, "")
        for group, details, is_secure in ((secure, private, True), (others, withheld, False)):
            if not group:
                continue
            filled = {**common, **values, **details}
            if answering is not None:
                filled["answering"] = answering.text(is_secure)
            ours = subject.substitute(filled)
            effects.append(
                EmailEffect(
                    purpose=purpose,
                    to=tuple(group),
                    subject=answering.subject_for(ours, is_secure) if answering else ours,
                    body=body.substitute(filled),
                    blank_forms=blank_forms,
                    **(answering.thread() if answering else {}),
                )
            )
        return effects

    def acknowledgement(
        self,
        name: str,
        to: str,
        case: Case,
        *,
        answering: Answering | None = None,
        **values: str,
    ) -> list[EmailEffect]:
        """The sender's answer, with the child's details at secure addresses (`answering`:
        the email it answers; None for someone told of a case they sent part of earlier)."""
        values = {"case_reference": case.case_id, **values}
        return self._render(
            name, EmailPurpose.ACKNOWLEDGEMENT, [to], values, case, answering=answering
        )

    def reference_only(
        self, name: str, to: str, case: Case, *, answering: Answering | None = None, **values: str
    ) -> list[EmailEffect]:
        """The sender's answer about a case that may not be theirs: its reference, never
        what it holds."""
        values = {"case_reference": case.case_id, **values}
        return self._render(
            name, EmailPurpose.ACKNOWLEDGEMENT, [to], values, None, answering=answering
        )

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

    def rejection(
        self,
        to: str,
        reasons: list[Reason],
        *,
        answering: Answering | None = None,
        with_forms: bool = True,
    ) -> list[EmailEffect]:
        """The sender's answer: every problem in plain words (which form, which field by its
        printed label, what to do; never a code), with the blank forms to use attached."""
        forms = blank_forms_for([reason.form for reason in reasons]) if with_forms else ()
        note = (
            f"The blank form{'s' * (len(forms) != 1)} to use {'are' if len(forms) != 1 else 'is'} "
            f"attached: {', '.join(forms)}.\n\n"
            if forms
            else ""
        )
        return self._render(
            "rejection",
            EmailPurpose.REJECTION,
            [to],
            {"reason_lines": plain_reason_lines(reasons), "forms_note": note},
            None,
            answering=answering,
            blank_forms=forms,
        )

    def for_entry(
        self, to: str, unread: list[str], *, answering: Answering | None = None
    ) -> list[EmailEffect]:
        """The sender's answer when nothing of their email could be read but files the
        coordinators will enter by hand (a scan): not a rejection to correct and resend. The
        files by position and kind only (`unread`, e.g. "attachment 2 (PDF)"), no blank forms
        (they need not send again), nothing of the child."""
        what = " and ".join(unread) if unread else "the forms you sent"
        return self._render(
            "acknowledgement_for_entry",
            EmailPurpose.ACKNOWLEDGEMENT,
            [to],
            {"unread": what, "them": "them" if len(unread) > 1 else "it"},
            None,
            answering=answering,
        )

    def manual_entry(
        self,
        reasons: list[Reason],
        message_id: str,
        positions: tuple[int, ...],
        outcome: str,
        *,
        case_id: str | None,
        received_at: datetime,
        sender_told: bool = False,
    ) -> list[EmailEffect]:
        """The coordinators' copy of files that could not be read, for entry by hand in the
        console's Triage. Its subject names the case, else when the email came (what Triage
        lists it by): never the sender or their subject. The files themselves go to secure
        addresses only. `sender_told`: the sender was told a coordinator will enter it."""
        identified = f"case {case_id}" if case_id else f"email received {_uk_time(received_at)}"
        told = (
            "Its sender has been told a coordinator will enter it, and need not send it again.\n"
            if sender_told
            else ""
        )
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
                    "identified": identified,
                    "sender_told": told,
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

    def _to_coordinators(
        self,
        name: str,
        purpose: EmailPurpose,
        values: dict[str, str],
        secure_only: dict[str, str],
        withheld: dict[str, str] | None = None,
    ) -> list[EmailEffect]:
        """One email to the coordinators at secure addresses and one to the rest, as every
        email to the team goes (each an outbox item, sent at most once). `secure_only` values
        (addresses, subjects, what someone wrote: they may identify people) only at secure
        addresses; elsewhere WITHHELD, or the text `withheld` gives for that value."""
        hidden = {key: WITHHELD for key in secure_only} | (withheld or {})
        effects = []
        for group in self._by_security(self.settings.coordinator_addresses):
            shown = secure_only if self.is_secure(group[0]) else hidden
            effects += self._render(name, purpose, list(group), {**values, **shown}, None)
        return effects

    def send_uncertain(
        self, email: EmailEffect, case_id: str | None, attempted_at: datetime, outbox_id: str
    ) -> list[EmailEffect]:
        """To the coordinators: an email whose send could not be confirmed, so it was not
        sent again (SES has no idempotency token; sending blind could send it twice)."""
        return self._to_coordinators(
            "send_uncertain",
            EmailPurpose.SEND_UNCERTAIN,
            {
                "purpose": email.purpose.value.replace("_", " "),
                "case_reference": case_id or "no case",
                "attempted_at": attempted_at.strftime("%d/%m/%Y %H:%M"),
                "outbox_id": outbox_id,
            },
            {"recipients": ", ".join(email.to), "subject": _one_line(email.subject)},
        )

    def mail_problem(
        self, problem: str, email_purpose: str, case_id: str | None, recipients: list[str],
        on: datetime,
    ) -> list[EmailEffect]:  # fmt: skip
        """To the coordinators: an answer we sent bounced, was refused or complained of."""
        return self._to_coordinators(
            "mail_problem",
            EmailPurpose.MAIL_PROBLEM,
            {
                "problem": problem,
                "purpose": email_purpose.replace("_", " "),
                "case_reference": case_id or "no case",
                "on": on.strftime("%d/%m/%Y %H:%M"),
            },
            {"recipients": ", ".join(recipients)},
        )

    def mailbox_set_aside(
        self, graph_code: str, stage: str, folder: str, on: datetime
    ) -> list[EmailEffect]:
        """To the coordinators: an email of the shared mailbox Graph would not let us read,
        set aside for a person. Graph's error code and the folder only: nothing of the email."""
        return self._to_coordinators(
            "mailbox_set_aside",
            EmailPurpose.COORDINATOR_NOTIFICATION,
            {
                "graph_code": graph_code,
                "stage": stage,
                "folder": folder,
                "on": on.strftime("%d/%m/%Y %H:%M"),
            },
            {},
        )

    def withdrawal_held(
        self, held: HeldWithdrawal, details: str, days: int, *, from_family: bool = False
    ) -> list[EmailEffect]:
        """To the coordinators: a withdrawal from outside the team, to confirm (in the
        console's Triage, or by the emailed command). The form's details and the sender only
        at secure addresses. `from_family`: from a proved address outside the allowed
        domains, which the alert says, so the coordinator checks with the family."""
        return self._to_coordinators(
            "withdrawal_held",
            EmailPurpose.COORDINATOR_NOTIFICATION,
            {
                "hold_reference": held.reference,
                "received_on": held.received_at.strftime("%d/%m/%Y %H:%M"),
                "hold_days": str(days),
                "from_family": _FROM_FAMILY if from_family else "",
            },
            {"sender": held.sender, "withdrawal_details": details},
            withheld={"withdrawal_details": ""},
        )

    def withdrawal_received(
        self, held: HeldWithdrawal, *, answering: Answering | None = None
    ) -> list[EmailEffect]:
        """To the sender of a held withdrawal: received, to be confirmed (nothing more)."""
        return self._render(
            "withdrawal_received",
            EmailPurpose.ACKNOWLEDGEMENT,
            [held.sender],
            {"hold_reference": held.reference},
            None,
            answering=answering,
        )

    def withdrawal_declined(self, held: HeldWithdrawal) -> list[EmailEffect]:
        """To the sender of a held withdrawal a coordinator declined: not carried out."""
        return self._render(
            "withdrawal_declined",
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
        text = mail.own_text.strip()[:MAX_REPLY_CHARS] or "(no text of their own)"
        return self._to_coordinators(
            "reply_for_coordinators",
            EmailPurpose.COORDINATOR_NOTIFICATION,
            {
                "case_reference": case_id or "no case reference found",
                "files": str(mail.file_count),
                "message_id": message_id,
            },
            {
                "sender": mail.sender,
                "their_subject": _one_line(mail.subject),
                "their_text": _indented(text),
            },
            withheld={"their_text": "  " + WITHHELD},
        )

    def reply_passed_on(
        self, to: str, *, answering: Answering | None = None
    ) -> list[EmailEffect]:
        return self._render(
            "reply_passed_on", EmailPurpose.ACKNOWLEDGEMENT, [to], {}, None, answering=answering
        )

    def quarantine_alert(
        self, sender: str, reasons: list[Reason], message_id: str
    ) -> list[EmailEffect]:
        # The sender's address is itself personal data: only secure recipients see it.
        return self._to_coordinators(
            "quarantine_alert",
            EmailPurpose.QUARANTINE_ALERT,
            {
                "reason_lines": reason_lines(reasons),
                "reason_codes": ", ".join(reason.code.value for reason in reasons),
                "message_id": message_id,
            },
            {"sender": sender},
        )

    def self_referral_waiting(
        self, mail: InboundMail, message_id: str, reference: str
    ) -> list[EmailEffect]:
        """To the coordinators: a self-referral to verify. Who sent it and their subject
        only at secure addresses (a family's address and subject may name the child)."""
        return self._to_coordinators(
            "self_referral_waiting",
            EmailPurpose.COORDINATOR_NOTIFICATION,
            {"reference": reference, "message_id": message_id, "files": str(mail.file_count)},
            {"sender": mail.sender, "their_subject": _one_line(mail.subject)},
        )

    def self_referral_received(
        self, to: str, reference: str, *, answering: Answering | None = None
    ) -> list[EmailEffect]:
        """To a self-referral's sender: received, to be checked; its reference, nothing more."""
        return self._render(
            "self_referral_received", EmailPurpose.ACKNOWLEDGEMENT, [to],
            {"reference": reference}, None, answering=answering,
        )  # fmt: skip

    def self_referral_declined(
        self, to: str, reference: str, *, answering: Answering | None = None
    ) -> list[EmailEffect]:
        """To a self-referral's sender: not taken forward, in plain words, nothing of the child."""
        return self._render(
            "self_referral_declined", EmailPurpose.ACKNOWLEDGEMENT, [to],
            {"reference": reference}, None, answering=answering,
        )  # fmt: skip


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
    """For the team (alerts, manual entry): each reason with its code and field name."""
    lines = []
    for number, reason in enumerate(reasons, start=1):
        where = f" (field: {reason.field})" if reason.field else ""
        lines.append(f"{number}. [{reason.code.value}]{where} {reason.message}")
    return "\n".join(lines)


def plain_reason_lines(reasons: list[Reason]) -> str:
    """For the sender: each reason in plain words, without codes or field names. A reason
    whose message does not itself name its form, or its field by the label the form prints,
    starts with them ("Consent form, 'Consent basis' (section 3): ...")."""
    lines = []
    for number, reason in enumerate(reasons, start=1):
        where: list[str] = []
        try:
            kind = FormKind(reason.form) if reason.form else None
        except ValueError:
            kind = None
        message = reason.message
        if kind is not None and kind.display_name not in message.lower():
            where.append(kind.display_name.capitalize())
        if reason.field:
            printed = label(reason.field, kind.value if kind else None)
            if printed.lower() not in message.lower():
                where.append(printed if where else printed[0].upper() + printed[1:])
        prefix = ", ".join(where) + ": " if where else ""
        lines.append(f"{number}. {prefix}{message}")
    return "\n".join(lines)
