"""Trust at the level of the decision: coordinators proved by DMARC, forwards unwrapped once,
case forms never through a forward, and only trusted mail reserving its Message-ID."""

from __future__ import annotations

from infrastructure.samples import child, consent_pdf, email, forwarded, referral_pdf
from shared.mail import is_team_sender, parse_mail, trust_reasons
from shared.outcome import Outcome, ReasonCode
from shared.settings import Settings
from tests.unit.test_decisions import Desk

COORDINATOR = "dsr.coordinator@nhs.net"


def _codes(raw: bytes, settings: Settings) -> list[str]:
    mail = parse_mail(raw, settings.trusted_forwarders)
    return [reason.code.value for reason in trust_reasons(mail, settings)]


def test_a_coordinator_is_recognised_only_with_dmarc_passing_for_their_domain() -> None:
    settings = Settings(coordinator_addresses=(COORDINATOR,))
    proved = parse_mail(email(sender=COORDINATOR))
    assert is_team_sender(proved, settings)
    for auth in (
        "spf=pass smtp.mailfrom=nhs.net; dkim=pass header.i=@nhs.net; dmarc=none header.from=nhs.net",
        "spf=pass smtp.mailfrom=nhs.net; dkim=pass header.i=@nhs.net",
        "spf=pass; dkim=pass header.i=@nhs.net; dmarc=pass header.from=evil.example",
    ):
        assert not is_team_sender(parse_mail(email(sender=COORDINATOR, auth=auth)), settings)


def test_dkim_alignment_is_accepted_only_where_the_settings_say() -> None:
    auth = "spf=pass; dkim=pass header.d=nhs.net; dmarc=none header.from=nhs.net"
    mail = parse_mail(email(sender=COORDINATOR, auth=auth))
    assert not is_team_sender(mail, Settings(coordinator_addresses=(COORDINATOR,)))
    assert is_team_sender(
        mail, Settings(coordinator_addresses=(COORDINATOR,), dkim_aligned_domains=("nhs.net",))
    )


def test_dmarc_must_have_evaluated_the_from_domain() -> None:
    auth = "spf=pass; dkim=pass header.i=@evil.example; dmarc=pass header.from=evil.example"
    assert _codes(email(sender="sam.patel@nhs.net", auth=auth), Settings()) == ["MAIL_AUTH_FAILED"]


def test_mail_without_ses_results_is_not_trusted() -> None:
    raw = email(sender="sam.patel@nhs.net").replace(
        b"Authentication-Results: amazonses.com", b"Authentication-Results: evil.example"
    )
    assert _codes(raw, Settings()) == ["MAIL_AUTH_FAILED"]


def test_an_unreadable_from_is_quarantined_with_the_reason() -> None:
    raw = email(sender="sam.patel@nhs.net").replace(
        b"From: Referrer <sam.patel@nhs.net>",
        b"From: dsr.coordinator@nhs.net <someone@gmail.com>",
    )
    mail = parse_mail(raw)
    assert mail.sender == "" and [p.code for p in mail.problems] == [ReasonCode.SENDER_NOT_ALLOWED]
    assert "malformed" in mail.problems[0].message


def test_a_case_form_never_comes_through_a_forward(settings: Settings) -> None:
    from infrastructure.samples import withdrawal_pdf

    settings = settings.model_copy(update={"trusted_forwarders": ("dsr.mailbox@nhs.net",)})
    desk = Desk(settings)
    person = child(71)
    accepted = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    assert accepted.outcome is Outcome.ACCEPTED and accepted.case is not None
    withdrawal = email(("w.pdf", withdrawal_pdf(person, accepted.case.case_id)), sender=COORDINATOR)
    decision = desk.receive(forwarded(withdrawal))
    assert decision.outcome is Outcome.QUARANTINED
    assert "forward" in decision.reasons[0].message
    assert desk.register.case(accepted.case.case_id) is not None


def test_a_quarantined_email_does_not_reserve_its_message_id(settings: Settings) -> None:
    desk = Desk(settings)
    person = child(72)
    forms = (("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    spoofed = email(
        *forms,
        message_id="<same@nhs.net>",
        auth="spf=fail; dkim=fail; dmarc=fail header.from=nhs.net",
    )
    assert desk.receive(spoofed).outcome is Outcome.QUARANTINED
    genuine = email(*forms, message_id="<same@nhs.net>")
    assert desk.receive(genuine).outcome is Outcome.ACCEPTED
    assert desk.receive(genuine).outcome is Outcome.DUPLICATE
    # The same Message-ID from someone else is their own email, not a copy of this one.
    other = desk.receive(email(*forms, message_id="<same@nhs.net>", sender="kim.lee@nhs.net"))
    assert [reason.code for reason in other.reasons] == [ReasonCode.ALREADY_ON_REGISTER]


def test_only_named_panel_members_are_the_team_never_a_whole_domain(settings: Settings) -> None:
    assert is_team_sender(parse_mail(email(sender="panel.gp@nhs.net")), settings)
    # Any other NHSmail user passes DMARC for nhs.net too: that proves who they are, not
    # that they may erase a child's case.
    assert not is_team_sender(parse_mail(email(sender="any.clinician@nhs.net")), settings)
    desk = Desk(settings)
    person = child(73)
    accepted = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)))
    )
    assert accepted.case is not None
    from infrastructure.samples import withdrawal_pdf

    withdrawal = desk.receive(
        email(
            ("w.pdf", withdrawal_pdf(person, accepted.case.case_id)), sender="any.clinician@nhs.net"
        )
    )
    # Held for a coordinator to confirm: nothing erased on their word alone.
    assert withdrawal.outcome is Outcome.HELD
    held = desk.register.case(accepted.case.case_id)
    assert held is not None and held.status.value == "active"
