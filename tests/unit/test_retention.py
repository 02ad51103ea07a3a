"""Retention of cases that left the register: which are due, on which day, and their erasure
(shared.retention), without AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import (
    Case,
    CaseChange,
    CaseStatus,
    Closure,
    ClosureReason,
    EmailEffect,
    EraseEffect,
)
from shared.errors import ConcurrentChangeError
from shared.outcome import Outcome
from shared.retention import (
    RETENTION_LABEL,
    closed_on,
    erasable_from,
    erase_expired_cases,
    erased_by_retention,
    is_due,
    latest_closure_due,
    retention_erasure,
)
from shared.settings import Settings
from tests.unit.test_decisions import Desk

MOMENT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def on_register(desk: Desk, seed: int) -> Case:
    person = child(seed, age=8)
    decision = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


def closed(case: Case, on: date, reason: ClosureReason = ClosureReason.REMOVED_BY_PANEL) -> Case:
    return case.model_copy(
        update={
            "status": CaseStatus.CLOSED,
            "closure": Closure(reason=reason, on=on, detail="Risks managed by the community team"),
            "next_review_on": None,
        }
    )


def bare(case_id: str, status: CaseStatus, **fields: object) -> Case:
    return Case.model_validate(
        {
            "case_id": case_id,
            "status": status,
            "person_key": f"key-{case_id}",
            "created_at": MOMENT,
            "updated_at": MOMENT,
            **fields,
        }
    )


# ----- the rule -----
def test_the_day_a_case_left_the_register() -> None:
    removed = bare("DSR-AAAAAAAA", CaseStatus.CLOSED,
                   closure=Closure(reason=ClosureReason.TRANSITION_AT_18, on=date(2027, 5, 4)))  # fmt: skip
    lapsing = bare("DSR-BBBBBBBB", CaseStatus.AWAITING_CONSENT,
                   pending_expires_at=datetime(2026, 12, 21, 14, 30, tzinfo=UTC))  # fmt: skip
    assert closed_on(removed) == date(2027, 5, 4)
    # A pending case counts as closed on the day it lapses.
    assert closed_on(lapsing) == date(2026, 12, 21)
    assert closed_on(bare("DSR-CCCCCCCC", CaseStatus.ACTIVE)) is None
    tombstone = bare("DSR-DDDDDDDD", CaseStatus.WITHDRAWN,
                     closure=Closure(reason=ClosureReason.CONSENT_WITHDRAWN, on=date(2020, 1, 1)))  # fmt: skip
    assert closed_on(tombstone) is None  # already erased: never erased again


@pytest.mark.parametrize(
    ("closed", "years", "erasable"),
    [
        (date(2026, 11, 23), 6, date(2032, 11, 23)),
        (date(2020, 12, 31), 1, date(2021, 12, 31)),
        (date(2024, 2, 29), 6, date(2030, 3, 1)),  # never a day short of six years
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 3, 1), 25, date(2048, 3, 1)),
    ],
)
def test_a_case_is_erasable_on_the_anniversary_of_its_closure(
    closed: date, years: int, erasable: date
) -> None:
    assert erasable_from(closed, years) == erasable
    case = bare("DSR-EEEEEEEE", CaseStatus.CLOSED,
                closure=Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=closed))  # fmt: skip
    assert not is_due(case, years, erasable - timedelta(days=1))
    assert is_due(case, years, erasable)
    assert is_due(case, years, erasable + timedelta(days=400))


def test_a_lapsed_pending_case_is_due_from_its_lapse() -> None:
    lapsed = bare("DSR-FFFFFFFF", CaseStatus.AWAITING_REFERRAL,
                  pending_expires_at=datetime(2025, 3, 10, 23, 59, tzinfo=UTC))  # fmt: skip
    assert not is_due(lapsed, 6, date(2031, 3, 9))
    assert is_due(lapsed, 6, date(2031, 3, 10))


@pytest.mark.parametrize("years", [1, 4, 6, 25])
def test_the_query_bound_agrees_with_the_rule_on_every_day(years: int) -> None:
    """Every closure day from 2019 to 2033 against every `today` around each year's end of
    February (leap years included): due exactly when closed on or before the bound."""
    todays = [
        date(year, month, day) + timedelta(days=shift)
        for year in range(2024, 2060)
        for (month, day) in ((2, 27), (11, 23))
        for shift in range(4)
    ]
    for today in todays:
        bound = latest_closure_due(today, years)
        for offset in range(-3, 4):
            closure = bound + timedelta(days=offset)
            case = bare("DSR-GGGGGGGG", CaseStatus.CLOSED,
                        closure=Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=closure))  # fmt: skip
            assert is_due(case, years, today) == (closure <= bound), (today, closure)


def test_the_retention_setting_is_whole_years_from_1_to_25() -> None:
    assert Settings().closed_case_retention_years == 6
    env = {"DSR_CLOSED_CASE_RETENTION_YEARS": "10"}
    assert Settings.from_environment(env).closed_case_retention_years == 10
    for wrong in ("0", "26", "six"):
        with pytest.raises(ValidationError):
            Settings.from_environment({"DSR_CLOSED_CASE_RETENTION_YEARS": wrong})


# ----- the erasure -----
def test_the_erasure_is_a_withdrawals_tombstone_and_erase_effect_and_emails_nobody(
    settings: Settings,
) -> None:
    case = closed(on_register(Desk(settings), 2401), date(2020, 6, 1))
    case.version = 7
    change = retention_erasure(case, MOMENT)
    assert change.label == RETENTION_LABEL
    assert change.event_id == f"retention-{case.case_id}-v7"
    assert change.effects == [EraseEffect(case_id=case.case_id)]
    assert not [effect for effect in change.effects if isinstance(effect, EmailEffect)]
    tombstone = change.case
    assert tombstone is not None
    assert tombstone == case.tombstone(
        Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=date(2020, 6, 1)), MOMENT
    )
    assert tombstone.version == 7  # written on the version read
    assert tombstone.status is CaseStatus.WITHDRAWN and erased_by_retention(tombstone)
    assert tombstone.closure == Closure(reason=ClosureReason.REMOVED_BY_PANEL, on=date(2020, 6, 1))
    # Nothing of the child, nor the panel's removal reason, is kept.
    text = tombstone.model_dump_json()
    person = child(2401, age=8)
    for value in (person["child_family_name"], person["child_nhs_number"], "community team"):
        assert value not in text
    assert tombstone.person_key == "" and tombstone.referral is None and tombstone.consent is None
    # The audit label carries no personal data either.
    assert change.label == "retention:closed_case_erased"


def test_a_lapsed_pending_cases_tombstone_says_it_lapsed() -> None:
    lapsed = bare("DSR-HHHHHHHH", CaseStatus.AWAITING_CONSENT,
                  pending_expires_at=datetime(2019, 1, 5, 9, 0, tzinfo=UTC))  # fmt: skip
    tombstone = retention_erasure(lapsed, MOMENT).case
    assert tombstone is not None and tombstone.closure == Closure(
        reason=ClosureReason.PENDING_LAPSED, on=date(2019, 1, 5)
    )


def test_a_withdrawals_tombstone_is_not_one_left_by_retention() -> None:
    withdrawn = bare("DSR-JJJJJJJJ", CaseStatus.WITHDRAWN,
                     closure=Closure(reason=ClosureReason.CONSENT_WITHDRAWN, on=date(2020, 1, 1)))  # fmt: skip
    assert not erased_by_retention(withdrawn)
    assert not erased_by_retention(bare("DSR-KKKKKKKK", CaseStatus.ACTIVE))


# ----- the run, over a register in memory with the table's conditions -----
@dataclass
class MemoryRetentionRegister:
    """The RetentionRegister protocol as the DynamoDB adapter keeps it: the index lists
    cases by closure day (possibly stale), a change is recorded once, on the case's version,
    and the person lookup is deleted only while it names that case."""

    cases: dict[str, Case] = field(default_factory=dict)
    index: dict[str, date] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)
    recorded: list[tuple[CaseChange, str | None]] = field(default_factory=list)
    before_record: list[object] = field(default_factory=list)

    def store(self, case: Case) -> None:
        case.version += 1
        self.cases[case.case_id] = case.model_copy(deep=True)
        day = closed_on(case)
        if day is None:
            self.index.pop(case.case_id, None)
        else:
            self.index[case.case_id] = day
        if case.person_key:
            self.people[case.person_key] = case.case_id

    def closed_cases(self, closed_by: date, limit: int) -> list[str]:
        due = sorted((day, case_id) for case_id, day in self.index.items() if day <= closed_by)
        return [case_id for _, case_id in due][:limit]

    def case(self, case_id: str) -> Case | None:
        found = self.cases.get(case_id)
        return found.model_copy(deep=True) if found else None

    def case_for_person(self, person_key: str) -> Case | None:
        case_id = self.people.get(person_key)
        return self.case(case_id) if case_id else None

    def record_change(
        self, change: CaseChange, now: datetime, forget_person_key: str | None = None
    ) -> None:
        for action in self.before_record:
            action()  # type: ignore[operator]
        self.before_record.clear()
        assert change.case is not None
        stored = self.cases[change.case.case_id]
        if change.event_id in self.events or stored.version != change.case.version:
            raise ConcurrentChangeError(change.event_id)
        if forget_person_key and self.people.get(forget_person_key) != change.case.case_id:
            raise ConcurrentChangeError(change.event_id)
        self.events.add(change.event_id)
        self.store(change.case)
        if forget_person_key:
            del self.people[forget_person_key]
        self.recorded.append((change, forget_person_key))


def closed_case(case_id: str, on: date, person_key: str | None = None) -> Case:
    return bare(case_id, CaseStatus.CLOSED, person_key=person_key or f"key-{case_id}",
                closure=Closure(reason=ClosureReason.TRANSITION_AT_18, on=on))  # fmt: skip


def clock_on(day: date) -> datetime:
    return datetime.combine(day, time(6, 0), UTC)


def test_a_run_erases_exactly_the_cases_past_their_retention() -> None:
    register = MemoryRetentionRegister()
    for case_id, on in [("DSR-AAAAAAA2", date(2020, 11, 22)), ("DSR-AAAAAAA3", date(2020, 11, 23)),
                        ("DSR-AAAAAAA4", date(2020, 11, 24))]:  # fmt: skip
        register.store(closed_case(case_id, on))
    register.store(bare("DSR-AAAAAAA5", CaseStatus.ACTIVE))
    run = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 11, 23)))
    assert (run.found, run.erased, run.skipped, run.more) == (2, 2, 0, False)
    assert {change.case.case_id for change, _ in register.recorded if change.case} == {
        "DSR-AAAAAAA2",
        "DSR-AAAAAAA3",
    }
    assert register.cases["DSR-AAAAAAA4"].status is CaseStatus.CLOSED  # a day short
    assert register.cases["DSR-AAAAAAA5"].status is CaseStatus.ACTIVE
    # Their person lookups went with them; the others' stayed.
    assert set(register.people.values()) == {"DSR-AAAAAAA4", "DSR-AAAAAAA5"}
    assert "2 closed cases past their retention erased" in run.summary()
    # Run again the same day: nothing left to do, nothing done twice.
    again = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 11, 23)))
    assert (again.found, again.erased) == (0, 0) and len(register.recorded) == 2
    # The next day the third one goes.
    later = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 11, 24)))
    third = register.case("DSR-AAAAAAA4")
    assert later.erased == 1 and third is not None and third.status is CaseStatus.WITHDRAWN


def test_a_child_with_a_newer_case_keeps_their_person_lookup() -> None:
    register = MemoryRetentionRegister()
    register.store(closed_case("DSR-BBBBBBB2", date(2019, 1, 1), person_key="same-child"))
    register.store(bare("DSR-BBBBBBB3", CaseStatus.ACTIVE, person_key="same-child"))
    run = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)))
    assert run.erased == 1
    assert register.recorded[0][1] is None  # the lookup names the newer case: not deleted
    assert register.people["same-child"] == "DSR-BBBBBBB3"


def test_a_case_changed_while_being_erased_is_left_for_the_next_run() -> None:
    register = MemoryRetentionRegister()
    register.store(closed_case("DSR-CCCCCCC2", date(2019, 1, 1), person_key="child-c"))

    def new_referral_meanwhile() -> None:
        register.store(bare("DSR-CCCCCCC3", CaseStatus.AWAITING_CONSENT, person_key="child-c",
                            pending_expires_at=clock_on(date(2026, 2, 1))))  # fmt: skip

    register.before_record.append(new_referral_meanwhile)
    run = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)))
    assert (run.erased, run.skipped) == (0, 1)
    assert register.cases["DSR-CCCCCCC2"].status is CaseStatus.CLOSED
    after = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)))
    assert after.erased == 1 and register.recorded[-1][1] is None
    assert register.people["child-c"] == "DSR-CCCCCCC3"


def test_a_stale_index_entry_is_judged_on_the_case_as_it_is() -> None:
    register = MemoryRetentionRegister()
    register.store(closed_case("DSR-DDDDDDD2", date(2019, 1, 1)))
    erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)))
    register.index["DSR-DDDDDDD2"] = date(2019, 1, 1)  # the index has not caught up yet
    run = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)))
    assert (run.found, run.erased, run.skipped) == (1, 0, 1)
    assert len(register.recorded) == 1


def test_a_run_is_bounded_and_the_next_one_carries_on() -> None:
    register = MemoryRetentionRegister()
    for number in range(7):
        register.store(closed_case(f"DSR-EEEEEEE{number + 2}", date(2018, 1, 1 + number)))
    first = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)), limit=3)
    assert (first.erased, first.more) == (3, True) and "next run" in first.summary()
    # Oldest first.
    assert [c.case.case_id for c, _ in register.recorded if c.case] == [
        "DSR-EEEEEEE2", "DSR-EEEEEEE3", "DSR-EEEEEEE4",
    ]  # fmt: skip
    second = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)), limit=3)
    third = erase_expired_cases(register, 6, lambda: clock_on(date(2026, 1, 1)), limit=3)
    assert (second.erased, second.more, third.erased, third.more) == (3, True, 1, False)
    assert all(case.status is CaseStatus.WITHDRAWN for case in register.cases.values())
