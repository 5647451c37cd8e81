"""Names the pages call macros (or header aliases), seen where a compiled C library shows it: its dynamic symbols.

A macro is expanded by the preprocessor into other calls, so a library built from those headers exports no function
under the macro's name: ``nm -D libcrypto.so.3`` has ``BIO_ctrl`` but no ``BIO_get_fd``. A library that implements
the name as a function exports it instead (under its own spelling: wolfSSL's ``wolfSSL_BIO_get_fd``), and a
program may then take its address or call it without the headers, which the page's macro forbids. The cases ask
the ctypes binding which symbol the library exports for each name (``exported_symbol``); that the name is still
callable through the C-API convention (the binding expands the macro as the 3.0 headers do) is another matter.

The reference engine is a Python package: every name is a Python function, with no C headers and no symbol table,
so "macro or function" has no meaning for it and the cases do not apply to it.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness import Harness

pytestmark = pytest.mark.needs("c_api")


def _library(h: Harness) -> Any:
    api = h.capi
    if not hasattr(api, "exported_symbol"):
        h.not_applicable(f"{h.stack.name} is not a compiled C library: its names are Python functions, with no C "
                         "headers and no exported symbols that could tell a macro from a function")
    return api


# the page -> the names it calls macros
MACROS = {
    "BIO_f_buffer": ("BIO_get_buffer_num_lines", "BIO_set_read_buffer_size", "BIO_set_write_buffer_size",
                     "BIO_set_buffer_size", "BIO_set_buffer_read_data"),
    "BIO_s_bio": ("BIO_make_bio_pair", "BIO_destroy_bio_pair", "BIO_shutdown_wr", "BIO_set_write_buf_size",
                  "BIO_get_write_buf_size", "BIO_get_write_guarantee", "BIO_get_read_request"),
    "BIO_s_fd": ("BIO_set_fd", "BIO_get_fd"),
    "BIO_should_retry": ("BIO_should_read", "BIO_should_write", "BIO_should_io_special", "BIO_retry_type",
                         "BIO_should_retry"),
    "ERR_GET_LIB": ("ERR_GET_LIB", "ERR_GET_REASON", "ERR_FATAL_ERROR"),
}
CLAUSES = {"BIO_f_buffer": "BIO_f_buffer/NOTES/macros", "BIO_s_bio": "BIO_s_bio/NOTES/macros",
           "BIO_s_fd": "BIO_s_fd/NOTES/macros", "BIO_should_retry": "BIO_should_retry/NOTES/macros",
           "ERR_GET_LIB": "ERR_GET_LIB/DESCRIPTION/macros"}


@pytest.mark.parametrize("page", [pytest.param(page, id=page, marks=pytest.mark.clauses(CLAUSES[page]))
                                  for page in MACROS])
def test_macro_names_are_not_exported_functions(h: Harness, page: str) -> None:
    """For every name the page calls a macro, the library exports no function under that name (in its own
    spelling)."""
    api = _library(h)
    names = MACROS[page]
    exported = {name: api.exported_symbol(name) for name in names}
    h.trace.note("exported symbols: " + ", ".join(f"{n} -> {s or 'none'}" for n, s in exported.items()))
    functions = sorted(f"{n} ({s})" for n, s in exported.items() if s is not None)
    assert not functions, f"the page says these are macros, but the library exports them as functions: {functions}"
    _call_one(h, api, page)


def _call_one(h: Harness, api: Any, page: str) -> None:
    """One of the page's macros called through the C-API convention on a fresh object, where the library has it:
    the name is usable although no symbol carries it (the binding expands it as the 3.0 headers do)."""
    name = {"BIO_f_buffer": "BIO_get_buffer_num_lines", "BIO_s_bio": "BIO_get_write_buf_size",
            "BIO_s_fd": "BIO_get_fd", "BIO_should_retry": "BIO_should_retry", "ERR_GET_LIB": "ERR_GET_LIB"}[page]
    maker = {"BIO_f_buffer": "BIO_f_buffer", "BIO_s_bio": "BIO_new_bio_pair", "BIO_s_fd": "BIO_s_mem",
             "BIO_should_retry": "BIO_s_mem", "ERR_GET_LIB": "ERR_GET_LIB"}[page]
    if not (api.has(name) and api.has(maker)):
        return
    if name == "ERR_GET_LIB":
        result: object = api.ERR_GET_LIB(0)
    else:
        method = {"BIO_f_buffer": api.BIO_f_buffer, "BIO_s_fd": api.BIO_s_mem,
                  "BIO_should_retry": api.BIO_s_mem}.get(page)
        if method is None:
            ret, b, other = api.BIO_new_bio_pair(0, 0)
            assert ret == 1
        else:
            b, other = api.BIO_new(method()), None
        try:
            result = getattr(api, name)(b)
        finally:
            for x in (b, other):
                if x is not None:
                    api.BIO_free(x)
    h.trace.note(f"{name} through the convention -> {result!r}")


SSLV23 = {"SSLv23_method": "TLS_method", "SSLv23_server_method": "TLS_server_method",
          "SSLv23_client_method": "TLS_client_method"}


@pytest.mark.clauses("SSL_CTX_new/NOTES/sslv23-aliases")
def test_sslv23_names_are_header_aliases_not_library_functions(h: Harness) -> None:
    """The three SSLv23_*method names are preprocessor aliases of TLS_*method: the library exports the TLS_*method
    functions and none under the SSLv23 names."""
    api = _library(h)
    tls = {alias: api.exported_symbol(name) for alias, name in SSLV23.items()}
    old = {alias: api.exported_symbol(alias) for alias in SSLV23}
    h.trace.note(f"TLS_*method symbols {tls}; SSLv23_*method symbols {old}")
    functions = sorted(f"{n} ({s})" for n, s in old.items() if s is not None)
    assert not functions, f"the page says these are aliases of TLS_*method, but the library exports them as " \
        f"functions of their own: {functions}"
    assert all(tls.values()), f"the library exports no TLS_*method function for some of the aliases: {tls}"
    for alias, name in SSLV23.items():  # through the C-API convention the alias is the TLS_*method call
        got, want = getattr(api, alias)(), getattr(api, name)()
        h.trace.note(f"through the convention {alias}() -> {got!r}, {name}() -> {want!r}")
        assert got is not None, f"{alias}() (expanded to {name}) returned NULL"


@pytest.mark.clauses("SSL_CTX_new/NOTES/sslv23-aliases")
def test_sslv23_methods_are_the_tls_methods(h: Harness) -> None:
    """Where the SSLv23 names are functions of their own (the engine's Python functions; a C library exporting
    them), each gives the very method its TLS_*method function gives: an alias, not a method of its own."""
    api = h.capi
    exported = getattr(api, "exported_symbol", None)
    own = [alias for alias in SSLV23 if api.has(alias) and (exported is None or exported(alias) is not None)]
    if not own:
        h.not_applicable(f"{h.stack.name} has no SSLv23_*method function of its own: the binding expands the "
                         "names as the 3.0 header does (to TLS_*method), which is what "
                         "test_sslv23_names_are_header_aliases_not_library_functions checks")
    for alias in own:
        got, want = getattr(api, alias)(), getattr(api, SSLV23[alias])()
        h.trace.note(f"{alias}() -> {got!r}; {SSLV23[alias]}() -> {want!r}")
        assert got is not None and got == want, f"{alias}() gave {got!r}, {SSLV23[alias]}() gave {want!r}"
