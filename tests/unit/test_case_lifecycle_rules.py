"""The case lifecycle in the pure core: review outcome and withdrawal forms, the reminder
checkpoints, keyworker eligibility and the panel pack - no AWS."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from infrastructure.samples import (
    child,
    consent_pdf,
    email,
    referral_pdf,
    review_pdf,
    uk,
    withdrawal_pdf,
    years_ago,
)
from shared.case import (
    AuditEntry,
    Case,
    CaseStatus,
    ClosureReason,
    EmailEffect,
    EraseEffect,
    ScheduleEffect,
    UnscheduleEffect,
)
from shared.dates import add_months, birthday
from shared.forms.case_forms import normalise_case_reference, validate_review
from shared.forms.fields import FormKind
from shared.forms.pdf import read_pdf_forms
from shared.outcome import Outcome
from shared.panel_pack import build_panel_pack, panel_pack_csv, render_panel_pack
from shared.rating import Rating
from shared.reminders import CheckpointKind, ReminderDecider, checkpoints
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

COORDINATOR = "dsr.coordinator@nhs.net"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def on_register(desk: Desk, person: dict[str, str], rating: str = "Amber") -> Case:
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person, suggested_rag=rating)),
            ("c.pdf", consent_pdf(**person)),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


def review_email(person: dict[str, str], reference: str, **fields: str) -> bytes:
    return email(("review.pdf", review_pdf(person, reference, **fields)), sender=COORDINATOR)


# ----- dates -----
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 3, 15), -6, date(2025, 9, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 1), 12, date(2027, 12, 1)),
    ],
)
def test_months_are_added_to_the_last_day_of_a_shorter_month(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_a_leap_day_birthday_falls_on_1_march() -> None:
    assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert birthday(date(2008, 2, 28), 18) == date(2026, 2, 28)


# ----- the review outcome form on its own -----
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DSR-AB23CD45", "DSR-AB23CD45"),
        ("dsr-ab23cd45", "DSR-AB23CD45"),
        ("DSR AB23 CD45", "DSR-AB23CD45"),
        ("AB23CD45", "DSR-AB23CD45"),
        ("DSR-AB23", None),
        ("case 12", None),
    ],
)
def test_case_references_are_read_however_they_are_typed(text: str, expected: str | None) -> None:
    assert normalise_case_reference(text) == expected


def read_review(person: dict[str, str], **fields: str):  # type: ignore[no-untyped-def]
    [form] = read_pdf_forms(review_pdf(person, "", **fields), "attachment 1 (PDF)")
    assert form.kind is FormKind.REVIEW
    return validate_review(form, NOW.date())


def test_a_review_needs_its_date_rating_summary_and_reviewer() -> None:
    review, reasons = read_review(
        child(1), review_date="", rag_rating="", outcome_summary="", reviewer_name=""
    )
    assert review is None
    assert sorted((r.code.value, r.field) for r in reasons) == [
        ("FIELD_MISSING", "outcome_summary"),
        ("FIELD_MISSING", "rag_rating"),
        ("FIELD_MISSING", "review_date"),
        ("FIELD_MISSING", "reviewer_name"),
    ]


def test_a_discharge_makes_a_blank_rating_red_and_refuses_any_other_for_14_days() -> None:
    today = NOW.date()
    review, reasons = read_review(child(1), rag_rating="", discharge_date=uk(today))
    assert reasons == [] and review is not None and review.rating is Rating.RED
    assert review.red_until == today + timedelta(days=14)
    _, refused = read_review(child(1), rag_rating="Green", discharge_date=uk(today))
    assert [(r.code.value, r.field) for r in refused] == [("FIELD_INVALID", "rag_rating")]
    assert (today + timedelta(days=14)).strftime("%d/%m/%Y") in refused[0].message


def test_review_dates_are_checked() -> None:
    today = NOW.date()
    _, reasons = read_review(
        child(1),
        review_date=uk(today + timedelta(days=2)),
        next_review_date=uk(today - timedelta(days=1)),
        discharge_date="31/02/2026",
    )
    assert sorted((r.code.value, r.field) for r in reasons) == [
        ("DATE_INVALID", "discharge_date"),
        ("DATE_INVALID", "next_review_date"),
        ("DATE_INVALID", "review_date"),
    ]


def test_removal_needs_a_reason_but_no_rating() -> None:
    _, reasons = read_review(child(1), rag_rating="", remove_from_register="/Yes")
    assert [(r.code.value, r.field) for r in reasons] == [("FIELD_MISSING", "removal_reason")]


# ----- reviews applied to their case -----
def test_a_review_changes_the_rating_keeps_the_history_and_moves_the_schedule(
    desk: Desk, settings: Settings
) -> None:
    person = child(11)
    case = on_register(desk, person, "Red")
    decision = desk.receive(review_email(person, case.case_id, rag_rating="Green"))
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    updated = decision.case
    assert updated.rating is Rating.GREEN
    assert [(c.rating.value, c.source) for c in updated.rating_history] == [
        ("Red", "referral"),
        ("Green", "review"),
    ]
    assert updated.next_review_on == NOW.date() + timedelta(
        days=settings.review_interval_days_green
    )
    assert len(updated.reviews) == 1 and updated.reviews[0].reviewer_name == "Jo Adams"
    [schedule] = [e for e in decision.effects if isinstance(e, ScheduleEffect)]
    assert schedule.at.date() <= updated.next_review_on
    # The coordinator who sent it gets the team's notification, not a second confirmation.
    notices = [e for e in decision.effects if isinstance(e, EmailEffect)]
    assert {e.subject for e in notices} == {
        f"DSR case {case.case_id}: review recorded, rating changed from Red to Green"
    }


def test_next_review_date_overrides_the_interval(desk: Desk) -> None:
    person = child(12)
    case = on_register(desk, person)
    when = NOW.date() + timedelta(days=5)
    decision = desk.receive(review_email(person, case.case_id, next_review_date=uk(when)))
    assert decision.case is not None and decision.case.next_review_on == when


def test_a_panel_member_is_answered_with_a_confirmation(desk: Desk) -> None:
    person = child(13)
    case = on_register(desk, person)
    decision = desk.receive(
        email(("review.pdf", review_pdf(person, case.case_id)), sender="panel.gp@nhs.net")
    )
    assert decision.outcome is Outcome.UPDATED
    to = [e.to for e in decision.effects if isinstance(e, EmailEffect)]
    assert ("panel.gp@nhs.net",) in to


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"case_reference": "DSR-ZZZZ2222"}, "CASE_NOT_FOUND", "case_reference"),
        ({"child_nhs_number": "9434765919"}, "IDENTITY_MISMATCH", "child_nhs_number"),
        ({"child_date_of_birth": "01/01/2015"}, "IDENTITY_MISMATCH", "child_date_of_birth"),
    ],
)
def test_the_form_must_name_the_case_it_is_about(
    desk: Desk, change: dict[str, str], code: str, field: str
) -> None:
    person = child(14)
    case = on_register(desk, person)
    fields = {"case_reference": case.case_id, **change}
    reference = fields.pop("case_reference")
    decision = desk.receive(review_email({**person, **fields}, reference))
    assert decision.outcome is Outcome.REJECTED
    assert [(r.code.value, r.field) for r in decision.reasons] == [(code, field)]
    assert desk.register.case(case.case_id) is not None


def test_without_a_reference_the_nhs_number_and_birth_date_find_the_case(desk: Desk) -> None:
    person = child(15)
    case = on_register(desk, person)
    assert desk.receive(review_email(person, "")).case_id == case.case_id
    stranger = child(60)
    refused = desk.receive(review_email(stranger, ""))
    assert [r.code.value for r in refused.reasons] == ["CASE_NOT_FOUND"]


def test_no_review_for_a_waiting_case_or_an_earlier_date_or_twice(desk: Desk) -> None:
    waiting = child(17)
    pending = desk.receive(email(("r.pdf", referral_pdf(**waiting))))
    assert pending.case is not None
    refused = desk.receive(review_email(waiting, pending.case.case_id))
    assert [r.code.value for r in refused.reasons] == ["CASE_NOT_FOUND"]
    assert "waiting for its consent" in refused.reasons[0].message

    person = child(18)
    case = on_register(desk, person)
    first = desk.receive(review_email(person, case.case_id))
    assert first.outcome is Outcome.UPDATED
    assert desk.receive(review_email(person, case.case_id)).outcome is Outcome.DUPLICATE
    earlier = desk.receive(
        review_email(
            person,
            case.case_id,
            review_date=uk(NOW.date() - timedelta(days=1)),
            outcome_summary="different",
        )
    )
    assert {(r.code.value, r.field) for r in earlier.reasons} == {("DATE_INVALID", "review_date")}
    assert any("A later review" in r.message for r in earlier.reasons)


def test_removal_closes_the_case_and_deletes_its_schedule(desk: Desk) -> None:
    person = child(19)
    case = on_register(desk, person)
    decision = desk.receive(
        review_email(
            person,
            case.case_id,
            rag_rating="",
            remove_from_register="/Yes",
            removal_reason="Risks now managed by the community team.",
        )
    )
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    assert decision.case.status is CaseStatus.CLOSED
    assert decision.case.closure is not None
    assert decision.case.closure.reason is ClosureReason.REMOVED_BY_PANEL
    assert UnscheduleEffect(case_id=case.case_id) in decision.effects
    # A new referral later starts a new case.
    again = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person)),
            ("c.pdf", consent_pdf(**person)),
            message_id="<new@nhs.net>",
        )
    )
    assert again.outcome is Outcome.ACCEPTED and again.case_id != case.case_id


def test_case_forms_come_one_to_an_email(desk: Desk) -> None:
    person = child(20)
    case = on_register(desk, person)
    decision = desk.receive(
        email(
            ("a.pdf", review_pdf(person, case.case_id)),
            ("b.pdf", review_pdf(person, case.case_id)),
            sender=COORDINATOR,
        )
    )
    assert [r.code.value for r in decision.reasons] == ["FIELD_INVALID"]


# ----- withdrawal -----
def test_withdrawal_leaves_a_tombstone_and_asks_for_erasure(desk: Desk) -> None:
    person = child(21)
    case = on_register(desk, person)
    decision = desk.receive(
        email(("w.pdf", withdrawal_pdf(person, case.case_id)), sender="panel.gp@nhs.net")
    )
    assert decision.outcome is Outcome.WITHDRAWN and decision.case is not None
    tombstone = decision.case
    assert tombstone.status is CaseStatus.WITHDRAWN and tombstone.person_key == ""
    assert tombstone.model_dump(exclude_defaults=True).keys() <= {
        "case_id",
        "status",
        "person_key",
        "created_at",
        "updated_at",
        "accepted_at",
        "closure",
        "version",
    }
    assert decision.forget_person_key == case.person_key
    assert EraseEffect(case_id=case.case_id) in decision.effects
    text = " ".join(e.body + e.subject for e in decision.effects if isinstance(e, EmailEffect))
    for value in (person["child_given_name"], person["child_nhs_number"], "Grace Okafor"):
        assert value not in text


def test_withdrawal_needs_who_and_when(desk: Desk) -> None:
    person = child(22)
    case = on_register(desk, person)
    decision = desk.receive(
        email(
            (
                "w.pdf",
                withdrawal_pdf(person, case.case_id, withdrawn_by_name="", withdrawal_date=""),
            ),
            sender=COORDINATOR,
        )
    )
    assert sorted(r.field or "" for r in decision.reasons) == [
        "withdrawal_date",
        "withdrawn_by_name",
    ]


# ----- reminder checkpoints -----
def test_a_register_running_past_18_closes_a_case_the_birthday_after_its_oldest_age(
    settings: Settings,
) -> None:
    register_to_25 = settings.model_copy(update={"maximum_age": 25})
    assert settings.transition_age == 18 and register_to_25.transition_age == 26
    desk = Desk(register_to_25)
    person = {**child(28), "child_date_of_birth": uk(years_ago(19, days=100))}
    case = on_register(desk, person, "Amber")
    assert case.status is CaseStatus.ACTIVE
    points = {point.kind: point.on for point in checkpoints(case, register_to_25)}
    born = case.child.date_of_birth  # type: ignore[union-attr]
    assert points[CheckpointKind.TRANSITION] == birthday(born, 26)
    assert points[CheckpointKind.TRANSITION] > NOW.date()  # not closed "at 18" at once


def test_checkpoints_of_a_new_case(desk: Desk, settings: Settings) -> None:
    person = {**child(27), "child_date_of_birth": uk(years_ago(17, days=100))}
    case = on_register(desk, person, "Red")
    assert case.transition_day() is not None and case.consent is not None
    points = {point.kind: point.on for point in checkpoints(case, settings)}
    today = NOW.date()
    assert points == {
        CheckpointKind.REVIEW_DUE: today + timedelta(days=14),
        CheckpointKind.REVIEW_OVERDUE: today + timedelta(days=14),  # about that due date
        CheckpointKind.FIRST_REVIEW_OVERDUE: today + timedelta(days=settings.first_review_days),
        CheckpointKind.TRANSITION_ALERT: case.transition_day(),
        CheckpointKind.TRANSITION: case.transition_day(),
        CheckpointKind.CONSENT_RECONFIRMATION: add_months(case.consent.consent_date, 12),
        # Red (so a C(E)TR is needed) and eligible for a keyworker, both from today.
        CheckpointKind.CTR_OVERDUE: today,
        CheckpointKind.KEYWORKER_NOT_REFERRED: today,
    }
    alert = next(
        p for p in checkpoints(case, settings) if p.kind is CheckpointKind.TRANSITION_ALERT
    )
    assert alert.at.date() == add_months(case.transition_day(), -6)  # type: ignore[arg-type]
    overdue = next(
        p for p in checkpoints(case, settings) if p.kind is CheckpointKind.REVIEW_OVERDUE
    )
    assert overdue.at.date() == today + timedelta(days=14 + settings.review_grace_days)


def test_the_reminder_escalates_weekly_until_a_review_then_stops(
    desk: Desk, settings: Settings
) -> None:
    person = child(23)
    case = on_register(desk, person, "Red")
    due = case.next_review_on
    assert due is not None

    def fire(day: date) -> list[str]:
        stored = desk.register.case(case.case_id)
        assert stored is not None
        change = ReminderDecider(settings, datetime.combine(day, time(9), UTC)).decide(stored)
        if change is None:
            return []
        assert change.case is not None
        desk.register.store(change.case)
        return sorted({e.subject for e in change.effects if isinstance(e, EmailEffect)})

    assert fire(due - timedelta(days=1)) == []
    # Day 14 of a Red case: its review is due, and so was a C(E)TR (`ctr_due_days` 14).
    assert fire(due) == [
        f"DSR case {case.case_id}: C(E)TR OVERDUE - none recorded since {uk(NOW.date())}",
        f"DSR review due - case {case.case_id}",
    ]
    assert fire(due) == []  # the same firing again
    overdue = fire(due + timedelta(days=settings.review_grace_days))
    assert overdue == [f"DSR review OVERDUE - case {case.case_id} (7 days)"]
    later = fire(due + timedelta(days=2 * settings.review_grace_days))
    # Day 28 of a Red case: still overdue, no first panel review within 28 days, and no
    # keyworker referral recorded either.
    assert later == [
        f"DSR case {case.case_id} has had no first panel review",
        f"DSR case {case.case_id}: eligible for a keyworker - no referral recorded",
        f"DSR review OVERDUE - case {case.case_id} (14 days)",
    ]
    reviewed = desk.receive(review_email(person, case.case_id, rag_rating="Green"))
    assert reviewed.case is not None and reviewed.case.next_review_on is not None
    new_due = reviewed.case.next_review_on
    assert new_due == NOW.date() + timedelta(days=settings.review_interval_days_green)
    # The escalation stops: nothing more until the new due date.
    assert fire(new_due - timedelta(days=1)) == []
    assert fire(new_due) == [f"DSR review due - case {case.case_id}"]


def test_an_overdue_review_goes_to_the_lead(desk: Desk, settings: Settings) -> None:
    person = child(24)
    case = on_register(desk, person, "Red")
    assert case.next_review_on is not None
    moment = datetime.combine(
        case.next_review_on + timedelta(days=settings.review_grace_days), time(9), UTC
    )
    change = ReminderDecider(settings, moment).decide(case)
    assert change is not None
    overdue = [e for e in change.effects if isinstance(e, EmailEffect) and "OVERDUE" in e.subject]
    assert overdue and settings.lead_address in overdue[0].to


def test_consent_is_due_for_reconfirmation_after_a_year(desk: Desk, settings: Settings) -> None:
    person = child(25)
    case = on_register(desk, person)
    assert case.consent is not None
    due_on = add_months(case.consent.consent_date, 12)
    points = {point.kind: point.on for point in checkpoints(case, settings)}
    assert points[CheckpointKind.CONSENT_RECONFIRMATION] == due_on


@pytest.mark.parametrize(
    ("rating", "age", "eligible"),
    [("Red", 14, True), ("Amber", 10, True), ("Blue", 17, True), ("Green", 14, False)],
)
def test_keyworker_eligibility(desk: Desk, rating: str, age: int, eligible: bool) -> None:
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**child(50 + age, age=age), suggested_rag=rating)),
            ("c.pdf", consent_pdf(**child(50 + age, age=age))),
        )
    )
    assert decision.case is not None
    assert decision.case.keyworker_eligible(NOW.date()) is eligible
    notification = next(
        e for e in decision.effects if isinstance(e, EmailEffect) and "new case" in e.subject
    )
    assert ("Keyworker programme: ELIGIBLE" in notification.body) is eligible


# ----- the panel pack -----
def test_the_panel_pack_counts_and_lists_without_names_unless_secure(
    desk: Desk, settings: Settings
) -> None:
    red = on_register(desk, child(40), "Red")
    amber_person = child(41, age=17)
    amber = on_register(desk, amber_person, "Amber")
    pending = desk.receive(email(("r.pdf", referral_pdf(**child(42)))))
    assert pending.case is not None
    cases = [red, amber, pending.case]
    audit = [
        AuditEntry(NOW, "m1", "rejected", None, ("NHS_NUMBER_INVALID", "DATE_INVALID"), None),
        AuditEntry(NOW, "m2", "rejected", None, ("NHS_NUMBER_INVALID",), None),
        AuditEntry(NOW, "m3", "quarantined", None, ("SPAM",), None),
        AuditEntry(NOW, "m4", "accepted", None, (), red.case_id),
    ]
    pack = build_panel_pack(cases, audit, NOW.date())
    assert pack.counts_by_rating == {"Blue": 0, "Red": 1, "Amber": 1, "Green": 0}
    assert {line.case_id for line in pack.new_cases} == {red.case_id, amber.case_id}
    assert [line.case_id for line in pack.reviews_due] == [red.case_id, amber.case_id]
    assert [line.case_id for line in pack.pending] == [pending.case.case_id]
    assert pack.rejected_by_reason == {"DATE_INVALID": 1, "NHS_NUMBER_INVALID": 2}
    assert pack.quarantined_by_reason == {"SPAM": 1}
    assert {line.case_id for line in pack.keyworker_eligible} == {red.case_id, amber.case_id}
    plain = render_panel_pack(pack, with_names=False)
    named = render_panel_pack(pack, with_names=True)
    assert red.case_id in plain and "Amira" not in plain and "Leo" not in plain
    assert amber_person["child_given_name"] in named
    csv_text = panel_pack_csv(cases, NOW.date())
    assert csv_text.splitlines()[0].startswith("case_reference,status,given_name")
    assert len(csv_text.splitlines()) == 4


def test_the_pack_sends_names_and_csv_only_to_secure_addresses(settings: Settings) -> None:
    from shared.notices import Notices

    team = settings.model_copy(update={"panel_pack_addresses": ("chair@council.gov.uk",)})
    emails = Notices(team).panel_pack("PLAIN", "NAMED", "csv", NOW.date())
    by_recipient = {address: e for e in emails for address in e.to}
    assert by_recipient["chair@council.gov.uk"].attachments == ()
    assert "NAMED" not in by_recipient["chair@council.gov.uk"].body
    assert "PLAIN" in by_recipient["chair@council.gov.uk"].body
    assert by_recipient["dsr.coordinator@nhs.net"].attachments[0].text == "csv"
    # The gov.uk coordinator in the test settings is not a secure address either.
    assert by_recipient["dsr.admin@bromley.gov.uk"].attachments == ()
