"""Forwarded mail: the DSR's shared mailbox forwards referrers' emails to the intake. Trust
and answers go to the original sender; only trusted forwarders are unwrapped."""

from __future__ import annotations

import pytest

from infrastructure.samples import child, consent_pdf, email, forwarded, referral_pdf
from shared.case import Decision, EmailEffect
from shared.mail import parse_mail, trust_reasons
from shared.outcome import Outcome
from shared.settings import Settings
from tests.unit.test_decisions import Desk


def recipients(decision: Decision) -> set[str]:
    return {a for e in decision.effects if isinstance(e, EmailEffect) for a in e.to}


PERSON = child(90)
FORWARDER = "dsr.mailbox@nhs.net"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        coordinator_addresses=("dsr.coordinator@nhs.net",),
        inbox_address="intake@dsr.example.org",
        trusted_forwarders=(FORWARDER,),
    )


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings)


def _referral(sender: str = "kim.lee@oxleas.nhs.uk") -> bytes:
    return email(
        ("referral.pdf", referral_pdf(**PERSON)),
        ("consent.pdf", consent_pdf(**PERSON)),
        sender=sender,
    )


@pytest.mark.parametrize("inline", [False, True], ids=["as attachment", "inline"])
def test_a_forwarded_referral_is_answered_to_the_original_sender(desk: Desk, inline: bool) -> None:
    decision = desk.receive(forwarded(_referral(), inline=inline))
    assert decision.outcome is Outcome.ACCEPTED, decision.reasons
    to = {
        address
        for effect in decision.effects
        if effect.kind == "email"
        for address in effect.to or ()
    }
    assert "kim.lee@oxleas.nhs.uk" in to
    assert FORWARDER not in to


@pytest.mark.parametrize("inline", [False, True], ids=["as attachment", "inline"])
def test_trust_is_judged_on_the_original_sender(settings: Settings, inline: bool) -> None:
    mail = parse_mail(
        forwarded(_referral("someone@gmail.com"), inline=inline), settings.trusted_forwarders
    )
    assert mail.sender == "someone@gmail.com" and mail.forwarded_by == FORWARDER
    assert [reason.code.value for reason in trust_reasons(mail, settings)] == ["SENDER_NOT_ALLOWED"]


def test_a_forward_that_fails_authentication_is_quarantined(desk: Desk) -> None:
    spoofed = forwarded(_referral(), auth="spf=fail; dkim=fail; dmarc=fail")
    decision = desk.receive(spoofed)
    assert decision.outcome is Outcome.QUARANTINED
    assert "MAIL_AUTH_FAILED" in {reason.code.value for reason in decision.reasons}


def test_a_forward_without_an_original_sender_goes_to_a_coordinator(desk: Desk) -> None:
    note = email(("referral.pdf", referral_pdf(**PERSON)), sender=FORWARDER)
    decision = desk.receive(note)
    assert decision.outcome is Outcome.QUARANTINED
    assert "original sender could not be found" in decision.reasons[0].message
    assert recipients(decision) == {"dsr.coordinator@nhs.net"}


def test_others_forwarding_are_judged_as_themselves(settings: Settings) -> None:
    mail = parse_mail(forwarded(_referral(), by="colleague@nhs.net"), settings.trusted_forwarders)
    assert mail.sender == "colleague@nhs.net" and mail.forwarded_by is None
    assert len(mail.attachments) == 2  # the files inside the forwarded message are still read


def test_our_own_email_coming_back_is_never_answered(desk: Desk) -> None:
    decision = desk.receive(forwarded(_referral("intake@dsr.example.org"), inline=True))
    assert decision.outcome is Outcome.QUARANTINED
    assert recipients(decision) == {"dsr.coordinator@nhs.net"}
