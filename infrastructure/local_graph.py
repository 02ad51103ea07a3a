"""A local Microsoft 365 mailbox: the few Graph endpoints the adapters use, in-process.

An `http.server` in a thread on 127.0.0.1 (a random port) answers as Graph does: the client
credentials token, the Inbox's delta query (pages, `@odata.nextLink`, `@odata.deltaLink`,
`@removed`), a message's MIME (`$value`), move, mail folders (list, create) and `sendMail`
(base64 MIME as text/plain, 202, saved to Sent Items). `throttle` makes the next requests
answer 429 (or 503) with `Retry-After`, as Graph does when it throttles. Messages are put in
the Inbox as raw MIME, stamped as Exchange Online would stamp them (the caller's choice).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TENANT_ID = "00000000-0000-0000-0000-00000000d5a1"
CLIENT_ID = "local-dsr-intake"
CLIENT_SECRET = "local-secret-not-for-use"
INBOX_ID = "AQMkADInbox="
SENT_ITEMS_ID = "AQMkADSentItems="
DEFAULT_PAGE_SIZE = 10


@dataclass
class _Message:
    message_id: str
    raw: bytes
    folder: str
    received: datetime
    draft: bool = False


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
    changes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message id)
    rounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    throttles: list[_Throttle] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status


class LocalGraphMailbox:
    """One shared mailbox behind a local Graph. Use as a context manager."""

    def __init__(self, mailbox: str) -> None:
        self.mailbox = mailbox.lower()
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

        class Handler(_Handler):
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
    def deliver(self, raw: bytes, *, draft: bool = False, received: datetime | None = None) -> str:
        """Put an email in the Inbox (as Exchange delivers it: the caller stamps its headers);
        returns its id, which has the characters Graph's ids have."""
        message_id = "AAMkAD" + secrets.token_urlsafe(24) + "-_="
        with self.lock:
            self.state.messages[message_id] = _Message(
                message_id, raw, INBOX_ID, received or datetime.now(UTC), draft
            )
            self.state.changes.append(("added", message_id))
        return message_id

    def throttle(
        self, times: int, retry_after: int = 1, *, status: int = 429, path_part: str = ""
    ) -> None:
        """The next `times` API requests (whose path has `path_part`) answer `status`."""
        with self.lock:
            self.state.throttles.append(_Throttle(times, retry_after, status, path_part))

    def folder_of(self, message_id: str) -> str:
        with self.lock:
            return self.state.folders[self.state.messages[message_id].folder]

    def inbox(self) -> list[str]:
        with self.lock:
            return [m.message_id for m in self.state.messages.values() if m.folder == INBOX_ID]

    def sent_items(self) -> list[EmailMessage]:
        with self.lock:
            raws = [m.raw for m in self.state.messages.values() if m.folder == SENT_ITEMS_ID]
        parsed = [message_from_bytes(raw, policy=policy.default) for raw in raws]
        return [message for message in parsed if isinstance(message, EmailMessage)]

    def requests(self) -> list[tuple[str, str, int]]:
        with self.lock:
            return list(self.state.requests)


