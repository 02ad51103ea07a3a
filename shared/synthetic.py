"""Test data on a live register: the smoke test's synthetic referrals.

NHS numbers from 999 000 0000 to 999 999 9999 are reserved for testing and never issued to
a person, so a case whose child has one is test data: nobody is on the register through it.
The register needs no flag of its own for that (a flag could be set wrongly; the number
cannot be a person's). A test case never reaches the panel pack, and it is the only case an
admin may erase by command (`dsr-intake ops erase-test-case`): exactly as a withdrawal
erases a case - its tombstone, and an `EraseEffect` in the outbox for its stored emails,
undelivered outbox items and schedule.

Pure, like shared.intake: the register is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from shared.case import Case, CaseChange, CaseStatus, ClosureReason
from shared.erasure import ErasingRegister, erasure, record_erasure
from shared.identifiers import is_valid_nhs_number, nhs_check_digit, normalise_nhs_number
from shared.outcome import Reason, ReasonCode
from shared.settings import Settings

TEST_NHS_NUMBER_PREFIX = "999"
TEST_DATA_LABEL = "test_data:erased"


def is_test_nhs_number(nhs_number: str) -> bool:
    """A valid NHS number from the range reserved for testing."""
    digits = normalise_nhs_number(nhs_number)
    return digits.startswith(TEST_NHS_NUMBER_PREFIX) and is_valid_nhs_number(digits)


def is_test_case(case: Case) -> bool:
    """Whether the case is test data: its child's NHS number is a test number. A tombstone
    holds no number, so it is not (and has nothing left to erase)."""
    child = case.child
    return child is not None and is_test_nhs_number(child.nhs_number)


def test_number_refusals(nhs_number: str, sender: str, settings: Settings) -> list[Reason]:
    """A test NHS number is taken only from the smoke test's own senders. From anyone else it
    is a mistake, or a way to keep a real child's details out of the panel pack (test data
    never reaches it) and open to `erase-test-case`: refused like any invalid number."""
    if not is_test_nhs_number(nhs_number) or sender.lower() in settings.smoke_test_senders:
        return []
    return [
        Reason(
            code=ReasonCode.NHS_NUMBER_INVALID,
            field="child_nhs_number",
            message="The NHS number on the form is from the range reserved for testing "
            "(999...): it is nobody's. Please check it against the child's records.",
        )
    ]


def erasure_of_test_case(case: Case, now: datetime) -> CaseChange:
    """The change that erases a test case as a withdrawal would: its tombstone and the
    erasure of everything it held elsewhere."""
    if not is_test_case(case):
        raise ValueError(f"{case.case_id} is not test data")
    # Erased as a withdrawal is, so its tombstone says so; the audit label says why.
    reason = ClosureReason.CONSENT_WITHDRAWN
    return erasure(case, now, kind="test-data", label=TEST_DATA_LABEL, reason=reason, on=now.date())


def erase_test_case(
    register: ErasingRegister, case_id: str, clock: Callable[[], datetime]
) -> tuple[bool, str]:
    """Erase one test case; (whether it was erased now, what happened in words with the case
    id only). Any case that is not test data is refused, whatever asks."""
    case = register.case(case_id)
    if case is None:
        return False, f"there is no case {case_id}"
    if case.status is CaseStatus.WITHDRAWN:
        return False, f"{case_id} is already erased (a tombstone)"
    if not is_test_case(case):
        return False, f"refused: {case_id} is not test data (its NHS number is not a test number)"
    now = clock()
    if not record_erasure(register, case, erasure_of_test_case(case, now), now):
        return False, f"{case_id} changed while it was being erased: run the command again"
    return True, f"{case_id} erased (test data): its tombstone is kept"


def draw_test_nhs_number(draw: Callable[[], int]) -> str:
    """A valid test NHS number: 999, six digits from `draw()` (any integer, taken modulo a
    million), then the Modulus 11 check digit; drawn again when those nine have none."""
    while True:
        first_nine = f"{TEST_NHS_NUMBER_PREFIX}{draw() % 1_000_000:06d}"
        check = nhs_check_digit(first_nine)
        if check is not None:
            return first_nine + str(check)
