"""Every screen and dialog of a supervisor's station, in Chinese: no English word on screen.

The walk opens a supervisor's store holding what a station's day leaves (a fork, a
conflict, an escalation awaiting approval, a resolved case with an agreement), in Chinese,
and visits the unlock screen, home, intake, find, a case and each of its dialogs, the sync
screen after a failed sync, the supervisor's five tabs, a drill-down, the review queue's
conflict, approval and fork dialogs, the revocation dialog, the area dialog and the command
palette with a query that matches nothing. What each shows (the SVG screenshot's text) may
hold ASCII words only where they are ids, codes, key names, units, file paths, command
lines in backticks or proper nouns (`ALLOWED`); any other word is listed with its screen.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil
import socket
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from fieldapp.core.service import CaseService
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.screens.supervisor_dialogs import RevokeDialog
from harness import PASSPHRASE
from harness.replicas import exchange
from tests.fork_station import build_forked_station

pytestmark = pytest.mark.timeout(300)

#: ASCII words a Chinese screen may show (compared lower-case): the product's name, key
#: names, file formats, units and the language switch's own label.
ALLOWED = frozenset(
    {
        "fieldapp",
        # keys (the footer writes ^s for ctrl+s)
        "ctrl",
        "esc",
        "escape",
        "enter",
        "tab",
        "del",
        "delete",
        "shift",
        "up",
        "down",
        "pgup",
        "pgdn",
        # formats and units
        "xlsx",
        "csv",
        "json",
        "html",
        "pdf",
        "kb",
        "mb",
        "gb",
        "kib",
        "mib",
        "tls",
        "lan",
        "id",
        "ip",
        # the language switch names the other language in that language
        "english",
        # the find box's pinyin example (zs = 张三)
        "zs",
    }
)

#: What the walk types (shown back in the inputs, so allowed).
TYPED = ("zzzz", "bad")

WORD = re.compile(r"(?<![A-Za-z0-9_\-.])[A-Za-z]{2,}(?![A-Za-z0-9_\-])")


def screen_lines(svg: str) -> list[str]:
    """The lines a screenshot shows: each <text> element's content, ordered by row then column."""
    svg = re.sub(r"<style>.*?</style>", "", svg, flags=re.S)
    cells: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for attrs, content in re.findall(r"<text([^>]*)>(.*?)</text>", svg, flags=re.S):
        x = re.search(r'\bx="([\d.]+)"', attrs)
        y = re.search(r'\by="([\d.]+)"', attrs)
        if x and y:
            text = html.unescape(re.sub(r"<[^>]+>", "", content)).replace("\xa0", " ")
            cells[float(y.group(1))].append((float(x.group(1)), text))
    return ["".join(text for _, text in sorted(row)) for _, row in sorted(cells.items())]


