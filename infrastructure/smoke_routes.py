"""How the smoke test reaches the DSR inbox and hears its answer: one small interface a route
implements (send a raw email to the inbox; find the answer to a Message-ID; clean up what it
kept), so the rest of the smoke test is the same for every route.

- `SesRoute`, deployed: the referral is sent with SESv2 from `SmokeTestAddress` (an address at
  the intake domain, so the domain identity DKIM-signs it and DMARC passes) to the inbox;
  SES receives it like any referrer's email. The answer, sent to `SmokeTestAddress`, is kept
  by the stack's `SmokeReceiptRule` under `smoke/` in the mail bucket (never `inbound/`: the
  intake does not read it), where the route finds it by its In-Reply-To.
- `LocalRoute`, the embedded stack: the same, with the local stack playing SES's receiving
  (moto runs no receipt rules): what moto's SES recorded as sent to an address of a receipt
  rule is stored under that rule's prefix with the verdict headers SES adds, and the
  pipeline runs.

- `GraphRoute` and `LocalGraphRoute` (`smoke_graph_route`): the Microsoft 365 / NHSmail
  route, from `SmokeTestMailbox` to the shared mailbox by Graph `sendMail`, the answer read
  from the smoke mailbox's Inbox.

`route_for` picks the route by the stack's `InboundRoute`: the way in is what the smoke test
proves; the answer comes back to the smoke sender by whichever `OutboundRoute` (see README).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP, default
from typing import Any, Protocol

from infrastructure.ops import OpsError, Target

SMOKE_PREFIX = "smoke/"


@dataclass(frozen=True)
class Answer:
    """What the smoke test reads of the answer it was sent (no personal data: the smoke
    referral is synthetic)."""

    sender: str
    subject: str
    body: str

    @classmethod
    def read(cls, raw: bytes) -> Answer:
        answer = message_from_bytes(raw, policy=default)
        assert isinstance(answer, EmailMessage)
        body = answer.get_body(preferencelist=("plain",))
        return cls(
            sender=str(answer.get("From", "")),
            subject=str(answer.get("Subject", "")),
            body=body.get_content() if body is not None else "",
        )


class MailRoute(Protocol):
    sender: str  # the smoke address the referral is from
    inbox: str  # the DSR inbox it goes to

    def send(self, raw: bytes) -> None:
        """Send this raw email (From the smoke address, To the inbox) into the inbox."""
        ...

    def message_id_sent(self, message_id: str) -> str | None:
        """The Message-ID the email went to the inbox with: `message_id`, or the one the
        sending service gave it instead (None: it does not show as sent yet; one look)."""
        ...

    def answer_to(self, message_id: str) -> Answer | None:
        """The answer whose In-Reply-To is `message_id`, if it has arrived (one look)."""
        ...

    def clean_up(self, message_id: str) -> int:
        """Delete every answer to `message_id` the route kept; how many were deleted."""
        ...


def is_answer_to(raw: bytes, message_id: str) -> bool:
    headers = BytesHeaderParser(policy=default).parsebytes(raw)
    return " ".join(str(headers.get("In-Reply-To", "")).split()) == message_id


class SesRoute:
    """A deployed stack's SES route (template: `SmokeTestAddress`, `SmokeReceiptRule`)."""

    def __init__(self, target: Target) -> None:
        self.sender = target.parameter("SmokeTestAddress")
        if not self.sender:
            raise OpsError(
                "the stack has no SmokeTestAddress: deploy it with one (an address at the "
                "intake domain) to run the smoke test"
            )
        self.inbox = target.parameter("InboxAddress")
        self.configuration_set = target.resource("OutboundConfigurationSet")
        self.bucket = target.resource("RawMailBucket")
        self.sesv2 = target.client("sesv2")
        self.s3 = target.client("s3")
        self.others: set[str] = set()  # answers to other emails, read once

    def send(self, raw: bytes) -> None:
        self.sesv2.send_email(
            FromEmailAddress=self.sender,
            Destination={"ToAddresses": [self.inbox]},
            Content={"Raw": {"Data": raw}},
            ConfigurationSetName=self.configuration_set,
        )

    def message_id_sent(self, message_id: str) -> str:
        return message_id  # SES keeps the Message-ID of a raw email

    def _kept(self, message_id: str) -> list[tuple[str, bytes]]:
        found = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=SMOKE_PREFIX):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                if key in self.others:
                    continue
                raw = bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
                if is_answer_to(raw, message_id):
                    found.append((key, raw))
                else:
                    self.others.add(key)
        return found

    def answer_to(self, message_id: str) -> Answer | None:
        return next((Answer.read(raw) for _, raw in self._kept(message_id)), None)

    def clean_up(self, message_id: str) -> int:
        keys = [key for key, _ in self._kept(message_id)]
        for key in keys:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        return len(keys)


