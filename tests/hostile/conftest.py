"""Fixtures of the hostile corpus: a desk whose register already holds the sample child's
case (accepted from a genuine referral and consent), so each attack has something to harm."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from shared.case import Case, CaseStatus
from shared.outcome import Outcome
from tests.conftest import PlainHasher
from tests.hostile.builders import IDENTITY, SETTINGS, SETTINGS_WITH_COUNCIL, genuine_pair
from tests.hostile.desk import Desk


@dataclass
class Seeded:
    desk: Desk
    case_id: str
    genuine_message_id: str

    def case(self) -> Case:
        case = self.desk.register.case(self.case_id)
        assert case is not None
        return case

    def person_case_id(self) -> str | None:
        key = PlainHasher().person_key(IDENTITY["child_nhs_number"])
        case = self.desk.register.case_for_person(key)
        return case.case_id if case else None

    def assert_untouched(self, before: Case) -> None:
        """The case is exactly as it was, still found by the person, its email still held."""
        after = self.case()
        assert after.status is CaseStatus.ACTIVE
        assert after.model_dump() == before.model_dump()
        assert self.person_case_id() == self.case_id
        assert f"inbound/{self.genuine_message_id}" in self.desk.store.objects


def _seed(desk: Desk) -> Seeded:
    processed = desk.receive(genuine_pair())
    assert processed.outcome is Outcome.ACCEPTED, processed.submission.reasons
    assert processed.submission.case_id is not None
    return Seeded(desk, processed.submission.case_id, processed.message_id)


@pytest.fixture(scope="session")
def _seeded_once() -> Seeded:
    return _seed(Desk(SETTINGS))


@pytest.fixture(scope="session")
def _seeded_council_once() -> Seeded:
    return _seed(Desk(SETTINGS_WITH_COUNCIL))


@pytest.fixture
def seeded(_seeded_once: Seeded) -> Seeded:
    """A fresh copy of a register holding the sample child's active case."""
    return copy.deepcopy(_seeded_once)


@pytest.fixture
def seeded_council(_seeded_council_once: Seeded) -> Seeded:
    """The same, with a second coordinator at a council (non-secure, non-panel) address."""
    return copy.deepcopy(_seeded_council_once)


@pytest.fixture
def desk() -> Desk:
    return Desk(SETTINGS)
