"""The intake decision on an empty register, for benchmarks: no AWS, nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.holds import HeldWithdrawal
from shared.intake import IntakeContext, IntakeDecider
from shared.settings import Settings


class _EmptyRegister:
    def case_for_person(self, person_key: str) -> None:
        return None

    def case(self, case_id: str) -> None:
        return None

    def first_submission_with_header(self, header_message_id: str) -> None:
        return None

    def held_withdrawal(self, reference: str) -> None:
        return None

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        return []


class _Hasher:
    def person_key(self, nhs_number: str) -> str:
        return nhs_number[::-1]


def empty_decider(settings: Settings) -> IntakeDecider:
    """A decider over an empty register, as of now."""
    return IntakeDecider(IntakeContext(settings, datetime.now(UTC)), _EmptyRegister(), _Hasher())
