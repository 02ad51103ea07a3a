"""How fast the pure intake decides, per email (no AWS). Run: .venv/bin/python bench/bench_intake.py

Target: a valid referral+consent pair decided in well under a second on one core, so a
batch of ten fits easily inside the function's 60 s timeout; printed (flattened) forms, read
through their text layer, too.
"""

from __future__ import annotations

import time
import tracemalloc

from empty_register import empty_decider

from infrastructure.samples import consent_pdf, email, referral_pdf
from shared.mail import parse_mail
from shared.settings import Settings


def main(rounds: int = 50) -> None:
    from infrastructure.sample_documents import printed_form
    from infrastructure.samples import consent_fields, referral_fields
    from templates.forms.layout import CONSENT, REFERRAL

    measure("fillable", email(("r.pdf", referral_pdf()), ("c.pdf", consent_pdf())), rounds)
    printed = email(
        ("r.pdf", printed_form(REFERRAL, referral_fields())),
        ("c.pdf", printed_form(CONSENT, consent_fields())),
    )
    measure("printed (text layer)", printed, rounds // 5)


def measure(kind: str, raw: bytes, rounds: int) -> None:
    decider = empty_decider(Settings())
    tracemalloc.start()
    started = time.perf_counter()
    for number in range(rounds):
        decider.decide(parse_mail(raw), f"bench-{number}")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    print(
        f"{kind}: {rounds} emails ({len(raw) // 1024} KiB each): {elapsed / rounds * 1000:.1f} ms per email, "
        f"peak {peak / 1024 / 1024:.1f} MiB traced"
    )


if __name__ == "__main__":
    main()
