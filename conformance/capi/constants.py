"""The constants of the C-API tier: the values of the OpenSSL 3.0 headers, shared with the engine.

SSL-level constants (``SSL_ERROR_*``, ``SSL_MODE_*``, ``SSL_OP_*``, ``SSL_CTRL_*``, protocol versions, ``SSL_R_*``,
the error-code layout) live in :mod:`engine.ssl.constants`. BIO-level constants (``BIO_*``) live in
``engine.bio.constants``; that module is written separately, so it is re-exported here only when it exists at import
time (no silent fallback values are defined here: a case that needs a BIO constant needs that module).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from engine.ssl.constants import *  # noqa: F403  (re-export: this module is the cases' single source of constants)
from engine.ssl.constants import __all__ as _ssl_all

__all__ = list(_ssl_all)


def _reexport(module_name: str) -> None:
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return
    module = importlib.import_module(module_name)
    names: list[str] = list(getattr(module, "__all__", [n for n in vars(module) if n.isupper() or n[:1].isupper()]))
    namespace: dict[str, Any] = globals()
    for name in names:
        if name not in namespace:
            namespace[name] = getattr(module, name)
            __all__.append(name)


_reexport("engine.bio.constants")
