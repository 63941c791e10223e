"""Key persons' plan dates on the responsible officer's home screen (issue 17 item 3, docs/persons.md
"Plan dates"): on real stores of a station, the plans written on the supervisor's device and
merged. Fake people only."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from fieldapp.core.service import CaseService
from fieldapp.domain.person_plans import plans_due
from fieldapp.domain.persons import PERSONS_TABLE, person_id_for
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.person import PersonScreen
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices

pytestmark = pytest.mark.timeout(120)

TODAY = date.today()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()
MINE, OTHERS, LATER = "13800002222", "13800003333", "13800004444"


def record(svc: CaseService, village: str, name: str, phone: str) -> str:
    parties = [{"name": name, "phone": phone, "role": "party"}]
    return str(svc.new_case(village, "neighbor", "orange", "邻里纠纷测试记录", parties)["id"])


@pytest.fixture
def planned_store(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """An officer's store after a sync with the supervisor, who gave this officer one key person's
    plan (overdue since yesterday), another officer another (due today), and this officer a plan
    due next week."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as (supervisor, officer, other):
        me, them = officer.identity.device_id, other.identity.device_id
        older = record(officer, "东岭村", "测试甲", MINE)
        wall.now += 60_000
        newest = record(other, "西河村", "测试甲", MINE)  # the same mobile, later, on another device
        record(other, "西河村", "测试乙", OTHERS)
        record(officer, "东岭村", "测试丙", LATER)
        converge([supervisor, officer, other])
        supervisor.mark_key_person(person_id_for(f"mobile:{MINE}"), "每周走访一次", officer=me, due=YESTERDAY)
        supervisor.mark_key_person(
            person_id_for(f"mobile:{OTHERS}"), "联系村干部", officer=them, due=str(TODAY)
        )
        later = (TODAY + timedelta(days=7)).isoformat()
        supervisor.mark_key_person(person_id_for(f"mobile:{LATER}"), "下周回访", officer=me, due=later)
        exchange(supervisor, officer)
        store = officer.db.store.directory
        officer.close()
    return store, {"older": older, "newest": newest}


def test_a_plan_the_supervisor_gave_this_officer_is_due_on_home_and_enter_opens_the_person(
    planned_store: tuple[Path, dict[str, Any]],
) -> None:
    store, facts = planned_store

    async def main() -> None:
        app = FieldApp(store, lang="en")
        async with app.run_test(size=(120, 36)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()  # the unlock, then the plans' index
            await pilot.pause()
            home = app.screen
            assert isinstance(home, HomeScreen)
            table = home.query_one("#due", DataTable)
            keys = [str(row.value) for row in table.rows]
            mine = person_id_for(f"mobile:{MINE}")
            assert keys == [f"plan|{mine}|{YESTERDAY}"]  # not the other officer's, not next week's
            cells = [str(cell) for cell in table.get_row_at(0)]
            assert cells[1:3] == ["西河村", f"Key person's plan {YESTERDAY} overdue"]
            assert cells[3].startswith("测试甲: 每周走访一次")
            assert "Due today and overdue (1)" in str(home.query_one("#due-title").render())
            table.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PersonScreen) and app.screen.person_id == mine
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert {row.case_id for row in app.screen.rows} == {facts["newest"], facts["older"]}

    asyncio.run(main())


def test_a_plan_without_an_officer_is_its_writers_own(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (supervisor, officer):
        record(officer, "东岭村", "测试甲", MINE)
        exchange(supervisor, officer)
        pid = person_id_for(f"mobile:{MINE}")
        supervisor.mark_key_person(pid, "所长亲自约谈", due=YESTERDAY)  # no officer named
        exchange(supervisor, officer)
        for device, shown in ((supervisor, [pid]), (officer, [])):
            persons = device.replica.view(PERSONS_TABLE)
            due = plans_due(device.person_index(), persons, device.identity.device_id, str(TODAY))
            assert [p.person for p in due] == shown
