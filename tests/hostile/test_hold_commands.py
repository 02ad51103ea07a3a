"""A coordinator's `CONFIRM WITHDRAWAL` counts only when it is the first line of the text
they wrote as the email itself - never a text part carried along further down."""

from __future__ import annotations

from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import make_msgid

from shared.holds import hold_reference_for
from shared.mail import parse_mail
from shared.outcome import Outcome
from tests.hostile.builders import (
    COORDINATOR,
    REFERRER,
    from_line,
    genuine_pair,
    genuine_withdrawal,
    raw_email,
    withdrawal_message,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk


def coordinators(*parts: MIMEText | MIMEMultipart, kind: str = "mixed") -> bytes:
    outer = MIMEMultipart(kind)
    outer["To"] = "bromley.dsr@nhs.net"
    outer["Subject"] = "Re: DSR withdrawal to confirm"
    outer["Message-ID"] = make_msgid(domain="nhs.net")
    for part in parts:
        outer.attach(part)
    return raw_email((from_line(COORDINATOR),), body=outer.as_bytes())


def held(seeded: Seeded) -> str:
    processed = seeded.desk.receive(raw_email((from_line(REFERRER),), body=withdrawal_message()))
    assert processed.outcome is Outcome.HELD
    return hold_reference_for(processed.message_id)


def test_a_text_part_below_an_html_body_confirms_nothing(seeded: Seeded) -> None:
    reference = held(seeded)
    before = seeded.case()
    raw = coordinators(
        MIMEText("<p>Please keep this on file - do NOT action yet.</p>", "html"),
        MIMEText(f"CONFIRM WITHDRAWAL {reference}\n", "plain"),  # someone else's, carried along
    )
    assert not parse_mail(raw).body_is_main
    processed = seeded.desk.receive(raw)
    assert processed.outcome is not Outcome.WITHDRAWN and not processed.erases
    seeded.assert_untouched(before)


def test_the_plain_alternative_of_the_coordinators_own_email_confirms(seeded: Seeded) -> None:
    reference = held(seeded)
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(f"CONFIRM WITHDRAWAL {reference}\n\nSpoke to mum.\n", "plain"))
    body.attach(MIMEText(f"<p>CONFIRM WITHDRAWAL {reference}</p>", "html"))
    raw = coordinators(body)  # mixed > alternative > plain, as Outlook sends it
    assert parse_mail(raw).body_is_main
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.WITHDRAWN and processed.erases


def confirm(reference: str) -> bytes:
    body = MIMEText(f"CONFIRM WITHDRAWAL {reference}\n", "plain")
    return coordinators(body)


def test_a_confirmed_holds_own_email_is_erased_with_the_case(seeded: Seeded) -> None:
    reference = held(seeded)
    hold = seeded.desk.register.holds[reference]
    processed = seeded.desk.receive(confirm(reference))
    assert processed.outcome is Outcome.WITHDRAWN
    # Listed with the case, so the erasure deletes the held email (NHS number, DOB) too.
    assert hold.message_id in seeded.desk.register.case_events[seeded.case_id]
    assert seeded.desk.register.holds == {}


def test_a_direct_withdrawal_removes_the_childs_waiting_holds(seeded: Seeded) -> None:
    reference = held(seeded)
    hold = seeded.desk.register.holds[reference]
    processed = seeded.desk.receive(genuine_withdrawal())
    assert processed.outcome is Outcome.WITHDRAWN
    assert seeded.desk.register.holds == {}, "nothing of the child is kept in a hold"
    assert hold.message_id in seeded.desk.register.case_events[seeded.case_id]
    late = seeded.desk.receive(confirm(reference))
    assert late.outcome is Outcome.REJECTED and not late.erases


def test_a_hold_older_than_the_childs_case_never_erases_it(desk: Desk) -> None:
    """Withdrawn before the child was (again) referred with fresh consent: the old hold,
    confirmed later, does not erase the new case."""
    processed = desk.receive(raw_email((from_line(REFERRER),), body=withdrawal_message()))
    assert processed.outcome is Outcome.HELD
    reference = hold_reference_for(processed.message_id)
    hold = desk.register.holds[reference]
    desk.register.holds[reference] = hold.model_copy(  # sent an hour before the referral
        update={"received_at": hold.received_at - timedelta(hours=1)}
    )
    accepted = desk.receive(genuine_pair())
    assert accepted.outcome is Outcome.ACCEPTED and accepted.submission.case_id
    late = desk.receive(confirm(reference))
    assert late.outcome is Outcome.REJECTED and not late.erases
    case = desk.register.case(accepted.submission.case_id)
    assert case is not None and case.status.value == "active"
