"""`fieldapp enrol open|join`: enrol a new device over the LAN with a one-time code.

`enrol open` runs on the station authority's (supervisor's) device: it listens,
shows a code such as ``7-river-lantern`` and certifies the device that proves it
knows the code. `enrol join` runs on the new device: it finds the supervisor's
device (zeroconf on `--interface`, or `--peer HOST:PORT`), proves the code and
keeps the certificate and the station's trust anchor. The protocol is in
`sync.enrol`, the codes in `sync.enrol_codes`, zeroconf in `sync.discovery`.
Without `--interface` nothing is advertised or browsed: zeroconf only ever runs
on the address the user names.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from fieldapp.cli.cases import service_for, tr
from fieldapp.core import station
from fieldapp.core.net import NetCliError, interface_arg, peer_arg, positive_seconds, print_json
from fieldapp.i18n import Translator
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n import supervisor as _supervisor_strings  # noqa: F401  (the roles' names)
from sync.enrol import EnrolServer, IssueRefused, discover, enrol_join
from sync.enrol_codes import EnrolError, parse_code

AddCommon = Callable[[argparse.ArgumentParser], None]
ROLES = ("officer", "supervisor")
MAX_COUNT = 50


class EnrolCliError(NetCliError):
    """An enrolment command that could not be done; the message says what to do."""

    code = "enrol_error"


def _banner(code: str, port: int, interface: str | None, ttl: float, t: Translator) -> str:
    big = "  -  ".join(part.upper() for part in code.split("-"))
    width = len(big) + 12
    where = "" if interface else f" --peer {t.t('cli.enrol.this_address')}:{port}"
    listening = interface or t.t("cli.serve.all_addresses")
    lines = [
        "",
        "    +" + "-" * width + "+",
        "    |" + " " * width + "|",
        "    |" + big.center(width) + "|",
        "    |" + " " * width + "|",
        "    +" + "-" * width + "+",
        "",
        t.t("cli.enrol.read_aloud"),
        f"    fieldapp enrol join --code {code}{where}"
        + (f" --interface {t.t('cli.enrol.its_address')}" if interface else ""),
        t.t("cli.enrol.expires", minutes=f"{ttl / 60:g}", where=listening, port=port),
        "",
    ]
    return "\n".join(lines)


def _role(args: argparse.Namespace, role: str) -> str:
    """A role's name in the command's language (the code if unknown)."""
    t = tr(args)
    return t.t(f"devices.role.{role}") if t.has(f"devices.role.{role}") else role


def _reporter(
    args: argparse.Namespace, interface: str | None, ttl: float
) -> Callable[[str, dict[str, Any]], None]:
    """Print the server's events: codes and enrolments on stdout, warnings on stderr."""

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind in ("open", "enrolled") and args.json:
            print_json(data)
        elif kind == "open":
            print(_banner(data["code"], data["port"], interface, ttl, tr(args)), flush=True)
        elif kind == "enrolled":
            role = _role(args, str(data["role"]))
            text = tr(args).t(
                "cli.enrol.enrolled", officer=data["officer"], role=role, device=data["enrolled"]
            )
            print(text, flush=True)
        elif args.json:
            print_json({"warning": kind, **data}, sys.stderr)
        else:
            print(f"fieldapp: {data.get('message') or data.get('reason')}", file=sys.stderr, flush=True)

    return on_event


def cmd_enrol_open(args: argparse.Namespace) -> int:
    """Offer a one-time code and certify the device that proves it."""
    interface = interface_arg(args.interface, EnrolCliError)
    timeout = positive_seconds(args.timeout, "--timeout", EnrolCliError)
    ttl = positive_seconds(
        args.code_ttl if args.code_ttl is not None else timeout, "--code-ttl", EnrolCliError
    )
    if not 1 <= args.count <= MAX_COUNT:
        raise EnrolCliError(tr(args).t("cli.enrol.count", max=MAX_COUNT))
    officer = args.officer.strip() if args.officer else None
    if args.officer is not None and not officer:
        raise EnrolCliError(tr(args).t("cli.init.officer_required"))
    with service_for(args) as service:
        if station.authority(service) is None:
            raise EnrolCliError(tr(args).t("cli.enrol.not_authority"))

        def issue(device_key: bytes, name: str, role: str) -> tuple[list[bytes], dict[str, Any]]:
            try:
                return station.issue_certificate(service, device_key, name, role)
            except station.StationError as exc:
                raise IssueRefused(str(exc)) from None

        server = EnrolServer(
            issue,
            host=interface or "0.0.0.0",
            port=args.port,
            role=args.role,
            officer=officer,
            count=args.count,
            code_ttl=ttl,
            advertise=interface is not None,
            on_event=_reporter(args, interface, ttl),
        )
        try:
            enrolled = asyncio.run(server.run(timeout))
        except EnrolError as exc:
            raise EnrolCliError(str(exc)) from None
        except OSError as exc:
            where = interface or tr(args).t("cli.serve.all_addresses")
            why = exc.strerror or str(exc)
            raise EnrolCliError(
                tr(args).t("cli.serve.cannot_listen", where=where, port=args.port, why=why)
            ) from None
    if not args.json:
        print(tr(args).t("cli.enrol.done", count=len(enrolled)))
    return 0


