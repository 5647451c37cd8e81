"""What a case works with: the fixture ``h`` (a :class:`Harness`) and the connection :class:`Pair` it makes.

A case is a plain pytest function taking ``h``. It names the clauses it checks and the capabilities it needs::

    @pytest.mark.clauses("SSL_read/RETURN VALUES/<=0")
    @pytest.mark.needs("error_codes")
    def test_read_with_nothing_to_read(h: Harness) -> None:
        pair = h.pair()
        pair.handshake()
        out = pair.call(pair.client, lambda e: e.read(10))
        assert out.error is SslError.SSL_ERROR_WANT_READ, out

The harness records every call in the trace, which goes into the verdict record.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from conformance.stacks.engine_api import EngineApi

from _pytest.outcomes import Skipped

from conformance.link import Link
from conformance.outcome import Outcome, Role
from conformance.pump import DriveResult, Goal, Pump, calls_again
from conformance.stacks.base import Endpoint, EndpointConfig, StackAdapter
from conformance.stacks.capi_endpoint import CApiEndpoint, as_capi_endpoint
from conformance.trace import Trace, TracedApi

__all__ = ["CApiPair", "CloseError", "Harness", "NotApplicable", "Pair"]


class CloseError(RuntimeError):
    """An endpoint's ``close()`` raised; every endpoint was still closed, and the message names each failure."""


class NotApplicable(Skipped):
    """The stack lacks a capability the case needs; the verdict is *not applicable* with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(msg=f"not applicable: {reason}", allow_module_level=False)
        self.reason = reason


@dataclass
class Pair:
    client: Endpoint
    server: Endpoint
    link: Link
    trace: Trace
    pump: Pump = field(init=False)

    def __post_init__(self) -> None:
        self.pump = Pump(self.client, self.server, self.link, self.trace)

    @property
    def misreported_retries(self) -> list[Outcome]:
        """The outcomes called again only by the harness's signal (``pump_again``), the stack's raw answer being no
        retry code: in the pump's drives (handshakes included) and in a case's own loops (:meth:`wants_again`)."""
        return self.pump.misreported

    def call(self, endpoint: Endpoint, goal: Goal) -> Outcome:
        """One call, recorded; no retries, no link movement."""
        return self.pump.call(endpoint, goal)

    def wants_again(self, outcome: Outcome) -> bool:
        """For a case's own "call again" loop (interoperability cases, which judge the bytes on the wire, not the
        retry codes): true when the outcome is a retry, or when only the harness's signal ``pump_again`` says so (as
        the pump does). The latter is noted in the trace and kept in :attr:`misreported_retries`, so a case claiming
        a clause on retry codes can still fail on it (specs/cases/_wire.py ``assert_retries_reported``)."""
        if outcome.retry:
            return True
        if not calls_again(outcome):
            return False
        self.pump.misreported.append(outcome)
        self.trace.note(f"{outcome} taken as a retry by the harness's own signal (pump_again); the stack's raw answer "
                        "is no retry code")
        return True

    def drive(self, client: Goal | None = None, server: Goal | None = None, *, budget: int | None = None,
              until: str = "all") -> DriveResult:
        return self.pump.drive(client, server, budget=budget, until=until)

    def drive_sides(self, goals: Mapping[str, Goal], *, budget: int | None = None) -> DriveResult:
        """:meth:`drive` with the goals by side name (``{"client": goal}``), for cases that pick the side at run
        time."""
        unknown = set(goals) - {"client", "server"}
        if unknown:
            raise ValueError(f"goals are for 'client' and 'server', not {', '.join(sorted(unknown))}")
        return self.pump.drive(goals.get("client"), goals.get("server"), budget=budget)

    def handshake(self) -> DriveResult:
        result = self.pump.handshake()
        assert result.client is not None and result.client.ok, f"client handshake did not complete: {result.client}"
        assert result.server is not None and result.server.ok, f"server handshake did not complete: {result.server}"
        return result

    def settle(self) -> int:
        return self.pump.settle()

    def send(self, data: bytes) -> None:
        """Client writes ``data`` and the server reads all of it (a helper for setting up a state)."""
        received = bytearray()
        self.drive(client=lambda e: e.write(data))
        while len(received) < len(data):
            res = self.drive(server=_reader(len(data) - len(received)))
            assert res.server is not None and res.server.ok, f"server read failed: {res.server}"
            received += res.server.data
        assert bytes(received) == data, "the server received other bytes than the client sent"


@dataclass
class CApiPair(Pair):
    """A :class:`Pair` of C-API endpoints (capability ``c_api`` on both sides): the case reaches each SSL object."""

    client: CApiEndpoint
    server: CApiEndpoint


def _reader(size: int) -> Goal:
    def goal(endpoint: Endpoint) -> Outcome:
        return endpoint.read(size)

    return goal


class Harness:
    """The ``h`` fixture: the stack under test (and the peer), configuration, randomness, trace."""

    def __init__(
        self,
        stack: StackAdapter,
        *,
        client_stack: StackAdapter | None = None,
        server_stack: StackAdapter | None = None,
        seed: int = 0,
    ) -> None:
        self.stack = stack
        self.client_stack = client_stack or stack
        self.server_stack = server_stack or stack
        self.interop = client_stack is not None or server_stack is not None
        self.seed = seed
        self.rng = random.Random(seed)
        self.trace = Trace()
        self.endpoints: list[Endpoint] = []
        self._capi: Any = None

    @property
    def capi(self) -> EngineApi:
        """The C API of the stack under test (capability ``c_api``), else the case is not applicable. Typed as the
        engine's API object (every C-API stack follows the same convention; handles are opaque to a case)."""
        self.need("c_api", stacks=(self.stack,))
        if self._capi is None:  # every function a case calls is noted in the trace (see TracedApi)
            self._capi = TracedApi(getattr(self.stack, "capi"), self.trace.functions)  # noqa: B009 - only C-API stacks
        return cast("EngineApi", self._capi)

    @property
    def peer(self) -> StackAdapter:
        return self.server_stack if self.client_stack is self.stack else self.client_stack

    def has(self, capability: str) -> bool:
        """Whether every stack involved has ``capability`` (for optional, stronger checks inside a case)."""
        return all(s.lacks(capability) is None for s in (self.client_stack, self.server_stack))

    def not_applicable(self, reason: str) -> None:
        """End the case as *not applicable* for a reason found while it runs."""
        raise NotApplicable(reason)

    def need(self, *capabilities: str, stacks: tuple[StackAdapter, ...] | None = None) -> None:
        """Raise :class:`NotApplicable` unless every stack involved has every capability."""
        involved = stacks or tuple({id(s): s for s in (self.client_stack, self.server_stack)}.values())
        for capability in capabilities:
            for stack in involved:
                why = stack.lacks(capability)
                if why:
                    raise NotApplicable(why)

    def pair(
        self,
        *,
        client: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
        server: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
        link: Link | None = None,
    ) -> Pair:
        """A client and a server of the stacks under test, joined by ``link`` (whole by default).

        ``client`` / ``server`` are a config or a function that adjusts the default config.
        """
        self.need("client_role", stacks=(self.client_stack,))
        self.need("server_role", stacks=(self.server_stack,))
        configs = []
        for role, spec in ((Role.CLIENT, client), (Role.SERVER, server)):
            base = EndpointConfig(role=role, verify_peer=role is Role.CLIENT)
            configs.append(spec(base) if callable(spec) else spec or base)
        for cfg in configs:  # a version one side insists on must be spoken by both stacks (tls1_2 / tls1_3)
            if cfg.min_version == "TLSv1.3":
                self.need("tls1_3")
            if cfg.max_version == "TLSv1.2":
                self.need("tls1_2")
        c = self.client_stack.endpoint(configs[0], f"client({self.client_stack.name})")
        s = self.server_stack.endpoint(configs[1], f"server({self.server_stack.name})")
        self.endpoints += [c, s]
        for endpoint in (c, s):  # C-API endpoints report every library function they call to the trace
            attach = getattr(endpoint, "attach_trace", None)
            if attach is not None:
                attach(self.trace)
        self.trace.note(f"pair: client {self.client_stack.name}, server {self.server_stack.name}, link "
                        f"{(link or Link.whole()).describe()}")
        return Pair(c, s, link or Link.whole(), self.trace)

    def capi_pair(
        self,
        *,
        client: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
        server: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
        link: Link | None = None,
    ) -> CApiPair:
        """:meth:`pair` for a case that calls the C API on the SSL objects: both stacks need ``c_api``."""
        self.need("c_api")
        pair = self.pair(client=client, server=server, link=link)
        return CApiPair(as_capi_endpoint(pair.client), as_capi_endpoint(pair.server), pair.link, pair.trace)

    def pair_factory(
        self,
        *,
        client: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
        server: Callable[[EndpointConfig], EndpointConfig] | EndpointConfig | None = None,
    ) -> Callable[..., Pair]:
        """``make(resume=None, link=None)``: pairs like :meth:`pair` whose servers all come from one server context
        (``StackAdapter.endpoint_factory``), so a session one server made can be resumed with the next; the client
        of each pair offers ``resume`` (a session from an earlier client's ``Endpoint.session()``). Needs
        'session_resumption' of both stacks."""
        self.need("session_resumption")
        self.need("client_role", stacks=(self.client_stack,))
        self.need("server_role", stacks=(self.server_stack,))
        base_client = EndpointConfig(role=Role.CLIENT, verify_peer=True)
        client_cfg = client(base_client) if callable(client) else client or base_client
        base_server = EndpointConfig(role=Role.SERVER, verify_peer=False)
        server_cfg = server(base_server) if callable(server) else server or base_server
        servers = self.server_stack.endpoint_factory(server_cfg)

        def make(resume: object | None = None, link: Link | None = None) -> Pair:
            c = self.client_stack.endpoint(client_cfg.with_(resume=resume), f"client({self.client_stack.name})")
            s = servers(f"server({self.server_stack.name})")
            self.endpoints += [c, s]
            for endpoint in (c, s):
                attach = getattr(endpoint, "attach_trace", None)
                if attach is not None:
                    attach(self.trace)
            self.trace.note(f"pair: client {self.client_stack.name} ({'offering a session' if resume else 'new'}), "
                            f"server {self.server_stack.name} (shared context)")
            return Pair(c, s, link or Link.whole(), self.trace)

        return make

    def close(self) -> None:
        """Close every endpoint, even when one raises; then raise :class:`CloseError` naming each that did."""
        problems = []
        for endpoint in self.endpoints:
            try:
                endpoint.close()
            except Exception as exc:
                problems.append(f"{getattr(endpoint, 'label', endpoint)}.close() raised {type(exc).__name__}: {exc}")
        self.endpoints.clear()
        if problems:
            raise CloseError("; ".join(problems))
