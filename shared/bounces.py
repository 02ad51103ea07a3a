"""The Graph route's bounces: a non-delivery report about one of our answers, come back into
the shared mailbox, reaches the coordinators with the case reference - the notice the SES
route's MailEventsFunction gives - once per bounced email. The report itself is quarantined
as every automatic email is; nothing of a case changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shared.case import Case, CaseStatus, Effect
from shared.mail import InboundMail
from shared.mail.trust import vouched_bounce
from shared.mail_events import ANSWERS
from shared.notices import Notices
from shared.settings import Settings

BOUNCED = "the address bounced it"  # the SES route's words (shared.mail_events)


class BounceRegister(Protocol):
    def case(self, case_id: str) -> Case | None: ...

    def first_submission_with_header(self, header_message_id: str) -> str | None: ...


@dataclass(frozen=True)
class BounceNotice:
    effects: list[Effect]
    answered_once: str  # reserved with the report's outcome: the next report is silent
    case_id: str | None  # the live case it names: the report is erased with it


def bounce_notice(
    mail: InboundMail, settings: Settings, register: BounceRegister, now: datetime
) -> BounceNotice | None:
    """The coordinators' notice about a vouched-for report, unless one was given already
    for the same email of ours (its Message-ID)."""
    report = vouched_bounce(mail, settings)
    # Reports about the coordinators' own emails are not emailed: an alert to a bouncing
    # address would bounce in turn (as on the SES route).
    if report is None or report.original_purpose not in ANSWERS:
        return None
    assert report.original_message_id is not None  # vouched for only with one
    once = f"bounced\n{report.original_message_id}"
    if register.first_submission_with_header(once) is not None:
        return None
    case = register.case(report.original_case) if report.original_case else None
    live = case if case is not None and case.status is not CaseStatus.WITHDRAWN else None
    effects = Notices(settings).mail_problem(
        BOUNCED,
        str(report.original_purpose),
        live.case_id if live else None,
        list(report.failed_recipients),
        mail.sent_at or now,
    )
    return BounceNotice(list(effects), once, live.case_id if live else None)
