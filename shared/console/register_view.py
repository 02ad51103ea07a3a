"""The register as the console lists it: one row per case on the register, the flags a
coordinator scans for, the filters, and the searches (reference, NHS number, name).

The flags are the panel pack's own rules (shared.panel_pack), so the console, the pack and
the reminders never disagree about who is overdue (a review or a C(E)TR) or eligible for a
keyworker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shared.case import Case, CaseStatus
from shared.dates import add_months, age_on
from shared.identifiers import is_valid_nhs_number, normalise_nhs_number
from shared.intake import IdentityHasher
from shared.panel_pack import ctr_status, keyworker_status
from shared.rating import Rating
from shared.settings import Settings


class RegisterFilter(StrEnum):
    """The register's filters; any one at a time, over the open cases."""

    ALL = "all"
    OVERDUE = "overdue"
    CTR_OVERDUE = "ctr_overdue"  # a C(E)TR required or recommended and not held in time
    KEYWORKER = "keyworker"  # eligible for the keyworker programme and not yet referred
    TURNING_18 = "turning_18"  # leaves the register within the transition alert window
    PENDING = "pending"  # waiting for its other form

    @property
    def words(self) -> str:
        return "C(E)TR overdue" if self is RegisterFilter.CTR_OVERDUE else self.replace("_", " ")


@dataclass(frozen=True)
class RegisterRow:
    case_id: str
    name: str
    age: int | None
    status: CaseStatus
    rating: Rating | None
    next_review_on: date | None
    overdue: bool
    keyworker_not_referred: bool
    leaves_on: date | None  # the transition birthday, when it falls inside the alert window
    lapses_on: date | None = None  # a pending case's: when it lapses without its other form
    ctr_overdue: bool = False


def register_row(case: Case, settings: Settings, today: date) -> RegisterRow:
    child = case.child
    due = case.next_review_on
    leaves = case.transition_day(settings.transition_age)
    soon = add_months(today, settings.transition_alert_months)
    keyworker = keyworker_status(case, today)
    return RegisterRow(
        case_id=case.case_id,
        name=f"{child.given_name} {child.family_name}" if child else "",
        age=age_on(child.date_of_birth, today) if child else None,
        status=case.status,
        rating=case.rating,
        next_review_on=due,
        overdue=case.status is CaseStatus.ACTIVE and due is not None and due < today,
        keyworker_not_referred=keyworker.eligible and keyworker.referred_on is None,
        leaves_on=leaves
        if leaves and case.status is CaseStatus.ACTIVE and today <= leaves <= soon
        else None,
        lapses_on=case.pending_expires_at.date()
        if case.status.is_pending and case.pending_expires_at
        else None,
        ctr_overdue=case.status is CaseStatus.ACTIVE
        and ctr_status(case, today, settings.ctr_due_days).overdue,
    )


def _shown(row: RegisterRow, chosen: RegisterFilter) -> bool:
    return {
        RegisterFilter.ALL: True,
        RegisterFilter.OVERDUE: row.overdue,
        RegisterFilter.CTR_OVERDUE: row.ctr_overdue,
        RegisterFilter.KEYWORKER: row.keyworker_not_referred,
        RegisterFilter.TURNING_18: row.leaves_on is not None,
        RegisterFilter.PENDING: row.status.is_pending,
    }[chosen]


def register_rows(
    cases: Iterable[Case],
    settings: Settings,
    today: date,
    chosen: RegisterFilter = RegisterFilter.ALL,
) -> list[RegisterRow]:
    """The cases on the register (active or pending), the overdue first, then by next
    review and reference: the order a coordinator works through them."""
    rows = [
        register_row(case, settings, today)
        for case in cases
        if case.status is CaseStatus.ACTIVE or case.status.is_pending
    ]
    rows = [row for row in rows if _shown(row, chosen)]
    return sorted(
        rows, key=lambda row: (not row.overdue, row.next_review_on or date.max, row.case_id)
    )


def search(cases: Iterable[Case], query: str, hasher: IdentityHasher) -> list[Case]:
    """The cases a search names: a case reference exactly, an NHS number exactly (through the
    keyed hash, as the intake matches people), or else every word of the query in the
    child's name. Tombstones hold no name or number, so only a reference finds them."""
    words = query.split()
    if not words:
        return []
    every = list(cases)
    reference = query.strip().upper()
    by_reference = [case for case in every if case.case_id.upper() == reference]
    if by_reference:
        return by_reference
    if is_valid_nhs_number(query):
        key = hasher.person_key(normalise_nhs_number(query))
        return [case for case in every if case.person_key and case.person_key == key]
    wanted = [word.casefold() for word in words]
    found = []
    for case in every:
        child = case.child
        if child is None:
            continue
        name = f"{child.given_name} {child.family_name}".casefold()
        if all(word in name for word in wanted):
            found.append(case)
    return found
