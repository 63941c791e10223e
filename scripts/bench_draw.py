#!/usr/bin/env python3
"""The `draw` bench: our whole-character compositor (`fieldapp/tui/wide_chars.py`) against Textual's.

`wide_chars.install()` replaces `textual._compositor.Compositor._render_chops` (the step that cuts
every screen line at the widgets' edges and paints each piece from the topmost widget) with
`wide_chars._render_chops`, which keeps a double-width character whole across such an edge. This
bench renders the same screens with either function and compares them.

Set-up (not timed): the `supervisor` bench's store (`bench_ui.build_store`, the measured device a
supervisor's, `--cases` cases, 17,000 by default). Then one fresh child process, in
`FieldApp.run_test(size=(100, 30))`: unlock, `d` (the supervisor's screen, every case read), and
for each screen below, `--renders` rounds of a full render with each of three `_render_chops`
(rotating which goes first): Textual's (impl "textual"), ours as first written, searching every
line character by character (impl "per_cell", `wide_chars._render_chops_per_cell`), and ours
(impl "fieldapp": only lines with another widget's edge inside them are looked at, segment by
segment):

- ``chops_ms_<screen>``: the `_render_chops` call alone (the whole screen's lines), on the
  widgets' lines rendered beforehand: the cutting and painting that the two functions differ in;
- ``render_ms_<screen>``: `Compositor.render_update(full=True)` (the chops and the joining of
  the strips into lines: what a full frame costs the app's thread after the widgets' lines).

The screens: the supervisor's six tabs (``sup_dashboard`` ... ``sup_persons``) and Find over the
supervisor's screen (``find``: the case list with its filter, as in scripts/simulate_station).
Then per keystroke in Find's filter: the `ui` bench's `KEYS`, typed `--key-rounds` times with
each function installed (in turn), from the key to the app settled: ``key_draw_ms``, the
app thread's time in `Compositor.render_update` (all frames drawn for the key); of it
``key_lines_ms``, the widgets rendering their lines (`Compositor._get_renders`: Textual's and the
widgets' work, the same with either function), and ``key_chops_ms``, `_render_chops` less those
lines. (scripts/simulate_station's sampler names the innermost frame of the project's code, so it
counts the widgets' `render_lines`, called from inside ours, as `wide_chars._render_chops`.)
Figures of ours carry ``ratio_vs`` the other two (the same name under "textual_..." and
"per_cell_..."); medians, and 95th percentiles of the keystrokes.

Every figure is one JSON line on stdout; commentary goes to stderr. Run as
``python scripts/bench.py draw [--cases N] [--renders N] [--key-rounds N] [--quick]``.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import note, scratch_dir, sig
from bench_ui import KEYS, Frames, add_station_options, build_store, filter_texts, settled, unlock_to_home

HERE = Path(__file__).resolve()
#: Textual's `_render_chops`, ours as first written (every line searched character by character)
#: and ours (the fast path); "fieldapp" figures carry ratios to the other two.
IMPLS = ("textual", "per_cell", "fieldapp")
TABS = ("dashboard", "review", "devices", "reports", "shift", "persons")


def chops_functions() -> dict[str, Callable[..., Any]]:
    """Textual's `_render_chops` and ours (before and after the fast path), by impl name."""
    from fieldapp.tui import wide_chars

    return {
        "textual": wide_chars.TEXTUAL_RENDER_CHOPS,
        "per_cell": wide_chars._render_chops_per_cell,
        "fieldapp": wide_chars._render_chops,
    }


