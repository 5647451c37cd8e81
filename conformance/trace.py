"""The trace of a case: every call on an endpoint with its outcome, and every move on the link, in order; and the
set of library functions the case called (through an endpoint or directly on the stack's C API), so a check can
tell a case that claims a clause of ``SSL_accept`` but never called ``SSL_accept``."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

from conformance.outcome import Outcome

__all__ = ["Trace", "TracedApi"]

_C_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*_\w+$|^(?:d2i|i2d)_\w+$")


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
        self.functions: set[str] = set()

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
        self.functions.add(outcome.op)
        self._add(f"{actor}: {outcome}")

    def called(self, name: str) -> None:
        """Note that the case called the library function ``name`` (no trace line: see :class:`TracedApi`)."""
        self.functions.add(name)

    def link(self, text: str) -> None:
        self._add(f"link {text}")

    def note(self, text: str) -> None:
        self._add(f"-- {text}")

    def as_list(self) -> list[str]:
        if self.omitted:
            return [*self.head, f"... {self.omitted} lines omitted ...", *self.tail]
        return self.lines


class TracedApi:
    """A C-API object (``conformance.capi`` convention) that adds to ``sink`` the name of every library function
    called through it; everything else (results, handles, constants) passes through unchanged. ``sink`` may be
    replaced later (an endpoint made before the case's trace existed hands its calls over to the trace)."""

    def __init__(self, api: Any, sink: set[str]) -> None:
        self._api = api
        self.sink = sink

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._api, name)
        if not callable(value) or not _C_NAME.match(name):
            return value

        def traced(*args: Any, **kwargs: Any) -> Any:
            self.sink.add(name)
            return value(*args, **kwargs)

        traced.__name__ = name
        setattr(self, name, traced)  # later look-ups skip __getattr__
        return traced
