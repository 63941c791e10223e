"""Golden text snapshots of every screen and dialog, at 80x24 and 120x36, in Chinese and English.

Each snapshot is the screen as the user sees it, rendered as Textual's `App.export_screenshot`
renders it (the screen's compositor printed on a recording rich Console of the terminal's
size) but exported as plain text (`Console.export_text`), one file per screen, language and
size under `tests/snapshots/` (`case-open.zh.80x24.txt`), so a change to a screen shows in the
diff that made it.

Reviewing and updating:

- `pytest tests/test_tui_snapshots.py` compares; a mismatch fails with a unified diff per file.
- `FIELDAPP_SNAPSHOT_UPDATE=1 pytest tests/test_tui_snapshots.py` rewrites the goldens (it
  deletes none: the coverage test names stale ones); review them with
  `git diff tests/snapshots/` before committing.
- With `FIELDAPP_SCREENSHOT_DIR=DIR` the same renderings are also written there as SVG
  (`DIR/case-open.zh.80x24.svg`), to look at in a browser.

What is made deterministic rather than hidden: the clock (`fixed_time`: `time.time` and the
project modules' `datetime` read a fake wall clock, Beijing time, that the data builder moves
a minute per operation and that stands still at Monday 2026-03-16 10:00 while the app runs, so
due and overdue mean what they would that day; the app's monotonic clock is a test double),
the time zone (Asia/Shanghai), every device and station key and log epoch (`seeded_identities`,
so case and device ids are the same on every run and nothing sorts differently on a tie), the
store folder and `HOME` (a folder of fixed length under /tmp). (The charts' tick labels need
nothing: `fieldapp.tui.supervisor_dashboard.spaced_ticks` places none that plotext would drop
in an order its set decides.) What
still differs is masked with placeholders of the same width (`Normaliser`): the random part
of the temporary folder and the port of the closed loopback peer the failed sync tries.
Lines are stored without trailing blanks.

Screens and dialogs (`SHOTS`; `test_every_screen_class_has_a_snapshot` fails when a Screen
class in `fieldapp/tui` has none):

- UnlockScreen: unlock, wrong passphrase, demo store's hint, the lock screen after auto-lock.
- HomeScreen: an officer's, a supervisor's, an unenrolled device's.
- IntakeScreen: empty, with each field's problem after ctrl+s, the early warning naming a known
  mobile's cases (folded to one line at 80x24).
- CaseloadScreen (Find): with results for a village.
- CaseScreen: open (overdue, with visits), resolved with an agreement, reopened, escalated;
  after `g` wrote the agreement, and `g` refused on the reopened case (its notifications).
- VisitDialog, UpdateDialog, ClaimDialog, EditDialog (m), ReopenDialog (an officer's case
  dialogs); KeysHelp (F1 on the case screen);
  AssignDialog, DeadlineDialog, ApproveDialog (a supervisor's, from the case).
- Palette (the command palette, ctrl+p).
- SyncScreen: idle, after a failed sync, on an unenrolled device.
- SupervisorScreen: dashboard, review, devices, reports (and the reports' preview), shift board,
  key persons.
- CaseListScreen: a dashboard figure's drill-down.
- PlaceDialog (dashboard), ConflictDialog, CloseDialog, ForkDialog, LinkConflictDialog (review),
  RevokeDialog (devices).
- ServeDialog: F6 on the supervisor's screen, station mode's address asked the first time.
- PartiesDialog (p on a case), PersonScreen (a key person with an overdue plan and a possible
  match), PlanDialog (k), LinkDialog (l), UnlinkDialog (x, once the match is linked).

The three walks (an officer's
store, the station authority's, an unenrolled demo-marked store) run once per language and
size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import importlib
import inspect
import io
import os
import pkgutil
import random
import re
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input

import fieldapp
import fieldapp.core.station
import fieldapp.tui
import sync.identity
from fieldapp.core.demo import DEMO_MARKER
from fieldapp.core.service import init_device
from fieldapp.domain.persons import person_id_for
from fieldapp.tui.app import FieldApp, Palette
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import ClaimDialog, ReopenDialog, UpdateDialog, VisitDialog
from fieldapp.tui.screens.case_edit import EditDialog
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.caseload import CaseloadScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.intake import IntakeScreen
from fieldapp.tui.screens.keys_help import KeysHelp
from fieldapp.tui.screens.link_conflict import LinkConflictDialog
from fieldapp.tui.screens.person import PersonScreen
from fieldapp.tui.screens.person_dialogs import LinkDialog, PartiesDialog, PlanDialog, UnlinkDialog
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.screens.supervisor_dialogs import (
    ApproveDialog,
    AssignDialog,
    CloseDialog,
    ConflictDialog,
    DeadlineDialog,
    ForkDialog,
    PlaceDialog,
    RevokeDialog,
)
from fieldapp.tui.screens.sync import SyncScreen
from fieldapp.tui.screens.unlock import UnlockScreen
from fieldapp.tui.station_mode import ServeDialog
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import converge, copied_twice, station_devices
from tests.fork_station import log_of

pytestmark = pytest.mark.timeout(300)

SIZES = [(80, 24), (120, 36)]
LANGS = ["zh", "en"]
GOLDEN = Path(__file__).parent / "snapshots"
BEIJING = dt.timezone(dt.timedelta(hours=8))
#: "Now" while the app runs: Monday 16 March 2026, 10:00 in Beijing.
NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=BEIJING).timestamp()
DAY = 86_400.0

#: Every snapshot: its name and the screen class on top when it is taken.
SHOTS: dict[str, type[Screen[Any]]] = {
    "unlock": UnlockScreen,
    "unlock-wrong-passphrase": UnlockScreen,
    "home-officer": HomeScreen,
    "intake-empty": IntakeScreen,
    "intake-errors": IntakeScreen,
    "intake-warning": IntakeScreen,
    "find-results": CaseloadScreen,
    "case-open": CaseScreen,
    "dialog-visit": VisitDialog,
    "dialog-update": UpdateDialog,
    "dialog-claim": ClaimDialog,
    "dialog-edit": EditDialog,
    "keys-help-case": KeysHelp,
    "case-resolved-agreement": CaseScreen,
    "dialog-reopen": ReopenDialog,
    "case-agreement-written": CaseScreen,
    "case-reopened": CaseScreen,
    "case-reopened-no-agreement": CaseScreen,
    "palette": Palette,
    "sync-idle": SyncScreen,
    "sync-failed": SyncScreen,
    "lock-after-auto-lock": UnlockScreen,
    "home-supervisor": HomeScreen,
    "case-escalated": CaseScreen,
    "dialog-assign": AssignDialog,
    "dialog-deadline": DeadlineDialog,
    "dialog-approve": ApproveDialog,
    "sup-dashboard": SupervisorScreen,
    "dialog-place": PlaceDialog,
    "sup-drilldown": CaseListScreen,
    "sup-review": SupervisorScreen,
    "dialog-conflict": ConflictDialog,
    "dialog-close": CloseDialog,
    "dialog-fork": ForkDialog,
    "dialog-link-conflict": LinkConflictDialog,
    "sup-devices": SupervisorScreen,
    "dialog-revoke": RevokeDialog,
    "sup-reports": SupervisorScreen,
    "sup-reports-preview": SupervisorScreen,
    "dialog-serve": ServeDialog,
    "sup-shift": SupervisorScreen,
    "sup-persons": SupervisorScreen,
    "unlock-demo-hint": UnlockScreen,
    "home-unenrolled": HomeScreen,
    "sync-unenrolled": SyncScreen,
    "dialog-persons": PartiesDialog,
    "person": PersonScreen,
    "dialog-person-plan": PlanDialog,
    "dialog-person-link": LinkDialog,
    "dialog-person-unlink": UnlinkDialog,
}


# ------------------------------------------------------------------ the clock


class FakeTime:
    """The wall clock `time.time` reads while patched (seconds since the epoch)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def time_ns(self) -> int:
        return int(self.now * 1e9)

    def tick(self, seconds: float = 60.0) -> None:
        """Move on (between two operations, so none shares another's time)."""
        self.now += seconds


