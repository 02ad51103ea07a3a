"""`dsr-intake process` gives every file a line, whatever goes wrong with one of them."""

from __future__ import annotations

import pytest

from infrastructure.local_stack import LocalStack
from infrastructure.samples import child, consent_pdf, email, referral_pdf
from infrastructure.session import Pipeline


def test_an_exception_in_one_email_is_its_null_line_and_the_next_is_processed(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = Pipeline(stack)
    real_run = stack.run_pipeline
    calls = iter([KeyError("boom"), None])

    def failing_once() -> None:
        failure = next(calls)
        if failure is not None:
            raise failure
        real_run()

    monkeypatch.setattr(stack, "run_pipeline", failing_once)
    person = child(911)
    first = pipeline.process("broken.eml", email(("r.pdf", referral_pdf(**person))))
    assert first["outcome"] is None and first["error"] == "KeyError while processing the email"
    second = pipeline.process(
        "pair.eml",
        email(("r.pdf", referral_pdf(**child(912))), ("c.pdf", consent_pdf(**child(912)))),
    )
    assert second["outcome"] is not None
