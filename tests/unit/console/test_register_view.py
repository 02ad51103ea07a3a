"""The console's register list and search, from cases the intake really made (real PDFs
through the decider, no AWS)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infrastructure.samples import (
    child,
    consent_pdf,
    email,
    referral_pdf,
    review_pdf,
    uk,
    years_ago,
)
from shared.case import Case, CaseStatus
from shared.console.register_view import RegisterFilter, register_row, register_rows, search
from shared.outcome import Outcome
from shared.panel_pack import ctr_status
from shared.rating import Rating
from shared.settings import Settings
from tests.conftest import NOW, PlainHasher
from tests.unit.test_decisions import Desk

TODAY = NOW.date()


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def accepted(desk: Desk, person: dict[str, str], rating: str = "Amber") -> Case:
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person, suggested_rag=rating)),
            ("c.pdf", consent_pdf(**person)),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


def pending(desk: Desk, person: dict[str, str]) -> Case:
    decision = desk.receive(email(("r.pdf", referral_pdf(**person))))
    assert decision.outcome is Outcome.PENDING and decision.case is not None
    return decision.case


def test_rows_carry_the_flags_and_the_overdue_come_first(desk: Desk, settings: Settings) -> None:
    amber = accepted(desk, child(201))
    red = accepted(desk, child(202), "Red")
    waiting = pending(desk, child(203))
    # Seventeen and eight months: leaves the register within the six-month alert window.
    leaving_person = {**child(204), "child_date_of_birth": uk(years_ago(17, days=250))}
    leaving = accepted(desk, leaving_person, "Green")
    later = TODAY + timedelta(days=20)  # past the Red case's 14-day review, not the others'
    rows = register_rows([amber, red, waiting, leaving], settings, later)
    assert rows[0].case_id == red.case_id
    by_id = {row.case_id: row for row in rows}
    assert by_id[red.case_id].overdue and not by_id[amber.case_id].overdue
    assert by_id[red.case_id].rating is Rating.RED
    assert by_id[red.case_id].keyworker_not_referred  # Red, 14: eligible, nobody referred yet
    assert not by_id[leaving.case_id].keyworker_not_referred  # Green is not eligible
    assert by_id[leaving.case_id].leaves_on is not None
    assert by_id[amber.case_id].leaves_on is None
    assert by_id[waiting.case_id].status.is_pending and not by_id[waiting.case_id].overdue
    assert waiting.pending_expires_at is not None
    assert by_id[waiting.case_id].lapses_on == waiting.pending_expires_at.date()
    assert by_id[amber.case_id].lapses_on is None
    assert (
        by_id[amber.case_id].name
        == f"{child(201)['child_given_name']} {child(201)['child_family_name']}"
    )
    assert by_id[amber.case_id].age == 14


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (RegisterFilter.OVERDUE, {"red"}),
        (RegisterFilter.CTR_OVERDUE, {"red"}),  # Red: a C(E)TR due within 14 days
        (RegisterFilter.KEYWORKER, {"red", "amber"}),
        (RegisterFilter.PENDING, {"waiting"}),
        (RegisterFilter.ALL, {"red", "amber", "waiting"}),
    ],
)
def test_each_filter_shows_only_its_cases(
    desk: Desk, settings: Settings, chosen: RegisterFilter, expected: set[str]
) -> None:
    cases = {
        "amber": accepted(desk, child(211)),
        "red": accepted(desk, child(212), "Red"),
        "waiting": pending(desk, child(213)),
    }
    names = {case.case_id: name for name, case in cases.items()}
    rows = register_rows(cases.values(), settings, TODAY + timedelta(days=20), chosen)
    assert {names[row.case_id] for row in rows} == expected


def test_a_ctr_overdue_flag_is_the_panel_packs_and_reminders_rule(
    desk: Desk, settings: Settings
) -> None:
    """Red needs a C(E)TR within `ctr_due_days`: the flag is shared.panel_pack.ctr_status's
    `overdue` (the rule the reminders' "C(E)TR OVERDUE" uses), and a review that records one
    held clears it."""
    red = accepted(desk, child(251), "Red")
    due = TODAY + timedelta(days=settings.ctr_due_days)
    [on_time] = register_rows([red], settings, due)
    assert not on_time.ctr_overdue
    late_day = due + timedelta(days=1)
    [late] = register_rows([red], settings, late_day)
    assert late.ctr_overdue and ctr_status(red, late_day, settings.ctr_due_days).overdue
    assert register_rows([red], settings, late_day, RegisterFilter.CTR_OVERDUE) == [late]
    held = desk.receive(
        email(
            ("review.pdf", review_pdf(child(251), red.case_id, rag_rating="Red",
                                      ctr_date=uk(TODAY + timedelta(days=2)),
                                      ctr_outcome="Community plan agreed")),
            sender="dsr.coordinator@nhs.net",
        ),
        now=NOW + timedelta(days=3),
    )  # fmt: skip
    assert held.outcome is Outcome.UPDATED and held.case is not None, held.reasons
    [after] = register_rows([held.case], settings, late_day)
    assert not after.ctr_overdue
    assert register_rows([held.case], settings, late_day, RegisterFilter.CTR_OVERDUE) == []
    # A closed case is off the register: never flagged.
    closed = red.model_copy(update={"status": CaseStatus.CLOSED})
    assert not register_row(closed, settings, late_day).ctr_overdue


def test_closed_and_withdrawn_cases_are_not_on_the_register(desk: Desk, settings: Settings) -> None:
    case = accepted(desk, child(221))
    closed = case.model_copy(update={"status": CaseStatus.CLOSED})
    withdrawn = case.model_copy(update={"case_id": "DSR-WITHDRWN", "status": CaseStatus.WITHDRAWN})
    assert register_rows([closed, withdrawn], settings, TODAY) == []


def test_search_by_reference_nhs_number_and_name(desk: Desk) -> None:
    first, second = child(231), child(232)
    cases = [accepted(desk, first), accepted(desk, second)]
    hasher = PlainHasher()
    reference = cases[1].case_id
    assert search(cases, reference.lower(), hasher) == [cases[1]]
    # The NHS number as people type it, spaced: found through the keyed hash, exactly.
    number = first["child_nhs_number"]
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"
    assert search(cases, spaced, hasher) == [cases[0]]
    assert search(cases, number[:9] + str((int(number[9]) + 1) % 10), hasher) == []
    # A name: every word, any case, in any order.
    given, family = second["child_given_name"], second["child_family_name"]
    assert search(cases, f"{family.upper()} {given.lower()}", hasher) == [cases[1]]
    assert search(cases, f"{given} Nobody", hasher) == []
    assert search(cases, "   ", hasher) == []


def test_a_tombstone_is_found_by_its_reference_only(desk: Desk) -> None:
    case = accepted(desk, child(241))
    tombstone = Case(
        case_id=case.case_id,
        status=CaseStatus.WITHDRAWN,
        person_key="",
        created_at=case.created_at,
        updated_at=case.updated_at,
    )
    given = child(241)["child_given_name"]
    assert search([tombstone], case.case_id, PlainHasher()) == [tombstone]
    assert search([tombstone], given, PlainHasher()) == []
    assert search([tombstone], child(241)["child_nhs_number"], PlainHasher()) == []
