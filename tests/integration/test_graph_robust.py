"""The Graph route loses nothing (tests/graph_route/scenario_graph_robust.py): an email Graph
will not give is set aside, an answer that bounces reaches the coordinators. On an embedded
stack of its own, so in a process of its own (this suite's stack is the SES route's)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "graph_route" / "scenario_graph_robust.py"
SCENARIOS = 3


def test_the_graph_route_loses_nothing_on_its_own_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:randomly", str(SCENARIO)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f" {SCENARIOS} passed" in result.stdout, result.stdout[-3000:]
