"""The case page's history on the embedded stack (#11 walkthrough 2, findings 4, 5 and 11):
each review's C(E)TR and keyworker as recorded and where the case stands with both (the panel
pack's own rules), the register's "C(E)TR overdue" flag and filter, the emails and audit
trail oldest first by the moment recorded (not the table's key order) with the files numbered
in that order, and corrections of the address and the referrer's details flowing into the
audit trail and the subject access summary."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf, review_pdf, uk
from shared.adapters.console_register import ConsoleRegisterTable
from shared.case import Actor, StaffRole
from shared.console.case_view import CaseReader
from shared.console.register_view import RegisterFilter, register_rows
from shared.console.service import ConsoleService
from shared.outcome import Outcome
from shared.panel_pack import ctr_status, keyworker_status
from shared.settings import Settings
from tests.integration.test_console import Browser
from tests.integration.test_console_case import raw_body

# Unique among the tests' seeds and users (the session's stack is shared).
SEEDS = (2441, 2442)
COORDINATOR_EMAIL = "dsr.coordinator@nhs.net"  # an emailed review comes from the team


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> ConsoleUser:
    return create_user(stack, "history.coordinator@nhs.net", "coordinator")


def actor(user: ConsoleUser) -> Actor:
    return Actor(sub=f"sub-{user.username}", email=user.username, role=StaffRole.COORDINATOR)


def person(seed: int) -> dict[str, str]:
    return child(seed, age=5)  # (a child ages with its seed: these are about 11)


def signed_in(stack: LocalStack, user: ConsoleUser) -> Browser:
    browser = Browser(stack)
    browser.sign_in(user)
    return browser


def accepted(stack: LocalStack, register: ConsoleRegisterTable, seed: int, message_id: str) -> str:
    child_ = person(seed)
    stack.deliver_email(
        email(("referral.pdf", referral_pdf(**child_)), ("consent.pdf", consent_pdf(**child_))),
        message_id=message_id,
    )
    stack.run_pipeline()
    submission = register.submission(message_id)
    assert submission is not None and submission.outcome is Outcome.ACCEPTED, submission and [
        reason.message for reason in submission.reasons
    ]
    assert submission.case_id
    return submission.case_id


def section(page: str, heading: str) -> str:
    """The page from a heading to the next."""
    found = re.search(rf"<h2>{re.escape(heading)}</h2>(.*?)(?=<h2>|$)", page, re.S)
    assert found, heading
    return found.group(1)


def test_reviews_show_their_ctr_and_keyworker_and_the_register_flags_a_ctr_overdue(
    stack: LocalStack,
    register: ConsoleRegisterTable,
    console: ConsoleService,
    user: ConsoleUser,
) -> None:
    # The first email's id sorts after the later ones: the table's key order is not time's.
    first, later = f"ff{SEEDS[0]}first", f"00{SEEDS[0]}later"
    case_id = accepted(stack, register, SEEDS[0], first)
    # A review recommends a C(E)TR; none is held within ctr_due_days: it is overdue then.
    today = stack.now().date()
    recommended = {"review_date": uk(today), "rag_rating": "Amber",
                   "outcome_summary": "Escalation plan agreed.", "ctr_recommended": "/Yes",
                   "reviewer_name": "Dr Lee"}  # fmt: skip
    time.sleep(1.1)  # the stack's clock has whole seconds: each recorded at its own moment
    made = console.review(actor(user), f"tok-history-{SEEDS[0]}-a", case_id, recommended)
    assert made.outcome == "updated"
    settings = Settings.from_environment()
    due_on = today + timedelta(days=settings.ctr_due_days)
    browser = signed_in(stack, user)
    page = browser.request("GET", f"/cases/{case_id}")["text"]
    schedule = section(page, "The schedule")
    assert f"Due by {due_on:%-d %B %Y}: recommended at the review of {today:%-d %B %Y}" in schedule
    assert "<td>Recommended</td>" in section(page, "Reviews")
    # A day past due (the shared stack's clock is left alone: read as of then).
    late = datetime.combine(due_on + timedelta(days=1), stack.now().time(), tzinfo=UTC)
    then = ConsoleService(settings, register, console.mail, console.hasher, clock=lambda: late)
    case = register.case(case_id)
    assert case is not None
    [row] = register_rows([case], settings, late.date(), RegisterFilter.CTR_OVERDUE)
    assert row.case_id == case_id and row.ctr_overdue
    seen = CaseReader(then).view(actor(user), case_id)
    assert seen is not None and seen.ctr.overdue and seen.ctr.due_on == due_on
    # The pages as of then: the flag, the filter and the case's schedule say so.
    browser_then = signed_in(stack, user)
    browser_then.at = late
    listed = browser_then.request("GET", "/register?filter=ctr_overdue")["text"]
    assert f">{case_id}</a>" in listed and "C(E)TR overdue</strong>" in listed
    schedule = section(browser_then.request("GET", f"/cases/{case_id}")["text"], "The schedule")
    assert f"C(E)TR overdue</strong> since {due_on:%-d %B %Y}: recommended at" in schedule

    # The C(E)TR held and a keyworker named, by a review emailed later.
    time.sleep(1.1)
    held_on = today  # on the day of the recommendation: it counts
    stack.deliver_email(
        email(("review.pdf", review_pdf(person(SEEDS[0]), case_id, review_date=uk(today), rag_rating="Amber",
                                        ctr_date=uk(held_on), ctr_outcome="Stay at home; PBS plan",
                                        keyworker_referred="/Yes", keyworker_name="Sam Rivers")),
              sender=COORDINATOR_EMAIL),
        message_id=later,
    )  # fmt: skip
    stack.run_pipeline()
    emailed = register.submission(later)
    assert emailed is not None and emailed.outcome is Outcome.UPDATED, emailed
    case = register.case(case_id)
    assert case is not None and not ctr_status(case, late.date(), settings.ctr_due_days).overdue
    assert register_rows([case], settings, late.date(), RegisterFilter.CTR_OVERDUE) == []
    listed = browser.request("GET", "/register?filter=ctr_overdue")["text"]
    assert '<strong aria-current="page">C(E)TR overdue</strong>' in listed
    assert f">{case_id}</a>" not in listed
    page = browser.request("GET", f"/cases/{case_id}")["text"]
    reviews = section(page, "Reviews")
    when = held_on.strftime("%-d %B %Y")
    assert f"Held {when}: Stay at home; PBS plan" in reviews
    assert f"Referred on {today.strftime('%-d %B %Y')}: Sam Rivers" in reviews
    assert "Recommended" in reviews  # the first review, as it was recorded
    schedule = section(page, "The schedule")
    assert f"Last held {when}: Stay at home; PBS plan" in schedule and "overdue" not in schedule
    assert "Sam Rivers" in schedule
    keyworker = keyworker_status(case, today)
    assert keyworker.name == "Sam Rivers" and keyworker.referred_on is not None
    assert f"Referred at the review of {keyworker.referred_on.strftime('%-d %B %Y')}" in schedule

    # Emails oldest first by the moment recorded: the referral, the console review, the
    # emailed review - and their files numbered in that order.
    order = [event_id for event_id, _ in register.case_submissions(case_id)]
    assert order[0] == first and order[-1] == later and order[1].startswith("console-review-")
    emails = section(page, "Emails in and out, oldest first")
    sources = re.findall(r'<span class="nhsuk-body-s">([a-z ]+)</span>', emails)
    assert sources == ["email", "console", "email"]
    links = re.findall(rf'href="/cases/{case_id}/files/([0-9/]+)"', emails)
    assert links == ["1/1", "1/2", "2/1"]
    assert raw_body(browser.request("GET", f"/cases/{case_id}/files/2/1")) == review_pdf(
        person(SEEDS[0]), case_id, review_date=uk(today), rag_rating="Amber", ctr_date=uk(held_on),
        ctr_outcome="Stay at home; PBS plan", keyworker_referred="/Yes",
        keyworker_name="Sam Rivers",
    )  # fmt: skip
    view = CaseReader(console).view(actor(user), case_id)
    assert view is not None
    moments = [row.received_at for row in view.emails]
    assert moments == sorted(m for m in moments if m is not None)
    assert [entry.at for entry in view.audit] == sorted(entry.at for entry in view.audit)
    assert "<h2>Audit trail, oldest first</h2>" in page


def test_address_and_referrer_corrections_reach_the_audit_and_the_subject_access_summary(
    stack: LocalStack,
    register: ConsoleRegisterTable,
    console: ConsoleService,
    user: ConsoleUser,
) -> None:
    case_id = accepted(stack, register, SEEDS[1], f"{SEEDS[1]}-corrected")
    who = actor(user)
    for token, field, value in (
        ("a", "address", "7 Larch Walk, Bromley"),
        ("b", "referrer_email", "Sam.Rivers@NHS.net"),
        ("c", "referrer_phone", "020 3000 0001"),
        ("d", "gender", "Non-binary"),
    ):
        done = console.correct(who, f"tok-history-{SEEDS[1]}-{token}", case_id, field, value,
                               "The referrer phoned with the right details")  # fmt: skip
        assert not done.already
    case = register.case(case_id)
    assert case is not None and case.referral is not None
    assert case.referral.referrer_email == "sam.rivers@nhs.net"
    assert case.referral.details["child_address"] == "7 Larch Walk, Bromley"
    assert [fix.field for fix in case.corrections] == [
        "address",
        "referrer_email",
        "referrer_phone",
        "gender",
    ]
    # The audit names the field, never a value.
    audit = [entry for entry in register.case_audit(case, stack.now())
             if (entry.label or "").startswith("console:correct:")]  # fmt: skip
    assert [entry.label for entry in audit] == [
        "console:correct:address", "console:correct:referrer_email",
        "console:correct:referrer_phone", "console:correct:gender",
    ]  # fmt: skip
    assert all(entry.actor_email == user.username for entry in audit)

    page = signed_in(stack, user).request("GET", f"/cases/{case_id}")["text"]
    corrections = section(page, "Corrections")
    assert "Referrer&#39;s email" in corrections and "sam.patel@nhs.net" in corrections
    assert "(blank)" in corrections  # the phone the form left blank
    trail = section(page, "Audit trail, oldest first")
    assert "Corrected referrer&#39;s email" in trail and "Corrected address" in trail
    assert "Sam.Rivers" not in trail and "Larch" not in trail

    archive = zipfile.ZipFile(io.BytesIO(console.export_subject_access(who, case_id)))
    summary = archive.read("summary.txt").decode()
    assert "  Address: 7 Larch Walk, Bromley" in summary
    assert "Address corrected from '12 Example Road, Bromley' to '7 Larch Walk, Bromley'" in summary
    assert ("Referrer's email corrected from 'sam.patel@nhs.net' to 'sam.rivers@nhs.net'"
            in summary)  # fmt: skip
    assert "Referrer's phone corrected from blank to '020 3000 0001'" in summary
    assert "Gender corrected from 'Female' to 'Non-binary'" in summary
