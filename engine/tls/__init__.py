"""Sans-IO TLS 1.3 protocol core: records, handshake messages, key schedule, client and server state machines.

The public surface is :class:`TLSConnection` with its configuration, context and events; the layer modules
(``record``, ``messages``, ``keyschedule``, ``client13``, ``server13``) are importable for tests and tools.
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
    "Role",
    "TLSAlertError",
    "TLSConfig",
    "TLSConnection",
    "TLSContext",
]
