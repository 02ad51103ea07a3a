"""How fast and how small reading documents is. Run: .venv/bin/python bench/bench_forms.py

1. Speed. Target: reading and deciding a fillable referral + consent pair takes at most twice
   what pypdf alone takes to open both PDFs and list their field values. Both are measured
   here, in one run, and the ratio printed with PASS or FAIL.
2. Bounds. The hostile documents of issue #9 (made by tests/unit/test_document_bounds.py's
   builders, at the sizes they were found at): each read through read_attachment, with its
   time, its peak traced memory (tracemalloc) and that peak as a share of the intake
   function's 512 MB (template.yaml MemorySize).
"""

from __future__ import annotations

import io
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.unit's builders

from empty_register import empty_decider

from infrastructure.samples import consent_pdf, email, referral_pdf
from shared.forms.documents import read_attachment
from shared.forms.fields import FormUnreadableError
from shared.mail import Attachment, parse_mail
from shared.settings import Settings

TARGET_RATIO = 2.0
FUNCTION_MEMORY_MB = 512  # template.yaml: Globals.Function.MemorySize


def per_call(action: Callable[[], object], rounds: int) -> float:
    """Seconds per call: the best of three runs of `rounds` calls (after one to warm up)."""
    action()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            action()
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


def speed(rounds: int = 30) -> bool:
    referral, consent = referral_pdf(), consent_pdf()
    raw = email(("referral.pdf", referral), ("consent.pdf", consent))
    decider = empty_decider(Settings())

    def pypdf_alone() -> None:
        for content in (referral, consent):
            fields = PdfReader(io.BytesIO(content)).get_fields() or {}
            {name: field.get("/V") for name, field in fields.items()}

    def intake() -> None:
        decision = decider.decide(parse_mail(raw), "bench")
        assert decision.outcome.value == "accepted", decision.outcome

    alone = per_call(pypdf_alone, rounds)
    ours = per_call(intake, rounds)
    ratio = ours / alone
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print("Speed: a fillable referral + consent pair")
    print(f"  pypdf alone, opening both and listing their field values: {alone * 1000:7.1f} ms")
    print(f"  IntakeDecider deciding the email (parse, read, decide):   {ours * 1000:7.1f} ms")
    print(f"  ratio {ratio:.2f} (target <= {TARGET_RATIO}): {verdict}")
    return ratio <= TARGET_RATIO


def bounds() -> None:
    from tests.unit.test_document_bounds import hostile_documents

    print()
    print("Bounds: hostile documents, each read twice: timed (untraced), then traced for its peak")
    print(f"  {'document':52} {'size':>9} {'time':>8} {'peak':>9} {'of 512 MB':>9}  result")
    for name, content_type, make in hostile_documents():
        content = make()
        attachment = Attachment(position=2, content_type=content_type, content=content)
        result, seconds = _read(attachment)
        tracemalloc.start()
        _read(attachment)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mb = peak / 1024 / 1024
        print(
            f"  {name:52} {len(content) / 1024:7.0f} K {seconds:7.2f}s {peak_mb:7.1f} MB "
            f"{peak_mb / FUNCTION_MEMORY_MB:8.1%}  {result}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  (this process's peak resident memory, generators and all: {rss:.0f} MB)")


def _read(attachment: Attachment) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        forms = read_attachment(attachment)
        result = f"{len(forms)} form(s): " + ", ".join(form.kind.value for form in forms)
    except FormUnreadableError as error:
        result = f"refused: {error}"
    except BaseException as error:  # the bench reports it; the tests fail on it
        result = f"ESCAPED {type(error).__name__}"
    return result, time.perf_counter() - started


def main() -> None:
    passed = speed()
    bounds()
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