def english_words(lines: list[str], ids: set[str]) -> set[str]:
    """ASCII words outside the allow-list, ids, file paths and `command lines`."""
    found: set[str] = set()
    for line in lines:
        line = re.sub(r"`[^`]*`", " ", line)  # a command line to type is a code
        line = re.sub(r"\S*[/\\]\S*", " ", line)  # file paths
        for word in WORD.findall(line):
            if word.lower() in ALLOWED or word in ids:
                continue
            if len(word) >= 4 and any(word in an_id for an_id in ids):
                continue  # an id cut where a dialog covers the screen behind it
            found.add(word)
    return found


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The station authority's store after a day: a fork to settle, a conflict, an escalation
    awaiting approval, a resolved case with an agreement."""
    root = tmp_path_factory.mktemp("walk")
    facts = build_forked_station(root)
    boss = CaseService.open(root / "authority", PASSPHRASE)
    officer = CaseService.open(root / "officer1", PASSPHRASE)
    try:
        parties = [
            {"name": "吴某某", "phone": "13600004444", "role": "applicant"},
            {"name": "郑某某", "phone": "13500005555", "role": "respondent"},
        ]
        escalated = officer.new_case(
            "南坡村", "homestead", "orange", "宅基地墙界越线，邻居阻工", parties=parties
        )
        officer.add_visit(escalated["id"], "mediation", "组织双方调解，分歧较大")
        officer.update(escalated["id"], status="escalated", tier=3, reason="需司法所参与")
        resolved = officer.new_case("东岭村", "land", "orange", "两户因田界石移位发生争执", parties=parties)
        officer.add_visit(resolved["id"], "mediation", "组织双方面对面调解，达成一致意见")
        officer.update(
            resolved["id"],
            status="resolved",
            reason="调解成功",
            outcome={"kind": "agreement", "terms": "李某某于本月底前将界石恢复原位"},
        )
        contested = officer.new_case("西河村", "irrigation", "yellow", "轮灌时间安排不均")
        exchange(officer, boss)
        officer.update(contested["id"], fields={"risk": "orange"})
        boss.update(contested["id"], fields={"risk": "red"})
        exchange(officer, boss)
        ids = set(boss.replica.view("cases")) | {boss.replica.anchor.station_id}  # type: ignore[union-attr]
        chains = set(boss.replica.vector())
        ids |= chains | {chain.split(".")[0] for chain in chains}  # device ids, chain ids
        # The fork's two entries (the one not held here names a case this view lacks).
        ids |= {facts[key] for key in ("before", "held", "other", "forked")} | set(facts["fork"].split("."))
        facts.update(
            escalated=escalated["id"],
            resolved=resolved["id"],
            own=boss.identity.device_id,
            other=officer.identity.device_id,
            ids=ids,
        )
    finally:
        officer.close()
        boss.close()
    return facts


async def settle(app: FieldApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def walk(app: FieldApp, pilot: Pilot[None], facts: dict[str, Any], shots: dict[str, str]) -> None:
    """Every screen and dialog, a screenshot of each under its name."""

    def shoot(name: str) -> None:
        shots[name] = app.export_screenshot()

    async def dialog(key: str, name: str, save: bool = True) -> None:
        under = app.screen
        await pilot.press(key)
        await settle(app, pilot)
        opened = app.screen
        assert opened is not under, f"{key} opened no dialog for {name}"
        shoot(name)
        if save:
            await pilot.press("ctrl+s")  # nothing typed: each field's problem is shown too
            await settle(app, pilot)
            shoot(f"{name} (after ctrl+s)")
        if app.screen is opened:
            await pilot.press("escape")
            await settle(app, pilot)
        assert app.screen is under

    shoot("unlock")
    app.screen.query_one("#passphrase", Input).value = PASSPHRASE
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, HomeScreen)
    shoot("home")

    await pilot.press("n")
    await settle(app, pilot)
    shoot("intake")
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    shoot("intake (refused)")
    await pilot.press("escape")
    await settle(app, pilot)

    await pilot.press("f")
    await settle(app, pilot)
    shoot("find")
    await pilot.press(*TYPED[0])
    await settle(app, pilot)
    shoot("find (no match)")
    await pilot.press("escape")
    await settle(app, pilot)

    app.open_case(facts["resolved"])
    await settle(app, pilot)
    assert isinstance(app.screen, CaseScreen)
    shoot("case (resolved)")
    for key, name in (("v", "visit"), ("u", "update"), ("m", "edit"), ("c", "claim"), ("r", "reopen")):
        await dialog(key, f"case: {name} dialog")
    for key, name in (("a", "assign"), ("t", "deadline")):
        await dialog(key, f"case: {name} dialog")
    await pilot.press("escape")
    await settle(app, pilot)
    app.open_case(facts["escalated"])
    await settle(app, pilot)
    shoot("case (escalated)")
    await dialog("e", "case: approval dialog", save=False)  # approved from the review tab below
    await pilot.press("escape")
    await settle(app, pilot)

    # A device that refuses the connection: the sync fails, the summary says so.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        await pilot.press("s")
        await settle(app, pilot)
        shoot("sync")
        await pilot.press(*TYPED[1])
        await pilot.press("enter")
        await settle(app, pilot)
        shoot("sync (bad address)")
        app.screen.query_one("#peer-input", Input).value = f"127.0.0.1:{port}"
        await pilot.press("enter")
        # Synced while the screen was in English, read after switching back (F2): the
        # summary must follow the language, not keep the one it was written in.
        await pilot.press("f2")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        assert app.language == "zh"
        shoot("sync (finished)")
    await pilot.press("escape")
    await settle(app, pilot)

    await pilot.press("d")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    await pilot.press("1")
    await settle(app, pilot)
    shoot("dashboard")
    figures = screen.query_one("#figures", DataTable)
    village = next(str(k.value) for k in figures.rows if str(k.value).startswith("village:"))
    figures.move_cursor(row=figures.get_row_index(village))
    await settle(app, pilot)
    await dialog("p", "area dialog")
    figures.focus()
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, CaseListScreen)
    shoot("drill-down")
    await pilot.press("escape")
    await settle(app, pilot)

    assert app.screen is screen
    await pilot.press("2")
    await settle(app, pilot)
    shoot("review")
    queue = screen.query_one("#queue", DataTable)
    for kind in ("conflict", "escalation", "fork"):
        item = next((i for i in screen.queue.items if i.kind == kind), None)
        assert item is not None, (kind, [i.kind for i in screen.queue.items])
        queue.focus()
        queue.move_cursor(row=queue.get_row_index(item.key))
        await settle(app, pilot)
        shoot(f"review ({kind} highlighted)")
        await pilot.press("enter")
        await settle(app, pilot)
        opened = app.screen
        assert opened is not screen, kind
        shoot(f"{kind} dialog")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        shoot(f"{kind} dialog (after ctrl+s)")
        if app.screen is opened:
            await pilot.press("escape")
            await settle(app, pilot)
        assert app.screen is screen, kind

    await pilot.press("3")
    await settle(app, pilot)
    shoot("devices")
    devices = screen.query_one("#devices-table", DataTable)
    devices.move_cursor(row=devices.get_row_index(facts["own"]))
    await settle(app, pilot)
    shoot("devices (own device highlighted)")
    await pilot.press("x")
    await settle(app, pilot)
    if isinstance(app.screen, RevokeDialog):
        app.screen.query_one("#reason").text = "设备遗失"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        shoot("revoke own device (refused)")
        await pilot.press("escape")
        await settle(app, pilot)
    devices.move_cursor(row=devices.get_row_index(facts["other"]))
    await settle(app, pilot)
    await dialog("x", "revoke dialog")

    await pilot.press("5")
    await settle(app, pilot)
    shoot("shift board")

    await pilot.press("4")
    await settle(app, pilot)
    screen.query_one("#rep-show").press()
    await settle(app, pilot)
    shoot("reports (preview)")
    screen.query_one("#rep-of", Input).value = "2026-13"
    screen.query_one("#rep-show").press()
    await settle(app, pilot)
    shoot("reports (bad month)")
    await pilot.press("escape")
    await settle(app, pilot)

    await pilot.press("ctrl+p")
    await settle(app, pilot)
    shoot("palette")
    await pilot.press(*TYPED[0])
    palette = app.screen
    assert isinstance(palette, CommandPalette)
    for _ in range(50):  # "no matches" is shown after Textual's countdown (0.5 s)
        await pilot.pause(0.05)
        if palette.query("#--no-matches") or palette.query_one("CommandList").option_count:  # type: ignore[attr-defined]
            break
    await pilot.pause()
    shoot("palette (no match)")
    await pilot.press("escape")


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
def test_every_screen_and_dialog_in_chinese_shows_no_english_word(
    station: dict[str, Any], tmp_path: Path, size: tuple[int, int]
) -> None:
    store = tmp_path / "authority"
    shutil.copytree(station["root"] / "authority", store)
    shots: dict[str, str] = {}

    async def main() -> None:
        app = FieldApp(store, lang="zh", lock_after=None)
        async with app.run_test(size=size) as pilot:
            await walk(app, pilot, station, shots)

    asyncio.run(main())
    if os.environ.get("FIELDAPP_WALK_DUMP"):
        dump = Path(os.environ["FIELDAPP_WALK_DUMP"]) / f"{size[0]}x{size[1]}"
        dump.mkdir(parents=True, exist_ok=True)
        for name, svg in shots.items():
            (dump / f"{name}.txt").write_text("\n".join(screen_lines(svg)), encoding="utf-8")
    assert len(shots) >= 40, sorted(shots)
    allowed = station["ids"] | set(TYPED)
    leaks = {name: english_words(screen_lines(svg), allowed) for name, svg in shots.items()}
    leaks = {name: sorted(words) for name, words in leaks.items() if words}
    assert not leaks, "English on Chinese screens:\n" + "\n".join(
        f"  {name}: {' '.join(words)}" for name, words in leaks.items()
    )


def test_the_walk_reads_what_a_screen_shows() -> None:
    """The reader itself: a word split over two styled spans is one word; ids and paths pass."""
    svg = (
        "<svg><style>.r1 { fill: #fff }</style>"
        '<text x="0" y="20">同步</text><text x="24" y="20">Sy</text><text x="36" y="20">nc done</text>'
        '<text x="0" y="40">编号 ab12cd /tmp/pytest/fieldapp-cases.csv `fieldapp sync` ^s</text></svg>'
    )
    lines = screen_lines(svg)
    assert lines[0] == "同步Sync done"
    assert english_words(lines, {"ab12cd"}) == {"Sync", "done"}


def test_revoke_is_not_offered_on_this_devices_own_row_and_its_refusal_reads_in_chinese(
    station: dict[str, Any], tmp_path: Path
) -> None:
    store = tmp_path / "authority"
    shutil.copytree(station["root"] / "authority", store)

    async def main() -> None:
        app = FieldApp(store, lang="zh", lock_after=None)
        async with app.run_test(size=(120, 36)) as pilot:
            app.screen.query_one("#passphrase", Input).value = PASSPHRASE
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.press("d")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, SupervisorScreen)
            await pilot.press("3")
            await settle(app, pilot)
            table = screen.query_one("#devices-table", DataTable)

            def offered() -> bool:
                return any(
                    b.binding.action == "revoke" and b.enabled for b in screen.active_bindings.values()
                )

            table.move_cursor(row=table.get_row_index(station["other"]))
            await settle(app, pilot)
            assert offered()
            table.move_cursor(row=table.get_row_index(station["own"]))
            await settle(app, pilot)
            assert not offered()  # not in the footer, and x does nothing here
            await pilot.press("x")  # pressed anyway: no dialog, and why, in Chinese
            await settle(app, pilot)
            assert app.screen is screen
            assert any("不能吊销" in str(n.message) for n in app._notifications)
            own = next(r for r in screen.devices if r["this_device"])
            app.push_screen(RevokeDialog(app.service, own))  # type: ignore[arg-type]
            await settle(app, pilot)
            dialog = app.screen
            dialog.query_one("#reason").text = "设备遗失"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(app, pilot)
            assert app.screen is dialog  # refused, nothing recorded
            refusal = str(dialog.query_one("#case-dialog-error").render())
            assert "派出所管理设备不能吊销本机" in refusal, refusal
            assert not english_words([refusal], set()), refusal

    asyncio.run(main())
