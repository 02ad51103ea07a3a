"""What a person types in `dsr-intake serve`'s terminal: `advance DAYS` moves the register's
clock on (what falls due fires on the way, its emails to the Maildir, journalled), `where`
prints where everything is. Lines are read on their own thread and obeyed by serve's loop,
which owns the stack."""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infrastructure.serve import Server

# The most `advance` moves the clock on at once.
MAX_ADVANCE_DAYS = 366
HELP = (
    f"Commands: `advance DAYS` moves the clock on (0 < DAYS <= {MAX_ADVANCE_DAYS}), firing what "
    "falls due; `where` says where things are."
)


class Terminal:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.lines: queue.Queue[str] = queue.Queue()

    def put(self, line: str) -> None:
        self.lines.put(line)

    def take(self) -> None:
        """Obey every line typed since the last look, saying what came of each."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            self.server.say(self.obey(line))

    def obey(self, line: str) -> str:
        words = line.split()
        if not words:
            return ""
        if words == ["where"]:
            return self.server.where()
        if words[0] == "advance" and len(words) == 2:
            try:
                days = float(words[1])
            except ValueError:
                days = 0.0
            if 0 < days <= MAX_ADVANCE_DAYS:
                return self.server.advance(days)
        return HELP
