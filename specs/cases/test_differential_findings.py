"""Cases distilled from programs the differential runner (``conformance differential``) shrank: each replays the
few calls where two C-API stacks parted and asserts what the page says."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role, SslError
from specs.cases._ssl_objects import Mem, error, handshake, handshake_until, move

C_API = ("c_api", "client_role", "server_role")


@pytest.mark.clauses("SSL_want/NOTES/consistent-with-get-error", "SSL_want/RETURN VALUES/SSL_NOTHING")
@pytest.mark.needs(*C_API)
def test_want_agrees_with_get_error_after_a_call_that_succeeded(h: Harness) -> None:
    """SSL_read on a connected server waits (SSL_READING); then SSL_do_handshake returns 1 (the handshake is
    done). SSL_get_error says SSL_ERROR_NONE for it, so SSL_want must say SSL_NOTHING, not the stale wait."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    ret, _ = api.SSL_read(server.ssl, 10)
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    assert api.SSL_want(server.ssl) == K.SSL_READING
    ret = api.SSL_do_handshake(server.ssl)
    h.trace.note(f"SSL_do_handshake(server) -> {ret}")
    assert ret == 1
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_NONE
    want = api.SSL_want(server.ssl)
    assert want == K.SSL_NOTHING, f"SSL_want -> {want} after a call SSL_get_error calls SSL_ERROR_NONE"


@pytest.mark.clauses("SSL_key_update/DESCRIPTION/performed-at-next-io",
                     "SSL_shutdown/DESCRIPTION/first-to-close-returns-0")
@pytest.mark.needs(*C_API, "key_update")
def test_shutdown_right_after_key_update_closes(h: Harness) -> None:
    """SSL_key_update() only schedules the update for the next I/O operation; SSL_shutdown() is one, and as the
    first to close it returns 0 (close_notify sent). The scheduled update is performed, not an obstacle."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.SSL_key_update(client.ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED) == 1
    api.ERR_clear_error()
    ret = api.SSL_shutdown(client.ssl)
    reason = api.ERR_error_string_n(api.ERR_peek_error()) if api.ERR_peek_error() else ""
    h.trace.note(f"SSL_shutdown(client) -> {ret} {reason}")
    assert ret == 0, f"SSL_shutdown after SSL_key_update -> {ret} ({reason}), expected 0 (close_notify sent)"
    assert api.SSL_get_shutdown(client.ssl) & K.SSL_SENT_SHUTDOWN
    assert api.SSL_get_key_update_type(client.ssl) == K.SSL_KEY_UPDATE_NONE, "the scheduled update was not performed"


@pytest.mark.clauses("SSL_shutdown/DESCRIPTION/non-blocking-retry", "SSL_shutdown/DESCRIPTION/bio-pair-move-data")
@pytest.mark.needs(*C_API, "bounded_write_buffer")
def test_shutdown_repeated_on_a_full_transport_still_wants_write(h: Harness) -> None:
    """An SSL_write() left unfinished by a full BIO pair, then SSL_shutdown(): SSL_ERROR_WANT_WRITE. Repeating
    SSL_shutdown() before anything was moved can only make the same progress: the page asks for the call to be
    repeated, so it must be retryable again, not a fatal error."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    ret = api.SSL_write(client.ssl, b"w" * 20000)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_WRITE
    outcomes = []
    for _ in range(2):
        api.ERR_clear_error()
        ret = api.SSL_shutdown(client.ssl)
        code = error(api, client.ssl, ret) if ret < 0 else None
        reason = api.ERR_error_string_n(api.ERR_peek_error()) if api.ERR_peek_error() else ""
        h.trace.note(f"SSL_shutdown(client) -> {ret} {code} {reason}")
        outcomes.append((ret, code, reason))
    for ret, code, reason in outcomes:
        assert ret < 0 and code is SslError.SSL_ERROR_WANT_WRITE, \
            f"SSL_shutdown on a full transport -> {ret}, {code} {reason}; expected -1, SSL_ERROR_WANT_WRITE"


