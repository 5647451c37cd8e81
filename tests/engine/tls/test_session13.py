"""TLS 1.3 tickets and PSK resumption (engine/tls/session13.py and its use in client13 / server13)."""

from __future__ import annotations

import datetime
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tls13_testlib import PKI, client_config, pump, server_config

from engine.tls import HandshakeComplete, NewSessionTicketReceived, TLSAlertError, TLSConfig, TLSConnection, TLSContext
from engine.tls.alerts import AlertDescription
from engine.tls.messages import ExtensionType, HandshakeType
from engine.tls.session13 import OfferedPsks, PskIdentity, Ticket13, TicketSealer, TicketState13

T0 = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now


def _run(pki: PKI, sealer: TicketSealer, clock: Clock, ticket: Ticket13 | None = None, **server_kw: object
         ) -> tuple[TLSConnection, TLSConnection, list[object], list[object]]:  # fmt: skip
    c = TLSConnection(client_config(pki, resume_ticket13=ticket), "client", TLSContext(now=clock))
    s = TLSConnection(server_config(pki, ticket_sealer=sealer, session_tickets=2, **server_kw), "server",
                      TLSContext(now=clock))  # fmt: skip
    c.start_handshake()
    pump(c, s)
    return c, s, c.events(), s.events()


def _complete(events: list[object]) -> HandshakeComplete:
    return next(e for e in events if isinstance(e, HandshakeComplete))


def _tickets(events: list[object]) -> list[Ticket13]:
    return [e.session13 for e in events if isinstance(e, NewSessionTicketReceived) and e.session13 is not None]


@pytest.fixture
def sealer() -> TicketSealer:
    return TicketSealer(os.urandom(32), os.urandom)


def test_full_handshake_issues_the_configured_number_of_tickets(pki: PKI, sealer: TicketSealer) -> None:
    _, _, cev, sev = _run(pki, sealer, Clock())
    assert not _complete(cev).resumed and not _complete(sev).resumed
    tickets = _tickets(cev)
    assert len(tickets) == 2
    assert tickets[0].ticket != tickets[1].ticket
    assert tickets[0].peer_chain, "the client keeps the server's chain with the ticket"


def test_ticket_resumes_with_psk_dhe_ke_and_no_certificate(pki: PKI, sealer: TicketSealer) -> None:
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    ticket = _tickets(cev)[0]
    clock.now += datetime.timedelta(seconds=30)
    c, s, cev2, sev2 = _run(pki, sealer, clock, ticket)
    assert _complete(cev2).resumed and _complete(sev2).resumed
    assert _complete(cev2).peer_certificates == list(ticket.peer_chain)
    assert len(_tickets(cev2)) == 2, "a resumed handshake issues new tickets too"
    c.send_application_data(b"ping")
    pump(c, s)
    assert any(getattr(e, "data", None) == b"ping" for e in s.events())


def test_expired_ticket_is_not_offered(pki: PKI, sealer: TicketSealer) -> None:
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    ticket = _tickets(cev)[0]
    clock.now += datetime.timedelta(seconds=ticket.lifetime + 1)
    _, _, cev2, sev2 = _run(pki, sealer, clock, ticket)
    assert not _complete(cev2).resumed and not _complete(sev2).resumed


def test_server_ignores_a_ticket_past_its_own_lifetime(pki: PKI, sealer: TicketSealer) -> None:
    """The server's lifetime is shorter than the client believes: the server falls back to a full handshake."""
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock, ticket_lifetime=10)
    ticket = _tickets(cev)[0]
    forged = Ticket13(ticket.ticket, ticket.psk, ticket.cipher_suite, ticket.hash_len, ticket.age_add, 3600,
                      ticket.received, peer_chain=ticket.peer_chain)  # fmt: skip
    clock.now += datetime.timedelta(seconds=11)
    _, _, cev2, sev2 = _run(pki, sealer, clock, forged)
    assert not _complete(cev2).resumed and not _complete(sev2).resumed


def test_ticket_of_another_server_key_gives_a_full_handshake(pki: PKI, sealer: TicketSealer) -> None:
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    other = TicketSealer(os.urandom(32), os.urandom)
    _, _, cev2, sev2 = _run(pki, other, clock, _tickets(cev)[0])
    assert not _complete(cev2).resumed and not _complete(sev2).resumed


