"""The pump: drives two endpoints over a link until their goals are reached, or proves they never will be.

Theory of operation
-------------------
A *goal* is an operation on one endpoint (``lambda e: e.do_handshake()``, ``lambda e: e.read(5)``) that is
repeated while it reports ``SSL_ERROR_WANT_READ`` or ``SSL_ERROR_WANT_WRITE``, exactly as the pages tell an
application to do. One *round* calls every unfinished goal once and then steps both channels of the link once.

Invariants:

* every call and every link move is written to the trace, so a verdict can show how it got there;
* a round in which no goal finished and the link moved nothing can never be followed by a different round: the
  endpoints are deterministic functions of their input. The pump stops there with :class:`Deadlock`;
* every drive has a round budget; exhausting it is also a :class:`Deadlock` (a livelock), with the budget named;
* a goal that ends with anything other than a retry code ends for good: the pump never retries a fatal error
  (an outcome may carry ``pump_again``, the harness's own "call again" for a library whose SSL_get_error cannot
  say it: conformance/stacks/gnutls_layer.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.link import Link
from conformance.outcome import Outcome, SslError
from conformance.stacks.base import Endpoint
from conformance.trace import Trace

__all__ = ["Deadlock", "DriveResult", "Goal", "Pump", "calls_again", "reads", "writes"]

Goal = Callable[[Endpoint], Outcome]


def calls_again(outcome: Outcome) -> bool:
    """Whether the harness calls again after ``outcome``: its SSL_get_error code is a retry, or the adapter set
    ``pump_again`` (the harness's own signal, for a library whose SSL_get_error cannot say "retry": only the gnutls
    layer sets it, conformance/stacks/gnutls_layer.py). ``outcome.retry``, which cases judge, is not changed."""
    return outcome.retry or bool(getattr(outcome, "pump_again", False))


def writes(data: bytes) -> Goal:
    """The goal ``endpoint.write(data)``, with ``data`` fixed now (for goals made in a loop)."""

    def goal(endpoint: Endpoint) -> Outcome:
        return endpoint.write(data)

    return goal


def reads(size: int) -> Goal:
    """The goal ``endpoint.read(size)``, with ``size`` fixed now (for goals made in a loop)."""

    def goal(endpoint: Endpoint) -> Outcome:
        return endpoint.read(size)

    return goal


class Deadlock(Exception):
    """Neither endpoint can make progress (or the round budget ran out); the verdict is *hang*."""

    def __init__(self, message: str, trace: Trace) -> None:
        super().__init__(message)
        self.trace = trace


@dataclass
class DriveResult:
    client: Outcome | None = None
    server: Outcome | None = None
    client_seen: list[SslError] = field(default_factory=list)  # retry codes met on the way, in order
    server_seen: list[SslError] = field(default_factory=list)
    rounds: int = 0


class Pump:
    DEFAULT_BUDGET = 200_000

    def __init__(self, client: Endpoint, server: Endpoint, link: Link, trace: Trace) -> None:
        self.client = client
        self.server = server
        self.link = link
        self.trace = trace
        self.calls = 0
        # outcomes called again only because of ``pump_again`` (their own code is no retry), in order: the handshakes
        # and drives here, and the loops of cases through Pair.wants_again
        self.misreported: list[Outcome] = []

    def call(self, endpoint: Endpoint, goal: Goal) -> Outcome:
        """One recorded call."""
        outcome = goal(endpoint)
        self.calls += 1
        self.trace.call(endpoint.label, outcome)
        return outcome

    def step_link(self) -> bool:
        a = self.link.c2s.step(self.client, self.server, self.trace, "client->server")
        b = self.link.s2c.step(self.server, self.client, self.trace, "server->client")
        return a or b

    def settle(self, budget: int = 100_000) -> int:
        """Move bytes until the link is quiet; returns the number of rounds that moved something."""
        rounds = 0
        while rounds < budget and self.step_link():
            rounds += 1
        return rounds

    def drive(
        self, client: Goal | None = None, server: Goal | None = None, *, budget: int | None = None,
        until: str = "all",
    ) -> DriveResult:
        """Run the goals until each ends with a non-retry outcome; settle the link afterwards.

        ``until="client"`` (or ``"server"``) ends the drive as soon as that side's goal has ended, whatever the
        other side is doing: for cases where one side is expected to fail and the other is left waiting.
        """
        if until not in ("all", "client", "server"):
            raise ValueError(f"until must be 'all', 'client' or 'server', not {until!r}")
        budget = budget or self.DEFAULT_BUDGET
        result = DriveResult()
        goals: dict[str, tuple[Endpoint, Goal]] = {}
        if client is not None:
            goals["client"] = (self.client, client)
        if server is not None:
            goals["server"] = (self.server, server)
        if not goals:
            raise ValueError("drive() needs at least one goal")
        while goals and (until == "all" or until in goals):
            result.rounds += 1
            if result.rounds > budget:
                raise Deadlock(f"round budget of {budget} exhausted with goals of {', '.join(goals)} unfinished",
                               self.trace)
            finished = False
            for side in list(goals):
                endpoint, goal = goals[side]
                outcome = self.call(endpoint, goal)
                # pump_again: a library whose SSL_get_error cannot say "retry" tells the harness another way (the gnutls
                # layer's ERR_get_error 28); the outcome's codes, which the cases judge, stay the library's
                if calls_again(outcome):
                    if not outcome.retry:
                        self.misreported.append(outcome)
                    code = SslError(outcome.error)
                    (result.client_seen if side == "client" else result.server_seen).append(code)
                    setattr(result, side, outcome)
                    continue
                setattr(result, side, outcome)
                del goals[side]
                finished = True
            moved = self.step_link()
            if goals and not finished and not moved:
                waiting = ", ".join(f"{side} {getattr(result, side)}" for side in goals)
                self.trace.note(f"deadlock: nothing moved in round {result.rounds}; waiting: {waiting}")
                raise Deadlock(f"deadlock after {result.rounds} rounds: nothing can move; waiting: {waiting}",
                               self.trace)
        self.settle()
        return result

    def handshake(self, *, budget: int | None = None) -> DriveResult:
        return self.drive(lambda e: e.do_handshake(), lambda e: e.do_handshake(), budget=budget)
