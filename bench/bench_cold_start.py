"""The IntakeFunction's cold import against a bare `import boto3`, measured in one run.

Run: .venv/bin/python bench/bench_cold_start.py

Each import runs in a fresh interpreter (as a Lambda cold start does), the two alternating
so that whatever else the machine is doing weighs on both alike; the ratio of the medians
is printed. Target: the handler's import at most 1.3 x `import boto3` (the intake itself,
pydantic's models and pypdf load with the first email that needs them).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

TARGET = 1.3
RUNS = 15
ROOT = Path(__file__).resolve().parent.parent
_TIMED = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def _seconds(statement: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"AWS_DEFAULT_REGION": "eu-west-2", "PATH": "/usr/bin:/bin"},
    )
    return float(result.stdout.split()[-1])


def main() -> None:
    boto3: list[float] = []
    handler: list[float] = []
    for _ in range(RUNS):
        boto3.append(_seconds("import boto3"))
        handler.append(_seconds("import functions.intake.app"))
    ratio = statistics.median(handler) / statistics.median(boto3)
    print(
        f"cold import: import boto3 {statistics.median(boto3) * 1000:.0f} ms, "
        f"functions.intake.app {statistics.median(handler) * 1000:.0f} ms (medians of {RUNS})"
    )
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(
        f"intake handler cold import = {ratio:.2f} x import boto3 (target <= {TARGET}): {verdict}"
    )


if __name__ == "__main__":
    main()
