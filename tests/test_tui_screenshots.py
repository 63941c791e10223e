"""SVG screenshots of home, the intake form and case detail, in Chinese and in English, at 100x30.

Each screenshot is checked for the strings that screen must show in that language, and the
Chinese ones for English labels that would mean a string escaped translation. Set
FIELDAPP_SCREENSHOT_DIR to keep the SVGs for review (they are written to a temporary
directory otherwise).
"""

from __future__ import annotations

import asyncio
import html
import os
import re
from pathlib import Path

import pytest

from fieldapp import i18n
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.intake import IntakeScreen
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices

pytestmark = pytest.mark.timeout(180)

#: English labels that must not appear on a Chinese screen.
ENGLISH_LABELS = (
    "Village",
    "Summary",
    "Risk",
    "Officer:",
    "New intake",
    "Find",
    "Lock",
    "Status",
    "Category",
)


def visible_text(svg: str) -> str:
    """The text an SVG screenshot shows, tags stripped, entities and non-breaking spaces undone."""
    text = re.sub(r"<[^>]+>", "", svg)
    return html.unescape(text).replace("\xa0", " ")


@pytest.fixture
def officer_store(tmp_path: Path) -> tuple[Path, str]:
    """An officer's store: three cases (one assigned by the supervisor, one with a visit)."""
    with station_devices(tmp_path, 1) as (authority, officer):
        first = officer.new_case(
            "东岭村",
            "land",
            "red",
            "两户因田界石移位发生争执",
            parties=[{"name": "张某某", "phone": "13800001111", "role": "applicant"}],
        )
        officer.add_visit(first["id"], "home", "上门走访当事人，了解纠纷起因")
        officer.new_case("西河村", "irrigation", "orange", "灌溉用水先后顺序发生争执")
        assigned = authority.new_case("北塘村", "wages", "yellow", "工地务工人员工资拖欠两个月")
        exchange(officer, authority)
        authority.update(assigned["id"], assign=officer.identity.device_id)
        exchange(officer, authority)
        directory = officer.db.store.directory
    return directory, first["id"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_home_intake_and_case_detail(officer_store: tuple[Path, str], lang: str) -> None:
    store_dir, case_id = officer_store
    keep = os.environ.get("FIELDAPP_SCREENSHOT_DIR")
    shots: dict[str, str] = {}

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            assert isinstance(app.screen, HomeScreen)
            shots["home"] = app.export_screenshot()
            await pilot.press("n")
            await pilot.pause(0.3)
            assert isinstance(app.screen, IntakeScreen)
            shots["intake"] = app.export_screenshot()
            await pilot.press("escape")
            await pilot.pause()
            app.open_case(case_id)
            await pilot.pause(0.3)
            assert isinstance(app.screen, CaseScreen)
            shots["case"] = app.export_screenshot()

    asyncio.run(main())
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, svg in shots.items():
            (Path(keep) / f"{name}-{lang}.svg").write_text(svg, encoding="utf-8")

    i18n.set_language(lang)
    t = i18n.t
    expected = {
        "home": [t("home.mine_title", count=3), t("binding.new_intake"), "东岭村", "北塘村", t("risk.red")],
        "intake": [t("intake.title"), "^s"],
        "case": [case_id, "东岭村", "上门走访当事人", t("category.land"), t("status.open")],
    }
    for name, strings in expected.items():
        text = visible_text(shots[name])
        for string in filter(None, strings):
            assert string in text, f"{name} ({lang}) should show {string!r}"
        if lang == "zh":
            leaked = [label for label in ENGLISH_LABELS if re.search(rf"\b{re.escape(label)}\b", text)]
            assert not leaked, f"{name} (zh) shows English labels {leaked}"


@pytest.fixture
def station_store(tmp_path: Path) -> Path:
    """The station authority's store with an escalation awaiting approval and a conflict."""
    with station_devices(tmp_path, 2) as (authority, first, second):
        escalated = first.new_case("南坡村", "homestead", "orange", "宅基地墙界越线，邻居阻工")
        first.add_visit(escalated["id"], "mediation", "组织双方调解，分歧较大")
        first.update(escalated["id"], status="escalated", tier=3, reason="需司法所参与")
        contested = first.new_case("西河村", "irrigation", "yellow", "轮灌时间安排不均")
        for officer in (first, second):
            exchange(officer, authority)
        exchange(first, second)
        first.update(contested["id"], fields={"risk": "orange"})
        second.update(contested["id"], fields={"risk": "red"})
        for officer in (first, second):
            exchange(officer, authority)
        directory = authority.db.store.directory
    return directory


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_of_the_supervisors_tabs(station_store: Path, lang: str) -> None:
    keep = os.environ.get("FIELDAPP_SCREENSHOT_DIR")
    shots: dict[str, str] = {}

    async def main() -> None:
        app = FieldApp(station_store, lang=lang)
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            await pilot.press("d")
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            for key, name in (("1", "dashboard"), ("2", "review"), ("3", "devices"), ("4", "reports")):
                await pilot.press(key)
                await pilot.pause(0.3)
                shots[name] = app.export_screenshot()

    asyncio.run(main())
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name, svg in shots.items():
            (Path(keep) / f"supervisor-{name}-{lang}.svg").write_text(svg, encoding="utf-8")

    i18n.set_language(lang)
    t = i18n.t
    expected = {
        "dashboard": [
            t("dash.section.open"),
            t("dash.overdue"),
            t("dash.chart.intake"),
            t("category.irrigation"),
        ],
        "review": [t("review.kind.conflict"), t("review.kind.escalation"), t("review.hint")],
        "devices": ["测试所长", "测试辅警0", "测试辅警1", t("devices.role.supervisor"), t("devices.this")],
        "reports": [t("exp.title"), t("rep.title"), t("exp.button")],
    }
    for name, strings in expected.items():
        text = visible_text(shots[name])
        for string in strings:
            assert string in text, f"supervisor {name} ({lang}) should show {string!r}"
        if lang == "zh":
            leaked = [
                label
                for label in (*ENGLISH_LABELS, "Dashboard", "Review", "Devices", "Reports", "Export", "Open")
                if re.search(rf"\b{re.escape(label)}\b", text)
            ]
            assert not leaked, f"supervisor {name} (zh) shows English labels {leaked}"
