"""What a case is waiting for, and when: its reminder checkpoints.

Each case has ONE schedule (EventBridge Scheduler `at()`), set to its earliest checkpoint not
yet acted on. When it fires, the ReminderFunction acts on every checkpoint that has fallen due,
records them on the case (so a second firing does nothing) and moves the schedule on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from shared.case import (
    KEYWORKER_RATINGS,
    Case,
    CaseChange,
    CaseStatus,
    Closure,
    ClosureReason,
    Effect,
    ReviewRecord,
    ScheduleEffect,
    UnscheduleEffect,
)
from shared.dates import add_months
from shared.errors import AlreadyRecordedError, ConcurrentChangeError
from shared.notices import Notices
from shared.rating import Rating
from shared.settings import Settings
from shared.working_days import next_working_day

REMINDER_TIME = time(9, 0)  # reminders land at the start of the working day (UTC)
SOON = timedelta(minutes=1)  # a checkpoint already due is acted on straight away
MAX_ATTEMPTS = 3  # deciding a firing again after an email changed the case meanwhile


class CheckpointKind(StrEnum):
    PENDING_LAPSED = "pending_lapsed"
    REVIEW_DUE = "review_due"
    REVIEW_OVERDUE = "review_overdue"
    FIRST_REVIEW_OVERDUE = "first_review_overdue"
    TRANSITION_ALERT = "transition_alert"
    TRANSITION = "transition"
    CONSENT_RECONFIRMATION = "consent_reconfirmation"
    CTR_OVERDUE = "ctr_overdue"
    KEYWORKER_NOT_REFERRED = "keyworker_not_referred"


@dataclass(frozen=True, order=True)
class Checkpoint:
    at: datetime
    kind: CheckpointKind
    key: str  # recorded on the case once acted on
    on: date  # the day it is about (the due date, the birthday, ...)


def _morning(day: date) -> datetime:
    """The start of the working day a reminder about `day` lands on (a weekend or a bank
    holiday moves it to the next working day; what it is about keeps its own date)."""
    return datetime.combine(next_working_day(day), REMINDER_TIME, UTC)


def rated_since(case: Case, ratings: frozenset[Rating]) -> date | None:
    """The day the case's rating came to be one of `ratings` and has stayed so (its rating
    history); None when its rating is not one of them."""
    if case.rating not in ratings:
        return None
    since = None
    for change in reversed(case.rating_history):
        if change.rating not in ratings:
            break
        since = change.on
    if since is None and case.accepted_at is not None:
        since = case.accepted_at.date()  # no history kept: from joining the register
    return since


def red_since(case: Case) -> date | None:
    return rated_since(case, frozenset({Rating.RED}))


def ctr_recommended_on(case: Case) -> date | None:
    """The date of the latest review, when it recommended a C(E)TR."""
    latest = case.reviews[-1] if case.reviews else None
    return latest.review_date if latest is not None and latest.ctr_recommended else None


def last_ctr(case: Case) -> ReviewRecord | None:
    """The review that recorded the latest C(E)TR date."""
    held = [review for review in case.reviews if review.ctr_date is not None]
    return max(held, key=lambda review: review.ctr_date or date.min, default=None)


def ctr_needed_since(case: Case) -> list[date]:
    """The days from which a C(E)TR is needed and none is recorded on or after: since the
    rating became Red (national policy), and since the latest review recommended one."""
    if case.status is not CaseStatus.ACTIVE:
        return []
    recorded = last_ctr(case)
    held = recorded.ctr_date if recorded is not None else None
    days = {day for day in (red_since(case), ctr_recommended_on(case)) if day is not None}
    return sorted(day for day in days if held is None or held < day)


def keyworker_referral(case: Case) -> ReviewRecord | None:
    """The latest review that recorded a referral to a keyworker (or named one)."""
    referred = [r for r in case.reviews if r.keyworker_referred or r.keyworker_name]
    return referred[-1] if referred else None


def keyworker_eligible_since(case: Case) -> date | None:
    """The day the case became eligible for the keyworker programme by its rating (Red,
    Amber or Blue), at the earliest the day it joined the register."""
    since = rated_since(case, KEYWORKER_RATINGS)
    if since is None or case.accepted_at is None:
        return None
    return max(since, case.accepted_at.date())


def checkpoints(case: Case, settings: Settings) -> list[Checkpoint]:
    """Every checkpoint of the case not yet acted on, earliest first."""
    points: list[Checkpoint] = []
    if case.status.is_pending and case.pending_expires_at is not None:
        expiry = case.pending_expires_at
        points.append(
            Checkpoint(expiry, CheckpointKind.PENDING_LAPSED, "pending_lapsed", expiry.date())
        )
    if case.status is CaseStatus.ACTIVE:
        points += _active_checkpoints(case, settings)
    return sorted(point for point in points if point.key not in case.reminders_sent)


def _active_checkpoints(case: Case, settings: Settings) -> list[Checkpoint]:
    points = []
    due = case.next_review_on
    if due is not None:
        points.append(
            Checkpoint(_morning(due), CheckpointKind.REVIEW_DUE, f"review_due:{due}", due)
        )
        # Escalated every grace period until a review is recorded (which moves the due date).
        step = 1
        while True:
            overdue_on = due + timedelta(days=settings.review_grace_days * step)
            key = f"review_overdue:{overdue_on}"
            if key not in case.reminders_sent:
                points.append(
                    Checkpoint(_morning(overdue_on), CheckpointKind.REVIEW_OVERDUE, key, due)
                )
                break
            step += 1
    if not case.reviews and case.accepted_at is not None:
        first_by = case.accepted_at.date() + timedelta(days=settings.first_review_days)
        points.append(
            Checkpoint(
                _morning(first_by),
                CheckpointKind.FIRST_REVIEW_OVERDUE,
                "first_review_overdue",
                first_by,
            )
        )
    eighteen = case.transition_day(settings.transition_age)
    if eighteen is not None:
        alert_on = add_months(eighteen, -settings.transition_alert_months)
        points.append(
            Checkpoint(
                _morning(alert_on), CheckpointKind.TRANSITION_ALERT, "transition_alert", eighteen
            )
        )
        points.append(
            Checkpoint(_morning(eighteen), CheckpointKind.TRANSITION, "transition", eighteen)
        )
    for since in ctr_needed_since(case):
        due = since + timedelta(days=settings.ctr_due_days)
        points.append(
            Checkpoint(_morning(due), CheckpointKind.CTR_OVERDUE, f"ctr_overdue:{since}", since)
        )
    eligible_since = keyworker_eligible_since(case)
    if eligible_since is not None and keyworker_referral(case) is None:
        by = eligible_since + timedelta(days=settings.first_review_days)
        if case.keyworker_eligible(by):  # not if they are 26 by then
            points.append(
                Checkpoint(
                    _morning(by),
                    CheckpointKind.KEYWORKER_NOT_REFERRED,
                    f"keyworker_not_referred:{eligible_since}",
                    eligible_since,
                )
            )
    if case.consent is not None:
        given = case.consent.consent_date
        reconfirm_on = add_months(given, settings.consent_reconfirmation_months)
        points.append(
            Checkpoint(
                _morning(reconfirm_on),
                CheckpointKind.CONSENT_RECONFIRMATION,
                f"consent_reconfirmation:{given}",
                reconfirm_on,
            )
        )
    return points


def reminder_effect(case: Case, settings: Settings, now: datetime) -> Effect:
    """The case's schedule as it should now be: at its next checkpoint, or none left."""
    upcoming = checkpoints(case, settings)
    if not upcoming:
        return UnscheduleEffect(case_id=case.case_id)
    return ScheduleEffect(case_id=case.case_id, at=max(upcoming[0].at, now + SOON))


