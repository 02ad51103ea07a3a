"""The panel pack: what the monthly multi-agency DSR meeting needs, built from the register.

Pure: the cases and the audit trail are passed in. The text without names may go to any
team address; the names and the CSV go only to secure domains (shared.notices decides).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.case import (
    AuditEntry,
    Case,
    CaseChange,
    CaseStatus,
    Closure,
    EmailEffect,
    PanelPackEffect,
    ReviewRecord,
)
from shared.dates import add_months
from shared.notices import Notices
from shared.rating import Rating
from shared.reminders import (
    ctr_needed_since,
    ctr_recommended_on,
    keyworker_eligible_since,
    keyworker_referral,
    last_ctr,
    red_since,
)
from shared.settings import ADULT_REGISTER_AGE, Settings
from shared.synthetic import TEST_DATA_LABEL, is_test_case

PANEL_PACK_LABEL = "panel_pack"  # the audit's line for each pack recorded
REVIEWS_AHEAD = timedelta(days=30)
BIRTHDAYS_AHEAD_MONTHS = 6
CTR_DUE_DAYS = Settings().ctr_due_days  # the default of `ctr_due_days`


@dataclass(frozen=True)
class PackLine:
    case_id: str
    name: str  # shown only to secure recipients
    rating: str
    on: date | None = None
    note: str = ""  # ratings, dates and status words only: shown to everyone
    detail: tuple[str, ...] = ()  # what the panel wrote (may name people): secure only


@dataclass(frozen=True)
class CtrStatus:
    """Where a case stands with its C(E)TR (national policy: every Red case has one)."""

    needed: str = ""  # "required (Red)", "recommended", or both; "" if neither
    reasons: tuple[tuple[str, date], ...] = ()  # why, and since when
    since: date | None = None
    due_on: date | None = None
    overdue: bool = False
    held_on: date | None = None  # the latest C(E)TR recorded
    outcome: str = ""

    @property
    def summary(self) -> str:
        """Status words and dates (no personal data)."""
        if self.reasons and self.due_on:
            why = " and ".join(f"{word} {day:%d/%m/%Y}" for word, day in self.reasons)
            when = "OVERDUE since" if self.overdue else "due by"
            return f"C(E)TR {why}, {when} {self.due_on:%d/%m/%Y}"
        if self.held_on:
            return f"C(E)TR held {self.held_on:%d/%m/%Y}"
        return ""


def ctr_status(case: Case, today: date, ctr_due_days: int = CTR_DUE_DAYS) -> CtrStatus:
    recorded = last_ctr(case)
    held_on = recorded.ctr_date if recorded else None
    outcome = recorded.ctr_outcome or "" if recorded else ""
    needed = ctr_needed_since(case)
    if not needed:
        return CtrStatus(held_on=held_on, outcome=outcome)
    since = needed[0]
    why = [
        (code, words, day)
        for code, words, day in (
            ("required (Red)", "required: Red since", red_since(case)),
            ("recommended", "recommended at the review of", ctr_recommended_on(case)),
        )
        if day is not None and day in needed
    ]
    due = since + timedelta(days=ctr_due_days)
    return CtrStatus(
        needed="; ".join(code for code, _, _ in why),
        reasons=tuple((words, day) for _, words, day in why),
        since=since,
        due_on=due,
        overdue=due < today,
        held_on=held_on,
        outcome=outcome,
    )


@dataclass(frozen=True)
class KeyworkerStatus:
    eligible: bool
    referred_on: date | None = None  # the review that recorded the referral
    name: str = ""  # the keyworker (secure only)
    eligible_since: date | None = None

    @property
    def summary(self) -> str:
        """Status words and dates (no personal data)."""
        if self.referred_on:
            named = ", keyworker named" if self.name else ""
            return f"keyworker: referred (review of {self.referred_on:%d/%m/%Y}){named}"
        if self.eligible and self.eligible_since:
            return f"keyworker: eligible since {self.eligible_since:%d/%m/%Y}, NOT referred"
        return ""


def keyworker_status(case: Case, today: date) -> KeyworkerStatus:
    referral = keyworker_referral(case)
    return KeyworkerStatus(
        eligible=case.keyworker_eligible(today),
        referred_on=referral.review_date if referral else None,
        name=referral.keyworker_name or "" if referral else "",
        eligible_since=keyworker_eligible_since(case),
    )


def previous_rating(case: Case) -> tuple[Rating | None, date | None]:
    """The rating before the latest change, and the day of that change (None, None if the
    rating never changed)."""
    history = case.rating_history
    if len(history) < 2:
        return None, None
    return history[-2].rating, history[-1].on


@dataclass
class PanelPack:
    period_start: date
    period_end: date
    counts_by_rating: dict[str, int]
    new_cases: list[PackLine] = field(default_factory=list)
    changed_cases: list[PackLine] = field(default_factory=list)
    removed_cases: list[PackLine] = field(default_factory=list)
    reviews_due: list[PackLine] = field(default_factory=list)
    overdue_reviews: list[PackLine] = field(default_factory=list)
    leaving: list[PackLine] = field(default_factory=list)  # birthdays that end the case
    transition_age: int = ADULT_REGISTER_AGE
    pending: list[PackLine] = field(default_factory=list)
    keyworker_eligible: list[PackLine] = field(default_factory=list)
    reviewed: list[PackLine] = field(default_factory=list)  # the month's last review of each
    ctrs: list[PackLine] = field(default_factory=list)  # Red or recommended: needed or held
    emails_by_outcome: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)


def _name(case: Case) -> str:
    child = case.child
    return f"{child.given_name} {child.family_name}" if child else ""


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _block(title: str, value: str) -> tuple[str, ...]:
    """What the panel wrote, under its title, indented (its lines cannot pass for others)."""
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    return (f"{title}:", *(f"  {line}" for line in lines))


def _reviewed(case: Case, review: ReviewRecord) -> PackLine:
    flags = []
    if review.ctr_recommended:
        flags.append("C(E)TR recommended")
    if review.ctr_date:
        flags.append(f"C(E)TR held {review.ctr_date:%d/%m/%Y}")
    if review.keyworker_referred or review.keyworker_name:
        flags.append("keyworker referred")
    detail = _block("Outcome", review.outcome_summary)
    if review.actions:
        detail += _block("Actions", review.actions)
    rating = review.rating.value if review.rating else "-"
    return PackLine(case.case_id, _name(case), rating, review.review_date, ", ".join(flags), detail)


def _line(case: Case, on: date | None = None, note: str = "") -> PackLine:
    rating = case.rating.value if case.rating else "-"
    return PackLine(case.case_id, _name(case), rating, on, note)


def _left_since(
    audit: list[AuditEntry], start: date, today: date, at: datetime | None
) -> Callable[[Closure], bool]:
    """Whether a closure belongs in this pack's "Left the register": recorded by the register
    since the last pack (the audit's latest pack line of an earlier day, else a month
    before `at`), however far back it took effect - a withdrawal dated before the last
    pack but confirmed after it is in this one, and in no other. Without `at`, recorded
    within the pack's days. A closure recorded before its moment was kept: by its day."""
    if at is None:
        return lambda closure: (
            start <= (closure.recorded_at.date() if closure.recorded_at else closure.on) <= today
        )
    earlier = [line.at for line in audit
               if line.label == PANEL_PACK_LABEL and line.at.date() < at.date()]  # fmt: skip
    since = max(earlier, default=datetime.combine(add_months(at.date(), -1), at.timetz()))

    def left(closure: Closure) -> bool:
        if closure.recorded_at is None:
            return start <= closure.on <= today
        return since < closure.recorded_at <= at

    return left


