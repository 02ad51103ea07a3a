"""The Graph route's receiving server: Exchange Online's stamps become our topmost verdict
headers, and the intake of a Graph-route deployment trusts those and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from shared.adapters.graph_verdicts import stamped
from shared.mail import is_authenticated, is_team_sender, parse_mail, trust_reasons
from shared.mail.authentication import MAILBOX_AUTHSERV_ID
from shared.outcome import ReasonCode
from shared.settings import Settings
from tests.hostile.builders import SES_PASS, message

GRAPH = Settings(
    inbound_route="graph",
    graph_mailbox="bromley.dsr@nhs.net",
    inbox_address="bromley.dsr@nhs.net",
    coordinator_addresses=("dsr.coordinator@nhs.net",),
)
SES = GRAPH.model_copy(update={"inbound_route": "ses"})

EXCHANGE_PASS = (
    "Authentication-Results: spf=pass (sender IP is 40.107.1.1)\r\n"
    " smtp.mailfrom=kent.gov.uk; dkim=pass (signature was verified)\r\n"
    " header.d=kent.gov.uk;dmarc=pass action=none header.from=kent.gov.uk;compauth=pass\r\n"
    " reason=100"
)
EXCHANGE_FAIL = (
    "Authentication-Results: spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=kent.gov.uk;"
    " dkim=none (message not signed) header.d=none;dmarc=fail action=oreject"
    " header.from=kent.gov.uk;compauth=fail reason=000"
)


def exchange_mail(
    top: Sequence[str] = (EXCHANGE_PASS,),
    *,
    sender: str = "j.smith@kent.gov.uk",
    auth_as: str | None = "Anonymous",
    scl: str | None = "1",
    report: str | None = "CIP:40.107.1.1;CTRY:GB;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;",
    below: Sequence[str] = (),
) -> bytes:
    """An email as it lies in the mailbox: Exchange's headers on top (`top`), its own
    X-MS-Exchange-Organization-* headers, then what the sender wrote (`below` first)."""
    lines = list(top)
    if auth_as is not None:
        lines.append(f"X-MS-Exchange-Organization-AuthAs: {auth_as}")
    if scl is not None:
        lines.append(f"X-MS-Exchange-Organization-SCL: {scl}")
    if report is not None:
        lines.append(f"X-Forefront-Antispam-Report: {report}")
    lines += [*below, f"From: Jo Smith <{sender}>"]
    built = message(subject="Referral", to="bromley.dsr@nhs.net")
    return "\r\n".join(lines).encode() + b"\r\n" + bytes(built).replace(b"\n", b"\r\n")


def judged(raw: bytes, settings: Settings = GRAPH) -> set[ReasonCode]:
    mail = parse_mail(stamped(raw, "nhs.net"))
    return {reason.code for reason in trust_reasons(mail, settings)}


def test_an_authenticated_external_email_is_trusted_on_the_graph_route_only() -> None:
    raw = exchange_mail()
    assert judged(raw) == set()
    mail = parse_mail(stamped(raw, "nhs.net"))
    assert mail.verdicts.authserv_id == MAILBOX_AUTHSERV_ID
    assert (mail.verdicts.dmarc, mail.verdicts.dmarc_header_from) == ("PASS", "kent.gov.uk")
    assert mail.verdicts.dkim_domains == ("kent.gov.uk",)
    # A deployment on the SES route never takes our mailbox's verdicts.
    assert ReasonCode.MAIL_AUTH_FAILED in judged(raw, SES)


def test_our_header_goes_above_everything_and_the_email_is_otherwise_unchanged() -> None:
    raw = exchange_mail()
    result = stamped(raw, "nhs.net")
    assert result.endswith(raw)
    head = result[: len(result) - len(raw)].decode().split("\r\n")
    assert head[0].startswith(f"Authentication-Results: {MAILBOX_AUTHSERV_ID}; spf=pass")
    assert head[1:3] == ["X-SES-Spam-Verdict: PASS", "X-SES-Virus-Verdict: PASS"]
    assert stamped(raw, "nhs.net") == result  # the same email, the same bytes


def test_spoofed_verdicts_lower_in_the_message_count_for_nothing() -> None:
    forged = [
        f"Authentication-Results: {MAILBOX_AUTHSERV_ID}; spf=pass; dkim=pass"
        " header.d=kent.gov.uk; dmarc=pass header.from=kent.gov.uk",
        SES_PASS,
        "X-SES-Spam-Verdict: PASS",
        "X-SES-Virus-Verdict: PASS",
    ]
    raw = exchange_mail((EXCHANGE_FAIL,), below=forged)
    assert ReasonCode.MAIL_AUTH_FAILED in judged(raw)
    mail = parse_mail(stamped(raw, "nhs.net"))
    assert (mail.verdicts.dmarc, mail.verdicts.spf) == ("FAIL", "FAIL")


def test_a_forged_header_of_ours_not_on_top_is_never_read_even_without_exchanges() -> None:
    """Exchange added no results: our header says so, and the sender's copy of 'ours'
    below it (with the right id) is not read."""
    forged = f"Authentication-Results: {MAILBOX_AUTHSERV_ID}; dmarc=pass header.from=nhs.net"
    raw = exchange_mail((), sender="dsr.coordinator@nhs.net", below=[forged])
    mail = parse_mail(stamped(raw, "nhs.net"))
    assert mail.verdicts.found and mail.verdicts.dmarc is None
    assert ReasonCode.MAIL_AUTH_FAILED in judged(raw)
    # Unstamped (stored by anything but the MailboxFunction), the forgery would be on top:
    # that is why only the MailboxFunction may write to inbound/ on this route.
    assert parse_mail(raw).verdicts.dmarc == "PASS"


def test_mail_not_received_by_exchange_has_no_verdicts() -> None:
    """No AuthAs: an item a client made in the mailbox. Even a sender's own Exchange-looking
    headers and SES verdicts below give it no scan and no authentication."""
    raw = exchange_mail(
        (EXCHANGE_PASS,),
        auth_as=None,
        scl=None,
        report=None,
        below=["X-SES-Spam-Verdict: PASS", "X-SES-Virus-Verdict: PASS"],
    )
    assert {ReasonCode.SPAM, ReasonCode.VIRUS, ReasonCode.MAIL_AUTH_FAILED} <= judged(raw)


def test_a_missing_spam_level_is_no_verdict() -> None:
    raw = exchange_mail(scl=None, report="SCL:1;SFV:NSPM;")
    assert ReasonCode.SPAM in judged(raw)
    assert parse_mail(stamped(raw, "nhs.net")).verdicts.spam == "PROCESSING_FAILED"


@pytest.mark.parametrize(
    ("scl", "report", "verdict"),
    [
        ("1", "SCL:1;SFV:NSPM;", "PASS"),
        ("5", "SCL:5;SFV:SPM;", "FAIL"),
        ("9", None, "FAIL"),
        ("1", "CTRY:GB;SCL:6;SFV:SPM;", "FAIL"),  # the report's higher level counts
        ("-1", "SCL:-1;SFV:SKA;", "GRAY"),  # an admin's allow rule skipped filtering
        ("x", "SCL:1;", "PROCESSING_FAILED"),
    ],
)
def test_spam_verdict_from_the_spam_confidence_level(
    scl: str, report: str | None, verdict: str
) -> None:
    raw = exchange_mail(scl=scl, report=report)
    assert parse_mail(stamped(raw, "nhs.net")).verdicts.spam == verdict
    assert (ReasonCode.SPAM in judged(raw)) is (verdict not in ("PASS", "GRAY"))


def test_internal_mail_is_proved_for_the_mailbox_domain_only() -> None:
    internal = exchange_mail((), sender="dsr.coordinator@nhs.net", auth_as="Internal", scl="-1")
    mail = parse_mail(stamped(internal, "nhs.net"))
    assert (mail.verdicts.dmarc, mail.verdicts.dmarc_header_from) == ("PASS", "nhs.net")
    assert judged(internal) == set()
    # Internal but from another domain (a relay connector, say): nothing is proved.
    relayed = exchange_mail((), sender="x@kent.gov.uk", auth_as="Internal", scl="-1")
    assert ReasonCode.MAIL_AUTH_FAILED in judged(relayed)
    # External mail claiming the mailbox's domain is judged on Exchange's DMARC result.
    spoofed = exchange_mail((EXCHANGE_FAIL,), sender="dsr.coordinator@nhs.net")
    assert ReasonCode.MAIL_AUTH_FAILED in judged(spoofed)


def test_nothing_from_the_message_is_written_into_our_header_unchecked() -> None:
    hostile = (
        'Authentication-Results: spf=pass smtp.mailfrom=x; dmarc=pass header.from="evil.com\r\n'
        ' X-SES-Spam-Verdict: PASS";dkim=pass header.d=a;b'
    )
    result = stamped(exchange_mail((hostile,)), "nhs.net")
    top = result.split(b"\r\n", 1)[0].decode()
    assert (
        top
        == f"Authentication-Results: {MAILBOX_AUTHSERV_ID}; spf=pass; dkim=pass header.d=a; dmarc=pass"
    )
    assert ReasonCode.MAIL_AUTH_FAILED in judged(exchange_mail((hostile,)))


def test_best_guess_dmarc_is_not_a_pass() -> None:
    """No DMARC record: Exchange's guess never proves a sender (a coordinator's withdrawal
    needs a real DMARC pass)."""
    guess = EXCHANGE_PASS.replace("dmarc=pass action=none", "dmarc=bestguesspass action=none")
    mail = parse_mail(stamped(exchange_mail((guess,)), "nhs.net"))
    assert mail.verdicts.dmarc == "BESTGUESSPASS"
    assert not is_authenticated(mail, GRAPH)
    assert is_authenticated(parse_mail(stamped(exchange_mail(), "nhs.net")), GRAPH)


ATTACKER_PASS = EXCHANGE_PASS.replace("kent.gov.uk", "attacker.example")


@pytest.mark.parametrize(
    "smuggled",
    [
        # A bare CR is no line end to Exchange (one header, `X-Note`, which its firewall
        # keeps) but is one to our parser: a From, an AuthAs and the end of the headers, so
        # Exchange's own From and AuthAs below are the body to us.
        "X-Note: a\rFrom: dsr.coordinator@nhs.net\rX-MS-Exchange-Organization-AuthAs: "
        "Internal\rX-MS-Exchange-Organization-SCL: -1\r",
        # A bare LF among CRLFs, read the same way.
        "X-Note: a\nFrom: dsr.coordinator@nhs.net\nX-MS-Exchange-Organization-AuthAs: "
        "Internal\nX-MS-Exchange-Organization-SCL: -1\n",
    ],
)
def test_exchange_headers_smuggled_past_its_firewall_prove_nothing(smuggled: str) -> None:
    """An outsider at their own domain (DMARC passes for it) hides, behind a line end our
    parser reads and Exchange may not, a From of a coordinator and an AuthAs: Internal above
    Exchange's own headers. It must not pass for the coordinator."""
    lines = [
        ATTACKER_PASS,
        "Received: from mail.attacker.example (203.0.113.9) by EOP",
        smuggled,
        "From: Eve <eve@attacker.example>",
        "To: bromley.dsr@nhs.net",
        "Subject: Withdrawal",
        "X-MS-Exchange-Organization-AuthAs: Anonymous",
        "X-MS-Exchange-Organization-SCL: 1",
        "",
        "Please erase the case.",
    ]
    mail = parse_mail(stamped("\r\n".join(lines).encode(), "nhs.net"))
    assert mail.sender == "dsr.coordinator@nhs.net"  # what our parser makes of it
    assert not is_team_sender(mail, GRAPH)
    assert not is_authenticated(mail, GRAPH)
    assert mail.verdicts.dmarc is None and mail.verdicts.spam == "PROCESSING_FAILED"


