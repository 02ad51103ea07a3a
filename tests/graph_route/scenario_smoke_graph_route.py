"""`dsr-intake ops smoke` on the Graph route, on an embedded stack of its own
(InboundRoute=OutboundRoute=graph, SmokeTestMailbox set): smoke mailbox -> sendMail -> the
shared mailbox -> MailboxFunction -> intake -> GraphMailer -> the smoke mailbox's Inbox; and
the deployed route's Graph calls against a local Graph.

Run by tests/integration/test_graph_route.py in a process of its own (one embedded
stack per process).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from infrastructure import ops
from infrastructure.local_graph import LocalGraphMailbox
from infrastructure.local_stack import LocalStack, sent_emails
from infrastructure.smoke import SmokeFailedError, SmokeTest, synthetic_referral
from infrastructure.smoke_graph_route import GraphRoute, LocalGraphRoute
from shared.adapters import client
from shared.adapters.mail_store import raw_mail_key

MAILBOX = "bromley.dsr@nhs.net"
SMOKE = "dsr.smoke-mailbox@nhs.net"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    parameters = {
        "InboundRoute": "graph",
        "OutboundRoute": "graph",
        "GraphMailbox": MAILBOX,
        "SmokeTestMailbox": SMOKE,
    }
    with LocalStack(parameters) as local:
        yield local


@pytest.fixture
def target(stack: LocalStack) -> ops.LocalTarget:
    return ops.LocalTarget(stack)


def smoke(target: ops.LocalTarget, stack: LocalStack, said: list[str]) -> SmokeTest:
    route = LocalGraphRoute(target, stack)
    return SmokeTest(target, route, said.append, wait_seconds=1, poll_seconds=0.2)


def smoke_mailbox(stack: LocalStack) -> tuple[list[EmailMessage], list[EmailMessage]]:
    assert stack.graph is not None
    return stack.graph.inbox_messages(SMOKE), stack.graph.sent_items(SMOKE)


def test_the_smoke_passes_on_the_graph_route_and_leaves_nothing(
    stack: LocalStack, target: ops.LocalTarget
) -> None:
    assert stack.graph is not None
    said: list[str] = []
    run = smoke(target, stack, said)
    assert run.referral.raw.count(SMOKE.encode()) >= 1  # from the smoke mailbox
    run.send()
    run.await_outcome()
    assert run.ses_message_id is not None and run.case_id is not None
    # The shared mailbox got it as internal mail, and the MailboxFunction proved it so.
    stored = (
        stack.client("s3")
        .get_object(Bucket=stack.resources["RawMailBucket"], Key=raw_mail_key(run.ses_message_id))[
            "Body"
        ]
        .read()
    )
    assert stored.startswith(
        b"Authentication-Results: mailbox.dsr-intake.invalid; dmarc=pass (internal"
    )
    assert b"X-MS-Exchange-Organization-AuthAs: Internal" in stored
    assert b"X-SES-Spam-Verdict: GRAY" in stored  # SCL -1: internal mail is not filtered
    run.await_answer_and_schedule()
    [answer] = smoke_mailbox(stack)[0]
    assert answer["From"] == MAILBOX and answer["In-Reply-To"] == run.referral.message_id
    assert run.case_id in answer["Subject"] + answer.get_body().get_content()  # type: ignore[union-attr]
    erased = run.erase_and_clean_up()
    assert (
        erased
        == f"{run.case_id} erased (test data): its tombstone is kept; smoke messages deleted: 1"
    )
    run.check_nothing_left()
    # Its own messages are gone from the smoke mailbox, Inbox and Sent Items.
    assert smoke_mailbox(stack) == ([], [])
    assert sent_emails() == []  # nothing went through SES
    printed = "\n".join(said)
    for detail in run.referral.details():
        assert detail not in printed


def test_the_smoke_finds_its_answer_when_exchange_gives_its_own_message_id(
    stack: LocalStack, target: ops.LocalTarget
) -> None:
    assert stack.graph is not None
    stack.graph.replaces_message_ids = True
    try:
        run = smoke(target, stack, [])
        lines = run.run()
    finally:
        stack.graph.replaces_message_ids = False
    assert lines[0].startswith(f"smoke test passed: case {run.case_id} accepted")
    sent_as = run.route.message_id_sent(run.referral.message_id)
    assert sent_as is not None and sent_as != run.referral.message_id
    assert run._left_over() is None
    assert smoke_mailbox(stack) == ([], [])


def test_the_smoke_fails_clearly_when_the_answer_never_comes_and_still_erases(
    stack: LocalStack, target: ops.LocalTarget
) -> None:
    """The fault: the app may no longer send as the shared mailbox (403), so the
    acknowledgement is never sent."""
    assert stack.graph is not None
    said: list[str] = []
    run = smoke(target, stack, said)
    stack.graph.throttle(100, 0, status=403, path_part=f"/users/{MAILBOX}/sendMail")
    try:
        with pytest.raises(SmokeFailedError) as failed:
            run.run()
    finally:
        stack.graph.state.throttles.clear()
    message = str(failed.value)
    assert "no acknowledgement threaded to it yet after 1 seconds" in message
    assert f"{run.case_id} erased (test data)" in message
    assert any(line.startswith("   waiting for the acknowledgement") for line in said)
    assert run._left_over() is None  # the failed run still erased its case
    assert smoke_mailbox(stack) == ([], [])  # and deleted its referral's copy


class _Deployed(ops.LocalTarget):
    """A stack whose Graph secret is the one the test made (for a Graph of its own)."""

    def __init__(self, stack: LocalStack, secret_arn: str) -> None:
        super().__init__(stack)
        self.secret_arn = secret_arn

    def resource(self, logical_id: str) -> str:
        return self.secret_arn if logical_id == "GraphSecret" else super().resource(logical_id)


@pytest.fixture
def graph(stack: LocalStack) -> Iterator[tuple[LocalGraphMailbox, ops.Target]]:
    with LocalGraphMailbox(MAILBOX, (SMOKE,)) as local:
        secret = client("secretsmanager").create_secret(
            Name="smoke-route-test", SecretString=json.dumps(local.credentials)
        )
        try:
            yield local, _Deployed(stack, secret["ARN"])
        finally:
            client("secretsmanager").delete_secret(
                SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True
            )


def answer(to: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = MAILBOX
    message["To"] = SMOKE
    message["Subject"] = subject
    message["In-Reply-To"] = to
    message.set_content(f"{subject}: thank you.")
    return bytes(message)


def test_the_deployed_graph_route_sends_as_the_smoke_mailbox_and_finds_only_its_answer(
    graph: tuple[LocalGraphMailbox, Any],
) -> None:
    local, target = graph
    route = GraphRoute(target, local.api_url, local.url)  # credentials: the stack's secret
    referral = synthetic_referral(route.sender, route.inbox, 14, 17)
    assert (route.sender, route.inbox) == (SMOKE, MAILBOX)
    assert route.message_id_sent(referral.message_id) is None  # not sent yet
    route.send(referral.raw)
    # Sent with sendMail from the smoke mailbox: in its Sent Items, and in the shared
    # mailbox's Inbox as Exchange delivers internal mail.
    [copy] = local.sent_items(SMOKE)
    assert copy["X-DSR-Smoke"] and copy["X-DSR-Smoke"] in copy["Subject"]
    [delivered] = local.inbox_messages(MAILBOX)
    assert delivered["X-MS-Exchange-Organization-AuthAs"] == "Internal"
    assert delivered["X-MS-Exchange-Organization-SCL"] == "-1"
    assert delivered["Message-ID"] == referral.message_id
    assert route.message_id_sent(referral.message_id) == referral.message_id
    assert route.answer_to(referral.message_id) is None
    local.deliver(answer("<other@nhs.net>", "Other"), mailbox=SMOKE)
    local.deliver(answer(referral.message_id, "DSR-ABCDEFGH"), mailbox=SMOKE)
    found = route.answer_to(referral.message_id)
    assert found is not None and found.subject == "DSR-ABCDEFGH" and "thank you" in found.body
    assert route.clean_up(referral.message_id) == 1
    # Its answer and its Sent Items copy deleted for good; another run's answer kept.
    assert [m["Subject"] for m in local.inbox_messages(SMOKE)] == ["Other"]
    assert local.sent_items(SMOKE) == []
    calls = [(method, path) for method, path, _ in local.requests()]
    assert ("POST", f"/v1.0/users/{SMOKE}/sendMail") in calls
    assert sum(path.endswith("/permanentDelete") for _, path in calls) == 2
    assert all(f"/users/{SMOKE}/" in path for _, path in calls if path.startswith("/v1.0/"))


def test_a_mailbox_outside_the_policy_is_refused(graph: tuple[LocalGraphMailbox, Any]) -> None:
    """The application access policy: the app reaches its group's mailboxes only."""
    local, target = graph

    class Elsewhere(_Deployed):
        def parameter(self, name: str) -> str:
            return "someone.else@nhs.net" if name == "SmokeTestMailbox" else super().parameter(name)

    route = GraphRoute(Elsewhere(target.stack, target.secret_arn), local.api_url, local.url)
    with pytest.raises(Exception, match="403"):
        route.send(synthetic_referral(route.sender, route.inbox, 14, 17).raw)
    assert local.inbox_messages(MAILBOX) == []