class ReminderDecider:
    """What a case's schedule firing comes to: the reminders due now and the next schedule."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        self.notices = Notices(settings)

    def decide(self, case: Case) -> CaseChange | None:
        """None when nothing is due (a repeated or stale firing): nothing to record."""
        due = [point for point in checkpoints(case, self.settings) if point.at <= self.now]
        if not due:
            return None
        updated = case.model_copy(deep=True)
        effects: list[Effect] = []
        acted: list[str] = []
        for kind in dict.fromkeys(point.kind for point in due):
            # One email per kind, however many of its checkpoints fell due (e.g. after an outage).
            points = [point for point in due if point.kind is kind]
            updated.reminders_sent += [point.key for point in points]
            if kind is CheckpointKind.REVIEW_OVERDUE:
                # Escalations missed in an outage are one email now, not one a minute.
                updated.reminders_sent += self._overdue_steps_passed(points[-1].on)
            acted.append(kind.value)
            effects += self._act(updated, points[-1])
            if updated.status is CaseStatus.CLOSED:
                break
        updated.updated_at = self.now
        if not updated.status.is_pending:
            # A lapsed pending case has no schedule left to move; its record expires.
            effects.append(reminder_effect(updated, self.settings, self.now))
        return CaseChange(
            event_id=f"reminder-{case.case_id}-v{case.version}",
            label="reminder:" + ",".join(acted),
            case=updated,
            effects=effects,
        )

    def _overdue_steps_passed(self, due: date) -> list[str]:
        step = timedelta(days=self.settings.review_grace_days)
        passed = (self.now.date() - due) // step
        return [f"review_overdue:{due + step * n}" for n in range(1, passed + 1)]

    def _act(self, case: Case, point: Checkpoint) -> list[Effect]:
        today = self.now.date()
        uk = point.on.strftime("%d/%m/%Y")
        notices = self.notices
        match point.kind:
            case CheckpointKind.PENDING_LAPSED:
                return list(notices.reminder("pending_lapsed", case, today))
            case CheckpointKind.REVIEW_DUE:
                return list(notices.reminder("review_due", case, today, due_on=uk))
            case CheckpointKind.REVIEW_OVERDUE:
                days = (today - point.on).days
                return list(
                    notices.reminder(
                        "review_overdue", case, today, due_on=uk, days_overdue=str(days), lead=True
                    )
                )
            case CheckpointKind.FIRST_REVIEW_OVERDUE:
                accepted = case.accepted_at.date() if case.accepted_at else today
                return list(
                    notices.reminder(
                        "first_review_overdue",
                        case,
                        today,
                        accepted_on=accepted.strftime("%d/%m/%Y"),
                        first_review_days=str(self.settings.first_review_days),
                        lead=True,
                    )
                )
            case CheckpointKind.CTR_OVERDUE:
                why = []
                if red_since(case) == point.on:
                    why.append(f"rated Red on {uk}")
                if ctr_recommended_on(case) == point.on:
                    why.append(f"recommended a C(E)TR at its review of {uk}")
                due = point.on + timedelta(days=self.settings.ctr_due_days)
                return list(
                    notices.reminder(
                        "ctr_overdue",
                        case,
                        today,
                        since_on=uk,
                        ctr_reason=" and ".join(why) or f"in need of a C(E)TR since {uk}",
                        ctr_due_days=str(self.settings.ctr_due_days),
                        due_on=due.strftime("%d/%m/%Y"),
                        lead=True,
                    )
                )
            case CheckpointKind.KEYWORKER_NOT_REFERRED:
                return list(
                    notices.reminder(
                        "keyworker_not_referred",
                        case,
                        today,
                        eligible_on=uk,
                        first_review_days=str(self.settings.first_review_days),
                        lead=True,
                    )
                )
            case CheckpointKind.TRANSITION_ALERT:
                age = str(self.settings.transition_age)
                return list(
                    notices.reminder("transition_alert", case, today, birthday_on=uk, age=age)
                )
            case CheckpointKind.TRANSITION:
                case.status = CaseStatus.CLOSED
                case.closure = Closure(
                    reason=ClosureReason.TRANSITION_AT_18, on=point.on, recorded_at=self.now
                )
                age = str(self.settings.transition_age)
                return list(notices.reminder("transition", case, today, birthday_on=uk, age=age))
            case CheckpointKind.CONSENT_RECONFIRMATION:
                given = case.consent.consent_date if case.consent else today
                return list(
                    notices.reminder(
                        "consent_reconfirmation",
                        case,
                        today,
                        consent_on=given.strftime("%d/%m/%Y"),
                        due_on=uk,
                    )
                )


class ReminderRegister(Protocol):
    def case(self, case_id: str) -> Case | None: ...

    def record_change(self, change: CaseChange, now: datetime) -> None: ...


class ScheduleSetter(Protocol):
    def sync(self, case_id: str) -> str: ...


class ReminderService:
    """A case's schedule fired: act on what is due and record it, once; then leave the case's
    schedule at its true next checkpoint, whatever happened (nothing due, a repeated or
    stale firing, a case closed meanwhile), so no open case is ever left without one."""

    def __init__(
        self,
        settings: Settings,
        register: ReminderRegister,
        clock: Callable[[], datetime],
        schedules: ScheduleSetter,
    ) -> None:
        self.settings = settings
        self.register = register
        self.clock = clock
        self.schedules = schedules

    def run(self, case_id: str) -> str:
        """What happened, for the log (checkpoint kinds, never personal data)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                done = self._act(case_id)
                break
            except ConcurrentChangeError:
                # An email changed the case between reading and recording: decide again on
                # its new state (the review it recorded may have made nothing due).
                if attempt == MAX_ATTEMPTS:
                    raise
        self.schedules.sync(case_id)
        return done

    def _act(self, case_id: str) -> str:
        case = self.register.case(case_id)
        if case is None:
            return "case no longer held"
        now = self.clock()
        change = ReminderDecider(self.settings, now).decide(case)
        if change is None:
            return "nothing due"
        try:
            self.register.record_change(change, now)
        except AlreadyRecordedError:
            return "already done by another delivery"
        return change.label
