"""The corpus: 30+ realistic emails (other areas' forms, printed PDFs, Word forms, typed
forms, forwarded mail, scans, several children) each read as expected.json says, through
`dsr-intake process --json` on the embedded stack."""

from __future__ import annotations

from functools import cache

from tests.corpus.report import compare, expected
from tests.corpus.report import run_corpus as run_corpus_once

run_corpus = cache(run_corpus_once)  # one run of the corpus serves every test here


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


def test_the_corpus_report_carries_no_childs_details() -> None:
    """Every NHS number and family name in the corpus's forms, looked for in what
    `process --json` printed about them (outcomes, reasons, recipients, subjects)."""
    import json
    from pathlib import Path

    from shared.forms.documents import read_attachment
    from shared.forms.fields import FormUnreadableError
    from shared.forms.text_form import read_text_forms
    from shared.mail import parse_mail

    details: set[str] = set()
    for path in sorted((Path(__file__).parents[1] / "corpus" / "emails").glob("*.eml")):
        mail = parse_mail(path.read_bytes(), ("dsr.mailbox@nhs.net",))
        forms = read_text_forms(mail.body_text, "body")
        for attachment in mail.attachments:
            try:
                forms += read_attachment(attachment)
            except FormUnreadableError:  # unreadable on purpose: a scan, a macro document
                continue
        for form in forms:
            for name in ("child_nhs_number", "child_family_name"):
                value = form.fields.get(name, "").strip()
                if len(value) >= 4:
                    details |= {value, value.replace(" ", "")}
    assert len(details) > 20
    printed = json.dumps(run_corpus())
    assert [detail for detail in details if detail in printed] == []
