"""The trace of a case: every call on an endpoint with its outcome, and every move on the link, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from conformance.outcome import Outcome

__all__ = ["Trace"]


class Trace:
    """An append-only list of readable lines, capped so a runaway case cannot exhaust memory.

    When more than ``MAX_LINES`` lines arrive, the first ``HEAD`` and the most recent ones are kept (the end is
    where a failure or a deadlock shows), and the number left out in between is reported.
    """

    MAX_LINES = 2000
    HEAD = 500

    def __init__(self) -> None:
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=self.MAX_LINES - self.HEAD)
        self.omitted = 0
        # Called with every line as it is added: the isolated runner uses it to see progress and to keep the last
        # lines of a case whose process dies (conformance.isolation).
        self.listener: Callable[[str], None] | None = None

    @property
    def lines(self) -> list[str]:
        return [*self.head, *self.tail]

    def _add(self, line: str) -> None:
        if self.listener is not None:
            self.listener(line)
        if len(self.head) < self.HEAD:
            self.head.append(line)
            return
        if len(self.tail) == self.tail.maxlen:
            self.omitted += 1
        self.tail.append(line)

    def call(self, actor: str, outcome: Outcome) -> None:
        self._add(f"{actor}: {outcome}")

    def link(self, text: str) -> None:
        self._add(f"link {text}")

    def note(self, text: str) -> None:
        self._add(f"-- {text}")

    def as_list(self) -> list[str]:
        if self.omitted:
            return [*self.head, f"... {self.omitted} lines omitted ...", *self.tail]
        return self.lines
