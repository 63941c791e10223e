"""`fieldapp sync` and `fieldapp serve`: the shift-end merge on the station LAN.

`serve` keeps this device reachable (and, with `--interface`, advertised by
zeroconf) and accepts syncs from the station's devices, several at once,
until it is stopped. `sync` finds the station's devices advertising on the
LAN (or takes `--peer HOST:PORT`), syncs with each in turn and reports per
peer what was sent and received. The protocol is `sync.session` over
`sync.lan`; docs/sync.md describes it.

Zeroconf only runs on the address given with `--interface`; `sync` remembers
the last one in the encrypted store, so at the station `fieldapp sync` alone
is enough after the first time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from typing import Any

from fieldapp import i18n
from fieldapp.cli.cases import language, service_for, tr
from fieldapp.core import station
from fieldapp.core.net import (
    NetCliError,
    human_size,
    interface_arg,
    peer_arg,
    positive_seconds,
    print_json,
    remembered_interface,
)
from fieldapp.core.service import CaseService
from fieldapp.core.serving import Serving, report_of
from fieldapp.i18n import Translator
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n.sync_errors import sync_error_text
from sync.lan import find_peers, sync_with
from sync.session import Endpoint, SessionReport
from sync.tls import TlsMaterial

AddCommon = Callable[[argparse.ArgumentParser], None]


class SyncCliError(NetCliError):
    """A sync that could not start; the message says what to do."""

    code = "sync_error"


def _material(service: CaseService, args: argparse.Namespace) -> TlsMaterial:
    material = station.tls_material(service)
    if material is None:
        raise SyncCliError(tr(args).t("cli.sync.not_enrolled"))
    return material


def _line(report: SessionReport, language: str) -> str:
    """One peer's session in a line, in `language`: what was sent and received, or why it failed."""
    t = Translator(language).t
    if report.error:
        why = sync_error_text(report.error, report.error_code, report.error_params, language)
        if report.sent or report.received:
            return t(
                "cli.sync.failed_after", peer=report.peer, sent=report.sent, received=report.received, why=why
            )
        return t("cli.sync.failed", peer=report.peer, why=why)
    refused = ""
    if report.refused:
        refused = t("cli.sync.line_refused", count=report.refused, why="; ".join(report.refusals[:3]))
    return t(
        "cli.sync.line",
        peer=report.peer,
        sent=report.sent,
        received=report.received,
        applied=report.applied,
        refused=refused,
        size=human_size(report.bytes_sent + report.bytes_received),
        seconds=f"{report.seconds:.1f}",
    )


async def _sync_all(
    service: CaseService, material: TlsMaterial, peers: list[tuple[str, int, str | None]], timeout: float
) -> list[SessionReport]:
    endpoint = Endpoint(service.replica)
    reports = []
    for host, port, device_id in peers:
        reports.append(await sync_with(host, port, endpoint, material, timeout, expected_device=device_id))
    return reports


def cmd_sync(args: argparse.Namespace) -> int:
    """Sync once with every station device found (or the --peer ones)."""
    interface = interface_arg(args.interface, SyncCliError)
    timeout = positive_seconds(args.timeout, "--timeout", SyncCliError)
    wait = positive_seconds(args.wait, "--wait", SyncCliError)
    given = [peer_arg(text, SyncCliError) for text in args.peer or []]
    with service_for(args) as service:
        material = _material(service, args)
        peers: list[tuple[str, int, str | None]] = [(host, port, None) for host, port in given]
        if not peers:
            interface = remembered_interface(service.replica, interface)
            if interface is None:
                raise SyncCliError(tr(args).t("cli.sync.no_interface"))
            found = asyncio.run(find_peers(interface, material.station_id, service.identity.device_id, wait))
            if not found:
                raise SyncCliError(tr(args).t("cli.sync.nobody", interface=interface, wait=f"{wait:g}"))
            peers = [(host, port, device_id) for device_id, (host, port) in sorted(found.items())]
        reports = asyncio.run(_sync_all(service, material, peers, timeout))
        state_hash = service.state_hash()
        i18n.set_language(language(args))
        waiting, notice = service.replica.waiting(), service.waiting_notice()
    failed = [r for r in reports if r.error]
    if args.json:
        print_json({"peers": [r.as_json() for r in reports], "state_hash": state_hash, "waiting": waiting})
    else:
        print(tr(args).t("cli.sync.summary", ok=len(reports) - len(failed), total=len(reports)))
        for report in reports:
            print(_line(report, language(args)))
        if notice:
            print(notice)
    return 1 if failed else 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Accept syncs until stopped (Ctrl-C, SIGTERM or --duration)."""
    interface = interface_arg(args.interface, SyncCliError)
    duration = positive_seconds(args.duration, "--duration", SyncCliError) if args.duration else None
    with service_for(args) as service:
        _material(service, args)
        t = tr(args).t

        def on_event(kind: str, data: dict[str, Any]) -> None:
            if kind in ("started", "progress"):  # a session under way: its line comes when it ends
                return
            if args.json:
                print_json({"event": kind, **data})
            elif kind == "listening":
                where = data["host"] if interface else t("cli.serve.all_addresses")
                seen = t("cli.serve.advertised", interface=interface) if interface else ""
                print(
                    t(
                        "cli.serve.listening",
                        device=data["device_id"],
                        where=where,
                        port=data["port"],
                        seen=seen,
                    ),
                    flush=True,
                )
            elif kind == "session":
                print(_line(report_of(data), language(args)), flush=True)
            elif kind == "refused":
                reason = sync_error_text(str(data["reason"]), language=language(args))
                print(t("cli.serve.refused", address=data["address"], reason=reason), flush=True)

        async def run() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            serving = Serving(service, interface, args.port, on_event)
            await serving.start()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), duration)
            finally:
                await serving.close()

        asyncio.run(run())
    if not args.json:
        print(tr(args).t("cli.serve.stopped"), file=sys.stderr)
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add `sync` and `serve` to the command line."""
    p = sub.add_parser("sync", help="find the station's devices on the LAN and sync with each once")
    common(p)
    p.add_argument(
        "--peer", action="append", help="HOST:PORT of a device running `fieldapp serve` (repeatable)"
    )
    p.add_argument("--interface", default=None, help="this device's address on the station network")
    p.add_argument("--timeout", type=float, default=30.0, help="give up on a silent peer after S seconds")
    p.add_argument("--wait", type=float, default=3.0, help="look for devices for S seconds (default 3)")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("serve", help="stay reachable and accept syncs from the station's devices")
    common(p)
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--interface", default=None, help="this device's address to listen and advertise on")
    p.add_argument(
        "--duration", type=float, default=None, help="stop after S seconds (default: until stopped)"
    )
    p.set_defaults(handler=cmd_serve)
