"""The app at 80x24 and in Chinese: every action reachable, every character of a message shown,
and messages that name the app's keys rather than command lines."""

from __future__ import annotations

import asyncio
import re
from string import Formatter

import pytest
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static
from textual.widgets._toast import Toast

from fieldapp import i18n
from fieldapp.tui import app as _app  # noqa: F401  (installs the whole-character compositor)

pytestmark = pytest.mark.timeout(300)

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def filled(template: str) -> str:
    """A catalogue text with every placeholder filled by a short stand-in."""
    names = {name for _, name, _, _ in Formatter().parse(template) if name}
    return template.format(**{name: "X1" for name in names})


class Ruled(App[None]):
    """A screen ruled into one-column widgets, so a widget edge lies under every cell of a toast."""

    CSS = "Static { width: 1; height: 100%; } #left { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(" ", id="left")
            for _ in range(44):  # toasts lie in the right half
                yield Static(" ")


def shown_text(app: App[None], toast: Toast) -> str:
    """What the screen shows where `toast` lies, with line breaks and spaces removed."""
    lines = app.screen._compositor.render_strips()
    region = toast.region
    text = "".join(lines[y].crop(region.x, region.right).text for y in range(region.y, region.bottom))
    return "".join(text.replace("▌", "").split())


def test_every_chinese_message_shows_every_character_in_a_toast() -> None:
    """'草稿已丢弃。' over the intake form showed as '草稿  丢弃。': a character that straddled the
    edge of a widget below became two spaces. Every Chinese text, as a toast over a screen with
    an edge under every column, shows all its characters."""
    texts = sorted({filled(text) for text in i18n.ZH.values() if CJK.search(text)})
    lost: list[tuple[str, str]] = []

    async def main() -> None:
        app = Ruled()
        async with app.run_test(size=(80, 100), notifications=True) as pilot:
            for start in range(0, len(texts), 12):
                app.clear_notifications()
                batch = texts[start : start + 12]
                for text in batch:
                    app.notify(text, markup=False, timeout=60)
                await pilot.pause()
                await pilot.pause()
                toasts = list(app.screen.query(Toast))
                assert len(toasts) == len(batch)
                for toast, text in zip(toasts, batch, strict=True):
                    want = "".join(Content(text).plain.split())
                    got = shown_text(app, toast)
                    if want not in got:
                        lost.append((text, got))

    asyncio.run(main())
    assert not lost, lost[:5]