class LocalRoute(SesRoute):
    """The embedded stack's SES route: sent as on AWS, received as SES would (see module)."""

    def __init__(self, target: Target, stack: Any) -> None:
        super().__init__(target)
        self.stack = stack
        self.seen = len(self._sent())

    @staticmethod
    def _sent() -> list[Any]:
        from moto.backends import get_backend

        from infrastructure.local_stack import REGION

        return list(get_backend("ses")["123456789012"][REGION].sent_messages)

    def send(self, raw: bytes) -> None:
        super().send(raw)
        while self._receive():
            # As on Lambda, what failed stays queued or in the outbox.
            with contextlib.suppress(RuntimeError):
                self.stack.run_pipeline()

    def _rules(self) -> dict[str, str]:
        """Each recipient of a receipt rule of the stack's rule set -> its S3 prefix."""
        ses = self.stack.client("ses")
        prefixes = {}
        for rule_set in ses.list_receipt_rule_sets().get("RuleSets", []):
            for rule in ses.describe_receipt_rule_set(RuleSetName=rule_set["Name"])["Rules"]:
                if not rule.get("Enabled", False):
                    continue  # SES skips a disabled rule
                for action in rule.get("Actions", []):
                    if "S3Action" in action and action["S3Action"]["BucketName"] == self.bucket:
                        for recipient in rule.get("Recipients", []):
                            prefixes[recipient.lower()] = action["S3Action"]["ObjectKeyPrefix"]
        return prefixes

    def _receive(self) -> int:
        """Store what SES sent since the last look to an address of a receipt rule, under
        the rule's prefix, as SES's receiving would; how many were stored."""
        from infrastructure.samples import passing_auth

        sent = self._sent()
        fresh, self.seen = sent[self.seen :], len(sent)
        rules = self._rules()
        stored = 0
        for message in fresh:
            raw = _raw(message)
            recipients = (
                message.destinations
                if isinstance(message.destinations, list)
                else message.destinations.get("ToAddresses", [])
            )
            for recipient in dict.fromkeys(address.lower() for address in recipients):
                if recipient not in rules:
                    continue  # mail to anyone else leaves SES for the internet
                verdicts = (
                    f"Authentication-Results: amazonses.com; {passing_auth(message.source)}\r\n"
                    "X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
                ).encode("ascii")
                self.s3.put_object(
                    Bucket=self.bucket,
                    Key=f"{rules[recipient]}{uuid.uuid4().hex}",
                    Body=verdicts + raw,
                )
                stored += 1
        return stored


def route_for(target: Target, local_stack: Any = None) -> MailRoute:
    """The stack's smoke route, by its InboundRoute (`local_stack`: the embedded stack's)."""
    from infrastructure.smoke_graph_route import GraphRoute, LocalGraphRoute

    way_in, way_out = (
        target.parameter(name) or "ses" for name in ("InboundRoute", "OutboundRoute")
    )
    if local_stack is not None and way_in != way_out:
        raise OpsError(
            f"the embedded stack cannot run the smoke test on a mixed route ({way_in} in, "
            f"{way_out} out): its answer would cross the internet; run it on AWS"
        )
    if way_in == "graph":
        return GraphRoute(target) if local_stack is None else LocalGraphRoute(target, local_stack)
    return SesRoute(target) if local_stack is None else LocalRoute(target, local_stack)


def _raw(message: Any) -> bytes:
    """A message moto's SES recorded, as the MIME it sent."""
    if hasattr(message, "raw_data"):
        return str(message.raw_data).encode("utf-8")
    email = EmailMessage(policy=SMTP)
    email["From"] = message.source
    email["To"] = ", ".join(message.destinations.get("ToAddresses", []))
    email["Subject"] = message.subject
    for name, value in getattr(message, "headers", {}).items():
        email[name] = value
    email.set_content(message.body)
    return email.as_bytes()
