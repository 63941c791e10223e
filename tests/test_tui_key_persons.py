"""The supervisor's side of persons (issue 17 item 4): the key persons tab and its dashboard
figure, and a concurrent link and unlink settled from the review queue, on real encrypted stores
of a station. Fake people only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, RadioButton

from fieldapp.core.service import CaseService
from fieldapp.domain.fields import station_today
from fieldapp.domain.persons import pair_entity, person_id_for
from fieldapp.outputs.key_persons import key_persons
from fieldapp.tui.app import FieldApp
from fieldapp.tui.key_persons_tab import KeyPersonsTab
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.link_conflict import LinkConflictDialog
from fieldapp.tui.screens.person import PersonScreen
from fieldapp.tui.screens.supervisor import SupervisorScreen
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices
from tests.test_tui_supervisor import run

pytestmark = pytest.mark.timeout(180)


JIA, YI = person_id_for("mobile:13800001111"), person_id_for("mobile:13900002222")


def party(name: str, phone: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "role": "party"}


def intake(svc: CaseService, village: str, risk: str, *parties: dict[str, str]) -> str:
    return str(svc.new_case(village, "neighbor", risk, "邻里纠纷测试记录", list(parties))["id"])


async def supervise(app: FieldApp, pilot: Pilot[None], key: str) -> SupervisorScreen:
    await pilot.press("d")
    await app.workers.wait_for_complete()  # the caseload and the key persons, gathered
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SupervisorScreen)
    await pilot.press(key)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def test_a_concurrent_link_and_unlink_is_settled_from_the_review_queue(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as station:
        boss, first, second = station
        intake(first, "东岭村", "yellow", party("测试甲", "13800001111"), party("测试乙", "13900002222"))
        converge(station)
        # Apart: one officer says the two are one person, the other that they are not.
        first.link_persons(JIA, YI)
        second.link_persons(JIA, YI, linked=False)
        exchange(boss, first)
        exchange(boss, second)  # merged at the supervisor's device only
        shown = boss.replica.view("person_links")[pair_entity(JIA, YI)]["linked"]
    chosen = not shown  # the supervisor chooses the decision not shown now

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "2")
        [item] = [i for i in screen.queue.items if i.kind == "link_conflict"]
        assert screen.queue.counts["link_conflict"] == 1
        queue = screen.query_one("#queue", DataTable)
        await app.workers.wait_for_complete()  # the key persons' gathering brings the names
        await pilot.pause()
        what = str(queue.get_cell(item.key, "what"))
        assert what.startswith(f"测试甲 {JIA} / 测试乙 {YI}"), what  # names, not bare ids
        queue.focus()
        queue.move_cursor(row=queue.get_row_index(item.key))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, LinkConflictDialog)
        writes = str(dialog.query_one("#linkc-writes").render())
        assert "linked them" in writes and "unlinked them" in writes
        persons = str(dialog.query_one("#linkc-persons").render())
        assert "测试甲" in persons and "测试乙" in persons
        assert f"{JIA}: 测试甲 · 13800001111 · 东岭村 · 1 case(s)" in persons  # the mobile tells them apart
        await pilot.press("ctrl+s")  # nothing chosen: said, nothing recorded
        await pilot.pause()
        assert app.screen is dialog
        assert "choose link or unlink" in str(dialog.query_one("#choice-error").render())
        dialog.query_one("#linkc-link" if chosen else "#linkc-unlink", RadioButton).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert screen.queue.counts["link_conflict"] == 0
        assert not [i for i in screen.queue.items if i.kind == "link_conflict"]

    run(tmp_path / "authority", scenario)
    names = ("authority", "officer0", "officer1")
    services = [CaseService.open(tmp_path / name, PASSPHRASE) for name in names]
    try:
        converge(services)  # the decision reaches the officers at their next sync
        assert len({s.state_hash() for s in services}) == 1
        for service in services:
            pair = service.replica.view("person_links")[pair_entity(JIA, YI)]
            assert pair["linked"] is chosen and not any(c["open"] for c in pair["conflicts"])
            index = service.person_index()
            assert (index.resolve(JIA) == index.resolve(YI)) is chosen
    finally:
        for service in services:
            service.close()


@pytest.mark.parametrize("shown", [True, False], ids=["link-shown", "unlink-shown"])
def test_a_supervisor_settles_a_link_conflict_keeping_the_decision_shown(tmp_path: Path, shown: bool) -> None:
    """Settling with the decision shown now is a decision too: recorded, and the conflict closed
    (a link of two ids shown as one person is not refused as "already one person")."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as station:
        boss, first, second = station
        intake(first, "东岭村", "yellow", party("测试甲", "13800001111"), party("测试乙", "13900002222"))
        converge(station)
        earlier, later = (second, first) if shown else (first, second)
        earlier.link_persons(JIA, YI, linked=not shown)
        wall.now += 1000
        later.link_persons(JIA, YI, linked=shown)  # later in the merge's order: shown
        converge(station)
        pair = boss.replica.view("person_links")[pair_entity(JIA, YI)]
        assert pair["linked"] is shown and any(c["open"] for c in pair["conflicts"])
        boss.link_persons(JIA, YI, linked=shown)
        converge(station)
        for device in station:
            pair = device.replica.view("person_links")[pair_entity(JIA, YI)]
            assert pair["linked"] is shown and not any(c["open"] for c in pair["conflicts"])