def build_panel_pack(
    cases: list[Case],
    audit: list[AuditEntry],
    today: date,
    transition_age: int = ADULT_REGISTER_AGE,
    ctr_due_days: int = CTR_DUE_DAYS,
    *,
    at: datetime | None = None,
) -> PanelPack:
    """The pack as of `today` (as of the moment `at`, when the DigestFunction sends it)."""
    start = add_months(today, -1)
    # Test data (the smoke test's cases, erased or not) is never in the pack, nor counted.
    tests = {case.case_id for case in cases if is_test_case(case)} | {
        line.case_id for line in audit if line.label == TEST_DATA_LABEL and line.case_id
    }
    cases = [case for case in cases if case.case_id not in tests]
    audit = [line for line in audit if line.case_id not in tests]
    active = [case for case in cases if case.status is CaseStatus.ACTIVE]
    left = _left_since(audit, start, today, at)
    pack = PanelPack(
        period_start=start,
        period_end=today,
        transition_age=transition_age,
        counts_by_rating={
            rating.value: sum(case.rating is rating for case in active) for rating in Rating
        },
    )
    for case in cases:
        accepted = case.accepted_at.date() if case.accepted_at else None
        if accepted and start <= accepted <= today and case.status is not CaseStatus.WITHDRAWN:
            pack.new_cases.append(_line(case, accepted))
        changes = [
            change
            for change in case.rating_history
            if change.source == "review" and start <= change.on <= today
        ]
        if changes and case.status is not CaseStatus.WITHDRAWN:
            latest = changes[-1]
            before = case.rating_history[case.rating_history.index(latest) - 1].rating
            pack.changed_cases.append(
                _line(case, latest.on, f"{before.value} -> {latest.rating.value}")
            )
        reviews = [review for review in case.reviews if start <= review.review_date <= today]
        if reviews and case.status is not CaseStatus.WITHDRAWN:
            pack.reviewed.append(_reviewed(case, reviews[-1]))
        if case.closure is not None and left(case.closure):
            pack.removed_cases.append(
                PackLine(
                    case.case_id,
                    _name(case),
                    "-",
                    case.closure.on,
                    case.closure.reason.value.replace("_", " "),
                )
            )
        if case.status.is_pending and case.pending_expires_at:
            pack.pending.append(
                _line(
                    case,
                    case.pending_expires_at.date(),
                    "waiting for " + ("consent" if case.referral else "referral"),
                )
            )
    for case in active:
        due = case.next_review_on
        if due is not None and due < today:
            pack.overdue_reviews.append(_line(case, due, f"{(today - due).days} days overdue"))
        elif due is not None and due <= today + REVIEWS_AHEAD:
            pack.reviews_due.append(_line(case, due))
        leaves = case.transition_day(transition_age)
        if leaves and today <= leaves <= add_months(today, BIRTHDAYS_AHEAD_MONTHS):
            pack.leaving.append(_line(case, leaves))
        keyworker = keyworker_status(case, today)
        if keyworker.eligible:
            named = (f"Keyworker: {_one_line(keyworker.name)}",) if keyworker.name else ()
            pack.keyworker_eligible.append(
                PackLine(
                    case.case_id,
                    _name(case),
                    case.rating.value if case.rating else "-",
                    None,
                    keyworker.summary.removeprefix("keyworker: "),
                    named,
                )
            )
        ctr = ctr_status(case, today, ctr_due_days)
        if ctr.summary:
            held = (f"C(E)TR outcome: {_one_line(ctr.outcome)}",) if ctr.outcome else ()
            pack.ctrs.append(
                PackLine(
                    case.case_id,
                    _name(case),
                    case.rating.value if case.rating else "-",
                    ctr.since or ctr.held_on,
                    ctr.summary,
                    held,
                )
            )
    # The overdue first, then the longest waiting.
    pack.ctrs.sort(key=lambda line: ("OVERDUE" not in line.note, line.on or today, line.case_id))
    for key in (
        "new_cases",
        "changed_cases",
        "removed_cases",
        "reviews_due",
        "overdue_reviews",
        "reviewed",
    ):
        getattr(pack, key).sort(key=lambda line: (line.on or today, line.case_id))
    pack.leaving.sort(key=lambda line: (line.on or today, line.case_id))
    outcomes = Counter(line.outcome for line in audit if line.outcome)
    pack.emails_by_outcome = dict(sorted(outcomes.items()))
    for outcome, target in (
        ("rejected", pack.rejected_by_reason),
        ("quarantined", pack.quarantined_by_reason),
    ):
        reasons = Counter(
            code for line in audit if line.outcome == outcome for code in line.reason_codes
        )
        target.update(sorted(reasons.items()))
    return pack


