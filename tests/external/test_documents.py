"""Real PDFs and Word files from outside the project (tests/external/documents, SOURCES.md):
each read through read_attachment comes to what expected.json says, a list of forms or a
FormUnreadableError saying what the file is, and never anything else, within bounds of time
and memory measured here."""

from __future__ import annotations

import json
import time
import tracemalloc
from functools import cache
from pathlib import Path

import pytest

from shared.forms.documents import read_attachment
from shared.forms.fields import FormUnreadableError, RawForm
from shared.forms.word import word_text
from shared.mail import Attachment

DOCUMENTS = Path(__file__).parent / "documents"
TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ".docm": "application/vnd.ms-word.document.macroEnabled.12",
}
SECONDS = 5.0  # generous: the slowest of them takes well under a second
MEGABYTES = 150


@cache
def expected() -> dict[str, dict[str, object]]:
    files: dict[str, dict[str, object]] = json.loads(
        (DOCUMENTS / "expected.json").read_text("utf-8")
    )["files"]
    return files


def documents() -> list[Path]:
    return sorted(path for path in DOCUMENTS.iterdir() if path.suffix in TYPES)


def read(path: Path) -> list[RawForm] | FormUnreadableError:
    attachment = Attachment(position=1, content_type=TYPES[path.suffix], content=path.read_bytes())
    try:
        return read_attachment(attachment)
    except FormUnreadableError as error:
        return error


def test_every_document_is_listed_with_its_origin_and_expectation() -> None:
    names = {path.name for path in documents()}
    assert len(names) >= 40
    assert names == set(expected())
    sources = (DOCUMENTS / "SOURCES.md").read_text("utf-8")
    assert all(f"`{name}`" in sources for name in names)
    assert all(path.stat().st_size < 1024 * 1024 for path in documents())


@pytest.mark.parametrize("path", documents(), ids=lambda path: path.name)
def test_a_real_document_comes_to_what_was_expected_within_bounds(path: Path) -> None:
    started = time.perf_counter()
    result = read(path)  # anything but forms or FormUnreadableError fails the test here
    seconds = time.perf_counter() - started
    tracemalloc.start()
    try:
        read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seconds < SECONDS
    assert peak / 1024 / 1024 < MEGABYTES
    want = expected()[path.name]
    if "refused" in want:
        assert isinstance(result, FormUnreadableError), result
        assert str(want["refused"]) in str(result)
    else:
        assert isinstance(result, list), result
        assert len(result) == want["forms"]
    for line in want.get("text", []):  # type: ignore[attr-defined]
        assert line in word_text(path.read_bytes())