async def _join(
    peer: tuple[str, int] | None, interface: str | None, code: str, key: bytes, officer: str, timeout: float
) -> tuple[list[bytes], dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    if peer is None:
        assert interface is not None
        nameplate, _ = parse_code(code)
        peer = await discover(nameplate, interface, timeout)
    return await enrol_join(peer[0], peer[1], code, key, officer, max(1.0, deadline - loop.time()))


def cmd_enrol_join(args: argparse.Namespace) -> int:
    """Join the station with the code the supervisor reads out."""
    interface = interface_arg(args.interface, EnrolCliError)
    timeout = positive_seconds(args.timeout, "--timeout", EnrolCliError)
    try:
        parse_code(args.code)
    except EnrolError as exc:
        raise EnrolCliError(str(exc)) from None
    peer = peer_arg(args.peer, EnrolCliError) if args.peer else None
    if peer is None and interface is None:
        raise EnrolCliError(tr(args).t("cli.enrol.no_interface"))
    with service_for(args) as service:
        # An enrolled device joins again only to renew its TLS certificates (docs/sync.md).
        renewing = station.is_member(service)
        if not renewing:
            station.require_fresh(service)  # before the code is spent on a device that cannot adopt it
        try:
            cert_wire, anchor_doc = asyncio.run(
                _join(peer, interface, args.code, service.identity.public_key, service.officer, timeout)
            )
        except EnrolError as exc:
            raise EnrolCliError(tr(args).t("cli.enrol.not_enrolled", why=exc)) from None
        try:
            if renewing:
                station.renew_enrolment(service, cert_wire, anchor_doc)
            else:
                cert = station.adopt_enrolment(service, cert_wire, anchor_doc)
        except station.StationError as exc:
            key = "cli.enrol.not_renewed" if renewing else "cli.enrol.not_enrolled"
            raise EnrolCliError(tr(args).t(key, why=exc)) from None
        if renewing:
            station_id = service.device_station
            if args.json:
                print_json({"device_id": service.identity.device_id, "renewed": True, "station": station_id})
            else:
                print(tr(args).t("cli.enrol.renewed", station=station_id))
            return 0
        data = {"device_id": service.identity.device_id, "role": cert.role, "station": cert.station_id}
    if args.json:
        print_json(data)
    else:
        text = tr(args).t(
            "cli.enrol.joined",
            name=cert.station_name,
            station=cert.station_id,
            role=_role(args, cert.role),
            officer=cert.officer,
        )
        print(text)
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add `enrol open` and `enrol join` to the command line."""
    enrol = sub.add_parser("enrol", help="enrol a device over the LAN with a one-time code").add_subparsers(
        dest="enrol_command", metavar="ACTION", required=True
    )
    p = enrol.add_parser("open", help="supervisor: show a code and certify the device that uses it")
    common(p)
    p.add_argument("--role", choices=ROLES, default="officer", help="role of the device(s) enrolled")
    p.add_argument("--officer", default=None, help="officer name to certify (default: as the device says)")
    p.add_argument("--count", type=int, default=1, help="enrol N devices, one new code each (default 1)")
    p.add_argument("--interface", default=None, help="this device's address to listen and advertise on")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--timeout", type=float, default=600.0, help="stop after S seconds (default 600)")
    p.add_argument("--code-ttl", type=float, default=None, help="each code expires after S seconds")
    p.set_defaults(handler=cmd_enrol_open)

    p = enrol.add_parser(
        "join",
        help="new device: join the station with the supervisor's code (enrolled: renew its certificates)",
    )
    common(p)
    p.add_argument("--code", required=True, help="the code on the supervisor's screen, e.g. 7-river-lantern")
    p.add_argument("--peer", default=None, help="HOST:PORT of the supervisor's device (skips discovery)")
    p.add_argument("--interface", default=None, help="this device's address to search the network on")
    p.add_argument("--timeout", type=float, default=60.0, help="give up after S seconds (default 60)")
    p.set_defaults(handler=cmd_enrol_join)
