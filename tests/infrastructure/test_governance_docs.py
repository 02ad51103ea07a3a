"""The governance documents in docs/ (the DPIA, the DCB0129 hazard log) stay true to the code:
every test they cite exists, every hazard is guarded by at least one test, and every
template name they give (a parameter such as `SecureDomains`) is in template.yaml."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from infrastructure.local_stack import load_template

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
HAZARD_LOG = ROOT / "docs" / "hazard-log.md"
# `tests/unit/test_x.py::test_y`, or `...::TestClass::test_y` for a test in a class.
TEST_LINK = re.compile(r"\btests/[\w/]+\.py(?:::\w+){1,2}")
# A name written the way template.yaml names things: `SecureDomains`, `IntakeFunction`.
TEMPLATE_NAME = re.compile(r"`([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)`")
RELATIVE_LINK = re.compile(r"\]\((\.\./[^)#\s]+|[\w-]+\.md)(?:#[^)]*)?\)")
HAZARD_HEADING = re.compile(r"^### (H-\d{2}) ", re.MULTILINE)
SUMMARY_ROW = re.compile(r"^\| (H-\d{2}) \|", re.MULTILINE)


def defined_tests(path: Path) -> set[str]:
    """Every test function a file defines at module level (`test_x`) or in a class
    (`TestClass::test_x`), as pytest would name it after the file's `::`."""
    names: set[str] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return {name for name in names if name.rsplit("::", 1)[-1].startswith("test")}


def broken_test_links(text: str, root: Path = ROOT) -> list[str]:
    """The test links in `text` that name no test: a missing file or function."""
    broken = []
    for link in TEST_LINK.findall(text):
        path, _, name = link.partition("::")
        file = root / path
        if not file.is_file() or name not in defined_tests(file):
            broken.append(link)
    return broken


def hazards(text: str) -> dict[str, str]:
    """Each hazard's section of the hazard log, by its id."""
    starts = list(HAZARD_HEADING.finditer(text))
    ends = [match.start() for match in starts[1:]] + [text.find("\n## ", starts[-1].end())]
    return {
        match[1]: text[match.start() : end if end > 0 else len(text)]
        for match, end in zip(starts, ends, strict=True)
    }


def test_the_dpia_and_the_hazard_log_are_there() -> None:
    assert {path.name for path in DOCS} >= {"dpia.md", "hazard-log.md"}


def test_every_test_a_document_cites_exists() -> None:
    for doc in DOCS:
        text = doc.read_text("utf-8")
        assert broken_test_links(text) == [], doc.name
    assert len(TEST_LINK.findall(HAZARD_LOG.read_text("utf-8"))) >= 40


def test_the_link_check_finds_a_broken_link(tmp_path: Path) -> None:
    """The check above can fail: a renamed test, a missing file, a class-based test."""
    folder = tmp_path / "tests" / "unit"
    folder.mkdir(parents=True)
    (folder / "test_sample.py").write_text(
        "def test_kept() -> None:\n    ...\n\n\n"
        "class TestGroup:\n    def test_inside(self) -> None:\n        ...\n\n"
        "    def helper(self) -> None:\n        pass\n",
        "utf-8",
    )
    text = (
        "`tests/unit/test_sample.py::test_kept` and "
        "`tests/unit/test_sample.py::TestGroup::test_inside` hold; "
        "`tests/unit/test_sample.py::test_renamed`, "
        "`tests/unit/test_sample.py::TestGroup::helper`, "
        "`tests/unit/test_sample.py::test_inside` and "
        "`tests/unit/test_gone.py::test_kept` do not."
    )
    assert broken_test_links(text, tmp_path) == [
        "tests/unit/test_sample.py::test_renamed",
        "tests/unit/test_sample.py::TestGroup::helper",
        "tests/unit/test_sample.py::test_inside",
        "tests/unit/test_gone.py::test_kept",
    ]


def test_every_hazard_is_guarded_by_a_test() -> None:
    text = HAZARD_LOG.read_text("utf-8")
    sections = hazards(text)
    # At least: lost reminder, no escalation, wrong child, wrong recipient, erasure undone,
    # forged coordinator, duplicates, a form misread.
    assert len(sections) >= 8
    for hazard, section in sections.items():
        assert TEST_LINK.search(section), f"{hazard} names no test that guards it"
    assert SUMMARY_ROW.findall(text) == list(sections), "the summary lists every hazard once"


def test_every_template_name_the_documents_give_exists() -> None:
    template = load_template()
    known = {
        name
        for section in ("Parameters", "Resources", "Outputs", "Conditions")
        for name in template.get(section, {})
    }
    for doc in DOCS:
        named = set(TEMPLATE_NAME.findall(doc.read_text("utf-8")))
        assert named - known == set(), doc.name
    dpia = (ROOT / "docs" / "dpia.md").read_text("utf-8")
    assert {"SecureDomains", "LeadAddress", "RawMailRetentionDays"} <= set(
        TEMPLATE_NAME.findall(dpia)
    )


def test_every_file_a_document_links_to_is_there() -> None:
    for doc in DOCS:
        for target in RELATIVE_LINK.findall(doc.read_text("utf-8")):
            assert (doc.parent / target).resolve().is_file(), f"{doc.name}: {target}"
