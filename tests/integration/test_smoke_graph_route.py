"""`dsr-intake ops smoke` on the Microsoft 365 / NHSmail route (tests/graph_route), on an
embedded stack of its own with InboundRoute=OutboundRoute=graph and a SmokeTestMailbox: it
runs in a process of its own (one embedded stack per process; this suite's is SES's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "graph_route" / "scenario_smoke_graph_route.py"


def test_the_smoke_on_the_graph_route_on_its_own_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", str(SCENARIO)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " 5 passed" in result.stdout, result.stdout[-3000:]
