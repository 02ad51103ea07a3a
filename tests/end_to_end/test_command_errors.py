"""Every `dsr-intake` error is one line saying what is wrong, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

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
