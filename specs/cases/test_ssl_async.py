"""SSL_MODE_ASYNC: SSL_ERROR_WANT_ASYNC / SSL_ERROR_WANT_ASYNC_JOB (SSL_get_error.pod) and SSL_ASYNC_PAUSED /
SSL_ASYNC_NO_JOBS (SSL_want.pod), observed on a library that runs its I/O functions as libcrypto async jobs.

With SSL_MODE_ASYNC, libssl runs SSL_do_handshake / SSL_read / SSL_write inside an async job (ASYNC_start_job.pod);
when code running in the job pauses it (ASYNC_pause_job), the I/O function returns -1 and SSL_get_error() says
SSL_ERROR_WANT_ASYNC; when the thread's job pool is exhausted it says SSL_ERROR_WANT_ASYNC_JOB. An async engine is
the usual code that pauses the job; no such engine is installed here (Debian's engines-3 holds afalg, which needs
the kernel's AF_ALG sockets this host refuses, padlock and loader_attic), so the cases pause the job the way an
engine does, from inside it, while the server processes the ClientHello: libcrypto's own ASYNC_pause_job() is the
server context's client hello callback, C calling C with no Python on the job's stack, and its result once
resumed, 1, is SSL_CLIENT_HELLO_SUCCESS (the binding's ``SSL_CTX_set_client_hello_cb_pause_job``). What the cases
then see (return values, SSL_get_error, SSL_want) is libssl's own answer to a paused job, whoever paused it.

(A pause at any info callback event would not do: libssl also calls that callback on the way out of a handshake
step that already failed with a retry, and a job paused there loses its SSL_ERROR_WANT_READ, since
ssl_start_async_job() resets the SSL's rwstate before resuming; an engine never pauses there.)

Stacks without libcrypto's async jobs do not apply: the engine runs no jobs, and the binding finds no
ASYNC_pause_job in wolfSSL's, BoringSSL's or GnuTLS's libraries.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from conformance.outcome import Role
from specs.cases._capi import Background
from specs.cases._ssl_objects import Mem, move

pytestmark = pytest.mark.needs("c_api", "client_role", "server_role")

MAX_STEPS = 200  # SSL_do_handshake calls per side before the case gives up (a TLS 1.3 handshake pauses ~20 times)


def _async(h: Harness) -> Any:
    api = h.capi
    if not hasattr(api, "SSL_CTX_set_client_hello_cb_pause_job"):
        h.not_applicable(f"{h.stack.name} runs no libcrypto async jobs: SSL_MODE_ASYNC has nothing to start")
    if not api.has("ASYNC_pause_job"):
        h.not_applicable(f"{h.stack.name} exports no ASYNC_pause_job: the library has no async jobs")
    return api


def _handshake_counting(h: Harness, api: Any, client: Mem, server: Mem) -> dict[int, int]:
    """Both sides call SSL_do_handshake in turn, bytes moved in between, until both return 1; returns how often the
    server's SSL_get_error gave each code. Any other outcome than 1, WANT_READ or WANT_ASYNC fails the case."""
    seen: dict[int, int] = {}
    done = {"client": False, "server": False}
    for _ in range(MAX_STEPS):
        for name, side in (("client", client), ("server", server)):
            if done[name]:
                continue
            ret = api.SSL_do_handshake(side.ssl)
            if ret == 1:
                done[name] = True
                continue
            code = int(api.SSL_get_error(side.ssl, ret))
            if name == "server":
                seen[code] = seen.get(code, 0) + 1
            assert code in (K.SSL_ERROR_WANT_READ, K.SSL_ERROR_WANT_ASYNC), \
                f"{name} SSL_do_handshake -> {ret}, SSL_get_error {code}"
            if code == K.SSL_ERROR_WANT_ASYNC:
                assert api.SSL_want(side.ssl) == K.SSL_ASYNC_PAUSED, \
                    f"after SSL_ERROR_WANT_ASYNC, SSL_want is {api.SSL_want(side.ssl)}, not SSL_ASYNC_PAUSED"
                assert api.SSL_want_async(side.ssl) == 1, "SSL_want_async is not 1 after SSL_ERROR_WANT_ASYNC"
        move(client, server, h)
        if all(done.values()):
            break
    h.trace.note(f"server SSL_get_error codes during the handshake: {seen}")
    assert all(done.values()), f"the handshake did not complete in {MAX_STEPS} steps (done: {done})"
    return seen


def _pausing_server(h: Harness, api: Any, mode: bool = True) -> Mem:
    """A server whose context's client hello callback pauses the running async job; with SSL_MODE_ASYNC if
    ``mode``."""
    server = Mem(h, Role.SERVER, before_new=api.SSL_CTX_set_client_hello_cb_pause_job)
    if mode:
        api.SSL_set_mode(server.ssl, K.SSL_MODE_ASYNC)
    return server


def _client_hello_to(h: Harness, api: Any, server: Mem) -> Mem:
    """A client whose ClientHello is already in ``server``'s BIO pair."""
    client = Mem(h, Role.CLIENT)
    ret = api.SSL_do_handshake(client.ssl)
    assert (ret, int(api.SSL_get_error(client.ssl, ret))) == (-1, K.SSL_ERROR_WANT_READ)
    move(client, server, h)
    return client


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_ASYNC", "SSL_want/RETURN VALUES/SSL_ASYNC_PAUSED",
                     "SSL_CTX_set_mode/NOTES/async")
