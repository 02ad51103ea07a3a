"""The local register across commands: process, advance, digest and reset, as an admin
trying the product would run them one after another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.end_to_end.personal_data import leaks
from tests.end_to_end.test_process_command import dsr_intake


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("samples")
    assert dsr_intake("samples", str(folder)).returncode == 0
    return folder


def run_json(*args: str, state: Path) -> list[dict[str, object]]:
    result = dsr_intake(*args, state=state)
    assert result.returncode == 0, result.stderr[-2000:]
    assert leaks(result.stdout) == set()
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_register_lasts_between_commands_and_time_moves_on(samples: Path, tmp_path: Path) -> None:
    state = tmp_path / "register"
    [accepted] = run_json("process", "--json", str(samples / "01-valid-pair.eml"), state=state)
    assert accepted["outcome"] == "accepted"
    # A later command finds the same case: the review form names it by NHS number only.
    [review] = run_json("process", "--json", str(samples / "20-review-outcome.eml"), state=state)
    assert review["outcome"] == "updated" and review["case_id"] == accepted["case_id"]
    # Red after that review: due in 14 days, then overdue to the lead a week later; a C(E)TR
    # was due in 14 days too (`CtrDueDays`).
    firings = run_json("advance", "--days", "22", "--json", state=state)
    done = [
        (f["schedule"], kind)
        for f in firings
        for kind in str(f["done"]).removeprefix("reminder:").split(",")
    ]
    for kind in ("review_due", "ctr_overdue", "review_overdue"):
        assert (f"review-{accepted['case_id']}", kind) in done
    assert all(set(f) == {"at", "schedule", "function", "done", "emails"} for f in firings)
    overdue = next(f for f in firings if "review_overdue" in str(f["done"]))
    assert any("dsr.lead@nhs.net" in email["to"] for email in overdue["emails"])  # type: ignore[attr-defined]
    # Nothing fires twice: the next day brings nothing new for this case.
    again = run_json("advance", "--days", "1", "--json", state=state)
    assert all(f["schedule"] != f"review-{accepted['case_id']}" for f in again)

    csv_file = tmp_path / "pack.csv"
    digest = dsr_intake("digest", "--csv", str(csv_file), state=state)
    assert digest.returncode == 0, digest.stderr[-2000:]
    assert "Overdue reviews (1)" in digest.stdout and str(accepted["case_id"]) in digest.stdout
    assert leaks(digest.stdout) == set()
    assert (csv_file.stat().st_mode & 0o777) == 0o600
    assert str(accepted["case_id"]) in csv_file.read_text()

    assert (state / "journal.jsonl").stat().st_mode & 0o777 == 0o600
    assert "forgot" in dsr_intake("reset", state=state).stdout
    [fresh] = run_json("process", "--json", str(samples / "20-review-outcome.eml"), state=state)
    assert fresh["outcome"] == "rejected"  # the register is empty again: no such case


def test_a_register_keeps_the_parameters_it_was_started_with(samples: Path, tmp_path: Path) -> None:
    state = tmp_path / "register"
    run_json(
        "process",
        "--json",
        "--parameter",
        "MinimumAge=14",
        str(samples / "01-valid-pair.eml"),
        state=state,
    )
    refused = dsr_intake("advance", "--days", "1", "--parameter", "MinimumAge=10", state=state)
    assert refused.returncode == 2
    assert "dsr-intake reset" in refused.stderr


def test_the_clock_only_moves_forward(tmp_path: Path) -> None:
    result = dsr_intake("advance", "--days", "-3", state=tmp_path)
    assert result.returncode == 2 and "more than 0" in result.stderr


def test_a_withdrawals_answers_print_as_forgotten_not_as_none(
    samples: Path, tmp_path: Path
) -> None:
    """The README's own try-out: an erased case's outcome keeps no recipients or subjects,
    and the text output says so rather than `email to : "None"`."""
    state = tmp_path / "register"
    pair = [str(samples / name) for name in ("02-referral-only.eml", "03-consent-follows.eml")]
    [_, completed] = run_json("process", "--json", *pair, state=state)
    assert completed["outcome"] == "updated"
    result = dsr_intake("process", str(samples / "22-withdrawal.eml"), state=state)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "outcome: withdrawn" in result.stdout
    assert "email (who and subject forgotten: the case is erased)" in result.stdout
    assert "None" not in result.stdout and "email to :" not in result.stdout
