"""The adapter contract: capability names, the entry-point name, expectations files, refusing configurations."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from conformance.outcome import Role
from conformance.stacks import CAPABILITIES, Capability, EndpointConfig, Unsupported, check_adapter, discover
from conformance.stacks.base import capability_set
from conformance.stacks.stdlib import StdlibStack


def test_capability_members_equal_their_strings() -> None:
    assert Capability.PEEK == "peek"
    assert "peek" in frozenset({Capability.PEEK})
    assert set(CAPABILITIES) == set(Capability)


def test_a_misspelt_capability_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown capability 'peak'"):
        capability_set("client_role", "peak")
    with pytest.raises(KeyError, match="unknown capability"):
        StdlibStack().lacks("peak")


class _Typo(StdlibStack):
    name = "typo"
    capabilities = frozenset({"client_role", "sever_role"})  # type: ignore[assignment]
    missing_reasons = MappingProxyType({"rengotiation": "spelt wrong", "client_role": "declared and explained"})


def test_check_adapter_names_every_broken_rule(tmp_path: Path) -> None:
    problems = " | ".join(check_adapter(_Typo(), registered_as="typo2"))
    assert "registered as 'typo2'" in problems
    assert "unknown capabilities sever_role" in problems
    assert "unknown capabilities rengotiation" in problems
    assert "explains capabilities the adapter declares: client_role" in problems

    class BadFile(StdlibStack):
        name = "badfile"
        expectations_path = tmp_path / "bad.toml"

    (tmp_path / "bad.toml").write_text("schema = 2\n")
    assert any("'schema' must be 1" in p for p in check_adapter(BadFile()))


def test_every_registered_stack_keeps_the_contract() -> None:
    for name, info in discover().items():
        assert "breaks the adapter contract" not in info.problem, f"{name}: {info.problem}"
        if info.adapter is not None:
            assert check_adapter(info.adapter, registered_as=name) == [], name


def test_a_refused_configuration_is_unsupported() -> None:
    config = EndpointConfig(role=Role.CLIENT, write_buffer=100)
    with pytest.raises(Unsupported, match="bounded_write_buffer"):
        StdlibStack().endpoint(config, "client")


def test_umbrella_capabilities_and_their_parts() -> None:
    """A stack that declares an umbrella has both parts; one with one part lacks the umbrella and says which part."""
    from conformance.stacks.base import StackAdapter as _Base

    class Half(_Base):
        name = "half"
        capabilities = capability_set("implicit_handshake_on_read", "client_certificates")
        missing_reasons = MappingProxyType({"implicit_handshake_on_write": "write refuses before the handshake"})

        def version(self) -> str:
            return "0"

        def endpoint(self, config, label):  # type: ignore[no-untyped-def]
            raise NotImplementedError

    half = Half()
    assert half.lacks("implicit_handshake_on_read") is None
    assert half.lacks("present_client_certificate") is None and half.lacks("request_client_certificate") is None
    why = half.lacks("implicit_handshake")
    assert why is not None and "write refuses before the handshake" in why
    assert half.lacks("implicit_handshake_on_write") is not None


def test_renegotiation_is_an_umbrella_of_starting_and_the_pending_flag() -> None:
    """'renegotiation' is 'renegotiate' (SSL_renegotiate + SSL_do_handshake) and 'renegotiation_pending'
    (SSL_renegotiate_pending): nassl binds the first only, and the reason it lacks the second (and so the umbrella)
    names the unbound function; a stack that lacks both and explains only the umbrella gives that reason for each
    part."""
    from conformance.stacks.engine import EngineStack
    from conformance.stacks.nassl import NasslLegacyStack, NasslStack

    engine = EngineStack()
    assert all(engine.lacks(c) is None for c in ("renegotiation", "renegotiate", "renegotiation_pending"))
    for nassl in (NasslStack(), NasslLegacyStack()):
        assert nassl.lacks("renegotiate") is None
        pending = nassl.lacks("renegotiation_pending")
        assert pending is not None and "does not bind SSL_renegotiate_pending" in pending
        umbrella = nassl.lacks("renegotiation")
        assert umbrella is not None and "renegotiation_pending: nassl does not bind SSL_renegotiate_pending" in umbrella
    stdlib = StdlibStack()
    for part in ("renegotiate", "renegotiation_pending"):
        why = stdlib.lacks(part)
        assert why is not None and why.endswith(": ssl does not expose renegotiation"), why
