"""LAN sync: accept and start sessions over mutual TLS 1.3, find peers with zeroconf.

`SyncServer` listens (and, given an interface address, advertises
``_fieldapp._tcp.local.``); `sync_with` connects to one peer; `find_peers`
browses for the station's devices. The TXT record carries the protocol
version, a hash of the station id and the device id: no names.

Every connection is TLS 1.3 with both certificates required to chain to the
station's CA (`sync.tls`). Right after the handshake each side reads the
other's certificate (device id, station) and refuses a revoked device with a
readable reason before any data is exchanged; then `sync.session` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import ssl
from collections.abc import Callable
from typing import Any

from sync.certs import CertificateError
from sync.discovery import Advertiser, PeerBrowser
from sync.frames import tls_reason
from sync.session import IO_TIMEOUT, PROTOCOL, Endpoint, Progress, SessionReport, refuse, run_session
from sync.tls import TlsMaterial, client_context, peer_identity, server_context

SERVICE_TYPE = "_fieldapp._tcp.local."
HANDSHAKE_TIMEOUT = 10.0
#: (kind, data) events a server reports: "listening", "session" (one finished, with its report),
#: "refused"; and "started" (a session past its handshake) and "progress" (after each batch: received,
#: to_receive, sent, to_send) if asked for (`announce_sessions`).
Events = Callable[[str, dict[str, Any]], None]


def station_tag(station_id: str) -> str:
    """What the TXT record says of the station: a hash, so the id itself is not broadcast."""
    return hashlib.sha256(station_id.encode()).hexdigest()[:16]


def txt_record(station_id: str, device_id: str) -> dict[str, str]:
    return {"v": str(PROTOCOL), "st": station_tag(station_id), "id": device_id}


def _keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _handshake_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (
                "the peer's certificate was not issued by this station (it belongs to another "
                "station, or to no station)"
            )
        return tls_reason(exc)
    if isinstance(exc, TimeoutError):
        return "the secure handshake timed out"
    return f"the connection was lost during the handshake ({type(exc).__name__})"


def _handshake_code(exc: BaseException) -> str:
    """`_handshake_reason` as a stable code, for the sync ledger (docs/sync.md, "The sync ledger")."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "foreign_certificate"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, TimeoutError):
        return "handshake_timeout"
    return "handshake_lost"


