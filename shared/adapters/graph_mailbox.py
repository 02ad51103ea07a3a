"""The Graph route in: new mail in the shared mailbox's Inbox, stored in the mail bucket
exactly where SES would put it, then moved to "Processed".

From the bucket on it is the same pipeline (S3 notification -> IntakeQueue -> intake). Each
email is stored under `inbound/<key>`, the key a hash of Graph's immutable id: no personal
data, and the same for the same message, so a run that dies between storing and moving
stores it again under the same key next time (an overwrite, with the same bytes), and the
intake, finding the outcome already recorded, stays silent. The delta link is saved only
after a whole round, so a round cut short is read again from where the last one ended (the
very first round's query is saved before it is read, for the same reason).
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.adapters.graph import GraphClient, GraphError
from shared.adapters.graph_verdicts import stamped
from shared.adapters.mail_store import raw_mail_key
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


class DeltaLinks(Protocol):
    def mailbox_delta_link(self) -> str | None: ...

    def save_mailbox_delta_link(self, delta_link: str) -> None: ...


class RawMailWriter(Protocol):
    def put(self, key: str, raw: bytes) -> None: ...


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
        """The "Processed" folder's id, made at the top of the mailbox when missing."""
        query = urllib.parse.quote(f"displayName eq '{PROCESSED_FOLDER}'", safe="")
        for page in self.graph.pages(f"{self.base}/mailFolders?$filter={query}"):
            for folder in page.get("value", []):
                if folder.get("displayName") == PROCESSED_FOLDER:
                    return str(folder["id"])
        try:
            made = self.graph.post_json(
                f"{self.base}/mailFolders", {"displayName": PROCESSED_FOLDER}
            )
        except GraphError as error:
            if error.status != 409:
                raise
            return self.processed_folder()  # another run made it first
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

    def move(self, message_id: str, folder_id: str) -> None:
        try:
            self.graph.post_json(
                f"{self._message(message_id)}/move", {"destinationId": folder_id}, IMMUTABLE_IDS
            )
        except GraphError as error:
            if error.status != 404:  # gone already: moved by an earlier run, or by a person
                raise


@dataclass
class MailboxRun:
    stored: int = 0
    skipped: int = 0  # drafts: made in the mailbox, never received
    complete: bool = False  # the whole round was read and its delta link saved

    def summary(self) -> dict[str, Any]:
        return {"stored": self.stored, "skipped": self.skipped, "complete": self.complete}


class MailboxIntake:
    def __init__(
        self,
        mailbox: GraphMailbox,
        writer: RawMailWriter,
        links: DeltaLinks,
        mailbox_domain: str,
        seconds_left: Callable[[], float],
    ) -> None:
        self.mailbox = mailbox
        self.writer = writer
        self.links = links
        self.mailbox_domain = mailbox_domain
        self.seconds_left = seconds_left

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
                raw = stamped(self.mailbox.mime(message_id), self.mailbox_domain)
                self.writer.put(raw_mail_key(graph_message_key(message_id)), raw)
                self.mailbox.move(message_id, folder)
                run.stored += 1
            delta_link = page.get("@odata.deltaLink") or delta_link
        if delta_link:
            self.links.save_mailbox_delta_link(delta_link)
            run.complete = True
        return run


def mailbox_intake(settings: Settings, seconds_left: Callable[[], float]) -> MailboxIntake:
    """The MailboxFunction's wiring."""
    from shared.adapters import client
    from shared.adapters.graph import graph_client
    from shared.adapters.register_table import RegisterTable

    return MailboxIntake(
        GraphMailbox(graph_client(settings, seconds_left), settings.graph_mailbox),
        S3RawMailWriter(client("s3"), settings.raw_mail_bucket),
        RegisterTable(client("dynamodb"), settings.table_name),
        domain_of(settings.graph_mailbox),
        seconds_left,
    )
