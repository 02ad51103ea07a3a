"""The SMTP inbox of `dsr-intake serve`: mail from any client, stored as SES would store it.

SES receives for the inbox, checks the message and writes it to the mail bucket with its
verdicts on top (an `Authentication-Results` under its authserv-id, the spam and virus
verdicts). A local submission proves nothing: no DNS, no DKIM key, no SPF record. So this
inbox stamps what it can honestly say, under SES's own authserv-id so that the intake's
unchanged trust code reads it (shared.mail.authentication):

- SPF, DKIM and DMARC pass for the From domain only when the SMTP envelope sender (MAIL
  FROM) is the From address itself; otherwise SPF fails for the envelope's domain, there is
  no DKIM, and DMARC fails: the intake quarantines it, as it would a spoof.
- spam and virus are PASS, except for the standard test strings (GTUBE, EICAR), which FAIL,
  so a person can try those paths.

Like SES it adds its header above whatever the message carries and removes nothing: a
forged `Authentication-Results` lower down is the trust code's to ignore. Anyone who can
reach 127.0.0.1 can send as anyone this way - it is a local try-out, bound to loopback only.
Mail over SES's 40 MB limit, or to any other address, is refused with an SMTP error.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from shared.mail.authentication import SES_AUTHSERV_ID

# SES's receiving limit, headers included.
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower() if "@" in address else ""


def _contains(raw: bytes, needle: bytes) -> bool:
    """The test string in the message or in any decoded part of it."""
    if needle in raw:
        return True
    parsed = message_from_bytes(raw, policy=default)
    for part in parsed.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and needle in payload:
            return True
    return False


def verdict_headers(raw: bytes, envelope_sender: str) -> bytes:
    """The header lines this inbox puts on top of `raw` (see the module's docstring)."""
    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    senders = getaddresses([str(value) for value in parsed.get_all("From", [])])
    from_address = senders[0][1].lower() if len(senders) == 1 else ""
    from_domain = _domain(from_address)
    envelope = envelope_sender.strip().lower()
    if from_address and envelope == from_address:
        results = (
            f"spf=pass (local submission: the envelope sender is the From address) "
            f"smtp.mailfrom={from_domain}; dkim=pass header.i=@{from_domain}; "
            f"dmarc=pass header.from={from_domain}"
        )
    else:
        results = (
            f"spf=fail (local submission: the envelope sender is not the From address) "
            f"smtp.mailfrom={_domain(envelope) or 'unknown'}; dkim=none; "
            f"dmarc=fail header.from={from_domain or 'unknown'}"
        )
    spam = "FAIL" if _contains(raw, GTUBE) else "PASS"
    virus = "FAIL" if _contains(raw, EICAR) else "PASS"
    return (
        f"Authentication-Results: {SES_AUTHSERV_ID}; {results}\r\n"
        f"X-SES-Spam-Verdict: {spam}\r\n"
        f"X-SES-Virus-Verdict: {virus}\r\n"
    ).encode("ascii")


class _Inbox:
    """aiosmtpd's handler: takes mail for `addresses` only and hands it to `deliver`."""

    def __init__(self, addresses: set[str], deliver: Callable[[bytes], None]) -> None:
        self.addresses = {address.lower() for address in addresses}
        self.deliver = deliver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, _: list[str]
    ) -> str:
        if address.lower() not in self.addresses:
            return (
                f"550 5.1.1 <{address}>: no such mailbox here; this inbox takes mail for "
                f"{', '.join(sorted(self.addresses))} only"
            )
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > MAX_MESSAGE_BYTES:  # aiosmtpd also refuses it while reading
            return "552 5.3.4 message larger than 40 MB (SES's limit): refused"
        try:
            stamped = verdict_headers(raw, envelope.mail_from or "") + raw
        except Exception:  # a message the parser cannot read at all: refused, not lost
            return "554 5.6.0 the message could not be read as MIME: refused"
        self.deliver(stamped)
        return f"250 2.0.0 Ok: queued as {uuid.uuid4().hex}"


class _LoopbackController(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (any free port)."""

    def _trigger_server(self) -> None:
        server: Any = self.server
        if server is not None and not self.port:
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpInbox:
    """An SMTP server on 127.0.0.1:`port` (0: any free one) that takes mail for `addresses`."""

    def __init__(self, addresses: set[str], deliver: Callable[[bytes], None], port: int) -> None:
        self.controller: Any = _LoopbackController(
            _Inbox(addresses, deliver),
            hostname="127.0.0.1",
            port=port,
            data_size_limit=MAX_MESSAGE_BYTES,
            server_hostname="dsr-intake.local",
        )

    @property
    def port(self) -> int:
        port: int = self.controller.port
        return port

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
