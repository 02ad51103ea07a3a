"""The corpus: 30+ realistic emails (other areas' forms, printed PDFs, Word forms, typed
forms, forwarded mail, scans, several children) each read as expected.json says, through
`dsr-intake process --json` on the embedded stack."""

from __future__ import annotations

from tests.corpus.report import compare, expected, run_corpus


def test_every_corpus_email_is_read_correctly() -> None:
    spec = expected()["emails"]
    assert len(spec) >= 30
    lines = run_corpus()
    assert set(lines) == set(spec)
    assert compare(lines) == []


def test_the_corpus_covers_every_way_forms_arrive() -> None:
    stories = " ".join(email["story"] for email in expected()["emails"].values()).lower()
    for kind in (
        "printed",
        "word",
        "typed",
        "forward",
        "scan",
        "photo",
        "password",
        "two children",
        "another area",
    ):
        assert kind in stories, kind
