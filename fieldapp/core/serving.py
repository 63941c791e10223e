"""Serving the station's syncs: the one server that `fieldapp serve` (headless) and the app's
station mode (`fieldapp station open`, F6 in the app) share.

`Serving` runs `sync.lan.SyncServer` on this device's one service (listening on the interface
given and advertised there by zeroconf, or on every address and not advertised) and keeps a
`ServeStatus` of what it has done, which the app draws. The address and port the app served on
last are remembered per device in the store's `local` table (never synced), so that switching
station mode on again is one key.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from fieldapp.core.net import NetCliError, _keyed, interface_arg
from fieldapp.core.service import CaseService
from fieldapp.core.station import tls_material
from fieldapp.i18n import Translator
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the messages used here)
from fieldapp.i18n import station_mode as _station_strings  # noqa: F401  (and these)
from storage import KeyedTable
from sync.lan import SyncServer
from sync.session import Endpoint, SessionReport

#: The `local` document remembering where this device last served from the app.
SERVING_DOC = "station_mode"
#: (kind, data) of a server event: "listening", "started", "progress", "session", "refused".
Events = Callable[[str, dict[str, Any]], None]


class ServeError(NetCliError):
    """Serving could not start; the message says what to do."""

    code = "sync_error"  # as `fieldapp serve` always said (docs/sync.md)


@dataclass(frozen=True)
class Transfer:
    """A session in progress: which device, from where, and how far its exchange has got."""

    address: str
    device_id: str
    #: Operations received so far, and how many the device's vector said it would send.
    received: int = 0
    to_receive: int = 0
    #: Operations this computer sent so far, and how many it has to send.
    sent: int = 0
    to_send: int = 0


@dataclass(frozen=True)
class ServeStatus:
    """What a running server is doing, for a screen to draw."""

    #: The address listened on ("0.0.0.0": every address) and the port.
    host: str
    port: int
    #: Whether zeroconf advertises it (only on an interface given).
    advertised: bool
    #: Sessions past the handshake and not finished; finished (well or not); refused connections.
    running: int = 0
    done: int = 0
    failed: int = 0
    refused: int = 0
    #: The last refusal's reason as the server gave it (rendered by `sync_error_text`).
    last_refusal: str = ""
    #: The sessions in progress, in the order they started (the shift board's progress bars).
    transfers: tuple[Transfer, ...] = ()


def report_of(data: dict[str, Any]) -> SessionReport:
    """The SessionReport of a "session" event (what `SessionReport.as_json` gave)."""
    fields = SessionReport.__dataclass_fields__
    report = SessionReport(
        **{k: v for k, v in data.items() if k in fields and k not in ("refusals", "peer_version")}
    )
    report.refusals = list(data.get("refusals") or [])
    return report


def local_interface(text: str, error: type[Exception] = ServeError) -> str:
    """An address to serve on: an IP address (`interface_arg`) that belongs to this machine."""
    address = interface_arg(text.strip(), error)
    assert address is not None
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            message = Translator("en").t("serve.not_local", address=address)
            raise _keyed(error, message, "serve.not_local", address=address) from None
    return address


def port_arg(value: int | str | None, error: type[Exception] = ServeError) -> int:
    """--port (or the port typed in the app): 0 or empty for any free port, else 1-65535."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return 0
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise _keyed(error, Translator("en").t("serve.bad_port", text=text), "serve.bad_port", text=text)
    return int(text)


def remember_serving(local: KeyedTable, interface: str, port: int) -> None:
    """Keep where the app served (written only when it changes)."""
    doc = local.get_copy(SERVING_DOC) or {}
    if doc.get("interface") != interface or doc.get("port") != port:
        local.put(SERVING_DOC, {**doc, "interface": interface, "port": port})


def remembered_serving(local: KeyedTable) -> tuple[str, int] | None:
    """(interface, port) the app last served on, or None."""
    doc = local.get_copy(SERVING_DOC) or {}
    interface = doc.get("interface")
    return (str(interface), int(doc.get("port") or 0)) if interface else None


class Serving:
    """One server accepting this device's station syncs, and its status."""

    def __init__(
        self,
        service: CaseService,
        interface: str | None,
        port: int = 0,
        on_event: Events | None = None,
    ) -> None:
        self.service = service
        material = tls_material(service)
        if material is None:
            raise _keyed(ServeError, Translator("en").t("cli.sync.not_enrolled"), "cli.sync.not_enrolled")
        self._on_event = on_event or (lambda kind, data: None)
        self.interface = interface
        self.server = SyncServer(
            Endpoint(service.replica),
            material,
            host=interface or "0.0.0.0",
            port=port,
            advertise=interface is not None,
            on_event=self._event,
            announce_sessions=True,
        )
        self.status = ServeStatus(self.server.host, port, interface is not None)

    async def start(self) -> ServeStatus:
        """Listen (and advertise); raises ServeError naming the address, port and cause."""
        try:
            await self.server.start()
        except OSError as exc:
            where = self.interface or Translator("en").t("cli.serve.all_addresses")
            params = {"where": where, "port": self.server.port, "why": exc.strerror or str(exc)}
            raise _keyed(
                ServeError,
                Translator("en").t("cli.serve.cannot_listen", **params),
                "cli.serve.cannot_listen",
                **params,
            ) from None
        return self.status

    async def close(self) -> None:
        """Stop: the advertisement is withdrawn (zeroconf goodbye), sessions in flight are ended."""
        await self.server.close()

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        status = self.status
        if kind == "listening":
            status = replace(status, port=int(data["port"]))
        elif kind == "started":
            started = Transfer(str(data["address"]), str(data["device_id"]))
            status = replace(status, running=status.running + 1, transfers=(*status.transfers, started))
        elif kind == "progress":
            transfers = tuple(
                Transfer(
                    t.address,
                    t.device_id,
                    int(data["received"]),
                    int(data["to_receive"]),
                    int(data["sent"]),
                    int(data["to_send"]),
                )
                if t.address == data["address"]
                else t
                for t in status.transfers
            )
            status = replace(status, transfers=transfers)
        elif kind == "session":
            failed = status.failed + bool(data.get("error"))
            transfers = tuple(t for t in status.transfers if t.address != data.get("address"))
            status = replace(
                status,
                running=max(status.running - 1, 0),
                done=status.done + 1,
                failed=failed,
                transfers=transfers,
            )
        elif kind == "refused":
            status = replace(status, refused=status.refused + 1, last_refusal=str(data["reason"]))
        self.status = status
        self._on_event(kind, data)
