"""A delivery status notification (RFC 3464: `multipart/report; report-type=delivery-status`)
read for what it says about the email it reports on: which recipients failed, and that
email's own headers - its From, its Message-ID and the two headers our Graph mailer adds
(`X-DSR-Purpose`, `X-DSR-Case`: no personal data), which Exchange Online's non-delivery
reports return in a `message/rfc822` or `text/rfc822-headers` part.

Only read, never believed here: anyone can write a report. Whether one is acted on is
shared.mail.trust's `vouched_bounce`; acting on it never changes a case.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from pydantic import BaseModel, ConfigDict

from shared.mail.addresses import header_values, plain_address

PURPOSE_HEADER = "X-DSR-Purpose"
CASE_HEADER = "X-DSR-Case"
MAX_REPORT_PARTS = 10  # a report has three; more are not looked at
MAX_FAILED_RECIPIENTS = 20
MAX_ORIGINAL_HEADER_BYTES = 64 * 1024
_CASE = re.compile(r"DSR-[A-HJ-NP-Z2-9]{8}")
_PURPOSE = re.compile(r"[a-z_]{1,40}")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")
_ANGLE_ADDRESS = re.compile(r"<([^<>\s]{1,254})>\s*$")


class DeliveryReport(BaseModel):
    """What a delivery status notification says, each value checked for its form."""

    model_config = ConfigDict(frozen=True)

    failed_recipients: tuple[str, ...] = ()  # Action: failed (a delay is not a bounce)
    original_from: str = ""  # the reported email's one From address ("" unknown)
    original_message_id: str | None = None
    original_purpose: str | None = None
    original_case: str | None = None


def delivery_report(message: Message) -> DeliveryReport | None:
    """The report an email is, or None when it is not a delivery status notification."""
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    parts = message.get_payload()
    if not isinstance(parts, list):
        return None
    failed: list[str] = []
    original: Message | None = None
    for part in parts[:MAX_REPORT_PARTS]:
        if not isinstance(part, Message):
            continue
        kind = part.get_content_type()
        if kind == "message/delivery-status" and not failed:
            failed = _failed_recipients(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_headers(part)
    report = DeliveryReport(failed_recipients=tuple(failed))
    if original is None:
        return report
    return report.model_copy(
        update={
            "original_from": _one_address(header_values(original, "From")),
            "original_message_id": _checked(_MESSAGE_ID, _first(original, "Message-ID")),
            "original_purpose": _checked(_PURPOSE, _first(original, PURPOSE_HEADER)),
            "original_case": _checked(_CASE, _first(original, CASE_HEADER)),
        }
    )


def _failed_recipients(part: Message) -> list[str]:
    """The Final-Recipient of each per-recipient block whose Action is `failed` (the
    standard library parses a delivery-status body into its blocks)."""
    blocks = part.get_payload()
    found: list[str] = []
    for block in blocks[1:] if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
            continue
        if (_first(block, "Action") or "").lower() != "failed":
            continue
        address_type, _, address = (_first(block, "Final-Recipient") or "").partition(";")
        checked = (
            plain_address(address.strip()) if address_type.strip().lower() == "rfc822" else None
        )
        if checked and checked not in found:
            found.append(checked)
        if len(found) == MAX_FAILED_RECIPIENTS:
            break
    return found


def _original_headers(part: Message) -> Message | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        return first if isinstance(first, Message) else None
    body = part.get_payload(decode=True)
    if not isinstance(body, bytes):
        return None
    block = body[:MAX_ORIGINAL_HEADER_BYTES]
    return BytesHeaderParser(policy=policy.compat32).parsebytes(block)


def _first(message: Message, name: str) -> str | None:
    values = header_values(message, name)
    return " ".join(values[0].split()) if values else None


def _checked(form: re.Pattern[str], value: str | None) -> str | None:
    return value if value is not None and form.fullmatch(value) else None


def _one_address(values: list[str]) -> str:
    """The address of a single From (`Name <a@b>` or `a@b`), lower case; else ""."""
    if len(values) != 1:
        return ""
    value = " ".join(values[0].split())
    angle = _ANGLE_ADDRESS.search(value)
    return plain_address(angle.group(1) if angle else value) or ""
