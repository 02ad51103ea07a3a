"""The smoke test's deployed SES route, as far as moto goes: the referral is sent with SESv2
from the smoke address to the inbox through the stack's configuration set, and answers are
found under smoke/ by their In-Reply-To and deleted (only ours). What moto cannot show -
SES receiving it, DKIM-signing it with the intake domain's identity, DMARC passing, the
receipt rule storing the answer under smoke/ - is checked only by running it on AWS."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from moto.backends import get_backend

from infrastructure import ops
from infrastructure.local_stack import REGION, STACK_NAME, LocalStack
from infrastructure.smoke import synthetic_referral
from infrastructure.smoke_routes import SesRoute
from shared.mail import parse_mail
from shared.synthetic import is_test_nhs_number


def answer(to_message_id: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = "bromley.dsr@nhs.net"
    message["To"] = "dsr.smoke-test@nhs.net"
    message["Subject"] = subject
    message["In-Reply-To"] = to_message_id
    message["References"] = to_message_id
    message.set_content(f"{subject}: thank you.")
    return bytes(message)


def test_the_ses_route_sends_with_sesv2_and_finds_only_its_own_answer(stack: LocalStack) -> None:
    target = ops.LocalTarget(stack)
    route = SesRoute(target)
    referral = synthetic_referral(route.sender, route.inbox, 14, 17)
    backend = get_backend("ses")["123456789012"][REGION]
    before = len(backend.sent_messages)
    route.send(referral.raw)
    [sent] = backend.sent_messages[before:]
    assert sent.source == "dsr.smoke-test@nhs.net"
    assert list(dict.fromkeys(sent.destinations)) == ["bromley.dsr@nhs.net"]
    # The synthetic referral is one the intake reads as a referral for a test child.
    mail = parse_mail(sent.raw_data.encode("utf-8"))
    assert mail.sender == "dsr.smoke-test@nhs.net" and mail.header_message_id == referral.message_id
    assert [a.filename for a in mail.attachments] == ["referral.pdf", "consent.pdf"]
    assert is_test_nhs_number(referral.nhs_number)
    s3, bucket = stack.client("s3"), stack.resources["RawMailBucket"]
    assert route.answer_to(referral.message_id) is None
    s3.put_object(Bucket=bucket, Key="smoke/other", Body=answer("<other@nhs.net>", "Other"))
    s3.put_object(Bucket=bucket, Key="smoke/ours", Body=answer(referral.message_id, "DSR-ABCDEFGH"))
    found = route.answer_to(referral.message_id)
    assert found is not None and found.subject == "DSR-ABCDEFGH"
    assert "thank you" in found.body
    assert route.clean_up(referral.message_id) == 1
    left = s3.list_objects_v2(Bucket=bucket, Prefix="smoke/")["Contents"]
    assert [entry["Key"] for entry in left] == ["smoke/other"]  # another run's: kept
    s3.delete_object(Bucket=bucket, Key="smoke/other")


def test_a_deployed_stack_gives_its_parameters(stack: LocalStack) -> None:
    deployed = ops.DeployedStack(STACK_NAME)
    assert deployed.parameter("SmokeTestAddress") == "dsr.smoke-test@nhs.net"
    assert deployed.parameter("InboxAddress") == "bromley.dsr@nhs.net"
    assert deployed.parameter("NoSuchParameter") == ""


def test_without_a_smoke_address_the_route_says_what_to_deploy(stack: LocalStack) -> None:
    class NoSmokeAddress(ops.LocalTarget):
        def parameter(self, name: str) -> str:
            return "" if name == "SmokeTestAddress" else super().parameter(name)

    with pytest.raises(ops.OpsError, match="has no SmokeTestAddress"):
        SesRoute(NoSmokeAddress(stack))


def test_the_smoke_takes_the_graph_route_and_refuses_it_without_a_smoke_mailbox(
    stack: LocalStack,
) -> None:
    """A stack whose InboundRoute is graph gets the Graph route, which refuses before it
    sends when the stack has no SmokeTestMailbox (locally as on AWS)."""
    from argparse import Namespace

    from infrastructure.cli import _smoke

    class GraphRoute(ops.LocalTarget):
        def parameter(self, name: str) -> str:
            routes = ("InboundRoute", "OutboundRoute")
            return "graph" if name in routes else super().parameter(name)

    backend = get_backend("ses")["123456789012"][REGION]
    before = len(backend.sent_messages)
    for args in (Namespace(stack=None, local_stack=stack), Namespace(stack="x", wait=1)):
        with pytest.raises(ops.OpsError, match="has no SmokeTestMailbox"):
            _smoke(GraphRoute(stack), args)
    assert len(backend.sent_messages) == before  # nothing was sent
