"""Property tests: fuzzed MIME headers (From, Message-ID, Subject with encoded words, the
body's Content-Type and charset, Authentication-Results) through the whole intake. Always an
outcome, never an exception; and with SES's DMARC pass only for the attacker's own domain, or
no DMARC pass at all, no From header whatsoever gets a withdrawal taken.

Runs are deterministic (the same examples each time) unless HOSTILE_FUZZ_RANDOM is set;
HOSTILE_FUZZ_EXAMPLES sets how many examples each property tries.
"""

from __future__ import annotations

import base64
import copy
import os
import quopri

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.outcome import Outcome
from tests.hostile.builders import (
    ATTACKER,
    COORDINATOR,
    from_line,
    message,
    raw_email,
    ses_results,
    typed_consent,
    typed_referral,
    typed_withdrawal,
)
from tests.hostile.conftest import Seeded
from tests.hostile.desk import Desk

EXAMPLES = int(os.environ.get("HOSTILE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the working tree
    derandomize="HOSTILE_FUZZ_RANDOM" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
TYPED_PAIR = typed_referral() + "\n" + typed_consent()

# Text an attacker writes into headers: the characters that mean something to a parser,
# letters, digits, and a few that do not fit in ASCII or in Unicode at all.
SPECIALS = '<>@",;:()[]\\.=?_ \t\r\n'
header_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(SPECIALS)),
        st.characters(min_codepoint=0x21, max_codepoint=0x7E),
        st.sampled_from(
            ["\u00e9", "\u0455", "\u2028", "\x00", "\ufeff", "\uff20", "\ud83d", "\u0669"]
        ),
    ),
    max_size=60,
)
pieces = st.sampled_from(
    [COORDINATOR, ATTACKER, "dsr.coordinator", "nhs.net", "@", "<", ">", '"', ",", ";", ":",
     "(", ")", "=?utf-8?q?", "?=", "Jo Adams", " ", "\r\n ", "\n"]
)  # fmt: skip


@st.composite
def encoded_word(draw: st.DrawFn) -> str:
    text = draw(header_text).encode("utf-8", "surrogatepass")
    charset = draw(st.sampled_from(["utf-8", "UTF-8", "iso-8859-1", "x-unknown", "utf-7", ""]))
    if draw(st.booleans()):
        return f"=?{charset}?b?{base64.b64encode(text).decode()}?="
    return f"=?{charset}?q?{quopri.encodestring(text, header=True).decode()}?="


def _line_safe(value: str) -> str:
    """A header value on one line: a bare CR or LF would end the header (folding is kept)."""
    return (
        value.replace("\r\n ", "\x01")
        .replace("\r", " ")
        .replace("\n", " ")
        .replace("\x01", "\r\n ")
    )


header_value = st.one_of(
    header_text,
    encoded_word(),
    st.lists(st.one_of(pieces, encoded_word(), header_text), max_size=8).map("".join),
).map(_line_safe)

auth_clause = st.one_of(
    st.builds(
        "{}={}{}".format,
        st.sampled_from(["spf", "dkim", "dmarc", "DMARC", "arc", "x"]),
        st.sampled_from(["pass", "fail", "none", "softfail", "temperror", "permerror", "PASS", ""]),
        st.one_of(
            st.just(""),
            st.builds(" header.from={}".format, st.sampled_from(["nhs.net", "evil.example", ""])),
            st.builds(' smtp.mailfrom="{}"@evil.example'.format, header_text.map(_line_safe)),
        ),
    ),
    header_text.map(_line_safe),
)
auth_header = st.builds(
    "Authentication-Results: {}; {}".format,
    st.sampled_from(["amazonses.com", "evil.example", "", "amazonses.com.evil.example"]),
    st.lists(auth_clause, max_size=5).map("; ".join),
)
content_type = st.one_of(
    st.builds(
        "Content-Type: text/plain; charset={}".format,
        st.one_of(
            st.sampled_from(["utf-8", "utf-7", "utf-16", "x-unknown-999", '"', "''", "utf-8''"]),
            header_text.map(_line_safe),
        ),
    ),
    st.builds("Content-Type: {}".format, header_value),
)


