"""The Triage page's data: everything waiting for a person, oldest first, each item with
what the page shows and the actions the actor's role allows. Pure: the register's marks
(shared.console.waiting, read through the TriageQueue index) and the stored emails come in.

Emails, holds and reports are the coordinators'; the panel sees the cases waiting (reviews
overdue, referrals about to lapse). Done items (released, dismissed, entered, verified,
declined, noted, a hold confirmed) have left the index in the transaction that did them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shared.case import Actor, Case, CaseStatus, StaffRole, Submission
from shared.console.quarantine import NEVER_RELEASED
from shared.console.roles import ALLOWED, ConsoleAction
from shared.console.waiting import Waiting, email_item, event_item, hold_item
from shared.holds import HOLD_RETENTION, HeldWithdrawal
from shared.outcome import Reason

# A pending case shows this long before it lapses (its referrer has not sent the other form).
LAPSING_WITHIN = timedelta(days=7)
# How much of a waiting email's own text the page shows: enough to decide on, never a
# whole forwarded thread.
EXCERPT_CHARS = 1200


@dataclass(frozen=True)
class ListedFile:
    """One file of a waiting email, as listed (never its content)."""

    position: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class WaitingEmail:
    """An email's outcome waiting, with what its stored copy says (None once erased)."""

    submission: Submission
    why: Waiting
    since: datetime
    sender: str | None = None
    files: tuple[ListedFile, ...] = ()
    subject: str = ""
    excerpt: str = ""  # the start of its plain text (excerpt_of)


def excerpt_of(body_text: str) -> str:
    """The start of an email's plain text, its blank lines squeezed, cut at EXCERPT_CHARS."""
    lines = [line.rstrip() for line in body_text.strip().splitlines()]
    text = "\n".join(line for n, line in enumerate(lines) if line or (n and lines[n - 1]))
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rstrip() + " [...]"


@dataclass(frozen=True)
class WaitingReport:
    """A report of one of our answers bouncing (the SES route's mail events)."""

    event_id: str
    label: str
    since: datetime


@dataclass
class TriageRead:
    """The register's side of the page: what the TriageQueue index lists as waiting."""

    emails: list[tuple[Submission, Waiting, datetime]] = field(default_factory=list)
    holds: list[HeldWithdrawal] = field(default_factory=list)
    reports: list[WaitingReport] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


@dataclass(frozen=True)
class TriageItem:
    item_id: str  # what the item's action resolves (shared.console.waiting)
    why: Waiting
    since: datetime  # when it began waiting; the queue's order
    case_id: str | None = None
    message_id: str | None = None  # an email's: the actions' argument
    reference: str | None = None  # a hold's, or the reference a self-referral was given
    sender: str | None = None
    reasons: tuple[Reason, ...] = ()
    files: tuple[ListedFile, ...] = ()
    name: str | None = None  # the child's, for a case waiting
    due: date | datetime | None = None  # the review day, or when it lapses
    label: str | None = None  # a report's kind (mail_problem:bounce ...)
    actions: tuple[ConsoleAction, ...] = field(default=())
    subject: str = ""  # an email's
    excerpt: str = ""  # the start of an email's text
    details: tuple[tuple[str, str], ...] = ()  # a held withdrawal's form, as read


def _hold_details(held: HeldWithdrawal) -> tuple[tuple[str, str], ...]:
    """What a coordinator checks before confirming, as the held alert email gives it."""
    withdrawal = held.withdrawal
    identity = withdrawal.identity
    return (
        ("Case reference given", identity.case_reference or "None"),
        ("NHS number", identity.nhs_number),
        ("Date of birth", f"{identity.date_of_birth:%d/%m/%Y}"),
        ("Withdrawn by", " ".join(withdrawal.withdrawn_by_name.split())),
        ("Relationship", " ".join(withdrawal.withdrawn_by_relationship.split())),
        ("Withdrawal date", f"{withdrawal.withdrawal_date:%d/%m/%Y}"),
    )


_ACTIONS: dict[Waiting, tuple[ConsoleAction, ...]] = {
    Waiting.QUARANTINED: (ConsoleAction.RELEASE, ConsoleAction.DISMISS),
    Waiting.SELF_REFERRAL: (ConsoleAction.VERIFY, ConsoleAction.DECLINE),
    Waiting.MANUAL_ENTRY: (ConsoleAction.ENTER_BY_HAND,),
    # Or confirmed by the coordinator's CONFIRM WITHDRAWAL email, or any withdrawal of the case.
    Waiting.HELD_WITHDRAWAL: (ConsoleAction.CONFIRM_WITHDRAWAL, ConsoleAction.DECLINE_WITHDRAWAL),
    Waiting.BOUNCED: (ConsoleAction.NOTE,),
    Waiting.LAPSING: (ConsoleAction.VIEW_CASE,),
    Waiting.REVIEW_OVERDUE: (ConsoleAction.VIEW_CASE, ConsoleAction.REVIEW),
}


