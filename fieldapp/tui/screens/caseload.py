"""Find: every case of the station, filtered as the officer types.

Text matches ids, villages, summaries, party names and phones; villages and
names also match by pinyin and pinyin initials (`fieldapp.domain.search`: ``zs`` finds
张三). Status and risk narrow it further. The search keys are built once when
the screen opens; each keystroke scans them and redraws at most `MAX_ROWS` rows
(`CaseResults`: rows rendered once into lines, not a `DataTable`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Select, Static

from fieldapp.domain import model
from fieldapp.domain.documents import CaseDoc, PublicCase
from fieldapp.domain.search import CaseIndex, phone_matches
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import find_columns, find_values, party_names
from fieldapp.tui.footer import Footer
from fieldapp.tui.results import PADDING, CaseResults
from fieldapp.tui.resume import Place
from storage import FieldDB

#: Rows listed per keystroke: a screenful and some. More matches than this: the count
#: says so and the officer narrows the search.
MAX_ROWS = 60


class FilterInput(Input):
    """The filter box; the screen refilters as its text changes, in the same frame.

    `Input` reports a change with a message, and the screen was drawn while that
    message travelled (the typed character one frame, the results the next). Here
    the value's watcher refilters at once, so one frame shows both.
    """

    def __init__(self, on_change: Callable[[], None], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_change = on_change

    def watch_value(self, _value: str) -> None:
        self._on_change()


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
        self._static_texts: dict[str, str] = {}
        self._columns: list[str] = []
        #: Row cells by (case id, whose phone matched) for the current columns and language.
        self._row_cells: dict[tuple[str, tuple[int, ...]], list[tuple[str, str]]] = {}
        self._column_key: tuple[str, int] | None = None

    def _load(self) -> None:
        self._device: dict[str, Any] | None = next(iter(self._db.table("device").all()), None)
        view: dict[str, CaseDoc] = self._db.keyed("cases").raw()
        cases = [c for c in view.values() if c.get("exists")]
        cases.sort(key=lambda c: (c.get("created_at") or "", c["id"]), reverse=True)
        self._index = CaseIndex(cases)
        self._village_width = max((cell_len(str(c.get("village") or "")) for c in cases), default=0)
        self._parties_width = max((cell_len(party_names(c)) for c in cases), default=0)
        self._column_key = None  # the widths follow the cases' villages and names
        self._row_cells = {}
        self._shown: list[PublicCase] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="caseload-header"):
            yield Static(id="officer")
            yield Static(id="device")
            yield Static(id="case-count")
        with Horizontal(id="find-bar"):
            yield FilterInput(self._refilter, id="filter")
            yield Select[str]([], id="status-filter", allow_blank=True)
            yield Select[str]([], id="risk-filter", allow_blank=True)
        yield CaseResults(id="cases")
        yield Static(id="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one("#filter", Input).focus()

    def resume_place(self) -> Place:
        """Find, to come back to after a lock (the filter is not kept: it may hold a name)."""
        return Place("find")

    def on_screen_resume(self) -> None:
        """Back from a case or a sync: search the store as it is now."""
        if not self._resumed:  # the first resume is the first showing: loaded just now
            self._resumed = True
            return
        self._load()
        self._set_columns()
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
        count = t(
            "find.count_more" if more else "find.count",
            shown=len(self._shown),
            total=len(self._index),
            rows=MAX_ROWS,
        )
        # The count's width is the header's rest (1fr): a new text needs no layout.
        self._update_static("#case-count", count, layout=False)
        empty = self.query_one("#empty-state", Static)
        self._update_static(
            "#empty-state", t("caseload.empty") if not len(self._index) else t("find.nothing")
        )
        if empty.display != (not self._shown):
            # Both fill the screen's rest: show the one that has something to say.
            empty.display = not self._shown
            self.query_one(CaseResults).display = bool(self._shown)
        self._fill_rows()

    def _update_static(self, selector: str, text: str, layout: bool = True) -> None:
        """Update a Static only if its text changed (an update repaints, or lays out, the screen)."""
        static = self.query_one(selector, Static)
        if self._static_texts.get(selector) != text:
            self._static_texts[selector] = text
            static.update(text, layout=layout)

    def _table_room(self) -> int:
        """Cells the results have for their columns: the screen's width less a vertical scrollbar."""
        table = self.query_one(CaseResults)
        return max(0, self.app.size.width - table.styles.scrollbar_size_vertical)

    def _set_columns(self) -> bool:
        """Columns follow the language and the width; set them when those change, not per keystroke."""
        room = self._table_room()
        key = (t("column.id"), room)
        if key == self._column_key:
            return False
        self._column_key = key
        columns, widths = find_columns(room, self._village_width, self._parties_width, PADDING)
        self._columns = columns
        self._row_cells = {}
        self.query_one(CaseResults).set_columns([t(f"column.{column}") for column in columns], widths)
        return True

    def on_resize(self, _event: events.Resize) -> None:
        if self._set_columns():
            self._fill_rows()

    def _fill_rows(self) -> None:
        # Per row listed (at most MAX_ROWS), whose phone matched: never per case searched.
        query = self.query_one("#filter", Input).value
        columns, cache = self._columns, self._row_cells
        if len(cache) > 4096:
            cache.clear()
        rows = []
        for doc in self._shown[:MAX_ROWS]:
            key = (doc["id"], tuple(phone_matches(doc, query)))
            cells = cache.get(key)
            if cells is None:
                cells = cache[key] = find_values(doc, columns, key[1])
            rows.append((doc["id"], cells))
        self.query_one(CaseResults).set_rows(rows)

    @on(Input.Submitted, "#filter")
    def _to_results(self) -> None:
        if self._shown:
            self.query_one(CaseResults).focus()

    def on_case_results_selected(self, event: CaseResults.Selected) -> None:
        """Enter on a row, or a click, opens its case."""
        self.app.open_case(event.key)  # type: ignore[attr-defined]
