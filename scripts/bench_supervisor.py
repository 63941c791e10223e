#!/usr/bin/env python3
"""The `supervisor` bench: the supervisor's screen on a station's whole caseload.

Set-up (not timed): the `ui` bench's station history (`bench_ui.build_store`), applied
into the store of one of the station's two supervisors: `--cases` cases (17,000 is the
~100,000 records of the other benches), re-keyed to the default KDF.

Timed, in a fresh child process per repeat, in `FieldApp.run_test(size=(100, 30))`,
after unlocking and reaching home:

- ``supervise_open_s``: `d` to the dashboard drawn and the app settled (every case read
  with its history, the dashboard's figures and charts, the review queue, the devices);
  ``supervise_first_frame_s``: `d` to the screen's first frame (it then reads the cases in
  slices, answering keys between them, and draws the figures when all are read);
- ``tab_review_s``, ``tab_devices_s``, ``tab_reports_s``: `2`, `3`, `4` to the tab drawn;
- ``refresh_s``: ctrl+r with nothing changed (only changed cases are read again);
- ``landed_refresh_K_s`` (K = 10, 100): the refresh a landed session asks for
  (`action_refresh`) after K random cases changed (a note recorded on each, on this device:
  the change feed a merge fills is the same, `sync.changes`), to the figures drawn; and
  ``full_refresh_s``: the same refresh reading every case again (the feed's token dropped,
  as before issue 16's incremental refresh). ``..._cpu_s``: the app's thread's CPU time over
  the same span (what keys wait behind, the drawing included; the figures themselves are
  computed in a thread); ``..._read_s``: of it, the cases read again (`_read_case`, timed by a
  wrapper) and ``..._cases``: how many. Medians of `LANDED_ROUNDS` rounds each;
- ``decide_s``: a supervisor's decision from the review queue (approving the first
  escalation, or keeping the shown value of the first conflict, or closing the first red
  case) to the queue and dashboard redrawn;
- ``peak_rss_mb``: the UI process's peak RSS.

Reference (`base_child`, another fresh child, no UI): ``dashboard_figures`` = what the
screen computes: `build_dashboard` over the view's cases (`reports.state_facts`: no
operation decoded), `review_queue` and the devices.
Every figure is one JSON line on stdout; commentary goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import PASSPHRASE, note, peak_rss_mb, scratch_dir, sig
from bench_ui import Frames, add_station_options, build_store, settled, unlock_to_home

from fieldapp.core.service import CaseService
from storage import FieldDB

HERE = Path(__file__).resolve()
#: Refreshes timed per figure of the landed sessions' refresh (per child), and the K of each.
LANDED_ROUNDS = 3
LANDED_CHANGES = (10, 100)
REFERENCES = ("dashboard_figures",)
#: No target is set for this screen; the home screen's (<= 2 s) is the yardstick used.
TARGET_S = 2.0


def emit(
    figures: dict[tuple[str, str], float], impl: str, name: str, value: float, unit: str, **extra: Any
) -> None:
    """One figure as a JSON line (as `bench_common.emit` prints them; references joined by "_")."""
    figures[(impl, name)] = value
    ratio_vs = {}
    if impl == "fieldapp":
        ratio_vs = {r: sig(value / figures[(r, name)]) for r in REFERENCES if figures.get((r, name), 0) > 0}
    shown = name if impl == "fieldapp" else f"{impl}_{name}"
    figure = {"bench": "supervisor", "name": shown, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs, "impl": impl, **extra}
    print(json.dumps(figure, ensure_ascii=False), flush=True)


async def drive(store: Path) -> dict[str, Any]:
    """Unlock, home, `d`, the tabs, a refresh and one decision: seconds of each."""
    from textual.widgets import DataTable, Input, RadioButton

    from fieldapp.tui.app import FieldApp
    from fieldapp.tui.screens.supervisor import SupervisorScreen
    from fieldapp.tui.screens.supervisor_dialogs import ConflictDialog

    frames = Frames()
    t_start = time.perf_counter()
    app = FieldApp(store, lang="zh", lock_after=None)
    out: dict[str, Any] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        frames.hook(app)
        await unlock_to_home(app, pilot, frames, t_start)

        async def timed(keys: list[str]) -> float:
            t0 = time.perf_counter()
            await app._press_keys(keys)
            last = await settled(pilot, frames, t0)
            # The supervisor's screen reads the caseload in slices without drawing between
            # them: "settled" is reached only once it says it has finished.
            while getattr(app.screen, "gathering", False):
                await asyncio.sleep(0.05)
                last = await settled(pilot, frames, t0)
            return last - t0

        t0 = time.perf_counter()
        out["supervise_open_s"] = await timed(["d"])
        out["supervise_first_frame_s"] = next(t for t in frames.times if t >= t0) - t0
        screen = app.screen
        if not isinstance(screen, SupervisorScreen) or screen.board is None:
            raise RuntimeError(f"expected the supervisor's screen, got {screen!r}")
        out["cases"] = screen.board.total
        out["queue"] = dict(screen.queue.counts)
        out["tab_review_s"] = await timed(["2"])
        out["tab_devices_s"] = await timed(["3"])
        out["tab_reports_s"] = await timed(["4"])
        out["tab_dashboard_s"] = await timed(["1"])
        out["refresh_s"] = await timed(["ctrl+r"])
        out.update(await landed_refreshes(screen, pilot, frames))
        await timed(["2"])
        decisions = [i for i in screen.queue.items if i.kind in ("escalation", "conflict", "red_closure")]
        if decisions:
            item = decisions[0]
            table = screen.query_one("#queue", DataTable)
            table.focus()
            table.move_cursor(row=table.get_row_index(item.key))
            await timed(["enter"])  # the dialog opens
            if item.kind == "red_closure":
                app.screen.query_one("#reason", Input).value = "所长审核结案"
            if isinstance(app.screen, ConflictDialog):  # nothing is chosen beforehand: keep the shown value
                dialog = app.screen
                shown = next(i for i, value in enumerate(dialog.values) if dialog.is_shown(value))
                dialog.query_one(f"#value-{shown}", RadioButton).value = True
            out["decide_s"] = await timed(["ctrl+s"])
            out["decided"] = item.kind
            if app.screen is not screen:
                raise RuntimeError(f"the decision did not record: {app.screen!r}")
    out["peak_rss_mb"] = peak_rss_mb()
    return out


async def landed_refreshes(screen: Any, pilot: Any, frames: Frames) -> dict[str, Any]:
    """The refresh after K cases changed (K in LANDED_CHANGES) and after a whole read: seconds
    to the figures drawn and the app's thread's CPU seconds, medians of LANDED_ROUNDS each."""
    service = screen.service
    ids = sorted(c for c, state in service.cases_view().items() if state.get("exists"))
    rng = random.Random(16)
    reading = [0, 0.0]  # cases read, seconds
    read_case = screen._read_case

    def timed_read(case_id: str, state: Any) -> None:
        t0 = time.perf_counter()
        read_case(case_id, state)
        reading[0] += 1
        reading[1] += time.perf_counter() - t0

    screen._read_case = timed_read

    async def refresh(changed: int | None) -> tuple[float, float, float, int]:
        if changed is None:
            screen._read_to = None  # every case read again, as a refresh did before the change feed
        else:
            for case_id in rng.sample(ids, min(changed, len(ids))):
                service.update(case_id, note="交班时补充的记录")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        reading[:] = [0, 0.0]
        cpu, t0 = time.thread_time(), time.perf_counter()
        screen.action_refresh()
        last = await settled(pilot, frames, t0)
        while screen.gathering:
            await asyncio.sleep(0.05)
            last = await settled(pilot, frames, t0)
        return last - t0, time.thread_time() - cpu, reading[1], reading[0]

    out: dict[str, Any] = {}
    for changed in (*LANDED_CHANGES, None):
        name = "full_refresh" if changed is None else f"landed_refresh_{changed}"
        runs = [await refresh(changed) for _ in range(LANDED_ROUNDS)]
        out[f"{name}_s"] = statistics.median(r[0] for r in runs)
        out[f"{name}_cpu_s"] = statistics.median(r[1] for r in runs)
        out[f"{name}_read_s"] = statistics.median(r[2] for r in runs)
        out[f"{name}_cases"] = statistics.median(r[3] for r in runs)
    screen._read_case = read_case
    return out


def base_child(store: Path) -> dict[str, Any]:
    """The dashboard's figures without the UI (the reference): what the screen computes."""
    from fieldapp.core.station import device_rows, fork_rows
    from fieldapp.domain.review import review_queue
    from fieldapp.outputs.dashboard import build_dashboard
    from fieldapp.outputs.reports import state_facts

    db = FieldDB.open(store, PASSPHRASE)
    try:
        service = CaseService(db)
        t0 = time.perf_counter()
        replica = service.replica
        states = [s for s in replica.view("cases").values() if s["exists"]]
        board = build_dashboard(states, areas=service.areas(), facts_of=state_facts)
        review_queue(replica.view("cases").values(), fork_rows(service), replica.rejections.all())
        device_rows(service)
        t1 = time.perf_counter()
    finally:
        db.close()
    return {"dashboard_figures_s": t1 - t0, "cases": board.total}


