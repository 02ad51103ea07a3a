"""Without a Chromium the browser tests fail, saying how to get one: never skipped."""

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


@pytest.mark.parametrize("ci", [None, "true"])
def test_without_a_chromium_they_fail_saying_how_to_get_one(ci: str | None) -> None:
    run = _run_without_chromium(ci)
    assert run.returncode != 0, run.stdout[-2000:]
    assert "no Chromium on this machine" in run.stdout and "make chromium" in run.stdout
    assert "skipped" not in run.stdout