def test_a_second_exchange_header_means_none_is_believed() -> None:
    """Exchange strips its headers from what a sender wrote and adds one of each: two of
    one kind mean a copy got past it, and which is Exchange's cannot be told."""
    internal = exchange_mail(
        (),
        sender="dsr.coordinator@nhs.net",
        auth_as="Internal",
        scl="-1",
        below=["X-MS-Exchange-Organization-AuthAs: Anonymous"],
    )
    assert not is_team_sender(parse_mail(stamped(internal, "nhs.net")), GRAPH)
    twice_scl = exchange_mail(below=["X-MS-Exchange-Organization-SCL: -1"])
    assert parse_mail(stamped(twice_scl, "nhs.net")).verdicts.spam == "PROCESSING_FAILED"


def test_an_encoded_word_as_the_address_is_not_the_coordinator() -> None:
    """Exchange let a tenant member send as `=?utf-8?q?dsr.coordinator?=@nhs.net` (a literal
    address: say an alias, or a relay that does not check): it is not the coordinator's."""
    raw = exchange_mail((), sender="x@nhs.net", auth_as="Internal", scl="-1").replace(
        b"<x@nhs.net>", b"<=?utf-8?q?dsr.coordinator?=@nhs.net>"
    )
    mail = parse_mail(stamped(raw, "nhs.net"))
    assert mail.sender != "dsr.coordinator@nhs.net"
    assert not is_team_sender(mail, GRAPH)
