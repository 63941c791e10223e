"""The whole-character compositor's fast path (`fieldapp.tui.wide_chars`) against its slow path:
the same pieces on random Chinese/Latin lines and random layouts of widgets covering each other."""

from __future__ import annotations

import asyncio
import random

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.widgets import Static

from fieldapp.tui import wide_chars
from fieldapp.tui.wide_chars import split_offsets, split_offsets_per_cell

pytestmark = pytest.mark.timeout(120)

CJK = "草稿已丢弃锁定张王村委会调解纠纷土地邻里"
LATIN = "abcXYZ019 .:-"
STYLES = [None, Style(bold=True), Style(color="red"), Style(bgcolor="blue")]


def random_text(rng: random.Random, most: int) -> str:
    """Chinese, Latin or a mix of both (possibly empty)."""
    kind = rng.random()
    pool = CJK if kind < 0.4 else LATIN if kind < 0.6 else CJK + LATIN
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, most)))


def test_split_offsets_agrees_with_the_per_cell_search_on_random_lines() -> None:
    """Random strips of Chinese, Latin and mixed segments (some control segments among them), and
    random offsets: the segment-wise search finds exactly the offsets the per-character one does
    (and some lines do have offsets inside a character)."""
    from textual.strip import Strip

    rng = random.Random(20261207)
    inside = 0
    for _ in range(3000):
        segments = []
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.05:
                segments.append(Segment("", None, [(1,)]))  # a control segment: no cells
            else:
                segments.append(Segment(random_text(rng, 12), rng.choice(STYLES)))
        strip = Strip(segments)
        offsets = [rng.randint(-1, strip.cell_length + 1) for _ in range(rng.randint(0, 6))]
        expected = split_offsets_per_cell(strip, offsets)
        assert split_offsets(strip, offsets) == expected, (segments, offsets)
        inside += bool(expected)
    assert inside > 300
    # A control segment takes no cells, whatever its text.
    control = Segment("\x1b[0m", None, [(1,)])
    assert split_offsets(Strip([control, Segment("中文a")]), [1, 2, 3, 4]) == {1, 3}


class Layout(App[None]):
    """Widgets on layers of their own at random places, each covering those below."""

    def compose(self) -> ComposeResult:
        yield from ()


def chops_as_data(chops: object) -> list[dict[int, object]]:
    """The chops (per line: cut -> strip) as comparable data (each piece's segments)."""
    return [
        {cut: None if strip is None else list(strip) for cut, strip in line.items()}
        for line in chops  # type: ignore[attr-defined]
    ]


@pytest.mark.timeout(180)
def test_render_chops_fast_path_agrees_with_the_slow_path_on_random_layouts() -> None:
    """60 random layouts of 2-8 widgets of Chinese/Latin text overlapping at random places, every
    line rendered and random partial updates: the fast `_render_chops` gives the same pieces as the
    per-character one, and on some lines the slow path keeps a character whole (a piece joined)."""
    rng = random.Random(6357)
    joined = 0

    async def main() -> None:
        nonlocal joined
        app = Layout()
        async with app.run_test(size=(40, 12)) as pilot:
            for _ in range(60):
                await app.screen.remove_children()
                count = rng.randint(2, 8)
                app.screen.styles.layers = tuple(f"l{i}" for i in range(count))  # type: ignore[assignment]
                widgets = []
                for i in range(count):
                    lines = [random_text(rng, 20) for _ in range(rng.randint(1, 4))]
                    widget = Static("\n".join(lines), markup=False)
                    widget.styles.layer = f"l{i}"
                    widget.styles.width = rng.randint(1, 30)
                    widget.styles.height = rng.randint(1, 6)
                    widget.styles.offset = (rng.randint(0, 30), rng.randint(0, 10))
                    if rng.random() < 0.5:
                        widget.styles.background = rng.choice(["red", "blue", "green"])
                    widgets.append(widget)
                await app.screen.mount_all(widgets)
                await pilot.pause()
                compositor = app.screen._compositor
                region = compositor.size.region
                rows = {y for y in range(region.height) if rng.random() < 0.5}
                for rendered in (lambda y: True, rows.__contains__):
                    fast = chops_as_data(wide_chars._render_chops(compositor, region, rendered))
                    slow_chops = wide_chars._render_chops_per_cell(compositor, region, rendered)
                    assert fast == chops_as_data(slow_chops)
                    joined += sum(
                        strip is wide_chars._EMPTY for line in slow_chops for strip in line.values()
                    )

    asyncio.run(main())
    assert joined > 0  # the layouts did put edges inside characters
