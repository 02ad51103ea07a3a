"""Every email we send says it is automatic (RFC 3834), so no out-of-office responder or
auto-answering inbox replies to it and no loop of replies starts: `Auto-Submitted:
auto-replied` on every email, and Exchange's `X-Auto-Response-Suppress: All`. Checked on the request as botocore validates it against the
SES v2 model (botocore's Stubber: no network, no moto), by both ways of sending."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters.mailer import SesMailer
from shared.case import EmailAttachment, EmailEffect, EmailPurpose
from shared.mail import Attachment


def _email(purpose: EmailPurpose, **extra: Any) -> EmailEffect:
    return EmailEffect(
        purpose=purpose,
        to=("sam.patel@nhs.net",),
        subject="DSR referral accepted - case DSR-7K3F9QAB",
        body="Thank you.\n",
        **extra,
    )


def _sent(email: EmailEffect, files: tuple[Attachment, ...] = ()) -> dict[str, Any]:
    """The request SesMailer makes, validated by botocore against the SES v2 model."""
    client = boto3.client(
        "sesv2",
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    captured: dict[str, Any] = {}

    def keep(params: dict[str, Any], **_: Any) -> None:
        captured.update(params)

    client.meta.events.register("before-parameter-build.sesv2.SendEmail", keep)
    with Stubber(client) as stubber:
        # No expected parameters: botocore still validates the request against the model.
        stubber.add_response("send_email", {"MessageId": "m-1"})
        assert SesMailer(client, "bromley.dsr@nhs.net").send(email, files) == "m-1"
        stubber.assert_no_pending_responses()
    return captured


def _expected(purpose: EmailPurpose) -> str:
    return "auto-replied"  # every email, whatever its purpose (issue #10)


@pytest.mark.parametrize("purpose", list(EmailPurpose))
def test_a_plain_email_carries_auto_submitted(purpose: EmailPurpose) -> None:
    simple = _sent(_email(purpose))["Content"]["Simple"]
    headers = {header["Name"]: header["Value"] for header in simple["Headers"]}
    assert headers == {
        "Auto-Submitted": _expected(purpose),
        "X-Auto-Response-Suppress": "All",
    }


@pytest.mark.parametrize("purpose", list(EmailPurpose))
def test_an_email_with_files_carries_auto_submitted(purpose: EmailPurpose) -> None:
    attachment = EmailAttachment(filename="panel-pack.csv", content_type="text/csv", text="a,b\n")
    files = (Attachment(position=1, content_type="application/pdf", content=b"%PDF-1.7\n"),)
    raw = _sent(_email(purpose, attachments=(attachment,)), files)["Content"]["Raw"]["Data"]
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_all("Auto-Submitted") == [_expected(purpose)]
    assert message.get_all("X-Auto-Response-Suppress") == ["All"]


def test_our_own_emails_would_be_taken_for_automatic_ones() -> None:
    """What we send, come back to our inbox, is recorded without an answer."""
    from shared.mail import parse_mail

    files = (Attachment(position=1, content_type="application/pdf", content=b"%PDF-1.7\n"),)
    raw = _sent(_email(EmailPurpose.REJECTION), files)["Content"]["Raw"]["Data"]
    assert parse_mail(raw).automatic