@pytest.mark.clauses("RFC9846/5.1/legacy-record-version-ignored")
@pytest.mark.needs(*C_API)
def test_plaintext_alert_with_record_version_0301_is_read_as_an_alert(h: Harness) -> None:
    """A client that fails before it has handshake keys sends its fatal alert in a plaintext record; libssl writes
    0x0301 as that record's version. RFC 9846 section 5.1: the field MUST be ignored, so the server reads a
    decode_error alert (reason SSL_AD_REASON_OFFSET + 50) and sets SSL_RECEIVED_SHUTDOWN, whatever the field says."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake_until(h, client, server, "client-hello-received")
    server.give(bytes.fromhex("15030100020232"))  # alert(fatal, decode_error) with legacy_record_version 0x0301
    api.ERR_clear_error()
    ret = api.SSL_do_handshake(server.ssl)
    code = error(api, server.ssl, ret)
    first = api.ERR_peek_error()
    reason = api.ERR_GET_REASON(first) if first else 0
    text = api.ERR_error_string_n(first) if first else ""
    h.trace.note(f"SSL_do_handshake(server) -> {ret}, {code}, {text}")
    assert ret < 0 and code is SslError.SSL_ERROR_SSL
    assert reason == K.SSL_AD_REASON_OFFSET + 50, f"reason {reason} ({text}): the alert was not read as an alert"
    assert api.SSL_get_shutdown(server.ssl) & K.SSL_RECEIVED_SHUTDOWN


@pytest.mark.clauses("SSL_clear/DESCRIPTION/ready-for-another-connection")
@pytest.mark.needs(*C_API)
def test_clear_drops_buffered_application_data(h: Harness) -> None:
    """SSL_clear() resets the object for another connection: application data of the old connection that was
    received but not yet read is gone (SSL_pending 0, SSL_has_pending 0), never served to the next one."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.SSL_write(client.ssl, b"q" * 100) == 100
    server.give(client.take())
    ret, _ = api.SSL_read(server.ssl, 10)
    assert ret == 10 and api.SSL_pending(server.ssl) == 90
    assert api.SSL_clear(server.ssl) == 1
    pending, has_pending = api.SSL_pending(server.ssl), api.SSL_has_pending(server.ssl)
    h.trace.note(f"after SSL_clear(server): SSL_pending -> {pending}, SSL_has_pending -> {has_pending}")
    assert pending == 0 and has_pending == 0, "data of the old connection survived SSL_clear"


