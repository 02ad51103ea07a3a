"""The Graph route in: new mail in the shared mailbox's Inbox, stored in the mail bucket
exactly where SES would put it, then moved to "Processed".

From the bucket on it is the same pipeline (S3 notification -> IntakeQueue -> intake). Each
email is stored under `inbound/<key>`, the key a hash of Graph's immutable id: no personal
data, and the same for the same message, so a run that dies between storing and moving
stores it again under the same key next time (an overwrite, with the same bytes), and the
intake, finding the outcome already recorded, stays silent. The delta link is saved only
after a whole round, so a round cut short is read again from where the last one ended (the
very first round's query is saved before it is read, for the same reason).

One email Graph will not let us read (a 4xx for that message alone: its MIME refused, too
large, gone) must not hold up the mail behind it, run after run: it is set aside in "Needs
attention" (the coordinators told once, through the outbox) and the round goes on. Anything
that may pass (429 after the waits, 5xx, a lost connection) or concerns the whole mailbox
(401, 403) ends the run, and the next run tries again.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.adapters.graph import GraphClient, GraphError
from shared.adapters.graph_verdicts import stamped
from shared.adapters.mail_store import raw_mail_key
from shared.errors import AlreadyRecordedError
from shared.set_aside import NEEDS_ATTENTION_FOLDER, set_aside_change
from shared.settings import Settings, domain_of

PROCESSED_FOLDER = "Processed"
# Ids that survive a move (Graph's default ids change with the folder): the stored key of a
# message never changes, wherever it is moved.
IMMUTABLE_IDS = 'IdType="ImmutableId"'
PAGE_SIZE = 50
# The first round takes mail received from a little before the first run (Scheduler's first
# firing comes minutes after the deploy); older mail stays in the Inbox for the team.
FIRST_ROUND_LOOKBACK = timedelta(minutes=10)
# A message is begun only with this much of the invocation left (a 40 MB email's download
# and upload, plus the move).
SECONDS_PER_MESSAGE = 30.0
# Answers about the whole mailbox or that may pass: never a reason to set one email aside.
_NOT_ABOUT_ONE_MESSAGE = frozenset({401, 403, 408, 409, 429})
_CODE = re.compile(r"[^A-Za-z0-9_.-]")


class DeltaLinks(Protocol):
    def mailbox_delta_link(self) -> str | None: ...

    def save_mailbox_delta_link(self, delta_link: str) -> None: ...


class RawMailWriter(Protocol):
    def put(self, key: str, raw: bytes) -> None: ...


class SetAsideNotices(Protocol):
    def set_aside(self, message_key: str, graph_code: str, stage: str) -> None:
        """Tell the coordinators, once per email (a second call for it is silent)."""
        ...


def concerns_one_message(error: GraphError) -> bool:
    """Graph refused this one message for good (400, 404, 413, ...)."""
    return 400 <= error.status < 500 and error.status not in _NOT_ABOUT_ONE_MESSAGE


def graph_message_key(message_id: str) -> str:
    """The mail bucket name of a Graph message: 40 hex characters, like SES's ids."""
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:40]


class S3RawMailWriter:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def put(self, key: str, raw: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=raw)


class GraphMailbox:
    """The few calls on the one shared mailbox."""

    def __init__(self, graph: GraphClient, mailbox: str) -> None:
        self.graph = graph
        self.base = f"/users/{urllib.parse.quote(mailbox, safe='@')}"

    def _message(self, message_id: str) -> str:
        return f"{self.base}/messages/{urllib.parse.quote(message_id, safe='')}"

    def processed_folder(self) -> str:
        return self.folder(PROCESSED_FOLDER)

    def folder(self, name: str) -> str:
        """A folder's id ("Processed", "Needs attention"), made at the top of the mailbox
        when missing."""
        query = urllib.parse.quote(f"displayName eq '{name}'", safe="")
        for page in self.graph.pages(f"{self.base}/mailFolders?$filter={query}"):
            for folder in page.get("value", []):
                if folder.get("displayName") == name:
                    return str(folder["id"])
        try:
            made = self.graph.post_json(f"{self.base}/mailFolders", {"displayName": name})
        except GraphError as error:
            if error.status != 409:
                raise
            return self.folder(name)  # another run made it first
        return str(made["id"])

    def first_round(self, since: datetime) -> str:
        moment = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        query = urllib.parse.urlencode(
            {"$select": "id,isDraft", "$filter": f"receivedDateTime ge {moment}"},
            quote_via=urllib.parse.quote,
        )
        return f"{self.base}/mailFolders/inbox/messages/delta?{query}"

    def changes(self, link: str) -> Any:
        return self.graph.pages(link, f"odata.maxpagesize={PAGE_SIZE}, {IMMUTABLE_IDS}")

    def mime(self, message_id: str) -> bytes:
        return self.graph.get_bytes(f"{self._message(message_id)}/$value", IMMUTABLE_IDS)

    def move(self, message_id: str, folder_id: str) -> bool:
        """Whether it was moved (False: it was gone already)."""
        try:
            self.graph.post_json(
                f"{self._message(message_id)}/move", {"destinationId": folder_id}, IMMUTABLE_IDS
            )
        except GraphError as error:
            if error.status != 404:  # gone already: moved by an earlier run, or by a person
                raise
            return False
        return True


