"""Sending the intake's emails with SES."""

from __future__ import annotations

from typing import Any

from shared.case import EmailEffect


class SesMailer:
    def __init__(self, ses: Any, from_address: str) -> None:
        self.ses = ses
        self.from_address = from_address

    def send(self, email: EmailEffect) -> str:
        response = self.ses.send_email(
            FromEmailAddress=self.from_address,
            Destination={"ToAddresses": list(email.to)},
            Content={
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
                }
            },
        )
        return str(response["MessageId"])