def time_screen(screen: Any, renders: int) -> dict[str, dict[str, list[float]]]:
    """`renders` full renders of `screen` with each impl (rotating the order): ms of the chops, of the render.

    The chops are timed on the widgets' lines rendered beforehand (`_get_renders` listed once), so
    that they time the cutting and painting alone, not the widgets' `render_lines` inside it."""
    from textual._compositor import Compositor

    functions = chops_functions()
    compositor = screen._compositor
    region = compositor.size.region
    out: dict[str, dict[str, list[float]]] = {impl: {"chops": [], "render": []} for impl in IMPLS}
    saved = Compositor._render_chops
    lines = list(compositor._get_renders(region))
    try:
        for i in range(renders):
            for impl in IMPLS[i % 3 :] + IMPLS[: i % 3]:
                chops = functions[impl]
                compositor._get_renders = lambda crop: lines
                try:
                    t0 = time.perf_counter()
                    chops(compositor, region, lambda y: True)
                    t1 = time.perf_counter()
                finally:
                    del compositor._get_renders
                Compositor._render_chops = chops  # type: ignore[method-assign]
                t2 = time.perf_counter()
                compositor.render_update(full=True)
                t3 = time.perf_counter()
                out[impl]["chops"].append((t1 - t0) * 1000)
                out[impl]["render"].append((t3 - t2) * 1000)
    finally:
        Compositor._render_chops = saved  # type: ignore[method-assign]
    return out


