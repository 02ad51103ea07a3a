"""`dsr-intake serve` runs for days: its memory and time per email stay flat. Run:
.venv/bin/python bench/bench_serve.py [EMAILS]

1,000 emails (a mix from infrastructure/samples.py: accepted referrals, pending referrals,
rejections for age, reviews of earlier cases) go through one embedded stack as serve runs
it (infrastructure.serve.Server: stored as SES would, processed, answers to the Maildir),
the clock moving on two hours an email (1,000 emails: about 83 days, so reminders, review
alerts and panel packs fire on the way, looked for once a day, and the mail bucket's
lifecycle expires raw mail;
RawMailRetentionDays is 7 here, so that a week's mail, not 90 days', is held in memory).
Measured in the same run: the resident memory added per email over the last 100 after
warm-up; the time per email (its processing, from SMTP to the answers in the Maildir) of
the last 100 against the first 100; and the time per schedule fired (a look for what fell
due, with everything it fired) of the last 100 firings against the first 100. The firings
are timed apart from the emails: the register's own work grows with it (each open case
whose review is overdue is chased), so the firings per email grow, but what each costs
must not.
"""

from __future__ import annotations

import gc
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_MB_PER_EMAIL = 0.1  # resident memory added per email after warm-up
MAX_TIME_RATIO = 1.5  # time per email, last 100 / first 100; time per firing likewise
FIRINGS_WINDOW = 100
HOURS_PER_EMAIL = 2
# serve looks for due schedules every 30 s; each look reads every schedule and every item's
# expiry, in-process (infrastructure.bounded): a small cost per look that grows with the
# register, not per email.
# Here it looks once a simulated day - far more often per email than serve, which takes
# an email in a fifth of a second.
EMAILS_PER_LOOK = 12


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def mixed_email(number: int, cases: list[tuple[dict[str, str], str]], today: str) -> bytes:
    """The `number`th email of the mix (each child unique)."""
    from infrastructure.samples import child, consent_pdf, email, referral_pdf, review_pdf

    person = child(1000 + number, age=10)
    match number % 5:
        case 0 | 1:  # a referral with its consent: a new case
            return email(
                ("referral.pdf", referral_pdf(**person)), ("consent.pdf", consent_pdf(**person))
            )
        case 2:  # a referral alone: pending
            return email(("referral.pdf", referral_pdf(**person)), sender="camhs.team@nhs.net")
        case 3:  # too old for the register: rejected
            old = child(1000 + number, age=19)
            return email(("referral.pdf", referral_pdf(**old)), ("consent.pdf", consent_pdf(**old)))
        case _:  # the panel's review of an earlier case
            if not cases:
                return email(("referral.pdf", referral_pdf(**person)))
            reviewed, case_id = cases[number % len(cases)]
            return email(
                (
                    "review.pdf",
                    review_pdf(reviewed, case_id, rag_rating="Amber", review_date=today),
                ),
                sender="dsr.coordinator@nhs.net",
                subject="DSR review outcome",
            )


def per_firing(looks: list[tuple[float, int]]) -> float:
    """Seconds per schedule fired over the first looks (in the order given) that fired
    FIRINGS_WINDOW schedules; a look that fired nothing counts its time too."""
    seconds, fired = 0.0, 0
    for spent, count in looks:
        seconds, fired = seconds + spent, fired + count
        if fired >= FIRINGS_WINDOW:
            break
    if fired == 0:
        raise RuntimeError("nothing fired: run more emails")
    return seconds / fired


def main(emails: int = 1000) -> int:
    from infrastructure.samples import child, uk
    from infrastructure.serve import Server

    window = max(emails // 10, 1)
    outcomes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as state:
        server = Server(
            Path(state), {"RawMailRetentionDays": "7"}, smtp_port=0, http_port=0, say=lambda _: None
        )
        with server:
            stack = server.session.stack
            cases: list[tuple[dict[str, str], str]] = []
            times: list[float] = []
            looks: list[tuple[float, int]] = []  # (seconds, schedules fired) of each look
            memory: dict[int, float] = {}
            for number in range(emails):
                raw = mixed_email(number, cases, uk(stack.now().date()))
                started = time.perf_counter()
                line = server.receive(raw)
                times.append(time.perf_counter() - started)
                stack.clock_offset += timedelta(hours=HOURS_PER_EMAIL)
                if number % EMAILS_PER_LOOK == EMAILS_PER_LOOK - 1:
                    started = time.perf_counter()
                    fired = server.fire_due()
                    server.keep_bounded(force=True)
                    looks.append((time.perf_counter() - started, fired))
                outcome = str(line.get("outcome"))
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                if outcome == "accepted" and number % 5 in (0, 1):
                    cases.append((child(1000 + number, age=10), line["case_id"]))
                if number in (emails - window - 1, emails - 1):
                    gc.collect()
                    memory[number] = rss_mb()
                if (number + 1) % 100 == 0:
                    print(f"  {number + 1} emails, {rss_mb():.0f} MB resident", flush=True)
            sent = server.mailbox.count
    first = sum(times[:window]) / window
    last = sum(times[-window:]) / window
    growth = (memory[emails - 1] - memory[emails - window - 1]) / window
    ratio = last / first
    first_firing, last_firing = per_firing(looks), per_firing(looks[::-1])
    firing_ratio = last_firing / first_firing
    print(f"{emails} emails: {outcomes}; {sent} emails sent to the Maildir")
    print(
        f"time per email: first {window} {first * 1000:.0f} ms, last {window} {last * 1000:.0f} ms"
    )
    print(
        f"time per schedule fired ({sum(fired for _, fired in looks)} fired): first "
        f"{FIRINGS_WINDOW} {first_firing * 1000:.0f} ms, last {FIRINGS_WINDOW} "
        f"{last_firing * 1000:.0f} ms"
    )
    memory_ok, time_ok = growth < MAX_MB_PER_EMAIL, ratio < MAX_TIME_RATIO
    firing_ok = firing_ratio < MAX_TIME_RATIO
    print(
        f"memory growth per email (last {window}): {growth:.3f} MB (bound {MAX_MB_PER_EMAIL}) "
        + ("PASS" if memory_ok else "FAIL")
    )
    print(
        f"time ratio last/first: {ratio:.2f} (bound {MAX_TIME_RATIO}) "
        + ("PASS" if time_ok else "FAIL")
    )
    print(
        f"time per firing ratio last/first: {firing_ratio:.2f} (bound {MAX_TIME_RATIO}) "
        + ("PASS" if firing_ok else "FAIL")
    )
    return 0 if memory_ok and time_ok and firing_ok else 1


if __name__ == "__main__":
    threading.current_thread().name = "bench_serve"
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
