"""Command-line commands of the station: station create/set, device list/revoke/forks/settle, area
set/list."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from fieldapp.cli.cases import CommandLineError, language, pad, service_for, tr
from fieldapp.core import station
from fieldapp.core.device import default_store_dir
from fieldapp.core.serving import ServeError, local_interface, port_arg
from fieldapp.i18n import Translator
from fieldapp.i18n import case as _case_strings  # noqa: F401  (registers the operation kinds' names)
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n import supervisor as _supervisor_strings  # noqa: F401  (the roles' names)

AddCommon = Callable[[argparse.ArgumentParser], None]


def cmd_station_create(args: argparse.Namespace) -> int:
    """Make this device the station authority."""
    with service_for(args) as service:
        anchor = station.create_station(service, args.name)
        device_id = service.identity.device_id
    data = {"station_id": anchor.station_id, "name": anchor.station_name, "device_id": device_id}
    text = tr(args).t("cli.station.created", name=anchor.station_name, station_id=anchor.station_id)
    print(json.dumps(data, ensure_ascii=False) if args.json else text)
    return 0


def cmd_station_set(args: argparse.Namespace) -> int:
    """Set this device's station settings (the mediation organisation agreements name)."""
    with service_for(args) as service:
        org = station.set_mediation_org(service, args.mediation_org)
    if args.json:
        print(json.dumps({"mediation_org": org}, ensure_ascii=False))
        return 0
    tr = Translator(language(args))
    print(tr.t("station.set.done", org=org) if org else tr.t("station.set.cleared"))
    return 0


def cmd_station_open(args: argparse.Namespace) -> int:
    """Open the app in station mode: once unlocked it accepts the devices' syncs on --interface
    (advertised there, as `fieldapp serve --interface` is) while the supervisor works."""
    interface = local_interface(args.interface, ServeError)
    port = port_arg(args.port, ServeError)
    store_dir = args.store if args.store is not None else default_store_dir()
    # The command line's app opener (`fieldapp.cli.main`): this module never loads Textual.
    return int(args.open_app(store_dir, args.lang, args.lock_after, (interface, port)))


def cmd_device_list(args: argparse.Namespace) -> int:
    """List the devices known to this one."""
    with service_for(args) as service:
        rows = station.device_rows(service)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    t = tr(args)
    for row in rows:
        mark = "*" if row["this_device"] else " "
        state = t.t("cli.device.revoked_mark", reason=row["revoked"]["reason"]) if row["revoked"] else ""
        seen = row["last_seen"] or t.t("cli.device.never_synced")
        role = t.t(f"devices.role.{row['role']}") if t.has(f"devices.role.{row['role']}") else row["role"]
        enrolled = t.t("cli.device.enrolled_at", at=row["enrolled_at"]) if row["enrolled_at"] else ""
        who = f"{row['officer']}  {enrolled}  {state}".rstrip()
        print(f"{mark} {row['device_id']}  {pad(role, 10)} {pad(seen, 25)} {who}")
    print(t.t("cli.device.count", count=len(rows)))
    return 0


def cmd_device_revoke(args: argparse.Namespace) -> int:
    """Revoke a device (station authority only)."""
    with service_for(args) as service:
        station.revoke_device(service, args.id, args.reason)
    result: dict[str, Any] = {"revoked": args.id, "reason": args.reason}
    text = tr(args).t("cli.device.revoked", id=args.id)
    print(json.dumps(result, ensure_ascii=False) if args.json else text)
    return 0


def _entry_line(tr: Translator, side: str, entry: dict[str, Any]) -> str:
    """One of a fork's entries on one line: kind, entity, when, and its payload in brief."""
    kind = entry["kind"]
    name = tr.t(f"case.op.{kind}") if tr.has(f"case.op.{kind}") else kind
    fields = "  ".join(f"{k}={v}" for k, v in entry["fields"].items())
    return tr.t(f"fork.cli.entry.{side}", kind=name, entity=entry["entity"], at=entry["at"], fields=fields)


def cmd_device_forks(args: argparse.Namespace) -> int:
    """Every fork this device knows: whose log, where, settled or not, both entries."""
    with service_for(args) as service:
        rows = station.fork_rows(service)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    tr = Translator(language(args))
    if not rows:
        print(tr.t("fork.cli.none"))
        return 0
    for row in rows:
        print(
            tr.t(
                "fork.cli.fork",
                fork=row["fork"],
                officer=row["officer"] or "-",
                device=row["device_id"],
                epoch=f"{row['epoch']:016x}",
                seq=row["seq"],
                seen=row["seen_at"] or "-",
            )
        )
        print("  " + tr.t(f"fork.standing.{row['standing']}"))
        print(tr.t("fork.cli.held_out" if row["held_out"] else "fork.cli.shown"))
        print(_entry_line(tr, "held", row["held"]))
        print(_entry_line(tr, "other", row["other"]))
    open_forks = sum(row["standing"] == "open" for row in rows)
    print(tr.t("fork.cli.count", count=len(rows), open=open_forks))
    if open_forks:
        print(tr.t("fork.cli.todo"))
    return 0