def test_bad_binder_is_decrypt_error(pki: PKI, sealer: TicketSealer) -> None:
    """RFC 9846 section 4.3.11: a selected PSK whose binder does not verify aborts the handshake."""
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    t = _tickets(cev)[0]
    wrong = Ticket13(t.ticket, bytes(len(t.psk)), t.cipher_suite, t.hash_len, t.age_add, t.lifetime, t.received)
    c = TLSConnection(client_config(pki, resume_ticket13=wrong), "client", TLSContext(now=clock))
    s = TLSConnection(server_config(pki, ticket_sealer=sealer), "server", TLSContext(now=clock))
    c.start_handshake()
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
    assert info.value.alert == AlertDescription.decrypt_error


def test_pre_shared_key_not_last_is_illegal_parameter(pki: PKI, sealer: TicketSealer) -> None:
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    cfg = client_config(pki, resume_ticket13=_tickets(cev)[0], extra_extensions=())
    c = TLSConnection(cfg, "client", TLSContext(now=clock))
    c.start_handshake()
    record = bytearray(c.data_to_send())
    # move a harmless extension (padding, empty) after pre_shared_key by appending it and fixing the lengths
    tail = bytes((0, ExtensionType.padding, 0, 0))
    assert record[5] == HandshakeType.client_hello
    record += tail
    record[3:5] = (int.from_bytes(record[3:5], "big") + 4).to_bytes(2, "big")
    record[6:9] = (int.from_bytes(record[6:9], "big") + 4).to_bytes(3, "big")
    # the extensions block length sits before the first extension: find it from the hello's fixed part
    pos = 9 + 2 + 32
    pos += 1 + record[pos]
    pos += 2 + int.from_bytes(record[pos:pos + 2], "big")
    pos += 1 + record[pos]
    record[pos:pos + 2] = (int.from_bytes(record[pos:pos + 2], "big") + 4).to_bytes(2, "big")
    s = TLSConnection(server_config(pki, ticket_sealer=sealer), "server", TLSContext(now=clock))
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(bytes(record))
    assert info.value.alert == AlertDescription.illegal_parameter


def test_resumption_after_hello_retry_request(pki: PKI, sealer: TicketSealer) -> None:
    """The second ClientHello's binder covers ClientHello1, the HelloRetryRequest and the truncated hello."""
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    ticket = _tickets(cev)[0]
    c = TLSConnection(client_config(pki, resume_ticket13=ticket, key_share_groups=(0x001D,)), "client",
                      TLSContext(now=clock))  # fmt: skip
    s = TLSConnection(server_config(pki, ticket_sealer=sealer, groups=(0x0017, 0x001D)), "server",
                      TLSContext(now=clock))  # fmt: skip
    c.start_handshake()
    pump(c, s)
    done_c, done_s = _complete(c.events()), _complete(s.events())
    assert done_c.hello_retry_request and done_c.resumed and done_s.resumed


@given(st.lists(st.tuples(st.binary(min_size=1, max_size=40), st.integers(0, 2**32 - 1)), min_size=1, max_size=4),
       st.sampled_from([32, 48]))
def test_offered_psks_round_trip(ids: list[tuple[bytes, int]], n: int) -> None:
    offered = OfferedPsks([PskIdentity(i, a) for i, a in ids], [bytes([k]) * n for k in range(len(ids))])
    assert OfferedPsks.parse(offered.build()) == offered


@given(st.binary(min_size=32, max_size=48), st.integers(0, 2**63), st.binary(max_size=10) | st.none(),
       st.text(max_size=20) | st.none())
def test_ticket_state_seals_and_opens(psk: bytes, issued: int, alpn: bytes | None, sni: str | None) -> None:
    state = TicketState13(psk, 0x1301, issued, 7, 7200, alpn, sni)
    sealer = TicketSealer(bytes(32), os.urandom)
    sealed = sealer.seal(state)
    assert sealer.open(sealed) == state
    assert sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
    assert TicketSealer(bytes([1]) * 32, os.urandom).open(sealed) is None


