"""The differential runner: a small budget on the real stacks, its table, its records, and proof that it fails (with
a shrunk, replayable program) when the engine is broken on purpose."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from conformance.catalogue import load_catalogue
from conformance.cli import main
from conformance.differential.program import (
    Dup,
    Eof,
    Handshake,
    KeyUpdate,
    Move,
    Program,
    Read,
    Rebio,
    Renegotiate,
    Setup,
    Write,
    payload,
)
from conformance.differential.runner import Divergence, execute, run
from conformance.differential.table import load_table
from conformance.differential.world import World, api_of
from conformance.expectations import load_expectations
from conformance.stacks import discover


def _installed(name: str) -> bool:
    info = discover().get(name)
    return info is not None and info.installed


needs_libssl = pytest.mark.skipif(not _installed("libssl"), reason="libssl.so.3 is not installed here")


def test_table_entries_name_clauses_and_expectations() -> None:
    clauses = load_catalogue().clauses
    for entry in load_table():
        assert entry.clause in clauses, f"{entry.id}: unknown clause {entry.clause!r}"
        if entry.blame not in ("engine", "unspecified"):
            assert entry.blame == entry.stack, f"{entry.id}: blames {entry.blame}, observed on {entry.stack}"
            cases = load_expectations(entry.blame)
            assert entry.expectation in cases, f"{entry.id}: {entry.blame}.toml has no entry {entry.expectation!r}"


HANDSHAKE = (Handshake("client"), Move("client"), Handshake("server"), Move("server"), Handshake("client"),
             Move("client"), Handshake("server"))


@needs_libssl
def test_engine_and_libssl_agree_on_an_ordinary_exchange() -> None:
    apis = {"engine": api_of("engine"), "libssl": api_of("libssl")}
    program = Program(Setup(), (*HANDSHAKE, Write("client", 5), Move("client"), Read("server", "SSL_read", 2),
                                Read("server", "SSL_peek", 10), Read("server", "SSL_read", 10)))
    execute(program, apis, [])


@needs_libssl
@pytest.mark.parametrize("transport", ["pair", "mem", "socket", "fd"])
def test_dup_set_bio_client_certificates_and_renegotiation_agree(transport: str) -> None:
    """The new steps on both stacks: SSL_dup of a server that has not started (a copy that takes over, with the
    ClientHello already delivered) and of a client that has (the same handle), SSL_set_bio with new BIOs in the
    middle of a record, a required client certificate, TLS 1.2 with a renegotiation the server allows."""
    apis = {"engine": api_of("engine"), "libssl": api_of("libssl")}
    setup = Setup(transport=transport, version="1.2", client_auth="required", client_cert=True, client_reneg=True)
    steps = (Handshake("client"), Move("client"), Dup("server"), Dup("client"), *HANDSHAKE[2:], Move("server"),
             Handshake("client"), Write("client", 300), Move("client", keep=10), Rebio("server"), Move("client"),
             Read("server", "SSL_read", 1000), Renegotiate("client"), Write("client", 5), Move("client"),
             Read("server", "SSL_read", 100), Move("server"), Read("client", "SSL_read", 100), Move("client"),
             Read("server", "SSL_read", 100), Move("server"), Write("client", 7), Move("client"),
             Read("server", "SSL_read", 100), KeyUpdate("client", True))
    worlds = {name: World(api, setup, renegotiation=True) for name, api in apis.items()}
    try:
        seen = {name: [w.run(step) for step in steps] for name, w in worlds.items()}
    finally:
        for w in worlds.values():
            w.close()
    for name in apis:
        ran = seen[name]
        assert ran[2]["ret"] == "new" and ran[3]["ret"] == "same", (name, ran[:4])
        assert ran[10]["ret"] == 1 and ran[15]["ret"] == 300, (name, ran[10], ran[15])  # handshake done; data read
        assert ran[16]["ret"] == 1 and ran[-1]["ret"] == 0, (name, ran[16], ran[-1])  # renegotiation; no KeyUpdate
    # and the two stacks agree after every step (an empty divergence table: any difference raises)
    execute(Program(setup, steps), apis, [])


@pytest.mark.parametrize("transport", ["socket", "fd"])
def test_socket_transports_are_real_loopback_tcp(transport: str) -> None:
    """Over "socket" / "fd" each SSL reads and writes a real TCP socket on 127.0.0.1 (SSL_get_fd names it), end of
    file is the harness's shutdown(SHUT_WR), and bytes delivered but unread are counted by the kernel."""
    import socket

    world = World(api_of("engine"), Setup(transport=transport))
    try:
        api = world.api
        for step in (*HANDSHAKE, Write("client", 5), Move("client", keep=3)):
            assert "raised" not in world.run(step), step
        fd = api.SSL_get_fd(world.server)
        with socket.socket(fileno=os.dup(fd)) as sock:
            assert sock.type == socket.SOCK_STREAM and sock.getpeername()[0] == "127.0.0.1"
        assert world.observe()["server.out"] is False and world.ends["server"].unread() > 0
        seen = world.run(Read("server", "SSL_read", 100))
        assert seen["ret"] == -1 and seen["error"] == "SSL_ERROR_WANT_READ", seen  # 3 bytes of the record held back
        world.run(Move("client"))
        assert world.run(Read("server", "SSL_read", 100))["data"] == payload(5).hex()
        world.run(Eof("server"))
        seen = world.run(Read("server", "SSL_read", 100))
        assert seen["ret"] == 0 and seen["error"] == "SSL_ERROR_SSL", seen  # EOF without close_notify
    finally:
        world.close()


