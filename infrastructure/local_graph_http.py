"""The local Graph mailbox's HTTP side (`infrastructure.local_graph`): each request answered
as Microsoft Graph answers it, against the mailbox's state, under its lock."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import urllib.parse
from datetime import datetime
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses, make_msgid, parseaddr
from http.server import BaseHTTPRequestHandler
from typing import Any

from infrastructure.local_graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEFAULT_PAGE_SIZE,
    INBOX_ID,
    SENT_ITEMS_ID,
    TENANT_ID,
    WELL_KNOWN_FOLDERS,
    LocalGraphMailbox,
    _Message,
)
from infrastructure.local_graph_ndr import exchange_ndr


class GraphHandler(BaseHTTPRequestHandler):
    """Graph's answers, for the `LocalGraphMailbox` it is made for."""

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
        if path[1:2] != ["users"] or len(path) < 3 or path[2].lower() not in self.graph.mailboxes:
            return _error(403, "ErrorAccessDenied")  # the application access policy
        mailbox, rest, query = path[2].lower(), path[3:], urllib.parse.parse_qs(parts.query)
        prefer = self.headers.get("Prefer", "")
        if rest == ["mailFolders"]:
            return self._folders(method, query, body)
        if rest[:3] == ["mailFolders", "inbox", "messages"] and rest[3:] == ["delta"]:
            return self._delta(parts, query, prefer, mailbox)
        if rest[:1] == ["mailFolders"] and rest[2:] == ["messages"] and method == "GET":
            return self._list(
                parts, query, WELL_KNOWN_FOLDERS.get(rest[1].lower(), rest[1]), mailbox
            )
        found = state.messages.get(rest[1]) if rest[:1] == ["messages"] and len(rest) == 3 else None
        if found is not None and found.mailbox == mailbox:
            if (found.message_id, rest[2]) in state.refusals:
                return _error(*state.refusals[(found.message_id, rest[2])])
            if rest[2] == "$value" and method == "GET":
                return 200, {"Content-Type": "text/plain"}, found.raw
            if rest[2] == "move" and method == "POST":
                return self._move(found, json.loads(body or b"{}"))
            if rest[2] == "permanentDelete" and method == "POST":
                return self._delete(found)
        if rest[:1] == ["messages"]:
            return _error(404, "ErrorItemNotFound")
        if rest == ["sendMail"] and method == "POST":
            return self._send(body, mailbox)
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
        self,
        parts: urllib.parse.SplitResult,
        query: dict[str, list[str]],
        prefer: str,
        mailbox: str,
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
            if round_ is not None and round_["mailbox"] == mailbox:
                round_ = self._changes_since(
                    round_["seen"], round_["since"], mailbox, initial=False
                )
            else:
                round_ = None
        else:
            since = None
            for clause in query.get("$filter", []):
                since = datetime.fromisoformat(clause.removeprefix("receivedDateTime ge "))
            round_ = self._changes_since(0, since, mailbox, initial=True)
        if round_ is None:
            return _error(410, "SyncStateNotFound")
        items, rest = round_["items"][:size], round_["items"][size:]
        token = secrets.token_urlsafe(12)
        if rest:
            state.rounds[token] = {**round_, "items": rest}
            return _json(200, {"value": items, "@odata.nextLink": f"{base}?$skiptoken={token}"})
        state.rounds[token] = {k: round_[k] for k in ("seen", "since", "mailbox")}
        return _json(200, {"value": items, "@odata.deltaLink": f"{base}?$deltatoken={token}"})

    def _changes_since(
        self, seen: int, since: datetime | None, mailbox: str, *, initial: bool
    ) -> dict[str, Any]:
        """A round's items: what is in the mailbox's Inbox (the first round), or what changed
        since the last round (additions, and `@removed` for what left the Inbox)."""
        state = self.graph.state
        items: dict[str, dict[str, Any]] = {}
        for kind, message_id, owner in state.changes[seen:]:
            message = state.messages.get(message_id)
            if owner != mailbox:
                continue
            if kind == "removed" and not initial:
                items[message_id] = {"id": message_id, "@removed": {"reason": "deleted"}}
            elif (
                message is not None
                and message.folder == INBOX_ID
                and (since is None or message.received >= since)
            ):
                items[message_id] = {"id": message_id, "isDraft": message.draft}
        seen = len(state.changes)
        return {"items": list(items.values()), "seen": seen, "since": since, "mailbox": mailbox}

    def _move(self, message: _Message, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        destination = str(body.get("destinationId", ""))
        if destination not in self.graph.state.folders:
            return _error(400, "ErrorInvalidIdMalformed")
        if message.folder == INBOX_ID and destination != INBOX_ID:
            self.graph.state.changes.append(("removed", message.message_id, message.mailbox))
        message.folder = destination
        return _json(201, {"id": message.message_id, "parentFolderId": destination})

    def _send(self, body: bytes, mailbox: str) -> tuple[int, dict[str, str], bytes]:
        if self.headers.get("Content-Type", "").split(";")[0] != "text/plain":
            return _error(415, "UnsupportedMediaType")
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error:
            return _error(400, "ErrorMimeContentInvalidBase64String")
        message = message_from_bytes(raw, policy=policy.SMTP)
        if parseaddr(str(message.get("From", "")))[1].lower() != mailbox:
            return _error(403, "ErrorSendAsDenied")  # a mailbox sends only as itself here
        if self.graph.replaces_message_ids or "Message-ID" not in message:
            del message["Message-ID"]
            message["Message-ID"] = make_msgid(domain=mailbox.rsplit("@", 1)[-1])
        del message["Bcc"]
        sent = message.as_bytes()
        graph = self.graph
        graph._put(sent, SENT_ITEMS_ID, mailbox, None)
        recipients = getaddresses(
            [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
        )
        for address in dict.fromkeys(a.lower() for _, a in recipients):
            if address in graph.mailboxes:  # internal: delivered as Exchange delivers it
                stamps = (
                    b"X-MS-Exchange-Organization-AuthAs: Internal\r\n"
                    b"X-MS-Exchange-Organization-AuthSource: local.dsr-intake.invalid\r\n"
                    b"X-MS-Exchange-Organization-SCL: -1\r\n"
                )
                graph._put(stamps + sent, INBOX_ID, address, None)
            elif address in graph.undeliverable:
                graph._put(exchange_ndr(sent, address), INBOX_ID, mailbox, None)
        return 202, {}, b""

    def _list(
        self,
        parts: urllib.parse.SplitResult,
        query: dict[str, list[str]],
        folder: str,
        mailbox: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """A folder's messages, newest first, `$top` a page, `@odata.nextLink` with `$skip`."""
        if folder not in self.graph.state.folders:
            return _error(404, "ErrorInvalidIdMalformed")
        top = int((query.get("$top") or [str(DEFAULT_PAGE_SIZE)])[0])
        skip = int((query.get("$skip") or ["0"])[0])
        held = sorted(self.graph._in(folder, mailbox), key=lambda m: m.received, reverse=True)
        value = []
        for message in held[skip : skip + top]:
            headers = BytesHeaderParser(policy=policy.default).parsebytes(message.raw)
            value.append(
                {
                    "id": message.message_id,
                    "subject": str(headers.get("Subject", "")),
                    "internetMessageId": str(headers.get("Message-ID", "")),
                    "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        answer: dict[str, Any] = {"value": value}
        if skip + top < len(held):
            rest = urllib.parse.urlencode({"$top": top, "$skip": skip + top})
            answer["@odata.nextLink"] = f"{self.graph.url}{parts.path}?{rest}"
        return _json(200, answer)

    def _delete(self, message: _Message) -> tuple[int, dict[str, str], bytes]:
        """`permanentDelete`: gone from every folder (to the purges folder, out of reach)."""
        del self.graph.state.messages[message.message_id]
        if message.folder == INBOX_ID:
            self.graph.state.changes.append(("removed", message.message_id, message.mailbox))
        return 204, {}, b""


def _json(status: int, value: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode("utf-8")


def _error(status: int, code: str) -> tuple[int, dict[str, str], bytes]:
    return _json(status, {"error": {"code": code, "message": f"local mailbox: {code}"}})
