"""The caseload screen: who is on duty, on which device, and their cases."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from fieldapp.i18n import t
from fieldapp.service import find_cases
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import COLUMNS, SUMMARY_WIDTH, case_cells
from storage import FieldDB


class CaseloadScreen(Screen[None]):
    """The officer's cases in a table; locking and quitting are handled by the app."""

    BINDINGS = [
        Binding("s", "sync", "binding.sync"),
        Binding("l", "app.lock", "binding.lock"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
        Binding("q", "app.quit", "binding.quit"),
    ]

    def __init__(self, db: FieldDB) -> None:
        super().__init__()
        self._db = db
        self._device: dict[str, Any] | None = next(iter(db.table("device").all()), None)
        self._cases: list[dict[str, Any]] = find_cases(db.keyed("cases").raw())

    def compose(self) -> ComposeResult:
        with Horizontal(id="caseload-header"):
            yield Static(id="officer")
            yield Static(id="device")
            yield Static(id="case-count")
        yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
        yield Static(id="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one(DataTable).focus()

    def action_sync(self) -> None:
        """Open the sync screen (the station's devices on the LAN)."""
        from fieldapp.tui.screens.sync import SyncScreen

        self.app.push_screen(SyncScreen(self._db))

    def on_screen_resume(self) -> None:
        """Back from another screen (a sync may have brought cases): show the store as it is now."""
        self._device = next(iter(self._db.table("device").all()), None)
        self._cases = find_cases(self._db.keyed("cases").raw())
        self._relabel(self.app.language)

    def _relabel(self, _language: str) -> None:
        officer = self.query_one("#officer", Static)
        device = self.query_one("#device", Static)
        if self._device is None:
            officer.update(t("caseload.not_enrolled"))
            device.update("")
        else:
            officer.update(t("caseload.officer", name=self._device.get("officer", "")))
            device.update(t("caseload.device", device_id=self._device.get("device_id", "")))
        self.query_one("#case-count", Static).update(t("caseload.count", count=len(self._cases)))
        empty = self.query_one("#empty-state", Static)
        empty.update(t("caseload.empty"))
        empty.display = not self._cases
        self._fill_table()
        translate_bindings(self)

    def _fill_table(self) -> None:
        # Column labels and risk badges are translated, so the table is rebuilt whole.
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for column in COLUMNS:
            width = SUMMARY_WIDTH if column == "summary" else None
            table.add_column(t(f"column.{column}"), key=column, width=width)
        for index, doc in enumerate(self._cases):
            table.add_row(*case_cells(doc), key=str(doc.get("id", index)))
