"""`dsr-intake serve` run as a person runs it, for the end-to-end tests: a process, its
terminal read and typed into."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Serve:
    """One `dsr-intake serve` process on `state`, its terminal read and typed into."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infrastructure.cli", "serve", "--port", "0",
             "--smtp-port", "0", "--state", str(state)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.lines: list[str] = []
        self.started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.started.wait(180), self.output

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("Ctrl-C stops"):
                self.started.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def found(self, pattern: str, wait: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not printed:\n{self.output}")

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            assert self.process.wait(60) == 0, self.output

    def port(self, pattern: str) -> int:
        return int(self.found(pattern).group(1))
