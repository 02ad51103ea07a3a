"""The mailer threads an answer to the email it answers and attaches the blank forms the
outbox names (#13 part 2). Checked on the request as botocore validates it against the SES
v2 model (botocore's Stubber: no network, no moto), by both ways of sending; and the delivery
reads the forms from the package when it sends, never from the outbox item."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from shared.adapters.mailer import SesMailer
from shared.blank_forms import (
    BLANK_FORMS,
    CONSENT_FORM,
    REFERRAL_FORM,
    BlankForm,
    blank_forms_for,
    read_blank_form,
)
from shared.case import EmailEffect, EmailPurpose
from shared.effects import EffectDelivery
from shared.mail import Attachment
from shared.notices import Notices
from shared.schedules import ScheduleSync
from shared.settings import Settings
from tests.conftest import NOW
from tests.outbox_fakes import FakeMailer, MemoryOutbox, MemoryScheduler

THEIR_ID = "<CAF7pQ2x.9d1@mail.nhs.net>"
CHAIN = ("<first.1@mail.nhs.net>", THEIR_ID)


def _answer(**extra: Any) -> EmailEffect:
    return EmailEffect(
        purpose=EmailPurpose.REJECTION,
        to=("sam.patel@nhs.net",),
        subject="Re: DSR referral",
        body="We could not accept what you sent.\n",
        **extra,
    )


def _sent(
    email: EmailEffect,
    files: tuple[Attachment, ...] = (),
    forms: tuple[BlankForm, ...] = (),
) -> dict[str, Any]:
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
        stubber.add_response("send_email", {"MessageId": "m-1"})
        mailer = SesMailer(client, "bromley.dsr@nhs.net")
        assert mailer.send(email, files, "DSR-7K3F9QAB", forms=forms) == "m-1"
        stubber.assert_no_pending_responses()
    return captured


def _raw(request: dict[str, Any]) -> EmailMessage:
    message = message_from_bytes(request["Content"]["Raw"]["Data"], policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_plain_answer_threads_through_the_simple_headers() -> None:
    simple = _sent(_answer(in_reply_to=THEIR_ID, references=CHAIN))["Content"]["Simple"]
    headers = {header["Name"]: header["Value"] for header in simple["Headers"]}
    assert headers["In-Reply-To"] == THEIR_ID
    assert headers["References"] == " ".join(CHAIN)
    assert headers["Auto-Submitted"] == "auto-replied"


def test_an_email_that_answers_nothing_has_no_threading_headers() -> None:
    simple = _sent(_answer())["Content"]["Simple"]
    names = {header["Name"] for header in simple["Headers"]}
    assert "In-Reply-To" not in names and "References" not in names
    raw = _raw(_sent(_answer(), forms=(read_blank_form(REFERRAL_FORM),)))
    assert raw["In-Reply-To"] is None and raw["References"] is None


def test_the_blank_forms_go_raw_under_their_own_names_with_the_threading_headers() -> None:
    forms = tuple(read_blank_form(name) for name in (REFERRAL_FORM, CONSENT_FORM))
    original = Attachment(position=2, content_type="application/pdf", content=b"%PDF-1.7\n",
                          filename="Amira Okafor-Lewis.pdf")  # fmt: skip
    message = _raw(
        _sent(_answer(in_reply_to=THEIR_ID, references=CHAIN), (original,), forms)
    )
    assert message["In-Reply-To"] == THEIR_ID
    assert message["References"].split() == list(CHAIN)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached == {
        "original-attachment-2.pdf": b"%PDF-1.7\n",  # never by the sender's filename
        REFERRAL_FORM: forms[0].content,
        CONSENT_FORM: forms[1].content,
    }
    assert all(part.get_content_type() == "application/pdf" for part in message.iter_attachments())


def test_every_blank_form_is_shipped_in_the_package_as_a_pdf() -> None:
    for name in BLANK_FORMS:
        assert read_blank_form(name).content.startswith(b"%PDF-")
    with pytest.raises(ValueError):
        read_blank_form("../email/rejection.txt")


@pytest.mark.parametrize(
    ("forms", "expected"),
    [
        (["DSR-REFERRAL-1"], (REFERRAL_FORM, CONSENT_FORM)),
        (["DSR-CONSENT-1", None], (REFERRAL_FORM, CONSENT_FORM)),
        ([None], (REFERRAL_FORM, CONSENT_FORM)),
        (["DSR-REVIEW-1"], ("dsr-review-outcome-form.pdf",)),
        (["DSR-WITHDRAWAL-1", "DSR-WITHDRAWAL-1"], ("dsr-withdrawal-form.pdf",)),
    ],
)
def test_which_blank_forms_a_rejection_brings(
    forms: list[str | None], expected: tuple[str, ...]
) -> None:
    assert blank_forms_for(forms) == expected


def _deliver(email: EmailEffect) -> tuple[FakeMailer, MemoryOutbox, str]:
    mailer, outbox = FakeMailer(), MemoryOutbox()
    [outbox_id] = outbox.add("m", [email], None, NOW)
    delivery = EffectDelivery(
        outbox,
        mailer,
        ScheduleSync(outbox, MemoryScheduler(), Settings(), lambda: NOW),
        None,  # type: ignore[arg-type]  # no originals to read
        Notices(Settings()),
        lambda: NOW,
    )
    return mailer, outbox, delivery.deliver(outbox_id)


def test_the_delivery_attaches_the_forms_the_outbox_item_names() -> None:
    mailer, outbox, done = _deliver(_answer(blank_forms=(REFERRAL_FORM, CONSENT_FORM)))
    assert done == "email:rejection:files=0:forms=2" and outbox.items == {}
    assert mailer.forms == [(REFERRAL_FORM, CONSENT_FORM)]


def test_a_form_missing_from_the_package_still_lets_the_answer_go_and_says_so() -> None:
    mailer, _, _ = _deliver(_answer(blank_forms=(REFERRAL_FORM, "dsr-unknown-form.pdf")))
    [(sent, _)] = mailer.sent
    assert mailer.forms == [(REFERRAL_FORM,)]
    assert "could not be attached" in sent.body