def test_key_persons_tab_lists_them_and_enter_opens_the_persons_file(tmp_path: Path) -> None:
    wall = ManualWall()
    with station_devices(tmp_path, 1, wall=wall) as (boss, first):
        intake(first, "东岭村", "yellow", party("测试甲", "13800001111"))
        wall.now += 60_000  # a minute later: the newer case (times are kept to the second)
        newest = intake(first, "西河村", "orange", party("测试甲", "138-0000-1111"))
        intake(first, "南坡村", "red", party("测试乙", "13900002222"))
        intake(first, "北塘村", "yellow", party("测试丙", "13700003333"))
        converge([boss, first])
        boss.mark_key_person(YI, "每周走访一次", officer=first.identity.device_id)
        expected = key_persons(boss.person_index(), boss.cases_view(), station_today())
    assert [r.id for r in expected] == [YI, JIA]  # flagged red first, then the repeat

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "1")
        figures = screen.query_one("#figures", DataTable)
        label = str(figures.get_row("key_persons")[0])
        assert "Key persons 2 (flagged 1)" in label
        figures.focus()
        figures.move_cursor(row=figures.get_row_index("key_persons"))
        await pilot.pause()
        await pilot.press("enter")  # the figure shows the Persons tab
        await app.workers.wait_for_complete()
        await pilot.pause()
        tab = screen.query_one(KeyPersonsTab)
        table = tab.query_one("#keyp-table", DataTable)
        assert [str(k.value) for k in table.rows] == [YI, JIA]
        cells = [str(c) for c in table.get_row(JIA)]
        assert cells[0].strip() == "测试甲" and cells[2].strip() == "repeat" and cells[3].strip() == "2"
        assert [str(c).strip() for c in table.get_row(YI)][2] == "key"
        assert table.has_focus
        table.move_cursor(row=table.get_row_index(JIA))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PersonScreen) and app.screen.person_id == JIA
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert newest in {row.case_id for row in app.screen.rows}

    run(tmp_path / "authority", scenario)


def test_the_tab_and_the_figure_say_so_in_chinese(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_boss, first):
        intake(first, "东岭村", "yellow", party("测试甲", "13800001111"))
        intake(first, "西河村", "orange", party("测试甲", "13800001111"))
        converge([_boss, first])
    seen: dict[str, Any] = {}

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "6")
        seen["figure"] = str(screen.query_one("#figures", DataTable).get_row("key_persons")[0])
        seen["summary"] = str(screen.query_one("#keyp-summary").render())
        seen["why"] = str(screen.query_one("#keyp-table", DataTable).get_row(JIA)[2]).strip()

    run(tmp_path / "authority", scenario, lang="zh")
    assert "重点人员 1（已列重点 0）" in seen["figure"]
    assert seen["summary"].startswith("重点人员 1 人") and seen["why"] == "重复"


def test_key_persons_are_not_gathered_under_another_screen_and_are_on_coming_back(tmp_path: Path) -> None:
    """Sessions landing while Find or a case covers the supervisor's screen cost no person index
    (0.6 s each at 17,000 cases); coming back gathers them again."""
    with station_devices(tmp_path, 1) as (boss, first):
        case_id = intake(first, "东岭村", "yellow", party("测试甲", "13800001111"))
        intake(first, "西河村", "orange", party("测试甲", "13800001111"))
        converge([boss, first])

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "1")
        assert screen.key_person_gathers == 1 and screen.key_rows is not None
        app.open_case(case_id)
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        screen.action_refresh()  # as a landed session asks
        await app.workers.wait_for_complete()
        assert screen.key_person_gathers == 1
        await pilot.press("escape")  # back: the caseload and the key persons read again
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen and screen.key_person_gathers == 2

    run(tmp_path / "authority", scenario)
