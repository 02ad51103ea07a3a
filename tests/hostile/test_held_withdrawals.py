"""A withdrawal from anyone but the coordinators and the named panel members is held, and
erases nothing until a coordinator confirms it by replying `CONFIRM WITHDRAWAL HOLD-...`."""

from __future__ import annotations

import re
from datetime import timedelta

from shared.case import CaseStatus
from shared.holds import confirmation_in, hold_reference_for
from shared.outcome import Outcome
from tests.hostile.builders import (
    COORDINATOR,
    REFERRER,
    from_line,
    message,
    raw_email,
    withdrawal_message,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Processed

PANEL_MEMBER = "panel.gp@nhs.net"


def referrers_withdrawal(seeded: Seeded) -> Processed:
    before = seeded.case()
    processed = seeded.desk.receive(raw_email((from_line(REFERRER),), body=withdrawal_message()))
    assert processed.outcome is Outcome.HELD, processed.submission.reasons
    assert not processed.erases
    seeded.assert_untouched(before)
    return processed


def reply(sender: str, text: str) -> bytes:
    return raw_email((from_line(sender),), body=message(subject="Re: DSR withdrawal", body=text))


def test_a_referrers_withdrawal_is_held_and_the_sender_learns_nothing_of_the_case(
    seeded: Seeded,
) -> None:
    processed = referrers_withdrawal(seeded)
    reference = hold_reference_for(processed.message_id)
    [to_sender] = [email for email in processed.emails if email.to == (REFERRER,)]
    # At a secure address the subject is `Re: <theirs>`: the reference is in the body.
    assert reference in to_sender.body and seeded.case_id not in to_sender.body
    assert "confirms it before\nanything is erased" in to_sender.body
    [alert] = [email for email in processed.emails if email.to == (COORDINATOR,)]
    assert f"CONFIRM WITHDRAWAL {reference}" in alert.body
    assert REFERRER in alert.body and "NHS number:" in alert.body  # a secure address


def test_a_coordinators_confirmation_erases_the_case_once_and_tells_the_sender(
    seeded: Seeded,
) -> None:
    reference = hold_reference_for(referrers_withdrawal(seeded).message_id)
    confirmed = seeded.desk.receive(
        reply(COORDINATOR, f"Confirm withdrawal {reference.lower()}\n\nChecked with mum.\n")
    )
    assert confirmed.outcome is Outcome.WITHDRAWN, confirmed.submission.reasons
    assert confirmed.erases and seeded.person_case_id() is None
    assert seeded.case().status is CaseStatus.WITHDRAWN
    told = [email for email in confirmed.emails if email.to == (REFERRER,)]
    assert told and seeded.case_id in told[0].subject
    again = seeded.desk.receive(reply(COORDINATOR, f"CONFIRM WITHDRAWAL {reference}"))
    assert again.outcome is Outcome.REJECTED and not again.erases
    assert "No withdrawal is held" in again.emails[0].body


def test_only_a_coordinator_can_confirm(seeded: Seeded) -> None:
    reference = hold_reference_for(referrers_withdrawal(seeded).message_id)
    before = seeded.case()
    for sender in (REFERRER, PANEL_MEMBER):
        attempt = seeded.desk.receive(reply(sender, f"CONFIRM WITHDRAWAL {reference}"))
        assert attempt.outcome is Outcome.QUARANTINED and not attempt.erases
        seeded.assert_untouched(before)


def test_our_instructions_quoted_in_a_reply_confirm_nothing(seeded: Seeded) -> None:
    reference = hold_reference_for(referrers_withdrawal(seeded).message_id)
    before = seeded.case()
    for text in (
        f"Thanks, will look.\n\n> CONFIRM WITHDRAWAL {reference}\n",
        f"Thanks, will look.\nCONFIRM WITHDRAWAL {reference}\n",
        f"Do not CONFIRM WITHDRAWAL {reference}\n",
    ):
        attempt = seeded.desk.receive(reply(COORDINATOR, text))
        assert attempt.outcome is not Outcome.WITHDRAWN and not attempt.erases
        seeded.assert_untouched(before)


def test_a_lapsed_hold_is_not_confirmed(seeded: Seeded) -> None:
    reference = hold_reference_for(referrers_withdrawal(seeded).message_id)
    held = seeded.desk.register.holds[reference]
    seeded.desk.register.holds[reference] = held.model_copy(
        update={"received_at": held.received_at - timedelta(days=31)}
    )
    attempt = seeded.desk.receive(reply(COORDINATOR, f"CONFIRM WITHDRAWAL {reference}"))
    assert attempt.outcome is Outcome.REJECTED and not attempt.erases


def test_the_command_is_read_from_the_first_line_only() -> None:
    assert confirmation_in("CONFIRM WITHDRAWAL HOLD-AB23CD45") == "HOLD-AB23CD45"
    assert confirmation_in("\n  confirm   withdrawal hold-ab23cd45.\nthanks") == "HOLD-AB23CD45"
    assert confirmation_in("Hi\nCONFIRM WITHDRAWAL HOLD-AB23CD45") is None
    assert confirmation_in("CONFIRM WITHDRAWAL HOLD-AB23CD4") is None
    assert re.fullmatch(r"HOLD-[A-Z2-9]{8}", hold_reference_for("any-ses-id"))
