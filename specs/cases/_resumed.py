"""Whether a handshake resumed a session, for cases that only need to know that (not what SSL_session_reused
answers): a stack with 'session_reused' is asked (Endpoint.session_reused); for a stack without it (a binding that
hands sessions on but binds no SSL_session_reused, e.g. pyOpenSSL, nassl) the recorded wire decides, since both
sides see the same protocol fact and the server's plaintext hello flight shows it:

- TLS 1.3 (RFC 9846 section 4.3.11): the ServerHello (not a HelloRetryRequest) carries pre_shared_key, the server
  having selected one of the client's PSKs (psk_dhe_ke keeps a key share as well; psk_ke is resumption too);
- TLS 1.2 (RFC 5246 section 7.3, RFC 5077 section 3.1): the abbreviated handshake, a ServerHello followed by at most
  a NewSessionTicket and then the server's ChangeCipherSpec; a full handshake always sends ServerHelloDone. Warning
  alerts between them (an unrecognized_name after the ServerHello) are passed over. The ServerHello echoes a
  non-empty offered session id exactly when the server resumes (RFC 5246 section 7.4.1.3, RFC 5077 section 3.4).

Anything else (a flight cut short, an echo that contradicts the flight, no ServerHello) decides nothing: a side that
needs the wire's answer then fails the case rather than being counted as not resumed."""

from __future__ import annotations

from conformance.harness import Harness, Pair
from specs.cases._tls12wire import CHANGE_CIPHER_SPEC, WireTap, hello, records, tapped

__all__ = ["WireTap", "on_wire", "resumed", "tapped"]

CLIENT_HELLO, SERVER_HELLO, NEW_SESSION_TICKET, CERTIFICATE, SERVER_HELLO_DONE = 1, 2, 4, 11, 14
ALERT, HANDSHAKE = 21, 22  # record content types
PRE_SHARED_KEY = 41  # RFC 9846 section 4.3.11
SUPPORTED_VERSIONS = 43
# RFC 9846 section 4.1.3: a HelloRetryRequest is a ServerHello with this random
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def _messages(wire: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """The plaintext handshake messages at the start of one direction: those before its first ChangeCipherSpec, and
    after it only while the last ServerHello was a HelloRetryRequest (TLS 1.3 middlebox compatibility sends a CCS
    after it, and the real ServerHello follows in plaintext); and whether they ended at that ChangeCipherSpec. A
    TLS 1.2 warning alert between them (RFC 5246 section 7.2: the connection goes on) is passed over; a fatal
    alert, a protected record or the end of the bytes ends them without a ChangeCipherSpec."""
    out: list[tuple[int, bytes]] = []
    buf = b""
    for ctype, fragment in records(wire):
        if ctype == CHANGE_CIPHER_SPEC:
            hellos = [body for t, body in out if t == SERVER_HELLO]
            if hellos and hellos[-1][2:34] == HRR_RANDOM:
                continue
            return out, True
        if ctype == ALERT and fragment[:1] == b"\x01":
            continue
        if ctype != HANDSHAKE:
            break
        buf += fragment
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[1:4], "big"):
            n = int.from_bytes(buf[1:4], "big")
            out.append((buf[0], buf[4:4 + n]))
            buf = buf[4 + n:]
    return out, False


def on_wire(c2s: bytes, s2c: bytes) -> tuple[bool | None, str]:
    """Whether the handshake recorded in ``c2s`` / ``s2c`` resumed a session, and what showed it; None when the
    wire does not decide it (no ServerHello; a TLS 1.2 server flight that neither ends in its ChangeCipherSpec after
    at most a NewSessionTicket nor holds a ServerHelloDone; or a ServerHello whose session id says the opposite of
    its flight)."""
    server, at_ccs = _messages(s2c)
    hellos = [body for t, body in server if t == SERVER_HELLO and body[2:34] != HRR_RANDOM]
    if not hellos:
        return None, "no ServerHello on the wire"
    sh = hello(hellos[-1], client=False)
    if sh.extensions.get(SUPPORTED_VERSIONS) == b"\x03\x04":
        psk = PRE_SHARED_KEY in sh.extensions
        return psk, f"TLS 1.3 ServerHello {'with' if psk else 'without'} pre_shared_key"
    client, _ = _messages(c2s)
    ch_body = next((body for t, body in client if t == CLIENT_HELLO), None)
    offered = hello(ch_body, client=True).session_id if ch_body is not None else b""
    types = [t for t, _ in server]
    after = types[types.index(SERVER_HELLO) + 1:]
    echo = bool(offered) and sh.session_id == offered
    seen = (f"TLS 1.2 server flight {types} {'before its ChangeCipherSpec' if at_ccs else 'with no ChangeCipherSpec'}"
            f"; the ServerHello {'echoes' if echo else 'does not echo'} the offered session id "
            f"({len(offered)} bytes)")
    if SERVER_HELLO_DONE in types:
        full = True  # RFC 5246 section 7.3: every full handshake's first server flight ends with ServerHelloDone
    elif at_ccs and set(after) <= {NEW_SESSION_TICKET}:
        full = False  # section 7.3's abbreviated flight; RFC 5077 section 3.3 puts a NewSessionTicket before the CCS
    else:
        return None, f"{seen}: neither a full nor an abbreviated handshake"
    # RFC 5246 section 7.4.1.3: the server echoes the offered session id exactly when it resumes that session; RFC
    # 5077 section 3.4: a server resuming from a ticket echoes a non-empty session id the client sent with it
    if offered and echo == full:
        return None, f"{seen}: a {'full' if full else 'abbreviated'} handshake whose ServerHello says the opposite"
    return not full, f"{seen}: {'full' if full else 'abbreviated'} handshake"


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
            assert wire is not None, f"whether {endpoint.label} resumed is read off the wire ({lacks}), and the wire " \
                f"does not tell: {why}"
            answer = wire
            h.trace.note(f"{endpoint.label}: resumed {answer}, read off the wire ({lacks})")
        out.append(answer)
    return out[0], out[1]
