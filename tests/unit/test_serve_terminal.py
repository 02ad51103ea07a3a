"""What serve's terminal obeys: `advance DAYS` within bounds, `where`; anything else, the help."""

from __future__ import annotations

from typing import Any, cast

from infrastructure.serve_terminal import HELP, MAX_ADVANCE_DAYS, Terminal


class _Server:
    def __init__(self) -> None:
        self.advanced: list[float] = []
        self.said: list[str] = []

    def advance(self, days: float) -> str:
        self.advanced.append(days)
        return f"moved {days:g}"

    def where(self) -> str:
        return "here"

    def say(self, line: str) -> None:
        self.said.append(line)


def test_the_terminal_moves_the_clock_within_bounds_and_helps_otherwise() -> None:
    server = _Server()
    terminal = Terminal(cast(Any, server))
    for line in ("advance 7\n", "advance 0.5", "where", "", "advance -1", "advance x",
                 f"advance {MAX_ADVANCE_DAYS + 1}", "advance", "rm -rf /"):  # fmt: skip
        terminal.put(line)
    terminal.take()
    assert server.advanced == [7.0, 0.5]
    assert server.said == ["moved 7", "moved 0.5", "here", "", *[HELP] * 5]