def run_child(mode: str, store: Path) -> dict[str, Any]:
    """A measuring child in a fresh interpreter; its result."""
    cmd = [sys.executable, str(HERE), "_child", mode, str(store)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} child failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_supervisor(args: argparse.Namespace) -> None:
    """Build the supervisor's store once, then `--repeats` fresh runs of each child."""
    if args.quick:
        args.cases, args.repeats = min(args.cases, 1000), 1
    started = time.perf_counter()
    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; building a supervisor's store of {args.cases} cases")
        store, what = build_store(args, root, random.Random(args.seed), measured_role="supervisor")
        ui_runs, base_runs = [], []
        for i in range(args.repeats):
            for mode in ("ui", "base") if i % 2 == 0 else ("base", "ui"):
                # Each UI run decides one item, so each starts from a fresh copy of the store.
                copy = root / f"run{i}-{mode}"
                subprocess.run(["cp", "-a", str(store), str(copy)], check=True, timeout=300)
                (ui_runs if mode == "ui" else base_runs).append(run_child(mode, copy))
                subprocess.run(["rm", "-rf", str(copy)], check=True, timeout=300)
            ui = ui_runs[-1]
            note(
                f"repeat {i + 1}: d {ui['supervise_open_s']:.2f} s, refresh {ui['refresh_s']:.2f} s, "
                f"decide ({ui.get('decided')}) {ui.get('decide_s', float('nan')):.2f} s, "
                f"landed refresh (10 cases) {ui['landed_refresh_10_s']:.2f} s, "
                f"full refresh {ui['full_refresh_s']:.2f} s, "
                f"reference {base_runs[-1]['dashboard_figures_s']:.2f} s"
            )
    figures: dict[tuple[str, str], float] = {}
    label = f"{round(args.cases / 1000)}k" if args.cases >= 1000 else str(args.cases)
    med = statistics.median
    opened = f"supervise_open_s_{label}"
    emit(figures, "dashboard_figures", opened, med(b["dashboard_figures_s"] for b in base_runs), "s")
    extra = {"cases": args.cases, "store": what, "repeats": args.repeats, "target": TARGET_S}
    emit(figures, "fieldapp", opened, med(u["supervise_open_s"] for u in ui_runs), "s", **extra)
    for name in (
        "supervise_first_frame_s",
        "tab_review_s",
        "tab_devices_s",
        "tab_reports_s",
        "tab_dashboard_s",
        "refresh_s",
    ):
        emit(figures, "fieldapp", f"{name}_{label}", med(u[name] for u in ui_runs), "s")
    kinds = ("", "_cpu", "_read")
    full = {k: med(u[f"full_refresh{k}_s"] for u in ui_runs) for k in kinds}
    read_all = med(u["full_refresh_cases"] for u in ui_runs)
    for kind in kinds:
        emit(figures, "fieldapp", f"full_refresh{kind}_s_{label}", full[kind], "s", cases_read=read_all)
    for changed in LANDED_CHANGES:
        read = med(u[f"landed_refresh_{changed}_cases"] for u in ui_runs)
        for kind in kinds:
            value = med(u[f"landed_refresh_{changed}{kind}_s"] for u in ui_runs)
            name = f"landed_refresh_{changed}{kind}_s_{label}"
            ratio = sig(value / full[kind])
            emit(figures, "fieldapp", name, value, "s", changed=changed, cases_read=read, vs_full=ratio)
    decided = [u["decide_s"] for u in ui_runs if "decide_s" in u]
    if decided:
        kind = ui_runs[0].get("decided")
        emit(figures, "fieldapp", f"decide_s_{label}", med(decided), "s", decided=kind)
    emit(figures, "fieldapp", f"peak_rss_mb_{label}", max(u["peak_rss_mb"] for u in ui_runs), "MB")
    note(f"done in {time.perf_counter() - started:.0f} s")


def build_parser() -> argparse.ArgumentParser:
    """The command line when run alone (`bench.py supervisor` takes the same options)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_station_options(parser, repeats=3, quick_cases=1000)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point; ``_child MODE STORE`` runs one measuring child."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        mode, store = argv[1], Path(argv[2])
        result = asyncio.run(drive(store)) if mode == "ui" else base_child(store)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return
    bench_supervisor(build_parser().parse_args(argv))


if __name__ == "__main__":
    main()