def _allowed(actor: Actor, actions: Iterable[ConsoleAction]) -> tuple[ConsoleAction, ...]:
    return tuple(action for action in actions if actor.role in ALLOWED[action])


def _email_actions(waiting: WaitingEmail) -> tuple[ConsoleAction, ...]:
    if waiting.why is Waiting.BOUNCED:
        return (ConsoleAction.DISMISS,)  # a bounce that came back as an email (Graph route)
    actions = _ACTIONS[waiting.why]
    codes = {reason.code for reason in waiting.submission.reasons}
    if waiting.why is Waiting.QUARANTINED and (codes & NEVER_RELEASED or waiting.sender is None):
        return (ConsoleAction.DISMISS,)  # spam or virus, or no stored copy: never answered
    return actions


def _self_referral_reference(submission: Submission) -> str | None:
    for reason in submission.reasons:
        for word in reason.message.split():
            if word.startswith("DSR-"):
                return word
    return None


def triage_queue(
    actor: Actor,
    now: datetime,
    *,
    emails: Iterable[WaitingEmail] = (),
    holds: Iterable[HeldWithdrawal] = (),
    reports: Iterable[WaitingReport] = (),
    cases: Iterable[Case] = (),
) -> list[TriageItem]:
    """Everything waiting for a person the actor may see, oldest first."""
    items: list[TriageItem] = []
    if actor.role is StaffRole.COORDINATOR:
        for waiting in emails:
            submission = waiting.submission
            items.append(
                TriageItem(
                    item_id=email_item(submission.message_id),
                    why=waiting.why,
                    since=waiting.since,
                    case_id=submission.case_id,
                    message_id=submission.message_id,
                    reference=_self_referral_reference(submission)
                    if waiting.why is Waiting.SELF_REFERRAL
                    else None,
                    sender=waiting.sender,
                    reasons=tuple(submission.reasons),
                    files=waiting.files,
                    actions=_allowed(actor, _email_actions(waiting)),
                    subject=waiting.subject,
                    excerpt=waiting.excerpt,
                )
            )
        for held in holds:
            if held.received_at + HOLD_RETENTION < now:
                continue  # lapsed (the table's TTL removes it within a day or two)
            items.append(
                TriageItem(
                    item_id=hold_item(held.reference),
                    why=Waiting.HELD_WITHDRAWAL,
                    since=held.received_at,
                    message_id=held.message_id,
                    reference=held.reference,
                    sender=held.sender,
                    due=held.received_at + HOLD_RETENTION,
                    details=_hold_details(held),
                    actions=_allowed(actor, _ACTIONS[Waiting.HELD_WITHDRAWAL]),
                )
            )
        for report in reports:
            items.append(
                TriageItem(
                    item_id=event_item(report.event_id),
                    why=Waiting.BOUNCED,
                    since=report.since,
                    label=report.label,
                    actions=_allowed(actor, _ACTIONS[Waiting.BOUNCED]),
                )
            )
    if actor.role in ALLOWED[ConsoleAction.VIEW_TRIAGE]:
        items += [item for case in cases if (item := _case_item(actor, case, now))]
    return sorted(items, key=lambda item: (item.since, item.item_id))


def _case_item(actor: Actor, case: Case, now: datetime) -> TriageItem | None:
    child = case.child
    name = f"{child.given_name} {child.family_name}" if child else None
    if case.status.is_pending and case.pending_expires_at is not None:
        if not now < case.pending_expires_at <= now + LAPSING_WITHIN:
            return None
        return TriageItem(
            item_id=f"case:{case.case_id}", why=Waiting.LAPSING,
            since=case.pending_expires_at - LAPSING_WITHIN, case_id=case.case_id, name=name,
            due=case.pending_expires_at, actions=_allowed(actor, _ACTIONS[Waiting.LAPSING]),
        )  # fmt: skip
    due = case.next_review_on
    if case.status is CaseStatus.ACTIVE and due is not None and due < now.date():
        return TriageItem(
            item_id=f"case:{case.case_id}", why=Waiting.REVIEW_OVERDUE,
            since=datetime.combine(due, time(), tzinfo=UTC), case_id=case.case_id, name=name,
            due=due, actions=_allowed(actor, _ACTIONS[Waiting.REVIEW_OVERDUE]),
        )  # fmt: skip
    return None
