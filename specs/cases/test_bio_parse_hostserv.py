"""C-API cases for BIO_parse_hostserv.pod: the page's table of forms, both priorities, IPv6 brackets, failures."""

from __future__ import annotations

import pytest

from conformance.harness import Harness
from specs.cases._bio import call, clear, drain

pytestmark = pytest.mark.needs("c_api")

HOST, SERV = 0, 1  # BIO_PARSE_PRIO_HOST, BIO_PARSE_PRIO_SERV
KEEP_H, KEEP_S = "caller-host", "caller-service"  # what *host / *service held before the call

FORMS = [
    # (hostserv, prio, expected host, expected service, clause)
    ("example.com:443", HOST, "example.com", "443", "host-and-service"),
    ("127.0.0.1:https", SERV, "127.0.0.1", "https", "host-and-service"),
    ("example.com:*", HOST, "example.com", None, "host-only-forms"),
    ("example.com:", SERV, "example.com", None, "host-only-forms"),
    (":8443", HOST, None, "8443", "service-only-forms"),
    ("*:http", HOST, None, "http", "service-only-forms"),
    ("localhost", HOST, "localhost", KEEP_S, "no-colon-host"),
    ("4433", HOST, "4433", KEEP_S, "no-colon-host"),
    ("4433", SERV, KEEP_H, "4433", "no-colon-service"),
    ("imaps", SERV, KEEP_H, "imaps", "no-colon-service"),
    ("[::1]:443", HOST, "::1", "443", "ipv6-brackets"),
    ("[fe80::1]", HOST, "fe80::1", KEEP_S, "ipv6-brackets"),
    ("[::1]:*", SERV, "::1", None, "ipv6-brackets"),
]


@pytest.mark.clauses("BIO_parse_hostserv/DESCRIPTION/new-strings", "BIO_parse_hostserv/RETURN VALUES/success",
                     "BIO_parse_hostserv/DESCRIPTION/host-and-service",
                     "BIO_parse_hostserv/DESCRIPTION/host-only-forms",
                     "BIO_parse_hostserv/DESCRIPTION/service-only-forms",
                     "BIO_parse_hostserv/DESCRIPTION/no-colon-host", "BIO_parse_hostserv/DESCRIPTION/no-colon-service",
                     "BIO_parse_hostserv/DESCRIPTION/ipv6-brackets",
                     "BIO_parse_hostserv/DESCRIPTION/service-name-or-port")
@pytest.mark.parametrize(("hostserv", "prio", "host", "service", "form"), FORMS,
                         ids=[f"{f[0]}-{'host' if f[1] == HOST else 'serv'}" for f in FORMS])
def test_parse_forms(h: Harness, hostserv: str, prio: int, host: str | None, service: str | None, form: str) -> None:
    """Each form of the page's table, with *host and *service holding the caller's strings before the call."""
    got = call(h, "BIO_parse_hostserv", hostserv, prio, KEEP_H, KEEP_S)
    assert got == (1, host, service), f"{hostserv!r} ({form}) parsed as {got}, expected {(1, host, service)}"


@pytest.mark.clauses("BIO_parse_hostserv/RETURN VALUES/error", "BIO_parse_hostserv/DESCRIPTION/ipv6-brackets")
@pytest.mark.parametrize("hostserv", ["[::1", "[::1]443", "[::1]:80:81", "host:80:81", "::1", "fe80::1:443"])
def test_parse_refuses_malformed(h: Harness, hostserv: str) -> None:
    """Strings outside the syntax return 0 with an error entry and leave *host and *service alone."""
    clear(h)
    got = call(h, "BIO_parse_hostserv", hostserv, HOST, KEEP_H, KEEP_S)
    assert got == (0, KEEP_H, KEEP_S), f"{hostserv!r} gave {got}"
    assert drain(h), "a refused string left no error entry"
