"""The smoke test's Microsoft 365 / NHSmail route (`smoke_routes.MailRoute`).

Deployed (`GraphRoute`): the synthetic referral is sent with Graph `sendMail` (MIME) FROM
`SmokeTestMailbox`, a second mailbox of the tenant in the application access policy's group,
TO the shared mailbox `GraphMailbox`: internal mail, which the MailboxFunction's verdicts
prove only for the shared mailbox's own domain (so the smoke mailbox must be at it). The
credentials are the stack's own Graph secret, read with the admin's AWS credentials.

Exchange stamps the Message-ID of a message it sends at submission, and Graph's docs do not
promise to keep one given in the MIME; so the route does not rely on it. Its referral carries
a token of the run (`X-DSR-Smoke`, and in the subject, which Exchange keeps); the copy in the
smoke mailbox's Sent Items, found by the token, gives the Message-ID the email went out with
(`internetMessageId`); the answer is the Inbox message whose In-Reply-To is that. Clean-up
deletes both for good (`permanentDelete`: not left in Deleted Items).

Locally (`LocalGraphRoute`): the same calls against the embedded stack's local Graph, which
delivers the sendMail between its mailboxes as Exchange does; then the pipeline runs.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from email.parser import BytesHeaderParser
from email.policy import default
from typing import Any

from infrastructure.ops import OpsError, Target
from infrastructure.smoke import SMOKE_HEADER
from infrastructure.smoke_routes import Answer, is_answer_to
from shared.adapters.graph import GraphClient, secret_credentials
from shared.settings import Settings, domain_matches, domain_of

# The smoke mailbox is the smoke test's own: its newest messages are the run's.
NEWEST = 50


class GraphRoute:
    """A deployed stack's Graph route (template: `SmokeTestMailbox`, `GraphSecret`)."""

    def __init__(self, target: Target, api_url: str = "", login_url: str = "") -> None:
        self.sender = target.parameter("SmokeTestMailbox").lower()
        self.inbox = target.parameter("GraphMailbox").lower()
        _check_mailboxes(self.sender, self.inbox, target.parameter("AllowedSenderDomains"))
        defaults = Settings.model_fields
        self.graph = GraphClient(
            secret_credentials(target.client("secretsmanager"), target.resource("GraphSecret")),
            api_url or str(defaults["graph_api_url"].default),
            login_url or str(defaults["graph_login_url"].default),
        )
        self.base = f"/users/{urllib.parse.quote(self.sender, safe='@')}"
        self.tokens: dict[str, str] = {}  # the referral's Message-ID -> its token
        self.sent: dict[str, str] = {}  # the referral's Message-ID -> as it went out
        self.others: set[str] = set()  # Inbox messages that are not an answer, read once

    def send(self, raw: bytes) -> None:
        headers = BytesHeaderParser(policy=default).parsebytes(raw)
        token = str(headers.get(SMOKE_HEADER, ""))
        if not token:
            raise OpsError(f"the smoke referral has no {SMOKE_HEADER} token")
        self.tokens[str(headers["Message-ID"])] = token
        self.graph.send_mime(f"{self.base}/sendMail", raw)

    def _newest(self, folder: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode(
            {
                "$select": "id,subject,internetMessageId",
                "$orderby": "receivedDateTime desc",
                "$top": NEWEST,
            },
            quote_via=urllib.parse.quote,
        )
        page = self.graph.get_json(f"{self.base}/mailFolders/{folder}/messages?{query}")
        return list(page.get("value", []))

    def _sent_copies(self, message_id: str) -> list[dict[str, Any]]:
        token = self.tokens.get(message_id)
        if not token:
            return []
        return [m for m in self._newest("sentitems") if token in str(m.get("subject", ""))]

    def message_id_sent(self, message_id: str) -> str | None:
        if message_id not in self.sent:
            copies = self._sent_copies(message_id)
            if not copies or not copies[0].get("internetMessageId"):
                return None  # Exchange saves it to Sent Items a moment after the 202
            self.sent[message_id] = str(copies[0]["internetMessageId"])
        return self.sent[message_id]

    def _message(self, graph_id: str) -> str:
        return f"{self.base}/messages/{urllib.parse.quote(graph_id, safe='')}"

    def _kept(self, message_id: str) -> list[tuple[str, bytes]]:
        sent_as = self.message_id_sent(message_id)
        if sent_as is None:
            return []
        found = []
        for message in self._newest("inbox"):
            graph_id = str(message["id"])
            if graph_id in self.others:
                continue
            raw = self.graph.get_bytes(f"{self._message(graph_id)}/$value")
            if is_answer_to(raw, sent_as):
                found.append((graph_id, raw))
            else:
                self.others.add(graph_id)
        return found

    def answer_to(self, message_id: str) -> Answer | None:
        return next((Answer.read(raw) for _, raw in self._kept(message_id)), None)

    def clean_up(self, message_id: str) -> int:
        """Deletes the answers and the referral's copy in Sent Items for good; how many
        answers."""
        answers = [graph_id for graph_id, _ in self._kept(message_id)]
        copies = [str(m["id"]) for m in self._sent_copies(message_id)]
        for graph_id in answers + copies:
            self.graph.post_json(f"{self._message(graph_id)}/permanentDelete", {})
        return len(answers)


def _check_mailboxes(sender: str, inbox: str, allowed: str) -> None:
    """What the smoke mailbox must be for the intake to take its referral."""
    if not sender:
        raise OpsError(
            "the stack has no SmokeTestMailbox: deploy it with one (a second mailbox at the "
            "shared mailbox's domain, in the application access policy's group) to run the "
            "smoke test on the Graph route"
        )
    if sender == inbox:
        raise OpsError("SmokeTestMailbox must be another mailbox than the GraphMailbox")
    if domain_of(sender) != domain_of(inbox):
        raise OpsError(
            f"SmokeTestMailbox must be at the shared mailbox's domain ({domain_of(inbox)}): "
            "internal mail from another domain has no DMARC result and is quarantined"
        )
    domains = tuple(d.strip().lower() for d in allowed.split(",") if d.strip())
    if domains and not domain_matches(sender, domains):
        raise OpsError("SmokeTestMailbox's domain is not in AllowedSenderDomains")


class LocalGraphRoute(GraphRoute):
    """The embedded stack's Graph route: the same calls against its local Graph."""

    def __init__(self, target: Target, stack: Any) -> None:
        graph = stack.graph  # the stack's parameters are checked first, as on AWS
        super().__init__(target, graph.api_url if graph else "", graph.url if graph else "")
        if graph is None:
            raise OpsError("the embedded stack has no local Graph mailbox")
        self.stack = stack

    def send(self, raw: bytes) -> None:
        super().send(raw)
        # What the MailboxFunction's timer and the queues would do; as on Lambda, what
        # failed stays queued or in the outbox.
        with contextlib.suppress(RuntimeError):
            self.stack.run_pipeline()
