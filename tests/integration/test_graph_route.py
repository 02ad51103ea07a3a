"""The Microsoft 365 / NHSmail route end to end (tests/graph_route), each scenario file on an
embedded stack of its own with InboundRoute=OutboundRoute=graph against the local Graph
mailbox. Each runs in a process of its own: one embedded stack per process, and this suite's
is the SES route's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = {
    # a referral in the mailbox answered from it; a crash before the move; a copy; throttling;
    # a spoofed email
    "scenario_graph_route.py": 5,
    # an email Graph will not give is set aside; an answer that bounces reaches the coordinators
    "scenario_graph_robust.py": 3,
    # `dsr-intake ops smoke` through the smoke mailbox, and its failures
    "scenario_smoke_graph_route.py": 5,
}


@pytest.mark.parametrize(("scenario", "count"), SCENARIOS.items())
def test_the_graph_route_on_its_own_stack(scenario: str, count: int) -> None:
    path = ROOT / "tests" / "graph_route" / scenario
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f" {count} passed" in result.stdout, result.stdout[-3000:]