_REAL_DATETIME = dt.datetime


class _DatetimeMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATETIME)


class _FakeDatetime(_REAL_DATETIME, metaclass=_DatetimeMeta):
    """`datetime` whose now() reads `time.time` (date.today() already does)."""

    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
        return _REAL_DATETIME.fromtimestamp(time.time(), tz)

    @classmethod
    def today(cls) -> dt.datetime:  # type: ignore[override]
        return _REAL_DATETIME.fromtimestamp(time.time())


def _project_modules() -> Iterator[Any]:
    """Every module of the product and the harness, imported (screens are imported lazily)."""
    for package in ("fieldapp", "sync", "storage"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    for name, module in list(sys.modules.items()):
        if module is not None and name.split(".")[0] in ("fieldapp", "sync", "storage", "harness", "tests"):
            yield module


class _SeededOs:
    """`os` for the modules that draw a device's epoch, drawing from a seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def urandom(self, size: int) -> bytes:
        return self._rng.randbytes(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@contextmanager
def seeded_identities(seed: int) -> Iterator[None]:
    """Device and station keys and log epochs from a seeded generator: the same ids every run
    (so nothing sorts differently on a tie, and no id needs masking)."""
    rng = random.Random(seed)

    def generate(cls: type[Ed25519PrivateKey]) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ed25519PrivateKey, "generate", classmethod(generate))
        for module in (sync.identity, fieldapp.core.station):
            patch.setattr(module, "os", _SeededOs(rng))
        yield


@contextmanager
def fixed_time(clock: FakeTime) -> Iterator[None]:
    """`time.time`, `date.today()` and the project's `datetime.now()` read `clock`; Beijing time."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", clock.time)
        patch.setattr(time, "time_ns", clock.time_ns)
        for module in _project_modules():
            if getattr(module, "datetime", None) is _REAL_DATETIME:
                patch.setattr(module, "datetime", _FakeDatetime)
        patch.setenv("TZ", "Asia/Shanghai")
        time.tzset()
        try:
            yield
        finally:
            patch.undo()
            time.tzset()


class MonotonicClock:
    """The app's monotonic clock (idle time, unlock throttle), moved by the walk."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ the stores


def _root() -> Path:
    # A folder whose name has the same length on every run and machine (the unlock screen and
    # the reports' folder show it); its random part is masked by the normaliser.
    return Path(tempfile.mkdtemp(prefix="fieldapp-snap-", dir="/tmp"))


def build_station(root: Path, clock: FakeTime) -> dict[str, Any]:
    """A station after two weeks: an officer's open, resolved, reopened and overdue cases, an
    escalation awaiting approval, a red case resolved (awaiting closure), a conflict, a fork, a
    person link conflict and a key person whose plan is overdue."""
    party = [
        {"name": "张某某", "phone": "13800001111", "role": "applicant"},
        {"name": "李某", "phone": "13900002222", "role": "respondent"},
    ]
    day = lambda n: dt.date.fromtimestamp(NOW + n * DAY).isoformat()  # noqa: E731
    clock.now = NOW - 14 * DAY
    with station_devices(root, 2) as (boss, first, second):
        clock.tick()
        open_case = first.new_case(
            "东岭村", "land", "red", "两户因田界石移位发生争执，双方互不相让", parties=party, deadline=day(-3)
        )["id"]
        clock.tick()
        first.add_visit(open_case, "home", "上门走访当事人，了解纠纷起因，双方情绪较激动")
        clock.tick(DAY)
        first.add_visit(open_case, "phone", "电话回访，当事人表示愿意接受调解")
        clock.tick()
        resolved = first.new_case(
            "西河村",
            "irrigation",
            "orange",
            "轮灌时间安排不均，上下游农户争抢浇水",
            parties=party,
            deadline=day(5),
        )["id"]
        clock.tick()
        first.add_visit(resolved, "mediation", "组织双方面对面调解，达成一致意见")
        clock.tick()
        first.update(
            resolved,
            status="resolved",
            reason="调解成功",
            outcome={"kind": "agreement", "terms": "上游农户每周一、三、五浇水，下游农户每周二、四、六浇水"},
        )
        clock.tick()
        reopened = first.new_case(
            "南坡村", "homestead", "yellow", "宅基地墙界越线约半米，邻居阻工", parties=party
        )["id"]
        clock.tick()
        first.add_visit(reopened, "mediation", "组织双方调解，约定拆除越线部分")
        clock.tick()
        first.update(
            reopened,
            status="resolved",
            reason="调解成功",
            outcome={"kind": "agreement", "terms": "拆除越线部分"},
        )
        clock.tick(DAY)
        first.reopen(reopened, "一方反悔，未按协议拆除")
        clock.tick()
        escalated = first.new_case("北塘村", "wages", "orange", "工地务工人员工资拖欠两个月", parties=party)[
            "id"
        ]
        clock.tick()
        first.update(escalated, status="escalated", tier=2, reason="涉及多户，需联合调处")
        clock.tick()
        red = second.new_case("青石社区", "neighbor", "red", "邻里之间因排水沟堵塞产生矛盾", parties=party)[
            "id"
        ]
        clock.tick()
        second.add_visit(red, "field", "会同村干部、网格员现场查看排水沟")
        clock.tick()
        second.update(
            red,
            status="resolved",
            reason="调解成功",
            outcome={"kind": "agreement", "terms": "共同出资疏通排水沟"},
        )
        clock.tick()
        contested = second.new_case(
            "西河村", "debt", "yellow", "农资赊欠款三年未还，双方对金额说法不一", parties=party
        )["id"]
        clock.tick()
        converge([boss, first, second])
        clock.tick()
        first.update(contested, fields={"risk": "orange"})
        clock.tick()
        boss.update(contested, fields={"risk": "red"})
        clock.tick()
        assigned = boss.new_case(
            "东岭村", "family", "yellow", "赡养老人费用分担不均，兄弟之间多次争吵", parties=party
        )["id"]
        clock.tick()
        boss.assign(assigned, first.identity.device_id, deadline=day(10))
        clock.tick()
        converge([boss, first, second])
        # A fork: the second officer's store copied and written in both places.
        clock.tick(DAY)
        original, twin = copied_twice(second, root / "officer1-copy")
        try:
            clock.tick()
            original.new_case("岔河村", "debt", "orange", "借款到期未还，双方争执")
            clock.tick()
            twin.new_case("双井村", "neighbor", "yellow", "邻里排水沟堵塞")
            clock.tick()
            boss.replica.apply(log_of(original))
            boss.replica.apply(log_of(twin))
        finally:
            original.close()
            twin.close()
        # The two parties: linked by the officer, unlinked by the supervisor apart (a conflict,
        # the unlink shown); one of them a key person whose plan was due yesterday.
        jia, yi = person_id_for("mobile:13800001111"), person_id_for("mobile:13900002222")
        clock.tick()
        first.link_persons(jia, yi)
        clock.tick()
        boss.link_persons(jia, yi, linked=False)
        clock.tick()
        boss.mark_key_person(yi, "每周上门走访一次，稳控情绪", officer=first.identity.device_id, due=day(-1))
        clock.tick()
        # Only the link reaches the supervisor (the officer's device holds what it held).
        boss.replica.apply(list(first.replica.entries_missing_from(boss.replica.vector())))
        facts = {
            "open": open_case,
            "resolved": resolved,
            "reopened": reopened,
            "escalated": escalated,
            "other_device": first.identity.device_id,
        }
    return facts


def build_unenrolled(root: Path, clock: FakeTime) -> None:
    """A device initialised (`fieldapp init`) but not enrolled, marked as a demo store."""
    clock.now = NOW - DAY
    init_device(root, PASSPHRASE, "新来的辅警", FAST_KDF)
    (root / DEMO_MARKER).write_text("", encoding="utf-8")


@pytest.fixture(scope="module")
def stores() -> Iterator[dict[str, Any]]:
    """The station's stores, built once under the fixed clock; removed afterwards."""
    root = _root()
    clock = FakeTime(NOW)
    try:
        with fixed_time(clock), seeded_identities(20260316):
            facts = build_station(root / "station", clock)
            build_unenrolled(root / "new", clock)
        yield {"root": root, "facts": facts}
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------ rendering and normalising


def render(app: FieldApp) -> Console:
    """The screen as `App.export_screenshot` renders it, on a recording console."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console


class Normaliser:
    """Masks what still differs between runs with same-width placeholders: the random part
    of the temporary folder and the closed peer's port."""

    def __init__(self, root: Path, port: int) -> None:
        self.prefix = str(root)[: -len("########")]  # mkdtemp's random part is 8 characters
        self.port = str(port)

    def __call__(self, text: str) -> str:
        prefix = self.prefix
        text = re.sub(
            re.escape(prefix) + r"[a-z0-9_]{1,8}", lambda m: prefix + "#" * (len(m[0]) - len(prefix)), text
        )
        text = re.sub(rf"(?<![0-9]){self.port}(?![0-9])", "#" * len(self.port), text)
        return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


# ------------------------------------------------------------------ walking the screens


class Walk:
    """Drives one app and keeps a normalised snapshot of each screen it is asked to take."""

    def __init__(self, app: FieldApp, pilot: Pilot[None], normalise: Normaliser, tag: str) -> None:
        self.app, self.pilot, self.normalise, self.tag = app, pilot, normalise, tag
        self.shots: dict[str, str] = {}
        self.svgs: dict[str, str] = {}

    async def settle(self) -> None:
        app = self.app
        await app.workers.wait_for_complete()
        await self.pilot.pause()
        while getattr(app.screen, "gathering", False):
            await self.pilot.pause(0.02)
        await app.workers.wait_for_complete()
        await self.pilot.pause()

    async def press(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.settle()

    def shoot(self, name: str) -> None:
        assert name in SHOTS, name
        screen = self.app.screen
        assert type(screen) is SHOTS[name], f"{name}: {type(screen).__name__} on top"
        console = render(self.app)
        self.shots[name] = self.normalise(console.export_text(clear=False))
        if os.environ.get("FIELDAPP_SCREENSHOT_DIR"):
            self.svgs[name] = console.export_svg(title=self.app.title)
        # What was said stays with the screen it was said on.
        self.app.clear_notifications()

    async def unlock(self, passphrase: str = PASSPHRASE) -> None:
        self.app.screen.query_one("#passphrase", Input).value = passphrase
        await self.press("enter")

    async def dialog(self, key: str, name: str) -> None:
        under = self.app.screen
        await self.press(key)
        assert self.app.screen is not under, f"{key} opened nothing for {name}"
        self.shoot(name)
        await self.press("escape")
        assert self.app.screen is under, name

    async def open_case(self, case_id: str, name: str) -> None:
        self.app.open_case(case_id)
        await self.settle()
        self.shoot(name)


async def officer_walk(walk: Walk, facts: dict[str, Any], clock: MonotonicClock, port: int) -> None:
    """An officer's day: unlock, home, intake, find, cases and their dialogs, palette, sync, lock."""
    app = walk.app
    walk.shoot("unlock")
    await walk.unlock("not-the-passphrase")
    walk.shoot("unlock-wrong-passphrase")
    clock.now += 60  # past the throttle's wait
    await walk.unlock()
    walk.shoot("home-officer")

    await walk.press("n")
    walk.shoot("intake-empty")
    await walk.press("ctrl+s")
    walk.shoot("intake-errors")
    name, phone = app.screen.query_one(".party-name", Input), app.screen.query_one(".party-phone", Input)
    name.value, phone.value = "张某某", "13800001111"  # the applicant of the station's cases
    await walk.settle()
    walk.shoot("intake-warning")
    name.value, phone.value = "", ""  # no draft left behind for the next walk
    await walk.settle()
    await walk.press("escape")

    await walk.press("f")
    app.screen.query_one("#filter", Input).value = "西河村"
    await walk.settle()
    walk.shoot("find-results")
    await walk.press("escape")

    await walk.open_case(facts["open"], "case-open")
    for key, name in (
        ("v", "dialog-visit"),
        ("u", "dialog-update"),
        ("c", "dialog-claim"),
        ("m", "dialog-edit"),
        ("f1", "keys-help-case"),
    ):
        await walk.dialog(key, name)
    await walk.press("escape")
    await walk.open_case(facts["resolved"], "case-resolved-agreement")
    await walk.dialog("r", "dialog-reopen")
    await walk.press("g")  # the printable agreement, written to HOME
    walk.shoot("case-agreement-written")
    await walk.press("escape")
    await walk.open_case(facts["reopened"], "case-reopened")
    await walk.press("g")  # refused: the agreement no longer stands
    walk.shoot("case-reopened-no-agreement")
    await walk.press("escape")

    await walk.press("ctrl+p")
    walk.shoot("palette")
    await walk.press("escape")

    await walk.press("s")
    walk.shoot("sync-idle")
    app.screen.query_one("#peer-input", Input).value = f"127.0.0.1:{port}"
    await walk.press("enter")
    await walk.press("ctrl+s")
    walk.shoot("sync-failed")
    await walk.press("escape")

    await person_walk(walk, facts)

    clock.now += app.lock_after or 0
    app.lock_if_idle()
    await walk.settle()
    walk.shoot("lock-after-auto-lock")


async def person_walk(walk: Walk, facts: dict[str, Any]) -> None:
    """The person of the station's mobile party: from a case's parties (p) to their file, made a
    key person with a plan now overdue, a party of one name in one village and no mobile proposed
    as them; the plan (k), link (l) and, once linked, unlink (x) dialogs."""
    app = walk.app
    service = app.service
    assert service is not None
    # Recorded last, so that no shot before shows them.
    service.new_case(
        "东岭村",
        "land",
        "yellow",
        "田界纠纷，当事人未留电话",
        parties=[{"name": "张某某", "phone": "", "role": "applicant"}],
    )
    due = dt.date.fromtimestamp(NOW - 2 * DAY).isoformat()
    service.mark_key_person(person_id_for("mobile:13800001111"), "每周上门走访一次，稳控双方情绪", None, due)
    app.open_case(facts["open"])
    await walk.settle()
    await walk.press("p")
    walk.shoot("dialog-persons")
    await walk.press("enter")
    walk.shoot("person")
    await walk.dialog("k", "dialog-person-plan")
    await walk.press("l")
    walk.shoot("dialog-person-link")
    await walk.press("enter", "ctrl+s")
    assert type(app.screen) is PersonScreen
    await walk.dialog("x", "dialog-person-unlink")
    await walk.press("escape", "escape")


async def station_walk(walk: Walk, facts: dict[str, Any]) -> None:
    """The supervisor: home, a case's supervisor dialogs, every tab and its dialogs."""
    app = walk.app
    await walk.unlock()
    walk.shoot("home-supervisor")
    await walk.open_case(facts["escalated"], "case-escalated")
    for key, name in (("a", "dialog-assign"), ("t", "dialog-deadline"), ("e", "dialog-approve")):
        await walk.dialog(key, name)
    await walk.press("escape")

    await walk.press("d")
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    walk.shoot("sup-dashboard")
    figures = screen.query_one("#figures", DataTable)
    village = next(str(k.value) for k in figures.rows if str(k.value).startswith("village:"))
    figures.move_cursor(row=figures.get_row_index(village))
    await walk.settle()
    await walk.dialog("p", "dialog-place")
    figures.focus()
    await walk.press("enter")
    walk.shoot("sup-drilldown")
    await walk.press("escape")

    await walk.press("2")
    walk.shoot("sup-review")
    queue = screen.query_one("#queue", DataTable)
    for kind, name in (
        ("conflict", "dialog-conflict"),
        ("red_closure", "dialog-close"),
        ("fork", "dialog-fork"),
        ("link_conflict", "dialog-link-conflict"),
    ):
        item = next(i for i in screen.queue.items if i.kind == kind)
        queue.focus()
        queue.move_cursor(row=queue.get_row_index(item.key))
        await walk.settle()
        await walk.dialog("enter", name)

    await walk.press("3")
    walk.shoot("sup-devices")
    devices = screen.query_one("#devices-table", DataTable)
    devices.move_cursor(row=devices.get_row_index(facts["other_device"]))
    await walk.settle()
    await walk.dialog("x", "dialog-revoke")

    await walk.press("4")
    walk.shoot("sup-reports")
    screen.query_one("#rep-show").press()  # type: ignore[attr-defined]
    await walk.settle()
    walk.shoot("sup-reports-preview")
    await walk.dialog("f6", "dialog-serve")  # station mode: the address is asked the first time
    await walk.press("5")
    walk.shoot("sup-shift")
    await walk.press("6")
    walk.shoot("sup-persons")


async def unenrolled_walk(walk: Walk) -> None:
    """A new device: the demo store's hint on unlock, home and sync before enrolment."""
    walk.shoot("unlock-demo-hint")
    await walk.unlock()
    walk.shoot("home-unenrolled")
    await walk.press("s")
    walk.shoot("sync-unenrolled")


# ------------------------------------------------------------------ the tests


def golden_path(name: str, lang: str, size: tuple[int, int]) -> Path:
    return GOLDEN / f"{name}.{lang}.{size[0]}x{size[1]}.txt"


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", LANGS)
def test_every_screen_matches_its_snapshot(stores: dict[str, Any], lang: str, size: tuple[int, int]) -> None:
    root: Path = stores["root"]
    port = closed_port()
    normalise = Normaliser(root, port)
    shots: dict[str, str] = {}
    svgs: dict[str, str] = {}
    work = root / "open"

    async def run(store: Path, walker: Any, *args: Any, clock: MonotonicClock | None = None) -> None:
        app = FieldApp(store, lang=lang, clock=clock or MonotonicClock(), lock_after=300.0)
        # Notifications on (run_test leaves them off): what the app says is part of the screen.
        async with app.run_test(size=size, notifications=True) as pilot:
            walk = Walk(app, pilot, normalise, lang)
            await walk.settle()  # the first screen drawn whole (its footer too) before its shot
            await walker(walk, *args)
            shots.update(walk.shots)
            svgs.update(walk.svgs)

    def fresh(source: Path, name: str) -> Path:
        target = work / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        return target

    with fixed_time(FakeTime(NOW)), pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(root / "home"))  # where reports and agreements are written
        shutil.rmtree(root / "home", ignore_errors=True)
        (root / "home").mkdir()
        facts = stores["facts"]
        clock = MonotonicClock()
        officer = fresh(root / "station" / "officer0", "officer")
        asyncio.run(run(officer, officer_walk, facts, clock, port, clock=clock))
        asyncio.run(run(fresh(root / "station" / "authority", "station"), station_walk, facts))
        asyncio.run(run(fresh(root / "new", "new"), unenrolled_walk))

    assert set(shots) == set(SHOTS), set(SHOTS) ^ set(shots)
    keep = os.environ.get("FIELDAPP_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, svg in svgs.items():
            (Path(keep) / f"{name}.{lang}.{size[0]}x{size[1]}.svg").write_text(svg, encoding="utf-8")
    compare(shots, lang, size)


def compare(shots: dict[str, str], lang: str, size: tuple[int, int]) -> None:
    """Each shot against its golden file (rewritten with FIELDAPP_SNAPSHOT_UPDATE=1)."""
    update = os.environ.get("FIELDAPP_SNAPSHOT_UPDATE") == "1"
    failures: list[str] = []
    for name, text in sorted(shots.items()):
        path = golden_path(name, lang, size)
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            continue
        if not path.is_file():
            failures.append(f"{path.name}: no golden file (FIELDAPP_SNAPSHOT_UPDATE=1 writes it)")
            continue
        golden = path.read_text(encoding="utf-8")
        if golden != text:
            diff = difflib.unified_diff(
                golden.splitlines(),
                text.splitlines(),
                f"{path.name} (golden)",
                f"{path.name} (now)",
                lineterm="",
            )
            failures.append("\n".join(diff))
    assert not failures, (
        "screens differ from their snapshots (review, then FIELDAPP_SNAPSHOT_UPDATE=1 to accept):\n"
        + "\n\n".join(failures)
    )


def screen_classes() -> set[type[Screen[Any]]]:
    """Every Screen class defined in fieldapp/tui that is not only a base of others."""
    found: set[type[Screen[Any]]] = set()
    for info in pkgutil.walk_packages(fieldapp.tui.__path__, "fieldapp.tui."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.add(cls)
    return {cls for cls in found if not any(other is not cls and issubclass(other, cls) for other in found)}


def test_every_screen_class_has_a_snapshot() -> None:
    missing = {cls.__name__ for cls in screen_classes()} - {cls.__name__ for cls in SHOTS.values()}
    assert not missing, f"screens without a snapshot (add them to SHOTS and a walk): {sorted(missing)}"
    absent = [
        golden_path(name, lang, size).name
        for name in SHOTS
        for lang in LANGS
        for size in SIZES
        if not golden_path(name, lang, size).is_file()
    ]
    assert not absent, f"golden files missing: {absent}"
    expected = {golden_path(name, lang, size).name for name in SHOTS for lang in LANGS for size in SIZES}
    stale = sorted(path.name for path in GOLDEN.glob("*.txt") if path.name not in expected)
    assert not stale, f"golden files of no snapshot (delete them): {stale}"
