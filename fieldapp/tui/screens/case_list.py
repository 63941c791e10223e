"""A list of given cases (what a dashboard figure stands for); Enter opens one."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from fieldapp.core.service import CaseService, public
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import COLUMNS, SUMMARY_WIDTH, case_cells


class CaseListScreen(Screen[None]):
    """The cases behind one figure, in the order given, redrawn when a case closes."""

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
        table = self.query_one("#case-list", DataTable)
        table.clear(columns=True)
        table.add_column(t("list.column_id"), key="id")
        for column in COLUMNS:
            table.add_column(
                t(f"column.{column}"), key=column, width=SUMMARY_WIDTH if column == "summary" else None
            )
        view = self.service.cases_view()
        for case_id in self.ids:
            state = view.get(case_id)
            if state is not None and state.get("exists"):
                table.add_row(case_id, *case_cells(public(state)), key=case_id)
        translate_bindings(self)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its case."""
        self.app.open_case(str(event.row_key.value))  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to the dashboard."""
        self.dismiss()
