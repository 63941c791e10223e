#!/usr/bin/env python3
"""The `ui` bench: the terminal UI on a store of 100,000 cases, headless, as an officer meets it.

Set-up (not timed): an officer's device whose store holds `--cases` cases of its
station, as two years of sync would leave it. Fourteen devices (twelve officers, this
one among them, and two supervisors) are created with `init_device`; their work is
generated as signed operations in time order (`plan_case`: intakes with made-up
Chinese names, villages and summaries, assignments, notes, visits, resolutions, most
of the follow-up visits they schedule, closures) and verified and applied into the
officer's store with `Replica.apply`, in merge sessions of `CHUNK_OPS` operations. The
store is compacted and re-keyed to the default KDF, so unlock costs what it costs a
user. About six stored records per case (its view and ~5 operations): a store of
100,000 records in the store bench's sense holds ~17,000 cases (``--cases 17000``).

Timed, in a fresh child process per repeat (`ui_child`; nothing is cached between
repeats but the operating system's page cache), in `FieldApp.run_test(size=(100, 30))`:

- ``unlock_s``: Enter on the passphrase until `FieldDB.open` has returned in the worker
  (target <= 2 s);
- ``home_interactive_s``: from there to the home screen mounted, its tables filled, the
  last frame drawn and the app idle (target <= 2 s);
- ``start_to_home_s``: process start to the unlock screen drawn, plus the two above;
- ``find_open_s``: `f` to the find screen drawn with its results (the search index
  is built here);
- ``filter_keystroke_ms`` (median) and ``filter_keystroke_p95_ms``: one keystroke in
  the find screen's filter (`KEYS`) to the last frame of the redrawn results
  (target <= 100 ms); ``first_frame_ms`` in its parts: to the first frame after the
  table was refilled;
- ``peak_rss_mb``: the UI process's peak RSS (target <= 400 MB).

"Drawn" is the time of the screen's compositor update (`App._display`, which the
headless driver then discards); "settled" is the app idle with nothing drawn for 0.1 s.
References, measured in another fresh child per repeat (`base_child`) on the same
store, without the UI: ``store_open`` (FieldDB.open), ``home_figures`` (CaseService plus
`home_figures`, what the home screen computes), ``no_ui`` (process start and the two),
``index_build`` (what the find screen builds) and ``scan_only`` (`CaseIndex.find` of the
same filter texts).

Every figure is one JSON line on stdout; commentary goes to stderr. Run alone as
``python scripts/bench_ui.py [--cases N] [--repeats R] [--workdir DIR] [--quick]``;
`bench_ui(args)` is the `bench.py ui` entry point (its figures print as
`bench_common.emit` would with ``REFERENCES["ui"] = (UI_REFERENCES, "_")``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import math
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench_common import FAST_KDF, PASSPHRASE, VILLAGES, fake_name, note, peak_rss_mb, scratch_dir, sig
from bench_merge import DEPARTMENTS, ManualWall, fake_intake, fake_text
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import adopt_enrolment, create_station, issue_certificate
from fieldapp.domain import cases as case_ops
from fieldapp.domain import model
from storage import DEFAULT_KDF, FieldDB
from sync.hlc import HybridClock
from sync.merge import CONFLICTS, REFUSED
from sync.ops import chain_key, encode_body, op_key
from sync.replica import Entry, Replica
from sync.session import SYNC_STATE

HERE = Path(__file__).resolve()
#: The references each fieldapp figure may be compared with (figures of the same name).
UI_REFERENCES = ("store_open", "home_figures", "no_ui", "index_build", "scan_only")
HOME_TARGET_S = 2.0
UNLOCK_TARGET_S = 2.0
KEYSTROKE_TARGET_MS = 100.0
RSS_TARGET_MB = 400.0
#: Keystrokes typed into the find screen's filter: pinyin initials, a village's initials,
#: a Chinese character (as an input method commits it), phone digits, backspaces, two words.
KEYS: tuple[str, ...] = (
    *"zs",
    "backspace",
    "backspace",
    *"dl",
    "backspace",
    "backspace",
    "张",
    "backspace",
    *"138",
    "backspace",
    "backspace",
    "backspace",
    *"xh",
    " ",
    "王",
)
OFFICERS = 12  # device 0 is the one measured
SUPERVISORS = 2
HISTORY_DAYS = 730
FOLLOW_UP_MADE = 0.7  # share of scheduled follow-up visits the officers made
CHUNK_OPS = 20_000  # operations generated and applied per merge session during set-up
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def filter_texts(keys: tuple[str, ...] = KEYS) -> list[str]:
    """The filter's text after each keystroke."""
    text, texts = "", []
    for key in keys:
        text = text[:-1] if key == "backspace" else text + key
        texts.append(text)
    return texts


