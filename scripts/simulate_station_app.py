#!/usr/bin/env python3
"""The station's app in scripts/simulate_station: ``python scripts/simulate_station_app.py PLAN``.

A child process of scripts/simulate_station.py (PLAN: a JSON file it writes). `FieldApp` with
station mode on (the code path of `fieldapp station open --interface 127.0.0.1`), headless in
`run_test`: unlocked, the supervisor's screen (`d`) loaded, Find opened over it (the palette's
"Find"; with ``"under": "home"`` in the plan, over the home screen instead), then keys typed
into Find's filter from another thread (`Typist`), one every ``key_interval`` s after the last
one showed: `QUIET_KEYS` before any device connects, then until every expected session has
landed (printing ``{"event": "ready", "port": P}`` when it starts and ``{"event": "merged"}``
once the station holds every device's shift with no session open), then `QUIET_KEYS` again.
Its last stdout line is the result: every keystroke's timings, where the app's thread was while
keys waited, the sessions that landed, the supervisor screen's refreshes, the final state hash.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve()
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent)]

from bench_common import PASSPHRASE  # noqa: E402
from bench_ui import KEYS, filter_texts  # noqa: E402

#: Typed in every phase: the `ui` bench's keys, then backspaces back to an empty filter.
SIM_KEYS: tuple[str, ...] = (*KEYS, *["backspace"] * len(filter_texts()[-1]))
#: Keystrokes in each quiet phase (before the devices arrive, and after the last has synced).
QUIET_KEYS = 2 * len(SIM_KEYS)
KEY_TIMEOUT = 60.0
SAMPLE_S = 0.005
PROJECT_DIRS = ("/fieldapp/", "/sync/", "/storage/")


class Sampler(threading.Thread):
    """Where the app's (main) thread is, every SAMPLE_S, while `active` is set."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.main = threading.main_thread().ident
        self.active = threading.Event()
        self.stopped = threading.Event()
        self.counts: Counter[str] = Counter()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.active.wait(0.2)
            if self.active.is_set():
                frame = sys._current_frames().get(self.main or 0)
                if frame is not None:
                    self.counts[where(frame)] += 1
            time.sleep(SAMPLE_S)


def where(frame: FrameType) -> str:
    """The innermost frame of the project's code (else the innermost), as "module.function";
    the widgets rendering their lines for a frame (Textual's `Compositor._get_renders`, which our
    `wide_chars._render_chops` calls) as "textual.render_lines", not as ours."""
    innermost = frame
    rendering = False
    while frame is not None:
        name = frame.f_code.co_filename
        if any(d in name for d in PROJECT_DIRS) and "/site-packages/" not in name:
            if rendering and frame.f_code.co_name.startswith("_render_chops"):
                return "textual.render_lines"
            module = name.split("/")[-2] + "/" + name.split("/")[-1].removesuffix(".py")
            return f"{module}.{frame.f_code.co_name}"
        rendering = rendering or frame.f_code.co_name == "_get_renders"
        frame = frame.f_back  # type: ignore[assignment]
    return f"{Path(innermost.f_code.co_filename).stem}.{innermost.f_code.co_name}"


class Spans:
    """perf_counter (start, end) of every call of some functions, in whichever thread runs them."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[float, float]]] = {}

    def wrap(self, owner: type, name: str, label: str | None = None) -> None:
        import functools

        original = getattr(owner, name)
        spans = self.calls.setdefault(label or name, [])

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spans.append((t0, time.perf_counter()))

        setattr(owner, name, timed)

    def within(self, label: str, t0: float, t1: float) -> float:
        """Seconds of `label`'s calls inside [t0, t1]."""
        return sum(max(0.0, min(b, t1) - max(a, t0)) for a, b in self.calls.get(label, []))


