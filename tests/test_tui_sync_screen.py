"""The sync screen at 80x24 and 120x36 in both languages: a failure is read whole and not drawn
as done, a device typed as HOST:PORT can be taken off the list, the texts name keys and fields.

The failing peer is a loopback port nothing listens on (a real connection refused).
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest
from textual.widgets import Input, ProgressBar, Static

from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.sync import PeerRow, SyncScreen
from harness import PASSPHRASE
from harness.replicas import station_devices
from tests.test_tui_chinese_walk import screen_lines

pytestmark = pytest.mark.timeout(120)

SIZES = [(80, 24), (120, 36)]


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def squeezed(text: str) -> str:
    """Text without any whitespace, so a line wrapped anywhere still matches."""
    return re.sub(r"\s+", "", text)


def rendered(widget: Static) -> str:
    return str(widget.render())


async def open_sync(app: FieldApp, pilot) -> SyncScreen:  # type: ignore[no-untyped-def]
    app.screen.query_one("#passphrase").focus()
    await pilot.press(*PASSPHRASE, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(app.screen, SyncScreen)
    return app.screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_failed_sync_is_read_whole_is_not_drawn_done_and_its_device_can_be_removed(
    tmp_path: Path, lang: str, size: tuple[int, int]
) -> None:
    with station_devices(tmp_path, 1) as (_authority, officer):
        officer_dir = officer.db.store.directory
        officer.close()  # the app opens it
        port = closed_port()

        async def main() -> None:
            app = FieldApp(officer_dir, lang=lang)
            async with app.run_test(size=size) as pilot:
                screen = await open_sync(app, pilot)
                # With no device listed, the texts say which field to type in and which key.
                no_peers = rendered(screen.query_one("#sync-summary", Static))
                assert ("field above" if lang == "en" else "上方输入框") in no_peers
                assert ("press Enter" if lang == "en" else "回车") in no_peers

                screen.query_one("#peer-input", Input).focus()
                await pilot.press(*f"127.0.0.1:{port}", "enter")
                await pilot.pause()
                (row,) = list(screen.query(PeerRow))
                hint = rendered(screen.query_one("#sync-summary", Static))
                for key in ("ctrl+s", "Tab", "Delete"):
                    assert key in hint, (key, hint)

                await pilot.press("ctrl+s")
                await screen.workers.wait_for_complete()
                await pilot.pause()
                report = row.report
                assert report is not None and report.error is not None

                bar = row.query_one(ProgressBar)
                assert bar.percentage is not None and bar.percentage < 1.0
                assert bar.has_class("-failed")
                status = rendered(row.query_one(".peer-status", Static))
                assert status.startswith("failed: " if lang == "en" else "失败：")
                assert f"127.0.0.1:{port}" in status
                summary = rendered(screen.query_one("#sync-summary", Static))
                assert "Delete" in summary  # after a round, the keys are still named
                # The whole reason is on screen (wrapped, not cut), at this size.
                visible = squeezed("".join(screen_lines(app.export_screenshot())))
                assert squeezed(status) in visible, (status, visible)

                # The device typed as HOST:PORT is taken off the list with Tab, Delete.
                await pilot.press("tab")
                await pilot.pause()
                assert app.focused is row
                footer = "".join(screen_lines(app.export_screenshot()))
                assert ("Remove device" if lang == "en" else "移除设备") in footer
                await pilot.press("delete")
                await pilot.pause()
                assert list(screen.query(PeerRow)) == []
                assert screen.session_reports() == {}
                assert isinstance(app.focused, Input)
                no_peers = rendered(screen.query_one("#sync-summary", Static))
                assert ("field above" if lang == "en" else "上方输入框") in no_peers

        asyncio.run(main())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_unenrolled_device_is_told_what_the_officer_and_the_supervisor_each_do(
    store_dir: Path, lang: str
) -> None:
    from fieldapp.core.service import init_device
    from harness import FAST_KDF

    init_device(store_dir, PASSPHRASE, "未入站辅警", FAST_KDF)

    async def main() -> None:
        app = FieldApp(store_dir, lang=lang)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_sync(app, pilot)
            identity = rendered(screen.query_one("#sync-identity", Static))
            assert "`fieldapp enrol open`" in identity
            assert "`fieldapp enrol join --code" in identity
            assert ("on this device" if lang == "en" else "在本设备上") in identity
            assert ("command line only" if lang == "en" else "只能在命令行") in identity
            visible = squeezed("".join(screen_lines(app.export_screenshot())))
            assert squeezed(identity) in visible
            # The HOST:PORT field is off until enrolment: nothing points at it; what applies is said.
            field = screen.query_one("#peer-input", Input)
            assert field.disabled
            summary = rendered(screen.query_one("#sync-summary", Static))
            for said in (summary, field.placeholder):
                assert ("field above" if lang == "en" else "上方输入框") not in said
                assert ("type its HOST:PORT" if lang == "en" else "输入 主机:端口 并按回车") not in said
            assert ("Enrol this device first" if lang == "en" else "请先登记本设备") in field.placeholder
            assert "`fieldapp enrol join --code" in summary and "`fieldapp enrol open`" in summary
            assert squeezed(summary) in visible

    asyncio.run(main())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_with_discovery_off_the_screen_points_at_its_own_field_first(tmp_path: Path, lang: str) -> None:
    with station_devices(tmp_path, 1) as (_authority, officer):
        officer_dir = officer.db.store.directory
        officer.close()

        async def main() -> None:
            app = FieldApp(officer_dir, lang=lang)
            async with app.run_test(size=(80, 24)) as pilot:
                screen = await open_sync(app, pilot)
                text = rendered(screen.query_one("#sync-discovery", Static))
                field = text.index("field below" if lang == "en" else "下方输入框")
                assert ("press Enter" if lang == "en" else "按回车") in text
                # The command line is named only after the field, and said to be the only way.
                assert text.index("fieldapp sync --interface") > field
                bad = rendered(screen.query_one("#peer-input-error", Static))
                assert bad == ""
                screen.query_one("#peer-input", Input).focus()
                await pilot.press(*"not-a-peer", "enter")
                bad = rendered(screen.query_one("#peer-input-error", Static))
                assert ("press Enter" if lang == "en" else "按回车") in bad

        asyncio.run(main())