def _email(
    from_value: str,
    message_id: str,
    subject: str,
    ctype: str,
    auth: list[str],
    body: str,
) -> bytes:
    head = (
        f"Subject: {subject}\nMessage-ID: {message_id}\nTo: bromley.dsr@nhs.net\n"
        f"MIME-Version: 1.0\n{ctype}\n\n"
    )
    return raw_email(
        (f"From: {from_value}",),
        auth=auth,
        body=(head.encode("utf-8", "surrogatepass") + body.encode("utf-8", "surrogatepass")),
    )


@FUZZ
@given(
    from_value=header_value,
    message_id=header_value,
    subject=header_value,
    ctype=content_type,
    auth=st.lists(auth_header, max_size=3),
)
def test_fuzzed_headers_always_reach_an_outcome(
    from_value: str, message_id: str, subject: str, ctype: str, auth: list[str]
) -> None:
    Desk().receive(_email(from_value, message_id, subject, ctype, auth, TYPED_PAIR))


@FUZZ
@given(from_value=header_value, subject=header_value, message_id=header_value)
def test_no_from_header_gets_a_withdrawal_taken_on_the_attackers_dmarc_pass(
    _seeded_once: Seeded, from_value: str, subject: str, message_id: str
) -> None:
    """SES's DMARC passed for the attacker's own domain only (the attacker controls it):
    whatever the From says, it is never the coordinator's authenticated email."""
    seeded = copy.deepcopy(_seeded_once)
    auth = [ses_results("evil.example")]
    raw = _email(from_value, message_id, subject, "Content-Type: text/plain", auth,
                 typed_withdrawal())  # fmt: skip
    processed = seeded.desk.receive(raw)
    assert processed.outcome is not Outcome.WITHDRAWN
    assert not processed.erases
    assert seeded.person_case_id() == seeded.case_id


@FUZZ
@given(
    spf=st.sampled_from(["pass", "fail", "none", "softfail"]),
    dkim=st.sampled_from(["pass", "fail", "none"]),
    dmarc=st.sampled_from(["fail", "none", "temperror", "permerror", "quarantine", None]),
    mailfrom=header_text.map(_line_safe),
    lower=st.lists(auth_header, max_size=3),
    display=header_value,
)
def test_a_withdrawal_without_ses_dmarc_pass_is_never_taken(
    _seeded_once: Seeded,
    spf: str,
    dkim: str,
    dmarc: str | None,
    mailfrom: str,
    lower: list[str],
    display: str,
) -> None:
    """SES's own verdict is anything but a DMARC pass; the attacker writes the MAIL FROM
    (quoted into SES's header), the display name and any lower Authentication-Results."""
    seeded = copy.deepcopy(_seeded_once)
    top = ses_results(spf=spf, dkim=dkim, dmarc=dmarc, mailfrom=f'"{mailfrom}"@evil.example')
    from_value = from_line(COORDINATOR, display.replace("<", "").replace(">", "")).removeprefix(
        "From: "
    )
    raw = _email(from_value, "<fuzz@nhs.net>", "DSR", "Content-Type: text/plain", [top, *lower],
                 typed_withdrawal())  # fmt: skip
    processed = seeded.desk.receive(raw)
    # Quarantined, or held for a coordinator's confirmation: never taken.
    assert processed.outcome in (Outcome.QUARANTINED, Outcome.HELD)
    assert not processed.erases
    assert seeded.person_case_id() == seeded.case_id


@FUZZ
@given(subject=header_value, reply_to=header_value)
def test_a_fuzzed_subject_or_reply_to_never_reaches_our_headers(
    subject: str, reply_to: str
) -> None:
    raw = raw_email(
        (from_line("sam.patel@nhs.net"), f"Reply-To: {reply_to}"),
        body=message(subject="DSR", body=TYPED_PAIR),
    ).replace(b"Subject: DSR", b"Subject: " + subject.encode("utf-8", "surrogatepass"), 1)
    processed = Desk().receive(raw)
    # Desk.receive checks no CR/LF reaches a subject or recipient; the answers go to From.
    assert processed.recipients <= {"sam.patel@nhs.net", COORDINATOR}
