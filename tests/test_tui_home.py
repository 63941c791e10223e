"""Home figures, finding cases by pinyin, and auto-lock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, Input, Static

from fieldapp import i18n
from fieldapp.core.service import CaseService, init_device
from fieldapp.domain.search import CaseIndex, pinyin_forms
from fieldapp.tui.app import FieldApp
from fieldapp.tui.results import CaseResults
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.caseload import CaseloadScreen
from fieldapp.tui.screens.home import HomeScreen, home_figures
from fieldapp.tui.screens.unlock import UnlockScreen
from harness import FAST_KDF, PASSPHRASE
from storage import FieldDB

ME, OTHER = "me00000000000000", "ot00000000000000"


def case(n: int, **fields: Any) -> dict[str, Any]:
    doc = {
        "id": f"case{n:04d}",
        "exists": True,
        "village": "东岭村",
        "category": "land",
        "risk": "yellow",
        "status": "open",
        "summary": f"纠纷 {n}",
        "deadline": None,
        "parties": [],
        "assignee": None,
        "claimed_by": None,
        "created_by": OTHER,
        "followups": [],
        "created_at": f"2026-11-{n % 28 + 1:02d}T08:00:00+00:00",
    }
    doc.update(fields)
    return doc


def test_home_figures_pick_my_cases_what_is_due_and_count_open_cases_by_risk() -> None:
    view = {
        c["id"]: c
        for c in [
            case(1, assignee=ME, risk="red"),
            case(2, claimed_by=ME),
            case(3, created_by=ME),
            case(4, created_by=ME, assignee=OTHER),  # handed to someone else: not mine
            case(5, followups=[{"due": "2026-11-20", "done": False}, {"due": "2026-12-20", "done": False}]),
            case(6, followups=[{"due": "2026-11-20", "done": True}]),  # done: not due
            case(7, deadline="2026-11-27", risk="orange"),  # passed
            case(8, deadline="2026-11-27", status="resolved"),  # resolved: not overdue
            case(9, deadline="2026-11-28"),  # today: not yet passed
            case(10, created_by=ME, status="closed"),  # closed: not on my list
            case(11, exists=False, assignee=ME),  # never created here
            case(
                12, status="closed", followups=[{"due": "2026-11-20", "done": False}]
            ),  # closed: nothing due
        ]
    }
    figures = home_figures(view, ME, "2026-11-28")
    assert [c["id"] for c in figures["mine"]] == ["case0001", "case0002", "case0003"]
    assert [(what, when, c["id"]) for what, when, c in figures["due"]] == [
        ("followup", "2026-11-20", "case0005"),
        ("deadline", "2026-11-27", "case0007"),
    ]
    # Open = open/in progress/escalated/referred: cases 8 (resolved) and 10 (closed) do not count.
    assert figures["by_risk"] == {"red": 1, "orange": 1, "yellow": 6}  # 2, 3, 4, 5, 6, 9
    assert figures["total"] == 11


def test_names_and_villages_match_by_pinyin_and_initials() -> None:
    assert pinyin_forms("张三") == ("zhangsan", "zs")
    index = CaseIndex(
        [
            case(
                1, parties=[{"name": "张三", "phone": "13800000001", "role": "applicant"}], village="东岭村"
            ),
            case(
                2, parties=[{"name": "李四", "phone": "13900000002", "role": "respondent"}], village="西河村"
            ),
            case(3, summary="宅基地边界 zs 字样", village="南湾村", risk="red", status="resolved"),
        ]
    )
    ids = lambda found: [c["id"] for c in found]  # noqa: E731
    assert ids(index.find("zs")) == ["case0001", "case0003"]  # initials, and literal text in a summary
    assert ids(index.find("zhangsan")) == ["case0001"]
    assert ids(index.find("张")) == ["case0001"]
    assert ids(index.find("xhc")) == ["case0002"]
    assert ids(index.find("xihe 李")) == ["case0002"]  # every word must match
    assert ids(index.find("xihe 张")) == []
    assert ids(index.find("13900")) == ["case0002"]
    assert ids(index.find("", risk="red")) == ["case0003"]
    assert ids(index.find("", status="open")) == ["case0001", "case0002"]
    assert ids(index.find("ZS")) == ["case0001", "case0003"]
    # Narrowing from kept answers (typing on, then backspace) gives what a fresh index gives.
    fresh = CaseIndex(index.find(""))
    for query in [
        "x",
        "xi",
        "xih",
        "xihe",
        "xihe ",
        "xihe l",
        "xihe li",
        "xihe l",
        "xi",
        "",
        "1",
        "13",
        "139",
    ]:
        assert ids(index.find(query)) == ids(CaseIndex(fresh.find("")).find(query)), query
    assert ids(index.find("z", risk="red")) == ["case0003"] and ids(index.find("zs", risk="red")) == [
        "case0003"
    ]


def _store_with_cases(store_dir: Path) -> None:
    init_device(store_dir, PASSPHRASE, "王小明", FAST_KDF)
    service = CaseService.open(store_dir, PASSPHRASE)
    try:
        service.new_case(
            "东岭村", "land", "red", "田界纠纷", parties=[{"name": "张三", "phone": "", "role": "applicant"}]
        )
        service.new_case(
            "西河村",
            "irrigation",
            "yellow",
            "灌溉用水",
            parties=[{"name": "李四", "phone": "", "role": "party"}],
        )
    finally:
        service.close()


@pytest.mark.timeout(60)
def test_find_by_pinyin_initials_in_the_app(store_dir: Path) -> None:
    _store_with_cases(store_dir)

    async def main() -> None:
        app = FieldApp(store_dir, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            assert app.screen.query_one("#mine", DataTable).row_count == 2
            await pilot.press("f")
            await pilot.pause()
            assert isinstance(app.screen, CaseloadScreen)
            assert app.screen.query_one("#cases", CaseResults).row_count == 2
            await pilot.press("z", "s")
            await pilot.pause()
            table = app.screen.query_one("#cases", CaseResults)
            assert table.row_count == 1
            assert "东岭村" in table.get_row_at(0)
            assert "Showing 1 of 2" in str(app.screen.query_one("#case-count", Static).render())
            app.screen.query_one("#filter", Input).value = "nobody"
            await pilot.pause()
            assert app.screen.query_one("#cases", CaseResults).row_count == 0
            empty = app.screen.query_one("#empty-state")
            assert empty.display
            # Laid out on the screen, not below it (both it and the results fill the rest).
            assert empty.region.height > 0 and empty.region.bottom <= app.screen.size.height
            assert i18n.t("find.nothing") in str(empty.render())
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)

    asyncio.run(main())


@pytest.mark.timeout(60)
def test_find_results_keep_columns_aligned_and_open_a_case_on_enter_or_click(store_dir: Path) -> None:
    _store_with_cases(store_dir)

    async def main() -> None:
        app = FieldApp(store_dir, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("f")
            await pilot.pause()
            find = app.screen
            assert isinstance(find, CaseloadScreen)
            table = find.query_one("#cases", CaseResults)
            assert table.row_count == 2
            header, first, second = (table.render_line(y).text for y in range(3))
            assert "风险" in header and "摘要" in header
            # CJK text is two cells wide: each summary starts where its header does.
            column = cell_len(header[: header.index("摘要")])
            for line in (first, second):
                summary = "田界纠纷" if "田界纠纷" in line else "灌溉用水"
                assert cell_len(line[: line.index(summary)]) == column, line
            red = 1 if "田界纠纷" in first else 2
            badge = next(seg.style for seg in table.render_line(red) if seg.text.strip() == "红")
            assert badge is not None and badge.bgcolor is not None and badge.bgcolor.name == "#c62828"
            await pilot.press("f2")  # the headers follow the language
            await pilot.pause()
            assert "Summary" in table.render_line(0).text and "摘要" not in table.render_line(0).text
            await pilot.press("enter")  # from the filter to the results
            assert table.has_focus and table.cursor_row == 0
            await pilot.press("down")
            assert table.cursor_row == 1
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, CaseScreen) and app.screen.case_id == table.row_key(1)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is find
            await pilot.click(CaseResults, offset=(20, 1))  # the first row, under the header
            await pilot.pause()
            assert isinstance(app.screen, CaseScreen) and app.screen.case_id == table.row_key(0)

    asyncio.run(main())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.timeout(60)
def test_the_app_locks_itself_after_the_idle_time(store_dir: Path) -> None:
    _store_with_cases(store_dir)
    clock = FakeClock()

    async def main() -> None:
        app = FieldApp(store_dir, lang="en", clock=clock, lock_after=0.2)
        # Count the app's own idle checks, so the test waits for them to have run rather than
        # for some wall-clock time that a loaded machine may not honour.
        checks = 0
        check = app.lock_if_idle

        def counted() -> None:
            nonlocal checks
            checks += 1
            check()

        app.lock_if_idle = counted  # type: ignore[method-assign]  # before mount: the timer takes this one

        async def idle_checks(count: int) -> None:
            target = checks + count
            while checks < target:
                await asyncio.sleep(0.01)

        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            await idle_checks(2)  # time passes on the wall, not on the app's clock: still in use
            assert isinstance(app.screen, HomeScreen)
            clock.now += 0.1
            await pilot.press("down")  # use resets the idle time
            clock.now += 0.15
            await idle_checks(2)
            assert isinstance(app.screen, HomeScreen)
            clock.now += 1.0  # idle beyond lock_after
            await idle_checks(1)
            await pilot.pause()
            assert isinstance(app.screen, UnlockScreen)
            assert app.db is None
            FieldDB.open(store_dir, PASSPHRASE).close()  # the store was really closed (lock released)

    asyncio.run(main())


@pytest.mark.timeout(60)
def test_the_command_palette_offers_the_main_actions_in_the_ui_language(store_dir: Path) -> None:
    _store_with_cases(store_dir)

    async def main() -> None:
        app = FieldApp(store_dir, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert {"新登记", "查找案件", "同步", "锁定", "退出"} <= set(titles)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"查找")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, CaseloadScreen)

    asyncio.run(main())


#: A summary of 50 cells (CJK: 2 each): cut at the old fixed width of 36, whole at 120 wide.
LONG_SUMMARY = "两户因田界石移位发生争执双方互不相让村委会多次协调"


def _store_with_due_cases(store_dir: Path, count: int) -> list[str]:
    """`count` of my cases, each past its deadline (one due row each); returns their summaries."""
    init_device(store_dir, PASSPHRASE, "王小明", FAST_KDF)
    service = CaseService.open(store_dir, PASSPHRASE)
    summaries = [f"{n:02d}{LONG_SUMMARY}" for n in range(count)]
    try:
        for summary in summaries:  # the service takes a past deadline (only typed ones are refused)
            service.new_case("东岭村", "land", "yellow", summary, deadline="2026-01-05")
    finally:
        service.close()
    return summaries


async def _unlock(app: FieldApp, pilot: Any) -> None:
    app.screen.query_one("#passphrase").focus()
    await pilot.press(*PASSPHRASE, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_shows_every_due_row_and_whole_summaries_at_120x36(store_dir: Path, lang: str) -> None:
    summaries = _store_with_due_cases(store_dir, 11)

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=(120, 36)) as pilot:
            await _unlock(app, pilot)
            assert isinstance(app.screen, HomeScreen)
            due = app.screen.query_one("#due", DataTable)
            mine = app.screen.query_one("#mine", DataTable)
            assert due.row_count == 11 and mine.row_count == 11
            # Every due row on screen (header + 11 lines, nothing to scroll), "My cases" below.
            assert due.region.height == 12 and due.max_scroll_y == 0
            assert mine.region.y >= due.region.bottom and mine.region.bottom <= app.screen.size.height
            shown = {
                line for table in (due, mine) for line in (table.render_line(y).text for y in range(1, 12))
            }
            for summary in summaries:  # each whole, in both tables, not ended with "…"
                assert sum(summary in line for line in shown) == 2, summary
            await pilot.press("f2")  # the other language: still whole
            await pilot.pause()
            assert any(summaries[0] in due.render_line(y).text for y in range(1, 12))

    asyncio.run(main())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_summary_takes_the_width_left_at_80_columns(store_dir: Path, lang: str) -> None:
    _store_with_due_cases(store_dir, 11)

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await _unlock(app, pilot)
            for table in app.screen.query(DataTable):
                line = table.render_line(1).text  # the first row: ends with the summary cut to fit
                assert cell_len(line) <= 80
                assert "…" in line or LONG_SUMMARY in line
                # The row fills the width (the summary takes what the other columns leave).
                assert cell_len(line.rstrip()) > 80 - 12, line
            due = app.screen.query_one("#due", DataTable)
            mine = app.screen.query_one("#mine", DataTable)
            # Not enough room for both: the due list takes most, "My cases" keeps a few rows.
            assert due.region.height > 8 and mine.region.height >= 4
            assert mine.region.bottom <= app.screen.size.height - 1  # the footer stays

    asyncio.run(main())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unlock_shows_the_passphrase_of_a_demo_store_only(tmp_path: Path, lang: str) -> None:
    from fieldapp.core.demo import DEMO_PASSPHRASE, build_demo_store

    demo_dir, _ = build_demo_store(tmp_path / "demo")
    real_dir = tmp_path / "real"
    init_device(real_dir, DEMO_PASSPHRASE, "王小明", FAST_KDF)  # even with the same passphrase

    async def hint(store: Path) -> str | None:
        app = FieldApp(store, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            line = app.screen.query_one("#unlock-demo", Static)
            return str(line.render()) if line.display and line.region.height else None

    async def main() -> None:
        shown = await hint(demo_dir)
        assert shown is not None and DEMO_PASSPHRASE in shown
        assert shown == i18n.Translator(lang).t("unlock.demo", passphrase=DEMO_PASSPHRASE)
        assert await hint(real_dir) is None

    asyncio.run(main())