def test_a_broken_engine_is_reported_with_a_shrunk_replayable_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break the engine on purpose (SSL_pending one too high while data is buffered) and compare it with an intact
    engine (so no real divergence can come first): the runner must fail and shrink the program to the few steps
    that show it."""
    broken = api_of("engine")
    real = broken.SSL_pending
    monkeypatch.setattr(broken, "SSL_pending", lambda ssl, /: real(ssl) + 1 if real(ssl) else 0)
    result = run({"engine": api_of("engine"), "broken": broken}, [], examples=300, seed=1, shrink=False)
    finding = result.finding
    assert finding is not None, "the runner did not notice a wrong SSL_pending"
    assert any(k.endswith(".pending") for k in finding.diffs), finding.describe()
    steps = finding.program.steps
    assert len(steps) <= 12, f"not shrunk: {len(steps)} steps"
    script = finding.script()
    assert "DIVERGES" in script and ("SSL_read" in script or "SSL_peek" in script)
    # the script replays as printed (on the intact engine here: 'broken' is no registered stack)
    script = script.replace("World.on('broken'", "World.on('engine'")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(script, "<shrunk program>", "exec"), {})
    assert out.getvalue().count("\n") == len(steps)
    assert finding.program.render_c().count(";") >= len(steps)


@needs_libssl
def test_command_small_budget_engine_vs_libssl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["differential", "--stack", "engine", "--stack", "libssl", "--examples", "40", "--seed", "1",
                 "--report", str(tmp_path)])
    out = capsys.readouterr().out
    records = [json.loads(line) for line in (tmp_path / "differential.jsonl").read_text().splitlines()]
    summary = [r for r in records if r["status"] == "summary"]
    findings = [r for r in records if r["status"] == "finding"]
    assert len(summary) == 1 and summary[0]["examples"] >= 40
    # exit status, summary and finding records agree; a finding comes with its replayable program
    assert code == (1 if findings else 0) and summary[0]["ok"] is (not findings), out
    for f in findings:
        assert "DIVERGES" in f["script"] and f["c"] and f["diffs"]
    assert all(r["kind"] == "differential" and r["stacks"] == ["engine", "libssl"] for r in records)
    assert 'id="differential"' in (tmp_path / "index.html").read_text()


def test_command_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["differential", "--stack", "engine", "--report", str(tmp_path)]) == 2
    assert main(["differential", "--stack", "engine", "--stack", "nosuch", "--report", str(tmp_path)]) == 2
    assert main(["differential", "--stack", "engine", "--stack", "stdlib", "--report", str(tmp_path)]) == 2
    assert "C API" in capsys.readouterr().err


@pytest.mark.skipif(not _installed("wolfssl"), reason="libwolfssl.so.35 is not installed here")
def test_world_runs_on_wolfssl_over_memory_bios() -> None:
    world = World(api_of("wolfssl"), Setup(transport="mem"))
    try:
        seen: list[dict[str, Any]] = [world.run(step) for step in HANDSHAKE]
    finally:
        world.close()
    assert seen[-1]["ret"] == 1 and seen[-3]["ret"] == 1, seen


def test_records_and_divergence_type() -> None:
    assert issubclass(Divergence, AssertionError)


@needs_libssl
@pytest.mark.parametrize("transport", ["pair", "fd"])
def test_a_call_that_reads_nothing_keeps_a_partly_delivered_side_uncompared(transport: str) -> None:
    """The ClientHellos differ in size (the engine's is shorter than libssl's), so "all but the last 108 bytes"
    delivers nothing to one server and part of a record to the other; the rest arrives, and SSL_key_update (which
    reads nothing) runs on the server: whether a part of a record sits in its buffer (SSL_has_pending) still depends
    on record sizes, so it is not compared until the server has read everything (a false divergence at seed 777,
    transport fd, 1000 programs, before the fix)."""
    apis = {"engine": api_of("engine"), "libssl": api_of("libssl")}
    setup = Setup(transport=transport, version="1.2", sni=False)
    steps = (Read("client", "SSL_read", 1), Move("client", keep=108), Read("server", "SSL_read", 1),
             Move("client"), KeyUpdate("server", False), Read("server", "SSL_read", 1), Move("server"),
             Read("client", "SSL_read", 1))
    execute(Program(setup, steps), apis, [])
