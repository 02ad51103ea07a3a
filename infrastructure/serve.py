"""`dsr-intake serve`: the embedded stack in real time, with an SMTP inbox and a local mailbox.

One loop (the caller's thread) owns the stack: it processes each email the SMTP inbox
queued, as SES's S3 action and the event source mappings would, and fires what the
Scheduler would fire as it falls due on the real clock. Everything the system sends goes to
the local Maildir (infrastructure.local_mailbox). The register is the local session's
(infrastructure.session): `serve --state DIR` continues the register `process` and
`advance` keep there, and what serve does is added to its journal.

What the stack would keep for ever is bounded as it goes (infrastructure.bounded), so it
runs for days. The coordinators' console (functions/console, the deployed handler) answers on
--port through infrastructure.local_console, signed in against the embedded Cognito with a
coordinator account made and printed at start-up. One lock keeps the loop and the console
from running the stack's handlers at once.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infrastructure import bounded, console_journal
from infrastructure.local_console import ConsoleServer, console_server, sign_in_help
from infrastructure.local_console_resources import ConsoleUser, create_user
from infrastructure.local_mail_page import PREFIX as MAIL_PAGE
from infrastructure.local_mailbox import LocalMailbox
from infrastructure.local_smtp import SmtpInbox
from infrastructure.local_stack import REGION, Firing, LocalStackError
from infrastructure.serve_terminal import Terminal
from infrastructure.session import LocalSession

# How often the loop looks for schedules that fell due (each look reads every schedule).
SCHEDULE_SECONDS = 30.0
# How often what the mail bucket's lifecycle expires is deleted.
LIFECYCLE_SECONDS = 3600.0
# The handlers' log lines kept in memory (the newest).
LOG_LINES = 2000

# The coordinator account made at every start (moto's Cognito lives as long as the process),
# its password kept in the state folder so it stays the same.
CONSOLE_COORDINATOR = "local.coordinator@nhs.net"
COORDINATOR_PASSWORD = "console-password"


class _ServeSession(LocalSession):
    """The local session, keeping its journal on disk only: serve runs for days, and each
    email's step holds the email itself."""

    emails = 0

    def _record(self, step: dict[str, Any], at: datetime) -> None:
        super()._record(step, at)
        self.emails += step["step"] == "email"
        self.steps[:] = self.steps[-1:]  # the last one: when the register's clock was

    def summary(self) -> str:
        return (
            f"local register {self.folder}: {self.emails} emails so far "
            f"(today {self.stack.now():%d/%m/%Y})"
        )

    def record_firings(self, since: datetime, days: float) -> None:
        """A tick's advance, journalled only when it fired something (an idle tick replays
        as nothing, the next step's moment moving the clock on)."""
        self._record({"step": "advance", "days": days}, since)


