"""The engine's public surface against the catalogue: every function a clause names is offered by the engine, or is
listed here as deliberately absent with the reason (its cases then say *not applicable* on the engine)."""

from __future__ import annotations

from conformance.catalogue import load_catalogue
from conformance.stacks.engine import EngineApi

ABSENT = {
    "BIO_callback_ctrl": "BIO callbacks are not implemented",
    "BIO_ptr_ctrl": "no ctrl of the engine's BIOs returns a pointer",
    "BIO_get_ktls_recv": "no kernel TLS",
    "BIO_get_ktls_send": "no kernel TLS",
    "BIO_get_line": "not implemented yet",
    "BIO_get_mem_ptr": "no BUF_MEM type",
    "BIO_set_mem_buf": "no BUF_MEM type",
    "DTLS_method": "the engine implements TLS over streams only",
    "DTLS_client_method": "the engine implements TLS over streams only",
    "DTLS_server_method": "the engine implements TLS over streams only",
    "DTLSv1_method": "the engine implements TLS over streams only",
    "DTLSv1_2_method": "the engine implements TLS over streams only",
    "SSL_get_all_async_fds": "no async engine (SSL_MODE_ASYNC)",
    "SSL_get_changed_async_fds": "no async engine (SSL_MODE_ASYNC)",
    "SSLv3_method": "SSL 3.0 is not implemented",
    "SSLv3_client_method": "SSL 3.0 is not implemented",
    "SSLv3_server_method": "SSL 3.0 is not implemented",
    "TLSv1_method": "TLS 1.0 is not implemented (the engine speaks TLS 1.3 and 1.2)",
    "TLSv1_1_method": "TLS 1.1 is not implemented (the engine speaks TLS 1.3 and 1.2)",
}


def _named_by_clauses() -> set[str]:
    return {name for clause in load_catalogue() for name in clause.functions}


def test_every_function_a_clause_names_is_offered_or_listed_as_absent() -> None:
    api = EngineApi()
    missing = sorted(n for n in _named_by_clauses() if not api.has(n) and n not in ABSENT)
    assert not missing, f"named by clauses but neither in the engine nor in ABSENT: {missing}"


def test_absent_list_has_no_stale_entries() -> None:
    api = EngineApi()
    named = _named_by_clauses()
    stale = sorted(n for n in ABSENT if api.has(n) or n not in named)
    assert not stale, f"ABSENT lists names the engine now has or no clause names: {stale}"
