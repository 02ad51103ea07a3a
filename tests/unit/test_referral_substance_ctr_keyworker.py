"""Issue #13 part 3: the referral's substance in the coordinators' new-case notification
(secure addresses only), the review outcome form's C(E)TR and keyworker fields, the
`ctr_overdue` and `keyworker_not_referred` checkpoints, and what the panel pack shows of
them - the pure core, no AWS."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pytest

from infrastructure.samples import TICK, child, consent_pdf, email, referral_pdf, uk
from shared.case import Case, EmailEffect, EmailPurpose, RatingChange, ReviewRecord
from shared.case_updates import CaseFormDecider
from shared.forms.case_forms import ReviewOutcome, validate_review
from shared.forms.fields import FormKind, RawForm, canonical_field_name
from shared.mail import parse_mail
from shared.outcome import Outcome
from shared.panel_pack import build_panel_pack, panel_pack_csv, render_panel_pack
from shared.rating import Rating
from shared.reminders import (
    Checkpoint,
    CheckpointKind,
    ReminderDecider,
    checkpoints,
    reminder_effect,
)
from shared.settings import Settings
from tests.conftest import NOW, PlainHasher
from tests.unit.test_case_lifecycle_rules import COORDINATOR, on_register
from tests.unit.test_decisions import Desk

SECURE = "dsr.coordinator@nhs.net"
NOT_SECURE = "dsr.admin@bromley.gov.uk"  # a coordinator in the test settings, not secure
CONCERN = "Self-harm twice this month.\n\n\nNHS number: 0000000000\nCrisis team involved."
SUBSTANCE = {
    "mental_health_concern": CONCERN,
    "reason_for_referral": "Placement at risk of breakdown.\nAdmission considered.",
    "needs_health": "Medication review overdue",
    "needs_education": "Part-time timetable; 1:1 support",
    "needs_social_care": "Respite for the family",
    "care_plans": "PBS plan (2025)",
    "school_or_setting": "Oak Tree\nAcademy",
    "has_ehcp": TICK,
    "child_looked_after": TICK,
    "parent_carer_name": "Grace Okafor",
    "parent_carer_relationship": "Mother",
    "parent_carer_phone": "07700 900123",
    "parent_carer_email": "grace.okafor@example.com",
    "services_involved": "CAMHS\nYouth Offending Team",
    "service_social_care": TICK,
}
# What only a secure coordinator may read of the referral.
PRIVATE = (
    "Self-harm",
    "Crisis team",
    "Placement at risk",
    "Medication review",
    "Part-time timetable",
    "Respite",
    "PBS plan",
    "Oak Tree",
    "Grace Okafor",
    "07700 900123",
    "grace.okafor@example.com",
    "Youth Offending Team",
    "From the referral",
    "Looked after",
    "EHCP",
)


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def notifications(effects: Sequence[object]) -> dict[str, EmailEffect]:
    return {
        address: effect
        for effect in effects
        if isinstance(effect, EmailEffect)
        and effect.purpose is EmailPurpose.COORDINATOR_NOTIFICATION
        for address in effect.to
    }


# ----- 1. the referral's substance, at secure addresses only -----
def test_a_new_case_tells_secure_coordinators_what_the_referral_says(desk: Desk) -> None:
    person = child(70)
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person, **SUBSTANCE)),
            ("c.pdf", consent_pdf(**person)),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED
    body = notifications(decision.effects)[SECURE].body
    lines = body.splitlines()
    start = lines.index("Mental health concern:")
    # A long answer is an indented block: its "NHS number:" line cannot pass for a field.
    assert lines[start : start + 5] == [
        "Mental health concern:",
        "    Self-harm twice this month.",
        "",
        "    NHS number: 0000000000",
        "    Crisis team involved.",
    ]
    assert "Reason for referral:\n    Placement at risk of breakdown.\n    Admission" in body
    # The ticked services (CAMHS is ticked on the sample), then the others named, once each.
    assert "Services involved:\n    CAMHS\n    Social care\n    Youth Offending Team\n" in body
    assert "Health needs:\n    Medication review overdue" in body
    assert "Education needs:\n    Part-time timetable; 1:1 support" in body
    assert "Social care needs:\n    Respite for the family" in body
    assert "Specialist care plans:\n    PBS plan (2025)" in body
    # One-line answers stay on one line.
    assert "School or setting: Oak Tree Academy\n" in body
    assert "EHCP: yes\nLooked after: yes\n" in body
    assert "Parent/carer: Grace Okafor (Mother), 07700 900123, grace.okafor@example.com" in body
    assert "Diagnosis: autism" in body


def test_a_non_secure_coordinator_gets_none_of_the_referral(desk: Desk) -> None:
    person = child(71)
    accepted = desk.receive(
        email(("r.pdf", referral_pdf(**person, **SUBSTANCE)), ("c.pdf", consent_pdf(**person)))
    )
    waiting_person = child(72)
    waiting = desk.receive(email(("r.pdf", referral_pdf(**waiting_person, **SUBSTANCE))))
    assert waiting.outcome is Outcome.PENDING
    for decision in (accepted, waiting):
        sent = notifications(decision.effects)
        assert "From the referral:" in sent[SECURE].body  # a new case, either way
        plain = sent[NOT_SECURE].subject + sent[NOT_SECURE].body
        for value in PRIVATE:
            assert value not in plain
        assert person["child_given_name"] not in plain
        assert waiting_person["child_nhs_number"] not in plain


def test_only_a_new_case_carries_the_referral(desk: Desk) -> None:
    from tests.unit.test_case_lifecycle_rules import review_email

    person = child(73)
    case = on_register(desk, person)
    reviewed = desk.receive(review_email(person, case.case_id))
    assert reviewed.outcome is Outcome.UPDATED
    assert "From the referral:" not in notifications(reviewed.effects)[SECURE].body


# ----- 2. the review outcome form's C(E)TR and keyworker fields -----
def review_form(person: dict[str, str], reference: str = "", **fields: str) -> RawForm:
    values = {
        "case_reference": reference,
        "child_nhs_number": person["child_nhs_number"],
        "child_date_of_birth": person["child_date_of_birth"],
        "review_date": uk(NOW.date()),
        "rag_rating": "Red",
        "outcome_summary": "Crisis plan agreed.",
        "reviewer_name": "Jo Adams",
        **fields,
    }
    return RawForm(kind=FormKind.REVIEW, fields=values, source="attachment 1 (PDF)")


@pytest.mark.parametrize(
    ("printed", "canonical"),
    [
        ("C(E)TR date", "ctr_date"),
        ("CTR date", "ctr_date"),
        ("CETR date", "ctr_date"),
        ("Date of C(E)TR", "ctr_date"),
        ("C(E)TR outcome", "ctr_outcome"),
        ("CTR outcome", "ctr_outcome"),
        ("Keyworker", "keyworker_name"),
        ("Keyworker name", "keyworker_name"),
        ("Key worker", "keyworker_name"),
    ],
)
def test_the_new_review_fields_have_their_other_names(printed: str, canonical: str) -> None:
    assert canonical_field_name(printed, FormKind.REVIEW.value) == canonical


def test_a_referrals_keyworker_box_is_still_the_keyworker_service() -> None:
    assert canonical_field_name("Keyworker", FormKind.REFERRAL.value) == "service_keyworker"


def test_a_review_records_the_ctr_and_a_named_keyworker_is_a_referral() -> None:
    held = NOW.date() - timedelta(days=3)
    review, reasons = validate_review(
        review_form(
            child(74),
            ctr_date=uk(held),
            ctr_outcome="Community package agreed",
            keyworker_name="Sam Lee",
        ),
        NOW.date(),
    )
    assert reasons == [] and review is not None
    assert (review.ctr_date, review.ctr_outcome, review.keyworker_name) == (
        held,
        "Community package agreed",
        "Sam Lee",
    )
    assert review.keyworker_referred  # named, though the box is not ticked
    blank, _ = validate_review(review_form(child(74)), NOW.date())
    assert blank is not None and blank.ctr_date is None and not blank.keyworker_referred


@pytest.mark.parametrize(
    "written", ["01/01/1899", "31/02/2026", "next week", "__future__", "01/01/2101"]
)
def test_a_ctr_date_is_checked_like_any_date(written: str) -> None:
    value = uk(NOW.date() + timedelta(days=1)) if written == "__future__" else written
    review, reasons = validate_review(review_form(child(75), ctr_date=value), NOW.date())
    assert review is None
    assert [(r.code.value, r.field) for r in reasons] == [("DATE_INVALID", "ctr_date")]


def apply_review(desk: Desk, settings: Settings, case: Case, review: ReviewOutcome) -> Case:
    mail = parse_mail(email(sender=COORDINATOR), ())
    decider = CaseFormDecider(settings, NOW, desk.register, PlainHasher())
    decision = decider.review(mail, f"review-{len(case.reviews)}", review)
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    desk.register.store(decision.case)
    return decision.case


def test_the_case_keeps_what_the_review_recorded_and_its_reminders_stop(
    desk: Desk, settings: Settings
) -> None:
    person = child(76)
    case = on_register(desk, person, "Red")
    kinds = {point.kind for point in checkpoints(case, settings)}
    assert {CheckpointKind.CTR_OVERDUE, CheckpointKind.KEYWORKER_NOT_REFERRED} <= kinds
    review, _ = validate_review(
        review_form(
            person,
            case.case_id,
            ctr_date=uk(NOW.date()),
            ctr_outcome="Stay at home with support",
            keyworker_name="Sam Lee",
        ),
        NOW.date(),
    )
    assert review is not None
    updated = apply_review(desk, settings, case, review)
    [record] = updated.reviews
    assert (record.ctr_date, record.ctr_outcome) == (NOW.date(), "Stay at home with support")
    assert record.keyworker_name == "Sam Lee" and record.keyworker_referred
    kinds = {point.kind for point in checkpoints(updated, settings)}
    assert not kinds & {CheckpointKind.CTR_OVERDUE, CheckpointKind.KEYWORKER_NOT_REFERRED}


# ----- 3. the checkpoints, on working days -----
def morning(day: date) -> datetime:
    return datetime.combine(day, time(9), UTC)


def case_since(
    desk: Desk, seed: int, since: date, rating: Rating = Rating.RED, **update: object
) -> Case:
    """A case that joined the register on `since` with `rating`, its review far off."""
    case = on_register(desk, child(seed), rating.value)
    joined = datetime.combine(since, time(10), UTC)
    return case.model_copy(
        update={
            "accepted_at": joined,
            "created_at": joined,
            "rating": rating,
            "rating_history": [RatingChange(rating=rating, on=since, source="referral")],
            "next_review_on": None,
            **update,
        }
    )


def record(day: date, rating: Rating, **fields: object) -> ReviewRecord:
    return ReviewRecord.model_validate(
        {
            "review_date": day,
            "rating": rating,
            "outcome_summary": "Reviewed.",
            "reviewer_name": "Jo Adams",
            "message_id": f"m-{day}",
            "recorded_at": morning(day),
            **fields,
        }
    )


def point_of(case: Case, settings: Settings, kind: CheckpointKind) -> Checkpoint | None:
    found = [point for point in checkpoints(case, settings) if point.kind is kind]
    return found[0] if found else None


def test_a_red_case_with_no_ctr_is_escalated_on_the_next_working_day(
    desk: Desk, settings: Settings
) -> None:
    # Red from Friday 11 December 2026: due by Friday 25 December (Christmas Day); Monday
    # 28 December is the Boxing Day bank holiday, so the lead is told on Tuesday the 29th.
    case = case_since(desk, 77, date(2026, 12, 11))
    point = point_of(case, settings, CheckpointKind.CTR_OVERDUE)
    assert point is not None
    assert point.at == morning(date(2026, 12, 29)) and point.key == "ctr_overdue:2026-12-11"
    assert ReminderDecider(settings, morning(date(2026, 12, 28))).decide(case) is None
    change = ReminderDecider(settings, morning(date(2026, 12, 29))).decide(case)
    assert change is not None and change.case is not None
    assert change.label == "reminder:ctr_overdue"
    sent = {address: e for e in change.effects if isinstance(e, EmailEffect) for address in e.to}
    assert {SECURE, NOT_SECURE, settings.lead_address} <= sent.keys()  # escalated
    body = sent[SECURE].body
    assert "rated Red on 11/12/2026" in body and "by 25/12/2026" in body
    assert "ctr_overdue:2026-12-11" in change.case.reminders_sent
    # Acted on once: the same firing again, and later ones, do nothing more.
    assert ReminderDecider(settings, morning(date(2026, 12, 29))).decide(change.case) is None
    assert point_of(change.case, settings, CheckpointKind.CTR_OVERDUE) is None
    assert ctr_setting_moves_it(case, settings) == morning(date(2026, 12, 21))


def ctr_setting_moves_it(case: Case, settings: Settings) -> datetime:
    sooner = settings.model_copy(update={"ctr_due_days": 10})
    point = point_of(case, sooner, CheckpointKind.CTR_OVERDUE)
    assert point is not None
    return point.at


def test_red_since_the_rating_became_red_and_a_ctr_on_or_after_it_ends_it(
    desk: Desk, settings: Settings
) -> None:
    amber = case_since(desk, 78, date(2026, 11, 2), Rating.AMBER)
    assert point_of(amber, settings, CheckpointKind.CTR_OVERDUE) is None
    red = amber.model_copy(
        update={
            "rating": Rating.RED,
            "rating_history": [
                *amber.rating_history,
                RatingChange(rating=Rating.RED, on=date(2026, 11, 16), source="review"),
            ],
            "reviews": [record(date(2026, 11, 16), Rating.RED, ctr_date=date(2026, 11, 10))],
        }
    )
    point = point_of(red, settings, CheckpointKind.CTR_OVERDUE)
    # A C(E)TR before the case became Red does not count.
    assert point is not None and point.on == date(2026, 11, 16)
    assert point.at == morning(date(2026, 11, 30))
    held = red.model_copy(
        update={
            "reviews": [
                *red.reviews,
                record(date(2026, 11, 23), Rating.RED, ctr_date=date(2026, 11, 20)),
            ]
        }
    )
    assert point_of(held, settings, CheckpointKind.CTR_OVERDUE) is None


def test_a_recommended_ctr_is_escalated_from_that_review(desk: Desk, settings: Settings) -> None:
    case = case_since(
        desk,
        79,
        date(2026, 10, 1),
        Rating.AMBER,
        reviews=[record(date(2026, 10, 29), Rating.AMBER, ctr_recommended=True)],
    )
    point = point_of(case, settings, CheckpointKind.CTR_OVERDUE)
    assert point is not None and point.key == "ctr_overdue:2026-10-29"
    assert point.at == morning(date(2026, 11, 12))
    change = ReminderDecider(settings, point.at).decide(case)
    assert change is not None
    [secure] = [
        e
        for e in change.effects
        if isinstance(e, EmailEffect) and SECURE in e.to and "C(E)TR" in e.subject
    ]
    assert "recommended a C(E)TR at its review of 29/10/2026" in secure.body
    # Only the latest review counts: a later one without the recommendation ends it.
    later = case.model_copy(
        update={"reviews": [*case.reviews, record(date(2026, 11, 5), Rating.AMBER)]}
    )
    assert point_of(later, settings, CheckpointKind.CTR_OVERDUE) is None


def test_an_eligible_case_never_referred_to_a_keyworker_is_escalated(
    desk: Desk, settings: Settings
) -> None:
    # Amber from Friday 26 February 2027: 28 days on is Good Friday, then a weekend and
    # Easter Monday, so the lead is told on Tuesday 30 March.
    case = case_since(desk, 80, date(2027, 2, 26), Rating.AMBER)
    assert case.keyworker_eligible(date(2027, 2, 26))
    point = point_of(case, settings, CheckpointKind.KEYWORKER_NOT_REFERRED)
    assert point is not None and point.key == "keyworker_not_referred:2027-02-26"
    assert point.at == morning(date(2027, 3, 30))
    change = ReminderDecider(settings, point.at).decide(case)
    assert change is not None and change.case is not None
    assert "keyworker_not_referred" in change.label
    keyworker = [
        e for e in change.effects if isinstance(e, EmailEffect) and "keyworker" in e.subject
    ]
    assert {a for e in keyworker for a in e.to} >= {SECURE, NOT_SECURE, settings.lead_address}
    assert point_of(change.case, settings, CheckpointKind.KEYWORKER_NOT_REFERRED) is None
    # A review that recorded the referral (ticked, or a keyworker named) ends it.
    for fields in ({"keyworker_referred": True}, {"keyworker_name": "Sam Lee"}):
        referred = case.model_copy(
            update={"reviews": [record(date(2027, 3, 5), Rating.AMBER, **fields)]}
        )
        assert point_of(referred, settings, CheckpointKind.KEYWORKER_NOT_REFERRED) is None


def test_a_case_becoming_eligible_later_is_given_its_time_from_then(
    desk: Desk, settings: Settings
) -> None:
    green = case_since(desk, 81, date(2026, 9, 1), Rating.GREEN)
    assert point_of(green, settings, CheckpointKind.KEYWORKER_NOT_REFERRED) is None
    amber = green.model_copy(
        update={
            "rating": Rating.AMBER,
            "rating_history": [
                *green.rating_history,
                RatingChange(rating=Rating.AMBER, on=date(2026, 10, 6), source="review"),
            ],
            "reviews": [record(date(2026, 10, 6), Rating.AMBER)],
        }
    )
    point = point_of(amber, settings, CheckpointKind.KEYWORKER_NOT_REFERRED)
    assert point is not None and point.on == date(2026, 10, 6)
    assert point.at == morning(date(2026, 11, 3))
    # Amber to Red keeps it eligible: the time still runs from 6 October.
    red = amber.model_copy(
        update={
            "rating": Rating.RED,
            "rating_history": [
                *amber.rating_history,
                RatingChange(rating=Rating.RED, on=date(2026, 10, 20), source="review"),
            ],
        }
    )
    assert point_of(red, settings, CheckpointKind.KEYWORKER_NOT_REFERRED) == point
    assert reminder_effect(red, settings, NOW).kind == "schedule"


def test_the_new_reminders_tell_a_non_secure_address_nothing_of_the_child(
    desk: Desk, settings: Settings
) -> None:
    case = case_since(
        desk,
        82,
        date(2026, 12, 11),
        reviews=[
            record(
                date(2026, 12, 11),
                Rating.RED,
                ctr_outcome="Admission avoided",
                keyworker_name="Sam Lee",
                ctr_date=date(2026, 12, 1),
            )
        ],
    )
    assert case.referral is not None and case.child is not None
    change = ReminderDecider(settings, morning(date(2026, 12, 29))).decide(case)
    assert change is not None and "ctr_overdue" in change.label
    emails = [e for e in change.effects if isinstance(e, EmailEffect)]
    plain = " ".join(e.subject + e.body for e in emails if NOT_SECURE in e.to)
    secure = " ".join(e.body for e in emails if SECURE in e.to)
    assert case.child.given_name in secure
    child_values = (
        case.child.given_name,
        case.child.family_name,
        case.child.nhs_number,
        case.child.date_of_birth.strftime("%d/%m/%Y"),
        case.referral.postcode,
        "Admission avoided",
        "Sam Lee",
        "Dr Sam Patel",
    )
    for value in child_values:
        assert value not in plain
    # The keyworker reminder, to the same addresses.
    amber = case_since(desk, 83, date(2027, 2, 26), Rating.AMBER)
    keyworker = ReminderDecider(settings, morning(date(2027, 3, 30))).decide(amber)
    assert keyworker is not None and amber.child is not None
    plain = " ".join(
        e.subject + e.body
        for e in keyworker.effects
        if isinstance(e, EmailEffect) and NOT_SECURE in e.to
    )
    assert plain and amber.child.given_name not in plain
    assert amber.child.nhs_number not in plain


# ----- 4. the panel pack -----
def test_the_pack_shows_rating_changes_reviews_ctrs_and_keyworkers(
    desk: Desk, settings: Settings
) -> None:
    today = NOW.date()
    reviewed_on = today - timedelta(days=2)
    changed = case_since(
        desk,
        84,
        today - timedelta(days=40),
        Rating.AMBER,
        rating_history=[
            RatingChange(rating=Rating.RED, on=today - timedelta(days=40), source="referral"),
            RatingChange(rating=Rating.AMBER, on=reviewed_on, source="review"),
        ],
        reviews=[
            record(
                reviewed_on,
                Rating.AMBER,
                outcome_summary='=HYPERLINK("x")\nFamily support agreed',
                actions="CAMHS to review medication",
                ctr_recommended=True,
                ctr_date=reviewed_on,  # held the day of the review that recommended it
                ctr_outcome="+Stay at home",
                keyworker_name="@Sam Lee",
            )
        ],
    )
    overdue = case_since(desk, 85, today - timedelta(days=20), Rating.RED)
    pack = build_panel_pack([changed, overdue], [], today, ctr_due_days=14)
    [change] = pack.changed_cases
    assert (change.case_id, change.note) == (changed.case_id, "Red -> Amber")
    [reviewed] = pack.reviewed
    assert reviewed.note == (
        f"C(E)TR recommended, C(E)TR held {uk(reviewed_on)}, keyworker referred"
    )
    ctrs = {line.case_id: line.note for line in pack.ctrs}
    due = today - timedelta(days=6)
    assert ctrs[overdue.case_id] == (
        f"C(E)TR required: Red since {uk(today - timedelta(days=20))}, OVERDUE since {uk(due)}"
    )
    assert ctrs[changed.case_id] == f"C(E)TR held {uk(reviewed_on)}"
    assert pack.ctrs[0].case_id == overdue.case_id  # overdue first
    keyworkers = {line.case_id: line.note for line in pack.keyworker_eligible}
    assert keyworkers[changed.case_id] == f"referred (review of {uk(reviewed_on)}), keyworker named"
    assert keyworkers[overdue.case_id].endswith("NOT referred")

    plain = render_panel_pack(pack, with_names=False)
    named = render_panel_pack(pack, with_names=True)
    assert "Red -> Amber" in plain and "OVERDUE" in plain and "NOT referred" in plain
    # Without names: no more personal data than before - none of what the panel wrote.
    for private in ("HYPERLINK", "Family support", "CAMHS to review", "Stay at home", "Sam Lee"):
        assert private not in plain
        assert private in named
    assert '      Outcome:\n        =HYPERLINK("x")\n        Family support agreed' in named
    assert "      Actions:\n        CAMHS to review medication" in named

    rows = list(csv.DictReader(io.StringIO(panel_pack_csv([changed, overdue], today))))
    by_case = {row["case_reference"]: row for row in rows}
    row = by_case[changed.case_id]
    assert (row["previous_rating"], row["rating"], row["rating_changed_on"]) == (
        "Red",
        "Amber",
        reviewed_on.isoformat(),
    )
    # Every new cell is inert to a spreadsheet.
    assert row["last_review_outcome"].startswith("'=HYPERLINK")
    assert row["ctr_outcome"] == "'+Stay at home"
    assert row["keyworker_name"] == "'@Sam Lee"
    assert row["last_review_actions"] == "CAMHS to review medication"
    assert (row["ctr_needed"], row["ctr_date"]) == ("", reviewed_on.isoformat())
    assert row["keyworker_referred_on"] == reviewed_on.isoformat()
    late = by_case[overdue.case_id]
    assert (late["ctr_needed"], late["ctr_overdue"], late["ctr_due_on"]) == (
        "required (Red)",
        "yes",
        due.isoformat(),
    )
    assert late["previous_rating"] == "" and late["keyworker_name"] == ""


def test_the_blank_review_form_carries_the_new_fields_through_to_the_case(
    desk: Desk, settings: Settings
) -> None:
    from tests.unit.test_case_lifecycle_rules import review_email

    person = child(86)
    case = on_register(desk, person, "Red")
    decision = desk.receive(
        review_email(
            person,
            case.case_id,
            rag_rating="Red",
            ctr_date=uk(NOW.date()),
            ctr_outcome="Community plan agreed",
            keyworker_name="Sam Lee",
        )
    )
    assert decision.outcome is Outcome.UPDATED and decision.case is not None
    [review] = decision.case.reviews
    assert (review.ctr_date, review.ctr_outcome, review.keyworker_name) == (
        NOW.date(),
        "Community plan agreed",
        "Sam Lee",
    )
    assert review.keyworker_referred
    kinds = {point.kind for point in checkpoints(decision.case, settings)}
    assert not kinds & {CheckpointKind.CTR_OVERDUE, CheckpointKind.KEYWORKER_NOT_REFERRED}
