"""A list of given cases (what a dashboard figure stands for); Enter opens one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from fieldapp.core.service import CaseService, public
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import COLUMNS, VILLAGE_MAX_WIDTH, case_cells
from fieldapp.tui.column_fit import cell_width, fill_width, fit_row, natural_widths
from fieldapp.tui.footer import Footer

#: The summary's narrowest width (cells): a glimpse and "…" (an English list at 80 columns
#: leaves it little once the ids, villages, categories, statuses and deadlines are whole);
#: below it the table scrolls sideways.
SUMMARY_MIN_WIDTH = 4


class CaseListScreen(Screen[None]):
    """The cases behind one figure, in the order given, redrawn when a case closes.

    Every column is as wide as its widest cell in display cells (a Chinese character takes
    two), the village up to `VILLAGE_MAX_WIDTH`; the summary takes the rest of the width.
    """

    # The scrollbar's gutter is kept whether or not the list scrolls: the columns fill
    # the width that is left, and a scrollbar appearing never pushes the last one out.
    DEFAULT_CSS = """
    CaseListScreen #case-list { scrollbar-gutter: stable; }
    """

    BINDINGS = [
        Binding("escape", "back", "binding.back"),
        Binding("f2", "app.switch_language", "binding.language"),
    ]

    def __init__(
        self, service: CaseService, title_key: str, title_args: dict[str, Any], ids: list[str]
    ) -> None:
        super().__init__()
        self.service = service
        self._title = (title_key, title_args)
        self.ids = list(ids)

    def compose(self) -> ComposeResult:
        yield Static(id="list-title", classes="section-title")
        yield DataTable(id="case-list", cursor_type="row", zebra_stripes=True)
        yield Static(id="list-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one("#case-list", DataTable).focus()

    def on_screen_resume(self) -> None:
        self._relabel(self.app.language)  # type: ignore[attr-defined]

    def title_text(self) -> str:
        """The list's title in the UI language."""
        key, args = self._title
        return t("list.title", title=t(key, **args), count=len(self.ids))

    def _relabel(self, _language: str) -> None:
        self.query_one("#list-title", Static).update(self.title_text())
        self.query_one("#list-hint", Static).update(t("list.hint"))
        self._draw_rows()
        translate_bindings(self)

    def on_resize(self, _event: events.Resize) -> None:
        """A new terminal width: the summary takes what the other columns leave of it."""
        self._draw_rows()

    def _draw_rows(self) -> None:
        table = self.query_one("#case-list", DataTable)
        cursor = table.cursor_row
        view = self.service.cases_view()
        rows = [
            (case_id, [Text(case_id), *case_cells(public(state))])
            for case_id in self.ids
            if (state := view.get(case_id)) is not None and state.get("exists")
        ]
        keys = ["id", *COLUMNS]
        labels = [t("list.column_id"), *(t(f"column.{column}") for column in COLUMNS)]
        widths = natural_widths(labels, (cells for _key, cells in rows))
        village = keys.index("village")
        widths[village] = min(widths[village], max(VILLAGE_MAX_WIDTH, cell_width(labels[village])))
        room = self.app.size.width - table.styles.scrollbar_size_vertical
        widths = fill_width(widths, keys.index("summary"), room, table.cell_padding, SUMMARY_MIN_WIDTH)
        table.clear(columns=True)
        for key, label, width in zip(keys, labels, widths, strict=True):
            table.add_column(label, key=key, width=width)
        for case_id, cells in rows:
            table.add_row(*fit_row(cells, widths), key=case_id)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its case."""
        self.app.open_case(str(event.row_key.value))  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to the dashboard."""
        self.dismiss()