class _Handler(BaseHTTPRequestHandler):
    graph: LocalGraphMailbox

    def log_message(self, *_: Any) -> None:  # quiet, as moto's server is made here
        return

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    # ----- plumbing -----
    def _answer(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        graph = self.graph
        with graph.lock:
            status, headers, payload = self._route(method, parts, body)
            graph.state.requests.append((method, parts.path, status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route(
        self, method: str, parts: urllib.parse.SplitResult, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        state = self.graph.state
        path = [urllib.parse.unquote(p) for p in parts.path.strip("/").split("/")]
        if method == "POST" and path[1:] == ["oauth2", "v2.0", "token"]:
            return self._token(path[0], body)
        if path[0] != "v1.0":
            return _error(404, "UnknownPath")
        for throttle in state.throttles:
            if throttle.times > 0 and throttle.path_part in parts.path:
                throttle.times -= 1
                status, headers, payload = _error(throttle.status, "TooManyRequests")
                return status, {**headers, "Retry-After": str(throttle.retry_after)}, payload
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in state.tokens:
            return _error(401, "InvalidAuthenticationToken")
        if [p.lower() for p in path[1:3]] != ["users", self.graph.mailbox]:
            return _error(403, "ErrorAccessDenied")  # the application access policy
        rest, query = path[3:], urllib.parse.parse_qs(parts.query)
        prefer = self.headers.get("Prefer", "")
        if rest == ["mailFolders"]:
            return self._folders(method, query, body)
        if rest[:3] == ["mailFolders", "inbox", "messages"] and rest[3:] == ["delta"]:
            return self._delta(parts, query, prefer)
        if rest[:1] == ["messages"] and len(rest) == 3 and rest[1] in state.messages:
            message = state.messages[rest[1]]
            if rest[2] == "$value" and method == "GET":
                return 200, {"Content-Type": "text/plain"}, message.raw
            if rest[2] == "move" and method == "POST":
                return self._move(message, json.loads(body or b"{}"))
        if rest[:1] == ["messages"]:
            return _error(404, "ErrorItemNotFound")
        if rest == ["sendMail"] and method == "POST":
            return self._send(body)
        return _error(400, "BadRequest")

    def _token(self, tenant: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = urllib.parse.parse_qs(body.decode("ascii", "replace"))
        if (
            tenant != TENANT_ID
            or form.get("client_id") != [CLIENT_ID]
            or form.get("client_secret") != [CLIENT_SECRET]
            or form.get("grant_type") != ["client_credentials"]
        ):
            return 401, {"Content-Type": "application/json"}, b'{"error": "invalid_client"}'
        token = secrets.token_urlsafe(24)
        self.graph.state.tokens.add(token)
        answer = {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _folders(
        self, method: str, query: dict[str, list[str]], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        folders = self.graph.state.folders
        if method == "POST":
            name = str(json.loads(body or b"{}").get("displayName", ""))
            if not name or name in folders.values():
                return _error(409, "ErrorFolderExists")
            folder_id = "AQMkAD" + secrets.token_urlsafe(12) + "="
            folders[folder_id] = name
            return _json(201, {"id": folder_id, "displayName": name})
        wanted = None
        for clause in query.get("$filter", []):
            wanted = clause.removeprefix("displayName eq ").strip("'")
        value = [
            {"id": folder_id, "displayName": name}
            for folder_id, name in folders.items()
            if wanted is None or name == wanted
        ]
        return _json(200, {"value": value})

    def _delta(
        self, parts: urllib.parse.SplitResult, query: dict[str, list[str]], prefer: str
    ) -> tuple[int, dict[str, str], bytes]:
        state = self.graph.state
        base = f"{self.graph.url}{parts.path}"
        size = DEFAULT_PAGE_SIZE
        for preference in prefer.split(","):
            name, _, value = preference.strip().partition("=")
            if name == "odata.maxpagesize" and value.isdigit():
                size = int(value)
        if "$skiptoken" in query:
            round_ = state.rounds.get(query["$skiptoken"][0])
        elif "$deltatoken" in query:
            round_ = state.rounds.get(query["$deltatoken"][0])
            if round_ is not None:
                round_ = self._changes_since(round_["seen"], round_["since"], initial=False)
        else:
            since = None
            for clause in query.get("$filter", []):
                since = datetime.fromisoformat(clause.removeprefix("receivedDateTime ge "))
            round_ = self._changes_since(0, since, initial=True)
        if round_ is None:
            return _error(410, "SyncStateNotFound")
        items, rest = round_["items"][:size], round_["items"][size:]
        token = secrets.token_urlsafe(12)
        if rest:
            state.rounds[token] = {**round_, "items": rest}
            return _json(200, {"value": items, "@odata.nextLink": f"{base}?$skiptoken={token}"})
        state.rounds[token] = {"seen": round_["seen"], "since": round_["since"]}
        return _json(200, {"value": items, "@odata.deltaLink": f"{base}?$deltatoken={token}"})

    def _changes_since(self, seen: int, since: datetime | None, *, initial: bool) -> dict[str, Any]:
        """A round's items: what is in the Inbox (the first round), or what changed since
        the last round (additions, and `@removed` for what left the Inbox)."""
        state = self.graph.state
        items: dict[str, dict[str, Any]] = {}
        for kind, message_id in state.changes[seen:]:
            message = state.messages[message_id]
            if kind == "removed" and not initial:
                items[message_id] = {"id": message_id, "@removed": {"reason": "deleted"}}
            elif message.folder == INBOX_ID and (since is None or message.received >= since):
                items[message_id] = {"id": message_id, "isDraft": message.draft}
        return {"items": list(items.values()), "seen": len(state.changes), "since": since}

    def _move(self, message: _Message, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        destination = str(body.get("destinationId", ""))
        if destination not in self.graph.state.folders:
            return _error(400, "ErrorInvalidIdMalformed")
        if message.folder == INBOX_ID and destination != INBOX_ID:
            self.graph.state.changes.append(("removed", message.message_id))
        message.folder = destination
        return _json(201, {"id": message.message_id, "parentFolderId": destination})

    def _send(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.headers.get("Content-Type", "").split(";")[0] != "text/plain":
            return _error(415, "UnsupportedMediaType")
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return _error(400, "ErrorMimeContentInvalidBase64String")
        message_id = "AAMkADsent" + secrets.token_urlsafe(12)
        self.graph.state.messages[message_id] = _Message(
            message_id, raw, SENT_ITEMS_ID, datetime.now(UTC)
        )
        return 202, {}, b""


def _json(status: int, value: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode("utf-8")


def _error(status: int, code: str) -> tuple[int, dict[str, str], bytes]:
    return _json(status, {"error": {"code": code, "message": f"local mailbox: {code}"}})
