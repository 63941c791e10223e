#!/usr/bin/env python3
"""A station's shift-end meeting on a simulated LAN: ``python scripts/simulate_lan.py [--devices N]``.

(The station-mode shift end, with the app serving and the supervisor typing, is
scripts/simulate_station.)

N devices (the station's computer, which is the station authority, and N-1 officers'
devices) each get their own Linux network namespace on one private bridge
(harness/netns.py: nothing touches the machine's real interfaces). Each records a shift
of made-up work offline (intakes, visits, notes, risk and status changes; 20-40
operations by default, harness/shifts.py). Then they meet: the station's computer runs
``fieldapp serve --interface ADDR``, and every officer's device runs ``fieldapp sync
--interface ADDR`` at the same time, finding it with zeroconf; then a second round, so
the devices that synced early get the work of those that synced late.

Every figure is one JSON object on its own stdout line, as scripts/bench.py prints::

    {"bench": "simulate", "name": ..., "value": ..., "unit": ..., "devices": N, ...}

Commentary goes to stderr. The exit code is 0 when every sync succeeded and every
store's state hash matches, 1 otherwise, 2 when namespaces cannot be made (needs
root and iproute2). Namespaces, processes and stores are removed at the end, also on
failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldapp.core.service import CaseService  # noqa: E402
from harness import PASSPHRASE  # noqa: E402
from harness.netns import Namespace, Running, fieldapp_in, link_bytes, namespaces, unavailable_reason  # noqa: E402
from harness.replicas import station_devices  # noqa: E402
from harness.shifts import record_shift  # noqa: E402
from sync.ops import chain_key  # noqa: E402

MAX_DEVICES = 30
PROCESS_TIMEOUT = 180


def note(message: str) -> None:
    """Commentary on stderr."""
    print(f"[simulate] {message}", file=sys.stderr, flush=True)


def emit(name: str, value: float, unit: str, devices: int, **extra: Any) -> None:
    """One figure as a JSON line."""
    value = value if isinstance(value, int) else float(f"{value:.4g}")
    figure = {"bench": "simulate", "name": name, "value": value, "unit": unit, "devices": devices}
    print(json.dumps(figure | {"impl": "fieldapp", **extra}, ensure_ascii=False), flush=True)


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`: processes, namespaces, files


def prepare(root: Path, devices: int, rng: random.Random, ops: tuple[int, int]) -> dict[str, Any]:
    """Enrol the devices in-process and record each one's shift; the stores are closed afterwards."""
    with station_devices(root, devices - 1, name="柳河派出所") as services:
        made, op_bytes, cases = {}, 0, 0
        for service in services:
            cases += len(record_shift(service, rng, rng.randint(*ops)))
            chain = chain_key(service.identity.device_id, service.identity.epoch)
            made[chain] = service.replica.vector()[chain]
            # Its own log only: nothing has been synced yet. Body and signature, as sent.
            op_bytes += sum(len(body) + len(sig) for body, sig in service.replica.entries_missing_from({}))
        return {
            "stores": [Path(s.db.store.directory) for s in services],
            "made": made,
            "op_bytes": op_bytes,
            "cases": cases,
        }


def sync_round(officers: list[tuple[Namespace, Path]], wait: float, timeout: float) -> dict[str, Any]:
    """Every officer's device syncs at once, finding the station by zeroconf; their reports."""
    started = time.monotonic()
    running = [
        Running(
            fieldapp_in(ns, "sync", "--store", store, "--interface", ns.address, "--json")
            + ["--wait", f"{wait:g}", "--timeout", f"{timeout:g}"]
        )
        for ns, store in officers
    ]
    try:
        reports, failures = [], []
        for (ns, _), proc in zip(officers, running, strict=True):
            code = proc.finish(PROCESS_TIMEOUT)
            lines = proc.rest()
            if code != 0 or not lines:
                message = "".join(proc.stderr).strip()[-300:] or (lines[0] if lines else "")
                failures.append(f"{ns.address}: exit {code}: {message.strip()}")
            if lines:
                reports.append(json.loads(lines[0]))
        return {"seconds": time.monotonic() - started, "reports": reports, "failures": failures}
    finally:
        for proc in running:
            proc.stop()


def state_hashes(stores: list[Path]) -> list[str]:
    """Each store's state hash (opened here: the processes have all stopped)."""
    hashes = []
    for store in stores:
        service = CaseService.open(store, PASSPHRASE)
        try:
            hashes.append(service.state_hash())
        finally:
            service.close()
    return hashes


