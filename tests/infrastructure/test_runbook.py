"""The README's runbook answers every alarm the template raises, with a command that exists."""

from __future__ import annotations

import re
from pathlib import Path

from infrastructure.cli import main
from infrastructure.local_stack import load_template

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
RUNBOOK = README[README.index("## Operating it") :]


def test_every_alarm_has_its_line_in_the_runbook() -> None:
    alarms = [
        logical_id
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert len(alarms) > 20
    for alarm in alarms:
        named = f"`{alarm}`" in RUNBOOK
        family = re.search(r"(Errors|Throttles)Alarm$", alarm)
        assert named or (family and f"`*{family[1]}Alarm`" in RUNBOOK), alarm


def test_every_command_the_alarms_name_exists() -> None:
    descriptions = " ".join(
        str(resource["Properties"].get("AlarmDescription", ""))
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    )
    named = set(re.findall(r"dsr-intake ops ([a-z-]+)", descriptions + RUNBOOK))
    assert named >= {"status", "redrive", "reprocess", "deliver-outbox", "reconcile"}
    for command in named:
        try:
            main(["ops", command, "--help"])
        except SystemExit as done:  # argparse exits 0 after printing the help
            assert done.code == 0, command
