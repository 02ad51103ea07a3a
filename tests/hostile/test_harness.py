"""The harness itself: its checks can fail, so a passing hostile test means something."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from shared.case import Decision, EmailEffect, EmailPurpose, Submission
from shared.errors import AlreadyRecordedError
from shared.outcome import Outcome
from tests.fakes import ItemRejectedError, RecordingRegister
from tests.hostile.builders import SETTINGS_WITH_COUNCIL
from tests.hostile.desk import (
    BoundExceededError,
    Measured,
    Processed,
    bounded,
    captured_output,
    check_invariants,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _processed(outcome: Outcome, effect: EmailEffect, log_lines: list[str] = []) -> Processed:  # noqa: B006
    return Processed(
        message_id="m",
        submission=Submission(message_id="m", outcome=outcome, received_at=NOW),
        decision=None,
        effects=[effect],
        log_lines=log_lines,
        measured=Measured(),
        settings=SETTINGS_WITH_COUNCIL,
    )


def _email(to: str, body: str = "Case DSR-ABCDEFGH", subject: str = "DSR") -> EmailEffect:
    return EmailEffect(purpose=EmailPurpose.REJECTION, to=(to,), subject=subject, body=body)


def test_a_leak_to_a_non_secure_address_is_caught() -> None:
    with pytest.raises(AssertionError, match="personal data"):
        check_invariants(
            _processed(Outcome.REJECTED, _email("senco@school.sch.uk", "NHS 943 476 5919"))
        )
    check_invariants(_processed(Outcome.ACCEPTED, _email("kim@nhs.net", "NHS 943 476 5919")))


def test_a_leak_in_the_logs_is_caught() -> None:
    with captured_output() as lines:
        logging.getLogger("anything").debug("child Okafor-Lewis")
        print("stdout too")
    assert any("Okafor-Lewis" in line for line in lines) and "stdout too" in lines
    with pytest.raises(AssertionError, match="captured output"):
        check_invariants(_processed(Outcome.REJECTED, _email("kim@nhs.net"), lines))


def test_an_injected_header_or_answered_quarantine_is_caught() -> None:
    with pytest.raises(AssertionError):
        check_invariants(_processed(Outcome.REJECTED, _email("kim@nhs.net", subject="a\r\nBcc: x")))
    with pytest.raises(AssertionError):
        check_invariants(_processed(Outcome.REJECTED, _email("kim@nhs.net, evil@gmail.com")))
    with pytest.raises(AssertionError):
        check_invariants(_processed(Outcome.QUARANTINED, _email("someone@gmail.com")))


def test_the_bounds_fail_when_exceeded() -> None:
    with pytest.raises(BoundExceededError), bounded(seconds=0.01, grace=0.0):
        time.sleep(0.5)
    with pytest.raises(AssertionError, match="peak"), bounded(megabytes=1):
        blob = bytearray(5 * 1024 * 1024)
        del blob


def test_the_fake_register_refuses_what_dynamodb_would() -> None:
    register = RecordingRegister()
    big = _email("kim@nhs.net", "x" * 500 * 1024)
    with pytest.raises(ItemRejectedError, match="400 KB"):
        register.record("m1", None, Decision(outcome=Outcome.REJECTED, effects=[big]), NOW)
    surrogate = _email("kim@nhs.net", "\ud83d")
    with pytest.raises(ItemRejectedError, match="UTF-8"):
        register.record("m2", None, Decision(outcome=Outcome.REJECTED, effects=[surrogate]), NOW)
    assert register.submission("m1") is None and register.submission("m2") is None
    register.record("m3", "<a@b>", Decision(outcome=Outcome.REJECTED), NOW)
    with pytest.raises(AlreadyRecordedError):
        register.record("m3", "<a@b>", Decision(outcome=Outcome.REJECTED), NOW)
    assert register.first_submission_with_header("<a@b>") == "m3"
    register.record("m4", "<q@b>", Decision(outcome=Outcome.QUARANTINED), NOW)
    assert register.first_submission_with_header("<q@b>") is None