@pytest.mark.clauses("SSL_CTX_new/NOTES/no-verification-by-default")
@pytest.mark.needs(*C_API)
def test_host_name_without_verification_does_not_fail_the_handshake(h: Harness) -> None:
    """A client that asks for no verification (SSL_VERIFY_NONE, the default) but names a host with SSL_set1_host()
    that the server's certificate does not match: nothing is verified, so the handshake completes."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(verify_peer=False))
    server = Mem(h, Role.SERVER)
    assert api.SSL_set1_host(client.ssl, b"other.test") == 1
    handshake(h, client, server)


@pytest.mark.clauses("SSL_read/RETURN VALUES/unexpected-eof-zero", "SSL_read/RETURN VALUES/<=0",
                     "SSL_get_error/NOTES/unexpected-eof-is-ssl-error")
@pytest.mark.needs(*C_API)
@pytest.mark.parametrize("reader", ["SSL_read", "SSL_peek"])
def test_unexpected_eof_after_the_handshake_returns_zero(h: Harness, reader: str) -> None:
    """The transport towards the client ends (BIO_shutdown_wr on the harness's half) without a close_notify: the
    read returns 0, SSL_get_error says SSL_ERROR_SSL and the queue holds SSL_R_UNEXPECTED_EOF_WHILE_READING."""
    api = h.capi
    client, server = Mem(h, Role.CLIENT), Mem(h, Role.SERVER)
    handshake(h, client, server)
    assert api.BIO_shutdown_wr(client.net) == 1
    api.ERR_clear_error()
    ret, _ = getattr(api, reader)(client.ssl, 6)
    code = api.ERR_peek_error()
    h.trace.note(f"{reader}(client, 6) after the end of the transport -> {ret}, queue: "
                 f"{api.ERR_error_string_n(code) if code else 'empty'}")
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_SSL, f"{reader} -> {ret}, {error(api, client.ssl, ret)}"
    assert api.ERR_GET_REASON(code) == K.SSL_R_UNEXPECTED_EOF_WHILE_READING, api.ERR_error_string_n(code)
    assert ret == 0, f"{reader} at an unexpected EOF -> {ret}, expected 0 (the end of file BIO_read reported)"
    api.ERR_clear_error()


def _first_record(data: bytes) -> bytes:
    """The first whole TLS record of ``data`` (its 5-byte header says how long it is)."""
    assert len(data) >= 5, data
    return data[: 5 + int.from_bytes(data[3:5], "big")]


def _key_update_refusal(h: Harness, ssl: Any) -> int:
    api = h.capi
    api.ERR_clear_error()
    ret = api.SSL_key_update(ssl, K.SSL_KEY_UPDATE_NOT_REQUESTED)
    code = api.ERR_peek_error()
    assert ret == 0, f"SSL_key_update during the handshake -> {ret}, expected 0"
    assert code, "a refused SSL_key_update left nothing on the error queue"
    api.ERR_clear_error()
    return int(api.ERR_GET_REASON(code))


@pytest.mark.clauses("SSL_key_update/RETURN VALUES/0-reason-during-handshake", "SSL_key_update/RETURN VALUES/0",
                     "SSL_key_update/DESCRIPTION/tls13-after-handshake")
@pytest.mark.states("before-handshake", "mid-handshake")
@pytest.mark.needs(*C_API, "key_update", "tls1_3")
def test_key_update_refusal_reason_follows_the_handshake(h: Harness) -> None:
    """SSL_key_update at each step of a TLS 1.3 handshake: before any hello settled the version the reason is
    SSL_R_WRONG_SSL_VERSION; a server that has read the ClientHello and a client that has read only the ServerHello
    know it is TLS 1.3, so the reason is SSL_R_STILL_IN_INIT."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version="TLSv1.3"))
    server = Mem(h, Role.SERVER)
    seen: dict[str, int] = {}
    seen["client before anything"] = _key_update_refusal(h, client.ssl)
    ret = api.SSL_do_handshake(client.ssl)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    seen["client after its ClientHello"] = _key_update_refusal(h, client.ssl)
    seen["server before the ClientHello"] = _key_update_refusal(h, server.ssl)
    server.give(client.take())
    ret = api.SSL_do_handshake(server.ssl)
    assert error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    seen["server after the ClientHello"] = _key_update_refusal(h, server.ssl)
    flight = server.take()
    client.give(_first_record(flight))  # the ServerHello alone
    ret = api.SSL_do_handshake(client.ssl)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ
    seen["client after the ServerHello"] = _key_update_refusal(h, client.ssl)
    h.trace.note(f"reasons: {seen}")
    wrong, init = K.SSL_R_WRONG_SSL_VERSION, K.SSL_R_STILL_IN_INIT
    assert seen == {"client before anything": wrong, "client after its ClientHello": wrong,
                    "server before the ClientHello": wrong, "server after the ClientHello": init,
                    "client after the ServerHello": init}, (
        f"reasons (wrong version {wrong}, still in init {init}): {seen}")


@pytest.mark.clauses("SSL_CTX_set_verify/DESCRIPTION/fail-if-no-peer-cert-server")
@pytest.mark.needs(*C_API, "client_certificates")
@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_server_requiring_a_certificate_says_the_peer_returned_none(h: Harness, version: str) -> None:
    """A server requiring a client certificate, a client without one: the server's SSL_do_handshake fails with
    SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE; on TLS 1.2 the client reads the handshake_failure alert."""
    if not h.has("tls1_2" if version == "TLSv1.2" else "tls1_3"):
        h.not_applicable(f"the stack does not speak {version}")
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(min_version=version, max_version=version,
                                                            present_certificate=False))
    server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(verify_peer=True))
    failed: dict[str, tuple[int, int]] = {}
    for _ in range(10):
        for name, side in (("client", client), ("server", server)):
            if name in failed:
                continue
            api.ERR_clear_error()
            ret = api.SSL_do_handshake(side.ssl)
            if ret != 1 and error(api, side.ssl, ret) not in (SslError.SSL_ERROR_WANT_READ,
                                                               SslError.SSL_ERROR_WANT_WRITE):
                code = api.ERR_peek_error()
                failed[name] = (int(error(api, side.ssl, ret)), api.ERR_GET_REASON(code) if code else 0)
            api.ERR_clear_error()
        if "server" in failed and not move(client, server):
            break
        move(client, server)
    h.trace.note(f"{version}, no client certificate: (SSL_get_error, reason) {failed}")
    assert failed.get("server") == (SslError.SSL_ERROR_SSL, K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE), (
        f"the server must fail with 'peer did not return a certificate' ({K.SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE}):"
        f" {failed}")
    if version == "TLSv1.2":
        alert = K.SSL_AD_REASON_OFFSET + 40  # handshake_failure
        assert failed.get("client") == (SslError.SSL_ERROR_SSL, alert), (
            f"the client must read handshake_failure: {failed}")


PLAINTEXT_APPLICATION_DATA = bytes.fromhex("1703030001") + b"A"  # type 23, version 0x0303, one byte, no protection


