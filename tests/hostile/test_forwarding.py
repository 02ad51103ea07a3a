"""Forwards: the trusted mailbox vouches for who it forwards, but never for a coordinator's
review or withdrawal (those come from the coordinator's own, authenticated email), and only
the first forwarded header block says who the original sender is."""

from __future__ import annotations

from shared.outcome import Outcome
from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    FORWARDER,
    PDF,
    consent_form,
    from_line,
    genuine_withdrawal,
    inline_forward,
    inline_forward_block,
    message,
    raw_email,
    referral_form,
    rfc822_forward,
    ses_results,
    typed_consent,
    typed_referral,
    typed_withdrawal,
    withdrawal_form,
    withdrawal_message,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk
from tests.hostile.test_sender_identity import assert_not_trusted

COLLEAGUE = "a.colleague@nhs.net"
REFERRER_B = "b.referrer@nhs.net"
FORMS = [(referral_form(), PDF), (consent_form(), PDF)]


def test_a_withdrawal_forwarded_as_a_message_is_never_taken(seeded: Seeded) -> None:
    assert_not_trusted(seeded, rfc822_forward(genuine_withdrawal()))


def test_a_withdrawal_forwarded_inline_is_never_taken(seeded: Seeded) -> None:
    text = "Please action.\n" + inline_forward_block(COORDINATOR, "Withdrawal attached.")
    assert_not_trusted(seeded, inline_forward(text, [(withdrawal_form(), PDF)]))


def test_a_typed_withdrawal_forwarded_inline_is_never_taken(seeded: Seeded) -> None:
    text = inline_forward_block(COORDINATOR, typed_withdrawal(), name="Jo Adams")
    assert_not_trusted(seeded, inline_forward(text))


def test_a_forward_inside_a_forward_from_the_coordinator_is_never_taken(seeded: Seeded) -> None:
    middle = rfc822_forward(genuine_withdrawal(), by=COORDINATOR)
    assert_not_trusted(seeded, rfc822_forward(middle))


def test_an_outsider_wrapping_the_coordinators_withdrawal_is_never_taken(seeded: Seeded) -> None:
    middle = raw_email(
        (f"From: <{ATTACKER}>",),
        auth=(ses_results("gmail.com"),),
        body=message(body="fyi"),
    )
    # The attacker's message, with the coordinator's (forged) withdrawal inside it.
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    outer_attacker = message_from_bytes(middle, policy=policy.default)
    assert isinstance(outer_attacker, EmailMessage)
    inner = message_from_bytes(genuine_withdrawal(), policy=policy.default)
    assert isinstance(inner, EmailMessage)
    outer_attacker.make_mixed()
    outer_attacker.add_attachment(inner)
    assert_not_trusted(seeded, rfc822_forward(bytes(outer_attacker)))


def test_a_review_forwarded_by_the_mailbox_is_never_taken(seeded: Seeded) -> None:
    from tests.hostile.builders import review_form

    inner = raw_email((from_line(COORDINATOR),), body=message(attachments=[(review_form(), PDF)]))
    assert_not_trusted(seeded, rfc822_forward(inner))


def test_the_withdrawal_sent_directly_by_the_mailbox_is_never_taken(seeded: Seeded) -> None:
    """The shared mailbox itself, with no forwarded message in it: nobody to vouch for."""
    raw = raw_email((from_line(FORWARDER, "Bromley DSR"),), body=withdrawal_message())
    assert_not_trusted(seeded, raw, attacker=FORWARDER)


# ----- only the first forwarded header block is unwrapped -----
def test_a_deeper_from_line_never_makes_the_sender_the_coordinator(desk: Desk) -> None:
    deeper = (
        "-----Original Message-----\n"
        f"From: Jo Adams <{COORDINATOR}>\n"
        "Sent: Monday, 23 November 2026 08:00\n"
        "Subject: DSR\n\n" + typed_referral() + typed_consent()
    )
    text = inline_forward_block(ATTACKER, deeper, name="Someone")
    processed = desk.receive(inline_forward(text))
    assert processed.outcome is Outcome.QUARANTINED, processed.submission.reasons
    assert processed.codes == {"SENDER_NOT_ALLOWED"}
    assert ATTACKER not in processed.recipients


def test_a_deeper_from_line_never_stands_in_for_a_missing_first_one(seeded: Seeded) -> None:
    text = (
        "\n\n________________________________\n"
        "Sent: Monday, 23 November 2026 09:12\n"
        "Subject: DSR\n\n"
        "-----Original Message-----\n"
        f"From: Jo Adams <{COORDINATOR}>\n\n" + typed_withdrawal()
    )
    assert_not_trusted(seeded, inline_forward(text))


def test_a_display_name_holding_an_address_does_not_become_the_sender(desk: Desk) -> None:
    text = inline_forward_block(ATTACKER, "Forms attached.", name='"Sam Patel <sam.patel@nhs.net>"')
    processed = desk.receive(inline_forward(text, FORMS))
    assert processed.outcome is Outcome.QUARANTINED, processed.submission.reasons
    assert "sam.patel@nhs.net" not in processed.recipients and ATTACKER not in processed.recipients


def test_a_forward_of_a_forward_is_answered_to_the_first_original_sender(desk: Desk) -> None:
    """The mailbox forwards colleague A's email, which itself forwards referrer B's: A is
    the original sender the mailbox vouches for, and the one answered; B never is."""
    b_email = inline_forward_block(REFERRER_B, "Referral and consent attached.", name="B Referrer")
    a_email = "Forwarding this on for the DSR, thanks." + b_email
    text = "Forwarded from the DSR mailbox." + inline_forward_block(COLLEAGUE, a_email, name="A")
    processed = desk.receive(inline_forward(text, FORMS))
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons
    assert COLLEAGUE in processed.recipients
    assert REFERRER_B not in processed.recipients and FORWARDER not in processed.recipients


def test_a_rejected_forward_of_a_forward_is_answered_to_the_first_original_sender(
    desk: Desk,
) -> None:
    b_email = inline_forward_block(REFERRER_B, "Referral attached.", name="B Referrer")
    text = inline_forward_block(COLLEAGUE, "FYI" + b_email, name="A")
    bad = [(referral_form(child_nhs_number="123 456 7890"), PDF)]
    processed = desk.receive(inline_forward(text, bad))
    assert processed.outcome is Outcome.REJECTED, processed.submission.reasons
    assert COLLEAGUE in processed.recipients
    assert REFERRER_B not in processed.recipients and FORWARDER not in processed.recipients


def test_a_forwarded_referral_from_a_lookalike_is_quarantined(desk: Desk) -> None:
    text = inline_forward_block("sam.patel@nhs.net.evil.example", typed_referral())
    processed = desk.receive(inline_forward(text))
    assert processed.outcome is Outcome.QUARANTINED
    assert not any("evil" in address for address in processed.recipients)
