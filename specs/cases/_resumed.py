"""Whether a handshake resumed a session, for cases that only need to know that (not what SSL_session_reused
answers): a stack with 'session_reused' is asked (Endpoint.session_reused); for a stack without it (a binding that
hands sessions on but binds no SSL_session_reused, e.g. pyOpenSSL, nassl) the recorded wire decides, since both
sides see the same protocol fact and the server's plaintext hello flight shows it:

- TLS 1.3 (RFC 9846 section 4.3.11): the ServerHello (not a HelloRetryRequest) carries pre_shared_key, the server
  having selected one of the client's PSKs (psk_dhe_ke keeps a key share as well; psk_ke is resumption too);
- TLS 1.2 (RFC 5246 section 7.3, RFC 5077 section 3.1): the abbreviated handshake, a ServerHello followed by at most
  a NewSessionTicket before the server's ChangeCipherSpec: no Certificate, no ServerHelloDone. A full handshake
  always sends ServerHelloDone. Whether the ServerHello echoes the offered session id is noted too."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.harness import Harness, Pair
from conformance.link import Channel, Link
from specs.cases._tls12wire import hello

__all__ = ["WireTap", "on_wire", "resumed", "tapped"]

CLIENT_HELLO, SERVER_HELLO, NEW_SESSION_TICKET, CERTIFICATE, SERVER_HELLO_DONE = 1, 2, 4, 11, 14
PRE_SHARED_KEY = 41  # RFC 9846 section 4.3.11
SUPPORTED_VERSIONS = 43
# RFC 9846 section 4.1.3: a HelloRetryRequest is a ServerHello with this random
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


@dataclass
class WireTap(Channel):
    """A whole channel that keeps a copy of every byte it carries."""

    seen: bytearray = field(default_factory=bytearray)

    def _disturb(self, data: bytearray) -> bytearray:
        self.seen += data
        return super()._disturb(data)


def tapped() -> tuple[Link, WireTap, WireTap]:
    """A whole link whose two channels (client to server, server to client) keep what they carried."""
    c2s, s2c = WireTap(), WireTap()
    return Link(c2s, s2c), c2s, s2c


def _messages(wire: bytes) -> list[tuple[int, bytes]]:
    """The plaintext handshake messages at the start of one direction: those before its first ChangeCipherSpec, and
    after it only while the last ServerHello was a HelloRetryRequest (TLS 1.3 middlebox compatibility sends a CCS
    after it, and the real ServerHello follows in plaintext). Stops at the first protected or alert record."""
    out: list[tuple[int, bytes]] = []
    buf, at = b"", 0
    while at + 5 <= len(wire):
        ctype, length = wire[at], int.from_bytes(wire[at + 3:at + 5], "big")
        fragment = wire[at + 5:at + 5 + length]
        at += 5 + length
        if ctype == 20:
            hellos = [body for t, body in out if t == SERVER_HELLO]
            if hellos and hellos[-1][2:34] == HRR_RANDOM:
                continue
            break
        if ctype != 22:
            break
        buf += fragment
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[1:4], "big"):
            n = int.from_bytes(buf[1:4], "big")
            out.append((buf[0], buf[4:4 + n]))
            buf = buf[4 + n:]
    return out


def on_wire(c2s: bytes, s2c: bytes) -> tuple[bool | None, str]:
    """Whether the handshake recorded in ``c2s`` / ``s2c`` resumed a session (None: no ServerHello on the wire),
    and what showed it."""
    server = _messages(s2c)
    hellos = [body for t, body in server if t == SERVER_HELLO and body[2:34] != HRR_RANDOM]
    if not hellos:
        return None, "no ServerHello on the wire"
    sh = hello(hellos[-1], client=False)
    if sh.extensions.get(SUPPORTED_VERSIONS) == b"\x03\x04":
        psk = PRE_SHARED_KEY in sh.extensions
        return psk, f"TLS 1.3 ServerHello {'with' if psk else 'without'} pre_shared_key"
    client = _messages(c2s)
    ch_body = next((body for t, body in client if t == CLIENT_HELLO), None)
    offered = hello(ch_body, client=True).session_id if ch_body is not None else b""
    types = [t for t, _ in server]
    abbreviated = CERTIFICATE not in types and SERVER_HELLO_DONE not in types
    echo = bool(offered) and sh.session_id == offered
    return abbreviated, (f"TLS 1.2 server flight {types} before its ChangeCipherSpec: "
                         f"{'abbreviated' if abbreviated else 'full'} handshake; the ServerHello "
                         f"{'echoes' if echo else 'does not echo'} the offered session id")


def resumed(h: Harness, pair: Pair, c2s: WireTap, s2c: WireTap) -> tuple[bool, bool]:
    """(client, server): whether each side's completed handshake resumed a session. A side whose stack has
    'session_reused' answers itself (SSL_session_reused); for a side whose stack lacks it, the wire of the pair's
    tapped link decides (see the module docstring). Every answer, and what the wire showed, goes to the trace."""
    wire, why = on_wire(bytes(c2s.seen), bytes(s2c.seen))
    h.trace.note(f"on the wire: {why}")
    out = []
    for endpoint, stack in ((pair.client, h.client_stack), (pair.server, h.server_stack)):
        lacks = stack.lacks("session_reused")
        if lacks is None:
            answer = endpoint.session_reused()
            h.trace.note(f"{endpoint.label}: SSL_session_reused -> {int(answer)}")
        else:
            answer = bool(wire)
            h.trace.note(f"{endpoint.label}: resumed {answer}, read off the wire ({lacks})")
        out.append(answer)
    return out[0], out[1]