class DrawClock:
    """The app thread's time in `Compositor.render_update` (``draw``), in the widgets' lines
    rendered for it (``lines``: `Compositor._get_renders`, listed before the chops use them) and
    in `_render_chops` less those lines (``chops``), with either impl."""

    def __init__(self) -> None:
        from textual._compositor import Compositor

        self.impl = "fieldapp"
        self.draw = self.lines = self.chops = 0.0
        functions = chops_functions()
        render_update = Compositor.render_update
        get_renders = Compositor._get_renders

        def timed_renders(compositor: Any, *args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return list(get_renders(compositor, *args))
            finally:
                self.lines += time.perf_counter() - t0

        def timed_chops(compositor: Any, *args: Any) -> Any:
            lines, t0 = self.lines, time.perf_counter()
            try:
                return functions[self.impl](compositor, *args)
            finally:
                self.chops += time.perf_counter() - t0 - (self.lines - lines)

        def timed_update(compositor: Any, *args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return render_update(compositor, *args, **kwargs)
            finally:
                self.draw += time.perf_counter() - t0

        Compositor._get_renders = timed_renders  # type: ignore[method-assign]
        Compositor._render_chops = timed_chops  # type: ignore[method-assign]
        Compositor.render_update = timed_update  # type: ignore[method-assign]


async def drive(store: Path, renders: int, key_rounds: int) -> dict[str, Any]:
    """Unlock, `d`, each tab and Find rendered both ways; Find's keys typed with each impl."""
    from textual.widgets import Input

    from fieldapp.tui.app import FieldApp
    from fieldapp.tui.screens.caseload import CaseloadScreen
    from fieldapp.tui.screens.supervisor import SupervisorScreen

    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]  # no blink frames
    clock = DrawClock()
    frames = Frames()
    t_start = time.perf_counter()
    app = FieldApp(store, lang="zh", lock_after=None)
    keys: dict[str, dict[str, list[float]]] = {impl: {"draw": [], "lines": [], "chops": []} for impl in IMPLS}
    out: dict[str, Any] = {"screens": {}, "keys": keys}
    async with app.run_test(size=(100, 30)) as pilot:
        frames.hook(app)
        await unlock_to_home(app, pilot, frames, t_start)

        async def press(keys: list[str]) -> None:
            t0 = time.perf_counter()
            await app._press_keys(keys)
            await settled(pilot, frames, t0)
            while getattr(app.screen, "gathering", False):
                await asyncio.sleep(0.05)
                await settled(pilot, frames, t0)

        await press(["d"])
        screen = app.screen
        if not isinstance(screen, SupervisorScreen) or screen.board is None:
            raise RuntimeError(f"expected the supervisor's screen, got {screen!r}")
        out["cases"] = screen.board.total
        for number, tab in enumerate(TABS, 1):
            await press([str(number)])
            out["screens"][f"sup_{tab}"] = time_screen(screen, renders)
        await press(["1"])
        t0 = time.perf_counter()
        app.action_find()  # the palette's "Find", over the supervisor's screen
        await settled(pilot, frames, t0)
        find = app.screen
        if not isinstance(find, CaseloadScreen):
            raise RuntimeError(f"expected Find, got {find!r}")
        out["screens"]["find"] = time_screen(find, renders)
        texts = filter_texts()
        for i in range(len(IMPLS) * key_rounds):
            clock.impl = IMPLS[i % len(IMPLS)]
            for key, text in zip(KEYS, texts, strict=True):
                clock.draw = clock.lines = clock.chops = 0.0
                t0 = time.perf_counter()
                await app._press_keys([key])
                await settled(pilot, frames, t0)
                value = find.query_one("#filter", Input).value
                if value != text:
                    raise RuntimeError(f"after {key!r} the filter holds {value!r}, not {text!r}")
                for kind in ("draw", "lines", "chops"):
                    keys[clock.impl][kind].append(getattr(clock, kind) * 1000)
            t0 = time.perf_counter()
            for _ in texts[-1]:  # back to an empty filter for the next round
                await app._press_keys(["backspace"])
            await settled(pilot, frames, t0)
    return out


def child(store: Path, renders: int, key_rounds: int) -> dict[str, Any]:
    """Child process: the whole measurement."""
    return asyncio.run(drive(store, renders, key_rounds))


def emit(impl: str, name: str, value: float, references: dict[str, float], **extra: Any) -> None:
    """One figure as a JSON line (ours with its ratios to the others)."""
    ratio = {ref: sig(value / theirs) for ref, theirs in references.items() if ref != impl and theirs > 0}
    shown = name if impl == "fieldapp" else f"{impl}_{name}"
    figure = {"bench": "draw", "name": shown, "value": sig(value), "unit": "ms"}
    print(json.dumps(figure | {"ratio_vs": ratio, "impl": impl, **extra}, ensure_ascii=False), flush=True)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(result: dict[str, Any], label: str) -> None:
    """Medians of each screen's renders and of the keystrokes (p95 too): the references first."""
    for screen, timings in result["screens"].items():
        for kind in ("chops", "render"):
            name = f"{kind}_ms_{screen}_{label}"
            values = {impl: statistics.median(timings[impl][kind]) for impl in IMPLS}
            for impl in IMPLS[:-1]:
                emit(impl, name, values[impl], {})
            emit("fieldapp", name, values["fieldapp"], values, renders=len(timings["fieldapp"][kind]))
    keys = result["keys"]
    for kind in ("draw", "lines", "chops"):
        for stat, q in (("", 0.5), ("_p95", 0.95)):
            name = f"key_{kind}{stat}_ms_{label}"
            values = {impl: quantile(keys[impl][kind], q) for impl in IMPLS}
            for impl in IMPLS[:-1]:
                emit(impl, name, values[impl], {})
            emit("fieldapp", name, values["fieldapp"], values, keystrokes=len(keys["fieldapp"][kind]))


def bench_draw(args: argparse.Namespace) -> None:
    """Build the supervisor's store, then one measuring child."""
    if args.quick:
        args.cases, args.renders, args.key_rounds = min(args.cases, 1000), 3, 1
    started = time.perf_counter()
    label = f"{round(args.cases / 1000)}k" if args.cases >= 1000 else str(args.cases)
    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; building a supervisor's store of {args.cases} cases")
        store, _what = build_store(args, root, random.Random(args.seed), measured_role="supervisor")
        cmd = [sys.executable, str(HERE), "_child", str(store), str(args.renders), str(args.key_rounds)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"the draw child failed:\n{proc.stderr[-4000:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    note(f"{result['cases']} cases on the supervisor's screen")
    report(result, label)
    note(f"done in {time.perf_counter() - started:.0f} s")


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options of `bench.py draw`."""
    add_station_options(parser, repeats=1, quick_cases=1000)
    add = parser.add_argument
    add("--renders", type=int, default=40, help="full renders of each screen with each function")
    add("--key-rounds", type=int, default=3, help="times the filter's keys are typed with each function")


def main(argv: list[str] | None = None) -> None:
    """Entry point; ``_child STORE RENDERS KEY_ROUNDS`` runs the measuring child."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        result = child(Path(argv[1]), int(argv[2]), int(argv[3]))
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    add_options(parser)
    bench_draw(parser.parse_args(argv))


if __name__ == "__main__":
    main()
