"""What the receiving server says about an email's authenticity, read per RFC 8601.

Only the topmost `Authentication-Results` header counts, and only when its authserv-id is a
receiving server's: SES's, or the MailboxFunction's for mail read from Microsoft 365. Each
adds its header above every other, so any lower one came with the message and may be
forged; which of the two a deployment trusts is its inbound route's (shared.mail.trust). In
it, each `;`-separated clause starts with `method=result`; anything else (a `smtp.mailfrom`
that contains the text `dmarc=pass`, a comment) is never a verdict.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

SES_AUTHSERV_ID = "amazonses.com"
# The MailboxFunction's own id: it receives for the Graph route as SES does for the other.
MAILBOX_AUTHSERV_ID = "mailbox.dsr-intake.invalid"
RECEIVING_AUTHSERV_IDS = (SES_AUTHSERV_ID, MAILBOX_AUTHSERV_ID)
# SES's own header is a few hundred characters; a longer one is not SES's to read.
MAX_AUTH_RESULTS_CHARS = 4096

_METHOD = re.compile(r"([A-Za-z0-9_-]+)(?:\s*/\s*[0-9]+)?\s*=\s*([A-Za-z]+)")
_PROPERTY = re.compile(r'([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]*)')


class MailVerdicts(BaseModel):
    """SES's verdicts: each `PASS`, `FAIL`, `NONE`, ... or None when not given."""

    model_config = ConfigDict(frozen=True)

    found: bool = False  # a receiving server's Authentication-Results was there and read
    authserv_id: str | None = None  # whose it was (SES_AUTHSERV_ID or MAILBOX_AUTHSERV_ID)
    spam: str | None = None
    virus: str | None = None
    spf: str | None = None
    dkim: str | None = None  # PASS when any signature passed
    dmarc: str | None = None
    dmarc_header_from: str | None = None  # the domain DMARC evaluated
    dkim_domains: tuple[str, ...] = ()  # the signing domains (header.d / header.i) that passed


def _without_comments(text: str) -> list[str]:
    """The header's clauses (split at `;`), comments removed, quoted strings kept: one pass."""
    clauses: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
            if depth == 0:
                current.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                current.append(char)
        elif quoted:
            current.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth:
            continue
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == ";":
            clauses.append("".join(current))
            current = []
        else:
            current.append(char)
    clauses.append("".join(current))
    return clauses


def _domain(value: str) -> str:
    value = value.strip('"').strip().lower()
    return value.rsplit("@", 1)[-1]


def read_verdicts(results: str | None, spam: str | None, virus: str | None) -> MailVerdicts:
    """The verdicts of the topmost `Authentication-Results` (`results`) and the spam and virus
    headers. `found` is False when `results` is missing, too long, or no receiving server's."""
    spam_verdict = spam.strip().upper() if spam else None
    virus_verdict = virus.strip().upper() if virus else None
    if not results or len(results) > MAX_AUTH_RESULTS_CHARS:
        return MailVerdicts(spam=spam_verdict, virus=virus_verdict)
    authserv, *clauses = _without_comments(" ".join(results.split()))
    authserv_words = authserv.split()
    authserv_id = authserv_words[0].lower() if authserv_words else ""
    if authserv_id not in RECEIVING_AUTHSERV_IDS:
        return MailVerdicts(spam=spam_verdict, virus=virus_verdict)
    return MailVerdicts(
        found=True,
        authserv_id=authserv_id,
        spam=spam_verdict,
        virus=virus_verdict,
        **_method_results(clauses),
    )


def read_methods(results: str) -> MailVerdicts:
    """The method results of a header WITHOUT an authserv-id, as Exchange Online writes it
    (`spf=pass (sender IP is ...) smtp.mailfrom=...; dkim=...; dmarc=... header.from=...`).
    Only for the MailboxFunction, which knows which header is Exchange's; `found` stays False."""
    if len(results) > MAX_AUTH_RESULTS_CHARS:
        return MailVerdicts()
    clauses = _without_comments(" ".join(results.split()))
    if _METHOD.match(clauses[0].strip()) is None:
        # An authserv-id first (SES's, ours, another server's): not Exchange's header.
        return MailVerdicts()
    return MailVerdicts(**_method_results(clauses))


def _method_results(clauses: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    dkim_results: list[str] = []
    dkim_domains: list[str] = []
    for clause in clauses:
        method = _METHOD.match(clause.strip())
        if method is None:
            continue  # `none` (no results), or text that is not a method's result
        name, result = method.group(1).lower(), method.group(2).upper()
        properties = {
            f"{ptype.lower()}.{prop.lower()}": value
            for ptype, prop, value in _PROPERTY.findall(clause.strip()[method.end() :])
        }
        if name == "dkim":
            dkim_results.append(result)
            signer = properties.get("header.d") or properties.get("header.i")
            if result == "PASS" and signer:
                dkim_domains.append(_domain(signer))
        elif name in ("spf", "dmarc") and name not in found:
            found[name] = result
            if name == "dmarc" and "header.from" in properties:
                found["dmarc_header_from"] = _domain(properties["header.from"])
    if dkim_results:
        found["dkim"] = "PASS" if "PASS" in dkim_results else dkim_results[0]
    found["dkim_domains"] = tuple(dkim_domains)
    return found
