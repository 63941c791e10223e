#!/usr/bin/env python3
"""The shift end at a station in station mode: ``scripts/simulate_station [--devices 30] [--cases 17000]``.

Set-up (not timed): the `supervisor` bench's station history (`bench_ui.build_store`, 17,000
cases, ~100k records) in the store of the station authority's computer (a supervisor's), and
`--devices` officers' devices enrolled there, each holding that history (as they would after
earlier shifts) and a shift of new work recorded offline (`harness.shifts.record_shift`:
intakes, visits, notes, risk and status changes; plus `--conflicts` edits of the risk of cases
every device knows, some of them the same cases on several devices: conflicts).

Timed, with the station's app in a fresh process (scripts/simulate_station_app.py): `FieldApp`,
station mode on (the code path of `fieldapp station open --interface 127.0.0.1`), headless in
Textual's `run_test` (Pilot), unlocked, the supervisor's screen (`d`) loaded, and Find opened
over it (the palette's "Find"; `--under home`: over the home screen); keys are typed into Find's
filter, one every `--key-interval` s after the last one showed:

1. quiet (the reference): `QUIET_KEYS` keystrokes, no device connected;
2. busy: the devices arrive at seeded random times within `--window` s, each running a real
   ``fieldapp sync --peer 127.0.0.1:PORT`` (a separate process, at `nice` 10: on this machine
   the "devices" share the station's two cores, which real devices do not); typing goes on
   until every session of both rounds has landed; once the station holds every device's shift
   (round 1 merged), each device syncs once more (round 2, at most `--parallel` at a time);
3. quiet again (`QUIET_KEYS` keystrokes): the reference is pooled from both quiet phases.

A keystroke's latency is from the key sent to the app's driver, from another thread as a
terminal's input thread sends it (so a key waits while the app's thread is busy, as a typed key
would), to the first frame drawn after Find's results were refilled for it. Its parts: the app's
(main) thread's CPU time over it (the rest is waiting: for a core, or for the GIL held by the
thread applying a batch), and the time inside it spent in the supervisor screen's figures
(`_load`) and drawing (`_redraw`), and in `Replica.apply` / `_fold` (the sync thread). While a
key waits, a sampler notes where the app's thread is every 5 ms (``where_the_app_thread_was``).

Convergence, as printed: ``merged_at_station_s`` is from the first arrival to the first moment
the station holds every device's shift with no session open (its view folded);
``converged_s`` to the end of round 2, when every device and the station have the same state
hash (``state_hashes_match``). Every figure is one JSON line on stdout, as scripts/bench.py
prints them; commentary goes to stderr. The stores are removed at the end, and the station's
and devices' processes stopped, also on failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
sys.path[:0] = [str(HERE.parent), str(ROOT)]

from bench_common import FAST_KDF, PASSPHRASE, fake_name, note, scratch_dir, sig  # noqa: E402
from bench_ui import KEYSTROKE_TARGET_MS, build_store, percentile  # noqa: E402
from simulate_station_app import QUIET_KEYS, SAMPLE_S  # noqa: E402

from fieldapp.core.service import CaseService, init_device  # noqa: E402
from fieldapp.core.station import adopt_enrolment, issue_certificate  # noqa: E402
from harness.shifts import record_shift  # noqa: E402
from sync.ops import chain_key  # noqa: E402

STATION_NAME = "柳河派出所"
DEVICE_NICE = 10


def emit(
    name: str, value: float, unit: str, devices: int, ratio_vs: dict[str, Any] | None = None, **extra: Any
) -> None:
    """One figure as a JSON line (bench "simulate_station"), with its ratios to the references
    measured in the same run (`ratio_vs`, empty when it has none)."""
    figure = {"bench": "simulate_station", "name": name, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs or {}, "impl": "fieldapp", "devices": devices, **extra}
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every `finally`: processes and files


# ---------------------------------------------------------------- set-up


def prepare(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """The station's store and the devices' stores, each device's shift recorded offline."""
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    station_dir, what = build_store(args, root / "history", rng, "supervisor", station=STATION_NAME)
    note(f"station store ready in {time.perf_counter() - t0:.0f} s")
    station = CaseService.open(station_dir, PASSPHRASE)
    devices, made, shift_ops, conflict_edits = [], {}, 0, 0
    try:
        history = list(station.replica.entries_missing_from({}))
        view = station.replica.view("cases")
        open_cases = sorted(c["id"] for c in view.values() if c["exists"] and c["status"] == "open")
        # A few cases every device knows and several edit on the same shift: the conflicts.
        shared = rng.sample(open_cases, min(len(open_cases), max(1, args.devices // 3)))
        for i in range(args.devices):
            t1 = time.perf_counter()
            path = root / f"device{i}"
            init_device(path, PASSPHRASE, fake_name(rng), FAST_KDF)
            device = CaseService.open(path, PASSPHRASE)
            try:
                adopt_enrolment(
                    device, *issue_certificate(station, device.identity.public_key, device.officer, "officer")
                )
                with device.replica.merge_session():
                    report = device.replica.apply(history)
                if report.rejections or report.held_back:
                    raise RuntimeError(f"device {i} did not take the station's history: {report}")
                mine = chain_key(device.identity.device_id, device.identity.epoch)
                before = device.replica.vector()[mine]
                record_shift(device, rng, rng.randint(args.ops_min, args.ops_max))
                for case_id in rng.sample(shared, min(len(shared), args.conflicts)):
                    risk = rng.choice([r for r in ("red", "orange", "yellow") if r != view[case_id]["risk"]])
                    device.update(case_id, fields={"risk": risk})
                    conflict_edits += 1
                made[mine] = device.replica.vector()[mine]
                shift_ops += made[mine] - before
                device.db.store.compact()  # as a device's store is between shifts: opens from a snapshot
            finally:
                device.close()
            devices.append(path)
            note(f"device {i + 1}/{args.devices} ready in {time.perf_counter() - t1:.1f} s")
    finally:
        station.close()
    return {
        "station": station_dir,
        "devices": devices,
        "made": made,
        "shift_ops": shift_ops,
        "conflict_edits": conflict_edits,
        "shared_cases": len(shared),
        "store": what,
    }


# ---------------------------------------------------------------- the devices (parent process)


class Station:
    """The station's app in a child process: its stdout lines, read in a thread."""

    def __init__(self, plan_file: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE.parent / "simulate_station_app.py"), str(plan_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[str] = []
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self.stderr.extend, args=(self.proc.stderr,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            if line.strip():
                self.lines.put(json.loads(line))

    def next(self, timeout: float) -> dict[str, Any]:
        """The next JSON line; RuntimeError if the process ended or went silent first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    time.sleep(0.2)
                    raise RuntimeError(
                        f"the station exited {self.proc.returncode}: {''.join(self.stderr)[-3000:]}"
                    ) from None
        raise RuntimeError(f"nothing from the station in {timeout} s: {''.join(self.stderr)[-3000:]}")

    def stop(self) -> None:
        """Kill it if it still runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def sync_argv(store: Path, port: int, timeout: float) -> list[str]:
    """A device's `fieldapp sync` with the station, at a lower priority (it is another machine)."""
    sync = [sys.executable, "-m", "fieldapp", "sync", "--store", str(store), "--json"]
    return ["nice", "-n", str(DEVICE_NICE), *sync, "--peer", f"127.0.0.1:{port}", "--timeout", f"{timeout:g}"]


#: The devices' `fieldapp sync` processes running now (killed if the simulation stops early).
RUNNING: set[subprocess.Popen[str]] = set()
RUNNING_LOCK = threading.Lock()
#: Set when the simulation stops early: no device starts after it.
STOPPING = threading.Event()


def run_device(store: Path, port: int, timeout: float) -> dict[str, Any]:
    """One device's sync, to its end; its report (or what went wrong)."""
    env = {**os.environ, "FIELDAPP_PASSPHRASE": PASSPHRASE}
    started = time.time()
    with RUNNING_LOCK:
        if STOPPING.is_set():
            return {
                "store": store.name,
                "started": started,
                "ended": started,
                "exit": None,
                "error": "stopped",
            }
        proc = subprocess.Popen(
            sync_argv(store, port, timeout),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        RUNNING.add(proc)
    try:
        stdout, stderr = proc.communicate(timeout=timeout + 120)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    finally:
        with RUNNING_LOCK:
            RUNNING.discard(proc)
    out: dict[str, Any] = {
        "store": store.name,
        "started": started,
        "ended": time.time(),
        "exit": proc.returncode,
    }
    try:
        out |= json.loads(stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        out["error"] = stderr.strip()[-500:] or f"exit {proc.returncode}, no report"
    return out


def arrivals(devices: list[Path], port: int, offsets: list[float], timeout: float) -> list[dict[str, Any]]:
    """Round 1: each device starts its sync `offsets[i]` s after now (threads, one per device)."""
    results: list[dict[str, Any]] = [{} for _ in devices]
    t0 = time.monotonic()

    def arrive(i: int) -> None:
        time.sleep(max(0.0, t0 + offsets[i] - time.monotonic()))
        results[i] = run_device(devices[i], port, timeout)

    threads = [threading.Thread(target=arrive, args=(i,), daemon=True) for i in range(len(devices))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def again(devices: list[Path], port: int, parallel: int, timeout: float) -> list[dict[str, Any]]:
    """Round 2: every device syncs once more, at most `parallel` at a time, in arrival order."""
    results: list[dict[str, Any]] = [{} for _ in devices]
    todo: queue.Queue[int] = queue.Queue()
    for i in range(len(devices)):
        todo.put(i)

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            results[i] = run_device(devices[i], port, timeout)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stop_devices() -> None:
    """Kill the devices' syncs still running (the simulation stopped early), before their stores go."""
    with RUNNING_LOCK:
        STOPPING.set()
        running = list(RUNNING)
    for proc in running:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def failed(report: dict[str, Any]) -> str | None:
    """Why a device's sync failed, or None."""
    if report.get("error"):
        return str(report["error"])
    peers = report.get("peers") or []
    if report.get("exit") != 0 or not peers:
        return f"exit {report.get('exit')}"
    return next((str(p["error"]) for p in peers if p.get("error")), None)


def moved(reports: list[dict[str, Any]]) -> int:
    """Bytes both ways of the devices' sessions."""
    return sum(p["bytes_sent"] + p["bytes_received"] for r in reports for p in r.get("peers") or [])


def keystroke_figures(
    n: int, quiet: list[dict[str, Any]], busy: list[dict[str, Any]], cases: int, under: str
) -> None:
    """The keystroke latency while merges land, against the quiet app, and their parts."""
    label = f"{cases // 1000}k" if cases % 1000 == 0 else str(cases)
    what = f"a key sent to Find's filter (over the {under} screen) to the first frame of its results"
    for name, stat in (("median", statistics.median), ("p95", lambda xs: percentile(xs, 95))):
        q, b = stat([k["ms"] for k in quiet]), stat([k["ms"] for k in busy])
        suffix = "" if name == "median" else "_p95"
        emit(
            f"quiet_filter_keystroke{suffix}_ms_{label}",
            q,
            "ms",
            n,
            reference=True,
            keystrokes=len(quiet),
            what=what + ", no device connected (the reference)",
        )
        parts = {
            part: sig(stat([k[part] for k in busy]))
            for part in ("cpu_ms", "supervisor_load_ms", "supervisor_draw_ms", "apply_ms", "fold_ms")
        }
        emit(
            f"filter_keystroke{suffix}_ms_{label}",
            b,
            "ms",
            n,
            ratio_vs={"quiet": sig(b / q) if q else None},
            **(
                {"target": f"<= {KEYSTROKE_TARGET_MS:g} ms", "met": b <= KEYSTROKE_TARGET_MS}
                if not suffix
                else {}
            ),
            keystrokes=len(busy),
            parts=parts,
            what=what + ", while the devices' sessions land",
        )
    slow = [k for k in busy if k["ms"] > KEYSTROKE_TARGET_MS]
    emit(
        "keystrokes_over_target",
        len(slow),
        "count",
        n,
        of=len(busy),
        with_supervisor_load=sum(1 for k in slow if k["supervisor_load_ms"] > 0),
        with_supervisor_draw=sum(1 for k in slow if k["supervisor_draw_ms"] > 0),
        with_apply_or_fold=sum(1 for k in slow if k["apply_ms"] + k["fold_ms"] > 0),
        max_ms=sig(max((k["ms"] for k in busy), default=0)),
    )


def simulate(args: argparse.Namespace) -> int:
    """Prepare, run the station and the devices, print the figures; the exit code."""
    n = args.devices
    with scratch_dir(args.workdir) as root:
        t0 = time.perf_counter()
        prepared = prepare(args, root)
        note(
            f"{n} devices, {prepared['shift_ops']} shift operations, "
            f"ready in {time.perf_counter() - t0:.0f} s"
        )
        rng = random.Random(args.seed + 1)
        offsets = sorted(rng.uniform(0, args.window) for _ in range(n))
        offsets = [o - offsets[0] for o in offsets]  # the first arrives at once
        plan = {
            "store": str(prepared["station"]),
            "made": prepared["made"],
            "sessions": n * 2,
            "key_interval": args.key_interval,
            "under": args.under,
            "deadline": args.window + 600,
        }
        plan_file = root / "plan.json"
        plan_file.write_text(json.dumps(plan))
        station = Station(plan_file)
        try:
            ready = station.next(600)
            port = ready["port"]
            note(
                f"station mode on 127.0.0.1:{port}; quiet keystrokes done; "
                f"devices arriving within {args.window:g} s"
            )
            first = time.time()
            round1 = arrivals(prepared["devices"], port, offsets, args.timeout)
            refused = [f"{r['store']}: {why}" for r in round1 if (why := failed(r))]
            if refused:  # the station can never hold every shift: say why now, not after a timeout
                raise RuntimeError(f"round 1 syncs failed: {refused}")
            merged = station.next(args.window + 600)
            if merged.get("event") != "merged":
                raise RuntimeError(f"expected the station's merged event, got {merged}")
            note(
                f"round 1: {n} syncs done; the station holds every shift "
                f"{merged['at'] - first:.1f} s after the first arrival"
            )
            round2 = again(prepared["devices"], port, args.parallel, args.timeout)
            last_end = max(r["ended"] for r in round2)
            result = station.next(600 + QUIET_KEYS * 5)
            code = station.proc.wait(120)
        finally:
            station.stop()
            stop_devices()
    if code != 0:
        note(f"the station exited {code}: {''.join(station.stderr)[-2000:]}")
    failures = [
        f"{r['store']} round {k}: {why}"
        for k, rs in ((1, round1), (2, round2))
        for r in rs
        if (why := failed(r))
    ]
    hashes = {r.get("state_hash") for r in round2} | {result["state_hash"]}
    what = prepared["store"]
    emit(
        "shift_operations",
        prepared["shift_ops"],
        "ops",
        n,
        conflict_edits=prepared["conflict_edits"],
        shared_cases=prepared["shared_cases"],
        cases=args.cases,
        seed=args.seed,
        store=what,
    )
    emit("arrival_window_s", offsets[-1], "s", n, seed=args.seed)
    emit(
        "merged_at_station_s",
        merged["at"] - first,
        "s",
        n,
        what="first arrival to the station holding every device's shift, no session open (view folded)",
    )
    emit(
        "converged_s",
        last_end - first,
        "s",
        n,
        what="first arrival to the end of round 2 (each device synced again, at most "
        f"{args.parallel} at a time): every store's state hash equal",
        round2_s=sig(last_end - min(r["started"] for r in round2)),
    )
    emit("state_hashes_match", int(len(hashes) == 1), "bool", n, distinct=len(hashes))
    sessions = [p for rs in (round1, round2) for r in rs for p in r.get("peers") or []]
    emit(
        "sessions_ok",
        sum(1 for p in sessions if not p.get("error")),
        "count",
        n,
        station_done=result["serving"]["done"],
    )
    emit(
        "sessions_failed",
        len(failures),
        "count",
        n,
        station_failed=result["serving"]["failed"],
        station_refused=result["serving"]["refused"],
    )
    round1_s = [p["seconds"] for r in round1 for p in r.get("peers") or []]
    emit(
        "session_s_round_1_median",
        statistics.median(round1_s) if round1_s else 0,
        "s",
        n,
        max_s=sig(max(round1_s, default=0)),
    )
    emit("bytes_round_1", moved(round1), "B", n, what="session bytes both ways, all devices")
    emit("bytes_round_2", moved(round2), "B", n, what="session bytes both ways, all devices")
    keystroke_figures(n, result["quiet"], result["busy"], args.cases, args.under)
    emit(
        "supervisor_refreshes_while_busy",
        result["supervisor_refreshes"],
        "count",
        n,
        load_calls=len(result["supervisor_load_s"]),
        load_s_median=sig(statistics.median(result["supervisor_load_s"] or [0])),
        load_s_max=sig(max(result["supervisor_load_s"] or [0])),
        draw_s_median=sig(statistics.median(result["supervisor_draw_s"] or [0])),
        draw_s_max=sig(max(result["supervisor_draw_s"] or [0])),
        apply_s_total=sig(result["apply_s"]),
        fold_s=result["fold_s"][-10:],
    )
    emit(
        "where_the_app_thread_was",
        result["samples"]["busy"],
        "samples",
        n,
        busy=result["where_busy"],
        quiet=result["where_quiet"],
        quiet_samples=result["samples"]["quiet"],
        every_ms=SAMPLE_S * 1000,
    )
    for failure in failures:
        note(f"failure: {failure}")
    return 0 if code == 0 and not failures and len(hashes) == 1 else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--devices", type=int, default=30, help="officers' devices arriving at the shift end")
    add("--cases", type=int, default=17_000, help="cases in the station's history (17,000: ~100k records)")
    add(
        "--quick",
        action="store_true",
        help="a small run for the smoke test: 4 devices, 2,000 cases, 10 s window",
    )
    add("--window", type=float, default=60.0, help="the devices arrive within this many seconds")
    add("--ops-min", type=int, default=20, help="fewest operations in a device's shift")
    add("--ops-max", type=int, default=40, help="most operations in a device's shift")
    add("--conflicts", type=int, default=2, help="risk edits per device on cases several devices edit")
    add("--parallel", type=int, default=4, help="devices syncing at once in round 2")
    add(
        "--under",
        choices=("supervisor", "home"),
        default="supervisor",
        help="the screen Find is opened over (home: no supervisor's screen refreshing under it)",
    )
    add("--key-interval", type=float, default=0.25, help="seconds between a key shown and the next key")
    add("--timeout", type=float, default=120.0, help="each `fieldapp sync --timeout`")
    add("--seed", type=int, default=20240611, help="seed of the history, the shifts and the arrivals")
    add("--workdir", type=Path, help="make the temporary stores in this directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    if args.quick:
        args.devices, args.cases, args.window = (
            min(args.devices, 4),
            min(args.cases, 2000),
            min(args.window, 10.0),
        )
        args.ops_min, args.ops_max = min(args.ops_min, 5), min(args.ops_max, 10)
    if args.devices < 1 or args.cases < 100 or not 1 <= args.ops_min <= args.ops_max or args.parallel < 1:
        build_parser().error(
            "need --devices >= 1, --cases >= 100, 1 <= --ops-min <= --ops-max, --parallel >= 1"
        )
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    return simulate(args)


if __name__ == "__main__":
    sys.exit(main())