def test_client_offering_no_psk_dhe_ke_offers_no_ticket(pki: PKI, sealer: TicketSealer) -> None:
    clock = Clock()
    _, _, cev, _ = _run(pki, sealer, clock)
    cfg: TLSConfig = client_config(pki, resume_ticket13=_tickets(cev)[0], psk_key_exchange_modes=(0,))
    c = TLSConnection(cfg, "client", TLSContext(now=clock))
    s = TLSConnection(server_config(pki, ticket_sealer=sealer), "server", TLSContext(now=clock))
    c.start_handshake()
    pump(c, s)
    assert not _complete(c.events()).resumed


# -- RFC 9846 section 4.3.10: a server that takes no early data skips it -------------------------------------------

EARLY = ((ExtensionType.early_data, b""),)


def _fake_early_records(sizes: list[int]) -> bytes:
    return b"".join(b"\x17\x03\x03" + n.to_bytes(2, "big") + os.urandom(n) for n in sizes)


def _early_pair(pki: PKI, hrr: bool = False, limit: int = 16384) -> tuple[TLSConnection, TLSConnection]:
    ckw: dict[str, object] = {"extra_extensions": EARLY}
    skw: dict[str, object] = {"max_early_data_skip": limit}
    if hrr:
        ckw["key_share_groups"] = (0x001D,)
        skw["groups"] = (0x0017, 0x001D)
    c = TLSConnection(client_config(pki, **ckw), "client", TLSContext())
    s = TLSConnection(server_config(pki, **skw), "server", TLSContext())
    return c, s


@pytest.mark.parametrize("hrr", [False, True])
def test_server_skips_early_data_it_cannot_use(pki: PKI, hrr: bool) -> None:
    """Early data after the ClientHello (records that do not decrypt; after a HelloRetryRequest, application_data
    records) is dropped, and the handshake completes."""
    c, s = _early_pair(pki, hrr)
    c.start_handshake()
    s.receive_bytes(c.data_to_send() + _fake_early_records([1000, 3000, 17]))
    pump(c, s)
    assert _complete(c.events()) and _complete(s.events()).hello_retry_request == hrr


@pytest.mark.parametrize("hrr", [False, True])
def test_early_data_past_the_limit_fails(pki: PKI, hrr: bool) -> None:
    c, s = _early_pair(pki, hrr, limit=2000)
    c.start_handshake()
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send() + _fake_early_records([1500, 1500]))
    # past the limit the record is judged as usual: it does not decrypt, or it is application data before keys
    want = AlertDescription.unexpected_message if hrr else AlertDescription.bad_record_mac
    assert info.value.alert == want


def test_undecryptable_records_without_early_data_offer_are_bad_record_mac(pki: PKI) -> None:
    c = TLSConnection(client_config(pki), "client", TLSContext())
    s = TLSConnection(server_config(pki), "server", TLSContext())
    c.start_handshake()
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(c.data_to_send())
        s.receive_bytes(_fake_early_records([100]))
    assert info.value.alert in (AlertDescription.bad_record_mac, AlertDescription.unexpected_message)


def test_skipping_ends_with_the_first_record_that_decrypts(pki: PKI) -> None:
    """Once a record of the client's second flight has decrypted, a record that does not is bad_record_mac again
    (here between the client's Certificate and CertificateVerify, each in a record of its own)."""
    c = TLSConnection(client_config(pki, extra_extensions=EARLY, record_per_message=True, middlebox_compat=False,
                                    certificate_chain=[pki.client.cert], private_key=pki.client.key),
                      "client", TLSContext())  # fmt: skip
    s = TLSConnection(server_config(pki, request_client_certificate=True), "server", TLSContext())
    c.start_handshake()
    s.receive_bytes(c.data_to_send() + _fake_early_records([200]))
    c.receive_bytes(s.data_to_send())
    flight = _split_records(c.data_to_send())
    assert len(flight) >= 3, flight
    s.receive_bytes(flight[0])
    with pytest.raises(TLSAlertError) as info:
        s.receive_bytes(_fake_early_records([200]))
    assert info.value.alert == AlertDescription.bad_record_mac


def _split_records(data: bytes) -> list[bytes]:
    out = []
    while data:
        n = 5 + int.from_bytes(data[3:5], "big")
        out.append(data[:n])
        data = data[n:]
    return out
