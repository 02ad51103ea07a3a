"""Mail forwarded to the intake by a trusted forwarder (the DSR's NHSmail shared mailbox).

Only the forwarder's own forward is unwrapped, once: its one top-level attached message
(`message/rfc822`), or else the first inline forward marker in its body. A forward inside
that forward is the original sender's business, never unwrapped again.
"""

from __future__ import annotations

import re
from email.message import Message

from shared.mail.addresses import SenderError, forwarded_sender, header_values, sender_of

# The line mail clients put above a message forwarded inline (Outlook, Gmail, Apple Mail).
_FORWARD_MARKER = re.compile(
    r"[ >]*(?:-{2,} ?(?:forwarded message|original message) ?-{2,}|begin forwarded message:"
    r"|_{10,})",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"[ >*]*from:\**[ \t]*(?P<line>.+)", re.IGNORECASE)
MAX_MARKER_LINE_CHARS = 200  # a marker line is short; longer lines are never looked at
MAX_FORWARD_HEADER_LINES = 12  # From:, Sent:, To:, Cc:, Subject: ... wrapped


def attached_original(message: Message) -> Message | None:
    """The one message attached at the top level of the email, if there is exactly one."""
    if not message.is_multipart():
        return None
    attached = [
        part
        for part in message.get_payload()
        if isinstance(part, Message)
        and part.get_content_type() == "message/rfc822"
        and part.is_multipart()
    ]
    if len(attached) != 1:
        return None
    payload = attached[0].get_payload()
    inner = payload[0] if isinstance(payload, list) and len(payload) == 1 else None
    return inner if isinstance(inner, Message) else None


_REPLY_MARKER = re.compile(r"[ >]*on .{1,200} wrote: ?", re.IGNORECASE)


def own_text(body: str) -> str:
    """The body above its first forward or reply marker, without lines quoted with `>`:
    what the sender wrote, not what they pass on."""
    own = []
    for line in body.splitlines():
        short = len(line) <= MAX_MARKER_LINE_CHARS
        if short and (
            _FORWARD_MARKER.fullmatch(line.rstrip()) or _REPLY_MARKER.fullmatch(line.rstrip())
        ):
            break
        if not line.lstrip().startswith(">"):
            own.append(line)
    return "\n".join(own)


def inline_original_sender(body: str) -> str | None:
    """The sender on the first inline forward in `body`: the `From:` line of the header
    block under the first marker line. None when there is no marker or no plain address."""
    lines = iter(body.splitlines())
    for line in lines:
        if len(line) <= MAX_MARKER_LINE_CHARS and _FORWARD_MARKER.fullmatch(line.rstrip()):
            break
    else:
        return None
    seen = 0
    for line in lines:
        if not line.strip():
            if seen:
                break  # the end of the header block
            continue
        seen += 1
        if seen > MAX_FORWARD_HEADER_LINES:
            break
        from_line = _FROM_LINE.fullmatch(line.rstrip()[: MAX_MARKER_LINE_CHARS * 10])
        if from_line:
            return forwarded_sender(from_line.group("line"))
    return None


def attached_original_sender(inner: Message) -> str | None:
    try:
        return sender_of(header_values(inner, "From"))
    except SenderError:
        return None
