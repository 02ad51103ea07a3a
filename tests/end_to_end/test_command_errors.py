"""Every `dsr-intake` error is one line saying what is wrong, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infrastructure.samples import referral_pdf
from tests.end_to_end.test_process_command import dsr_intake


def _one_line_error(result: object, *words: str) -> None:
    assert getattr(result, "returncode") == 2  # noqa: B009
    stderr = getattr(result, "stderr")  # noqa: B009
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    for word in words:
        assert word in stderr, stderr


def test_samples_onto_a_file_is_one_line(tmp_path: Path) -> None:
    occupied = tmp_path / "taken"
    occupied.write_text("a file, not a folder")
    _one_line_error(dsr_intake("samples", str(occupied)), "cannot use", str(occupied))


def test_the_panel_pack_csv_onto_a_folder_or_into_a_missing_one_is_one_line(
    tmp_path: Path,
) -> None:
    _one_line_error(dsr_intake("digest", "--csv", str(tmp_path)), "cannot use")
    missing = tmp_path / "no-such-folder" / "pack.csv"
    _one_line_error(dsr_intake("digest", "--csv", str(missing)), "cannot use")


def test_advance_has_an_upper_bound() -> None:
    _one_line_error(dsr_intake("advance", "--days", "100000"), "at most 3660")


def test_ages_out_of_order_are_refused_before_anything_runs(tmp_path: Path) -> None:
    email = tmp_path / "x.eml"
    email.write_bytes(b"From: a@nhs.net\n\nhello\n")
    result = dsr_intake(
        "process", "--parameter", "MinimumAge=16", "--parameter", "MaximumAge=10", str(email)
    )
    _one_line_error(result, "MinimumAge (16) must not be more than MaximumAge (10)")


def test_a_file_that_is_not_an_email_says_so(tmp_path: Path) -> None:
    not_an_email = tmp_path / "referral.pdf"
    not_an_email.write_bytes(referral_pdf())
    result = dsr_intake("process", "--json", str(not_an_email))
    line = json.loads(result.stdout.splitlines()[0])
    assert line["outcome"] == "quarantined"
    assert [reason["code"] for reason in line["reasons"]] == ["EMAIL_UNREADABLE"]
    assert "not an email" in line["reasons"][0]["message"]


def _without_aws_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region, credentials or profile from this machine, and no instance metadata."""
    for variable in (
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_ops_on_a_stack_without_a_region_says_which_setting_boto3_reads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_aws_settings(monkeypatch, tmp_path)
    result = dsr_intake("ops", "smoke", "--stack", "dsr-intake-staging")
    _one_line_error(result, "cannot read stack dsr-intake-staging", "AWS_DEFAULT_REGION")


def test_ops_on_a_stack_without_credentials_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _without_aws_settings(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    result = dsr_intake("ops", "status", "--stack", "dsr-intake-staging")
    _one_line_error(result, "cannot read stack dsr-intake-staging", "credentials")
