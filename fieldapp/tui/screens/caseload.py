"""Find: every case of the station, filtered as the officer types.

Text matches ids, villages, summaries, party names and phones; villages and
names also match by pinyin and pinyin initials (`fieldapp.search`: ``zs`` finds
张三). Status and risk narrow it further. The search keys are built once when
the screen opens; each keystroke scans them and redraws at most `MAX_ROWS` rows.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from fieldapp import model
from fieldapp.i18n import t
from fieldapp.search import CaseIndex
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import COLUMNS, SUMMARY_WIDTH, case_cells
from storage import FieldDB

#: Rows drawn per keystroke: a screenful and some. Each drawn row costs Textual about
#: 0.45 ms to measure; at 100k cases 500 rows took 68 ms of a 420 ms keystroke. More
#: matches than this: the count says so and the officer narrows the search.
MAX_ROWS = 60


class CaseloadScreen(Screen[None]):
    """All cases, with a filter box, a status and a risk choice."""

    BINDINGS = [
        Binding("escape", "back", "binding.back"),
        Binding("n", "app.new_intake", "binding.new_intake"),
        Binding("s", "app.sync", "binding.sync"),
        Binding("l", "app.lock", "binding.lock"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
    ]

    def __init__(self, db: FieldDB) -> None:
        super().__init__()
        self._db = db
        self._load()
        self._resumed = False

    def _load(self) -> None:
        self._device: dict[str, Any] | None = next(iter(self._db.table("device").all()), None)
        cases = [c for c in self._db.keyed("cases").raw().values() if c.get("exists")]
        cases.sort(key=lambda c: (c.get("created_at") or "", c["id"]), reverse=True)
        self._index = CaseIndex(cases)
        self._shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="caseload-header"):
            yield Static(id="officer")
            yield Static(id="device")
            yield Static(id="case-count")
        with Horizontal(id="find-bar"):
            yield Input(id="filter")
            yield Select[str]([], id="status-filter", allow_blank=True)
            yield Select[str]([], id="risk-filter", allow_blank=True)
        yield DataTable(id="cases", cursor_type="row", zebra_stripes=True)
        yield Static(id="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one("#filter", Input).focus()

    def on_screen_resume(self) -> None:
        """Back from a case or a sync: search the store as it is now."""
        if not self._resumed:  # the first resume is the first showing: loaded just now
            self._resumed = True
            return
        self._load()
        self._refilter()

    def action_back(self) -> None:
        self.dismiss()

    def _relabel(self, _language: str) -> None:
        officer = self.query_one("#officer", Static)
        device = self.query_one("#device", Static)
        if self._device is None:
            officer.update(t("caseload.not_enrolled"))
            device.update("")
        else:
            officer.update(t("caseload.officer", name=self._device.get("officer", "")))
            device.update(t("caseload.device", device_id=self._device.get("device_id", "")))
        self.query_one("#filter", Input).placeholder = t("find.placeholder")
        for select_id, vocab, prompt in (
            ("#status-filter", model.STATUSES, "find.any_status"),
            ("#risk-filter", model.RISKS, "find.any_risk"),
        ):
            select = self.query_one(select_id, Select)
            value = select.value
            select.set_options(
                [(t(f"{'status' if 'status' in select_id else 'risk'}.{v}"), v) for v in vocab]
            )
            select.prompt = t(prompt)
            if value is not Select.NULL:
                select.value = value
        self._set_columns()
        self._refilter()
        translate_bindings(self)

    @on(Input.Changed, "#filter")
    @on(Select.Changed)
    def _refilter(self) -> None:
        status = self.query_one("#status-filter", Select).value
        risk = self.query_one("#risk-filter", Select).value
        self._shown = self._index.find(
            self.query_one("#filter", Input).value,
            status=None if status is Select.NULL else str(status),
            risk=None if risk is Select.NULL else str(risk),
        )
        more = len(self._shown) > MAX_ROWS
        self.query_one("#case-count", Static).update(
            t(
                "find.count_more" if more else "find.count",
                shown=len(self._shown),
                total=len(self._index),
                rows=MAX_ROWS,
            )
        )
        empty = self.query_one("#empty-state", Static)
        empty.update(t("caseload.empty") if not len(self._index) else t("find.nothing"))
        empty.display = not self._shown
        self._fill_rows()

    def _set_columns(self) -> None:
        """Column labels follow the language; set them when it changes, not per keystroke."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for column in COLUMNS:
            width = SUMMARY_WIDTH if column == "summary" else None
            table.add_column(t(f"column.{column}"), key=column, width=width)

    def _fill_rows(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for doc in self._shown[:MAX_ROWS]:
            table.add_row(*case_cells(doc), key=doc["id"])

    @on(Input.Submitted, "#filter")
    def _to_results(self) -> None:
        if self._shown:
            self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its case."""
        self.app.open_case(str(event.row_key.value))  # type: ignore[attr-defined]
