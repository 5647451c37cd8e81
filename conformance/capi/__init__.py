"""The C API tier: OpenSSL's function names, called from Python with one fixed convention.

Two kinds of object implement this surface: the reference ``engine`` (pure Python) and real OpenSSL-ABI libraries
reached through ``ctypes`` (``conformance.capi.libssl``). A C-API case is written once against the convention below
and runs unchanged on both.

Convention
==========

* Every function or macro of the pages is a method of the api object with exactly the OpenSSL name:
  ``api.SSL_read(ssl, 5)``, ``api.BIO_get_write_guarantee(bio)``, ``api.ERR_get_error()``. Macros that OpenSSL
  implements through ``BIO_ctrl`` / ``SSL_ctrl`` are methods too; the ctypes binding issues the ctrl with the command
  numbers of the 3.0 headers.
* Handles (``SSL *``, ``SSL_CTX *``, ``BIO *``, ``BIO_ADDR *``, ``SSL_METHOD *``) are opaque Python objects. ``NULL``
  is ``None``, both as argument and as result. Callers never look inside a handle.
* ``int`` / ``size_t`` / ``long`` results are Python ints, exactly what the C function returned (no exceptions for
  failures: a failure is the documented return value plus an error-queue entry).
* Input buffers are ``bytes``; their length argument is implied by ``len(data)`` unless the C function takes a
  separate length that a case may want to set differently, in which case it is an optional trailing keyword
  (``BIO_write(bio, data, dlen=None)``).
* Output parameters are returned after the return value, as a tuple, in the C parameter order:
  ``BIO_read(bio, size) -> (ret, data)``, ``SSL_read_ex(ssl, num) -> (ret, data)`` (``readbytes == len(data)``),
  ``SSL_write_ex(ssl, data) -> (ret, written)``, ``BIO_new_bio_pair(size1, size2) -> (ret, bio1, bio2)``.
  For ``BIO_read``/``SSL_read`` style functions ``data`` is the bytes actually placed in the buffer (``b""`` when
  the return value is <= 0).
* A write retried with the same bytes reuses the same buffer, as a C program repeating the call with the same
  arguments does; ``SSL_write(ssl, data, moved=True)`` (and ``SSL_write_ex``) passes the same bytes from a new
  address, to exercise SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER.
* Callbacks are Python callables taking the handle(s) and returning the C callback's int
  (``SSL_CTX_set_client_cert_cb(ctx, lambda ssl: -1)``). A callback with output parameters returns them after
  the int, as functions do: ``SSL_CTX_set_alpn_select_cb(ctx, cb)`` with ``cb(ssl, offered) -> (ret, selected)``
  (``offered``: the client's list; ``ret``: ``SSL_TLSEXT_ERR_OK`` / ``_ALERT_FATAL`` / ``_NOACK``). An in/out
  parameter comes in as an argument and goes out after the int: the servername callback is
  ``cb(ssl, al, arg) -> ret`` or ``-> (ret, al)`` (``al`` arrives as ``SSL_AD_UNRECOGNIZED_NAME``; ``arg`` is the
  object given to ``SSL_CTX_set_tlsext_servername_arg``). ``SSL_select_next_proto(server, client) -> (ret, out)``.
  The client-certificate callback is ``cb(ssl) -> ret`` (out parameters left NULL) or ``-> (ret, x509, pkey)``
  (``X509`` and ``EVP_PKEY`` handles written to its ``X509 **`` / ``EVP_PKEY **``; one reference of each is handed
  over, as in C: the library releases them). ``PEM_read_bio_X509(bio)`` / ``PEM_read_bio_PrivateKey(bio)`` (``x``,
  ``cb``, ``u`` NULL) give such handles; ``EVP_PKEY_free`` releases a key.
* A ``STACK_OF(X509_NAME) *`` result is a Python list of ``X509_NAME`` handles owned by the object it came from
  (``None`` for NULL): ``SSL_get_client_CA_list(ssl)``.
* ALPN lists are ``bytes`` in wire format (length-prefixed names): ``SSL_set_alpn_protos(ssl, b"\\x02h2")`` (0 on
  success, as in C); ``SSL_get0_alpn_selected(ssl) -> bytes`` (``b""``: none). ``X509_NAME_oneline(name, size=256)
  -> str``; ``SSL_get1_peer_certificate`` hands over a reference the caller releases with ``X509_free``.
* Socket descriptors are ints (``-1`` is INVALID_SOCKET). ``errno`` after a failing call: ``api.errno()``.
* Constants come from :mod:`conformance.capi.constants` (values of the OpenSSL 3.0 headers).
* Misuse that C would allow but that would crash a real library (double free, use after free) is not called on
  ``libssl``; the engine answers it with the documented failure return and an error-queue entry.
* Nothing raises for a documented failure. A Python exception escaping a call is a harness/stack *error* verdict.
"""