def render_panel_pack(pack: PanelPack, *, with_names: bool) -> str:
    """The pack as text. Without names it holds case references, ratings and dates only."""

    def section(title: str, lines: list[PackLine], *, month_only: bool = False) -> list[str]:
        out = [f"{title} ({len(lines)})"]
        for line in lines:
            when = ""
            if line.on is not None:
                when = line.on.strftime("%B %Y" if month_only and not with_names else "%d/%m/%Y")
            name = f"  {line.name}" if with_names and line.name else ""
            note = f"  {line.note}" if line.note else ""
            out.append(f"  {line.case_id}  {line.rating:6} {when:11}{note}{name}".rstrip())
            if with_names:
                out += [f"      {detail}" for detail in line.detail]
        if not lines:
            out.append("  none")
        return [*out, ""]

    counts = ", ".join(f"{rating} {count}" for rating, count in pack.counts_by_rating.items())
    text = [
        f"Period: {pack.period_start:%d/%m/%Y} to {pack.period_end:%d/%m/%Y}",
        f"On the register: {sum(pack.counts_by_rating.values())} ({counts})",
        "",
        *section("New to the register this month", pack.new_cases),
        *section("Rating changed at review this month (previous -> new)", pack.changed_cases),
        *section("Reviewed this month (the last review of each case)", pack.reviewed),
        *section("Left the register this month", pack.removed_cases),
        *section("Reviews due in the next 30 days", pack.reviews_due),
        *section("Overdue reviews", pack.overdue_reviews),
        *section(
            f"Leaving the register (turning {pack.transition_age}) in the next 6 months",
            pack.leaving,
            month_only=True,
        ),
        *section("Pending: waiting for the other form (lapses on)", pack.pending),
        *section(
            "Eligible for the keyworker programme (Red, Amber, Blue; 0-25)", pack.keyworker_eligible
        ),
        *section("C(E)TRs: cases rated Red or recommended one (overdue first)", pack.ctrs),
        "Emails this month by outcome: "
        + (", ".join(f"{k} {v}" for k, v in pack.emails_by_outcome.items()) or "none"),
        "Rejected by reason: "
        + (", ".join(f"{k} {v}" for k, v in pack.rejected_by_reason.items()) or "none"),
        "Quarantined by reason: "
        + (", ".join(f"{k} {v}" for k, v in pack.quarantined_by_reason.items()) or "none"),
    ]
    return "\n".join(text) + "\n"


