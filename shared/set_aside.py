"""An email of the shared mailbox that Microsoft Graph will not let the MailboxFunction read
(its MIME refused, or it cannot be moved): set aside in a folder of its own so the mail
behind it still comes in, and the coordinators told once, through the outbox, so a person
handles it. Only Graph's error code and the folder are said: nothing of the email."""

from __future__ import annotations

from datetime import datetime

from shared.case import CaseChange
from shared.notices import Notices
from shared.settings import Settings

NEEDS_ATTENTION_FOLDER = "Needs attention"
# The register keys the MailboxFunction may write for these (template.yaml's policy).
SET_ASIDE_EVENT_PREFIX = "mailbox-set-aside-"


def set_aside_change(
    settings: Settings, message_key: str, graph_code: str, stage: str, now: datetime
) -> CaseChange:
    """The coordinators' notice about one set-aside email, once per email: `message_key` is
    its mail bucket name (a hash of Graph's immutable id), the same on every run."""
    return CaseChange(
        event_id=f"{SET_ASIDE_EVENT_PREFIX}{message_key}",
        label="mailbox:set_aside",
        effects=list(
            Notices(settings).mailbox_set_aside(graph_code, stage, NEEDS_ATTENTION_FOLDER, now)
        ),
    )
