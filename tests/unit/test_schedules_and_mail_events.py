"""Each case's one schedule set from the case as it is now, the daily reconciliation, and
bounces of our answers reaching the coordinators - pure core, no AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import (
    Case,
    CaseChange,
    CaseStatus,
    Closure,
    ClosureReason,
    EmailEffect,
    EmailPurpose,
)
from shared.errors import ConcurrentChangeError
from shared.mail_events import MailEvent, mail_problem
from shared.outcome import Outcome
from shared.reminders import ReminderService, checkpoints
from shared.schedules import ScheduleSync, due_schedule, reconcile
from shared.settings import Settings
from tests.conftest import NOW
from tests.outbox_fakes import MemoryOutbox, MemoryScheduler
from tests.unit.test_decisions import Desk


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def registered(desk: Desk, seed: int) -> Case:
    person = child(seed)
    decision = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    case = decision.case
    case.version = 1
    return case


def test_a_schedule_is_set_at_the_next_checkpoint_of_the_case_as_it_is_now(
    desk: Desk, settings: Settings
) -> None:
    case = registered(desk, 1)
    outbox, scheduler = MemoryOutbox(cases={case.case_id: case}), MemoryScheduler()
    sync = ScheduleSync(outbox, scheduler, settings, lambda: NOW)
    assert sync.sync(case.case_id) == "schedule:set"
    assert scheduler.schedules[case.case_id] == checkpoints(case, settings)[0].at
    # The case is closed meanwhile: a late schedule effect deletes, never re-creates.
    outbox.cases[case.case_id] = case.model_copy(
        update={
            "status": CaseStatus.CLOSED,
            "closure": Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=NOW.date()),
        }
    )
    assert sync.sync(case.case_id) == "schedule:none"
    assert scheduler.schedules == {}
    # A case no longer held at all (erased) has none either.
    del outbox.cases[case.case_id]
    scheduler.schedules[case.case_id] = NOW
    assert sync.sync(case.case_id) == "schedule:none" and scheduler.schedules == {}


def test_a_checkpoint_already_past_is_scheduled_a_minute_from_now(
    desk: Desk, settings: Settings
) -> None:
    case = registered(desk, 2)
    later = checkpoints(case, settings)[0].at + timedelta(days=3)
    assert due_schedule(case, settings, later) == later + timedelta(minutes=1)


def test_reconcile_creates_missing_moves_stale_and_deletes_orphaned_schedules(
    desk: Desk, settings: Settings
) -> None:
    right, missing, stale = (registered(desk, seed) for seed in (3, 4, 5))
    closed = registered(desk, 6).model_copy(
        update={
            "status": CaseStatus.CLOSED,
            "closure": Closure(reason=ClosureReason.TRANSITION_AT_18, on=NOW.date()),
        }
    )
    scheduler = MemoryScheduler(
        {
            right.case_id: due_schedule(right, settings, NOW),  # type: ignore[dict-item]
            stale.case_id: NOW - timedelta(days=40),
            closed.case_id: NOW + timedelta(days=2),
            "DSR-GONE2345": NOW + timedelta(days=9),
        }
    )
    cases = [right, missing, stale, closed]
    checked = reconcile(cases, scheduler, settings, NOW, repair=False)
    assert (checked.open_cases, checked.correct, checked.missing, checked.stale) == (3, 1, 1, 1)
    assert checked.orphaned == 2 and checked.repaired == 4
    assert len(scheduler.schedules) == 4, "a check without repair changes nothing"
    repaired = reconcile(cases, scheduler, settings, NOW)
    assert repaired.repaired == 4
    assert scheduler.schedules == {
        case.case_id: due_schedule(case, settings, NOW) for case in (right, missing, stale)
    }
    again = reconcile(cases, scheduler, settings, NOW)
    assert (again.correct, again.repaired) == (3, 0)
    assert "3 open cases: 3 schedules right" in again.summary()


def ses_event(kind: str, purpose: str, **extra: object) -> MailEvent:
    record = {
        "eventType": kind,
        "mail": {
            "messageId": "0102018f-ses-id",
            "timestamp": "2026-11-23T10:00:00.000Z",
            "destination": ["referrer@bromley.gov.uk"],
            "tags": {"purpose": [purpose], "case": ["DSR-AB23CD45"], "ses:caller-identity": ["x"]},
        },
        **extra,
    }
    return MailEvent.model_validate(json.loads(json.dumps(record)))


BOUNCE = {
    "bounce": {
        "bounceType": "Permanent",
        "bouncedRecipients": [{"emailAddress": "referrer@bromley.gov.uk"}],
    }
}


def test_a_bounced_answer_reaches_the_coordinators_with_the_case_reference() -> None:
    settings = Settings(coordinator_addresses=("dsr.coordinator@nhs.net", "admin@bromley.gov.uk"))
    change = mail_problem(ses_event("Bounce", "acknowledgement", **BOUNCE), settings)
    assert change is not None and change.case is None
    assert change.event_id == "mail-bounce-0102018f-ses-id"  # SNS again: recorded once
    secure, other = change.effects
    assert isinstance(secure, EmailEffect) and isinstance(other, EmailEffect)
    assert secure.purpose is EmailPurpose.MAIL_PROBLEM
    assert secure.to == ("dsr.coordinator@nhs.net",)
    assert "DSR-AB23CD45" in secure.subject and "bounced" in secure.body
    assert "referrer@bromley.gov.uk" in secure.body
    assert "referrer@bromley.gov.uk" not in other.body and "DSR-AB23CD45" in other.body


@pytest.mark.parametrize(
    ("kind", "purpose", "extra"),
    [
        ("Bounce", "acknowledgement", {"bounce": {"bounceType": "Transient"}}),
        ("Bounce", "coordinator_notification", BOUNCE),  # the team's own: logged, not emailed
        ("Bounce", "mail_problem", BOUNCE),  # an alert about an alert would never end
        ("Delivery", "rejection", {}),
        ("DeliveryDelay", "rejection", {}),
    ],
)
def test_what_is_not_a_lost_answer_is_not_emailed(
    kind: str, purpose: str, extra: dict[str, object], settings: Settings
) -> None:
    assert mail_problem(ses_event(kind, purpose, **extra), settings) is None


def test_a_complaint_and_a_refusal_are_reported(settings: Settings) -> None:
    complaint = ses_event(
        "Complaint",
        "rejection",
        complaint={"complainedRecipients": [{"emailAddress": "referrer@bromley.gov.uk"}]},
    )
    refused = ses_event("Reject", "rejection", reject={"reason": "Bad content"})
    for event, words in ((complaint, "spam"), (refused, "refused")):
        change = mail_problem(event, settings)
        assert change is not None
        assert all(
            words in effect.body for effect in change.effects if isinstance(effect, EmailEffect)
        )


def test_reconcile_uses_the_case_as_it_is_on_the_day(desk: Desk, settings: Settings) -> None:
    case = registered(desk, 7)
    first = checkpoints(case, settings)[0]
    day_after = datetime.combine(first.on + timedelta(days=1), first.at.timetz()).astimezone(UTC)
    scheduler = MemoryScheduler({case.case_id: first.at})
    found = reconcile([case], scheduler, settings, day_after)
    assert found.stale == 1 and scheduler.schedules[case.case_id] > day_after


class RacingRegister:
    """The case changes (an email recorded a review) between the firing's read and write."""

    def __init__(self, case: Case, changed: Case) -> None:
        self.reads = [case, changed]
        self.recorded: list[CaseChange] = []

    def case(self, case_id: str) -> Case | None:
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]

    def record_change(self, change: CaseChange, now: datetime) -> None:
        if not self.recorded and len(self.reads) == 1 and change.case and change.case.version == 1:
            self.recorded.append(change)
            return
        raise ConcurrentChangeError("case changed since it was read")


