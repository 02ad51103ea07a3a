"""A local Microsoft 365 mailbox: the few Graph endpoints the adapters use, in-process.

An `http.server` in a thread on 127.0.0.1 (a random port) answers as Graph does: the client
credentials token, the Inbox's delta query (pages, `@odata.nextLink`, `@odata.deltaLink`,
`@removed`), a message's MIME (`$value`), move, mail folders (list, create) and `sendMail`
(base64 MIME as text/plain, 202, saved to Sent Items). `throttle` makes the next requests
answer 429 (or 503) with `Retry-After`, as Graph does when it throttles. Messages are put in
the Inbox as raw MIME, stamped as Exchange Online would stamp them (the caller's choice).

Besides the shared mailbox, `others` are mailboxes of the same tenant the application access
policy also grants (the smoke test's). A `sendMail` to one of them is delivered as Exchange
delivers internal mail: a Message-ID (kept if the MIME has one, unless `replaces_message_ids`
is set, for the case Exchange gives its own), then `X-MS-Exchange-Organization-AuthAs:
Internal` and `-SCL: -1` on top, in the recipient's Inbox. For the smoke mailbox's own calls:
a folder's messages (`inbox`, `sentitems`: newest first, `$top`/`$skip` paging) and
`permanentDelete`. Custom folders (Processed) are one list for all the mailboxes. `refuse`
makes Graph refuse one message's MIME or move for good (a 4xx), as it does for an item it
cannot convert. A `sendMail` to an address in `undeliverable` is answered as Exchange
Online answers one it cannot deliver: its non-delivery report (`local_graph_ndr`) in the
sender's Inbox.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from typing import Any

TENANT_ID = "00000000-0000-0000-0000-00000000d5a1"
CLIENT_ID = "local-dsr-intake"
CLIENT_SECRET = "local-secret-not-for-use"
INBOX_ID = "AQMkADInbox="
SENT_ITEMS_ID = "AQMkADSentItems="
WELL_KNOWN_FOLDERS = {"inbox": INBOX_ID, "sentitems": SENT_ITEMS_ID}
DEFAULT_PAGE_SIZE = 10


@dataclass
class _Message:
    message_id: str
    raw: bytes
    folder: str
    received: datetime
    draft: bool = False
    mailbox: str = ""  # whose it is (lower case)


@dataclass
class _Throttle:
    times: int
    retry_after: int
    status: int
    path_part: str


@dataclass
class _State:
    messages: dict[str, _Message] = field(default_factory=dict)
    folders: dict[str, str] = field(
        default_factory=lambda: {INBOX_ID: "Inbox", SENT_ITEMS_ID: "Sent Items"}
    )
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, mailbox
    rounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    throttles: list[_Throttle] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status
    # (message id, "$value" | "move") -> (status, code): Graph refusing one message for good.
    refusals: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)


class LocalGraphMailbox:
    """One shared mailbox behind a local Graph. Use as a context manager."""

    def __init__(self, mailbox: str, others: tuple[str, ...] = ()) -> None:
        self.mailbox = mailbox.lower()
        self.mailboxes = {self.mailbox, *(other.lower() for other in others)}
        self.replaces_message_ids = False  # Exchange giving a sent email its own Message-ID
        # Addresses a `sendMail` cannot reach: Exchange returns its NDR to the sender's Inbox.
        self.undeliverable: set[str] = set()
        self.state = _State()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # ----- lifecycle -----
    def __enter__(self) -> LocalGraphMailbox:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        mailbox = self

        from infrastructure.local_graph_http import GraphHandler

        class Handler(GraphHandler):
            graph = mailbox

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        assert self.server is not None, "start the local mailbox first"
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1.0"

    @property
    def credentials(self) -> dict[str, str]:
        """The secret's JSON, as the admin puts it in Secrets Manager."""
        return {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    # ----- what a test does to the mailbox -----
    def deliver(
        self,
        raw: bytes,
        *,
        draft: bool = False,
        received: datetime | None = None,
        mailbox: str = "",
    ) -> str:
        """Put an email in the (shared) mailbox's Inbox (as Exchange delivers it: the caller
        stamps its headers); returns its id, which has the characters Graph's ids have."""
        with self.lock:
            return self._put(raw, INBOX_ID, mailbox or self.mailbox, received, draft)

    def _put(
        self, raw: bytes, folder: str, mailbox: str, received: datetime | None, draft: bool = False
    ) -> str:
        message_id, mailbox = "AAMkAD" + secrets.token_urlsafe(24) + "-_=", mailbox.lower()
        self.state.messages[message_id] = _Message(
            message_id, raw, folder, received or datetime.now(UTC), draft, mailbox
        )
        if folder == INBOX_ID:
            self.state.changes.append(("added", message_id, mailbox))
        return message_id

    def throttle(
        self, times: int, retry_after: int = 1, *, status: int = 429, path_part: str = ""
    ) -> None:
        """The next `times` API requests (whose path has `path_part`) answer `status`."""
        with self.lock:
            self.state.throttles.append(_Throttle(times, retry_after, status, path_part))

    def refuse(self, message_id: str, action: str, status: int, code: str) -> None:
        """Every `action` ("$value" or "move") on this one message answers `status` with
        Graph's error `code`, as Graph does for a message it cannot convert or move."""
        with self.lock:
            self.state.refusals[(message_id, action)] = (status, code)

    def folder_of(self, message_id: str) -> str:
        with self.lock:
            return self.state.folders[self.state.messages[message_id].folder]

    def _in(self, folder: str, mailbox: str) -> list[_Message]:
        mailbox = (mailbox or self.mailbox).lower()
        return [
            m for m in self.state.messages.values() if (m.folder, m.mailbox) == (folder, mailbox)
        ]

    def inbox(self, mailbox: str = "") -> list[str]:
        with self.lock:
            return [m.message_id for m in self._in(INBOX_ID, mailbox)]

    def inbox_messages(self, mailbox: str = "") -> list[EmailMessage]:
        with self.lock:
            return _parsed([m.raw for m in self._in(INBOX_ID, mailbox)])

    def sent_items(self, mailbox: str = "") -> list[EmailMessage]:
        with self.lock:
            return _parsed([m.raw for m in self._in(SENT_ITEMS_ID, mailbox)])

    def requests(self) -> list[tuple[str, str, int]]:
        with self.lock:
            return list(self.state.requests)


def _parsed(raws: list[bytes]) -> list[EmailMessage]:
    parsed = [message_from_bytes(raw, policy=policy.default) for raw in raws]
    return [message for message in parsed if isinstance(message, EmailMessage)]
