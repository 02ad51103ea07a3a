"""The Graph route's receiving server: what Exchange Online found about an email, stamped
on top of it in the form the intake reads, before it is stored.

Mail read from the shared mailbox has no SES headers, and every header below the top may
have come with the message. So the MailboxFunction is this route's receiving server, as SES
is for the other: it reads only what Exchange Online itself stamped, and PREPENDS

    Authentication-Results: mailbox.dsr-intake.invalid; spf=..; dkim=..; dmarc=.. header.from=..
    X-SES-Spam-Verdict: PASS | GRAY | FAIL | PROCESSING_FAILED
    X-SES-Virus-Verdict: PASS | PROCESSING_FAILED

above everything (the names the intake reads). The intake of a Graph-route stack trusts the
topmost header only, and only with this authserv-id (shared.mail.trust): a copy lower down,
or SES's id, counts for nothing.

What Exchange stamps, and why it can be believed (Microsoft's documentation):
- `X-MS-Exchange-Organization-*` headers are Exchange's own. Its header firewall removes
  them from messages that enter the organisation from untrusted sources ("Header firewall",
  Exchange Server docs, learn.microsoft.com/previous-versions/.../bb232136), and the MIME
  conversion Graph's `/messages/{id}/$value` uses writes the message's spam confidence level
  as `X-MS-Exchange-Organization-SCL` ([MS-OXCMAIL] 2.1.3.2.24). Which we require: a message
  without `X-MS-Exchange-Organization-AuthAs` did not come through Exchange's transport (an
  item made in the mailbox by a client) and gets no verdicts at all.
- `X-MS-Exchange-Organization-AuthAs: Internal`: the sender signed in to the tenant; Exchange
  lets a mailbox send only as itself or an address it was granted. Such mail carries no
  useful DMARC result, so DMARC is taken as passed for the From domain when that is the
  shared mailbox's own domain (NHSmail: nhs.net), and as not evaluated otherwise.
- Any other AuthAs (Anonymous, Partner): the topmost `Authentication-Results`, which Exchange
  Online Protection adds to every inbound message ("Anti-spam message headers in Microsoft
  365", learn.microsoft.com/defender-office-365/message-headers-eop-mdo). Microsoft's format
  has no authserv-id: `spf=pass (sender IP is ...) smtp.mailfrom=contoso.com; dkim=pass
  (signature was verified) header.d=contoso.com;dmarc=pass action=none
  header.from=contoso.com;compauth=pass reason=100`. `dmarc=bestguesspass` (no DMARC record)
  is not a pass. A topmost header WITH an authserv-id (a copy of ours, SES's) is not
  Exchange's and is not read. ASSUMPTION: EOP adds its header to every message it receives
  from outside the tenant (the documentation says it does); were one ever missing, a
  sender's own header in Microsoft's format would be the topmost.
- Spam: the spam confidence level, from `X-MS-Exchange-Organization-SCL` and the `SCL:` of
  the topmost `X-Forefront-Antispam-Report`; the higher counts. 5 and above is spam (FAIL),
  0-4 PASS, -1 (filtering skipped by an admin's allow rule, or internal mail) GRAY. No SCL:
  no verdict.
- Virus: Exchange Online Protection does not deliver malware: a message with malware is
  quarantined, never put in a mailbox ("Anti-malware protection in EOP"; admins cannot
  choose delivery). ASSUMPTION: so mail that came through Exchange's transport passed its
  malware scan (PASS). If the tenant's policies ever deliver malware, this must change.
- Only where Exchange and our parser must agree on the lines: the header block's lines all
  end alike (CRLF, or LF alone), and each of Exchange's headers is there once. A bare CR or
  LF is a line end to Python's parser and perhaps not to Exchange's, so a sender could hide
  a From and an AuthAs from its firewall; a second AuthAs or SCL got past it. Either way
  nothing is vouched for (no results, no scan).
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from shared.mail.addresses import header_values
from shared.mail.authentication import MAILBOX_AUTHSERV_ID, read_methods
from shared.settings import domain_of

_NO_SCAN = "PROCESSING_FAILED"  # SES's word for a scan that did not happen: not a pass
SPAM_SCL = 5  # Microsoft: 5-6 spam, 7-9 high confidence spam
_SCL = re.compile(r"(?:^|;)\s*SCL:\s*(-?\d+)\s*(?:;|$)", re.IGNORECASE)
_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")
_LEVEL = re.compile(r"-?\d{1,2}")
_RESULT = re.compile(r"[A-Z]{1,20}")
_ADDRESS = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>\s*$|^\s*([^<>\s]+@[^<>\s]+)\s*$")


_EXCHANGE_HEADERS = ("X-MS-Exchange-Organization-AuthAs", "X-MS-Exchange-Organization-SCL")


def _header_bytes(raw: bytes) -> bytes:
    end = min(
        (found for found in (raw.find(b"\n\n"), raw.find(b"\r\n\r\n")) if found >= 0),
        default=len(raw),
    )
    return raw[:end]


def _header_block(raw: bytes) -> Message:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(_header_bytes(raw) + b"\r\n\r\n")


def _ambiguity(block: bytes, message: Message) -> str | None:
    """Why Exchange's headers cannot be told from the sender's (see the module's note), or
    None."""
    lone = block.replace(b"\r\n", b"")
    if b"\r" in lone or (b"\n" in lone and len(lone) < len(block)):
        return "header lines end ambiguously"
    if any(len(header_values(message, name)) > 1 for name in _EXCHANGE_HEADERS):
        return "an Exchange header is there twice"
    return None


def _first(message: Message, name: str) -> str | None:
    values = header_values(message, name)
    return " ".join(values[0].split()) if values else None


def _safe_domain(value: str | None) -> str | None:
    """A domain fit to write into our header (no spaces, quotes, semicolons or line breaks)."""
    domain = (value or "").strip().lower()
    return domain if _DOMAIN.fullmatch(domain) else None


def _from_domain(message: Message) -> str | None:
    """The domain of the one From address, or None (several, none, or unreadable)."""
    values = header_values(message, "From")
    if len(values) != 1:
        return None
    match = _ADDRESS.search(values[0])
    address = (match.group(1) or match.group(2)) if match else ""
    return _safe_domain(domain_of(address))


def spam_verdict(message: Message) -> str:
    """From the spam confidence level Exchange stamped (header-firewalled, so required); the
    report's SCL can only make it worse, never better."""
    organization = _first(message, "X-MS-Exchange-Organization-SCL") or ""
    if not _LEVEL.fullmatch(organization):
        return _NO_SCAN
    levels = [int(organization)]
    for report in header_values(message, "X-Forefront-Antispam-Report")[:1]:
        found = _SCL.search(report)
        if found:
            levels.append(int(found.group(1)))
    level = max(levels)
    if level >= SPAM_SCL:
        return "FAIL"
    return "GRAY" if level < 0 else "PASS"


def authentication_results(message: Message, mailbox_domain: str) -> str:
    """Our Authentication-Results value: what Exchange found, in RFC 8601 form."""
    auth_as = (_first(message, "X-MS-Exchange-Organization-AuthAs") or "").lower()
    from_domain = _from_domain(message)
    if not auth_as:
        return f"{MAILBOX_AUTHSERV_ID}; none (not received by Exchange Online)"
    if auth_as == "internal":
        if from_domain and from_domain == mailbox_domain.lower():
            return (
                f"{MAILBOX_AUTHSERV_ID}; dmarc=pass (internal: signed in to the tenant) "
                f"header.from={from_domain}"
            )
        return f"{MAILBOX_AUTHSERV_ID}; none (internal, from another domain)"
    exchange = _first(message, "Authentication-Results")
    if exchange is None:
        return f"{MAILBOX_AUTHSERV_ID}; none (Exchange added no results)"
    found = read_methods(exchange)
    clauses = []
    if found.spf and _RESULT.fullmatch(found.spf):
        clauses.append(f"spf={found.spf.lower()}")
    if found.dkim and _RESULT.fullmatch(found.dkim):
        signers = [d for d in map(_safe_domain, found.dkim_domains) if d]
        clauses.append(
            f"dkim={found.dkim.lower()}" + (f" header.d={signers[0]}" if signers else "")
        )
        clauses += [f"dkim=pass header.d={signer}" for signer in signers[1:]]
    if found.dmarc and _RESULT.fullmatch(found.dmarc):
        evaluated = _safe_domain(found.dmarc_header_from)
        clauses.append(
            f"dmarc={found.dmarc.lower()}" + (f" header.from={evaluated}" if evaluated else "")
        )
    return f"{MAILBOX_AUTHSERV_ID}; " + ("; ".join(clauses) if clauses else "none")


def stamped(raw: bytes, mailbox_domain: str) -> bytes:
    """The email with our verdict headers above everything it carries. The same email gives
    the same bytes, so storing it again after a crash overwrites it with itself."""
    message = _header_block(raw)
    ambiguity = _ambiguity(_header_bytes(raw), message)
    received_by_exchange = (
        ambiguity is None and _first(message, "X-MS-Exchange-Organization-AuthAs") is not None
    )
    results = (
        f"{MAILBOX_AUTHSERV_ID}; none ({ambiguity})"
        if ambiguity
        else authentication_results(message, mailbox_domain)
    )
    headers = [
        ("Authentication-Results", results),
        ("X-SES-Spam-Verdict", spam_verdict(message) if received_by_exchange else _NO_SCAN),
        ("X-SES-Virus-Verdict", "PASS" if received_by_exchange else _NO_SCAN),
    ]
    newline = b"\r\n" if b"\r\n" in raw[:4096] else b"\n"
    block = b"".join(f"{name}: {value}".encode("ascii") + newline for name, value in headers)
    return block + raw
