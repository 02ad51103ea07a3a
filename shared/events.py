"""Models of the events at the edges (pydantic), small on purpose: moto's and AWS's events
differ in optional fields, so only what we read is required."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ReminderEvent(BaseModel):
    """What a case's EventBridge schedule sends the ReminderFunction."""

    case_id: str = Field(pattern=r"^DSR-[A-Z0-9]{8}$")


class SweepRequest(BaseModel):
    """The sweeper's timer sends `{}`; an admin's `ops deliver-outbox` asks for 0 minutes."""

    older_than_minutes: int | None = Field(default=None, ge=0)


class ReconcileRequest(BaseModel):
    """The daily timer sends `{}` (repair); `ops status` asks `{"repair": false}`."""

    repair: bool = True


class EraseTestCaseRequest(BaseModel):
    """`dsr-intake ops erase-test-case` (and the smoke test) asks the sweeper to erase one
    test case: `{"erase_test_case": "DSR-..."}`."""

    erase_test_case: str = Field(pattern=r"^DSR-[A-Z0-9]{8}$")