CSV_COLUMNS = (
    "case_reference",
    "status",
    "given_name",
    "family_name",
    "date_of_birth",
    "nhs_number",
    "rating",
    "previous_rating",
    "rating_changed_on",
    "keyworker_eligible",
    "keyworker_referred_on",
    "keyworker_name",
    "ctr_needed",
    "ctr_needed_since",
    "ctr_due_on",
    "ctr_overdue",
    "ctr_date",
    "ctr_outcome",
    "accepted_on",
    "last_review",
    "last_review_outcome",
    "last_review_actions",
    "next_review",
    "review_overdue",
    "leaves_register_on",
    "consent_basis",
    "consent_date",
    "pending_lapses_on",
)


# A cell beginning with one of these is a formula to a spreadsheet (`=HYPERLINK(...)`): such
# cells are written after an apostrophe, which the spreadsheet shows as text (OWASP's advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def inert_cell(value: str) -> str:
    # NFKC: a full-width equals sign is an "=" to some spreadsheets.
    first = unicodedata.normalize("NFKC", value[:1])
    return "'" + value if first.startswith(_FORMULA_STARTS) else value


class InertWriter:
    """csv.writer whose every cell is inert."""

    def __init__(self, out: io.StringIO) -> None:
        self.writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, cells: list[str]) -> None:
        self.writer.writerow([inert_cell(cell) for cell in cells])


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def panel_pack_csv(
    cases: list[Case],
    today: date,
    transition_age: int = ADULT_REGISTER_AGE,
    ctr_due_days: int = CTR_DUE_DAYS,
) -> str:
    """One row per open case, names and identifiers included: for secure recipients only."""
    out = io.StringIO()
    writer = InertWriter(out)
    writer.writerow(list(CSV_COLUMNS))
    for case in cases:
        if not case.status.is_open or is_test_case(case):
            continue
        child = case.child
        last = case.reviews[-1] if case.reviews else None
        last_review = last.review_date if last else None
        due = case.next_review_on if case.status is CaseStatus.ACTIVE else None
        before, changed_on = previous_rating(case)
        keyworker = keyworker_status(case, today)
        ctr = ctr_status(case, today, ctr_due_days)
        writer.writerow(
            [
                case.case_id,
                case.status.value,
                child.given_name if child else "",
                child.family_name if child else "",
                child.date_of_birth.isoformat() if child else "",
                child.nhs_number if child else "",
                case.rating.value if case.rating else "",
                before.value if before else "",
                _day(changed_on),
                "yes" if keyworker.eligible else "no",
                _day(keyworker.referred_on),
                keyworker.name,
                ctr.needed,
                _day(ctr.since),
                _day(ctr.due_on),
                "yes" if ctr.overdue else "no",
                _day(ctr.held_on),
                ctr.outcome,
                case.accepted_at.date().isoformat() if case.accepted_at else "",
                last_review.isoformat() if last_review else "",
                last.outcome_summary if last else "",
                last.actions or "" if last else "",
                due.isoformat() if due else "",
                "yes" if due is not None and due < today else "no",
                str(case.transition_day(transition_age) or ""),
                case.consent.basis.value if case.consent else "",
                case.consent.consent_date.isoformat() if case.consent else "",
                case.pending_expires_at.date().isoformat() if case.pending_expires_at else "",
            ]
        )
    return out.getvalue()


