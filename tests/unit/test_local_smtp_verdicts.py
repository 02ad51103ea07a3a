"""What `dsr-intake serve`'s SMTP inbox says of a local submission, read by the real trust code."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default

from infrastructure.local_smtp import EICAR, GTUBE, verdict_headers
from infrastructure.samples import email
from shared.mail.authentication import SES_AUTHSERV_ID, MailVerdicts, read_verdicts


def _read(raw: bytes, envelope_sender: str) -> MailVerdicts:
    stamped = message_from_bytes(verdict_headers(raw, envelope_sender) + raw, policy=default)
    # The topmost Authentication-Results is the inbox's own (the one the trust code reads).
    return read_verdicts(
        str((stamped.get_all("Authentication-Results") or [""])[0]),
        str(stamped["X-SES-Spam-Verdict"]),
        str(stamped["X-SES-Virus-Verdict"]),
    )


def _plain(sender: str, body: str = "hello") -> bytes:
    return (
        f"From: Someone <{sender}>\r\nTo: bromley.dsr@nhs.net\r\nSubject: hi\r\n\r\n{body}\r\n"
    ).encode()


def test_the_from_domain_passes_only_when_the_envelope_sender_is_the_from_address() -> None:
    verdicts = _read(_plain("sam.patel@nhs.net"), "Sam.Patel@nhs.net")
    assert verdicts.found and verdicts.authserv_id == SES_AUTHSERV_ID
    assert (verdicts.spf, verdicts.dkim, verdicts.dmarc) == ("PASS", "PASS", "PASS")
    assert verdicts.dmarc_header_from == "nhs.net"
    assert (verdicts.spam, verdicts.virus) == ("PASS", "PASS")


def test_another_envelope_sender_fails_spf_and_dmarc_and_has_no_dkim() -> None:
    verdicts = _read(_plain("dsr.coordinator@nhs.net"), "someone@example.com")
    assert verdicts.spf == "FAIL" and verdicts.dmarc == "FAIL"
    assert verdicts.dkim != "PASS" and not verdicts.dkim_domains


def test_a_forged_authentication_results_below_the_inbox_s_own_is_not_read() -> None:
    forged = (
        f"Authentication-Results: {SES_AUTHSERV_ID}; spf=pass smtp.mailfrom=nhs.net; "
        "dkim=pass header.i=@nhs.net; dmarc=pass header.from=nhs.net\r\n"
    ).encode() + _plain("dsr.coordinator@nhs.net")
    assert _read(forged, "attacker@example.com").dmarc == "FAIL"


def test_the_standard_test_strings_earn_spam_and_virus_failures() -> None:
    assert _read(_plain("a@nhs.net", GTUBE.decode()), "a@nhs.net").spam == "FAIL"
    attached = email(("eicar.com", EICAR, "application/octet-stream"), sender="a@nhs.net")
    virus = _read(attached, "a@nhs.net")
    assert virus.virus == "FAIL" and virus.spam == "PASS"
