"""Who sent it: forged, ambiguous or unauthenticated senders of a withdrawal form.

A withdrawal erases a child's case, so each attack here sends one for the sample child's
active case and must come to `quarantined` with a trust reason: the case untouched, no
erasure, nothing sent to the attacker - or, from an address the attacker owns and proves
(DMARC passing for it), to a withdrawal held as a family's: nothing looked up or erased,
the attacker told the hold reference only. The control (the coordinator's own, authenticated
withdrawal built the same way) shows the form would have erased the case if trusted.
"""

from __future__ import annotations

import pytest

from shared.case import EmailEffect
from shared.holds import hold_reference_for
from shared.outcome import TRUST_REASONS, Outcome
from tests.hostile.builders import (
    ATTACKER,
    ATTACKER_DOMAIN,
    COORDINATOR,
    COUNCIL_COORDINATOR,
    INBOX,
    SES_FAIL,
    SES_PASS,
    from_line,
    genuine_withdrawal,
    message,
    raw_email,
    ses_results,
    typed_withdrawal,
    withdrawal_message,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Processed

TRUST_CODES = {code.value for code in TRUST_REASONS}


def assert_not_trusted(seeded: Seeded, raw: bytes, *, attacker: str = ATTACKER) -> Processed:
    before = seeded.case()
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.QUARANTINED, processed.submission.reasons
    assert processed.codes and processed.codes <= TRUST_CODES, processed.codes
    assert not processed.erases
    assert processed.submission.case_id is None
    seeded.assert_untouched(before)
    assert attacker.lower() not in {address.lower() for address in processed.recipients}
    assert processed.recipients <= set(seeded.desk.settings.coordinator_addresses)
    return processed


def assert_not_taken(seeded: Seeded, raw: bytes, *, attacker: str = ATTACKER) -> Processed:
    """A withdrawal from a sender who is not a proved coordinator or panel member: never
    taken. Either quarantined (the mail itself untrusted) or, from a trusted sender outside
    the team, held for a coordinator to confirm: nothing erased, nothing looked up, and the
    sender told only that it was received."""
    before = seeded.case()
    processed = seeded.desk.receive(raw)
    if processed.outcome is Outcome.QUARANTINED:
        assert processed.codes and processed.codes <= TRUST_CODES, processed.codes
        assert attacker.lower() not in {address.lower() for address in processed.recipients}
    else:
        assert processed.outcome is Outcome.HELD, processed.submission.reasons
        assert processed.codes == {"WITHDRAWAL_HELD"}
        for email in processed.emails:
            if email.to == (attacker.lower(),) or attacker.lower() in email.to:
                assert seeded.case_id not in email.body and "received" in email.subject
    assert not processed.erases
    assert processed.submission.case_id is None
    seeded.assert_untouched(before)
    return processed


def test_control_the_coordinators_own_withdrawal_erases_the_case(seeded: Seeded) -> None:
    processed = seeded.desk.receive(genuine_withdrawal())
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons
    assert processed.erases
    assert seeded.person_case_id() is None
    assert ATTACKER not in processed.recipients


def test_control_a_typed_withdrawal_from_the_coordinator_erases_the_case(seeded: Seeded) -> None:
    processed = seeded.desk.receive(
        raw_email((from_line(COORDINATOR),), body=message(body=typed_withdrawal()))
    )
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons


# ----- the From header: exactly one From with exactly one mailbox, no parse defects -----
# SES's verdict here is the best an attacker could hope for (DMARC passing for nhs.net), so
# only the reading of the From header itself can stop these.
AMBIGUOUS_FROM: dict[str, list[str | bytes]] = {
    "unquoted address as display name": [f"From: {COORDINATOR} <{ATTACKER}>"],
    "quoted address as display name": [f'From: "{COORDINATOR}" <{ATTACKER}>'],
    "angle brackets inside the local part": [f"From: <dsr.coordinator>@{ATTACKER_DOMAIN}"],
    "two mailboxes, coordinator first": [f"From: {COORDINATOR}, {ATTACKER}"],
    "two mailboxes, coordinator last": [f"From: {ATTACKER}, {COORDINATOR}"],
    "two From headers, coordinator first": [from_line(COORDINATOR), f"From: <{ATTACKER}>"],
    "two From headers, coordinator last": [f"From: <{ATTACKER}>", from_line(COORDINATOR)],
    "two From headers, differently cased": [f"FROM: <{ATTACKER}>", from_line(COORDINATOR)],
    "a From with a space before its colon": [f"From : <{ATTACKER}>", from_line(COORDINATOR)],
    "From only an encoded word (q)": ["From: =?utf-8?q?dsr.coordinator=40nhs.net?="],
    "From only an encoded word (b)": ["From: =?utf-8?b?ZHNyLmNvb3JkaW5hdG9yQG5ocy5uZXQ=?="],
    "group syntax": [f"From: DSR team: {COORDINATOR};"],
    "group syntax with an attacker": [f"From: DSR team: {COORDINATOR}, {ATTACKER};"],
    "empty group": ["From: undisclosed-recipients:;"],
    "CR LF in the encoded display name": [
        f"From: =?utf-8?q?Jo=0D=0AFrom:_{COORDINATOR.replace('@', '=40')}?= <{ATTACKER}>"
    ],
    "CR LF in the display name of the coordinator's address": [
        f"From: =?utf-8?q?{ATTACKER.replace('@', '=40')}=0D=0A?= <{COORDINATOR}>"
    ],
    "encoded word inside a quoted local part": [
        f'From: "=?utf-8?q?dsr.coordinator=40nhs.net?="@{ATTACKER_DOMAIN}'
    ],
    "address after the address": [f"From: {COORDINATOR}@{ATTACKER_DOMAIN}"],
    "no From at all": [f"Sender: {COORDINATOR}"],
    "empty From": ["From: "],
    "a bare local part": ["From: dsr.coordinator"],
    "a null byte in the address": [f"From: Jo <{COORDINATOR}\x00{ATTACKER}>"],
    "raw non-ASCII bytes in the domain": [
        "From: Jo <dsr.coordinator@nh\xd1\x95.net>".encode("latin-1")
    ],
}


@pytest.mark.parametrize("sender_lines", AMBIGUOUS_FROM.values(), ids=AMBIGUOUS_FROM.keys())
def test_an_ambiguous_from_is_never_the_coordinator(
    seeded: Seeded, sender_lines: list[str | bytes]
) -> None:
    assert_not_trusted(seeded, raw_email(sender_lines, body=withdrawal_message()))


# ----- SES's verdict, and only SES's -----
FORGED_RESULTS: dict[str, list[str]] = {
    "MAIL FROM quoting dmarc=pass, real verdict fail": [
        'Authentication-Results: amazonses.com; spf=pass smtp.mailfrom="dmarc=pass"@evil.example; '
        "dkim=none; dmarc=fail header.from=nhs.net"
    ],
    "MAIL FROM with a dmarc=pass tag, real verdict fail": [
        "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=bounce+dmarc=pass@evil.example; "
        "dkim=none; dmarc=fail header.from=nhs.net"
    ],
    "MAIL FROM quoting a whole pass clause, real verdict fail": [
        "Authentication-Results: amazonses.com; spf=pass "
        'smtp.mailfrom="x; dmarc=pass header.from=nhs.net"@evil.example; '
        "dkim=none; dmarc=fail header.from=nhs.net"
    ],
    "HELO text saying dmarc=pass, real verdict fail": [
        "Authentication-Results: amazonses.com; spf=pass (spfCheck: domain of evil.example "
        "designates 203.0.113.9 as permitted sender) client-ip=203.0.113.9; "
        "envelope-from=x@evil.example; helo=dmarc=pass; dkim=none; dmarc=fail header.from=nhs.net"
    ],
    "a lower Authentication-Results saying pass under SES's fail": [
        ses_results(spf="fail", dkim="fail", dmarc="fail"),
        SES_PASS,
    ],
    "another server's pass above SES's fail": [
        "Authentication-Results: evil.example; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net",
        SES_FAIL,
    ],
    "another server's pass, and no SES verdict": [
        "Authentication-Results: mx.evil.example; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net"
    ],
    "SES's authserv-id as a prefix of another": [
        "Authentication-Results: amazonses.com.evil.example; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net",
    ],
    "DMARC passing for another domain than the From's": [
        ses_results(ATTACKER_DOMAIN, header_from=ATTACKER_DOMAIN)
    ],
    "DMARC passing for a parent of another domain": [
        ses_results("nhs.net.evil.example", header_from="nhs.net.evil.example")
    ],
    "no Authentication-Results at all": [],
    "an empty Authentication-Results": ["Authentication-Results: amazonses.com;"],
    "DMARC none": [ses_results(dmarc="none")],
    "DMARC missing, SPF and DKIM pass": [ses_results(dmarc=None)],
    "DMARC pass without header.from": [
        "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass"
    ],
    "DMARC temperror": [ses_results(dmarc="temperror")],
    "an ARC pass under SES's fail": [
        SES_FAIL,
        "ARC-Authentication-Results: i=1; amazonses.com; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net",
    ],
    "DMARC pass and fail both in SES's header": [
        "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=fail header.from=nhs.net; dmarc=pass header.from=nhs.net"
    ],
}


@pytest.mark.parametrize("auth", FORGED_RESULTS.values(), ids=FORGED_RESULTS.keys())
def test_only_ses_own_dmarc_pass_for_the_from_domain_lets_a_withdrawal_in(
    seeded: Seeded, auth: list[str]
) -> None:
    assert_not_taken(
        seeded, raw_email((from_line(COORDINATOR),), auth=auth, body=withdrawal_message())
    )


def test_a_failing_verdict_in_a_different_case_and_spacing_still_fails(seeded: Seeded) -> None:
    auth = [
        "Authentication-Results: AmazonSES.com ;  SPF = pass smtp.mailfrom=nhs.net ; "
        "DKIM=pass header.i=@nhs.net ;  DMARC = FAIL header.from=nhs.net"
    ]
    assert_not_trusted(
        seeded, raw_email((from_line(COORDINATOR),), auth=auth, body=withdrawal_message())
    )


# ----- addresses that look like the coordinator's (the attacker owns the domain, so DMARC
# passes for it). Never the coordinator: at best a family's own email (#11), whose withdrawal
# is held for a coordinator to confirm - nothing looked up or erased, the alert saying it came
# from outside the allowed domains, the sender told the hold reference only. -----
LOOKALIKES: dict[str, tuple[str, str]] = {  # From header, the domain DMARC passed for
    "a subdomain of the attacker's": (f"From: Jo <dsr.coordinator@nhs.net.{ATTACKER_DOMAIN}>",
                                      f"nhs.net.{ATTACKER_DOMAIN}"),
    "hyphen": ("From: Jo <dsr.coordinator@nhs-net.com>", "nhs-net.com"),
    "no dot": ("From: Jo <dsr.coordinator@nhsnet.com>", "nhsnet.com"),
    "Cyrillic s, in punycode": ("From: Jo <dsr.coordinator@xn--nh-foc.net>", "xn--nh-foc.net"),
    "another top-level domain": ("From: Jo <dsr.coordinator@nhs.net.co>", "nhs.net.co"),
    "upper case lookalike": ("From: Jo <DSR.COORDINATOR@NHS.NET.EVIL.EXAMPLE>",
                             "nhs.net.evil.example"),
    "comment in the local part": (f"From: dsr.coordinator(nhs.net)@{ATTACKER_DOMAIN}",
                                  ATTACKER_DOMAIN),
    "quoted local part holding the address": (
        f'From: "dsr.coordinator@nhs.net"@{ATTACKER_DOMAIN}', ATTACKER_DOMAIN),
    "old-style comment holding the address": (f"From: {ATTACKER} ({COORDINATOR})", "gmail.com"),
}  # fmt: skip


@pytest.mark.parametrize(("written", "domain"), LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_a_lookalike_of_the_coordinator_is_not_the_coordinator(
    seeded: Seeded, written: str, domain: str
) -> None:
    raw = raw_email((written,), auth=(ses_results(domain),), body=withdrawal_message())
    processed = assert_not_taken(seeded, raw)
    to_them = [e for e in processed.emails if any(domain in a.lower() for a in e.to)]
    if processed.outcome is Outcome.QUARANTINED:  # not one plain address: never answered
        assert to_them == []
        return
    assert_held_as_a_familys(processed, to_them)


def assert_held_as_a_familys(processed: Processed, to_them: list[EmailEffect]) -> None:
    """Held as a family's withdrawal: its sender gets the receipt with the hold reference
    alone, the coordinators an alert that says where it came from."""
    [receipt] = to_them
    reference = hold_reference_for(processed.message_id)
    assert receipt.subject == f"DSR withdrawal received - {reference}"
    assert "NHS number" not in receipt.body and "DSR-" not in receipt.body
    [reason] = processed.submission.reasons
    assert "a family's own address outside the allowed domains" in reason.message
    alerts = [e for e in processed.emails if COORDINATOR in e.to]
    assert alerts and all(
        "outside the domains the DSR takes referrals from" in e.body for e in alerts
    )


def test_the_inbox_itself_cannot_send_a_withdrawal(seeded: Seeded) -> None:
    raw = raw_email((from_line(INBOX, "Bromley DSR"),), body=withdrawal_message())
    assert_not_trusted(seeded, raw, attacker=INBOX)


def test_a_lower_virus_verdict_cannot_overrule_ses(seeded: Seeded) -> None:
    raw = raw_email(
        (from_line(COORDINATOR), "X-SES-Virus-Verdict: PASS", "X-SES-Spam-Verdict: PASS"),
        body=withdrawal_message(),
        virus="FAIL",
    )
    assert_not_trusted(seeded, raw)


def test_spam_or_virus_verdicts_stop_even_the_coordinator(seeded: Seeded) -> None:
    for verdicts in ({"spam": "FAIL"}, {"virus": "FAIL"}, {"virus": "GRAY"}):
        raw = raw_email((from_line(COORDINATOR),), body=withdrawal_message(), **verdicts)
        assert_not_trusted(seeded, raw)


# ----- only the From counts: Sender, Reply-To and Return-Path change nothing -----
def test_a_sender_header_does_not_make_an_outsider_the_coordinator(seeded: Seeded) -> None:
    raw = raw_email(
        (
            f"From: <{ATTACKER}>",
            f"Sender: {COORDINATOR}",
            f"Return-Path: <{COORDINATOR}>",
            f"Resent-From: {COORDINATOR}",
            f"X-Original-From: {COORDINATOR}",
            f"X-Forwarded-For: {COORDINATOR}",
        ),
        auth=(ses_results("gmail.com"),),
        body=withdrawal_message(),
    )
    processed = assert_not_taken(seeded, raw)
    assert processed.outcome is Outcome.HELD  # the From's own: a family's, at best
    assert_held_as_a_familys(processed, [e for e in processed.emails if ATTACKER in e.to])


def test_reply_to_and_return_path_never_change_who_is_answered(seeded: Seeded) -> None:
    raw = raw_email(
        (
            f"Return-Path: <{ATTACKER}>",
            from_line(COORDINATOR),
            f"Reply-To: {ATTACKER}",
            f"Sender: {ATTACKER}",
            f"Errors-To: {ATTACKER}",
            f"Disposition-Notification-To: {ATTACKER}",
        ),
        body=withdrawal_message(),
    )
    processed = seeded.desk.receive(raw)
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons
    assert ATTACKER not in processed.recipients
    assert COORDINATOR in processed.recipients


# ----- a coordinator outside the allowed domains: its exact address is what lets it in -----
def test_control_the_council_coordinator_may_withdraw(seeded_council: Seeded) -> None:
    processed = seeded_council.desk.receive(genuine_withdrawal(COUNCIL_COORDINATOR))
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons


@pytest.mark.parametrize(
    "address",
    [
        "dsr.admin+tag@bromley.gov.uk",
        "dsr.admin@mail.bromley.gov.uk",
        "dsr.admin@bromley.gov.uk.evil.example",
        "dsr.admin2@bromley.gov.uk",
        "x.dsr.admin@bromley.gov.uk",
    ],
)
def test_near_misses_of_a_coordinator_address_are_not_it(
    seeded_council: Seeded, address: str
) -> None:
    raw = raw_email(
        (from_line(address),),
        auth=(ses_results(address.rsplit("@", 1)[1]),),
        body=withdrawal_message(),
    )
    assert_not_taken(seeded_council, raw, attacker=address)


@pytest.mark.parametrize(
    "written",
    [
        "From: Jo Adams <DSR.Admin@Bromley.GOV.UK>",
        "From:    Jo Adams    <dsr.admin@bromley.gov.uk>   ",
        "From: dsr.admin@bromley.gov.uk",
        'From: "Adams, Jo (Bromley Council)" <dsr.admin@bromley.gov.uk>',
        "From: =?utf-8?q?Jo_Ad=C3=A1ms?= <dsr.admin@bromley.gov.uk>",
        "From: Jo Adams\n <dsr.admin@bromley.gov.uk>",
    ],
)
def test_the_coordinator_written_the_ordinary_ways_is_the_coordinator(
    seeded_council: Seeded, written: str
) -> None:
    raw = raw_email((written,), auth=(ses_results("bromley.gov.uk"),), body=withdrawal_message())
    processed = seeded_council.desk.receive(raw)
    assert processed.outcome is Outcome.WITHDRAWN, processed.submission.reasons
    assert processed.recipients >= {COUNCIL_COORDINATOR}


def test_a_comment_inside_the_coordinator_address_is_never_a_crash(seeded_council: Seeded) -> None:
    """RFC 5322 says `dsr.admin(comment)@bromley.gov.uk` is the coordinator's mailbox; no
    mail client writes it. Either answer is safe (DMARC passed for the domain), a crash not."""
    raw = raw_email(
        ("From: dsr.admin(comment)@bromley.gov.uk",),
        auth=(ses_results("bromley.gov.uk"),),
        body=withdrawal_message(),
    )
    processed = seeded_council.desk.receive(raw)
    assert processed.outcome in (Outcome.WITHDRAWN, Outcome.QUARANTINED)


def test_a_referral_is_answered_to_the_from_address_only() -> None:
    from tests.hostile.builders import pair_message
    from tests.hostile.desk import Desk

    raw = raw_email(
        (
            f"Return-Path: <{ATTACKER}>",
            from_line("sam.patel@nhs.net", "Dr Sam Patel"),
            f"Reply-To: {ATTACKER}",
            f"Sender: {ATTACKER}",
        ),
        body=pair_message(),
    )
    processed = Desk().receive(raw)
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons
    assert "sam.patel@nhs.net" in processed.recipients
    assert ATTACKER not in processed.recipients