def size_label(cases: int) -> str:
    """100000 -> "100k" (figure names end with it)."""
    return f"{cases // 1000}k" if cases % 1000 == 0 else str(cases)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile by nearest rank."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def emit_ui(
    figures: dict[tuple[str, str], float], impl: str, name: str, value: float, unit: str, **extra: Any
) -> None:
    """One figure as a JSON line, as `bench_common.emit` prints them (references: `UI_REFERENCES`, "_")."""
    figures[(impl, name)] = value
    ratio_vs = {}
    if impl == "fieldapp":
        ratio_vs = {
            r: sig(value / figures[(r, name)]) for r in UI_REFERENCES if figures.get((r, name), 0) > 0
        }
    shown = name if impl == "fieldapp" else f"{impl}_{name}"
    figure = {"bench": "ui", "name": shown, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs, "impl": impl, **extra}
    print(json.dumps(figure, ensure_ascii=False), flush=True)


# ---------------------------------------------------------------- the store's history


class Chain:
    """A device's log, continued from its head: signs operations as `Replica.make` does."""

    def __init__(self, service: CaseService, wall: ManualWall) -> None:
        me = service.identity
        self.device_id, self.epoch, self.station = me.device_id, me.epoch, service.device_station
        self.role = service.device_role
        self.officer = service.officer
        self._key = Ed25519PrivateKey.from_private_bytes(me.signing_key)
        self.seq, self.prev = service.replica.head(chain_key(me.device_id, me.epoch))
        self.clock = HybridClock(service.replica.clock.last, wall=wall)
        #: Entries not yet applied to the measured store (the announcement first).
        self.pending: list[Entry] = list(service.replica.entries_missing_from({}))

    def record(self, kind: str, entity: str, payload: dict[str, Any]) -> str:
        """Sign the next operation; returns its op key."""
        self.seq += 1
        body = encode_body(
            self.station,
            self.device_id,
            self.epoch,
            self.seq,
            self.prev,
            self.clock.now(),
            kind,
            entity,
            payload,
        )
        self.pending.append((body, self._key.sign(body)))
        self.prev = hashlib.sha256(body).digest()
        return op_key(self.device_id, self.epoch, self.seq)


@dataclass
class Case:
    """A planned case and what its next operations must name."""

    creator: int
    intake: dict[str, Any]
    id: str = ""
    status_base: str | None = None
    assignee_base: str | None = None
    events: list[tuple[int, str, int, dict[str, Any]]] = field(default_factory=list)


