"""Where the embedded stack's outgoing mail goes under `dsr-intake serve`: a local Maildir.

moto's SES keeps every message sent (for `local_stack.sent_emails`), whole, for ever. Here
each one is taken out of moto as soon as it is sent, written as MIME to a Maildir that any
mail client reads (mutt -f DIR, Thunderbird's Maildir account, ...), and a short summary is
kept in a bounded list for the console to show. The Maildir holds what the system sent:
personal data to secure addresses, as on AWS, so it is made owner-only.
"""

from __future__ import annotations

import mailbox
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import format_datetime, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

from infrastructure.bounded import moto_backend
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


def _as_mime(message: Any, at: datetime) -> bytes:
    """A moto SES message as the MIME a recipient would get, sent `at`."""
    if hasattr(message, "raw_data"):  # sent raw: the MIME itself
        raw: bytes = message.raw_data.encode("utf-8")
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].lower()
        # SES adds what the sender left out: the date (here the stack's, which `advance`
        # moves on) and a Message-ID.
        if not re.search(rb"(^|\n)date:", head):
            raw = f"Date: {format_datetime(at)}\r\n".encode() + raw
        if not re.search(rb"(^|\n)message-id:", head):
            raw = f"Message-ID: {make_msgid(domain='local.dsr-intake')}\r\n".encode() + raw
        return raw
    # A Simple email: moto keeps its parts (and, see local_stack, its headers).
    mime = EmailMessage()
    mime["From"] = message.source
    mime["To"] = ", ".join(message.destinations.get("ToAddresses", []))
    if message.destinations.get("CcAddresses"):
        mime["Cc"] = ", ".join(message.destinations["CcAddresses"])
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(at)
    mime["Message-ID"] = make_msgid(domain="local.dsr-intake")
    for name, value in getattr(message, "headers", {}).items():
        if name not in mime:
            mime[name] = value
    mime.set_content(message.body)
    return bytes(mime)


class LocalMailbox:
    """Drains moto's sent messages into `folder` (a Maildir) and a bounded list."""

    def __init__(
        self,
        folder: Path,
        keep: int = KEEP_SUMMARIES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.folder = folder
        self.maildir = mailbox.Maildir(folder, create=True)
        folder.chmod(0o700)
        self.clock = clock  # the stack's: what is sent is dated by it
        self.recent: deque[Delivered] = deque(self._kept(keep), maxlen=keep)
        self.count = len(self.recent)
        self._lock = threading.Lock()

    def _kept(self, keep: int) -> list[Delivered]:
        """What an earlier run delivered (the newest `keep`), so a restart forgets nothing."""
        delivered = []
        for key in self.maildir.iterkeys():
            with self.maildir.get_file(key) as stored:  # the headers only, not the files
                headers = BytesHeaderParser().parse(cast(BinaryIO, stored))
            try:
                at = parsedate_to_datetime(str(headers["Date"]))
            except (TypeError, ValueError):
                continue
            delivered.append(
                Delivered(
                    key=key,
                    at=at if at.tzinfo else at.replace(tzinfo=UTC),
                    to=tuple(dict.fromkeys(a.strip() for a in str(headers["To"] or "").split(","))),
                    subject=" ".join(str(headers["Subject"] or "").split()),
                )
            )
        return sorted(delivered, key=lambda one: one.at)[-keep:]

    def collect(self) -> list[Delivered]:
        """Move every message SES has sent since the last call into the Maildir."""
        backend = moto_backend("ses", REGION)
        delivered = []
        with self._lock:
            # Taken out of moto first: a message sent meanwhile waits for the next call.
            sent, backend.sent_messages[:] = list(backend.sent_messages), []
            at = self.clock()
            for message in sent:
                raw = _as_mime(message, at)
                key = self.maildir.add(mailbox.MaildirMessage(raw))
                parsed = mailbox.MaildirMessage(raw)
                to = getattr(message, "destinations", [])
                if isinstance(to, dict):
                    to = to.get("ToAddresses", [])
                delivered.append(
                    Delivered(
                        key=key,
                        at=at,
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
        moto_backend("ses", REGION).sent_messages.clear()

    def message(self, key: str) -> EmailMessage:
        """One delivered email, parsed, by its Maildir key."""
        from email import message_from_bytes

        parsed = message_from_bytes(self.maildir.get_bytes(key), policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed
