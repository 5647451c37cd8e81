"""Sans-IO TLS 1.3 and TLS 1.2 protocol core: records, handshake messages, key schedules, client and server state
machines per version.

The public surface is :class:`TLSConnection` with its configuration, context and events; the layer modules
(``record``, ``messages``/``messages12``, ``keyschedule``/``prf12``, ``client13``/``server13`` and
``client12``/``server12`` with their shared ``handshake``/``handshake12``) are importable for tests and tools.
"""

from .alerts import AlertDescription, TLSAlertError
from .config import TLSConfig, TLSContext
from .connection import Role, TLSConnection
from .events import (
    NEED_DATA,
    AlertReceived,
    ApplicationData,
    CertificateReceived,
    CertificateRequested,
    CloseNotifyReceived,
    Event,
    HandshakeComplete,
    KeyUpdateReceived,
    NewSessionTicketReceived,
    PostHandshakeAuthDone,
    RenegotiationRefused,
)

__all__ = [
    "NEED_DATA",
    "AlertDescription",
    "AlertReceived",
    "ApplicationData",
    "CertificateReceived",
    "CertificateRequested",
    "CloseNotifyReceived",
    "Event",
    "HandshakeComplete",
    "KeyUpdateReceived",
    "NewSessionTicketReceived",
    "PostHandshakeAuthDone",
    "RenegotiationRefused",
    "Role",
    "TLSAlertError",
    "TLSConfig",
    "TLSConnection",
    "TLSContext",
]
