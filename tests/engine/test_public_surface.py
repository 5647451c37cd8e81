"""The engine's public surface against the catalogue: every function a clause names is offered by the engine, or is
listed as deliberately absent with the reason in ``conformance.stacks.engine.ABSENT`` (the one list; its cases then
say *not applicable* on the engine with that reason)."""

from __future__ import annotations

from conformance.capi.libssl import LibsslApi, MissingSymbol
from conformance.catalogue import load_catalogue
from conformance.stacks.engine import ABSENT, EngineApi


def _named_by_clauses() -> set[str]:
    return {name for clause in load_catalogue() for name in clause.functions}


def test_every_function_a_clause_names_is_offered_or_listed_as_absent() -> None:
    api = EngineApi()
    missing = sorted(n for n in _named_by_clauses() if not api.has(n) and n not in ABSENT)
    assert not missing, f"named by clauses but neither in the engine nor in ABSENT: {missing}"


def test_absent_list_has_no_stale_entries() -> None:
    api = EngineApi()
    named = _named_by_clauses()
    # A name no clause names is still listed when a case calls it (the libssl binding declares it), so its
    # not-applicable reason on the engine is the true one.
    stale = sorted(n for n in ABSENT if api.has(n) or (n not in named and not hasattr(LibsslApi, n)))
    assert not stale, f"ABSENT lists names the engine now has, or that neither a clause nor the binding names: {stale}"


def test_an_absent_function_is_not_applicable_with_its_reason() -> None:
    api = EngineApi()
    for name, reason in ABSENT.items():
        try:
            getattr(api, name)
        except MissingSymbol as exc:
            assert reason in str(exc), (name, str(exc))
        else:
            raise AssertionError(f"{name} is listed as absent but the engine's API object has it")


# The other direction: every public engine function is named by some clause, or is listed here with why not. Most
# are functions of pages outside the 50 of the SEE ALSO closure that the adapters and cases use to set up
# connections.
_SETUP = ("its page is outside the 50 of the SEE ALSO closure; offered because adapters and cases set connections up "
          "with it")
_BIO_METH = "BIO_meth_new.pod / BIO_set_flags.pod are outside the 50 pages; offered so cases can build their own BIOs"
_ERR = "an ERR_* page outside the 50 (ERR_error_string, ERR_clear_error, ERR_put_error); cases read the queue with it"
_ERRNO = "the C errno of the calling convention (conformance/capi), not an OpenSSL function"
UNNAMED: dict[str, str] = {
    **dict.fromkeys((
        "BIO_clear_flags", "BIO_clear_retry_flags", "BIO_get_flags", "BIO_get_init", "BIO_meth_free", "BIO_meth_new",
        "BIO_meth_set_ctrl", "BIO_meth_set_read", "BIO_meth_set_write", "BIO_set_flags",
        "BIO_set_init", "BIO_set_retry_read", "BIO_set_retry_special", "BIO_set_retry_write", "BIO_test_flags"),
        _BIO_METH),
    **dict.fromkeys((
        "ERR_GET_RFLAGS", "ERR_PACK", "ERR_SYSTEM_ERROR", "ERR_clear_error", "ERR_error_string",
        "ERR_error_string_n", "ERR_lib_error_string", "ERR_raise", "ERR_raise_data", "ERR_reason_error_string"), _ERR),
    **dict.fromkeys(("errno", "raise_sys", "set_errno"), _ERRNO),
    "BIO_socket_nbio": "no page of the 50 documents it (OpenSSL 3.0 exports it undocumented); the connect and accept "
                       "BIOs set their sockets non-blocking with it",
    **dict.fromkeys((
        "SSL_CTX_sess_cb_hits",
        "SSL_CTX_sess_get_cache_size", "SSL_CTX_sess_set_cache_size", "SSL_SESSION_set_timeout"), _SETUP),
    **dict.fromkeys((
        "SSL_CIPHER_get_name", "SSL_CTX_ctrl", "SSL_CTX_get_ex_data", "SSL_CTX_get_ex_new_index",
        "SSL_CTX_get_info_callback", "SSL_CTX_get_max_cert_list", "SSL_CTX_get_max_proto_version",
        "SSL_CTX_get_min_proto_version", "SSL_CTX_get_num_tickets", "SSL_CTX_get_security_level",
        "SSL_CTX_load_verify_locations", "SSL_CTX_sess_set_remove_cb",
        "SSL_CTX_set1_groups_list", "SSL_CTX_set_cert_verify_callback",
        "SSL_CTX_set_ex_data", "SSL_CTX_set_info_callback", "SSL_CTX_set_max_cert_list",
        "SSL_CTX_set_max_proto_version", "SSL_CTX_set_min_proto_version", "SSL_CTX_set_num_tickets",
        "SSL_CTX_set_security_level",
        "SSL_CTX_use_certificate_chain_file", "SSL_SESSION_free",
        "SSL_SESSION_get_protocol_version", "SSL_SESSION_get_time", "SSL_SESSION_up_ref",
        "SSL_ctrl", "SSL_get_cipher_list", "SSL_get_current_cipher",
        "SSL_get_ex_data", "SSL_get_ex_new_index", "SSL_get_info_callback", "SSL_get_max_cert_list",
        "SSL_get_max_proto_version", "SSL_get_min_proto_version",
        "SSL_get_security_level", "SSL_get_version", "SSL_in_before", "SSL_in_init",
        "SSL_is_init_finished", "SSL_set_cipher_list", "SSL_set_ex_data",
        "SSL_set_info_callback", "SSL_set_max_cert_list", "SSL_set_max_proto_version", "SSL_set_min_proto_version",
        "SSL_set_security_level", "SSL_use_PrivateKey_file",
        "SSL_use_certificate_file", "SSL_version"), _SETUP),
}


def _public_functions() -> set[str]:
    api = EngineApi()
    return {name for name in dir(api) if not name.startswith("_") and api.has(name)
            and callable(getattr(api, name)) and not isinstance(getattr(api, name), type)}


def test_every_public_engine_function_is_named_by_a_clause_or_listed() -> None:
    named = _named_by_clauses()
    unnamed = sorted(n for n in _public_functions() if n not in named and n not in UNNAMED)
    assert not unnamed, f"public engine functions no clause names and UNNAMED does not explain: {unnamed}"


def test_unnamed_list_has_no_stale_entries() -> None:
    public, named = _public_functions(), _named_by_clauses()
    stale = sorted(n for n in UNNAMED if n not in public or n in named)
    assert not stale, f"UNNAMED lists names a clause now names or the engine no longer offers: {stale}"


def test_the_generated_api_object_is_current() -> None:
    # conformance/stacks/engine_api.py is generated from the engine modules' __all__ and ABSENT; after the engine's
    # surface changes, regenerate it with `python -m conformance.stacks.engine`
    from pathlib import Path

    import conformance.stacks.engine_api as generated
    from conformance.stacks.engine import render_api_module

    assert Path(generated.__file__).read_text() == render_api_module()