def cmd_device_settle(args: argparse.Namespace) -> int:
    """Supervisor: settle a fork, keeping the entry held here or the other one."""
    with service_for(args) as service:
        station.settle_fork(service, args.fork, args.keep or "", args.reason or "")
        row = next(r for r in station.fork_rows(service) if r["fork"] == args.fork)
    if args.json:
        print(
            json.dumps(
                {"settled": args.fork, "keep": args.keep, "reason": args.reason.strip(), **row},
                ensure_ascii=False,
            )
        )
        return 0
    tr = Translator(language(args))
    side = tr.t(f"fork.cli.side.{args.keep}")
    print(tr.t("fork.cli.settled", fork=args.fork, side=side, officer=row["officer"] or row["device_id"]))
    print("  " + tr.t(f"fork.standing.{row['standing']}"))
    return 0


def cmd_area_set(args: argparse.Namespace) -> int:
    """Supervisor: place a village in a police area (or take it out with --none)."""
    area = None if args.none else args.area
    if area is None and not args.none:
        raise CommandLineError(tr(args).t("cli.area.needed"))
    with service_for(args) as service:
        areas = service.place_village(args.village, area)
    result = {"village": args.village.strip(), "area": areas.get(args.village.strip())}
    t = tr(args).t
    where = result["area"] or t("cli.area.none")
    text = t("cli.area.placed", village=result["village"], area=where)
    print(json.dumps(result, ensure_ascii=False) if args.json else text)
    return 0


def cmd_area_list(args: argparse.Namespace) -> int:
    """Villages by police area, with every village a case names (unplaced ones too)."""
    with service_for(args) as service:
        areas = service.areas()
        villages = {c["village"] for c in service.cases_view().values() if c.get("exists")}
    rows = [{"village": v, "area": areas.get(v)} for v in sorted(villages | set(areas))]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in sorted(rows, key=lambda r: (r["area"] is None, r["area"] or "", r["village"])):
        print(f"{row['area'] or tr(args).t('cli.area.unplaced')}\t{row['village']}")
    return 0


def register(sub: Any, common: AddCommon, open_app: Callable[..., int]) -> None:
    """Add the station and device commands (`open_app(store, lang, lock_after, serve)` opens the
    app, for `station open`)."""
    group = sub.add_parser("station", help="the station authority").add_subparsers(
        dest="station_command", metavar="ACTION", required=True
    )
    p = group.add_parser("create", help="make this device the station authority (supervisor)")
    common(p)
    p.add_argument("--name", required=True, help="the station's name, e.g. 城关派出所")
    p.set_defaults(handler=cmd_station_create)
    p = group.add_parser(
        "set", help="this device's station settings: the mediation organisation agreements name"
    )
    common(p)
    p.add_argument(
        "--mediation-org",
        required=True,
        metavar="NAME",
        help="the people's mediation committee (人民调解委员会) printed on agreements, e.g. "
        '城关镇人民调解委员会; "" clears it (the line is then left blank to fill by hand); '
        "kept on this device only: set it on each device",
    )
    p.set_defaults(handler=cmd_station_set)
    p = group.add_parser(
        "open", help="open the app in station mode: accept the devices' syncs while you work"
    )
    common(p)
    p.add_argument("--interface", required=True, help="this computer's address on the station network")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument(
        "--lock-after",
        type=float,
        default=5.0,
        metavar="MINUTES",
        help="lock the screen after this many idle minutes (serving goes on; default 5; 0: never)",
    )
    p.set_defaults(handler=cmd_station_open, open_app=open_app)

    group = sub.add_parser("device", help="devices of the station").add_subparsers(
        dest="device_command", metavar="ACTION", required=True
    )
    p = group.add_parser(
        "list",
        help="devices known here (every enrolled one, synced or not), with role, enrolment, last "
        "activity and revocation",
    )
    common(p)
    p.set_defaults(handler=cmd_device_list)
    p = group.add_parser("revoke", help="station authority: shut a lost or compromised device out")
    common(p)
    p.add_argument(
        "id",
        metavar="DEVICE_ID",
        help="the device to shut out, as `fieldapp device list` shows it (not this one)",
    )
    p.add_argument(
        "--reason",
        required=True,
        metavar="TEXT",
        help="why, e.g. 'lost on patrol' (shown beside the device in `fieldapp device list`)",
    )
    p.set_defaults(handler=cmd_device_revoke)
    p = group.add_parser("forks", help="forks seen here: whose log, where, settled or held out")
    common(p)
    p.set_defaults(handler=cmd_device_forks)
    p = group.add_parser("settle", help="supervisor: settle a fork, choosing the entry that is the log")
    common(p)
    p.add_argument("fork", metavar="FORK", help="the fork, as `fieldapp device forks` names it")
    p.add_argument(
        "--keep",
        choices=["held", "other"],
        default=None,
        help="held: the entry this device holds; other: the one that arrived second",
    )
    p.add_argument("--reason", default=None, metavar="TEXT", help="why that entry is the device's log")
    p.set_defaults(handler=cmd_device_settle)

    group = sub.add_parser("area", help="police areas (警务区) and their villages").add_subparsers(
        dest="area_command", metavar="ACTION", required=True
    )
    p = group.add_parser("set", help="supervisor: place a village in a police area")
    common(p)
    p.add_argument(
        "village", metavar="VILLAGE", help="the village, spelt as its cases spell it (at most 80 characters)"
    )
    p.add_argument("area", nargs="?", metavar="AREA", help="the police area, e.g. 第一警务区")
    p.add_argument("--none", action="store_true", help="take the village out of any area")
    p.set_defaults(handler=cmd_area_set)
    p = group.add_parser("list", help="villages by police area")
    common(p)
    p.set_defaults(handler=cmd_area_list)
