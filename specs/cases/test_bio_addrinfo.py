"""C-API cases for BIO_ADDRINFO.pod: BIO_lookup / BIO_lookup_ex on numeric hosts, localhost and NULL hosts, and the
BIO_ADDRINFO accessors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from conformance.capi import constants as K
from conformance.harness import Harness
from specs.cases._bio import call, clear, drain

pytestmark = pytest.mark.needs("c_api")

CLIENT, SERVER = 0, 1  # BIO_LOOKUP_CLIENT, BIO_LOOKUP_SERVER
IPPROTO_SCTP = 132


@contextmanager
def lookup(h: Harness, *args: Any, ex: bool = True) -> Iterator[list[tuple[int, int, int, Any]]]:
    """Run a lookup that must succeed; yields [(family, socktype, protocol, BIO_ADDR)] and frees the chain."""
    ret, res = call(h, "BIO_lookup_ex" if ex else "BIO_lookup", *args)
    assert ret == 1 and res is not None, f"lookup {args} returned {ret}"
    try:
        entries: list[Any] = []
        entry = res
        while entry is not None and len(entries) < 64:
            entries.append((call(h, "BIO_ADDRINFO_family", entry), call(h, "BIO_ADDRINFO_socktype", entry),
                            call(h, "BIO_ADDRINFO_protocol", entry), call(h, "BIO_ADDRINFO_address", entry)))
            entry = call(h, "BIO_ADDRINFO_next", entry)
        yield entries
    finally:
        call(h, "BIO_ADDRINFO_free", res)


def where(h: Harness, a: Any) -> tuple[str | None, int]:
    return call(h, "BIO_ADDR_hostname_string", a, 1), socket.ntohs(call(h, "BIO_ADDR_rawport", a))


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/lookup", "BIO_ADDRINFO/RETURN VALUES/lookup-success",
                     "BIO_ADDRINFO/DESCRIPTION/accessors", "BIO_ADDRINFO/DESCRIPTION/chain",
                     "BIO_ADDRINFO/RETURN VALUES/not-available", "BIO_ADDRINFO/DESCRIPTION/free")
def test_lookup_numeric_ipv4_stream(h: Harness) -> None:
    """127.0.0.1 port 4433, AF_INET, SOCK_STREAM, TCP: one entry with exactly that, whose next is NULL."""
    with lookup(h, "127.0.0.1", "4433", CLIENT, K.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as entries:
        assert len(entries) == 1, f"{len(entries)} entries"
        family, socktype, protocol, a = entries[0]
        assert (family, socktype, protocol) == (K.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        assert where(h, a) == ("127.0.0.1", 4433)


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/lookup", "BIO_ADDRINFO/DESCRIPTION/accessors")
def test_lookup_numeric_ipv6_with_service_name(h: Harness) -> None:
    """::1 with the service name 'https': an AF_INET6 entry for port 443."""
    with lookup(h, "::1", "https", CLIENT, K.AF_INET6, socket.SOCK_STREAM, 0) as entries:
        assert entries, "no entries"
        for family, socktype, protocol, a in entries:
            assert (family, socktype, protocol) == (K.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            assert where(h, a) == ("::1", 443)


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/lookup", "BIO_ADDRINFO/DESCRIPTION/chain",
                     "BIO_ADDRINFO/DESCRIPTION/accessors", "BIO_ADDRINFO/NOTES/sctp")
def test_lookup_any_type_gives_a_chain(h: Harness) -> None:
    """127.0.0.1 with socket type 0 and protocol 0: a chain with a stream/TCP and a datagram/UDP entry, and no
    other protocol (no SCTP)."""
    with lookup(h, "127.0.0.1", "53", CLIENT, K.AF_INET, 0, 0) as entries:
        kinds = {(t, p) for _, t, p, _ in entries}
        h.trace.note(f"(socktype, protocol) seen: {sorted(kinds)}")
        assert (socket.SOCK_STREAM, socket.IPPROTO_TCP) in kinds and (socket.SOCK_DGRAM, socket.IPPROTO_UDP) in kinds
        assert all(p in (socket.IPPROTO_TCP, socket.IPPROTO_UDP) for _, _, p, _ in entries), \
            "protocol 0 returned an entry of another protocol"


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/null-host-default")
@pytest.mark.parametrize(("lookup_type", "expected"), [(SERVER, "0.0.0.0"), (CLIENT, "127.0.0.1")],
                         ids=["server", "client"])
def test_null_host_default(h: Harness, lookup_type: int, expected: str) -> None:
    """NULL host, AF_INET: a server lookup gives 0.0.0.0, a client lookup 127.0.0.1."""
    with lookup(h, None, "8080", lookup_type, K.AF_INET, socket.SOCK_STREAM, 0) as entries:
        assert entries and all(where(h, a) == (expected, 8080) for *_, a in entries), \
            f"NULL host gave {[where(h, a) for *_, a in entries]}"


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/unix", "BIO_ADDRINFO/DESCRIPTION/accessors")
def test_unix_path_is_not_resolved(h: Harness) -> None:
    """AF_UNIX: one entry holding the host as its path; the service is ignored."""
    path = "/tmp/conformance-no-such.sock"
    with lookup(h, path, "ignored", CLIENT, K.AF_UNIX, socket.SOCK_STREAM, 0) as entries:
        assert len(entries) == 1
        family, socktype, _protocol, a = entries[0]
        assert (family, socktype) == (K.AF_UNIX, socket.SOCK_STREAM)
        assert call(h, "BIO_ADDR_path_string", a) == path


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/lookup-any-protocol", "BIO_ADDRINFO/RETURN VALUES/lookup-success")
def test_lookup_without_protocol(h: Harness) -> None:
    """BIO_lookup for 127.0.0.1 datagrams: UDP entries for the address and port asked for."""
    with lookup(h, "127.0.0.1", "5353", CLIENT, K.AF_INET, socket.SOCK_DGRAM, ex=False) as entries:
        assert entries and all((t, p) == (socket.SOCK_DGRAM, socket.IPPROTO_UDP) for _, t, p, _ in entries)
        assert all(where(h, a) == ("127.0.0.1", 5353) for *_, a in entries)


@pytest.mark.clauses("BIO_ADDRINFO/RETURN VALUES/lookup-failure")
@pytest.mark.parametrize(("host", "service", "family"), [
    ("127.0.0.1", "no-such-service-name", K.AF_INET),
    ("::1", "80", K.AF_INET),            # an IPv6 literal cannot be an AF_INET address
    ("127.0.0.1", "80", 12345),          # not a family the page allows
], ids=["unknown-service", "family-mismatch", "bad-family"])
def test_failed_lookup(h: Harness, host: str, service: str, family: int) -> None:
    """A lookup that cannot succeed returns 0 with an error entry."""
    clear(h)
    ret, res = call(h, "BIO_lookup_ex", host, service, CLIENT, family, socket.SOCK_STREAM, 0)
    if res is not None:
        call(h, "BIO_ADDRINFO_free", res)
    assert ret == 0, f"the lookup returned {ret}"
    assert drain(h), "a failed lookup left no error entry"


@pytest.mark.clauses("BIO_ADDRINFO/DESCRIPTION/free")
def test_free_null(h: Harness) -> None:
    """BIO_ADDRINFO_free(NULL) does nothing (returns no value)."""
    assert call(h, "BIO_ADDRINFO_free", None) is None