def key_event(key: str) -> Any:
    """The Key event a terminal's driver makes of `key` (as Pilot's `press` makes it)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


class Typist:
    """Types into Find's filter as a person at a terminal does: from another thread (the driver's
    input thread sends keys the same way), so a key is sent on time even while the app's thread
    is busy, and its latency counts the wait."""

    def __init__(
        self,
        app: Any,
        filter_box: Any,
        spans: Spans,
        frames: list[float],
        sampler: Sampler,
        interval: float,
    ) -> None:
        self.app, self.filter_box, self.spans, self.frames = app, filter_box, spans, frames
        self.sampler, self.interval = sampler, interval
        #: Set by the app's thread at every frame drawn.
        self.drawn = threading.Event()
        self.texts = filter_texts(SIM_KEYS)
        self.position = 0
        main = threading.main_thread().ident
        self._main_clock = time.pthread_getcpuclockid(main) if main is not None else None

    def _main_cpu(self) -> float:
        """CPU seconds the app's (main) thread has used."""
        return time.clock_gettime(self._main_clock) if self._main_clock is not None else 0.0

    def keystroke(self) -> dict[str, Any]:
        """Send the next key; wait for the first frame drawn after Find's results were refilled."""
        index = self.position % len(SIM_KEYS)
        key, text = SIM_KEYS[index], self.texts[index]
        self.position += 1
        event = key_event(key)
        event.set_sender(self.app)
        self.drawn.clear()
        t_key, cpu0 = time.perf_counter(), self._main_cpu()
        self.sampler.active.set()
        self.app._driver.send_message(event)
        deadline = t_key + KEY_TIMEOUT
        while True:
            self.drawn.wait(0.05)
            self.drawn.clear()
            fills = [s for s in self.spans.calls["fill"] if s[0] >= t_key]
            shown = [f for f in self.frames if fills and f >= fills[-1][1]]
            if shown and self.filter_box.value == text:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{key!r} was not shown within {KEY_TIMEOUT} s")
        t_shown = shown[0]
        self.sampler.active.clear()
        return {
            "ms": (t_shown - t_key) * 1000,
            "cpu_ms": (self._main_cpu() - cpu0) * 1000,
            "supervisor_load_ms": self.spans.within("supervisor_load", t_key, t_shown) * 1000,
            "supervisor_draw_ms": self.spans.within("supervisor_draw", t_key, t_shown) * 1000,
            "apply_ms": self.spans.within("apply", t_key, t_shown) * 1000,
            "fold_ms": self.spans.within("fold", t_key, t_shown) * 1000,
            "at": time.time(),
        }

    def type(self, count: int | None, until: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
        """`count` keystrokes, or keystrokes until `until()`, `interval` s apart (run in a thread)."""
        done: list[dict[str, Any]] = []
        while (count is not None and len(done) < count) or (until is not None and not until()):
            done.append(self.keystroke())
            time.sleep(self.interval)
        return done


async def station_child(plan: dict[str, Any]) -> dict[str, Any]:
    """The app in station mode: unlock, `d`, Find over it, type; the keystrokes and the landings."""
    from textual.widgets import Input

    from fieldapp.domain.search import CaseIndex
    from fieldapp.tui.app import FieldApp
    from fieldapp.tui.screens.caseload import CaseloadScreen
    from fieldapp.tui.screens.supervisor import SupervisorScreen
    from fieldapp.tui.station_mode import SessionLanded
    from sync.replica import Replica

    spans = Spans()
    spans.wrap(CaseloadScreen, "_fill_rows", "fill")
    spans.wrap(CaseIndex, "find", "find")
    spans.wrap(SupervisorScreen, "_load", "supervisor_load")
    spans.wrap(SupervisorScreen, "action_refresh", "supervisor_refresh")
    spans.wrap(SupervisorScreen, "_redraw", "supervisor_draw")
    spans.wrap(Replica, "apply", "apply")
    spans.wrap(Replica, "_fold", "fold")
    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]  # no blink frames

    frames: list[float] = []
    drew: list[threading.Event] = []  # set at every frame drawn
    expected: dict[str, int] = plan["made"]
    landings: list[dict[str, Any]] = []
    merged: dict[str, float] = {}
    app = FieldApp(Path(plan["store"]), lang="zh", lock_after=None, serve=("127.0.0.1", 0))

    def on_message(message: Any) -> None:
        if isinstance(message, SessionLanded):
            report = message.report
            serving = app.station_mode.serving
            vector = serving.service.replica.vector() if serving else {}
            open_sessions = serving.server.endpoint._open if serving else -1
            landings.append(
                {"at": time.time(), "peer": report.peer, "error": report.error, "received": report.received}
            )
            covered = all(vector.get(chain, 0) >= seq for chain, seq in expected.items())
            if covered and open_sessions == 0 and "at" not in merged:
                merged["at"] = time.time()
                print(json.dumps({"event": "merged", "at": merged["at"]}), flush=True)

    sampler = Sampler()
    sampler.start()
    out: dict[str, Any] = {}
    async with app.run_test(size=(100, 30), message_hook=on_message) as pilot:
        display = app._display

        def drawn(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                frames.append(time.perf_counter())
                for event in drew:
                    event.set()

        app._display = drawn  # type: ignore[method-assign]
        field = app.screen.query_one("#passphrase", Input)
        field.focus()
        field.value = PASSPHRASE
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        for _ in range(600):
            if app.serving is not None:
                break
            await asyncio.sleep(0.05)
        serving = app.station_mode.serving
        if app.serving is None or serving is None:
            raise RuntimeError("station mode did not start")
        server = serving.server
        if plan["under"] == "supervisor":
            await pilot.press("d")
            screen = app.screen
            if not isinstance(screen, SupervisorScreen):
                raise RuntimeError(f"expected the supervisor's screen, got {screen!r}")
            while screen.gathering or screen.board is None:
                await asyncio.sleep(0.05)
        app.action_find()  # the palette's "Find": over the supervisor's screen, or over home
        await pilot.pause()
        find = app.screen
        if not isinstance(find, CaseloadScreen):
            raise RuntimeError(f"expected Find, got {find!r}")
        await pilot.pause(0.5)
        typist = Typist(app, find.query_one("#filter", Input), spans, frames, sampler, plan["key_interval"])
        drew.append(typist.drawn)

        async def typing(count: int | None, until: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
            return await asyncio.to_thread(typist.type, count, until)

        sampler.counts.clear()
        quiet = await typing(QUIET_KEYS)
        where_quiet = Counter(sampler.counts)
        refreshes_before = len(spans.calls["supervisor_refresh"])
        t_busy = time.perf_counter()
        sampler.counts.clear()
        print(json.dumps({"event": "ready", "port": app.serving.port, "at": time.time()}), flush=True)
        sessions = plan["sessions"]
        deadline = time.monotonic() + plan["deadline"]

        def all_landed() -> bool:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(landings)} of {sessions} sessions landed in {plan['deadline']} s")
            return len(landings) >= sessions and server.endpoint._open == 0

        busy = await typing(None, all_landed)
        where_busy = Counter(sampler.counts)
        refreshes = len(spans.calls["supervisor_refresh"]) - refreshes_before
        await app.workers.wait_for_complete()  # the last landing's refresh belongs to the busy phase
        t_quiet = time.perf_counter()

        def busy_spans(label: str) -> list[float]:
            return [round(b - a, 4) for a, b in spans.calls[label] if t_busy <= a < t_quiet]

        await pilot.pause(0.5)
        sampler.counts.clear()
        quiet += await typing(QUIET_KEYS)
        where_quiet += sampler.counts
        service = serving.service
        out = {
            "quiet": quiet,
            "busy": busy,
            "where_quiet": dict(where_quiet.most_common(12)),
            "where_busy": dict(where_busy.most_common(12)),
            "samples": {"quiet": sum(where_quiet.values()), "busy": sum(where_busy.values())},
            "landings": landings,
            "merged_at": merged.get("at"),
            "supervisor_refreshes": refreshes,
            "supervisor_load_s": busy_spans("supervisor_load"),
            "supervisor_draw_s": busy_spans("supervisor_draw"),
            "apply_s": sum(busy_spans("apply")),
            "fold_s": busy_spans("fold"),
            "state_hash": service.state_hash(),
            "serving": {
                "done": app.serving.done,
                "failed": app.serving.failed,
                "refused": app.serving.refused,
            },
        }
    sampler.stopped.set()
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the station's app on the plan; print the result as one JSON line."""
    argv = sys.argv[1:] if argv is None else argv
    plan = json.loads(Path(argv[0]).read_text())
    print(json.dumps(asyncio.run(station_child(plan)), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
