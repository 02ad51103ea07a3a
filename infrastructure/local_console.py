"""The console on one machine: a small HTTP server on 127.0.0.1 that turns each request into
the HTTP API's payload v2 event and calls the ConsoleFunction's own handler through the
embedded stack (so `dsr-intake serve` runs exactly the deployed code, tokens verified as on
AWS), and the coordinator account it signs in with.

    server = console_server(stack, 8080)        # serve mounts this
    user = create_user(stack, "dsr.coordinator@nhs.net", "coordinator")
    print(sign_in_help(server, user))
    ...
    server.stop()
"""

from __future__ import annotations

import base64
import sys
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_mail_page import PREFIX, cookies_of, mail_page

if TYPE_CHECKING:
    from infrastructure.local_mailbox import LocalMailbox
    from infrastructure.local_stack import LocalStack

MAX_BODY = 1024 * 1024  # API Gateway takes up to 10 MB; the console's forms are small
__all__ = [
    "ConsoleServer",
    "ConsoleUser",
    "console_server",
    "create_user",
    "http_event",
    "sign_in_help",
]


def http_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str = "127.0.0.1"
) -> dict[str, Any]:
    """The event API Gateway's HTTP API (payload format 2.0) gives the function."""
    parts = urlsplit(target)
    lowered = {name.lower(): value for name, value in headers.items()}
    cookies = [pair.strip() for pair in lowered.pop("cookie", "").split(";") if pair.strip()]
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "ANY /{proxy+}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }
    if cookies:
        event["cookies"] = cookies
    if parts.query:
        from urllib.parse import parse_qs

        event["queryStringParameters"] = {
            name: ",".join(values) for name, values in parse_qs(parts.query).items()
        }
    return event


class ConsoleServer:
    """The HTTP server, on its own thread; one request at a time (the embedded stack's
    handlers are not made for two at once)."""

    def __init__(
        self,
        stack: LocalStack,
        port: int,
        lock: AbstractContextManager[Any] | None = None,
        invoke: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        mailbox: LocalMailbox | None = None,
    ) -> None:
        self.stack = stack
        self.lock = lock or nullcontext()
        self.invoke = invoke  # serve's own: it journals what a request changed
        self.mailbox = mailbox  # serve's: the mail sent, shown at /local/mail
        self.httpd = HTTPServer(("127.0.0.1", port), self._handler_class())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ConsoleServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.invoke is not None:
            return self.invoke(event)
        with self.lock:
            return self.stack.invoke("console", event)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                body = self.rfile.read(length) if length else b""
                if server.mailbox is not None and self.path.startswith(PREFIX):
                    self._mail_page(server.mailbox)
                    return
                event = http_event(
                    self.command, self.path, dict(self.headers.items()), body,
                    self.client_address[0],
                )  # fmt: skip
                try:
                    answer = server.call(event)
                except Exception as error:  # as API Gateway answers a function's failure
                    print(f"console: {type(error).__name__} answering a request", file=sys.stderr)
                    self.send_error(500)
                    return
                self.send_response(int(answer["statusCode"]))
                for name, value in answer.get("headers", {}).items():
                    self.send_header(name, value)
                for cookie in answer.get("cookies", []):
                    self.send_header("Set-Cookie", cookie)
                payload = answer.get("body") or ""
                data = (
                    base64.b64decode(payload)
                    if answer.get("isBase64Encoded")
                    else payload.encode("utf-8")
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _mail_page(self, mailbox: LocalMailbox) -> None:
                with server.lock:
                    status, headers, page = mail_page(
                        server.stack, mailbox, urlsplit(self.path).path, cookies_of(self.headers)
                    )
                data = page.encode("utf-8")
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "text/html; charset=utf-8"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                # No access log here: a request line may carry a query, and the function
                # logs what it must.
                return

        return Handler


def console_server(
    stack: LocalStack,
    port: int = 0,
    lock: AbstractContextManager[Any] | None = None,
    invoke: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    mailbox: LocalMailbox | None = None,
) -> ConsoleServer:
    """Serve the console on http://127.0.0.1:`port` (0: any free port), started; each
    request through `invoke` when given, else the ConsoleFunction under `lock`; with
    `mailbox`, the mail sent at /local/mail."""
    return ConsoleServer(stack, port, lock, invoke, mailbox).start()


def sign_in_help(server: ConsoleServer, user: ConsoleUser) -> str:
    """What to print at start-up: where, who, and the authenticator's key and current code."""
    return (
        f"The console: {server.url}/sign-in\n"
        f"  email     {user.username}\n"
        f"  password  {user.password}\n"
        f"  authenticator key (add it to an authenticator app)  {user.totp_secret}\n"
        f"  or the current code  {user.current_code()}  (changes every 30 seconds)"
    )
