"""Where the embedded stack's outgoing mail goes under `dsr-intake serve`: a local Maildir.

moto's SES keeps every message sent (for `local_stack.sent_emails`), whole, for ever. Here
each one is taken out of moto as soon as it is sent, written as MIME to a Maildir that any
mail client reads (mutt -f DIR, Thunderbird's Maildir account, ...), and a short summary is
kept in a bounded list for the console to show. The Maildir holds what the system sent:
personal data to secure addresses, as on AWS, so it is made owner-only.
"""

from __future__ import annotations

import mailbox
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from infrastructure.local_stack import REGION

# The summaries kept in memory: the console's "mail sent" page shows the newest.
KEEP_SUMMARIES = 500


@dataclass(frozen=True)
class Delivered:
    """One email the system sent, as the local mailbox shows it (the MIME is in the Maildir)."""

    key: str  # its file name in the Maildir
    at: datetime
    to: tuple[str, ...]
    subject: str
    headers: dict[str, str] = field(default_factory=dict)


def _as_mime(message: Any) -> bytes:
    """A moto SES message as the MIME a recipient would get."""
    if hasattr(message, "raw_data"):  # sent raw: the MIME itself
        raw: bytes = message.raw_data.encode("utf-8")
        return raw
    # A Simple email: moto keeps its parts (and, see local_stack, its headers).
    mime = EmailMessage()
    mime["From"] = message.source
    mime["To"] = ", ".join(message.destinations.get("ToAddresses", []))
    if message.destinations.get("CcAddresses"):
        mime["Cc"] = ", ".join(message.destinations["CcAddresses"])
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(datetime.now(UTC))
    mime["Message-ID"] = make_msgid(domain="local.dsr-intake")
    for name, value in getattr(message, "headers", {}).items():
        if name not in mime:
            mime[name] = value
    mime.set_content(message.body)
    return bytes(mime)


class LocalMailbox:
    """Drains moto's sent messages into `folder` (a Maildir) and a bounded list."""

    def __init__(self, folder: Path, keep: int = KEEP_SUMMARIES) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self.maildir = mailbox.Maildir(folder, create=True)
        folder.chmod(0o700)
        self.recent: deque[Delivered] = deque(maxlen=keep)
        self.count = 0
        self._lock = threading.Lock()

    def collect(self) -> list[Delivered]:
        """Move every message SES has sent since the last call into the Maildir."""
        from moto.backends import get_backend

        backend = get_backend("ses")["123456789012"][REGION]
        delivered = []
        with self._lock:
            # Taken out of moto first: a message sent meanwhile waits for the next call.
            sent, backend.sent_messages[:] = list(backend.sent_messages), []
            for message in sent:
                raw = _as_mime(message)
                key = self.maildir.add(mailbox.MaildirMessage(raw))
                parsed = mailbox.MaildirMessage(raw)
                to = getattr(message, "destinations", [])
                if isinstance(to, dict):
                    to = to.get("ToAddresses", [])
                delivered.append(
                    Delivered(
                        key=key,
                        at=datetime.now(UTC),
                        to=tuple(dict.fromkeys(to)),  # moto lists a raw email's To twice
                        subject=str(parsed["Subject"] or ""),
                        headers={
                            name: " ".join(str(parsed[name]).split())
                            for name in ("In-Reply-To", "References", "Auto-Submitted")
                            if parsed[name] is not None
                        },
                    )
                )
            self.recent.extend(delivered)
            self.count += len(delivered)
        return delivered

    def forget_unsent(self) -> None:
        """Drop what moto holds without delivering it (a replay's mail went out long ago)."""
        from moto.backends import get_backend

        get_backend("ses")["123456789012"][REGION].sent_messages.clear()

    def message(self, key: str) -> EmailMessage:
        """One delivered email, parsed, by its Maildir key."""
        from email import message_from_bytes

        parsed = message_from_bytes(self.maildir.get_bytes(key), policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed
