"""Programs of the differential runner: a set-up and a list of steps, their hypothesis strategies, and their
rendering as Python and C a person can replay.

A step is either a C-API call on one side (client or server) or a move of bytes on the link between the two. Every
quantity a step names is one both stacks interpret alike, because the bytes on the wire differ between stacks
(handshake flights, signatures and tickets have stack-specific sizes):

* buffer sizes of SSL_read / SSL_write are absolute (plaintext is the same on every stack);
* the link never moves "the first n bytes": it moves, drops or corrupts relative to the *end* of what the sender
  has produced and the link has not yet delivered (``keep`` bytes held back, the byte ``back`` positions before the
  end). The tail of a stream is the latest records, and records the application can observe (application data,
  alerts, KeyUpdate, Finished) have the same size on every stack for the same suite and plaintext.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from hypothesis import strategies as st

__all__ = [
    "TRANSPORTS", "Clear", "Corrupt", "Drop", "Dup", "Eof", "Handshake", "KeyUpdate", "Move", "Program", "Read",
    "Rebio", "Renegotiate", "Setup", "Shutdown", "Side", "Step", "Write", "payload", "programs", "usable_transports",
]

Side = Literal["client", "server"]
SIDES: tuple[Side, Side] = ("client", "server")
READS = ("SSL_read", "SSL_read_ex", "SSL_peek", "SSL_peek_ex")
# How each SSL meets the link (Setup.transport): BIO pair, memory BIOs, a 127.0.0.1 TCP socket as a socket BIO or as
# a descriptor given with SSL_set_fd.
TRANSPORTS: tuple[str, ...] = ("pair", "mem", "socket", "fd")


def payload(num: int) -> bytes:
    """The bytes an ``SSL_write`` of ``num`` bytes sends: a function of ``num`` only, so a retry with the same
    length passes the same bytes (and, in the ctypes binding, the same buffer)."""
    return bytes((i * 7 + num) % 251 for i in range(num))


def _other(side: Side) -> Side:
    return "server" if side == "client" else "client"


@dataclass(frozen=True)
class Setup:
    """How the two SSL objects are made. ``verify``: the client's SSL_VERIFY_PEER with the right CA ("peer"), with a
    CA that signed nothing here ("wrong-ca"), or SSL_VERIFY_NONE ("none"). ``sni``: SSL_set_tlsext_host_name on the
    client. ``host``: SSL_set1_host with the server's name ("right"), another name ("wrong"), or not called.
    ``transport``: a BIO pair per SSL (``pair_size`` bytes each way), two memory BIOs per SSL, or a TCP connection
    over 127.0.0.1 per SSL, given to it as a socket BIO (``"socket"``: BIO_new_socket + SSL_set_bio) or as a
    descriptor (``"fd"``: SSL_set_fd), the harness holding the other end (see :data:`TRANSPORTS`). ``version``: TLS 1.3
    only, or TLS 1.2 only (one suite, ECDHE-ECDSA-AES128-GCM-SHA256, so that record sizes are the same on every
    stack; no session tickets). ``client_auth``: the server asks for no client certificate, asks for one
    (SSL_VERIFY_PEER) or requires one (| SSL_VERIFY_FAIL_IF_NO_PEER_CERT); ``client_cert``: the client has one
    (signed by the CA the server trusts). ``client_reneg``: the server sets SSL_OP_ALLOW_CLIENT_RENEGOTIATION.
    ``auto_retry``: SSL_MODE_AUTO_RETRY (on by default in 3.0) left on or cleared with SSL_CTX_clear_mode, per
    side."""

    transport: Literal["pair", "mem", "socket", "fd"] = "pair"
    pair_size: int = 17408
    verify: Literal["none", "peer", "wrong-ca"] = "peer"
    sni: bool = True
    host: Literal["right", "wrong", "none"] = "right"
    partial_write: tuple[bool, bool] = (False, False)  # SSL_MODE_ENABLE_PARTIAL_WRITE on (client, server)
    version: Literal["1.3", "1.2"] = "1.3"
    client_auth: Literal["none", "optional", "required"] = "none"
    client_cert: bool = False
    client_reneg: bool = False
    auto_retry: tuple[bool, bool] = (True, True)  # SSL_MODE_AUTO_RETRY on (client, server); cleared where False

    def render_py(self) -> str:
        return (f"Setup(transport={self.transport!r}, pair_size={self.pair_size}, verify={self.verify!r}, "
                f"sni={self.sni}, host={self.host!r}, partial_write={self.partial_write}, version={self.version!r}, "
                f"client_auth={self.client_auth!r}, client_cert={self.client_cert}, "
                f"client_reneg={self.client_reneg}, auto_retry={self.auto_retry})")


@dataclass(frozen=True)
class Handshake:
    side: Side

    def py(self) -> str:
        return f"api.SSL_do_handshake({self.side})"

    def c(self) -> str:
        return f"SSL_do_handshake({self.side});"


@dataclass(frozen=True)
class Read:
    side: Side
    func: str  # one of READS
    num: int

    def py(self) -> str:
        return f"api.{self.func}({self.side}, {self.num})"

    def c(self) -> str:
        if self.func.endswith("_ex"):
            return f"{self.func}({self.side}, buf, {self.num}, &readbytes);"
        return f"{self.func}({self.side}, buf, {self.num});"


@dataclass(frozen=True)
class Write:
    side: Side
    num: int
    ex: bool = False
    moved: bool = False  # the same bytes from another address (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER matters)

    @property
    def func(self) -> str:
        return "SSL_write_ex" if self.ex else "SSL_write"

    def py(self) -> str:
        moved = ", moved=True" if self.moved else ""
        return f"api.{self.func}({self.side}, payload({self.num}){moved})"

    def c(self) -> str:
        buf = "copy_of(payload)" if self.moved else "payload"
        if self.ex:
            return f"SSL_write_ex({self.side}, {buf}, {self.num}, &written);"
        return f"SSL_write({self.side}, {buf}, {self.num});"


@dataclass(frozen=True)
class Shutdown:
    side: Side

    def py(self) -> str:
        return f"api.SSL_shutdown({self.side})"

    def c(self) -> str:
        return f"SSL_shutdown({self.side});"


@dataclass(frozen=True)
class KeyUpdate:
    side: Side
    requested: bool

    @property
    def updatetype(self) -> int:
        return 1 if self.requested else 0

    def py(self) -> str:
        return f"api.SSL_key_update({self.side}, {self.updatetype})"

    def c(self) -> str:
        kind = "SSL_KEY_UPDATE_REQUESTED" if self.requested else "SSL_KEY_UPDATE_NOT_REQUESTED"
        return f"SSL_key_update({self.side}, {kind});"


@dataclass(frozen=True)
class Clear:
    """SSL_clear on both objects and stale bytes thrown away: the objects are reused for a new connection with
    the same peer, the one use SSL_clear.pod describes (clearing one side of a live connection only feeds the
    other side's records to a new handshake, which no page defines). ``side`` is cleared first."""

    side: Side

    def py(self) -> str:
        return f"(api.SSL_clear({self.side}), api.SSL_clear({_other(self.side)}), link.reset())"

    def c(self) -> str:
        return f"SSL_clear({self.side}); SSL_clear({_other(self.side)}); link_reset();"


@dataclass(frozen=True)
class Renegotiate:
    """SSL_renegotiate (or SSL_renegotiate_abbreviated): schedules a new handshake on a TLS 1.2 connection."""

    side: Side
    abbreviated: bool = False

    @property
    def func(self) -> str:
        return "SSL_renegotiate_abbreviated" if self.abbreviated else "SSL_renegotiate"

    def py(self) -> str:
        return f"api.{self.func}({self.side})"

    def c(self) -> str:
        return f"{self.func}({self.side});"


@dataclass(frozen=True)
class Dup:
    """``d = SSL_dup(side)``. The same handle back (a connection that has started): SSL_free(d) drops the extra
    reference. A new SSL (one that had not started): it takes over from the original on new BIOs holding the bytes
    the original had not read, and the original is freed (SSL_new.pod: SSL_dup copies the settings)."""

    side: Side

    def py(self) -> str:
        return f"w.dup({self.side!r})"

    def c(self) -> str:
        return (f"d = SSL_dup({self.side}); if (d == {self.side}) SSL_free(d); "
                f"else {{ move_bios({self.side}, d); SSL_free({self.side}); {self.side} = d; }}")


@dataclass(frozen=True)
class Rebio:
    """SSL_set_bio with new BIOs of the same kind: the bytes the SSL had not read yet move to the new read BIO, what
    it had written is taken by the link first; the SSL frees the old ones (SSL_set_bio.pod: new rbio and wbio)."""

    side: Side

    def py(self) -> str:
        return f"w.rebio({self.side!r})"

    def c(self) -> str:
        return f"move_bios({self.side}, {self.side}); /* new BIOs, unread bytes carried over, SSL_set_bio */"


@dataclass(frozen=True)
class Move:
    """Deliver what ``src`` has written and the link has not delivered, except the last ``keep`` bytes."""

    src: Side
    keep: int = 0

    def py(self) -> str:
        return f"link.move({self.src!r}, keep={self.keep})"

    def c(self) -> str:
        return f"link_move({self.src}_net, {_other(self.src)}_net, /* keep */ {self.keep});"


@dataclass(frozen=True)
class Drop:
    """Throw away what ``src`` has written and the link has not delivered, except the last ``keep`` bytes. The
    strategies use ``keep=0`` only (after ``Move(src, keep=k)`` that truncates the stream by its last k bytes):
    keeping a tail would make the receiver start parsing in the middle of a record whose bytes differ between
    stacks."""

    src: Side
    keep: int = 0

    def py(self) -> str:
        return f"link.drop({self.src!r}, keep={self.keep})"

    def c(self) -> str:
        return f"link_drop({self.src}_net, /* keep */ {self.keep});"


@dataclass(frozen=True)
class Corrupt:
    """Flip (xor 0x01) the undelivered byte ``back`` positions before the end of ``src``'s output."""

    src: Side
    back: int = 0

    def py(self) -> str:
        return f"link.corrupt({self.src!r}, back={self.back})"

    def c(self) -> str:
        return f"link_corrupt({self.src}_net, /* back */ {self.back});"


@dataclass(frozen=True)
class Eof:
    """The transport towards ``dst`` reports end of file (BIO_shutdown_wr / BIO_set_mem_eof_return(rbio, 0) /
    shutdown(SHUT_WR) of the harness's end of the socket)."""

    dst: Side

    def py(self) -> str:
        return f"link.eof({self.dst!r})"

    def c(self) -> str:
        return f"link_eof({self.dst}_net);"


Step = (Handshake | Read | Write | Shutdown | KeyUpdate | Renegotiate | Dup | Rebio | Clear | Move | Drop | Corrupt
        | Eof)


@dataclass(frozen=True)
class Program:
    setup: Setup
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def render_py(self, stack: str, notes: dict[int, str] | None = None) -> str:
        """A Python script that replays the program on ``stack`` and prints what every step returned."""
        notes = notes or {}
        lines = [
            "from conformance.differential.world import World, payload",
            "from conformance.differential.program import Setup",
            f"w = World.on({stack!r}, {self.setup.render_py()})",
            "api, client, server, link = w.api, w.client, w.server, w.link",
        ]
        for index, step in enumerate(self.steps):
            note = f"  # {notes[index]}" if index in notes else ""
            lines.append(f"print({step.py()}, w.observe()){note}")
        return "\n".join(lines)

    def render_c(self) -> str:
        """The same program as C (the link_* helpers move bytes between the network halves of the BIO pairs)."""
        lines = [f"/* set-up: {self.setup.render_py()}",
                 " * client, server: SSL objects on BIO pairs (or memory BIOs); *_net: the harness's side of each.",
                 " * link_move(a, b, keep): read everything pending on a, write all but the last `keep` of what is",
                 " *   undelivered into b; link_drop: discard the undelivered bytes; link_corrupt(a, back): flip",
                 " *   bit 0 of the undelivered byte `back` positions before the end; link_eof(x): BIO_shutdown_wr(x)",
                 " *   (memory BIOs: BIO_set_mem_eof_return(rbio, 0); sockets: shutdown(x, SHUT_WR), x being the",
                 " *   harness's end of the SSL's 127.0.0.1 TCP connection); payload: bytes (i * 7 + num) % 251. */"]
        lines += [step.c() for step in self.steps]
        return "\n".join(lines)


# --- strategies -------------------------------------------------------------------------------------------------

_sides = st.sampled_from(SIDES)
_read_sizes = st.one_of(st.integers(1, 16), st.integers(0, 300), st.sampled_from([16384, 20000]))
_write_sizes = st.one_of(st.integers(1, 16), st.integers(0, 2000), st.integers(16000, 40000))
_keeps = st.one_of(st.just(0), st.integers(1, 24), st.integers(25, 300))


def _step_strategy(available: frozenset[str], transport: str) -> st.SearchStrategy[Step]:
    """Steps whose functions every stack of the run provides (``available`` holds OpenSSL names). Reads, writes
    and moves are common; steps that end or damage the connection are rare (one branch among many), so most
    programs get far enough to exchange data."""
    read = st.builds(Read, _sides, st.sampled_from([f for f in READS if f in available]), _read_sizes)
    write = st.builds(Write, _sides, _write_sizes, st.booleans() if "SSL_write_ex" in available else st.just(False),
                      st.booleans())
    move = st.builds(Move, _sides, _keeps)
    rare: list[st.SearchStrategy[Step]] = [
        st.builds(Shutdown, _sides),
        st.builds(Clear, _sides),
        st.builds(Drop, _sides, st.just(0)),
        st.builds(Corrupt, _sides, st.integers(0, 15)),
    ]
    if transport != "pair" or "BIO_shutdown_wr" in available:
        rare.append(st.builds(Eof, _sides))
    rare.append(st.builds(Rebio, _sides))
    if "SSL_dup" in available:
        rare.append(st.builds(Dup, _sides))
    kinds: dict[str, st.SearchStrategy[Step]] = {"read": read, "write": write, "move": move,
                                                 "handshake": st.builds(Handshake, _sides), "rare": st.one_of(*rare)}
    weights = {"read": 4, "write": 4, "move": 6, "handshake": 1, "rare": 2}
    if "SSL_key_update" in available:
        kinds["key_update"] = st.builds(KeyUpdate, _sides, st.booleans())
        weights["key_update"] = 1
    if {"SSL_renegotiate", "SSL_renegotiate_abbreviated"} <= available:
        kinds["renegotiate"] = st.builds(Renegotiate, _sides, st.booleans())
        weights["renegotiate"] = 1
    # st.one_of would treat repeated branches as one; a weighted choice of the kind keeps the proportions
    return st.sampled_from([k for k, n in weights.items() for _ in range(n)]).flatmap(kinds.__getitem__)


def usable_transports(available: frozenset[str], wanted: Sequence[str] = TRANSPORTS) -> list[str]:
    """The transports of ``wanted`` whose functions every stack of the run provides."""
    needs = {"pair": "BIO_new_bio_pair", "socket": "BIO_new_socket", "fd": "SSL_set_fd"}
    return [t for t in wanted if t not in needs or needs[t] in available]


def _setups(available: frozenset[str], transports: Sequence[str]) -> st.SearchStrategy[Setup]:
    return st.builds(
        Setup,
        transport=st.sampled_from(usable_transports(available, transports)),
        pair_size=st.sampled_from([17408, 120000]),
        verify=st.sampled_from(["peer", "peer", "peer", "none", "wrong-ca"]),
        sni=st.booleans(),
        host=st.sampled_from(["right", "right", "right", "none", "wrong"]),
        partial_write=st.tuples(st.booleans(), st.booleans()),
        version=st.sampled_from(["1.3", "1.3", "1.2"]),
        client_auth=st.sampled_from(["none", "none", "optional", "required"]),
        client_cert=st.booleans(),
        client_reneg=st.booleans(),
    )


def _handshake_prefix(version: str) -> tuple[Step, ...]:
    """An ordinary handshake, both sides finished: TLS 1.3 needs three flights, TLS 1.2 four (the client ends it
    after the server's ChangeCipherSpec and Finished)."""
    steps: tuple[Step, ...] = (Handshake("client"), Move("client"), Handshake("server"), Move("server"),
                               Handshake("client"), Move("client"), Handshake("server"))
    if version == "1.2":
        steps += (Move("server"), Handshake("client"))
    return steps


# --- scenarios: short sequences of the steps above that a program needs several of in the right order (a write,
# the move and the peer's read; a renegotiation and the flights that carry it out; a full close). Drawn one step at
# a time, they almost never happen: 1000 programs of the single-step strategy read data in 10 and completed no
# renegotiation (seed 101, engine). A scenario is flattened into ordinary steps, so replay, rendering and the
# runner's step-deletion pass treat it like any other steps.

@st.composite
def _drive(draw: st.DrawFn, available: frozenset[str], first: Side) -> tuple[Step, ...]:
    """Rounds of "deliver what one side wrote, let the other run SSL_do_handshake or a read", alternating sides;
    ``first`` is the side whose bytes the first round moves. Up to eight rounds: enough for a server's HelloRequest
    and the full TLS 1.2 handshake it starts (five flights after the server's first call), or a KeyUpdate and its
    answer."""
    reads = [f for f in READS if f in available]
    steps: list[Step] = []
    src = first
    for _ in range(draw(st.integers(2, 8))):
        dst = _other(src)
        call: Step = (Handshake(dst) if draw(st.booleans())
                      else Read(dst, draw(st.sampled_from(reads)), draw(_read_sizes)))
        steps += [Move(src), call]
        src = dst
    return tuple(steps)


@st.composite
def _exchange(draw: st.DrawFn, available: frozenset[str]) -> tuple[Step, ...]:
    """A write, the bytes moved, and a read (or peek) on the other side."""
    side = draw(_sides)
    write = draw(st.builds(Write, st.just(side), _write_sizes,
                           st.booleans() if "SSL_write_ex" in available else st.just(False), st.booleans()))
    read = draw(st.builds(Read, st.just(_other(side)), st.sampled_from([f for f in READS if f in available]),
                          _read_sizes))
    return (write, Move(side), read)


@st.composite
def _renegotiation(draw: st.DrawFn, available: frozenset[str]) -> tuple[Step, ...]:
    """SSL_renegotiate / _abbreviated, then rounds that carry it out (with data written on the way, sometimes)."""
    side = draw(_sides)
    steps: tuple[Step, ...] = (Renegotiate(side, draw(st.booleans())),)
    if draw(st.booleans()):
        steps += draw(_exchange(available))
    # the first round's call is the initiator's own: SSL_renegotiate only schedules, the next I/O call sends
    return steps + draw(_drive(available, _other(side)))


@st.composite
def _key_update(draw: st.DrawFn, available: frozenset[str]) -> tuple[Step, ...]:
    side = draw(_sides)
    steps: tuple[Step, ...] = (KeyUpdate(side, draw(st.booleans())),)
    if draw(st.booleans()):
        steps += (Write(side, draw(_write_sizes)),)
    return steps + draw(_drive(available, _other(side)))


@st.composite
def _close(draw: st.DrawFn, available: frozenset[str]) -> tuple[Step, ...]:
    """SSL_shutdown on one side, the close_notify moved, the peer reads or shuts down, its answer moved back, and
    the first side's SSL_shutdown again (SSL_shutdown.pod's bidirectional shutdown)."""
    side = draw(_sides)
    answer = draw(st.one_of(st.just(Shutdown(_other(side))),
                            st.builds(Read, st.just(_other(side)),
                                      st.sampled_from([f for f in READS if f in available]), _read_sizes)))
    return (Shutdown(side), Move(side), answer, Shutdown(_other(side)), Move(_other(side)), Shutdown(side))


def _chunks(available: frozenset[str], transport: str) -> st.SearchStrategy[tuple[Step, ...]]:
    """One step (most draws) or one scenario."""
    single = _step_strategy(available, transport).map(lambda step: (step,))
    scenarios: list[st.SearchStrategy[tuple[Step, ...]]] = [_exchange(available), _close(available)]
    if "SSL_key_update" in available:
        scenarios.append(_key_update(available))
    if {"SSL_renegotiate", "SSL_renegotiate_abbreviated"} <= available:
        scenarios.append(_renegotiation(available))
    return st.one_of(single, single, st.one_of(*scenarios))


@st.composite
def _program(draw: st.DrawFn, available: frozenset[str], max_steps: int, transports: Sequence[str]) -> Program:
    setup = draw(_setups(available, transports))
    # Four programs in five start with an ordinary handshake so that most steps exercise a live connection;
    # shrinking drops the prefix when it is not needed (it is one choice, not steps to remove one by one).
    prefix = _handshake_prefix(setup.version) if draw(st.integers(0, 4)) else ()
    chunks = draw(st.lists(_chunks(available, setup.transport), max_size=max_steps))
    steps = tuple(step for chunk in chunks for step in chunk)[:max_steps]
    # Drawn last, so that a seed's set-ups and steps stay what they were before the field existed (the modes are
    # another choice over the same program). SSL_MODE_AUTO_RETRY is cleared on a side in one program in four.
    auto_retry = draw(st.tuples(st.integers(0, 3), st.integers(0, 3)))
    setup = replace(setup, auto_retry=(auto_retry[0] > 0, auto_retry[1] > 0))
    return Program(setup, prefix + steps)


def programs(available: frozenset[str], max_steps: int = 30, transports: Sequence[str] = ()
             ) -> st.SearchStrategy[Program]:
    """Random programs over the functions of ``available``, on one of ``transports`` (default: every one)."""
    return _program(available, max_steps, tuple(transports) or TRANSPORTS)
