"""Without a Chromium the browser tests are skipped on a developer's machine, and fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parents[2]
ONE_BROWSER_TEST = (
    "tests/browser/test_console_in_browser.py"
    "::test_signing_out_ends_the_session_and_going_back_shows_sign_in"
)


def _run_without_chromium(ci: str | None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DSR_CHROMIUM": str(ROOT / "no-such-chromium")}
    environment.pop("CI", None)
    if ci is not None:
        environment["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", ONE_BROWSER_TEST, "-p", "no:randomly", "-p",
         "no:cacheprovider", "-rs"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("ci", [None, "false"])
def test_on_a_developers_machine_they_are_skipped_saying_why(ci: str | None) -> None:
    run = _run_without_chromium(ci)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "1 skipped" in run.stdout
    assert "no Chromium on this machine" in run.stdout and "apt-get install chromium" in run.stdout


def test_in_ci_they_fail() -> None:
    run = _run_without_chromium("true")
    assert run.returncode != 0, run.stdout[-2000:]
    assert "CI=true and no Chromium on this machine" in run.stdout
    assert "skipped" not in run.stdout
