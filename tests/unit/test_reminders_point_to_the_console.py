"""The coordinators' reminders send them to the console first (#11, walkthrough 2 finding 6):
review due or overdue, no first panel review, C(E)TR overdue and keyworker not referred say
to record it in the console's case page ("Record a review"), and that the emailed review
outcome form (DSR-REVIEW-1) works too; the consent reconfirmation names the console's
"Withdraw consent" beside the withdrawal form; the held-withdrawal alert says "Confirm
withdrawal" in Triage before the emailed `CONFIRM WITHDRAWAL HOLD-...`. Their copies to a
coordinator outside the secure domains stay free of personal data. Real forms through the
real decider, the reminders as the schedule's firing decides them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infrastructure.samples import child, consent_pdf, email, referral_pdf, withdrawal_pdf
from shared.case import Case, EmailEffect, EmailPurpose
from shared.reminders import ReminderDecider
from shared.settings import Settings
from tests.conftest import NOW
from tests.unit.test_decisions import Desk

SECURE = "dsr.coordinator@nhs.net"
ELSEWHERE = "dsr.admin@bromley.gov.uk"  # a coordinator, not at a secure address
PERSON = child(7, age=12)
PRIVATE = [PERSON["child_given_name"], PERSON["child_family_name"], PERSON["child_nhs_number"],
           PERSON["child_nhs_number"].replace(" ", ""), PERSON["child_date_of_birth"]]  # fmt: skip
# The reminders that ask for a review outcome, by their subject's words.
ASK_FOR_A_REVIEW = ("review due", "review OVERDUE", "no first panel review", "C(E)TR OVERDUE",
                    "eligible for a keyworker")  # fmt: skip


@pytest.fixture
def red_case(settings: Settings) -> Case:
    referral = referral_pdf(**PERSON, suggested_rag="Red")
    decision = Desk(settings).receive(email(("r.pdf", referral), ("c.pdf", consent_pdf(**PERSON))))
    assert decision.case is not None
    return decision.case


def reminders(settings: Settings, case: Case, days: int) -> list[EmailEffect]:
    change = ReminderDecider(settings, NOW + timedelta(days=days)).decide(case)
    assert change is not None
    return [e for e in change.effects if isinstance(e, EmailEffect)]


def test_every_reminder_asking_for_a_review_points_to_the_console_first(
    settings: Settings, red_case: Case
) -> None:
    sent = reminders(settings, red_case, 40)
    case_id = red_case.case_id
    for words in ASK_FOR_A_REVIEW:
        these = [e for e in sent if words in e.subject]
        assert {address for e in these for address in e.to} >= {SECURE, ELSEWHERE}, words
        for reminder in these:
            assert reminder.purpose is EmailPurpose.REMINDER
            body = " ".join(reminder.body.split())  # its lines as one text
            console = body.index(f"in the console's case page: find {case_id} on the register")
            assert 'choose "Record a review"' in body, words
            # The emailed form still works, said after the console.
            assert body.index("review outcome form (DSR-REVIEW-1)") > console, words
            assert "to bromley.dsr@nhs.net: it works too" in body, words
    [keyworker] = [e for e in sent if "keyworker" in e.subject and SECURE in e.to]
    assert 'tick "Referred to the keyworker service"' in " ".join(keyworker.body.split())
    # The same reminders outside the secure domains: the case reference, nothing personal.
    for reminder in (e for e in sent if ELSEWHERE in e.to):
        for value in PRIVATE:
            assert value not in reminder.subject + reminder.body, (reminder.subject, value)
        assert case_id in reminder.body


def test_the_consent_reconfirmation_names_the_consoles_withdraw_consent(
    settings: Settings, red_case: Case
) -> None:
    sent = reminders(settings, red_case, 370)
    these = [e for e in sent if "consent due for reconfirmation" in e.subject]
    assert {address for e in these for address in e.to} >= {SECURE, ELSEWHERE}
    for reminder in these:
        body = " ".join(reminder.body.split())
        assert "record it in the console's case page (\"Withdraw consent\")" in body
        assert "or send the withdrawal form (DSR-WITHDRAWAL-1) instead" in body
        if ELSEWHERE in reminder.to:
            assert not [value for value in PRIVATE if value in reminder.body]


def test_the_held_withdrawal_alert_says_triage_first_and_the_emailed_command_still(
    settings: Settings,
) -> None:
    desk = Desk(settings)
    accepted = desk.receive(
        email(("r.pdf", referral_pdf(**PERSON)), ("c.pdf", consent_pdf(**PERSON)))
    )
    assert accepted.case is not None
    held = desk.receive(
        email(("w.pdf", withdrawal_pdf(PERSON, accepted.case.case_id)), sender="sam.patel@nhs.net")
    )
    assert held.hold is not None
    reference = held.hold.reference
    emails = [e for e in held.effects if isinstance(e, EmailEffect)]
    alerts = [e for e in emails if SECURE in e.to or ELSEWHERE in e.to]
    assert {address for e in alerts for address in e.to} >= {SECURE, ELSEWHERE}
    for alert in alerts:
        body = " ".join(alert.body.split())
        triage = body.index("open the console's Triage page")
        assert 'choose "Confirm withdrawal" to erase the case, or "Decline"' in body
        assert body.index(f"CONFIRM WITHDRAWAL {reference}") > triage
        assert f"\nCONFIRM WITHDRAWAL {reference}\n" in alert.body  # its own line, as replied
        # Not from a family's address: nothing said of one.
        assert "outside the domains the DSR takes referrals from" not in body
        if ELSEWHERE in alert.to:
            assert not [value for value in PRIVATE if value in alert.subject + alert.body]
            assert "sam.patel@nhs.net" not in alert.body
