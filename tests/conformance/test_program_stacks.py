"""The wire tier: programs on loopback as peers of the in-process stacks."""

from __future__ import annotations

import shutil

import pytest

from conformance.harness import Harness
from conformance.stacks import load_stack
from conformance.stacks.check import check_adapter_target
from conformance.stacks.programs import _RecordFraming

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl program is not installed")


def test_record_framing_knows_when_a_record_is_complete() -> None:
    framing = _RecordFraming()
    record = b"\x17\x03\x03\x00\x03abc"
    assert [framing.feed(record[i:i + 1]) for i in range(len(record))] == [False] * 7 + [True]
    assert framing.feed(record + record[:4]) is True
    assert framing.feed(record[4:]) is True


@pytest.mark.parametrize("program_is", ["client", "server"])
def test_a_program_exchanges_data_with_libssl(program_is: str) -> None:
    programs, libssl = load_stack("openssl-programs"), load_stack("libssl")
    client, server = (programs, libssl) if program_is == "client" else (libssl, programs)
    h = Harness(client, client_stack=client, server_stack=server)
    try:
        pair = h.pair()
        pair.handshake()
        pair.send(b"to the server")
        assert pair.drive(server=lambda e: e.write(b"to the client")).server.ok  # type: ignore[union-attr]
        got = pair.drive(client=lambda e: e.read(100)).client
        assert got is not None and got.data == b"to the client", got
    finally:
        h.close()


def test_the_adapter_keeps_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_adapter_target("openssl-programs") == 0, capsys.readouterr().out


@pytest.mark.skipif(shutil.which("gnutls-cli") is None, reason="gnutls-cli is not installed")
def test_gnutls_cli_exchanges_data_with_libssl() -> None:
    """gnutls-cli logs 'Sent Packet' before its Finished reaches the socket: the endpoint waits for the record."""
    programs, libssl = load_stack("gnutls-programs"), load_stack("libssl")
    h = Harness(programs, client_stack=programs, server_stack=libssl)
    try:
        pair = h.pair()
        pair.handshake()
        pair.send(b"to the server")
        assert pair.drive(server=lambda e: e.write(b"to the client")).server.ok  # type: ignore[union-attr]
        got = pair.drive(client=lambda e: e.read(100)).client
        assert got is not None and got.data == b"to the client", got
    finally:
        h.close()


def test_record_framing_counts_records() -> None:
    framing = _RecordFraming()
    framing.feed(b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03\x00\x02ab"[:5])
    assert framing.records == 1
    framing.feed(b"ab")
    assert framing.records == 2


@pytest.mark.parametrize(("script", "unsupported"), [("exit 1", True), ("kill -SEGV $$", False)],
                         ids=["refused-its-command-line", "crashed"])
def test_a_program_that_never_connects_is_not_applicable_only_when_it_refused(script: str,
                                                                                unsupported: bool) -> None:
    """A program that exits with a status before the TCP connection refused its command line (not applicable); one
    killed by a signal crashed: that is an error of the program, never 'not applicable'."""
    import socket

    from conformance.outcome import Role
    from conformance.stacks.base import EndpointConfig, Unsupported
    from conformance.stacks.programs import OPENSSL_MSG, ProgramEndpoint

    with socket.socket() as probe:  # a port nobody listens on: the "server" program never does
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    expected: type[Exception] = Unsupported if unsupported else RuntimeError
    with pytest.raises(expected) as raised:
        ProgramEndpoint(["sh", "-c", script], EndpointConfig(role=Role.SERVER), "program", listen=None, port=port,
                        close_by_stdin=False, syntax=OPENSSL_MSG)
    assert unsupported or "killed by signal 11" in str(raised.value)
