"""A case followed on the embedded stack through time: reviews, a rating change, an admission
and discharge, then withdrawal (nothing of the person left) or transition at 18."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from pypdf import PdfReader
from pypdf.errors import PyPdfError as PdfError

from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.samples import (
    TICK,
    child,
    consent_pdf,
    email,
    referral_pdf,
    review_pdf,
    uk,
    withdrawal_pdf,
    years_ago,
)
from shared.adapters import client
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import schedule_name
from shared.case import CaseStatus, ClosureReason
from shared.outcome import Outcome
from shared.working_days import next_working_day
from tests.end_to_end.personal_data import forms_of

COORDINATOR = "dsr.coordinator@nhs.net"


@pytest.fixture
def stack_clock(stack: LocalStack) -> Iterator[LocalStack]:
    """The shared stack, its clock put back afterwards so other tests keep today's date."""
    offset = stack.clock_offset
    yield stack
    stack.clock_offset = offset


@pytest.fixture
def register(stack: LocalStack) -> RegisterTable:
    return RegisterTable(client("dynamodb"), stack.resources["RegisterTable"])


def send(stack: LocalStack, register: RegisterTable, raw: bytes):  # type: ignore[no-untyped-def]
    message_id = stack.deliver_email(raw)
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None
    return submission


def readable_text(raw: bytes) -> str:
    """Everything a person could read in a stored object: the MIME, every decoded part, and
    the text and form fields of every PDF in it."""
    texts = [raw.decode("utf-8", "replace")]
    message = message_from_bytes(raw, policy=default)
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        texts.append(payload.decode("utf-8", "replace"))
        if payload.startswith(b"%PDF"):
            try:
                reader = PdfReader(io.BytesIO(payload))
                fields = (reader.get_fields() or {}).values()
                texts += [str(field.get("/V", "")) for field in fields]
                texts += [page.extract_text() for page in reader.pages]
            except PdfError:  # other tests store damaged PDFs on purpose; their bytes are above
                continue
    return "\n".join(texts)


def everything_stored(stack: LocalStack) -> str:
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=stack.resources["RegisterTable"]):
        items += [str(item) for item in page["Items"]]
    bucket = stack.resources["RawMailBucket"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            items.append(readable_text(body))
    return "\n".join(items)


def found(person: dict[str, str], text: str) -> set[str]:
    values = set()
    for field in (
        "child_given_name",
        "child_family_name",
        "child_date_of_birth",
        "child_nhs_number",
    ):
        values |= forms_of(person[field])
    return {value for value in values if value.lower() in text.lower()}


def test_reviews_change_the_rating_and_discharge_keeps_it_red_then_withdrawal_erases_everything(
    stack_clock: LocalStack, register: RegisterTable
) -> None:
    stack = stack_clock
    person = {**child(301), "child_given_name": "Zephyrine", "child_family_name": "Quarterman"}
    accepted = send(
        stack,
        register,
        email(
            ("r.pdf", referral_pdf(**person, suggested_rag="Red")),
            ("c.pdf", consent_pdf(**person)),
            # Referrers name the child in the subject: our answer's is `Re: ` theirs.
            subject="DSR referral - Zephyrine Quarterman",
        ),
    )
    assert accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    case_id = accepted.case_id
    assert found(person, str(register.submission(accepted.message_id)))

    # Two weeks on, the Red case's review falls due and the coordinators are told.
    before = len(sent_emails())
    firings = stack.advance(15)
    assert any(
        f.handler == "reminder"
        and "review_due" in f.response["done"].removeprefix("reminder:").split(",")
        for f in firings
    )
    due = [e for e in sent_emails()[before:] if e.subject == f"DSR review due - case {case_id}"]
    assert due and "DSR-REVIEW-1" in due[0].body and "Keyworker programme: ELIGIBLE" in due[0].body

    # The panel: admitted to hospital (Blue), next review in ten days.
    today = stack.now().date()
    admitted = send(
        stack,
        register,
        email(
            (
                "review.pdf",
                review_pdf(
                    person,
                    case_id,
                    review_date=uk(today),
                    rag_rating="Blue",
                    next_review_date=uk(today + timedelta(days=10)),
                ),
            ),
            sender=COORDINATOR,
        ),
    )
    assert admitted.outcome is Outcome.UPDATED, admitted.reasons
    case = register.case(case_id)
    assert case is not None and case.rating is not None and case.rating.value == "Blue"
    assert [change.rating.value for change in case.rating_history] == ["Red", "Blue"]
    assert case.next_review_on == today + timedelta(days=10)
    schedule = stack.client("scheduler").get_schedule(
        Name=schedule_name(case_id), GroupName=stack.resources["ReviewScheduleGroup"]
    )
    # The reminder lands on the morning of that day, or of the next working day after it.
    landing = next_working_day(today + timedelta(days=10))
    assert schedule["ScheduleExpression"] == f"at({landing.isoformat()}T09:00:00)"

    # Discharged: the rating becomes Red without being asked, by the NHS number alone.
    stack.advance(8)
    today = stack.now().date()
    discharged = send(
        stack,
        register,
        email(
            (
                "review.pdf",
                review_pdf(
                    person,
                    "",
                    review_date=uk(today),
                    rag_rating="",
                    discharge_date=uk(today - timedelta(days=1)),
                ),
            ),
            sender="panel.member@nhs.net",
        ),
    )
    assert discharged.outcome is Outcome.UPDATED, discharged.reasons
    case = register.case(case_id)
    assert case is not None and case.rating is not None and case.rating.value == "Red"
    assert case.red_until == today - timedelta(days=1) + timedelta(days=14)

    # Green a week after discharge is refused; the case is unchanged.
    stack.advance(7)
    too_soon = send(
        stack,
        register,
        email(
            (
                "review.pdf",
                review_pdf(person, case_id, review_date=uk(stack.now().date()), rag_rating="Green"),
            ),
            sender=COORDINATOR,
        ),
    )
    assert too_soon.outcome is Outcome.REJECTED
    assert [(r.code.value, r.field) for r in too_soon.reasons] == [("FIELD_INVALID", "rag_rating")]

    # Before withdrawal the person is plainly there (so the search below can find them).
    assert found(person, everything_stored(stack))

    withdrawn = send(
        stack,
        register,
        email(
            ("withdrawal.pdf", withdrawal_pdf(person, case_id)),
            sender=COORDINATOR,
            subject="Withdrawal - Zephyrine Quarterman",
        ),
    )
    assert withdrawn.outcome is Outcome.WITHDRAWN
    # Nothing of the child anywhere: the emails' outcomes are kept without recipients or
    # subjects, the tombstone without the person.
    assert found(person, everything_stored(stack)) == set()
    kept = register.submission(accepted.message_id)
    assert kept is not None and kept.outcome is Outcome.ACCEPTED
    assert kept.effects and all(e.to is None and e.subject is None for e in kept.effects)
    tombstone = register.case(case_id)
    assert tombstone is not None and tombstone.status is CaseStatus.WITHDRAWN
    assert tombstone.closure is not None
    assert tombstone.closure.reason is ClosureReason.CONSENT_WITHDRAWN
    assert tombstone.referral is None and tombstone.reviews == [] and tombstone.person_key == ""
    scheduler = stack.client("scheduler")
    names = [
        s["Name"]
        for s in scheduler.list_schedules(GroupName=stack.resources["ReviewScheduleGroup"])[
            "Schedules"
        ]
    ]
    assert schedule_name(case_id) not in names
    # The same withdrawal again: already done, and its own stored email erased too.
    again = send(
        stack,
        register,
        email(("withdrawal.pdf", withdrawal_pdf(person, case_id)), sender=COORDINATOR),
    )
    assert again.outcome is Outcome.DUPLICATE
    assert found(person, everything_stored(stack)) == set()
    # A later referral starts a new case: nothing links it to the withdrawn one.
    back = send(
        stack,
        register,
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person))),
    )
    assert back.outcome is Outcome.ACCEPTED and back.case_id != case_id


