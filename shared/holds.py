"""Withdrawals from outside the team, held until a coordinator confirms them.

A withdrawal erases a child's case for good. The coordinators and the named panel members
may withdraw directly; from any other (trusted) sender the form is held: nothing is looked
up or erased, the coordinators get the form's details with a hold reference, and the
withdrawal is applied only when a coordinator replies `CONFIRM WITHDRAWAL HOLD-XXXXXXXX`
as the first line of their own text. The hold lapses after HOLD_DAYS.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from shared.forms.case_forms import Withdrawal

HOLD_DAYS = 30
HOLD_RETENTION = timedelta(days=HOLD_DAYS)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as case references: no 0/O or 1/I
_COMMAND = re.compile(r"confirm\s+withdrawal\s+(hold-?[a-z2-9]{8})\b", re.IGNORECASE)


def hold_reference_for(message_id: str) -> str:
    """A reference for the held email, random like the SES message id it is drawn from."""
    digest = hashlib.sha256(f"hold:{message_id}".encode()).digest()
    return "HOLD-" + "".join(_ALPHABET[byte % 32] for byte in digest[:8])


def confirmation_in(own_text: str) -> str | None:
    """The hold reference a coordinator confirms: only on the first line they wrote (a
    quoted copy of our instructions further down never counts)."""
    for line in own_text.splitlines():
        if not line.strip():
            continue
        match = _COMMAND.fullmatch(line.strip().rstrip(".!"))
        if match is None:
            return None
        code = match.group(1).upper().replace("HOLD", "").lstrip("-")
        return f"HOLD-{code}"
    return None


class HeldWithdrawal(BaseModel):
    """A withdrawal waiting for a coordinator, as the register keeps it (until HOLD_DAYS)."""

    model_config = ConfigDict(frozen=True)

    reference: str
    message_id: str
    sender: str
    withdrawal: Withdrawal
    received_at: datetime
    # The child's keyed hash (never the NHS number itself): a withdrawal of the child's case
    # removes every hold of theirs with it, and their held emails are erased with the case.
    person_key: str = ""
