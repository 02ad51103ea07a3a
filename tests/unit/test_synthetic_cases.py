"""Test data on the register (shared.synthetic): which cases are test data, their erasure as
a withdrawal erases, and the panel pack that never shows them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from infrastructure.samples import child, consent_pdf, email, referral_pdf
from shared.case import AuditEntry, Case, CaseChange, CaseStatus, EraseEffect
from shared.errors import ConcurrentChangeError
from shared.identifiers import is_valid_nhs_number
from shared.outcome import Outcome
from shared.panel_pack import build_panel_pack, panel_pack_csv
from shared.settings import Settings
from shared.synthetic import (
    TEST_DATA_LABEL,
    draw_test_nhs_number,
    erase_test_case,
    erasure_of_test_case,
    is_test_case,
    is_test_nhs_number,
)
from tests.unit.test_decisions import Desk

MOMENT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEST_NUMBER = "9990000018"  # 999 000 001, check digit 8


SMOKE_SENDER = "dsr.smoke-test@nhs.net"


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return Desk(settings.model_copy(update={"smoke_test_senders": (SMOKE_SENDER,)}))


def on_register(desk: Desk, seed: int, nhs_number: str | None = None) -> Case:
    person = child(seed, age=9)
    if nhs_number:
        person["child_nhs_number"] = nhs_number
    decision = desk.receive(
        email(
            ("r.pdf", referral_pdf(**person)),
            ("c.pdf", consent_pdf(**person)),
            sender=SMOKE_SENDER,
        )
    )
    assert decision.outcome is Outcome.ACCEPTED and decision.case is not None
    return decision.case


@pytest.mark.parametrize("sender", ["sam.patel@nhs.net", "dsr.coordinator@nhs.net"])
def test_a_test_number_from_anyone_but_the_smoke_test_is_refused(desk: Desk, sender: str) -> None:
    """Else anyone could keep a real child's details out of the panel pack, and open to the
    test-data erasure, by writing a 999 number on the forms."""
    person = {**child(73, age=9), "child_nhs_number": TEST_NUMBER}
    decision = desk.receive(
        email(("r.pdf", referral_pdf(**person)), ("c.pdf", consent_pdf(**person)), sender=sender)
    )
    assert decision.outcome is Outcome.REJECTED and decision.case is None
    assert [(r.code.value, r.field) for r in decision.reasons] == [
        ("NHS_NUMBER_INVALID", "child_nhs_number")
    ]
    assert "reserved for testing" in decision.reasons[0].message
    assert TEST_NUMBER not in decision.reasons[0].message


def test_test_numbers_are_the_reserved_range_with_a_valid_check_digit() -> None:
    assert is_valid_nhs_number(TEST_NUMBER) and is_test_nhs_number(TEST_NUMBER)
    assert is_test_nhs_number("999 000 0018")
    assert not is_test_nhs_number("9990000019")  # wrong check digit
    assert not is_test_nhs_number("9434765919")  # a valid number outside the range
    draws = itertools.count(0, 7)
    numbers = {draw_test_nhs_number(lambda: next(draws)) for _ in range(300)}
    assert len(numbers) == 300
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in numbers)


def test_a_case_is_test_data_by_its_childs_number(desk: Desk) -> None:
    assert is_test_case(on_register(desk, 71, TEST_NUMBER))
    real = on_register(desk, 72)
    assert not is_test_case(real)
    tombstone = erasure_of_test_case(on_register(desk, 70, "9990000069"), MOMENT).case
    assert tombstone is not None and not is_test_case(tombstone)  # nothing left to tell


@dataclass
class Register:
    cases: dict[str, Case]
    people: dict[str, str]
    recorded: list[tuple[CaseChange, str | None]] = field(default_factory=list)
    clash: bool = False

    def case(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def case_for_person(self, person_key: str) -> Case | None:
        return self.cases.get(self.people.get(person_key, ""))

    def record_change(
        self, change: CaseChange, now: datetime, forget_person_key: str | None = None
    ) -> None:
        if self.clash:
            raise ConcurrentChangeError("changed")
        self.recorded.append((change, forget_person_key))


def test_a_test_case_is_erased_as_a_withdrawal_and_any_other_is_refused(desk: Desk) -> None:
    test, real = on_register(desk, 73, "9990000026"), on_register(desk, 74)
    register = Register(
        {test.case_id: test, real.case_id: real},
        {test.person_key: test.case_id, real.person_key: real.case_id},
    )
    erased, said = erase_test_case(register, real.case_id, lambda: MOMENT)
    assert not erased and said.startswith("refused") and register.recorded == []
    with pytest.raises(ValueError, match="not test data"):
        erasure_of_test_case(real, MOMENT)
    assert erase_test_case(register, "DSR-AAAAAAAA", lambda: MOMENT)[1].startswith("there is no")
    erased, said = erase_test_case(register, test.case_id, lambda: MOMENT)
    assert erased and said == f"{test.case_id} erased (test data): its tombstone is kept"
    [(change, forget)] = register.recorded
    assert forget == test.person_key  # the person lookup goes in the same transaction
    assert change.label == TEST_DATA_LABEL and change.effects == [EraseEffect(case_id=test.case_id)]
    assert change.case is not None and change.case.status is CaseStatus.WITHDRAWN
    assert change.case.child is None and change.case.person_key == ""
    assert test.child is not None and test.child.nhs_number not in change.model_dump_json()
    # Its tombstone is not erased again; a race is reported, not hidden.
    register.cases[test.case_id] = change.case
    assert erase_test_case(register, test.case_id, lambda: MOMENT)[1].endswith("(a tombstone)")
    register.cases[test.case_id], register.clash = test, True
    erased, said = erase_test_case(register, test.case_id, lambda: MOMENT)
    assert not erased and "run the command again" in said


def test_the_person_lookup_of_a_newer_case_is_kept(desk: Desk) -> None:
    test = on_register(desk, 75, "9990000034")
    register = Register({test.case_id: test}, {test.person_key: "DSR-NEWERONE"})
    assert erase_test_case(register, test.case_id, lambda: MOMENT)[0]
    assert register.recorded[0][1] is None


def test_test_data_never_reaches_the_panel_pack(desk: Desk) -> None:
    today = MOMENT.date()
    test, real = on_register(desk, 76, "9990000042"), on_register(desk, 77)
    erased_test = on_register(desk, 78, "9990000050")
    tombstone = erasure_of_test_case(erased_test, MOMENT).case
    assert tombstone is not None
    audit = [
        AuditEntry(MOMENT, "m1", "accepted", None, (), test.case_id),
        AuditEntry(MOMENT, "m2", "accepted", None, (), real.case_id),
        AuditEntry(MOMENT, "m3", "accepted", None, (), erased_test.case_id),
        AuditEntry(MOMENT, "e3", None, TEST_DATA_LABEL, (), erased_test.case_id),
    ]
    pack = build_panel_pack([test, real, tombstone], audit, today)
    shown = {line.case_id for lines in _lines(pack) for line in lines}
    assert shown == {real.case_id}
    assert pack.emails_by_outcome == {"accepted": 1}
    assert sum(pack.counts_by_rating.values()) == 1
    csv = panel_pack_csv([test, real], today)
    assert real.case_id in csv and test.case_id not in csv and "999" not in csv.split("\n", 1)[1]
    # Without the test cases the pack is what it was.
    assert build_panel_pack([real], audit[1:2], today) == pack


def _lines(pack: object) -> list[list[Any]]:
    return [value for value in vars(pack).values() if isinstance(value, list)]
