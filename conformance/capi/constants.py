"""The constants of the C-API tier: the values of the OpenSSL 3.0 headers, shared with the engine.

SSL-level constants (``SSL_ERROR_*``, ``SSL_MODE_*``, ``SSL_OP_*``, ``SSL_CTRL_*``, protocol versions, ``SSL_R_*``,
the error-code layout) live in :mod:`engine.ssl.constants`, BIO-level constants (``BIO_*``) in
:mod:`engine.bio.constants`; both are re-exported here statically, so the type checker sees every name a case uses.
"""

from __future__ import annotations

from engine.bio.constants import *  # noqa: F403  (re-export: this module is the cases' single source of constants)
from engine.bio.constants import __all__ as _bio_all
from engine.ssl.constants import *  # noqa: F403
from engine.ssl.constants import __all__ as _ssl_all

__all__ = [*_ssl_all, *_bio_all]
