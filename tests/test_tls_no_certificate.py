"""A client that presents no certificate: the server says the peer presented none.

The client is plain `ssl` on a socket (TLS 1.3, no certificate, no verification), as a
second implementation or a port scanner would connect; loopback only.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.station import tls_material
from harness.replicas import station_devices
from sync.lan import SyncServer
from sync.session import Endpoint

HOST = "127.0.0.1"


def connect_without_certificate(port: int) -> str:
    """Complete the client's side of a TLS 1.3 handshake with no certificate; what it then reads."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((HOST, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="fieldapp") as tls,
    ):
        try:
            # In TLS 1.3 the server judges the client's (missing) certificate after the
            # client's handshake is done: its alert arrives on the first read.
            return repr(tls.recv(1))
        except (ssl.SSLError, ConnectionError) as exc:
            return getattr(exc, "reason", None) or type(exc).__name__


@pytest.mark.timeout(60)
def test_a_client_without_a_certificate_is_reported_as_presenting_none(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        material = tls_material(authority)
        assert material is not None
        before = authority.replica.vector()

        async def attempt() -> tuple[str, dict[str, Any]]:
            refused = asyncio.Event()
            events: list[tuple[str, dict[str, Any]]] = []

            def on_event(kind: str, data: dict[str, Any]) -> None:
                events.append((kind, data))
                if kind == "refused":
                    refused.set()

            async with SyncServer(Endpoint(authority.replica), material, HOST, on_event=on_event) as server:
                seen = await asyncio.to_thread(connect_without_certificate, server.port)
                await refused.wait()
            return seen, dict(events)

        client_saw, events = asyncio.run(attempt())
        assert "session" not in events
        reason = events["refused"]["reason"]
        assert reason.startswith("the peer presented no certificate"), reason
        assert "refused this device's certificate" not in reason
        # Nothing reaches the client but the end of the connection (or the alert itself).
        assert client_saw in ("b''", "TLSV13_ALERT_CERTIFICATE_REQUIRED"), client_saw
        assert authority.replica.vector() == before
