"""GraphMailer: the same MIME as SesMailer's, sent from the shared mailbox through the local
Graph `sendMail` and kept in its Sent Items; SesMailer's contract (refused -> not sent; lost
-> unknown)."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest

from infrastructure.local_graph import LocalGraphMailbox
from shared.adapters.graph import MAX_ATTEMPTS, GraphClient, GraphCredentials, GraphError
from shared.adapters.graph_mailer import GraphMailer
from shared.adapters.mailer import mime_message
from shared.blank_forms import CONSENT_FORM, REFERRAL_FORM, read_blank_form
from shared.case import EmailEffect, EmailPurpose
from shared.errors import MailNotSentError
from shared.mail import Attachment

MAILBOX = "bromley.dsr@nhs.net"
THEIR_ID = "<CAF1234@mail.kent.gov.uk>"
ANSWER = EmailEffect(
    purpose=EmailPurpose.REJECTION,
    to=("sam.patel@nhs.net",),
    subject="Re: DSR referral",
    body="We could not accept what you sent.\n",
    in_reply_to=THEIR_ID,
    references=("<first@nhs.net>", THEIR_ID),
)


@pytest.fixture
def local() -> Iterator[LocalGraphMailbox]:
    with LocalGraphMailbox(MAILBOX) as graph:
        yield graph


def mailer(local: LocalGraphMailbox) -> GraphMailer:
    credentials = GraphCredentials.model_validate(local.credentials)
    graph = GraphClient(lambda: credentials, local.api_url, local.url, sleep=lambda _: None)
    return GraphMailer(graph, MAILBOX)


def test_the_mime_is_the_ses_mailers_and_lands_in_sent_items(local: LocalGraphMailbox) -> None:
    forms = tuple(read_blank_form(name) for name in (REFERRAL_FORM, CONSENT_FORM))
    original = Attachment(position=2, content_type="application/pdf", content=b"%PDF-1.7\n",
                          filename="Amira Okafor-Lewis.pdf")  # fmt: skip
    message_id = mailer(local).send(ANSWER, (original,), "DSR-0001", forms)
    [sent] = local.sent_items()
    expected = message_from_bytes(
        mime_message(MAILBOX, ANSWER, (original,), forms).as_bytes(), policy=policy.default
    )
    for header in ("From", "To", "Subject", "Auto-Submitted", "X-Auto-Response-Suppress",
                   "In-Reply-To", "References"):  # fmt: skip
        assert sent[header] == expected[header], header
    assert sent["Message-ID"] == message_id and message_id.endswith("@nhs.net>")
    attached = {part.get_filename(): part.get_content() for part in sent.iter_attachments()}
    assert attached == {
        "original-attachment-2.pdf": b"%PDF-1.7\n",  # never by the sender's filename
        REFERRAL_FORM: forms[0].content,
        CONSENT_FORM: forms[1].content,
    }


def test_throttling_is_waited_out_and_the_email_goes_once(local: LocalGraphMailbox) -> None:
    local.throttle(MAX_ATTEMPTS - 1, 1, path_part="/sendMail")
    mailer(local).send(ANSWER)
    assert len(local.sent_items()) == 1


def test_still_throttled_after_the_waits_is_not_sent(local: LocalGraphMailbox) -> None:
    local.throttle(MAX_ATTEMPTS, 1, path_part="/sendMail")
    with pytest.raises(MailNotSentError, match="TooManyRequests"):
        mailer(local).send(ANSWER)
    assert local.sent_items() == []


def test_a_refusal_is_not_sent_and_says_no_more_than_graphs_code(local: LocalGraphMailbox) -> None:
    local.throttle(1, 0, status=400, path_part="/sendMail")
    with pytest.raises(MailNotSentError) as raised:
        mailer(local).send(ANSWER)
    assert "sam.patel" not in str(raised.value) and "referral" not in str(raised.value)


def test_a_server_error_is_an_unknown_outcome_and_never_tried_again(
    local: LocalGraphMailbox,
) -> None:
    local.throttle(1, 0, status=503, path_part="/sendMail")
    with pytest.raises(GraphError) as raised:
        mailer(local).send(ANSWER)
    assert not isinstance(raised.value, MailNotSentError)
    sends = [r for r in local.requests() if r[1].endswith("/sendMail")]
    assert [status for _, _, status in sends] == [503]  # 503 may come after acceptance


def test_a_lost_connection_propagates_as_unknown(local: LocalGraphMailbox) -> None:
    graph_mailer = mailer(local)
    graph_mailer.graph.get_json(f"/users/{MAILBOX}/mailFolders")  # token fetched
    local.stop()
    with pytest.raises(urllib.error.URLError):
        graph_mailer.send(ANSWER)