def test_a_case_closes_at_18_after_a_transition_alert(
    stack_clock: LocalStack, register: RegisterTable
) -> None:
    stack = stack_clock
    today = stack.now().date()
    born = years_ago(18, days=-20)  # 18 in twenty days
    person = {**child(302), "child_date_of_birth": uk(born)}
    accepted = send(
        stack,
        register,
        email(
            ("r.pdf", referral_pdf(**person)),
            (
                "c.pdf",
                consent_pdf(
                    **person,
                    consent_basis="self",
                    capacity_confirmed=TICK,
                    consenting_person_name="Young Person",
                    consent_date=uk(today),
                ),
            ),
        ),
    )
    assert accepted.outcome is Outcome.ACCEPTED and accepted.case_id
    before = len(sent_emails())
    stack.advance(1)
    alerts = [e.subject for e in sent_emails()[before:] if accepted.case_id in e.subject]
    assert any("turns 18 on" in subject for subject in alerts)
    stack.advance(25)
    case = register.case(accepted.case_id)
    assert case is not None and case.status is CaseStatus.CLOSED
    assert case.closure is not None and case.closure.reason is ClosureReason.TRANSITION_AT_18
    assert case.closure.on == date.fromisoformat(born.replace(year=born.year + 18).isoformat())
    closing = [e for e in sent_emails()[before:] if "closed at 18" in e.subject]
    assert closing and "adult" in closing[0].body


def test_a_waiting_referral_lapses_with_a_notice_and_then_expires(
    stack_clock: LocalStack, register: RegisterTable
) -> None:
    stack = stack_clock
    pending = send(stack, register, email(("r.pdf", referral_pdf(**child(303)))))
    assert pending.outcome is Outcome.PENDING and pending.case_id
    before = len(sent_emails())
    stack.advance(29)
    assert any(
        e.subject == f"DSR case {pending.case_id} lapsed - the other form never arrived"
        for e in sent_emails()[before:]
    )
    assert register.case(pending.case_id) is None  # gone with DynamoDB's TTL


def test_review_forms_from_outside_the_team_are_quarantined(
    stack: LocalStack, register: RegisterTable
) -> None:
    person = child(304)
    accepted = send(
        stack,
        register,
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person))),
    )
    outsider = send(
        stack,
        register,
        email(
            ("review.pdf", review_pdf(person, accepted.case_id or "")), sender="head@school.sch.uk"
        ),
    )
    assert outsider.outcome is Outcome.QUARANTINED
    assert [r.code.value for r in outsider.reasons] == ["SENDER_NOT_ALLOWED"]


def test_the_panel_pack_goes_to_the_coordinators_with_its_csv(
    stack: LocalStack, register: RegisterTable
) -> None:
    person = child(305)
    send(
        stack, register, email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    before = len(sent_emails())
    response = stack.invoke("digest", {})
    stack.run_pipeline()
    assert response["sent"] is True
    [pack] = [e for e in sent_emails()[before:] if e.subject.startswith("DSR panel pack")]
    assert set(pack.to) == {"dsr.coordinator@nhs.net", "dsr.lead@nhs.net"}
    [csv_text] = pack.attachments.values()
    assert isinstance(csv_text, str)
    assert person["child_nhs_number"] in csv_text.replace(" ", "")
    assert "On the register:" in pack.body
    # Fired twice the same day (Scheduler delivers at least once): sent once.
    assert stack.invoke("digest", {})["sent"] is False