def meet(stores: list[Path], rounds: int, wait: float, timeout: float) -> dict[str, Any]:
    """The meeting on the simulated LAN: serve on device 0, sync rounds on the others."""
    with namespaces(len(stores)) as spaces:
        station_ns = spaces[0]
        where = ["--interface", station_ns.address]
        server = Running(fieldapp_in(station_ns, "serve", "--store", stores[0], "--json", *where))
        try:
            listening = server.json_line(60)
            note(f"the station's computer serves at {station_ns.address}:{listening['port']}")
            sent_before = sum(link_bytes(ns)[1] for ns in spaces)
            started = time.monotonic()
            results = []
            for number in range(1, rounds + 1):
                result = sync_round(list(zip(spaces[1:], stores[1:], strict=True)), wait, timeout)
                note(
                    f"round {number}: {len(result['reports']) - len(result['failures'])} of "
                    f"{len(spaces) - 1} devices synced in {result['seconds']:.1f} s"
                )
                for failure in result["failures"]:
                    note(f"  FAILED {failure}")
                results.append(result)
            seconds = time.monotonic() - started
            link = sum(link_bytes(ns)[1] for ns in spaces) - sent_before
            code = server.terminate(30)
            events = [json.loads(line) for line in server.rest() if line.strip()]
            if code != 0:
                note(f"serve exited {code}: {''.join(server.stderr).strip()[-300:]}")
        finally:
            server.stop()
    return {"rounds": results, "seconds": seconds, "link_bytes": link, "events": events, "serve_exit": code}


def simulate(args: argparse.Namespace) -> int:
    """Prepare, meet, compare; print the figures; the exit code."""
    n = args.devices
    rng = random.Random(args.seed)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fieldapp-simulate-", dir=args.workdir))
    try:
        t0 = time.monotonic()
        prepared = prepare(root, n, rng, (args.ops_min, args.ops_max))
        made = prepared["made"]
        total = sum(made.values())
        note(
            f"{n} devices recorded {total} operations ({prepared['cases']} cases) offline "
            f"in {time.monotonic() - t0:.1f} s (seed {args.seed})"
        )
        met = meet(prepared["stores"], args.rounds, args.wait, args.timeout)
        hashes = state_hashes(prepared["stores"])
    finally:
        shutil.rmtree(root, ignore_errors=True)

    reports = [peer for r in met["rounds"] for report in r["reports"] for peer in report["peers"]]
    failures = [f for r in met["rounds"] for f in r["failures"]]
    failures += [f"{p['peer']}: {p['error']}" for p in reports if p["error"]]
    moved = sum(p["bytes_sent"] + p["bytes_received"] for p in reports)
    last = met["rounds"][-1]
    resync = sum(p["bytes_sent"] + p["bytes_received"] for r in last["reports"] for p in r["peers"])
    # Every operation has to reach every device but its author's.
    needed = (n - 1) * prepared["op_bytes"]
    match = len(set(hashes)) == 1
    converged_in = next(
        (
            number
            for number, r in enumerate(met["rounds"], 1)
            if len(r["reports"]) == n - 1 and {x["state_hash"] for x in r["reports"]} == {hashes[0]}
        ),
        None,
    )

    emit("operations", total, "ops", n, cases=prepared["cases"], seed=args.seed)
    emit("convergence_time", met["seconds"], "s", n, rounds=args.rounds, converged_in_round=converged_in)
    for number, r in enumerate(met["rounds"], 1):
        sessions = [p["seconds"] for report in r["reports"] for p in report["peers"]]
        emit(f"round_{number}_time", r["seconds"], "s", n, slowest_session_s=max(sessions, default=None))
    emit("bytes_moved", moved, "B", n, vs_ops_msgpack=round(moved / needed, 3) if needed else None)
    emit(f"bytes_moved_round_{len(met['rounds'])}", resync, "B", n)
    emit("ops_msgpack_bytes_needed", needed, "B", n)
    emit("link_bytes", met["link_bytes"], "B", n, note="all bytes sent on the bridge: TLS, TCP/IP, zeroconf")
    emit("sync_failures", len(failures), "count", n)
    emit("state_hashes_match", int(match), "bool", n, distinct=len(set(hashes)))
    for failure in failures:
        note(f"failure: {failure}")
    if not match:
        note(f"state hashes differ: {sorted(set(hashes))}")
    return 0 if match and not failures and met["serve_exit"] == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--devices", type=int, default=10, help=f"devices, the station's computer included (2-{MAX_DEVICES})")
    add("--ops-min", type=int, default=20, help="fewest operations a device records in its shift")
    add("--ops-max", type=int, default=40, help="most operations a device records in its shift")
    add("--rounds", type=int, default=2, help="sync rounds (all officers' devices at once in each)")
    add("--wait", type=float, default=3.0, help="seconds each `fieldapp sync` looks for devices")
    add("--timeout", type=float, default=30.0, help="`fieldapp sync --timeout`")
    add("--seed", type=int, default=None, help="seed of the made-up work (default: random)")
    add("--workdir", type=Path, help="make the temporary stores in this directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 2 <= args.devices <= MAX_DEVICES:
        build_parser().error(f"--devices must be between 2 and {MAX_DEVICES}")
    if not 1 <= args.ops_min <= args.ops_max:
        build_parser().error("need 1 <= --ops-min <= --ops-max")
    if args.rounds < 1:
        build_parser().error("--rounds must be at least 1")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**32)
    reason = unavailable_reason()
    if reason:
        print(f"simulate_lan: {reason}", file=sys.stderr)
        return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    return simulate(args)


if __name__ == "__main__":
    sys.exit(main())
