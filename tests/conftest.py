"""Shared fixtures. AWS tests run against the embedded local AWS (moto) built from
template.yaml, the same stack `make demo` uses; the pure core is tested without it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

# Never reach a real AWS account from a test, whatever the machine's configuration.
for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(variable, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")

from infrastructure.local_stack import LocalStack  # noqa: E402
from shared.case import Case  # noqa: E402
from shared.holds import HeldWithdrawal  # noqa: E402
from shared.settings import Settings  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as local:
        yield local


class InMemoryRegister:
    """The `Register` the decision reads, as a dict (the DynamoDB one is tested separately)."""

    def __init__(self) -> None:
        self.cases_by_id: dict[str, Case] = {}
        self.person_cases: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        self.holds: dict[str, HeldWithdrawal] = {}

    def case_for_person(self, person_key: str) -> Case | None:
        case_id = self.person_cases.get(person_key)
        return self.cases_by_id[case_id] if case_id else None

    def case(self, case_id: str) -> Case | None:
        return self.cases_by_id.get(case_id)

    def forget(self, person_key: str) -> None:
        self.person_cases.pop(person_key, None)

    def first_submission_with_header(self, header_message_id: str) -> str | None:
        return self.headers.get(header_message_id)

    def held_withdrawal(self, reference: str) -> HeldWithdrawal | None:
        return self.holds.get(reference)

    def holds_for_person(self, person_key: str) -> list[HeldWithdrawal]:
        return [held for held in self.holds.values() if held.person_key == person_key]

    def store(self, case: Case) -> None:
        self.cases_by_id[case.case_id] = case.model_copy(update={"version": case.version + 1})
        if case.person_key:
            self.person_cases[case.person_key] = case.case_id


class PlainHasher:
    """Stands in for the KMS HMAC: a different but still one-way-looking key."""

    def person_key(self, nhs_number: str) -> str:
        import hashlib

        return hashlib.sha256(("test-key:" + nhs_number.replace(" ", "")).encode()).hexdigest()


@pytest.fixture
def settings() -> Settings:
    return Settings(
        coordinator_addresses=("dsr.coordinator@nhs.net", "dsr.admin@bromley.gov.uk"),
        panel_addresses=("panel.gp@nhs.net", "panel.member@nhs.net"),
        inbox_address="bromley.dsr@nhs.net",
    )