def test_a_firing_that_loses_a_race_with_an_email_is_decided_again(
    desk: Desk, settings: Settings
) -> None:
    case = registered(desk, 8)
    due = checkpoints(case, settings)[0]
    stale = case.model_copy(update={"version": 0})
    register = RacingRegister(stale, case)
    scheduler = MemoryScheduler()
    sync = ScheduleSync(register, scheduler, settings, lambda: due.at)
    done = ReminderService(settings, register, lambda: due.at, sync).run(case.case_id)
    assert done.startswith("reminder:") and len(register.recorded) == 1
    assert case.case_id in scheduler.schedules


def test_reconcile_judges_a_case_that_changed_during_the_run_as_it_is_now(
    desk: Desk, settings: Settings
) -> None:
    """The scan of cases is eventually consistent and older than the schedules listed: a case
    accepted meanwhile keeps its schedule, a case withdrawn meanwhile gets none back."""
    new, withdrawn = registered(desk, 9), registered(desk, 10)
    tombstone = withdrawn.tombstone(
        Closure(reason=ClosureReason.CONSENT_WITHDRAWN, on=NOW.date()), NOW
    )
    now_held = MemoryOutbox(cases={new.case_id: new, withdrawn.case_id: tombstone})
    scheduler = MemoryScheduler({new.case_id: due_schedule(new, settings, NOW)})  # type: ignore[dict-item]
    stale_scan = [withdrawn]  # the scan saw the withdrawn case still active, and not the new one
    found = reconcile(lambda: stale_scan, scheduler, settings, NOW, reader=now_held)
    assert new.case_id in scheduler.schedules, "the new case keeps its schedule"
    assert withdrawn.case_id not in scheduler.schedules, "the withdrawn case gets none back"
    assert (found.missing, found.orphaned) == (0, 0)
