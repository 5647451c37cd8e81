"""The trace of a case: every call on an endpoint with its outcome, and every move on the link, in order."""

from __future__ import annotations

from conformance.outcome import Outcome

__all__ = ["Trace"]


class Trace:
    """An append-only list of readable lines, capped so a runaway case cannot exhaust memory."""

    MAX_LINES = 2000

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.omitted = 0

    def _add(self, line: str) -> None:
        if len(self.lines) < self.MAX_LINES:
            self.lines.append(line)
        else:
            self.omitted += 1

    def call(self, actor: str, outcome: Outcome) -> None:
        self._add(f"{actor}: {outcome}")

    def link(self, text: str) -> None:
        self._add(f"link {text}")

    def note(self, text: str) -> None:
        self._add(f"-- {text}")

    def as_list(self) -> list[str]:
        if self.omitted:
            return [*self.lines, f"... {self.omitted} more lines omitted"]
        return list(self.lines)
