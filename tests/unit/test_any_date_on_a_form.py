"""Any date on any form, however absurd (31/12/9999, 01/01/0001), is an outcome: a
DATE_INVALID reason naming the field when it lies outside 1900-2100, and otherwise a decision
whose date arithmetic (next review + grace days, months to consent reconfirmation, the
birthday the case leaves the register) never overflows, then or when its reminders fire.
Before, a review outcome form's next review date of 31/12/9999 raised OverflowError, and the
email came back to the queue for ever."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.samples import TODAY, child, consent_pdf, email, referral_pdf, uk
from shared.case import Case, Decision, ScheduleEffect
from shared.dates import EARLIEST_YEAR, LATEST_YEAR, add_months, birthday
from shared.outcome import Outcome, ReasonCode
from shared.reminders import ReminderDecider, checkpoints
from shared.settings import Settings
from templates.forms.layout import REVIEW, WITHDRAWAL
from tests.hostile.builders import typed, typed_consent, typed_referral
from tests.unit.test_decisions import Desk

SETTINGS = Settings(
    coordinator_addresses=("dsr.coordinator@nhs.net",), inbox_address="bromley.dsr@nhs.net"
)
COORDINATOR = "dsr.coordinator@nhs.net"
PERSON = child(77)
IDENTITY = {name: PERSON[name] for name in ("child_nhs_number", "child_date_of_birth")}

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip


def written(day: date, style: int) -> str:
    """The date as a person might type it, four-digit years even before 1000."""
    if style == 0:
        return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
    if style == 1:
        return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year:04d}"


@cache
def _on_register() -> tuple[Desk, Case]:
    desk = Desk(SETTINGS)
    decision = desk.receive(
        email(("r.pdf", referral_pdf(**PERSON)), ("c.pdf", consent_pdf(**PERSON)))
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return desk, decision.case


def _fresh() -> tuple[Desk, Case]:
    desk, case = _on_register()
    return copy.deepcopy(desk), case


def _typed_email(text: str, sender: str = COORDINATOR) -> bytes:
    return email(("form.txt", text.encode(), "text/plain"), sender=sender)


def _in_range(day: date) -> bool:
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR


def _fire_every_reminder(case: Case) -> None:
    """The case's reminders fired in turn, each at its moment, up to the last date a form may
    give and a little past it: none may overflow."""
    fired = case
    for _ in range(12):
        upcoming = checkpoints(fired, SETTINGS)
        if not upcoming:
            return
        change = ReminderDecider(SETTINGS, upcoming[0].at).decide(fired)
        if change is None or change.case is None:
            return
        fired = change.case


def _check(decision: Decision, field: str, day: date, text: str) -> None:
    assert decision.outcome in (Outcome.UPDATED, Outcome.REJECTED, Outcome.WITHDRAWN,
                                Outcome.ACCEPTED, Outcome.PENDING), decision  # fmt: skip
    if not _in_range(day):
        assert decision.outcome is Outcome.REJECTED
        assert any(
            reason.code is ReasonCode.DATE_INVALID and reason.field == field
            for reason in decision.reasons
        ), decision.reasons
        # The message names the field, never repeats the value.
        assert all(text not in reason.message for reason in decision.reasons)
    for effect in decision.effects:
        if isinstance(effect, ScheduleEffect):
            assert effect.at.tzinfo is not None
    if decision.case is not None:
        _fire_every_reminder(decision.case)


ANY_DAY = st.one_of(
    st.dates(),
    st.dates(min_value=date(EARLIEST_YEAR, 1, 1), max_value=date(LATEST_YEAR, 12, 31)),
    st.sampled_from([date(9999, 12, 31), date(1, 1, 1), date(2100, 12, 31), date(1900, 1, 1),
                     date(2100, 2, 28), date(1900, 2, 28), date(2101, 1, 1), date(1899, 12, 31)]),
)  # fmt: skip
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _review_text(**overrides: str) -> str:
    _, case = _on_register()
    fields = {
        **IDENTITY,
        "case_reference": case.case_id,
        "review_date": uk(TODAY),
        "rag_rating": "Amber",
        "outcome_summary": "Plan agreed.",
        "reviewer_name": "Jo Adams",
        **overrides,
    }
    return typed(REVIEW, fields)


def test_the_typed_review_itself_is_recorded() -> None:
    desk, _ = _fresh()
    decision = desk.receive(_typed_email(_review_text()))
    assert decision.outcome is Outcome.UPDATED, decision.reasons


@QUICK
@given(
    day=ANY_DAY,
    field=st.sampled_from(["next_review_date", "review_date", "discharge_date",
                           "child_date_of_birth"]),
    style=st.integers(0, 2),
)  # fmt: skip
def test_deciding_a_review_with_any_date_never_raises(day: date, field: str, style: int) -> None:
    desk, _ = _fresh()
    overrides = {field: written(day, style)}
    if field == "discharge_date":
        overrides["rag_rating"] = ""  # leaving hospital: Red
    _check(desk.receive(_typed_email(_review_text(**overrides))), field, day, overrides[field])


@QUICK
@given(day=ANY_DAY, style=st.integers(0, 2))
def test_the_latest_next_review_date_a_form_may_give_is_recorded_and_reminded(
    day: date, style: int
) -> None:
    """Any next review date from today to 31/12/2100: recorded, its reminders all computed."""
    day = min(max(day, TODAY), date(LATEST_YEAR, 12, 31))
    desk, _ = _fresh()
    decision = desk.receive(_typed_email(_review_text(next_review_date=written(day, style))))
    assert decision.outcome is Outcome.UPDATED, decision.reasons
    assert decision.case is not None and decision.case.next_review_on == day
    _check(decision, "next_review_date", day, written(day, style))


@QUICK
@given(
    day=ANY_DAY,
    field=st.sampled_from(["withdrawal_date", "child_date_of_birth"]),
    style=st.integers(0, 2),
)
def test_deciding_a_withdrawal_with_any_date_never_raises(
    day: date, field: str, style: int
) -> None:
    desk, case = _fresh()
    fields = {
        **IDENTITY,
        "case_reference": case.case_id,
        "withdrawn_by_name": "Grace Okafor",
        "withdrawn_by_relationship": "Mother",
        "withdrawal_date": uk(TODAY),
        field: written(day, style),
    }
    _check(desk.receive(_typed_email(typed(WITHDRAWAL, fields))), field, day, fields[field])


@QUICK
@given(
    day=ANY_DAY,
    field=st.sampled_from(["child_date_of_birth", "referral_date", "consent_date"]),
    style=st.integers(0, 2),
)
def test_deciding_a_referral_and_consent_with_any_date_never_raises(
    day: date, field: str, style: int
) -> None:
    desk = Desk(SETTINGS)
    value = {field: written(day, style)}
    referral = typed_referral(**{**PERSON, **(value if field != "consent_date" else {})})
    consent = typed_consent(**{**PERSON, **(value if field != "referral_date" else {})})
    decision = desk.receive(_typed_email(referral + consent, sender="sam.patel@nhs.net"))
    _check(decision, field, day, value[field])


# ----- the arithmetic itself, over every date a form may give -----
FORM_DAYS = st.dates(min_value=date(EARLIEST_YEAR, 1, 1), max_value=date(LATEST_YEAR, 12, 31))


@given(FORM_DAYS, st.integers(-24, 60))
def test_months_are_added_to_any_form_date(day: date, months: int) -> None:
    assert add_months(day, months).year - day.year in range(-3, 6)


@given(FORM_DAYS, st.integers(0, 26))
def test_any_birthday_of_any_form_date_exists(born: date, age: int) -> None:
    assert birthday(born, age).year == born.year + age


@given(FORM_DAYS)
def test_a_reminder_moment_exists_for_any_form_date(day: date) -> None:
    moment = datetime.combine(
        day + timedelta(days=SETTINGS.review_grace_days * 52), datetime.min.time(), UTC
    )
    assert moment.year <= LATEST_YEAR + 2
