"""The panel pack's "Left the register" (#11, walkthrough 2 finding 2): a leaver is listed in
the first pack after the register recorded the closure, however far back the closure took
effect - a withdrawal dated before the last pack but confirmed after it is in the next pack,
and in no other. Each closure (withdrawal, the panel's removal, the 18th birthday) records
when it was recorded; a retention erasure years later keeps that moment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from infrastructure.samples import (
    child,
    consent_pdf,
    email,
    referral_pdf,
    review_pdf,
    uk,
    withdrawal_pdf,
)
from shared.case import AuditEntry, Case, CaseStatus, Closure, ClosureReason
from shared.dates import add_months, birthday
from shared.panel_pack import PANEL_PACK_LABEL, PanelPack, build_panel_pack, render_panel_pack
from shared.reminders import ReminderDecider
from shared.retention import retention_erasure
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

COORDINATOR = "dsr.coordinator@nhs.net"
# The packs go at 07:00 on the 1st: the last one, and this one a month on.
LAST_PACK = datetime.combine(add_months(NOW.date(), -2).replace(day=1), time(7), UTC)
THIS_PACK = datetime.combine(add_months(LAST_PACK.date(), 1), time(7), UTC)
NEXT_PACK = datetime.combine(add_months(THIS_PACK.date(), 1), time(7), UTC)


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def pack_line(at: datetime) -> AuditEntry:
    """The audit's line for a pack recorded at `at` (the DigestFunction's change)."""
    return AuditEntry(at, f"panel-pack-{at.date().isoformat()}", None, PANEL_PACK_LABEL, (), None)


def pack_at(cases: list[Case], at: datetime, *earlier_packs: datetime) -> PanelPack:
    audit = [pack_line(moment) for moment in (*earlier_packs, at)]
    return build_panel_pack(cases, audit, at.date(), at=at)


def left(pack: PanelPack) -> list[str]:
    return [line.case_id for line in pack.removed_cases]


def accepted(desk: Desk, seed: int, at: datetime, age: int = 10) -> tuple[dict[str, str], Case]:
    person = child(seed, age=age)
    signed = uk(at.date() - timedelta(days=3))  # the forms' dates: before they came
    referral = referral_pdf(**person, referral_date=signed)
    consent = consent_pdf(**person, consent_date=signed, consent_attested_date=signed)
    decision = desk.receive(email(("r.pdf", referral), ("c.pdf", consent)), now=at)
    assert decision.case is not None
    return person, decision.case


def test_a_withdrawal_dated_before_the_last_pack_but_confirmed_after_is_in_the_next_one(
    desk: Desk,
) -> None:
    person, case = accepted(desk, 310, LAST_PACK - timedelta(days=20))
    dated = LAST_PACK.date() - timedelta(days=7)  # the family's form: before the last pack
    confirmed = LAST_PACK + timedelta(days=1, hours=3)  # recorded the day after it
    form = withdrawal_pdf(person, case.case_id, withdrawal_date=uk(dated))
    decision = desk.receive(email(("w.pdf", form), sender=COORDINATOR), now=confirmed)
    tombstone = decision.case
    assert tombstone is not None and tombstone.status is CaseStatus.WITHDRAWN
    assert tombstone.closure == Closure(
        reason=ClosureReason.CONSENT_WITHDRAWN, on=dated, recorded_at=confirmed
    )

    # The last pack was sent before it was recorded: not in it.
    assert left(pack_at([tombstone], LAST_PACK)) == []
    # The next pack lists it, with the day it took effect and why.
    pack = pack_at([tombstone], THIS_PACK, LAST_PACK)
    [line] = pack.removed_cases
    assert (line.case_id, line.on, line.note) == (case.case_id, dated, "consent withdrawn")
    plain = render_panel_pack(pack, with_names=False)
    assert f"Left the register this month (1)\n  {case.case_id}" in plain
    # ...and no later one.
    assert left(pack_at([tombstone], NEXT_PACK, LAST_PACK, THIS_PACK)) == []
    # By the form's date alone (as before) no pack would ever have listed it.
    assert not (add_months(THIS_PACK.date(), -1) <= dated <= THIS_PACK.date())


@pytest.mark.parametrize(
    ("recorded", "in_last", "in_this"),
    [
        (LAST_PACK - timedelta(hours=1), True, False),  # the pack's day, before it went
        (LAST_PACK + timedelta(hours=1), False, True),  # the pack's day, after it went
        (THIS_PACK - timedelta(seconds=1), False, True),
        (THIS_PACK + timedelta(seconds=1), False, False),  # after this pack: the next one's
    ],
)
def test_each_closure_is_in_exactly_the_first_pack_after_it_was_recorded(
    recorded: datetime, in_last: bool, in_this: bool
) -> None:
    closed = Case(
        case_id="DSR-LEFT2345",
        status=CaseStatus.CLOSED,
        person_key="k",
        created_at=LAST_PACK - timedelta(days=90),
        updated_at=recorded,
        closure=Closure(
            reason=ClosureReason.REMOVED_BY_PANEL,
            on=LAST_PACK.date() - timedelta(days=10),
            recorded_at=recorded,
        ),
    )
    assert (left(pack_at([closed], LAST_PACK)) == [closed.case_id]) is in_last
    assert (left(pack_at([closed], THIS_PACK, LAST_PACK)) == [closed.case_id]) is in_this


def test_without_a_pack_in_the_audit_the_pack_looks_back_a_month() -> None:
    def closed(case_id: str, recorded: datetime) -> Case:
        return Case(
            case_id=case_id,
            status=CaseStatus.WITHDRAWN,
            person_key="",
            created_at=LAST_PACK - timedelta(days=90),
            updated_at=recorded,
            closure=Closure(
                reason=ClosureReason.CONSENT_WITHDRAWN,
                on=LAST_PACK.date() - timedelta(days=40),
                recorded_at=recorded,
            ),
        )

    inside = closed("DSR-INSD2345", THIS_PACK - timedelta(days=3))
    before = closed("DSR-BEFR2345", LAST_PACK - timedelta(days=3))
    pack = build_panel_pack([inside, before], [], THIS_PACK.date(), at=THIS_PACK)
    assert left(pack) == [inside.case_id]
    # Built for a day rather than a moment (no `at`): recorded within the pack's days.
    assert left(build_panel_pack([inside, before], [], THIS_PACK.date())) == [inside.case_id]


def test_a_closure_recorded_before_its_moment_was_kept_is_listed_by_its_day() -> None:
    def old(on_day: datetime) -> Case:
        return Case(
            case_id="DSR-ACDC2345",
            status=CaseStatus.CLOSED,
            person_key="k",
            created_at=LAST_PACK - timedelta(days=90),
            updated_at=on_day,
            closure=Closure(reason=ClosureReason.TRANSITION_AT_18, on=on_day.date()),
        )

    assert left(pack_at([old(THIS_PACK - timedelta(days=5))], THIS_PACK, LAST_PACK)) == [
        "DSR-ACDC2345"
    ]
    assert left(pack_at([old(LAST_PACK - timedelta(days=5))], THIS_PACK, LAST_PACK)) == []


def test_the_panels_removal_and_the_18th_birthday_record_when(
    desk: Desk, settings: Settings
) -> None:
    person, case = accepted(desk, 311, LAST_PACK - timedelta(days=20))
    reviewed = LAST_PACK - timedelta(days=2)  # the meeting, written up after the last pack
    recorded = LAST_PACK + timedelta(days=2)
    removal = review_pdf(
        person,
        case.case_id,
        review_date=uk(reviewed.date()),
        rag_rating="",
        remove_from_register="/Yes",
        removal_reason="Needs met in the community.",
    )
    decision = desk.receive(email(("r.pdf", removal), sender=COORDINATOR), now=recorded)
    assert decision.case is not None and decision.case.closure is not None
    assert (decision.case.closure.on, decision.case.closure.recorded_at) == (
        reviewed.date(),
        recorded,
    )
    assert left(pack_at([decision.case], THIS_PACK, LAST_PACK)) == [case.case_id]

    _, young = accepted(desk, 105, NOW, age=17)
    assert young.child is not None
    eighteen = birthday(young.child.date_of_birth, 18)
    fired = datetime.combine(eighteen + timedelta(days=3), time(9), UTC)  # a late firing
    change = ReminderDecider(settings, fired).decide(young)
    assert change is not None and change.case is not None and change.case.closure is not None
    assert change.case.closure.reason is ClosureReason.TRANSITION_AT_18
    assert (change.case.closure.on, change.case.closure.recorded_at) == (eighteen, fired)


def test_a_retention_erasure_years_later_is_not_a_new_leaver() -> None:
    recorded = LAST_PACK + timedelta(days=2)
    closed = Case(
        case_id="DSR-RETN2345",
        status=CaseStatus.CLOSED,
        person_key="k",
        created_at=LAST_PACK - timedelta(days=90),
        updated_at=recorded,
        closure=Closure(
            reason=ClosureReason.REMOVED_BY_PANEL, on=recorded.date(), recorded_at=recorded
        ),
    )
    years_on = NEXT_PACK + timedelta(days=8 * 365)
    tombstone = retention_erasure(closed, years_on).case
    assert tombstone is not None and tombstone.closure is not None
    assert tombstone.closure.recorded_at == recorded
    assert left(pack_at([tombstone], years_on + timedelta(days=20), years_on)) == []
