"""Who sent an email, read strictly, and what SES proved about it (RFC 8601)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.mail.addresses import SenderError, forwarded_sender, plain_address, sender_of
from shared.mail.authentication import MAX_AUTH_RESULTS_CHARS, read_verdicts

SES = "amazonses.com"


@pytest.mark.parametrize(
    "from_header",
    [
        "dsr.coordinator@nhs.net <someone@gmail.com>",  # unquoted display name
        "<dsr.coordinator>@gmail.com",
        "dsr.coordinator@nhs.net, someone@gmail.com",  # two mailboxes
        "=?utf-8?q?dsr.coordinator=40nhs.net?=",  # an encoded word only
        # An encoded word AS the local part or domain: servers (and DMARC) see the literal
        # `=?utf-8?q?dsr.coordinator?=@nhs.net`, a different mailbox; the parser decodes it.
        "=?utf-8?q?dsr.coordinator?=@nhs.net",
        "Jo <=?utf-8?q?dsr.coordinator?=@nhs.net>",
        '"dsr.coordinator@nhs.net" <=?utf-8?b?ZHNyLmNvb3JkaW5hdG9y?=@nhs.net>',
        "(dsr.coordinator@nhs.net) =?utf-8?q?dsr.coordinator?=@nhs.net",
        "dsr.coordinator@=?utf-8?q?nhs.net?=",
        "Team: dsr.coordinator@nhs.net;",  # group syntax
        "=?utf-8?q?Evil=0D=0ABcc=3A_x?= <sam.patel@nhs.net>",  # CR/LF in the display name
        '"dsr.coordinator@nhs.net"@gmail.com',  # a quoted local part
        "sam.patel@nhs..net",
        "sam.patel@" + "." * 200_000,
        "",
    ],
)
def test_a_from_header_that_is_not_one_plain_mailbox_is_refused(from_header: str) -> None:
    with pytest.raises(SenderError):
        sender_of([from_header])


def test_exactly_one_from_header() -> None:
    with pytest.raises(SenderError, match="2 From headers"):
        sender_of(["sam.patel@nhs.net", "dsr.coordinator@nhs.net"])
    with pytest.raises(SenderError, match="0 From headers"):
        sender_of([])


@pytest.mark.parametrize(
    ("from_header", "address"),
    [
        ("Sam Patel <Sam.Patel@NHS.net>", "sam.patel@nhs.net"),
        ('"Patel, Sam (BROMLEY CAMHS)" <sam.patel@nhs.net>', "sam.patel@nhs.net"),
        ("Dr. Sam Patel <sam.patel@nhs.net>", "sam.patel@nhs.net"),  # obsolete but common
        ("sam.patel@nhs.net", "sam.patel@nhs.net"),
        ('"Zoë Smith" <zoe.smith@nhs.net>', "zoe.smith@nhs.net"),  # RFC 6532 UTF-8
        ('"Zo\udcc3\udcab Smith" <zoe.smith@nhs.net>', "zoe.smith@nhs.net"),  # raw bytes
        ('"=?UTF-8?Q?Zo=C3=AB_Smith?=" <zoe.smith@nhs.net>', "zoe.smith@nhs.net"),  # Outlook
    ],
)
def test_ordinary_senders_are_read(from_header: str, address: str) -> None:
    assert sender_of([from_header]) == address


def test_an_inline_forward_line_gives_its_address_or_nothing() -> None:
    assert forwarded_sender("Patel, Sam (BROMLEY CAMHS) <sam.patel@nhs.net>") == "sam.patel@nhs.net"
    assert forwarded_sender("Sam Patel [mailto:sam.patel@nhs.net]") == "sam.patel@nhs.net"
    assert forwarded_sender("sam.patel@nhs.net") == "sam.patel@nhs.net"
    assert forwarded_sender("Sam Patel") is None
    assert forwarded_sender("x" * 200_000 + " <sam.patel@nhs.net>") is None  # too long to trust
    assert plain_address("a@b") is None and plain_address("ä@nhs.net") is None


def test_the_verdict_is_read_at_the_start_of_each_clause_only() -> None:
    verdicts = read_verdicts(
        f'{SES}; spf=pass smtp.mailfrom="dmarc=pass"@evil.example; dkim=none; '
        "dmarc=fail header.from=nhs.net",
        "PASS",
        "PASS",
    )
    assert verdicts.found and verdicts.dmarc == "FAIL" and verdicts.spf == "PASS"
    commented = read_verdicts(f"{SES}; dmarc=fail (dmarc=pass) header.from=nhs.net", None, None)
    assert commented.dmarc == "FAIL"


def test_only_ses_own_header_is_read() -> None:
    assert not read_verdicts("evil.example; dmarc=pass header.from=nhs.net", None, None).found
    assert not read_verdicts(None, None, None).found
    too_long = f"{SES}; dmarc=pass header.from=nhs.net; " + "x" * MAX_AUTH_RESULTS_CHARS
    assert not read_verdicts(too_long, None, None).found


def test_dmarc_header_from_and_dkim_signers_are_read() -> None:
    verdicts = read_verdicts(
        f"{SES} 1; spf=pass (spfCheck: permitted) client-ip=192.0.2.1; "
        "dkim=fail header.d=other.example; dkim=pass header.i=@NHS.net; "
        'dmarc=pass (p=REJECT) header.from="nhs.net"',
        None,
        None,
    )
    assert verdicts.dkim == "PASS" and verdicts.dkim_domains == ("nhs.net",)
    assert verdicts.dmarc == "PASS" and verdicts.dmarc_header_from == "nhs.net"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_the_authentication_results_reader_never_raises(value: str) -> None:
    for header in (value, f"{SES};{value}", f"{SES}; dmarc={value}"):
        verdicts = read_verdicts(header, value, value)
        assert verdicts.dmarc is None or verdicts.dmarc.isalpha()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_sender_reader_gives_an_address_or_a_sender_error(value: str) -> None:
    try:
        address = sender_of([value])
    except SenderError:
        return
    assert address == plain_address(address)
