"""Find's results say whose case it is (id, parties, whose phone matched) at 80x24 and 120x36,
deadline whole; the command palette matches pinyin."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.command import CommandList
from textual.widgets import Input

from fieldapp import i18n
from fieldapp.core.service import CaseService, init_device
from fieldapp.tui.app import FieldApp
from fieldapp.tui.results import CaseResults
from fieldapp.tui.screens.caseload import CaseloadScreen
from harness import FAST_KDF, PASSPHRASE

DEADLINE = (dt.date.today() + dt.timedelta(days=20)).isoformat()


def _store(store_dir: Path) -> list[str]:
    """Two cases with two parties each (fake names and numbers); returns their ids."""
    init_device(store_dir, PASSPHRASE, "王小明", FAST_KDF)
    service = CaseService.open(store_dir, PASSPHRASE)
    try:
        first = service.new_case(
            "东岭村",
            "land",
            "red",
            "田界纠纷，两家为地界争执多年",
            parties=[
                {"name": "张三", "phone": "13900001111", "role": "applicant"},
                {"name": "李四", "phone": "13800002222", "role": "party"},
            ],
            deadline=DEADLINE,
        )
        second = service.new_case(
            "西河村",
            "irrigation",
            "orange",
            "灌溉用水",
            parties=[
                {"name": "王五", "phone": "13700003333", "role": "applicant"},
                {"name": "赵六", "phone": "", "role": "party"},
            ],
            deadline=DEADLINE,
        )
        return [str(first["id"]), str(second["id"])]
    finally:
        service.close()


async def _prompts(app: FieldApp, pilot: object, expected: str) -> list[str]:
    """The palette's options once its search has answered: `expected` shown, and 退出 (Quit),
    which the queries here do not match, gone with the list shown before typing. Or after 200
    looks: waiting on what is awaited, not on a guess at the machine's speed."""
    options = app.screen.query_one(CommandList)
    prompts: list[str] = []
    for _ in range(200):
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        if any(expected in p for p in prompts) and not any("退出" in p for p in prompts):
            break
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    return prompts


async def _unlock_and_find(app: FieldApp, pilot: object) -> CaseloadScreen:
    app.screen.query_one("#passphrase").focus()
    await pilot.press(*PASSPHRASE, "enter")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.press("f")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    assert isinstance(app.screen, CaseloadScreen)
    return app.screen


@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_find_shows_ids_parties_whose_phone_matched_and_the_whole_deadline(
    store_dir: Path, lang: str, size: tuple[int, int]
) -> None:
    ids = _store(store_dir)

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=size) as pilot:
            find = await _unlock_and_find(app, pilot)
            table = find.query_one("#cases", CaseResults)
            assert table.row_count == 2
            header = table.render_line(0).text
            room = table.scrollable_content_region.width
            # The whole table fits the screen: nothing hidden to the right.
            assert table.virtual_size.width <= room, (table.virtual_size.width, room)
            assert i18n.t("column.deadline") in header and i18n.t("column.parties") in header
            lines = {table.row_key(row): table.render_line(row + 1).text for row in range(2)}
            for case_id, names in zip(ids, (("张三", "李四"), ("王五", "赵六")), strict=True):
                line = lines[case_id]
                assert case_id in line, line  # the id, whole
                assert all(name in line for name in names), line
                assert DEADLINE in line, line  # the deadline, whole
                assert "…" not in line.split(DEADLINE)[0][-2:], line
                assert cell_len(line.rstrip()) <= room
            # A phone search: the row says whose phone matched, and only theirs.
            find.query_one("#filter", Input).value = "1380000"
            await pilot.pause()
            assert table.row_count == 1 and table.row_key(0) == ids[0]
            line = table.render_line(1).text
            assert i18n.t("find.phone_of", name="李四") in line, line
            assert i18n.t("find.phone_of", name="张三") not in line, line
            assert "张三" in line and DEADLINE in line, line

    asyncio.run(main())


@pytest.mark.timeout(60)
def test_the_palette_matches_commands_by_pinyin(store_dir: Path) -> None:
    _store(store_dir)

    async def main() -> None:
        app = FieldApp(store_dir, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            for query in ("tb", "tongbu"):
                await pilot.press("ctrl+p")
                await pilot.pause()
                await pilot.press(*query)
                prompts = await _prompts(app, pilot, "同步")
                assert any("同步" in p for p in prompts), (query, prompts)
                assert not any("退出" in p for p in prompts), (query, prompts)  # a search, not the list
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"czaj")  # 查找案件 by its initials
            prompts = await _prompts(app, pilot, "查找案件")
            assert any("查找案件" in p for p in prompts) and not any("退出" in p for p in prompts), prompts
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, CaseloadScreen)

    asyncio.run(main())
