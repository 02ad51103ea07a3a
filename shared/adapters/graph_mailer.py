"""Sending the intake's emails from the Microsoft 365 / NHSmail shared mailbox through Graph
`sendMail`: the same MIME SesMailer sends, saved to the mailbox's Sent Items, from the
address referrers already know.

The contract is SesMailer's (shared.effects relies on it for at-most-once sending): Graph
answering 4xx (a 429 still there after the waits Graph asked for) means it did not send
(MailNotSentError); a lost connection, a timeout or a 5xx propagates: the outcome is unknown.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from email.utils import make_msgid

from shared.adapters.graph import GraphClient, GraphError
from shared.adapters.mailer import mime_message
from shared.blank_forms import BlankForm
from shared.case import EmailEffect
from shared.errors import MailNotSentError
from shared.mail import Attachment
from shared.mail.reports import CASE_HEADER, PURPOSE_HEADER
from shared.settings import domain_of


class GraphMailer:
    def __init__(self, graph: GraphClient, mailbox: str) -> None:
        self.graph = graph
        self.mailbox = mailbox
        self.path = f"/users/{urllib.parse.quote(mailbox, safe='@')}/sendMail"

    def send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment] = (),
        case_reference: str | None = None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        """Send once; returns the Message-ID we gave it. What SES tags for its bounce
        reports goes in our own headers here (shared.mail.reports): Exchange sends its
        reports to the mailbox, with the email's headers, and the intake reads them there.
        The purpose and the case reference only: the subject already carries the reference,
        to the same recipients."""
        message = mime_message(self.mailbox, email, files, forms)
        message_id = make_msgid(domain=domain_of(self.mailbox) or None)
        message["Message-ID"] = message_id
        message[PURPOSE_HEADER] = email.purpose.value
        if case_reference:
            message[CASE_HEADER] = case_reference
        try:
            self.graph.send_mime(self.path, message.as_bytes())
        except GraphError as error:
            if 400 <= error.status < 500:
                raise MailNotSentError(
                    f"the mail service refused the email: {error.code}"
                ) from None
            raise
        return message_id
