"""The coordinators' alerts say what to do in the console (Triage: release or dismiss, enter
by hand), not in the bucket; one email to the team's secure addresses; and the sender of a
scan the team will enter by hand is told so, not to correct and resend (#11, finding 8)."""

from __future__ import annotations

import re

from infrastructure.sample_documents import scanned_pdf
from infrastructure.samples import consent_pdf, email, referral_pdf
from shared.case import Decision, EmailEffect, EmailPurpose
from shared.outcome import Outcome
from shared.settings import Settings
from tests.unit.test_decisions import Desk

# Two coordinators at secure addresses (the coordinator and the lead), one elsewhere.
TEAM = ("dsr.coordinator@nhs.net", "dsr.lead@nhs.net", "dsr.admin@bromley.gov.uk")
# An intake message id as SES makes them: never in a subject.
HEX_ID = re.compile(r"[0-9a-f]{16,}")


def _desk(settings: Settings) -> Desk:
    return Desk(
        settings.model_copy(update={"coordinator_addresses": TEAM, "self_referrals": "quarantine"})
    )


def _sent(decision: Decision, purpose: EmailPurpose) -> list[EmailEffect]:
    return [e for e in decision.effects if isinstance(e, EmailEffect) and e.purpose is purpose]


def test_a_quarantine_alert_is_one_email_to_the_secure_team_and_points_to_triage(
    settings: Settings,
) -> None:
    decision = _desk(settings).receive(
        email(("r.pdf", referral_pdf()), sender="someone@gmail.com", subject="Amira Okafor")
    )
    assert decision.outcome is Outcome.QUARANTINED
    secure, other = _sent(decision, EmailPurpose.QUARANTINE_ALERT)
    assert secure.to == ("dsr.coordinator@nhs.net", "dsr.lead@nhs.net")
    assert other.to == ("dsr.admin@bromley.gov.uk",)
    for alert in (secure, other):
        assert "Triage" in alert.body and "release it" in alert.body
        assert "dismiss it" in alert.body
        assert "bucket" not in alert.body and "inbound/" not in alert.body
        assert "by hand" not in alert.body and "resend" not in alert.body
        assert not HEX_ID.search(alert.subject)
    assert "someone@gmail.com" in secure.body
    # The sender's address and their subject never reach a coordinator outside secure domains.
    assert "someone@gmail.com" not in other.body and "Okafor" not in other.body + other.subject


def test_every_coordinators_alert_is_one_email_per_kind_of_address(settings: Settings) -> None:
    """The rule for all of them (quarantine, uncertain send, mail problem, held withdrawal,
    reply passed on): the same email the coordinator notification is, one outbox item to the
    secure addresses and one to the rest - never one per coordinator."""
    desk = _desk(settings)
    decision = desk.receive(email(sender="someone@gmail.com"))
    alerts = _sent(decision, EmailPurpose.QUARANTINE_ALERT)
    assert sorted(len(a.to) for a in alerts) == [1, 2]
    assert sorted(a for alert in alerts for a in alert.to) == sorted(TEAM)


def test_a_scan_alone_tells_its_sender_a_coordinator_will_enter_it(settings: Settings) -> None:
    decision = _desk(settings).receive(
        email(
            ("Amira Okafor consent.pdf", scanned_pdf()),
            sender="worker@bromley.gov.uk",  # allowed, not secure: the reference rule applies
            subject="Consent for Amira Okafor",
        )
    )
    # Nothing was taken automatically: rejected on the register, FORM_UNREADABLE its reason.
    assert decision.outcome is Outcome.REJECTED
    assert [r.code.value for r in decision.reasons] == ["FORM_UNREADABLE"]
    assert not _sent(decision, EmailPurpose.REJECTION)
    [answer] = _sent(decision, EmailPurpose.ACKNOWLEDGEMENT)
    assert answer.to == ("worker@bromley.gov.uk",)
    assert answer.subject == "DSR forms received - a coordinator will enter them by hand"
    assert "attachment 1 (PDF)" in answer.body
    assert "a DSR coordinator will enter the form on the register by hand" in answer.body
    assert "You do not need to send anything again" in answer.body
    assert "correct" not in answer.body and "could not be accepted" not in answer.body
    assert answer.blank_forms == ()  # nothing to fill in again
    # A non-secure address: neither the filename nor the subject (they name the child).
    assert "Amira" not in answer.body + answer.subject and "Okafor" not in answer.body

    secure, other = _sent(decision, EmailPurpose.MANUAL_ENTRY)
    for alert in (secure, other):
        assert alert.subject.startswith("DSR form for manual entry - email received ")
        assert not HEX_ID.search(alert.subject) and "rejected" not in alert.subject
        assert "Enter by hand" in alert.body and "Triage" in alert.body
        assert "inbound/" not in alert.body and "bucket" not in alert.body
        assert "Its sender has been told a coordinator will enter it" in alert.body
        assert "Amira" not in alert.subject
    assert secure.originals is not None and other.originals is None


def test_a_manual_entry_alert_names_the_case_when_there_is_one(settings: Settings) -> None:
    decision = _desk(settings).receive(
        email(("referral.pdf", referral_pdf()), ("consent-scan.pdf", scanned_pdf()))
    )
    assert decision.outcome is Outcome.PENDING and decision.case is not None
    alerts = _sent(decision, EmailPurpose.MANUAL_ENTRY)
    assert alerts and all(
        a.subject == f"DSR form for manual entry - case {decision.case.case_id}" for a in alerts
    )
    # The referral went ahead as usual; its sender is not told a coordinator will enter it
    # as if nothing was taken.
    assert all("Its sender has been told" not in a.body for a in alerts)


def test_a_readable_pair_beside_a_scan_is_answered_as_usual(settings: Settings) -> None:
    decision = _desk(settings).receive(
        email(
            ("r.pdf", referral_pdf()),
            ("c.pdf", consent_pdf()),
            ("scan.pdf", scanned_pdf()),
        )
    )
    assert decision.outcome is Outcome.ACCEPTED
    answers = _sent(decision, EmailPurpose.ACKNOWLEDGEMENT)
    assert answers and all("will enter" not in a.subject for a in answers)
