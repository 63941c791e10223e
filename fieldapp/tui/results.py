"""A light results table: a header and a few dozen rows of pre-rendered cells.

The find screen redraws its results on every keystroke. Textual's `DataTable` renders
each cell through Rich (padding, wrapping, measuring) and measures the rows again on
idle, which drew each keystroke three times and cost most of its 140 ms. Here a row is
turned into one `Strip` of segments when the rows are set (cells padded or cut to their
column's width with `rich.cells`, so CJK text keeps the columns aligned); drawing a line
is then a crop and a style. Up/down/page/home/end move the highlighted row, Enter or a
click opens it (`CaseResults.Selected`).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fieldapp.tui.column_fit import ellipsize

#: A cell: its text and a Rich style for the text ("" for none, e.g. a risk badge's colours).
Cell = tuple[str, str]

PADDING = 1  # blank cells either side of each column


def fit(text: str, width: int) -> str:
    """`text` padded or cut (ending with "…") to exactly `width` cells."""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width <= 1:
        return set_cell_size(text, width)
    cut = ellipsize(text, width)  # the "…" right after the last whole character
    return cut + " " * (width - cell_len(cut))


class CaseResults(ScrollView, can_focus=True):
    """Rows of cells under a header that stays put; one row highlighted."""

    DEFAULT_CSS = """
    CaseResults {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .case-results--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .case-results--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .case-results--even-row {
            background: $surface-darken-1 40%;
        }
        & > .case-results--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .case-results--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .case-results--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .case-results--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .case-results--hover {
            background: $block-hover-background;
        }
    }
    """

    COMPONENT_CLASSES = {
        "case-results--header",
        "case-results--even-row",
        "case-results--cursor",
        "case-results--hover",
    }

    BINDINGS = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, repaint=False, always_update=True)

    class Selected(Message):
        """Enter or a click on a row."""

        def __init__(self, results: CaseResults, key: str) -> None:
            super().__init__()
            self.results = results
            self.key = key

        @property
        def control(self) -> CaseResults:
            return self.results

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._labels: list[str] = []
        self._widths: list[int] = []
        self._keys: list[str] = []
        self._cells: list[Sequence[Cell]] = []
        self._header = Strip([])
        self._strips: list[Strip] = []
        #: Rendered rows by (key, cells): typing back and forth meets the same rows again.
        self._row_cache: dict[tuple[str, tuple[Cell, ...]], Strip] = {}
        self._hover = -1
        self._line_styles: tuple[Style, Style, Style, Style, Style] | None = None

    # ------------------------------------------------------------ content

    @property
    def row_count(self) -> int:
        return len(self._keys)

    def get_row_at(self, index: int) -> list[str]:
        """The texts of a row's cells."""
        return [text for text, _ in self._cells[index]]

    def row_key(self, index: int) -> str:
        return self._keys[index]

    def set_columns(self, labels: Sequence[str], widths: Sequence[int]) -> None:
        """Column labels and widths in cells (a language switch); the rows are drawn again."""
        self._labels = list(labels)
        self._widths = list(widths)
        pad = " " * PADDING
        self._header = Strip(
            [Segment(pad + fit(label, width) + pad) for label, width in zip(labels, widths, strict=True)]
        )
        self._row_cache.clear()
        self.set_rows(list(zip(self._keys, self._cells, strict=True)))

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Replace the rows: (key, cells) each; the first row is highlighted."""
        self._keys = [key for key, _ in rows]
        self._cells = [cells for _, cells in rows]
        cache = self._row_cache
        if len(cache) > 4096:
            cache.clear()
        strips = []
        for key, cells in rows:
            cache_key = (key, tuple(cells))
            strip = cache.get(cache_key)
            if strip is None:
                strip = cache[cache_key] = self._render_row(cells)
            strips.append(strip)
        self._strips = strips
        self._hover = -1
        self.set_reactive(CaseResults.cursor_row, 0)
        self._set_virtual_size(Size(self._header.cell_length, len(strips) + 1))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def _render_row(self, cells: Sequence[Cell]) -> Strip:
        """One row's cells, each padded or cut to its column, as one strip."""
        pad = " " * PADDING
        segments = []
        for (text, style), width in zip(cells, self._widths, strict=False):
            if style:  # the style colours the text only, not the cell's padding
                shown = text if cell_len(text) <= width else fit(text, width)
                segments.append(Segment(pad))
                segments.append(Segment(shown, Style.parse(style)))
                segments.append(Segment(" " * (width - cell_len(shown)) + pad))
            else:
                segments.append(Segment(pad + fit(text, width) + pad))
        return Strip(segments)

    def _set_virtual_size(self, size: Size) -> None:
        """The scroll range: rows and widths changed, the widget's place on screen did not.

        Setting `virtual_size` asks for a layout of the whole screen, which updates the
        scrollbar after the frame is drawn, and so draws another frame a moment later;
        here the scrollbar is updated now and drawn with the rows. (`_scroll_update` and
        `_size_updated` below are Textual internals: checked against the pinned 8.2.8.)
        """
        if size != self.virtual_size:
            self.set_reactive(CaseResults.virtual_size, size)
            self._scroll_update(size)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # A layout of the screen (the filter box asks for one per keystroke) hands a
        # ScrollView its region's size as `virtual_size`, never equal to its own, and
        # ScrollView then redoes its scrollbars, which draws them again a frame later.
        # Our scroll range changes only in `_set_virtual_size`, which updates them itself.
        return super()._size_updated(size, self.virtual_size, container_size, layout)

    # ------------------------------------------------------------ drawing

    def notify_style_update(self) -> None:
        self._line_styles = None
        super().notify_style_update()

    def on_focus(self, event: events.Focus) -> None:
        self._line_styles = None
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self._line_styles = None
        self.refresh()

    def _styles_now(self) -> tuple[Style, Style, Style, Style, Style]:
        if self._line_styles is None:
            base = self.rich_style
            component = self.get_component_styles
            self._line_styles = (
                base,
                base + component("case-results--header").rich_style,
                base + component("case-results--even-row").rich_style,
                base + component("case-results--cursor").rich_style,
                base + component("case-results--hover").rich_style,
            )
        return self._line_styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base, header, even, cursor, hover = self._styles_now()
        if y == 0:
            return self._header.crop_extend(scroll_x, scroll_x + width, None).apply_style(header)
        row = scroll_y + y - 1
        if row >= len(self._strips):
            return Strip.blank(width, base)
        if row == self.cursor_row:
            style = cursor
        elif row == self._hover:
            style = hover
        elif row % 2:
            style = even
        else:
            style = base
        return self._strips[row].crop_extend(scroll_x, scroll_x + width, None).apply_style(style)

    def _refresh_row(self, row: int) -> None:
        if 0 <= row < len(self._strips):
            self.refresh_line(row + 1)

    # ------------------------------------------------------------ the cursor

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._keys) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_to_row(new)

    def _scroll_to_row(self, row: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # below the header
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self._page()

    def action_page_down(self) -> None:
        self.cursor_row += self._page()

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._keys) - 1

    def action_select_cursor(self) -> None:
        if 0 <= self.cursor_row < len(self._keys):
            self.post_message(self.Selected(self, self._keys[self.cursor_row]))

    # ------------------------------------------------------------ the mouse

    def _row_at(self, event: events.MouseEvent) -> int:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return -1
        row = round(self.scroll_y) + offset.y - 1
        return row if row < len(self._keys) else -1

    def on_mouse_move(self, event: events.MouseMove) -> None:
        row = self._row_at(event)
        if row != self._hover:
            old, self._hover = self._hover, row
            self._refresh_row(old)
            self._refresh_row(row)

    def on_leave(self, event: events.Leave) -> None:
        old, self._hover = self._hover, -1
        self._refresh_row(old)

    def on_click(self, event: events.Click) -> None:
        row = self._row_at(event)
        if row < 0:
            return
        event.stop()
        self.cursor_row = row
        self.post_message(self.Selected(self, self._keys[row]))
