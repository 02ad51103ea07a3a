"""Who may do what in the console: one table of the actions and the roles allowed each, the
audit labels, and how an action's event is keyed so a form sent twice is recorded once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shared.case import Actor, Decision, StaffRole
from shared.errors import ActionRefusedError
from shared.outcome import Reason, ReasonCode


class ConsoleAction(StrEnum):
    """Each action, named as its audit line labels it (a correction adds `:<field>`)."""

    VIEW_CASE = "console:view:case"
    VIEW_FILE = "console:view:file"  # one of a case's original files, downloaded
    VIEW_EMAIL = "console:view:email"  # a waiting email's text and files, in Triage
    EXPORT_SAR = "console:export:sar"
    CORRECT = "console:correct"
    REVIEW = "console:review"
    CLOSE = "console:close"
    WITHDRAW = "console:withdraw"
    ENTER_BY_HAND = "console:enter"
    RELEASE = "console:release"
    DISMISS = "console:dismiss"
    VERIFY = "console:verify"  # a self-referral, decided as from its sender
    DECLINE = "console:decline"  # a self-referral, its sender told
    NOTE = "console:noted"  # a bounced answer dealt with (the sender reached otherwise)
    CONFIRM_WITHDRAWAL = "console:confirm-withdrawal"  # a held withdrawal applied
    DECLINE_WITHDRAWAL = "console:decline-withdrawal"  # a held withdrawal dismissed
    VIEW_TRIAGE = "console:view:triage"


_COORDINATOR = frozenset({StaffRole.COORDINATOR})
_PANEL = frozenset({StaffRole.COORDINATOR, StaffRole.PANEL})

# The one table of who may do what. The panel reads the register and records its reviews,
# removal included (as a panel member's review form by email may); everything that changes
# what is held of a person otherwise, or erases it, is the coordinators'. An admin runs the
# service (the ops views) and sees no one's data.
ALLOWED: dict[ConsoleAction, frozenset[StaffRole]] = {
    ConsoleAction.VIEW_CASE: _PANEL,
    ConsoleAction.VIEW_FILE: _PANEL,
    ConsoleAction.VIEW_EMAIL: _COORDINATOR,
    ConsoleAction.EXPORT_SAR: _COORDINATOR,
    ConsoleAction.CORRECT: _COORDINATOR,
    ConsoleAction.REVIEW: _PANEL,
    ConsoleAction.CLOSE: _PANEL,
    ConsoleAction.WITHDRAW: _COORDINATOR,
    ConsoleAction.ENTER_BY_HAND: _COORDINATOR,
    ConsoleAction.RELEASE: _COORDINATOR,
    ConsoleAction.DISMISS: _COORDINATOR,
    ConsoleAction.VERIFY: _COORDINATOR,
    ConsoleAction.DECLINE: _COORDINATOR,
    ConsoleAction.NOTE: _COORDINATOR,
    ConsoleAction.CONFIRM_WITHDRAWAL: _COORDINATOR,
    ConsoleAction.DECLINE_WITHDRAWAL: _COORDINATOR,
    # The panel sees the cases waiting (reviews overdue, referrals about to lapse); the
    # emails waiting are the coordinators' (shared.console.triage).
    ConsoleAction.VIEW_TRIAGE: _PANEL,
}

ROLE_NAMES = {
    StaffRole.COORDINATOR: "DSR coordinator",
    StaffRole.PANEL: "DSR panel member",
    StaffRole.ADMIN: "DSR service admin",
}


def refusal(code: str, message: str, field: str | None = None) -> ActionRefusedError:
    """An action refused for one reason (a message for the page, naming no value)."""
    return ActionRefusedError(
        code, [Reason(code=ReasonCode.FIELD_INVALID, message=message, field=field)]
    )


def require(actor: Actor, action: ConsoleAction) -> None:
    if actor.role not in ALLOWED[action]:
        raise refusal(
            f"role:{actor.role.value}:{action.value}",
            f"A {ROLE_NAMES[actor.role]} may not do this ({action.value}).",
        )


# A one-time token of the console's form (random, URL-safe): a form sent twice is the same
# event, recorded once. No dot (it would read as a part of an email), no key separators.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


# Every console decision's event id begins so (an email's is its SES message id).
CONSOLE_EVENT = "console-"


def event_id_for(action: ConsoleAction, token: str) -> str:
    if not _TOKEN.fullmatch(token):
        raise refusal("token", "The form has expired or was not sent from the console.")
    return f"{CONSOLE_EVENT}{action.name.lower().replace('_', '-')}-{token}"


# A re-decision of an email is a sub-event of it, `<message id>.<kind>` like one child's part,
# so its case lists it, an erasure finds the email by it (shared.case.email_of), and each kind
# happens at most once: the register keeps one outcome per key.
TRIAGED = "triage"  # released or dismissed (verified or declined): one of them, once
ENTERED = "entry"  # its unreadable files typed in by hand, once


def redecision_id(message_id: str, kind: str) -> str:
    return f"{message_id}.{kind}"


@dataclass(frozen=True)
class ConsoleDecision:
    """A console action that comes to the same kind of decision an email does, recorded like
    one (RegisterTable.record) under `event_id`, audited with `label` and `actor`."""

    event_id: str
    label: str
    actor: Actor
    decision: Decision
    header_message_id: str | None = None  # a released email's: reserves its duplicate key
    # The triage item it deals with (shared.console.triage.TriageItem.item_id): it leaves
    # the queue in the transaction that records this decision.
    resolves: str | None = None