@pytest.mark.clauses("RFC5246/6.2.1/application-data-before-keys")
@pytest.mark.needs(*C_API, "tls1_2")
def test_application_data_in_the_tls12_handshake_is_an_unexpected_record(h: Harness) -> None:
    """A TLS 1.2 client that has sent only its ClientHello, and a server that has read it, each get an application
    data record in the clear: both fail with SSL_ERROR_SSL; the client's reason is SSL_R_UNEXPECTED_MESSAGE (the
    first record of the connection), the server's SSL_R_UNEXPECTED_RECORD (the version is settled)."""
    api = h.capi
    reasons: dict[str, tuple[object, int]] = {}
    for name in ("client", "server"):
        client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(max_version="TLSv1.2"))
        server = Mem(h, Role.SERVER, adjust=lambda c: c.with_(max_version="TLSv1.2"))
        ret = api.SSL_do_handshake(client.ssl)
        assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ
        side = client
        if name == "server":
            server.give(client.take())
            ret = api.SSL_do_handshake(server.ssl)
            assert error(api, server.ssl, ret) is SslError.SSL_ERROR_WANT_READ
            server.take()
            side = server
        side.give(PLAINTEXT_APPLICATION_DATA)
        api.ERR_clear_error()
        ret = api.SSL_do_handshake(side.ssl)
        code = api.ERR_peek_error()
        reasons[name] = (error(api, side.ssl, ret), api.ERR_GET_REASON(code) if code else 0)
        api.ERR_clear_error()
    h.trace.note(f"(SSL_get_error, reason) after a plaintext application-data record: {reasons}")
    assert reasons == {"client": (SslError.SSL_ERROR_SSL, K.SSL_R_UNEXPECTED_MESSAGE),
                       "server": (SslError.SSL_ERROR_SSL, K.SSL_R_UNEXPECTED_RECORD)}, (
        f"expected unexpected message ({K.SSL_R_UNEXPECTED_MESSAGE}) on the client, unexpected record "
        f"({K.SSL_R_UNEXPECTED_RECORD}) on the server: {reasons}")


@pytest.mark.clauses("SSL_write/WARNINGS/shorter-retry-fails", "SSL_write/WARNINGS/retry-same-arguments")
@pytest.mark.needs(*C_API, "bounded_write_buffer")
@pytest.mark.parametrize("function", ["SSL_write", "SSL_write_ex"])
def test_write_repeated_with_zero_bytes_is_a_bad_length(h: Harness, function: str) -> None:
    """An SSL_write that wants to write (full transport), repeated with 0 bytes: a shorter repeat, so SSL_ERROR_SSL
    with SSL_R_BAD_LENGTH, not the answer to a first zero-length write."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    ret = api.SSL_write(client.ssl, b"w" * 20000)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_WRITE
    api.ERR_clear_error()
    if function == "SSL_write":
        ret = api.SSL_write(client.ssl, b"")
        failed = -1
    else:
        ret, _ = api.SSL_write_ex(client.ssl, b"")
        failed = 0
    code = api.ERR_peek_error()
    got = error(api, client.ssl, -1 if ret == failed == 0 else ret)
    h.trace.note(f"{function}(client, 0 bytes) after WANT_WRITE -> {ret}, {got}, "
                 f"queue: {api.ERR_error_string_n(code) if code else 'empty'}")
    assert ret == failed and got is SslError.SSL_ERROR_SSL, f"{function} with 0 bytes -> {ret}, {got}"
    assert api.ERR_GET_REASON(code) == K.SSL_R_BAD_LENGTH, api.ERR_error_string_n(code) if code else "empty queue"
    api.ERR_clear_error()


@pytest.mark.clauses("SSL_read/NOTES/unfinished-write-waits", "SSL_write/WARNINGS/retry-same-arguments")
@pytest.mark.needs(*C_API, "bounded_write_buffer")
@pytest.mark.parametrize("reader", ["SSL_read", "SSL_peek"])
def test_read_leaves_an_unfinished_write_for_its_repeat(h: Harness, reader: str) -> None:
    """SSL_write on a full BIO pair wants to write; the pair is drained; a read with nothing to read waits and
    writes nothing: the rest of the write goes out when SSL_write is repeated, which then completes."""
    api = h.capi
    client = Mem(h, Role.CLIENT, adjust=lambda c: c.with_(write_buffer=4096))
    server = Mem(h, Role.SERVER)
    handshake(h, client, server)
    data = b"w" * 20000
    ret = api.SSL_write(client.ssl, data)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_WRITE
    server.give(client.take())
    ret, _ = getattr(api, reader)(client.ssl, 1)
    assert error(api, client.ssl, ret) is SslError.SSL_ERROR_WANT_READ, ret
    written = client.outgoing()
    h.trace.note(f"{reader} after an unfinished SSL_write, on a drained pair: {written} bytes written")
    assert written == 0, f"{reader} wrote {written} bytes of the unfinished write; they wait for its repeat"
    total = 0
    for _ in range(40):
        ret = api.SSL_write(client.ssl, data)
        server.give(client.take())
        got, _ = api.SSL_read(server.ssl, 65536)
        total += max(got, 0)
        if ret > 0:
            break
    assert ret == len(data), f"the repeated SSL_write must complete: {ret}"
