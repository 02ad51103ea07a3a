"""How many emails of the corpus were read correctly: runs `dsr-intake process --json` over
every email on the corpus's day, in a fresh local register, and compares each outcome, its
reason codes and each child's outcome with `expected.json`.

    python -m tests.corpus.report      (or `make corpus-report`)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HERE / "expected.json").read_text())
    return data


def run_corpus() -> dict[str, dict[str, Any]]:
    """Each email's `process --json` line, by file name."""
    spec = expected()
    files = [str(HERE / "emails" / name) for name in spec["emails"]]
    with tempfile.TemporaryDirectory() as state:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "infrastructure.cli",
                "process",
                "--json",
                "--on",
                spec["processed_on"],
                "--state",
                state,
                *files,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"dsr-intake process failed: {result.stderr[-2000:]}")
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {Path(line["file"]).name: line for line in lines}


def read_as(line: dict[str, Any]) -> dict[str, Any]:
    """What the intake made of an email, in the terms of expected.json."""
    return {
        "outcome": line["outcome"],
        "reasons": sorted({reason["code"] for reason in line.get("reasons", [])}),
        "parts": [part["outcome"] for part in line.get("parts", [])],
    }


def compare(lines: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file, expected, got) for every email not read as expected."""
    wrong = []
    for name, want in expected()["emails"].items():
        want = {
            "outcome": want["outcome"],
            "reasons": want.get("reasons", []),
            "parts": want.get("parts", []),
        }
        got = read_as(lines[name]) if name in lines else {"outcome": None}
        if got != want:
            wrong.append((name, want, got))
    return wrong


def main() -> int:
    lines = run_corpus()
    wrong = compare(lines)
    total = len(expected()["emails"])
    for name, want, got in wrong:
        print(f"{name}: expected {want}, got {got}")
    print(f"{total - len(wrong)} of {total} corpus emails read correctly")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
