"""nox sessions, the same as tox.ini's environments: tests, conformance, lint, typecheck, benchmark, fuzz, differential."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests."""
    _install(session)
    session.run("python", "-m", "pytest", "-n", "2", *session.posargs)


@nox.session
def conformance(session: nox.Session) -> None:
    """The conformance run on every installed stack; report in reports/."""
    _install(session)
    session.run("conformance", "run", "-n", "2", "--report", "reports", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    _install(session)
    session.run("ruff", "check", "conformance", "engine", "specs", "tests", "benchmarks")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session)
    session.run("mypy")


@nox.session
def benchmark(session: nox.Session) -> None:
    """Handshakes/s and bulk MiB/s of every stack side by side; figures in reports/benchmark.json."""
    _install(session)
    session.run("python", "benchmarks/run.py", "--json", "reports/benchmark.json", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The long hypothesis profile of the TLS core's fuzz test (ENGINE_FUZZ_EXAMPLES inputs per test, default
    20000; CI runs the small default profile)."""
    _install(session)
    examples = session.env.get("ENGINE_FUZZ_EXAMPLES", "20000")
    session.run("python", "-m", "pytest", "tests/engine/tls/test_fuzz.py", "-p", "no:cacheprovider",
                env={"ENGINE_FUZZ_EXAMPLES": examples})


@nox.session
def differential(session: nox.Session) -> None:
    """The long differential run: 2000 random C-API programs, engine against libssl and against wolfSSL
    (DIFFERENTIAL_EXAMPLES overrides the count); records and report in reports/."""
    _install(session)
    examples = session.env.get("DIFFERENTIAL_EXAMPLES", "2000")
    for other in ("libssl", "wolfssl"):
        session.run("conformance", "differential", "--stack", "engine", "--stack", other, "--examples", examples,
                    "--report", "reports", *session.posargs)
