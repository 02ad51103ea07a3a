"""The case page's reading: everything held about one case - the person, the referral and
consent as read, ratings, reviews, corrections, every email in and out with its outcome,
the schedule with where the case stands with its C(E)TR and keyworker, the audit trail and
the original files - each view audited (through ConsoleService.view_case), each file
downloaded audited too. Emails and audit lines oldest first, by the moment each was
recorded. Pure orchestration over the service's ports; the page only renders what this
returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from shared.case import Actor, AuditEntry, Case, EffectSummary, StaffRole, email_of
from shared.console.roles import ALLOWED, ConsoleAction, require
from shared.console.service import ConsoleService
from shared.console.subject_access import file_name
from shared.console.wording import audit_words, closure_words, form_rows
from shared.mail import Attachment
from shared.outcome import Outcome, Reason
from shared.panel_pack import CtrStatus, KeyworkerStatus, ctr_status, keyworker_status

# A case reference as the register makes them: the only thing about a case in a URL.
CASE_REFERENCE = re.compile(r"DSR-[A-Z0-9]{4,16}")


@dataclass(frozen=True)
class HeldFile:
    """One original file of one of the case's emails, named by positions only."""

    email_number: int
    position: int
    sent_as: str  # the sender's (sanitised) filename: shown to staff, never used as a name
    content_type: str
    size: int

    @property
    def path(self) -> str:
        return f"{self.email_number}/{self.position}"


@dataclass(frozen=True)
class EmailRow:
    """One email about the case (or a console form recorded like one) and what it came to."""

    received_at: datetime | None
    source: str  # "email", "released", "entered by hand", "console"
    outcome: Outcome | None  # None while unrecorded
    reasons: tuple[Reason, ...]
    answers: tuple[EffectSummary, ...]  # the emails sent because of it, as the register keeps
    files: tuple[HeldFile, ...]


@dataclass(frozen=True)
class CaseView:
    case: Case
    emails: list[EmailRow]
    audit: list[AuditEntry]
    leaves_on: date | None  # the transition birthday
    may: frozenset[str]  # the ConsoleAction names the actor's role allows
    # The panel pack's and the reminders' own rules: the page never disagrees with them.
    ctr: CtrStatus
    keyworker: KeyworkerStatus
    # The referral and consent as read, in the forms' own words (shared.console.wording).
    forms: tuple[tuple[str, list[tuple[str, object]]], ...] = ()

    @property
    def closed_because(self) -> str:
        closure = self.case.closure
        return closure_words(closure.reason.value) if closure else ""

    @property
    def audit_lines(self) -> list[tuple[AuditEntry, str]]:
        """Each audit line with what it says in words."""
        return [(entry, audit_words(entry)) for entry in self.audit]


def permitted(role: StaffRole) -> frozenset[str]:
    """The actions a role may take, by name, from the one role table."""
    return frozenset(action.name for action, roles in ALLOWED.items() if role in roles)


def _source(event_id: str) -> str:
    if event_id.startswith("console-"):
        return "console"
    if event_id.endswith(".triage"):
        return "released"
    if event_id.endswith(".entry"):
        return "entered by hand"
    return "email"


def _emails_with_files(event_ids: list[str]) -> list[str]:
    """The case's emails in the order first recorded (a part or a re-decision is its email's),
    numbered from 1: the numbers in a file's address. Console forms carry no files."""
    emails: list[str] = []
    for event_id in event_ids:
        email = email_of(event_id)
        if not event_id.startswith("console-") and email not in emails:
            emails.append(email)
    return emails


class CaseReader:
    def __init__(self, service: ConsoleService) -> None:
        self.service = service

    def view(self, actor: Actor, case_id: str) -> CaseView | None:
        case = self.service.view_case(actor, case_id)  # the role checked, the view audited
        if case is None:
            return None
        register, mail = self.service.register, self.service.mail
        now, settings = self.service.clock(), self.service.settings
        submissions = register.case_submissions(case_id)
        numbered = _emails_with_files([event_id for event_id, _ in submissions])
        rows = []
        listed: set[str] = set()
        for event_id, submission in submissions:
            email = email_of(event_id)
            files: tuple[HeldFile, ...] = ()
            if email in numbered and email not in listed:  # an email's files once, first
                listed.add(email)
                number = numbered.index(email) + 1
                files = tuple(
                    HeldFile(
                        number, held.position, held.filename, held.content_type, held.full_size
                    )
                    for held in mail.files(email)
                )
            rows.append(
                EmailRow(
                    received_at=submission.received_at if submission else None,
                    source=_source(event_id),
                    outcome=submission.outcome if submission else None,
                    reasons=tuple(submission.reasons) if submission else (),
                    answers=tuple(e for e in submission.effects if e.kind == "email")
                    if submission
                    else (),
                    files=files,
                )
            )
        return CaseView(
            case=case,
            emails=rows,  # as case_submissions lists them: oldest first
            audit=sorted(register.case_audit(case, now), key=lambda entry: entry.at),
            leaves_on=case.transition_day(settings.transition_age),
            may=permitted(actor.role),
            forms=tuple(
                (title, form_rows(form))
                for title, form in (
                    ("The referral as read", case.referral),
                    ("The consent as read", case.consent),
                )
                if form is not None
            ),
            ctr=ctr_status(case, now.date(), settings.ctr_due_days),
            keyworker=keyworker_status(case, now.date()),
        )

    def file(
        self, actor: Actor, case_id: str, email_number: int, position: int
    ) -> tuple[str, Attachment] | None:
        """One original file and a safe name to save it as (the case reference and the
        positions: the sender's filename may hold anything); the download audited."""
        require(actor, ConsoleAction.VIEW_FILE)
        register = self.service.register
        if register.case(case_id) is None:
            return None
        emails = _emails_with_files(
            [event_id for event_id, _ in register.case_submissions(case_id)]
        )
        if not 1 <= email_number <= len(emails):
            return None
        found = [f for f in self.service.mail.files(emails[email_number - 1])
                 if f.position == position]  # fmt: skip
        if not found:
            return None
        register.audit_view(actor, ConsoleAction.VIEW_FILE.value, case_id, self.service.clock())
        name = file_name(email_number, found[0]).removeprefix("files/").replace("/", "-")
        return f"{case_id}-{name}", found[0]
