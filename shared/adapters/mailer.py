"""Sending the intake's emails: with SES here, with Graph in `graph_mailer`; both build the
same MIME (`mime_message`)."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from botocore.exceptions import ClientError

from shared.blank_forms import BlankForm
from shared.case import EmailEffect
from shared.errors import MailNotSentError
from shared.mail import Attachment

# Our answers to the email they are about (RFC 3834 5.2); everything else we send (reminders,
# notifications, alerts, the panel pack) is generated, not a reply.


def automatic_headers(email: EmailEffect) -> list[tuple[str, str]]:
    """The headers that mark every email we send as automatic, so no responder answers it
    and no loop of replies starts: `Auto-Submitted: auto-replied` (RFC 3834; on every email,
    as the operators asked: responders skip any value but `no`), and
    `X-Auto-Response-Suppress: All`, which Exchange (NHSmail) honours for out-of-office
    replies and delivery receipts."""
    return [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]


def thread_headers(email: EmailEffect) -> list[tuple[str, str]]:
    """An answer to an email threads to it (RFC 5322 3.6.4): In-Reply-To its Message-ID,
    References its chain then its Message-ID. The ids were read as `<printable ASCII>`."""
    if not email.in_reply_to:
        return []
    references = " ".join(email.references or (email.in_reply_to,))
    return [("In-Reply-To", email.in_reply_to), ("References", references)]


class SesMailer:
    def __init__(self, ses: Any, from_address: str, configuration_set: str = "") -> None:
        self.ses = ses
        self.from_address = from_address
        self.configuration_set = configuration_set

    def send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment] = (),
        case_reference: str | None = None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        """Send once. SES answering with an error means it did not send (MailNotSentError);
        any other failure (a lost connection, a timeout) propagates: the outcome is unknown."""
        try:
            return self._send(email, files, case_reference, forms)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise MailNotSentError(f"the mail service refused the email: {code}") from None

    def _options(self, email: EmailEffect, case_reference: str | None) -> dict[str, Any]:
        # Tags come back with bounce and complaint events: the case, never the person.
        tags = [{"Name": "purpose", "Value": email.purpose.value}]
        if case_reference:
            tags.append({"Name": "case", "Value": case_reference})
        options: dict[str, Any] = {
            "FromEmailAddress": self.from_address,
            "Destination": {"ToAddresses": list(email.to)},
            "EmailTags": tags,
        }
        if self.configuration_set:
            options["ConfigurationSetName"] = self.configuration_set
        return options

    def _send(
        self,
        email: EmailEffect,
        files: Sequence[Attachment],
        case_reference: str | None,
        forms: Sequence[BlankForm],
    ) -> str:
        if email.attachments or files or forms:
            return self._send_raw(email, files, case_reference, forms)
        response = self.ses.send_email(
            **self._options(email, case_reference),
            Content={
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
                    "Headers": [
                        {"Name": name, "Value": value}
                        for name, value in [*automatic_headers(email), *thread_headers(email)]
                    ],
                }
            },
        )
        return str(response["MessageId"])

    def _send_raw(
        self,
        email: EmailEffect,
        files: Sequence[Attachment],
        case_reference: str | None,
        forms: Sequence[BlankForm] = (),
    ) -> str:
        message = mime_message(self.from_address, email, files, forms)
        response = self.ses.send_email(
            **self._options(email, case_reference),
            Content={"Raw": {"Data": message.as_bytes()}},
        )
        return str(response["MessageId"])


def mime_message(
    from_address: str,
    email: EmailEffect,
    files: Sequence[Attachment] = (),
    forms: Sequence[BlankForm] = (),
) -> EmailMessage:
    """The email as MIME, for every route that sends raw MIME (SES raw, Graph sendMail)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = from_address
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    for name, value in [*automatic_headers(email), *thread_headers(email)]:
        message[name] = value
    message.set_content(email.body)
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.text.encode("utf-8"),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        extension = mimetypes.guess_extension(file.content_type) or ""
        # Named by position, never by the sender's filename (it may name the child).
        message.add_attachment(
            file.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=f"original-attachment-{file.position}{extension}",
        )
    for form in forms:
        # Our own blank forms, under their own names (dsr-referral-form.pdf ...).
        message.add_attachment(
            form.content, maintype="application", subtype="pdf", filename=form.filename
        )
    return message