def test_a_paused_async_job_gives_want_async_and_the_retry_goes_on(h: Harness) -> None:
    """A server with SSL_MODE_ASYNC whose async job pauses while it processes the ClientHello: its SSL_do_handshake
    returns -1 with SSL_ERROR_WANT_ASYNC and SSL_want() is SSL_ASYNC_PAUSED (SSL_want_async 1); retrying the same
    call goes on, and the handshake completes. The same server without SSL_MODE_ASYNC (the callback set all the
    same, but no job runs) never sees SSL_ERROR_WANT_ASYNC."""
    api = _async(h)
    server = _pausing_server(h, api)
    client = _client_hello_to(h, api, server)
    ret = api.SSL_do_handshake(server.ssl)
    code = int(api.SSL_get_error(server.ssl, ret))
    h.trace.note(f"server SSL_do_handshake on the ClientHello with SSL_MODE_ASYNC -> {ret}, SSL_get_error {code}, "
                 f"SSL_want {api.SSL_want(server.ssl)}")
    assert (ret, code) == (-1, K.SSL_ERROR_WANT_ASYNC), \
        f"SSL_do_handshake with a paused async job -> {ret}, SSL_get_error {code}; expected -1, SSL_ERROR_WANT_ASYNC"
    assert api.SSL_want(server.ssl) == K.SSL_ASYNC_PAUSED, f"SSL_want is {api.SSL_want(server.ssl)}"
    assert api.SSL_want_async(server.ssl) == 1
    _handshake_counting(h, api, client, server)

    plain_server = _pausing_server(h, api, mode=False)
    plain_client = _client_hello_to(h, api, plain_server)
    seen = _handshake_counting(h, api, plain_client, plain_server)
    assert K.SSL_ERROR_WANT_ASYNC not in seen, f"SSL_ERROR_WANT_ASYNC without SSL_MODE_ASYNC: {seen}"


@pytest.mark.clauses("SSL_get_error/RETURN VALUES/SSL_ERROR_WANT_ASYNC_JOB", "SSL_want/RETURN VALUES/SSL_ASYNC_NO_JOBS")
def test_an_exhausted_job_pool_gives_want_async_job(h: Harness) -> None:
    """Two servers with SSL_MODE_ASYNC, a ClientHello waiting for each, driven in a fresh thread whose job pool
    holds one job (ASYNC_init_thread(1, 1)): A's job pauses and holds the job; B's SSL_do_handshake then returns -1
    with SSL_ERROR_WANT_ASYNC_JOB, SSL_want() SSL_ASYNC_NO_JOBS (SSL_want_async_job 1). Once A's retried call has
    finished (-1, SSL_ERROR_WANT_READ: its flight is out and its job back in the pool), B's retry gets the job:
    SSL_ERROR_WANT_ASYNC, and its next retry SSL_ERROR_WANT_READ."""
    api = _async(h)
    a, b = _pausing_server(h, api), _pausing_server(h, api)
    _client_hello_to(h, api, a)
    _client_hello_to(h, api, b)

    def in_fresh_thread() -> list[tuple[str, int, int, int]]:
        steps: list[tuple[str, int, int, int]] = []

        def step(name: str, side: Mem) -> None:
            ret = api.SSL_do_handshake(side.ssl)
            steps.append((name, ret, int(api.SSL_get_error(side.ssl, ret)), int(api.SSL_want(side.ssl))))

        assert api.ASYNC_init_thread(1, 1) == 1, "ASYNC_init_thread(1, 1) failed"
        try:
            step("A", a)
            step("B", b)
            steps.append(("SSL_want_async_job(B)", api.SSL_want_async_job(b.ssl), 0, 0))
            step("A", a)
            step("B", b)
            step("B", b)
        finally:
            api.ASYNC_cleanup_thread()
        return steps

    steps = Background(in_fresh_thread).join()
    h.trace.note(f"(call, ret, SSL_get_error, SSL_want): {steps}")
    assert steps[0][1:3] == (-1, K.SSL_ERROR_WANT_ASYNC), f"A did not pause: {steps[0]}"
    assert steps[1][1:] == (-1, K.SSL_ERROR_WANT_ASYNC_JOB, K.SSL_ASYNC_NO_JOBS), \
        f"B with the only job taken: {steps[1]}; expected -1, SSL_ERROR_WANT_ASYNC_JOB, SSL_ASYNC_NO_JOBS"
    assert steps[2][1] == 1, f"SSL_want_async_job(B) is {steps[2][1]}, not 1"
    assert steps[3][1:3] == (-1, K.SSL_ERROR_WANT_READ), f"A's retried call: {steps[3]}"
    assert steps[4][1:3] == (-1, K.SSL_ERROR_WANT_ASYNC), f"B's retry once the job was back: {steps[4]}"
    assert steps[5][1:3] == (-1, K.SSL_ERROR_WANT_READ), f"B's next retry: {steps[5]}"