class PanelPackRegister(Protocol):
    def cases(self) -> list[Case]: ...

    def audit_entries(self, since: datetime, until: datetime) -> list[AuditEntry]: ...


class PanelPackService:
    """Builds the month's pack from the register and records its emails in the outbox."""

    def __init__(self, settings: Settings, register: PanelPackRegister) -> None:
        self.settings = settings
        self.register = register

    def build(self, now: datetime) -> tuple[PanelPack, list[Case]]:
        today = now.date()
        since = datetime.combine(add_months(today, -1), datetime.min.time(), now.tzinfo)
        cases = self.register.cases()
        pack = build_panel_pack(
            cases,
            self.register.audit_entries(since, now),
            today,
            self.settings.transition_age,
            self.settings.ctr_due_days,
            at=now,
        )
        return pack, cases

    def emails(self, at: datetime) -> list[EmailEffect]:
        """The pack as of `at`, from the register as it is when the pack is sent."""
        pack, cases = self.build(at)
        today = at.date()
        return Notices(self.settings).panel_pack(
            render_panel_pack(pack, with_names=False),
            render_panel_pack(pack, with_names=True),
            panel_pack_csv(cases, today, self.settings.transition_age, self.settings.ctr_due_days),
            today,
        )

    def change(self, now: datetime) -> CaseChange:
        """Once a day: the outbox says "send the pack"; its emails are built when sent."""
        return CaseChange(
            event_id=f"panel-pack-{now.date().isoformat()}",
            label=PANEL_PACK_LABEL,
            effects=[PanelPackEffect(at=now)],
        )