class SyncServer:
    """Accept sync sessions from the station's devices, several at once."""

    def __init__(
        self,
        endpoint: Endpoint,
        material: TlsMaterial,
        host: str,
        port: int = 0,
        advertise: bool = False,
        on_event: Events | None = None,
        io_timeout: float = IO_TIMEOUT,
        announce_sessions: bool = False,
    ) -> None:
        self.endpoint, self.material = endpoint, material
        #: Also report "started" when a session is past its handshake (what is in progress).
        self.announce_sessions = announce_sessions
        self.host, self.port, self.advertise = host, port, advertise
        self.on_event = on_event or (lambda kind, data: None)
        self.io_timeout = io_timeout
        self._context = server_context(material)
        self._server: asyncio.Server | None = None
        self._advertiser: Advertiser | None = None
        self._sessions: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.advertise:
            self._advertiser = Advertiser(SERVICE_TYPE, self.host)
            await self._advertiser.publish(
                "fieldapp", self.port, txt_record(self.material.station_id, self.endpoint.device_id)
            )
        self.on_event(
            "listening", {"host": self.host, "port": self.port, "device_id": self.endpoint.device_id}
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await self._serve_one(reader, writer)
        except asyncio.CancelledError:
            # close() stopped the server mid-session: end quietly. Re-raised, the cancellation
            # reaches 3.11's start_server callback, whose task.exception() raises for a
            # cancelled task and prints a traceback when `fieldapp serve` is stopped.
            writer.close()
        finally:
            self._sessions.discard(task)

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("peername")
        where = f"{address[0]}:{address[1]}" if address else "unknown address"
        _keepalive(writer)
        try:
            # Not in wait_for: start_tls in another task stalls (CPython 3.11); TLS has its own timeout.
            await writer.start_tls(self._context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
            peer = peer_identity(writer.get_extra_info("ssl_object"), self.material)
        except CertificateError as exc:
            await self.endpoint.remember_refusal(where, "certificate", str(exc))
            self.on_event("refused", {"address": where, "reason": str(exc)})
            await refuse(writer, f"refused: {exc}")
            return
        except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
            await self.endpoint.remember_refusal(where, _handshake_code(exc), _handshake_reason(exc))
            self.on_event("refused", {"address": where, "reason": _handshake_reason(exc)})
            writer.close()
            return
        progress: Progress | None = None
        if self.announce_sessions:
            self.on_event("started", {"address": where, "device_id": peer.device_id})

            def progress(report: SessionReport) -> None:
                counts = {k: getattr(report, k) for k in ("received", "to_receive", "sent", "to_send")}
                self.on_event("progress", {"address": where, "device_id": peer.device_id, **counts})

        report = await run_session(
            reader, writer, self.endpoint, peer.device_id, self.io_timeout, progress, side="server"
        )
        self.on_event("session", {"address": where, **report.as_json()})

    async def close(self) -> None:
        if self._advertiser is not None:
            await self._advertiser.withdraw()
            await self._advertiser.close()
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        for task in list(self._sessions):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> SyncServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def sync_with(
    host: str,
    port: int,
    endpoint: Endpoint,
    material: TlsMaterial,
    timeout: float = IO_TIMEOUT,
    progress: Progress | None = None,
    expected_device: str | None = None,
) -> SessionReport:
    """One session with the peer at host:port; errors end up in the report, never raised."""
    label = expected_device or f"{host}:{port}"
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host,
                port,
                ssl=client_context(material),
                server_hostname="fieldapp",
                ssl_handshake_timeout=timeout,
            ),
            timeout,
        )
    except (ssl.SSLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = _handshake_reason(exc)
        if isinstance(exc, ConnectionRefusedError):
            reason = f"nothing is listening at {host}:{port} (is `fieldapp serve` running there?)"
        elif isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError | ConnectionError):
            reason = f"cannot reach {host}:{port} ({exc.strerror or type(exc).__name__})"
        return SessionReport(peer=label, error=reason)
    _keepalive(writer)
    try:
        peer = peer_identity(writer.get_extra_info("ssl_object"), material)
    except CertificateError as exc:
        await refuse(writer, f"refused: {exc}")
        return SessionReport(peer=label, error=f"refused: {exc}")
    if expected_device and peer.device_id != expected_device:
        await refuse(writer, "refused: not the device that was advertised")
        return SessionReport(peer=label, error="the peer is not the device that was advertised")
    return await run_session(reader, writer, endpoint, peer.device_id, timeout, progress)


def wanted_by(station_id: str, own_device: str) -> Callable[[dict[str, str | None]], bool]:
    """The TXT test for "another device of this station", whatever protocol version it advertises.

    A device of another major version is still found: its hello then refuses the session
    with `protocol_major` on both sides (docs/sync.md, "Versions"), which tells both officers
    to update, where leaving it out of discovery would say only that no device answered.
    """
    tag = station_tag(station_id)

    def wanted(props: dict[str, str | None]) -> bool:
        version = props.get("v")
        return (
            version is not None
            and version.isdigit()
            and props.get("st") == tag
            and props.get("id") != own_device
        )

    return wanted


async def find_peers(
    interface: str, station_id: str, own_device: str, wait: float
) -> dict[str, tuple[str, int]]:
    """device id -> (address, port) of the station's devices advertising on the LAN within `wait` seconds."""
    browser = PeerBrowser(SERVICE_TYPE, interface, wanted_by(station_id, own_device))
    await browser.start()
    try:
        await asyncio.sleep(wait)
        return {str(props["id"]): address for address, props in browser.peers.values()}
    finally:
        await browser.close()
