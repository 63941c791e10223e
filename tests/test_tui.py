"""The TUI end to end: unlock, rate limit, caseload, language switch, lock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from fieldapp import i18n
from fieldapp.core.service import init_device
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.unlock import UnlockScreen
from fieldapp.tui.throttle import UnlockThrottle
from harness import FAST_KDF, PASSPHRASE, file_digests
from storage import FieldDB
from storage.errors import StoreCorrupted, StoreLocked, WrongPassphrase


@pytest.fixture
def enrolled(store_dir: Path) -> Path:
    """A real store with a device identity (made by `fieldapp init`'s code) and no cases."""
    init_device(store_dir, PASSPHRASE, "Wang Fang", FAST_KDF)
    return store_dir


def device_id_of(store_dir: Path) -> str:
    db = FieldDB.open(store_dir, PASSPHRASE)
    try:
        return str(db.table("device").all()[0]["device_id"])
    finally:
        db.close()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingOpener:
    """FieldDB.open, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, directory: Path, passphrase: str) -> FieldDB:
        self.calls += 1
        return FieldDB.open(directory, passphrase)


def run(app: FieldApp, scenario: Callable[[FieldApp, Pilot[None]], Awaitable[None]]) -> None:
    """Run `scenario` against `app` in a headless 100x30 terminal."""

    async def main() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await scenario(app, pilot)

    asyncio.run(main())


async def submit(app: FieldApp, pilot: Pilot[None], passphrase: str) -> None:
    """Type the passphrase, press Enter and wait for the unlock attempt to finish."""
    assert isinstance(app.screen, UnlockScreen)
    app.screen.query_one("#passphrase").focus()
    await pilot.press(*("space" if ch == " " else ch for ch in passphrase), "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def shown(app: FieldApp, selector: str) -> str:
    """The text a Static on the current screen shows."""
    return str(app.screen.query_one(selector, Static).render())


@pytest.mark.timeout(60)
def test_right_passphrase_opens_the_caseload(enrolled: Path) -> None:
    device_id_of_store = device_id_of(enrolled)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await submit(app, pilot, PASSPHRASE)
        assert isinstance(app.screen, HomeScreen)
        assert "Wang Fang" in shown(app, "#officer")
        assert device_id_of_store in shown(app, "#device")
        assert shown(app, "#empty-state") == "No cases yet. Press n to record an intake."
        assert app.screen.query_one("#empty-state").display

    run(FieldApp(enrolled, lang="en"), scenario)


@pytest.mark.timeout(60)
def test_wrong_passphrase_stays_locked_and_changes_nothing(enrolled: Path) -> None:
    before = file_digests(enrolled)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await submit(app, pilot, "wrong horse")
        assert isinstance(app.screen, UnlockScreen)
        assert shown(app, "#unlock-error") == i18n.t("error.wrong_passphrase")
        assert app.screen.query_one("#passphrase", Input).value == ""
        assert app.db is None

    run(FieldApp(enrolled, lang="en"), scenario)
    assert file_digests(enrolled) == before


@pytest.mark.timeout(60)
def test_fourth_try_after_three_wrong_ones_is_refused_without_opening(enrolled: Path) -> None:
    opener = CountingOpener()
    clock = FakeClock()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        for _ in range(3):
            await submit(app, pilot, "wrong")
        assert opener.calls == 3
        assert "Try again in 2 s." in shown(app, "#unlock-error")

        await submit(app, pilot, PASSPHRASE)
        assert opener.calls == 3
        assert shown(app, "#unlock-error") == i18n.t("unlock.rate_limited", seconds=2)
        assert isinstance(app.screen, UnlockScreen)

        clock.now += 2
        await submit(app, pilot, PASSPHRASE)
        assert opener.calls == 4
        assert isinstance(app.screen, HomeScreen)

    run(FieldApp(enrolled, lang="en", open_store=opener, clock=clock), scenario)


@pytest.mark.timeout(60)
def test_switching_language_relabels_the_screen(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await pilot.press("f2")
        await pilot.pause()
        assert shown(app, "#unlock-prompt") == "请输入本设备案件库的密码。"

        await submit(app, pilot, PASSPHRASE)
        assert shown(app, "#empty-state") == "暂无案件。按 n 登记新纠纷。"
        assert shown(app, "#officer") == "民警：Wang Fang"

        await pilot.press("ctrl+l")
        await pilot.pause()
        assert shown(app, "#empty-state") == "No cases yet. Press n to record an intake."
        await pilot.press("f2")
        await pilot.pause()
        labels = [str(column.label) for column in app.screen.query_one("#mine", DataTable).columns.values()]
        assert labels == ["风险", "村", "类别", "状态", "摘要", "办理时限"]
        footer_text = {binding.description for _, binding, _, _ in app.screen.active_bindings.values()}
        assert {"锁定", "退出", "English", "新登记", "查找", "同步"} <= footer_text

    run(FieldApp(enrolled, lang="en"), scenario)


@pytest.mark.timeout(60)
def test_lock_closes_the_store_and_returns_to_unlock(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await submit(app, pilot, PASSPHRASE)
        db = app.db
        assert db is not None and db.store.is_open
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen)
        assert app.db is None
        assert not db.store.is_open
        # Closed means the directory lock is released: the store opens again.
        FieldDB.open(enrolled, PASSPHRASE).close()

    run(FieldApp(enrolled, lang="en"), scenario)


@pytest.mark.timeout(60)
def test_quitting_closes_the_store(enrolled: Path) -> None:
    opened: list[FieldDB] = []

    def opener(directory: Path, passphrase: str) -> FieldDB:
        opened.append(FieldDB.open(directory, passphrase))
        return opened[-1]

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await submit(app, pilot, PASSPHRASE)
        await pilot.press("q")

    run(FieldApp(enrolled, lang="en", open_store=opener), scenario)
    assert len(opened) == 1 and not opened[0].store.is_open


@pytest.mark.timeout(60)
def test_other_store_errors_show_their_translated_message(tmp_path: Path) -> None:
    def locked(directory: Path, passphrase: str) -> FieldDB:
        raise StoreLocked(directory)

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        await submit(app, pilot, "anything")
        assert shown(app, "#unlock-error") == ZH_LOCKED

    ZH_LOCKED = i18n.ZH["error.store_locked"]
    run(FieldApp(tmp_path, lang="zh", open_store=locked), scenario)


@pytest.mark.timeout(60)
def test_ctrl_c_says_how_to_quit_in_the_ui_language(enrolled: Path) -> None:
    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        app.action_help_quit()
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["按 ctrl+q 退出 fieldapp。"]

    run(FieldApp(enrolled, lang="zh"), scenario)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    assert i18n.missing_keys() == set()
    assert i18n.mismatched_placeholders() == set()


def test_language_detection_follows_posix_precedence() -> None:
    assert i18n.detect_language({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.detect_language({"LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert i18n.detect_language({"LANG": "en_GB", "LC_MESSAGES": "zh_TW"}) == "zh"
    assert i18n.detect_language({}) == "en"


def test_store_errors_map_to_catalogue_entries_by_class_hierarchy(tmp_path: Path) -> None:
    i18n.set_language("zh")
    assert i18n.error_message(WrongPassphrase()) == i18n.ZH["error.wrong_passphrase"]
    damaged = StoreCorrupted(tmp_path / "snapshot.0", "bad tag", salvageable=True)
    assert i18n.error_message(damaged).startswith("snapshot.0 已损坏")
    assert "salvage" in i18n.error_message(damaged)
    # No code: the system's own text, after a Chinese line saying so.
    assert i18n.error_message(ValueError("plain")) == i18n.ZH["error.system"].format(detail="plain")


def test_throttle_allows_three_tries_then_doubles_the_wait() -> None:
    throttle = UnlockThrottle()
    waits = []
    for _ in range(5):
        throttle = throttle.failed(now=0.0)
        waits.append(throttle.wait_seconds(now=0.0))
    assert waits == [0, 0, 2, 4, 8]
    assert throttle.wait_seconds(now=8.0) == 0
