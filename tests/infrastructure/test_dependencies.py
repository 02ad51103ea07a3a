"""The Lambda layer installs exactly what requirements-lambda.txt pins, with hashes, and that
lock agrees with pyproject.toml's run-time dependencies."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _locked() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, its hashes), from the lock's `name==version \\ --hash=...`."""
    text = (ROOT / "requirements-lambda.txt").read_text("utf-8")
    logical_lines = re.sub(r"\\\n\s*", " ", text).splitlines()
    locked: dict[str, tuple[Version, list[str]]] = {}
    for line in (line.strip() for line in logical_lines):
        if not line or line.startswith("#"):
            continue
        requirement, *options = line.split()
        name, version = requirement.split("==")
        locked[canonicalize_name(name)] = (
            Version(version),
            [o.removeprefix("--hash=") for o in options if o.startswith("--hash=")],
        )
    return locked


def test_every_pin_is_exact_and_hashed() -> None:
    locked = _locked()
    assert locked
    for name, (_, hashes) in locked.items():
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), name


def test_every_runtime_dependency_is_pinned_in_the_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    locked = _locked()
    for dependency in project["dependencies"]:
        requirement = Requirement(dependency)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is a run-time dependency but not in requirements-lambda.txt"
        version, _ = locked[name]
        assert requirement.specifier.contains(version), (name, str(version), dependency)
    # What pydantic needs at run time is there too (pip resolved it for Lambda's platform).
    assert {"pydantic-core", "typing-extensions", "annotated-types"} <= set(locked)


def test_the_layer_installs_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    recipe = makefile.split("\nbuild-SharedLayer:", 1)[1]
    install = re.sub(r"\\\n\s*", " ", recipe.split("pip install", 1)[1]).split("\n", 1)[0]
    assert "--require-hashes -r requirements-lambda.txt" in install
    assert "--only-binary=:all:" in install and "--python-version 3.12" in install
