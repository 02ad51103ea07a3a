"""What the mail service reports after sending: a bounce, a complaint or a refusal of one of
our answers reaches the coordinators with the case reference, so nobody waits for an email
that never arrived. Reports about the coordinators' own emails are logged, not emailed
(an alert to a bouncing address would bounce in turn)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.case import CaseChange, EmailPurpose
from shared.notices import Notices
from shared.settings import Settings

# Our emails to people outside the team: a failure means someone did not hear from us.
ANSWERS = frozenset({EmailPurpose.ACKNOWLEDGEMENT.value, EmailPurpose.REJECTION.value})


class _Recipient(BaseModel):
    emailAddress: str


class _Bounce(BaseModel):
    bounceType: str = "Undetermined"
    bouncedRecipients: list[_Recipient] = Field(default_factory=list)


class _Complaint(BaseModel):
    complainedRecipients: list[_Recipient] = Field(default_factory=list)


class _Mail(BaseModel):
    messageId: str
    timestamp: datetime
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class MailEvent(BaseModel):
    """An SES event publishing record (configuration set -> SNS), only what is read."""

    model_config = ConfigDict(populate_by_name=True)

    event_type: str = Field(alias="eventType")
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None

    def tag(self, name: str) -> str | None:
        values = self.mail.tags.get(name)
        return values[0] if values else None


def mail_problem(event: MailEvent, settings: Settings) -> CaseChange | None:
    """The coordinators' alert about one report, recorded once per SES message and type."""
    purpose = event.tag("purpose") or ""
    if purpose not in ANSWERS:
        return None
    if event.event_type == "Bounce" and event.bounce is not None:
        if event.bounce.bounceType == "Transient":
            return None  # SES keeps trying a soft bounce; only its final answer matters
        problem = "the address bounced it"
        recipients = [r.emailAddress for r in event.bounce.bouncedRecipients]
    elif event.event_type == "Complaint" and event.complaint is not None:
        problem = "the recipient marked it as spam"
        recipients = [r.emailAddress for r in event.complaint.complainedRecipients]
    elif event.event_type == "Reject":
        problem = "the mail service refused to send it"
        recipients = list(event.mail.destination)
    else:
        return None
    case_id = event.tag("case")
    notices = Notices(settings)
    return CaseChange(
        event_id=f"mail-{event.event_type.lower()}-{event.mail.messageId}",
        label=f"mail_problem:{event.event_type.lower()}",
        effects=list(
            notices.mail_problem(problem, purpose, case_id, recipients, event.mail.timestamp)
        ),
    )