class Server:
    """`with Server(state, parameters, ...) as server: server.run(stop)`."""

    def __init__(
        self,
        state: Path,
        parameters: dict[str, str],
        *,
        smtp_port: int = 2525,
        http_port: int = 8025,
        schedule_seconds: float = SCHEDULE_SECONDS,
        say: Callable[[str], None] = print,
    ) -> None:
        self.state = state
        self.session = _ServeSession(state, parameters)
        routes = {
            self.session.stack.parameter_values[name] for name in ("InboundRoute", "OutboundRoute")
        }
        if routes != {"ses"}:
            raise LocalStackError("dsr-intake serve runs the SES route only (InboundRoute=ses)")
        self.smtp_port, self.http_port = smtp_port, http_port
        self.schedule_seconds = schedule_seconds
        self.say = say
        self.arrived: queue.Queue[bytes] = queue.Queue()
        self.terminal = Terminal(self)
        self.mailbox = LocalMailbox(state / "maildir", clock=self.session.stack.now)
        self.lock = threading.RLock()  # the stack's handlers, one caller at a time
        self.smtp: SmtpInbox | None = None
        self.console: ConsoleServer | None = None
        self.coordinator: ConsoleUser | None = None
        self.processed = 0
        self._last_tick: datetime | None = None
        self._last_lifecycle = 0.0
        # (when, SES message id) of each raw email in the bucket, oldest first: the lifecycle.
        self.arrivals: deque[tuple[datetime, str]] = deque()

    # ----- start and stop -----
    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.session.steps:
            self.say(
                f"replaying the journal: {len(self.session.steps)} steps (emails, days moved "
                "on, console decisions) - a long register takes a while ..."
            )
        self.session.progress = self.say
        self.session.__enter__()  # builds the stack and replays the journal
        stack = self.session.stack
        self.arrivals.extend(
            (datetime.fromisoformat(step["at"]), step["message_id"])
            for step in self.session.steps
            if step["step"] == "email"
        )
        self.session.emails = len(self.arrivals)
        self.session.steps[:] = self.session.steps[-1:]  # the emails are in the journal's file
        stack.log_limit = LOG_LINES
        del stack.log_lines[:-LOG_LINES]
        # What the replay sent was delivered when it first happened.
        self.mailbox.forget_unsent()
        stack.after_firing = self.mailbox.collect  # each firing's mail dated at its moment
        self._last_tick = stack.now()
        self.smtp = SmtpInbox({stack.parameters["InboxAddress"]}, self.arrived.put, self.smtp_port)
        self.smtp.start()
        for problem in self.session.replay_problems:
            self.say(f"could not replay: {problem}")
        self.coordinator = coordinator = create_user(
            stack, CONSOLE_COORDINATOR, "coordinator", password=self._coordinator_password()
        )
        self.console = console_server(
            stack, self.http_port, self.lock, invoke=self.console_call, mailbox=self.mailbox
        )
        self.say(sign_in_help(self.console, coordinator))
        self.say(self.where())

    def _coordinator_password(self) -> str:
        """The same password at every start (kept owner-only beside the journal)."""
        kept = self.state / COORDINATOR_PASSWORD
        if not kept.exists():
            kept.touch(mode=0o600)
            kept.write_text(f"Dsr-{secrets.token_urlsafe(12)}-9a\n")
        return kept.read_text().strip()

    def where(self) -> str:
        stack = self.session.stack
        return "\n".join(
            [
                f"dsr-intake serve: the embedded stack (template.yaml on moto), in real time. "
                f"Clock {stack.now():%d/%m/%Y %H:%M} UTC; {self.session.summary()}",
                f"  SMTP inbox    smtp://127.0.0.1:{self.smtp.port if self.smtp else '-'} "
                f"- send to {stack.parameters['InboxAddress']} (40 MB at most)",
                f"  mail sent     Maildir {self.mailbox.folder.resolve()} (any mail client)",
                f"  console       {self.console.url if self.console else '-'}/ "
                f"(the mail sent: {self.console.url if self.console else '-'}{MAIL_PAGE})",
                f"  sign in as    {CONSOLE_COORDINATOR}, the password above; "
                f"current code {self.coordinator.current_code() if self.coordinator else '-'}",
                f"  journal       {self.session.journal.resolve()}",
                "Type `advance DAYS` and Enter to move the clock on (`where` to see this).",
                "Ctrl-C stops.",
            ]
        )

    def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()  # no new mail; what was accepted is processed below
            self.smtp = None
        self._take_mail()
        if self.console is not None:
            self.console.stop()
            self.console = None
        self.mailbox.collect()
        self.session.__exit__(None, None, None)

    # ----- the loop -----
    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: mail as it arrives, schedules as they fall due, commands
        typed in the terminal (`command`)."""
        next_schedules = 0.0
        while not stop.is_set():
            self._take_mail(wait=0.2)
            self.terminal.take()
            if time.monotonic() >= next_schedules:
                self.fire_due()
                next_schedules = time.monotonic() + self.schedule_seconds
            with self.lock:
                self.keep_bounded()

    def _take_mail(self, wait: float = 0.0) -> None:
        try:
            raw = self.arrived.get(timeout=wait) if wait else self.arrived.get_nowait()
        except queue.Empty:
            return
        while True:
            line = self.receive(raw)
            # The outcome and the case reference only: serve's terminal may be anyone's.
            codes = sorted({reason["code"] for reason in line.get("reasons", [])})
            self.say(
                f"{self.session.stack.now():%d/%m/%Y %H:%M} email {self.session.emails}: "
                f"{line.get('outcome') or line.get('error')} {line.get('case_id', '')}".rstrip()
                + (f" ({', '.join(codes)})" if codes else "")
            )
            try:
                raw = self.arrived.get_nowait()
            except queue.Empty:
                return

    def receive(self, raw: bytes) -> dict[str, Any]:
        """One email, as SES receives it: stored, processed, its answers in the mailbox."""
        with self.lock:
            self.processed += 1
            at = self.session.stack.now()
            line = self.session.process(f"smtp-{self.processed}", raw)
            self.arrivals.append((at, line["message_id"]))
            self.mailbox.collect()
            return line

    def console_call(self, event: dict[str, Any]) -> dict[str, Any]:
        """One console request, as the deployed ConsoleFunction answers it; what it changed
        is journalled, and its effects (answers, reminders, erasure) follow at once, as the
        register's stream would start them on AWS."""
        with self.lock:
            stack = self.session.stack
            at = stack.now()
            with console_journal.recording() as calls:
                answer = stack.invoke("console", event)
            if calls:
                self.session.record_console(calls, at)
                self._deliver_effects()
                if event["requestContext"]["http"]["method"] == "POST":
                    # The page's path: a case reference at most, as in the console's URLs.
                    self.say(f"{at:%d/%m/%Y %H:%M} console: {event['rawPath']} recorded")
            return answer

    def _deliver_effects(self) -> None:
        try:
            self.session.stack.run_pipeline()
        except RuntimeError as error:  # left for the next round, as Lambda retries
            self.say(f"effects: {error}")
        self.mailbox.collect()

    # ----- the clock, moved on from serve's terminal (infrastructure.serve_terminal) -----
    def command(self, line: str) -> None:
        """Queue a line typed in the terminal for the loop (from the thread reading it)."""
        self.terminal.put(line)

    def advance(self, days: float) -> str:
        with self.lock:
            self._fire_due()  # what fell due in real time first
            stack = self.session.stack
            before = self.mailbox.count
            firings = self.session.advance(days)
            self._last_tick = stack.now()
            self.mailbox.collect()
            if firings:
                self.say(self._fired(firings))
            return (
                f"clock moved on {days:g} days to {stack.now():%d/%m/%Y %H:%M} UTC: "
                f"{len(firings)} schedules fired, {self.mailbox.count - before} emails sent "
                "to the Maildir"
            )

    def fire_due(self) -> int:
        """Fire every schedule that fell due since the last look; how many fired."""
        with self.lock:
            return self._fire_due()

    def _fire_due(self) -> int:
        stack = self.session.stack
        assert self._last_tick is not None
        now = stack.now()
        if now <= self._last_tick:
            return 0
        since = self._last_tick
        # `advance` fires what falls due after the stack's now: move it back to the last look.
        stack.clock_offset -= now - since
        days = (now - since).total_seconds() / 86400
        firings = stack.advance(days)
        self._last_tick = stack.now()
        if firings:
            self.session.record_firings(since, days)
            self.say(self._fired(firings))
        self.mailbox.collect()
        return len(firings)

    @staticmethod
    def _fired(firings: list[Firing]) -> str:
        """What fired, by schedule name (a case reference at most, never a person)."""
        names = ", ".join(f"{firing.at:%d/%m %H:%M} {firing.schedule}" for firing in firings)
        return f"fired: {names}"

    def keep_bounded(self, *, force: bool = False) -> None:
        """What AWS would have expired by now (the rest is bounded as the stack runs)."""
        stack = self.session.stack
        bounded.forget_deleted_receipts(REGION, stack.resources["IntakeQueue"].rsplit("/", 1)[-1])
        if force or time.monotonic() - self._last_lifecycle >= LIFECYCLE_SECONDS:
            self._last_lifecycle = time.monotonic()
            bounded.expire_raw_mail(
                stack.client("s3"),
                stack.resources["RawMailBucket"],
                self.arrivals,
                stack.now() - timedelta(days=int(stack.parameter_values["RawMailRetentionDays"])),
            )