@dataclass(frozen=True)
class SetAside:
    """One email the round went past: Graph's id and error (no personal data), what it was
    doing, and where the email is now."""

    graph_id: str
    stage: str  # "reading it" (never stored) or "moving it to Processed" (stored)
    graph_code: str
    folder: str  # NEEDS_ATTENTION_FOLDER, "Inbox" (it could not be moved) or "gone"


@dataclass
class MailboxRun:
    stored: int = 0
    skipped: int = 0  # drafts: made in the mailbox, never received
    complete: bool = False  # the whole round was read and its delta link saved
    set_aside: list[SetAside] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "skipped": self.skipped,
            "set_aside": len(self.set_aside),
            "complete": self.complete,
        }


class MailboxIntake:
    def __init__(
        self,
        mailbox: GraphMailbox,
        writer: RawMailWriter,
        links: DeltaLinks,
        mailbox_domain: str,
        seconds_left: Callable[[], float],
        notices: SetAsideNotices,
    ) -> None:
        self.mailbox = mailbox
        self.writer = writer
        self.links = links
        self.mailbox_domain = mailbox_domain
        self.seconds_left = seconds_left
        self.notices = notices
        self._needs_attention: str | None = None

    def run(self, now: datetime) -> MailboxRun:
        run = MailboxRun()
        link = self.links.mailbox_delta_link()
        if link is None:
            # Kept before anything can fail: a first round cut short starts again from its
            # own moment, not a later run's (whose look-back may have passed unread mail).
            link = self.mailbox.first_round(now - FIRST_ROUND_LOOKBACK)
            self.links.save_mailbox_delta_link(link)
        folder = self.mailbox.processed_folder()
        delta_link = None
        for page in self.mailbox.changes(link):
            for message in page.get("value", []):
                if "@removed" in message:
                    continue  # moved out (by us) or deleted
                if message.get("isDraft"):
                    run.skipped += 1  # not received mail: no receiving server vouches for it
                    continue
                if self.seconds_left() < SECONDS_PER_MESSAGE:
                    return run  # the next run reads this round again from its start
                message_id = str(message["id"])
                try:
                    raw = stamped(self.mailbox.mime(message_id), self.mailbox_domain)
                except GraphError as error:
                    if not concerns_one_message(error):
                        raise
                    run.set_aside.append(self._set_aside(message_id, error))
                    continue
                self.writer.put(raw_mail_key(graph_message_key(message_id)), raw)
                run.stored += 1
                try:
                    self.mailbox.move(message_id, folder)
                except GraphError as error:
                    if not concerns_one_message(error):
                        raise
                    # Stored: the intake answers it. Left where it is, for an admin to move.
                    code = _graph_code(error)
                    run.set_aside.append(
                        SetAside(message_id, "moving it to Processed", code, "Inbox")
                    )
            delta_link = page.get("@odata.deltaLink") or delta_link
        if delta_link:
            self.links.save_mailbox_delta_link(delta_link)
            run.complete = True
        return run

    def _set_aside(self, message_id: str, error: GraphError) -> SetAside:
        """The coordinators told first (once per email, so a run that dies here tells them
        no more than once), then the email moved out of the round's way."""
        code, stage = _graph_code(error), "reading it"
        self.notices.set_aside(graph_message_key(message_id), code, stage)
        if self._needs_attention is None:
            self._needs_attention = self.mailbox.folder(NEEDS_ATTENTION_FOLDER)
        try:
            moved = self.mailbox.move(message_id, self._needs_attention)
        except GraphError as refused:
            if not concerns_one_message(refused):
                raise
            # Past it all the same: the next round starts after it, and it stays in the
            # Inbox for the team (who have been told).
            return SetAside(message_id, stage, code, "Inbox")
        return SetAside(message_id, stage, code, NEEDS_ATTENTION_FOLDER if moved else "gone")


class RegisterSetAsideNotices:
    """The coordinators' notice about a set-aside email, recorded in the register's outbox
    (the MailboxFunction's role may write these keys only)."""

    def __init__(self, register: Any, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.register = register
        self.settings = settings
        self.clock = clock

    def set_aside(self, message_key: str, graph_code: str, stage: str) -> None:
        now = self.clock()
        # Already recorded: told on an earlier run that did not get past it.
        with contextlib.suppress(AlreadyRecordedError):
            self.register.record_change(
                set_aside_change(self.settings, message_key, graph_code, stage, now), now
            )


def _graph_code(error: GraphError) -> str:
    """Graph's status and error code (`404 ErrorItemNotFound`), fit for a log or an email."""
    return f"{error.status} {_CODE.sub('', error.code)[:64]}"


def mailbox_intake(settings: Settings, seconds_left: Callable[[], float]) -> MailboxIntake:
    """The MailboxFunction's wiring."""
    from shared.adapters import client
    from shared.adapters.graph import graph_client
    from shared.adapters.register_table import RegisterTable
    from shared.clock import CLOCK

    register = RegisterTable(client("dynamodb"), settings.table_name)
    return MailboxIntake(
        GraphMailbox(graph_client(settings, seconds_left), settings.graph_mailbox),
        S3RawMailWriter(client("s3"), settings.raw_mail_bucket),
        register,
        domain_of(settings.graph_mailbox),
        seconds_left,
        RegisterSetAsideNotices(register, settings, CLOCK.now),
    )
