"""Hostile and huge emails against the IntakeFunction's own bounds, measured in one run.

Run: .venv/bin/python bench/bench_hostile.py

Each shape is read and decided in a fresh process (as one Lambda invocation would), from the
raw bytes SES would store. Printed for each: the peak resident memory as a share of the
function's MemorySize, and the CPU time scaled to the share of a vCPU that MemorySize buys
(Lambda gives 1,769 MB one vCPU; this machine's core counts as one) as a share of its
Timeout. Both must stay under 0.5: room to spare. The shapes come from the test suite's own
hostile corpus (tests/hostile, tests/unit/test_document_bounds.py).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL_VCPU_MB = 1769
ROOM = 0.5  # at most half the memory and half the time


def _function_bounds() -> tuple[int, int]:
    """The IntakeFunction's MemorySize and Timeout (the template's Globals)."""
    text = (ROOT / "template.yaml").read_text()
    memory = re.search(r"^    MemorySize: (\d+)$", text, re.MULTILINE)
    timeout = re.search(r"^    Timeout: (\d+)$", text, re.MULTILINE)
    assert memory and timeout, "Globals.Function MemorySize and Timeout"
    return int(memory.group(1)), int(timeout.group(1))


def _shapes() -> dict[str, Callable[[], bytes]]:
    from infrastructure.samples import email
    from tests.hostile import builders
    from tests.unit import test_document_bounds as documents

    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

    def body(text: str) -> bytes:
        return builders.raw_email(
            (builders.from_line(builders.REFERRER),), body=builders.message(body=text)
        )

    def nested_mime(depth: int) -> bytes:
        inner = b"Content-Type: text/plain\n\nhello\n"
        for level in range(depth):
            boundary = b"b%d" % level
            inner = (
                b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n--' + boundary
                + b"\n" + inner + b"\n--" + boundary + b"--\n"
            )  # fmt: skip
        return builders.raw_email((builders.from_line(builders.REFERRER),), body=inner)

    return {
        "largest email SES accepts (40 MB, one file)": lambda: email(
            ("f.pdf", os.urandom(29 * 1024 * 1024))
        ),
        "40 MB of files under the size limit": lambda: email(
            *[(f"f{n}.pdf", os.urandom(7 * 1024 * 1024)) for n in range(4)]
        ),
        "9 MB text attachment of labels": lambda: email(
            ("f.txt", b"Given name(s): x\n" * (9 * 1024 * 1024 // 17), "text/plain")
        ),
        "3 MB body line of 'x: '": lambda: body("x: " * (1024 * 1024)),
        "address of 200,000 dots": lambda: builders.raw_email(
            ("From: a@" + "." * 200_000 + "nhs.net",), body=builders.message()
        ),
        "MIME nested 5,000 deep": lambda: nested_mime(5000),
        "100,000 parts": lambda: (
            body("x")
            .replace(b"Content-Type: text/plain", b'Content-Type: multipart/mixed; boundary="b"', 1)
            .rstrip()
            + b"\n"
            + b"--b\nContent-Type: text/plain\n\nx\n" * 100_000
            + b"--b--\n"
        ),
        ".docx inflating to 1 GB, declaring 1 KB": lambda: email(
            ("f.docx", documents.word_bomb(1024, 1024), word)
        ),
        ".docx of 3 million empty paragraphs": lambda: email(
            ("f.docx", documents.paragraphs(3_000_000), word)
        ),
        "PDF of 50,000 pages": lambda: email(
            ("f.pdf", documents.many_pages(50_000, {1: ["Referral form"]}))
        ),
        "PDF of 50,000 form fields": lambda: email(("f.pdf", documents.many_fields(50_000))),
    }


def _one(path: str) -> None:
    """In the child: read and decide the email in `path`; print CPU seconds and peak KB."""
    from empty_register import empty_decider

    from shared.mail import parse_mail
    from shared.settings import Settings

    settings = Settings(trusted_forwarders=("dsr.mailbox@nhs.net",))
    raw = Path(path).read_bytes()
    started = time.process_time()
    mail = parse_mail(
        raw, settings.trusted_forwarders, max_part_bytes=settings.max_attachment_bytes
    )
    decision = empty_decider(settings).decide(mail, "bench")
    cpu = time.process_time() - started
    # VmHWM, the peak of this process's own memory (ru_maxrss would carry the parent's over
    # the exec that started this process).
    status = Path("/proc/self/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    peak_kb = int(found.group(1)) if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(cpu, peak_kb, decision.outcome.value, ",".join(r.code.value for r in decision.reasons))


def main() -> None:
    memory_mb, timeout_s = _function_bounds()
    vcpu_share = memory_mb / FULL_VCPU_MB
    print(
        f"IntakeFunction: MemorySize {memory_mb} MB, Timeout {timeout_s} s, "
        f"{vcpu_share:.2f} of a vCPU; each shape must use under {ROOM:.0%} of both"
    )
    failed = 0
    with tempfile.TemporaryDirectory() as folder:
        for name, build in _shapes().items():
            path = Path(folder) / "email.eml"
            path.write_bytes(build())
            result = subprocess.run(
                [sys.executable, __file__, "--one", str(path)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if result.returncode != 0:
                failed += 1
                print(f"FAIL {name}: crashed\n{result.stderr[-2000:]}")
                continue
            cpu, peak_kb, outcome, codes = result.stdout.split()[-4:]
            memory_share = int(peak_kb) / 1024 / memory_mb
            time_share = float(cpu) / vcpu_share / timeout_s
            verdict = "PASS" if memory_share < ROOM and time_share < ROOM else "FAIL"
            failed += verdict == "FAIL"
            print(
                f"{verdict} {name}: {outcome} {codes or '-'}; memory {memory_share:.2f} x "
                f"MemorySize, time {time_share:.2f} x Timeout ({float(cpu):.2f} s CPU here)"
            )
    print("every shape within bounds: " + ("PASS" if not failed else f"FAIL ({failed})"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        _one(sys.argv[2])
    else:
        main()
