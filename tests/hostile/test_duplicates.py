"""The same email again is a silent duplicate, keyed by sender and Message-ID; only trusted
mail reserves a Message-ID, so nobody can make a genuine email a duplicate in advance."""

from __future__ import annotations

from infrastructure.samples import child, consent_pdf, referral_pdf
from shared.outcome import Outcome
from tests.hostile.builders import (
    ATTACKER,
    PDF,
    REFERRER,
    SES_FAIL,
    from_line,
    genuine_pair,
    message,
    raw_email,
    ses_results,
)
from tests.hostile.desk import Desk

SHARED_ID = "<CAF=shared-message-id+1@mail.gmail.com>"
OTHER = child(3)  # a second sample child (Maya Shah)


def _other_pair(sender: str, message_id: str) -> bytes:
    return raw_email(
        (from_line(sender),),
        auth=(ses_results(sender.rsplit("@", 1)[1]),),
        body=message(
            subject="DSR referral",
            message_id=message_id,
            attachments=[(referral_pdf(**OTHER), PDF), (consent_pdf(**OTHER), PDF)],
        ),
    )


def test_a_quarantined_forgery_does_not_reserve_the_message_id(desk: Desk) -> None:
    forged = raw_email(
        (from_line(REFERRER),),
        auth=(SES_FAIL,),
        body=message(subject="DSR referral", message_id=SHARED_ID),
    )
    assert desk.receive(forged).outcome is Outcome.QUARANTINED
    genuine = desk.receive(genuine_pair(message_id=SHARED_ID))
    assert genuine.outcome is Outcome.ACCEPTED, genuine.submission.reasons


def test_an_untrusted_sender_does_not_reserve_the_message_id(desk: Desk) -> None:
    forged = raw_email(
        (f"From: <{ATTACKER}>",),
        auth=(ses_results("gmail.com"),),
        body=message(subject="DSR referral", message_id=SHARED_ID),
    )
    assert desk.receive(forged).outcome is Outcome.QUARANTINED
    genuine = desk.receive(genuine_pair(message_id=SHARED_ID))
    assert genuine.outcome is Outcome.ACCEPTED, genuine.submission.reasons


def test_the_same_genuine_email_twice_is_a_silent_duplicate(desk: Desk) -> None:
    raw = genuine_pair(message_id=SHARED_ID)
    first = desk.receive(raw)
    assert first.outcome is Outcome.ACCEPTED, first.submission.reasons
    again = desk.receive(raw)  # a new SES message id: SES received it twice
    assert again.message_id != first.message_id
    assert again.outcome is Outcome.DUPLICATE
    assert again.effects == [] and again.submission.reasons == []
    assert len(desk.register.cases()) == 1


def test_the_same_message_id_from_another_sender_is_not_a_duplicate(desk: Desk) -> None:
    first = desk.receive(genuine_pair(message_id=SHARED_ID))
    assert first.outcome is Outcome.ACCEPTED
    other = desk.receive(_other_pair("kim.lee@nhs.net", SHARED_ID))
    assert other.outcome is Outcome.ACCEPTED, other.submission.reasons
    assert other.submission.case_id != first.submission.case_id


def test_a_trusted_sender_cannot_make_anothers_email_a_duplicate(desk: Desk) -> None:
    """Someone at an allowed domain who learns the Message-ID a referrer will use (or reuses
    one seen in a thread) sends first: the referrer's own email is still decided."""
    squatter = raw_email(
        (from_line("someone.else@nhs.net"),),
        body=message(subject="hello", message_id=SHARED_ID, body="Just a question."),
    )
    assert desk.receive(squatter).outcome is Outcome.REJECTED
    genuine = desk.receive(genuine_pair(message_id=SHARED_ID))
    assert genuine.outcome is Outcome.ACCEPTED, genuine.submission.reasons


def test_an_empty_message_id_identifies_nothing(desk: Desk) -> None:
    """`Message-ID: <>` (or an empty one) on two different emails from one sender: each is
    decided on its own, never the second taken for the first."""
    first = desk.receive(genuine_pair(message_id="<>"))
    assert first.outcome is Outcome.ACCEPTED, first.submission.reasons
    second = desk.receive(_other_pair(REFERRER, "<>"))
    assert second.outcome is Outcome.ACCEPTED, second.submission.reasons
    third_raw = _other_pair(REFERRER, "x").replace(b"Message-ID: x", b"Message-ID: ")
    third = desk.receive(third_raw)
    assert third.outcome is not Outcome.DUPLICATE or third.codes == {"ALREADY_ON_REGISTER"}


def test_the_same_email_redelivered_by_the_queue_is_decided_once(desk: Desk) -> None:
    raw = genuine_pair()
    first = desk.receive(raw, message_id="ses-1")
    again = desk.receive(raw, message_id="ses-1")  # the same SES message id: SQS again
    assert again.outcome is Outcome.ACCEPTED
    assert again.submission == first.submission


def test_an_email_no_longer_held_still_ends_in_one_outcome() -> None:
    """A message redriven after its raw email expired: recorded and alerted, never a poison
    message that fails every redrive."""
    from shared.case import EmailEffect
    from shared.intake_service import IntakeService
    from shared.outcome import Outcome, ReasonCode
    from shared.settings import Settings
    from tests.conftest import NOW, PlainHasher
    from tests.fakes import MemoryMailStore, RecordingRegister

    register = RecordingRegister()
    service = IntakeService(Settings(), MemoryMailStore(), register, PlainHasher(), lambda: NOW)
    first = service.process("inbound/expired-message")
    assert first.submission.outcome is Outcome.QUARANTINED and not first.redelivered
    assert [r.code for r in first.submission.reasons] == [ReasonCode.EMAIL_UNREADABLE]
    [alert] = [e for e in register.effects_of("expired-message") if isinstance(e, EmailEffect)]
    assert "expired-message" in alert.body and alert.to == Settings().coordinator_addresses
    again = service.process("inbound/expired-message")
    assert again.redelivered and again.submission.outcome is Outcome.QUARANTINED
