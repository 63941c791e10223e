"""TLS 1.3 only, seen from the wire: real handshakes against a peer written with plain `ssl`.

Reading `minimum_version` from a context proves nothing about what the sync server and the
sync client really accept. Here a plain `ssl` client capped at TLS 1.2, holding a genuine
certificate of the same station, handshakes with the real `SyncServer` (the code path of
`fieldapp serve`), and the device's real `sync_with` meets a plain `ssl` server capped at
TLS 1.2. Both must fail. The same peers capped at TLS 1.3 must complete their handshake, so
the refusal is shown to be about the version and nothing else.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldapp.core.service import CaseService
from fieldapp.core.station import tls_material
from harness.replicas import station_devices
from sync.lan import SyncServer, sync_with
from sync.session import Endpoint
from sync.tls import TlsMaterial

HOST = "127.0.0.1"


def material(service: CaseService) -> TlsMaterial:
    found = tls_material(service)
    assert found is not None
    return found


def plain_context(own: TlsMaterial, folder: Path, *, server: bool, highest: ssl.TLSVersion) -> ssl.SSLContext:
    """A stock `ssl` context holding a genuine certificate of the station, capped at `highest`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = highest
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    ca_pem = x509.load_der_x509_certificate(own.ca_der).public_bytes(serialization.Encoding.PEM)
    context.load_verify_locations(cadata=ca_pem.decode())
    chain = folder / f"{'server' if server else 'client'}-{highest.name}.pem"
    cert_pem = x509.load_der_x509_certificate(own.cert_der).public_bytes(serialization.Encoding.PEM)
    key_pem = Ed25519PrivateKey.from_private_bytes(own.private_key).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain.write_bytes(cert_pem + key_pem)  # fake test keys, in the test's own temporary folder
    context.load_cert_chain(chain)
    return context


def plain_handshake(port: int, context: ssl.SSLContext) -> str:
    """Connect and handshake with blocking `socket` + `ssl`; the version agreed, or the error."""
    with socket.create_connection((HOST, port), timeout=10) as raw:
        try:
            with context.wrap_socket(raw) as tls:
                return str(tls.version())
        except (ssl.SSLError, ConnectionError) as exc:
            return f"failed: {exc}"


@pytest.mark.timeout(60)
def test_the_sync_server_refuses_a_tls_1_2_client_with_a_valid_certificate(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        events: list[tuple[str, dict[str, Any]]] = []

        async def scenario() -> tuple[str, str]:
            server = SyncServer(
                Endpoint(authority.replica),
                material(authority),
                HOST,
                on_event=lambda kind, data: events.append((kind, data)),
            )
            async with server:
                capped = plain_context(
                    material(officer), tmp_path, server=False, highest=ssl.TLSVersion.TLSv1_2
                )
                old = await asyncio.to_thread(plain_handshake, server.port, capped)
                modern = plain_context(
                    material(officer), tmp_path, server=False, highest=ssl.TLSVersion.TLSv1_3
                )
                new = await asyncio.to_thread(plain_handshake, server.port, modern)
                while len(events) < 2:  # the server reports each connection once it is over with
                    await asyncio.sleep(0.01)
            return old, new

        old, new = asyncio.run(scenario())
        assert old.startswith("failed"), f"a TLS 1.2 client completed a handshake ({old})"
        assert new == "TLSv1.3"  # the same certificate over TLS 1.3 is accepted
        refused = [data for kind, data in events if kind == "refused"]
        assert refused and "secure connection failed" in refused[0]["reason"], events


@pytest.mark.timeout(60)
def test_the_sync_client_refuses_a_tls_1_2_server_with_a_valid_certificate(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):

        async def against(highest: ssl.TLSVersion) -> tuple[str | None, list[str]]:
            handshakes: list[str] = []

            async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                # Called only once the TLS handshake completed; then hang up at once.
                handshakes.append(str(writer.get_extra_info("ssl_object").version()))
                writer.close()

            context = plain_context(material(authority), tmp_path, server=True, highest=highest)
            server = await asyncio.start_server(accepted, HOST, 0, ssl=context)
            async with server:
                port = server.sockets[0].getsockname()[1]
                report = await sync_with(HOST, port, Endpoint(officer.replica), material(officer), timeout=10)
            return report.error, handshakes

        error, handshakes = asyncio.run(against(ssl.TLSVersion.TLSv1_2))
        assert handshakes == [], "the device's sync client completed a TLS 1.2 handshake"
        assert error is not None
        _, handshakes = asyncio.run(against(ssl.TLSVersion.TLSv1_3))
        assert handshakes == ["TLSv1.3"]  # the same server, allowed TLS 1.3, is reached
