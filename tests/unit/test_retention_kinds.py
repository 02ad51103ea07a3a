"""Every kind of item the stack keeps has a stated retention: the table's kinds (ITEM_KINDS,
the adapter's own key table) and the bucket's lifecycle prefixes each have their row in the
README's "What is kept, for how long, and why", and the README names nothing else."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import shared.adapters.register_table.keys as register_keys
from infrastructure.local_stack import load_template
from shared.adapters.register_table.keys import ITEM_KINDS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
HEADING = "## What is kept, for how long, and why"


def section() -> str:
    start = README.index(HEADING)
    end = README.index("\n## ", start + len(HEADING))
    return README[start:end]


def tables(text: str) -> list[list[list[str]]]:
    """Each markdown table in the text: its rows (header and rule left out), cells stripped."""
    found: list[list[list[str]]] = []
    rows: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            found.append(rows[2:])
            rows = []
    return found


def test_the_section_follows_protecting_personal_data() -> None:
    headings = re.findall(r"^## .+$", README, flags=re.MULTILINE)
    assert headings[headings.index("## Protecting personal data") + 1] == HEADING


def test_every_kind_of_table_item_has_its_retention_and_nothing_else_is_listed() -> None:
    table_items, bucket, elsewhere = tables(section())
    # A row may cover kinds kept alike ("held withdrawal, held withdrawal's child").
    listed = [kind for row in table_items for kind in row[0].split(", ")]
    assert sorted(listed) == sorted(ITEM_KINDS.values())
    for row in [*table_items, *bucket, *elsewhere]:
        assert len(row) == 4 and row[1] and row[3], f"no retention or reason for {row[0]}"
    assert all(row[0] for row in elsewhere)


def test_the_adapters_key_table_lists_exactly_these_kinds() -> None:
    """The module's own table of keys (its docstring) is where a new kind is added first."""
    doc = register_keys.__doc__ or ""
    prefixes = {
        match.group(1) for match in re.finditer(r"^\|[^|]+\|\s*([A-Z]+#)", doc, re.MULTILINE)
    }
    assert prefixes == set(ITEM_KINDS)


def test_every_lifecycle_rule_of_the_bucket_is_in_the_bucket_table() -> None:
    bucket = tables(section())[1]
    named = " ".join(row[0] for row in bucket)
    rules: list[dict[str, Any]] = load_template()["Resources"]["RawMailBucket"]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    prefixes = [rule["Prefix"] for rule in rules if "Prefix" in rule]
    assert prefixes and all(f"`{prefix}" in named for prefix in prefixes), prefixes


@pytest.mark.parametrize(
    "kept",
    ["function logs", "metrics", "review schedules", "DLQ", "stream", "point-in-time recovery"],
)
def test_what_is_kept_outside_the_table_and_bucket_is_listed(kept: str) -> None:
    elsewhere = tables(section())[2]
    assert any(kept in row[0] for row in elsewhere), kept


def test_the_settings_that_change_a_retention_are_parameters() -> None:
    parameters = load_template()["Parameters"]
    named = set(re.findall(r"`([A-Z][A-Za-z]+)`", section()))
    settings = {name for name in named if name.endswith(("Days", "Years"))}
    assert {"ClosedCaseRetentionYears", "RawMailRetentionDays", "LogRetentionDays"} <= settings
    assert settings <= set(parameters), settings - set(parameters)