def plan_case(
    rng: random.Random, created: int, end: int, creator: int, officers: int, supervisors: int
) -> Case:
    """A case's life: intake, maybe an assignment and a note, a visit, resolution, follow-ups, closure.

    Events are (time ms, kind, device index, details). Old cases are mostly resolved (most of
    their follow-up visits made) or closed, recent ones mostly still open: the home screen
    has a backlog of due follow-ups and passed deadlines, as a station's would.
    """
    case = Case(creator, fake_intake(rng, created))
    events = case.events
    events.append((created, case_ops.CREATE, creator, {}))
    handler = creator
    supervisor = officers + rng.randrange(supervisors)
    age = end - created

    def at(earliest: int, span: int) -> int | None:
        when = earliest + rng.randint(0, max(0, span))
        return when if when < end else None

    if rng.random() < 0.08 and (when := at(created + 60_000, 24 * HOUR_MS)):
        handler = rng.randrange(officers)
        events.append((when, case_ops.ASSIGN, supervisor, {"assignee": handler}))
    last = events[-1][0]
    if rng.random() < 0.08 and (when := at(last + 60_000, 5 * DAY_MS)):
        events.append((when, case_ops.NOTE, handler, {}))
    last = events[-1][0]
    resolve = 0.92 if age > 90 * DAY_MS else 0.6 if age > 14 * DAY_MS else 0.15
    visit = at(last + 2 * HOUR_MS, min(10 * DAY_MS, age // 2))
    if visit is None:
        return case
    if rng.random() < resolve:
        events.append((visit, case_ops.VISIT, handler, {"kind": rng.choice(("mediation", "home", "field"))}))
        resolved = at(visit + HOUR_MS, 3 * DAY_MS)
        if resolved is None:
            return case
        events.append((resolved, case_ops.STATUS, handler, {"status": "resolved"}))
        for days in model.FOLLOW_UP_DAYS:  # the follow-up visits a resolution schedules, mostly made
            when = at(max(resolved + days * DAY_MS, events[-1][0] + 60_000), 5 * DAY_MS)
            if when is not None and rng.random() < FOLLOW_UP_MADE:
                events.append((when, case_ops.VISIT, handler, {"kind": "follow_up"}))
        if rng.random() < 0.3 and (
            when := at(max(resolved + 90 * DAY_MS, events[-1][0] + 60_000), 90 * DAY_MS)
        ):
            closer = supervisor if case.intake["risk"] == "red" else handler  # red: supervisors only
            events.append((when, case_ops.STATUS, closer, {"status": "closed"}))
        return case
    if rng.random() < 0.4:
        events.append((visit, case_ops.VISIT, handler, {"kind": rng.choice(model.VISIT_KINDS)}))
        if rng.random() < 0.3 and (when := at(visit + HOUR_MS, 2 * DAY_MS)):
            events.append((when, case_ops.STATUS, handler, {"status": "in_progress"}))
    elif rng.random() < 0.05:
        events.append((visit, case_ops.STATUS, handler, {"status": "referred"}))
    return case


def payload(
    rng: random.Random, case: Case, kind: str, details: dict[str, Any], chains: list[Chain]
) -> dict[str, Any]:
    """The operation's payload, as CaseService would record it."""
    if kind == case_ops.CREATE:
        p = case.intake
        return p | {"flags": sorted(set(p["flags"])), "parties": p["parties"]}
    if kind == case_ops.ASSIGN:
        return {"assignee": chains[details["assignee"]].device_id, "base": case.assignee_base}
    if kind == case_ops.NOTE:
        return {"text": fake_text(rng)}
    if kind == case_ops.VISIT:
        place = f"{rng.choice(VILLAGES)[0]}{rng.randint(1, 12)}组"
        return {
            "kind": details["kind"],
            "note": fake_text(rng),
            "place": place,
            "participants": fake_name(rng),
        }
    status = details["status"]
    out: dict[str, Any] = {"status": status, "reason": fake_text(rng, 1), "base": case.status_base}
    if status == "resolved":
        out["outcome"] = {"kind": "agreement", "terms": "双方签订调解协议，赔偿三千元"}
    elif status == "referred":
        out["referral"] = {"department": rng.choice(DEPARTMENTS), "notified": "电话通知"}
    return out


def plan_all(
    rng: random.Random, cases: int, end: int, chains: list[Chain]
) -> tuple[list[Case], list[tuple[int, int, int, str, int, dict[str, Any]]]]:
    """`cases` cases created over HISTORY_DAYS before `end`, and all their events in time order."""
    officers = sum(1 for c in chains if c.role == "officer")
    supervisors = len(chains) - officers
    start = end - HISTORY_DAYS * DAY_MS
    created = sorted(rng.randrange(start, end - HOUR_MS) for _ in range(cases))
    planned = [plan_case(rng, t, end, rng.randrange(officers), officers, supervisors) for t in created]
    events = sorted(
        (when, n, step, kind, device, details)
        for n, case in enumerate(planned)
        for step, (when, kind, device, details) in enumerate(case.events)
    )
    return planned, events


def apply_chains(replica: Replica, chains: list[Chain]) -> None:
    """Verify and apply every device's pending entries into the measured store (one merge session)."""
    with replica.merge_session():
        for chain in chains:
            if chain.pending:
                report = replica.apply(chain.pending)
                if report.rejections or report.held_back or report.duplicates or report.forks:
                    raise RuntimeError(f"the measured store did not take a batch whole: {report}")
                chain.pending = []
    gc.collect()


def check_view(replica: Replica, cases: int) -> dict[str, int]:
    """Every planned case exists and no operation was refused or conflicted; the status mix."""
    view = replica.view("cases")
    live = [c for c in view.values() if c["exists"]]
    bad = [c["id"] for c in live if c.get(REFUSED) or c.get(CONFLICTS)]
    if len(live) != cases or bad:
        raise RuntimeError(
            f"the generated history is wrong: {len(live)} of {cases} cases, refused in {bad[:5]}"
        )
    mix: dict[str, int] = {}
    for c in live:
        mix[c["status"]] = mix.get(c["status"], 0) + 1
    return dict(sorted(mix.items()))


def build_store(
    args: argparse.Namespace,
    root: Path,
    rng: random.Random,
    measured_role: str = "officer",
    station: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """The measured device's store (an officer's, or a supervisor's), holding `args.cases` cases
    of its station, and what it holds.

    With `station` (a name), the measured device, a supervisor's, is made that station's
    authority and enrols the other devices before the history begins (scripts/simulate_station
    serves from it); without, the devices belong to no station (what the UI benches need)."""
    t0 = time.perf_counter()
    wall = ManualWall()
    end = wall.now - HOUR_MS  # the history ends an hour ago (stamps must not be in the future)
    wall.now = end - (HISTORY_DAYS + 1) * DAY_MS  # the devices were set up before it began
    roles = ["officer"] * OFFICERS + ["supervisor"] * SUPERVISORS  # the plan's order: officers first
    me = 0 if measured_role == "officer" else OFFICERS
    stores = [root / ("measured" if i == me else f"device{i}") for i in range(len(roles))]
    for path, role in zip(stores, roles, strict=True):
        init_device(path, PASSPHRASE, fake_name(rng), FAST_KDF, role=role, clock=HybridClock(wall=wall))
    services = [CaseService.open(path, PASSPHRASE, clock=HybridClock(wall=wall)) for path in stores]
    if station is not None:
        create_station(services[me], station)
        for i, s in enumerate(services):
            if i != me:
                adopt_enrolment(
                    s, *issue_certificate(services[me], s.identity.public_key, s.officer, roles[i])
                )
    chains = [Chain(s, wall) for s in services]
    for i, s in enumerate(services):
        if i != me:
            s.close()
    measured = services[me]
    chains[me].pending = []  # its announcement is already in its store
    replica = measured.replica
    try:
        planned, events = plan_all(rng, args.cases, end, chains)
        for i, (when, n, _step, kind, device, details) in enumerate(events):
            case, chain = planned[n], chains[device]
            wall.now = when
            if kind == case_ops.CREATE:  # a case's id derives from the operation that creates it
                case.id = model.case_id_for(chain.device_id, chain.epoch, chain.seq + 1)
            key = chain.record(kind, case.id, payload(rng, case, kind, details, chains))
            if kind == case_ops.CREATE:
                case.intake = {}  # in the operation now
            elif kind == case_ops.STATUS:
                case.status_base = key
            elif kind == case_ops.ASSIGN:
                case.assignee_base = key
            if (i + 1) % CHUNK_OPS == 0:
                apply_chains(replica, chains)
        apply_chains(replica, chains)
        del planned
        mix = check_view(replica, args.cases)
        mine = chain_key(chains[me].device_id, chains[me].epoch)
        head = replica.head(mine)[0]
        # Synced with the station this morning; the last few operations are not out yet.
        replica.local.put(
            SYNC_STATE,
            {
                "at": end / 1000 - 6 * 3600,
                "peer": chains[-1].device_id,
                "chain": mine,
                "seq": max(1, head - 7),
            },
        )
        db = measured.db
        records = sum(len(table) for table in db.store.tables.values())
        db.store.compact()
        snapshot_mb = db.store.snapshot_bytes / 1e6
    finally:
        measured.close()
    db = FieldDB.open(stores[me], PASSPHRASE)
    try:
        db.store.change_passphrase(PASSPHRASE, PASSPHRASE, DEFAULT_KDF)
    finally:
        db.close()
    what = {
        "cases": args.cases,
        "ops": len(events) + len(chains),
        "records": records,
        "snapshot_mb": sig(snapshot_mb),
        "devices": f"{OFFICERS} officers, {SUPERVISORS} supervisors (measured: the {measured_role}'s device)",
        "history_days": HISTORY_DAYS,
        "status_mix": mix,
        "kdf": "default (re-keyed after set-up)",
    }
    note(f"store built in {time.perf_counter() - t0:.0f} s: {what}")
    return stores[me], what


# ---------------------------------------------------------------- measuring, in fresh processes


class Frames:
    """Times of the compositor updates the app hands to its (headless) driver."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def hook(self, app: Any) -> None:
        """Record every `App._display` of a rendered update."""
        display = app._display

        def timed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.times.append(time.perf_counter())

        app._display = timed

    def last_after(self, since: float) -> float:
        """The time of the last frame drawn after `since` (RuntimeError if none was)."""
        if not self.times or self.times[-1] < since:
            raise RuntimeError("nothing was drawn")
        return self.times[-1]


class GcPauses:
    """Garbage-collector pauses (any generation), as (start, end) perf_counter times."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self._start = 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.spans.append((self._start, time.perf_counter()))

    def within(self, t0: float, t1: float) -> float:
        """Seconds of collection between t0 and t1."""
        return sum(max(0.0, min(b, t1) - max(a, t0)) for a, b in self.spans)


def instrument(spans: dict[str, list[tuple[float, float]]]) -> None:
    """Record start and end of the calls that make up each step (in the child process only).

    The find screen's input cursor stops blinking, so that blink frames are not taken for redraws.
    """
    import functools

    from textual.widgets import Input

    from fieldapp.domain.search import CaseIndex
    from fieldapp.tui.app import FieldApp
    from fieldapp.tui.screens.caseload import CaseloadScreen
    from fieldapp.tui.screens.home import HomeScreen

    def wrap(owner: type, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spans[name].append((t0, time.perf_counter()))

        setattr(owner, name, timed)

    wrap(FieldApp, "on_unlock_screen_unlocked")
    wrap(HomeScreen, "_relabel")
    wrap(CaseloadScreen, "_load")
    wrap(CaseloadScreen, "_fill_rows")
    wrap(CaseIndex, "find")
    Input._toggle_cursor = lambda self: None  # type: ignore[method-assign]


def since(spans: list[tuple[float, float]], t0: float) -> list[tuple[float, float]]:
    """The spans that started at or after t0."""
    return [s for s in spans if s[0] >= t0]


async def settled(pilot: Any, frames: Frames, t0: float, quiet: float = 0.1) -> float:
    """Wait until the app is idle and has drawn nothing for `quiet` s; the time of its last frame since t0."""
    from textual._wait import wait_for_idle

    app = pilot.app
    for _ in range(600):
        await app.workers.wait_for_complete()
        await pilot._wait_for_screen()
        drawn = len(frames.times)
        await wait_for_idle(0)
        await asyncio.sleep(quiet)
        screen = app.screen
        pending = screen._layout_required or screen._repaint_required or screen._dirty_widgets
        if len(frames.times) == drawn and not pending:
            return frames.last_after(t0)
    raise RuntimeError("the app never settled")


async def unlock_to_home(app: Any, pilot: Any, frames: Frames, t_start: float) -> None:
    """From the app's start (`t_start`): wait for the unlock screen, submit the passphrase (typed
    already), wait for home to settle (the supervisor and draw benches' common start)."""
    from textual.widgets import Input

    from fieldapp.tui.screens.home import HomeScreen

    await settled(pilot, frames, t_start)
    field = app.screen.query_one("#passphrase", Input)
    field.focus()
    field.value = PASSPHRASE
    await pilot._wait_for_screen()
    t_submit = time.perf_counter()
    await app._press_keys(["enter"])
    await settled(pilot, frames, t_submit)
    if not isinstance(app.screen, HomeScreen):
        raise RuntimeError(f"expected home, got {app.screen!r}")


async def drive(store: Path, spawned: float) -> dict[str, Any]:
    """Unlock, reach home, open find, type `KEYS`: timings (perf_counter seconds) and what was shown."""
    from textual.widgets import DataTable, Input

    from fieldapp.tui.app import FieldApp
    from fieldapp.tui.results import CaseResults
    from fieldapp.tui.screens.caseload import CaseloadScreen
    from fieldapp.tui.screens.home import HomeScreen
    from fieldapp.tui.screens.unlock import UnlockScreen

    spans: dict[str, list[tuple[float, float]]] = {}
    for name in ("on_unlock_screen_unlocked", "_relabel", "_load", "_fill_rows", "find", "open"):
        spans[name] = []
    instrument(spans)

    def timed_open(path: Path, passphrase: str) -> FieldDB:
        t0 = time.perf_counter()
        db = FieldDB.open(path, passphrase)
        spans["open"].append((t0, time.perf_counter()))
        cpu["open_end"] = time.process_time()
        return db

    frames = Frames()
    pauses = GcPauses()
    cpu: dict[str, float] = {}  # process CPU seconds (all threads) at some instants
    t_start = time.perf_counter()
    launch_s = time.time() - spawned
    app = FieldApp(store, lang="zh", open_store=timed_open, lock_after=None)
    out: dict[str, Any] = {"launch_s": launch_s}
    async with app.run_test(size=(100, 30)) as pilot:
        frames.hook(app)
        # The unlock screen: drawn (the hook was set before the first frame: run_test awaits mounting).
        t_ready = await settled(pilot, frames, t_start)
        if not isinstance(app.screen, UnlockScreen):
            raise RuntimeError(f"expected the unlock screen, got {app.screen!r}")
        out["to_unlock_screen_s"] = t_ready - t_start
        field = app.screen.query_one("#passphrase", Input)
        field.focus()
        field.value = PASSPHRASE  # typed already: the time of typing is the user's
        await pilot._wait_for_screen()
        t_submit = time.perf_counter()
        await app._press_keys(["enter"])
        t_home = await settled(pilot, frames, t_submit)
        home_cpu_s = time.process_time() - cpu["open_end"]
        if not isinstance(app.screen, HomeScreen):
            raise RuntimeError(f"expected the home screen, got {app.screen!r}")
        (open_start, open_end), *_ = since(spans["open"], t_submit)
        (handler_start, handler_end), *_ = since(spans["on_unlock_screen_unlocked"], t_submit)
        relabels = since(spans["_relabel"], t_submit)
        out |= {
            "unlock_s": open_end - t_submit,
            "open_s": open_end - open_start,
            "home_s": t_home - open_end,
            "home_gc_s": pauses.within(open_end, t_home),
            "home_cpu_s": home_cpu_s,
            "message_s": handler_start - open_end,
            "handler_s": handler_end - handler_start,
            "fills_s": [round(b - a, 4) for a, b in relabels],
            "after_fills_s": t_home - relabels[-1][1],
            "home_rows": {
                "due": app.screen.query_one("#due", DataTable).row_count,
                "mine": app.screen.query_one("#mine", DataTable).row_count,
            },
        }
        # Find: `f` to the results drawn.
        t_f, c_f = time.perf_counter(), time.process_time()
        await app._press_keys(["f"])
        t_found = await settled(pilot, frames, t_f)
        find_cpu_s = time.process_time() - c_f
        screen = app.screen
        if not isinstance(screen, CaseloadScreen):
            raise RuntimeError(f"expected the find screen, got {screen!r}")
        table = screen.query_one("#cases", CaseResults)
        (load_start, load_end), *_ = since(spans["_load"], t_f)
        out |= {
            "find_open_s": t_found - t_f,
            "find_gc_s": pauses.within(t_f, t_found),
            "find_cpu_s": find_cpu_s,
            "index_s": load_end - load_start,
            "find_rows": table.row_count,
            "indexed": len(screen._index),
        }
        keystrokes = []
        for key, text in zip(KEYS, filter_texts(), strict=True):
            t_key, c_key = time.perf_counter(), time.process_time()
            await app._press_keys([key])
            t_drawn = await settled(pilot, frames, t_key)
            cpu_ms = (time.process_time() - c_key) * 1000
            value = screen.query_one("#filter", Input).value
            if value != text:
                raise RuntimeError(f"after {key!r} the filter holds {value!r}, not {text!r}")
            finds, fills = since(spans["find"], t_key), since(spans["_fill_rows"], t_key)
            # The first frame after the results were refilled shows them; "ms" runs on to the
            # last frame drawn before the app settled (anything drawn later, e.g. a table
            # measuring its rows on idle, counts).
            shown = next(t for t in frames.times if t >= fills[-1][1])
            keystrokes.append(
                {
                    "key": key,
                    "text": text,
                    "ms": (t_drawn - t_key) * 1000,
                    "first_frame_ms": (shown - t_key) * 1000,
                    "gc_ms": pauses.within(t_key, t_drawn) * 1000,
                    "cpu_ms": cpu_ms,
                    "find_ms": sum(b - a for a, b in finds) * 1000,
                    "fill_ms": sum(b - a for a, b in fills) * 1000,
                    "matches": len(screen._shown),
                    "rows": table.row_count,
                }
            )
        out["keystrokes"] = keystrokes
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def ui_child(store: Path, spawned: float) -> dict[str, Any]:
    """Child process: the UI run."""
    return asyncio.run(drive(store, spawned))


def base_child(store: Path, spawned: float) -> dict[str, Any]:
    """Child process: the same work without the UI (the references)."""
    from fieldapp.domain.search import CaseIndex
    from fieldapp.tui.screens.home import home_figures

    launch_s = time.time() - spawned
    pauses = GcPauses()
    t0 = time.perf_counter()
    db = FieldDB.open(store, PASSPHRASE)
    open_s = time.perf_counter() - t0
    open_rss = peak_rss_mb()
    try:
        t0 = time.perf_counter()
        service = CaseService(db)
        device = next(iter(db.table("device").all()))
        figures = home_figures(db.keyed("cases").raw(), str(device["device_id"]), date.today().isoformat())
        home_s = time.perf_counter() - t0
        home_gc_s = pauses.within(t0, t0 + home_s)
        t0 = time.perf_counter()
        cases = [c for c in db.keyed("cases").raw().values() if c.get("exists")]
        cases.sort(key=lambda c: (c.get("created_at") or "", c["id"]), reverse=True)
        index = CaseIndex(cases)
        index_s = time.perf_counter() - t0
        index_gc_s = pauses.within(t0, t0 + index_s)
        scans = []
        for text in filter_texts():
            t0 = time.perf_counter()
            found = index.find(text)
            t1 = time.perf_counter()
            scans.append(
                {
                    "text": text,
                    "ms": (t1 - t0) * 1000,
                    "gc_ms": pauses.within(t0, t1) * 1000,
                    "matches": len(found),
                }
            )
        del service
    finally:
        db.close()
    return {
        "launch_s": launch_s,
        "open_s": open_s,
        "open_rss_mb": open_rss,
        "home_figures_s": home_s,
        "home_gc_s": home_gc_s,
        "home": {"mine": len(figures["mine"]), "due": len(figures["due"]), "total": figures["total"]},
        "index_s": index_s,
        "index_gc_s": index_gc_s,
        "scans": scans,
    }


def run_child(mode: str, store: Path) -> dict[str, Any]:
    """Run `ui_child` or `base_child` in a fresh interpreter; its result."""
    cmd = [sys.executable, str(HERE), "_child", mode, str(store), repr(time.time())]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the {mode} child failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the bench


def bench_ui(args: argparse.Namespace) -> None:
    """The `ui` bench (see the module docstring): set up the store, then `--repeats` fresh runs."""
    if args.quick:
        args.cases, args.repeats = min(args.cases, 2000), 1
    if args.cases < 1 or args.repeats < 1:
        raise SystemExit("the ui bench needs --cases and --repeats >= 1")
    label = size_label(args.cases)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; building a store of {args.cases} cases")
        store, what = build_store(args, root, rng)
        ui_runs, base_runs = [], []
        for i in range(args.repeats):  # interleaved, alternating which goes first
            order = ("ui", "base") if i % 2 == 0 else ("base", "ui")
            for mode in order:
                (ui_runs if mode == "ui" else base_runs).append(run_child(mode, store))
            ui, base = ui_runs[-1], base_runs[-1]
            keys = statistics.median(k["ms"] for k in ui["keystrokes"])
            note(
                f"repeat {i + 1}: unlock {ui['unlock_s']:.2f} s (open {base['open_s']:.2f}), "
                f"home {ui['home_s']:.2f} s (figures {base['home_figures_s']:.2f}), "
                f"find {ui['find_open_s']:.2f} s (index {base['index_s']:.2f}), keystroke {keys:.0f} ms"
            )
    report(args, label, what, ui_runs, base_runs)
    note(f"done in {time.perf_counter() - started:.0f} s")


def report(
    args: argparse.Namespace,
    label: str,
    what: dict[str, Any],
    ui_runs: list[dict[str, Any]],
    base_runs: list[dict[str, Any]],
) -> None:
    """Print every figure: the references first, then fieldapp's with ratios to them.

    Times are medians over the repeats; keystrokes are pooled over the repeats (median and
    95th percentile). `parts` break a figure down (medians): `gc_s` garbage-collector pauses
    inside it, `cpu_s` the process's CPU time over it (less sensitive to a busy machine than
    wall time; it also counts the ~0.1 s idle wait that tells the app has settled).
    """
    figures: dict[tuple[str, str], float] = {}
    common = {"cases": args.cases, "samples": args.repeats}

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    keys = [k for run in ui_runs for k in run["keystrokes"]]
    scans = [s for run in base_runs for s in run["scans"]]
    for run in base_runs:
        run["start_s"] = run["launch_s"] + run["open_s"] + run["home_figures_s"]
    for run in ui_runs:
        run["start_s"] = run["launch_s"] + run["to_unlock_screen_s"] + run["unlock_s"] + run["home_s"]

    def ref(impl: str, name: str, value: float, unit: str, how: str, **extra: Any) -> None:
        emit_ui(figures, impl, f"{name}_{label}", value, unit, what=how, **common, **extra)

    ref("store_open", "unlock_s", med(base_runs, "open_s"), "s", "FieldDB.open, no UI")
    ref(
        "home_figures",
        "home_interactive_s",
        med(base_runs, "home_figures_s"),
        "s",
        "CaseService(db) + home_figures over the cases view, once, no UI",
        parts={"gc_s": sig(med(base_runs, "home_gc_s"))},
        home=base_runs[-1]["home"],
    )
    ref(
        "no_ui",
        "start_to_home_s",
        med(base_runs, "start_s"),
        "s",
        "process start + FieldDB.open + CaseService + home_figures, no UI (no Textual import)",
    )
    ref(
        "index_build",
        "find_open_s",
        med(base_runs, "index_s"),
        "s",
        "the find screen's _load without the UI: live cases, sorted, CaseIndex built",
        parts={"gc_s": sig(med(base_runs, "index_gc_s"))},
    )
    scan_what = f"CaseIndex.find of the same {len(KEYS)} filter texts, no UI"
    scan_ms = [s["ms"] for s in scans]
    scan_parts = {"gc_ms": sig(statistics.median(s["gc_ms"] for s in scans))}
    ref("scan_only", "filter_keystroke_ms", statistics.median(scan_ms), "ms", scan_what, parts=scan_parts)
    ref("scan_only", "filter_keystroke_p95_ms", percentile(scan_ms, 95), "ms", scan_what)
    ref(
        "store_open", "peak_rss_mb", med(base_runs, "open_rss_mb"), "MB", "peak RSS after FieldDB.open, no UI"
    )

    def fig(name: str, value: float, unit: str, target: float | None = None, **extra: Any) -> None:
        met = {} if target is None else {"target": f"<= {target:g} {unit}", "met": value <= target}
        emit_ui(figures, "fieldapp", f"{name}_{label}", value, unit, **common, **met, **extra)

    last = ui_runs[-1]
    fig(
        "unlock_s",
        med(ui_runs, "unlock_s"),
        "s",
        UNLOCK_TARGET_S,
        what="Enter on the unlock screen to FieldDB.open returned in its worker (default KDF)",
        parts={"open_s": sig(med(ui_runs, "open_s"))},
        store=what,
    )
    fig(
        "home_interactive_s",
        med(ui_runs, "home_s"),
        "s",
        HOME_TARGET_S,
        what="store open to the home screen mounted, tables filled, last frame drawn, app idle",
        parts={
            "message_s": sig(med(ui_runs, "message_s")),
            "handler_s": sig(med(ui_runs, "handler_s")),
            "after_fills_s": sig(med(ui_runs, "after_fills_s")),
            "gc_s": sig(med(ui_runs, "home_gc_s")),
            "cpu_s": sig(med(ui_runs, "home_cpu_s")),
            "fills_s_last_run": last["fills_s"],
        },
        rows=last["home_rows"],
    )
    fig(
        "start_to_home_s",
        med(ui_runs, "start_s"),
        "s",
        what="process start to the unlock screen drawn, then Enter to home interactive (typing excluded)",
        parts={
            name: sig(med(ui_runs, key))
            for name, key in (
                ("launch_s", "launch_s"),
                ("to_unlock_screen_s", "to_unlock_screen_s"),
                ("unlock_s", "unlock_s"),
                ("home_interactive_s", "home_s"),
            )
        },
    )
    fig(
        "find_open_s",
        med(ui_runs, "find_open_s"),
        "s",
        what="`f` on home to the find screen drawn with its first results (search index built here)",
        parts={
            "index_s": sig(med(ui_runs, "index_s")),
            "gc_s": sig(med(ui_runs, "find_gc_s")),
            "cpu_s": sig(med(ui_runs, "find_cpu_s")),
        },
        rows=last["find_rows"],
    )
    keys_ms = [k["ms"] for k in keys]
    key_what = "one keystroke in #filter to the last frame of the redrawn results"
    fig(
        "filter_keystroke_ms",
        statistics.median(keys_ms),
        "ms",
        KEYSTROKE_TARGET_MS,
        what=key_what,
        keystrokes=len(keys_ms),
        parts={
            part: sig(statistics.median(k[part] for k in keys))
            for part in ("first_frame_ms", "find_ms", "fill_ms", "gc_ms", "cpu_ms")
        },
        last_run=[
            {"key": k["key"], "matches": k["matches"]}
            | {
                part: sig(k[part])
                for part in ("ms", "first_frame_ms", "find_ms", "fill_ms", "gc_ms", "cpu_ms")
            }
            for k in last["keystrokes"]
        ],
    )
    fig("filter_keystroke_p95_ms", percentile(keys_ms, 95), "ms", KEYSTROKE_TARGET_MS, what=key_what)
    fig(
        "peak_rss_mb",
        med(ui_runs, "peak_rss_mb"),
        "MB",
        RSS_TARGET_MB,
        what="peak RSS of the UI process: unlocked, home shown, find screen open",
    )


def add_station_options(parser: argparse.ArgumentParser, repeats: int, quick_cases: int) -> None:
    """The options of the benches on a station's history (`ui`, `supervisor`)."""
    add = parser.add_argument
    add("--cases", type=int, default=17_000, help="cases in the measured store (17,000 is ~100k records)")
    add(
        "--repeats",
        type=int,
        default=repeats,
        help="fresh UI runs (and reference runs) to take the median of",
    )
    add(
        "--quick",
        action="store_true",
        help=f"a tiny run ({quick_cases:,} cases, 1 repeat) for the smoke test",
    )
    add("--seed", type=int, default=20240611, help="seed of the fake history")
    add("--workdir", type=Path, help="make the temporary data directory in this one")


def build_parser() -> argparse.ArgumentParser:
    """The command line when run alone (`bench.py ui` takes the same options)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_station_options(parser, repeats=5, quick_cases=2000)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point; ``_child MODE STORE SPAWNED`` runs one measuring child."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        mode, store, spawned = argv[1], Path(argv[2]), float(argv[3])
        result = (ui_child if mode == "ui" else base_child)(store, spawned)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return
    bench_ui(build_parser().parse_args(argv))


if __name__ == "__main__":
    main()
