"""`dsr-intake process --json` over emails, through the real command and embedded stack."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.end_to_end.personal_data import leaks

EXPECTED = {
    "01-valid-pair.eml": ("accepted", set()),
    "02-referral-only.eml": ("pending", set()),
    "03-consent-follows.eml": ("updated", set()),
    "04-bad-nhs-number-undiagnosed.eml": (
        "rejected",
        {"NHS_NUMBER_INVALID", "NOT_ELIGIBLE_DIAGNOSIS"},
    ),
    "05-over-age.eml": ("rejected", {"NOT_ELIGIBLE_AGE"}),
    "06-under-16-self-consent.eml": ("rejected", {"CONSENT_INVALID"}),
    "07-mismatched-identity.eml": ("rejected", {"IDENTITY_MISMATCH"}),
    "08-untrusted-sender.eml": ("quarantined", {"SENDER_NOT_ALLOWED", "MAIL_AUTH_FAILED"}),
    "09-virus.eml": ("quarantined", {"VIRUS"}),
    "10-no-form.eml": ("rejected", {"NO_FORM_FOUND"}),
    "11-corrupt-pdf.eml": ("rejected", {"FORM_UNREADABLE"}),
    "12-redelivered.eml": ("duplicate", set()),
    "13-already-on-register.eml": ("duplicate", {"ALREADY_ON_REGISTER"}),
    "14-turning-18-soon.eml": ("accepted", set()),
    "15-printed-forms-forwarded.eml": ("accepted", set()),
    "16-word-form-and-scan.eml": ("pending", set()),
    "17-two-children.eml": ("pending", set()),
    "20-review-outcome.eml": ("updated", set()),
    "21-review-unknown-case.eml": ("rejected", {"CASE_NOT_FOUND"}),
    "22-withdrawal.eml": ("withdrawn", set()),
}


def dsr_intake(*args: str, state: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command; each call gets a register of its own unless `state` is shared."""
    if args and args[0] in ("process", "advance", "digest", "reset"):
        args = (args[0], "--state", str(state or tempfile.mkdtemp(prefix="dsr-")), *args[1:])
    return subprocess.run(
        [sys.executable, "-m", "infrastructure.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("emails")
    written = dsr_intake("samples", str(folder))
    assert written.returncode == 0, written.stderr
    return sorted(folder.glob("*.eml"))


@pytest.fixture(scope="module")
def processed(corpus: list[Path]) -> subprocess.CompletedProcess[str]:
    return dsr_intake("process", "--json", "--verbose", *map(str, corpus))


def test_every_email_gets_its_outcome_and_reasons(
    corpus: list[Path], processed: subprocess.CompletedProcess[str]
) -> None:
    assert processed.returncode == 0, processed.stderr[-2000:]
    lines = [json.loads(line) for line in processed.stdout.splitlines()]
    assert (
        [Path(line["file"]).name for line in lines]
        == [path.name for path in corpus]
        == sorted(EXPECTED)
    )
    for line in lines:
        outcome, codes = EXPECTED[Path(line["file"]).name]
        assert line["outcome"] == outcome, line
        assert {reason["code"] for reason in line["reasons"]} == codes, line
        for reason in line["reasons"]:
            assert reason["message"]


def test_the_json_lines_have_the_documented_shape(
    processed: subprocess.CompletedProcess[str],
) -> None:
    lines = {
        Path(line["file"]).name: line for line in map(json.loads, processed.stdout.splitlines())
    }
    accepted = lines["01-valid-pair.eml"]
    assert set(accepted) == {"file", "message_id", "outcome", "case_id", "reasons", "effects"}
    assert accepted["case_id"].startswith("DSR-")
    kinds = [effect["kind"] for effect in accepted["effects"]]
    assert kinds.count("email") == 2 and kinds.count("schedule") == 1
    for effect in accepted["effects"]:
        if effect["kind"] == "email":
            assert isinstance(effect["to"], list) and effect["subject"]
        else:
            assert effect["at"].endswith("+00:00")
    assert "case_id" not in lines["10-no-form.eml"]
    rejected = lines["04-bad-nhs-number-undiagnosed.eml"]
    assert any(
        r["code"] == "NHS_NUMBER_INVALID" and r["field"] == "child_nhs_number"
        for r in rejected["reasons"]
    )
    quarantined = lines["09-virus.eml"]
    # One alert to the coordinators' secure addresses, not one each.
    assert [effect["to"] for effect in quarantined["effects"]] == [
        ["dsr.coordinator@nhs.net", "dsr.lead@nhs.net"]
    ]
    assert lines["13-already-on-register.eml"]["case_id"] == accepted["case_id"]
    assert lines["03-consent-follows.eml"]["case_id"] == lines["02-referral-only.eml"]["case_id"]


def test_neither_output_nor_logs_carry_personal_data(
    processed: subprocess.CompletedProcess[str],
) -> None:
    assert (
        processed.stderr.count('"level"') >= 13
    )  # the functions' log lines were captured (--verbose)
    assert leaks(processed.stdout) == set()
    assert leaks(processed.stderr) == set()


def test_a_missing_file_is_a_clear_error() -> None:
    result = dsr_intake("process", "--json", "no-such-file.eml")
    assert result.returncode == 2
    assert "no such file: no-such-file.eml" in result.stderr


def test_template_parameters_set_the_rules(corpus: list[Path]) -> None:
    [thirteen] = [path for path in corpus if path.name.startswith("06-")]
    result = dsr_intake("process", "--json", "--parameter", "MinimumAge=14", str(thirteen))
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout)
    assert {reason["code"] for reason in line["reasons"]} == {"NOT_ELIGIBLE_AGE", "CONSENT_INVALID"}
    assert "aged 14 to 17" in " ".join(reason["message"] for reason in line["reasons"])
