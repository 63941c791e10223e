"""The supervisor's screen: dashboard, review queue, devices, reports and exports.

Shown only on a device holding a supervisor's certificate (`FieldApp.action_supervise`
refuses otherwise); every decision taken here is an operation that the merge checks
against the author's certificate on every device, so a crafted one from an officer's
device is refused there too.

- **Dashboard** (1): the figures of `fieldapp.outputs.dashboard`, each a row; Enter lists the
  cases behind it. Charts: weekly intake by category, resolution rate by month.
- **Review** (2): `fieldapp.domain.review`'s queue; Enter decides the item (settle a fork, settle a
  conflict, approve an escalation, close a red case) or opens its case; `o` opens the case.
  Open forks come first; a settled fork leaves the decisions and is listed with the records.
- **Devices** (3): every enrolled device (from its enrolment on: "never synced" until its
  work arrives), its last record and last sync with this device; `x` revokes one (station
  authority's device only).
- **Reports & exports** (4): the export and the period report of `fieldapp export` /
  `fieldapp report`, written to a folder.
- **Shift** (5): the shift board (`fieldapp.tui.shift_board`): every device at the shift's end.
- **Persons** (6): the key persons (`fieldapp.tui.key_persons_tab`): flagged, or two or more
  disputes in the last 12 months; gathered in a thread at each reading of the caseload, and
  counted on the dashboard ("Key persons N (flagged F)", Enter shows the tab). Person link
  conflicts are review items, settled in `LinkConflictDialog`.

In station mode each landed session asks for a refresh; those landing within LANDED_DELAY of
the first make one, and one landing while the caseload is read makes one more after it, so that
30 devices arriving do not restart the reading 30 times. A refresh reads again only the cases
that changed since the last one (the replica's change feed, `sync.changes`): each one's copy, report
facts and review items are kept by case id, and the figures and the queue are computed again from
them in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from fieldapp.core.service import CaseService
from fieldapp.core.station import DeviceRow, ForkRow, authority, device_rows, fork_rows
from fieldapp.domain.documents import CaseDoc, ShownCase
from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import LINKS_TABLE
from fieldapp.domain.review import DECISIONS, Item, Queue, assemble_queue, case_items
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n import t
from fieldapp.i18n.rules import refused_text, rejection_text
from fieldapp.outputs.dashboard import Dashboard, build_dashboard
from fieldapp.outputs.key_persons import KeyPersonRow, key_person_counts, key_persons
from fieldapp.outputs.reports import (
    CaseFacts,
    state_facts,
)
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.case_timeline import field_label, local_time, value_text, vocab
from fieldapp.tui.column_fit import cell_width, drop_to_fit, fill_width, fit_row, natural_widths
from fieldapp.tui.footer import Footer
from fieldapp.tui.key_persons_tab import KeyPersonsTab
from fieldapp.tui.person_index_worker import person_index_off_thread
from fieldapp.tui.resume import Place
from fieldapp.tui.screens.case_dialogs import CaseDialog
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.link_conflict import LinkConflictDialog
from fieldapp.tui.screens.supervisor_dialogs import (
    ApproveDialog,
    CloseDialog,
    ConflictDialog,
    ForkDialog,
    PlaceDialog,
    RevokeDialog,
)
from fieldapp.tui.screens.supervisor_reports import ReportsPane
from fieldapp.tui.shift_board import ShiftBoard
from fieldapp.tui.station_mode import ServingLine
from fieldapp.tui.supervisor_dashboard import draw_charts, figure_rows
from sync.session import SessionReport, last_synced_with

TABS = ("dashboard", "review", "devices", "reports", "shift", "persons")
#: Seconds from a session landing to the refresh it asks for (the others landing meanwhile join it).
LANDED_DELAY = 1.0
#: The decisions' dialogs, by the name a lock keeps to reopen them (`resumed_dialog`).
DIALOG_KINDS: dict[type, str] = {
    ConflictDialog: "conflict",
    ApproveDialog: "approve",
    CloseDialog: "close",
    ForkDialog: "fork",
    LinkConflictDialog: "link",
    PlaceDialog: "place",
    RevokeDialog: "revoke",
}
#: Cases read between two turns of the app's event loop while loading (~0.1 s of work).
LOAD_SLICE = 500
#: Review rows drawn: the most urgent decisions and the newest records (a table of thousands
#: of rows takes seconds to draw, and nobody decides more than these in one sitting).
QUEUE_DECISIONS = 200
QUEUE_RECORDS = 50
#: The review table's columns; "what" (the item's details) takes the width the others leave.
QUEUE_COLUMNS = ("kind", "case", "what", "who", "when")
#: The details' narrowest width (cells): below it the table scrolls sideways instead.
WHAT_MIN_WIDTH = 8
#: The devices table's columns; the role goes first when the width is short (`_draw_devices`).
DEVICE_COLUMNS = ("officer", "role", "device", "seen", "synced", "state")


def default_folder() -> Path:
    """Where files are written unless the supervisor types another folder."""
    return Path.home()


#: The dashboard's table of figures: the pane's width, and what its two columns get of it
#: (each column is padded one cell on both sides; the vertical scrollbar takes two). Fixed, so
#: that a long label never pushes the counts past the pane's edge.
DASH_LEFT_WIDTH = 44
COUNT_WIDTH = 5
FIGURE_WIDTH = DASH_LEFT_WIDTH - 2 - 2 * 2 - COUNT_WIDTH


class SupervisorScreen(Screen[None]):
    """Six tabs over the merged caseload; numbers 1-6 switch tabs."""

    DEFAULT_CSS = """
    SupervisorScreen #sup-title { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    SupervisorScreen #sup-tabs { height: 1fr; }
    SupervisorScreen TabPane { padding: 0; }
    SupervisorScreen #dash-body { height: 1fr; }
    SupervisorScreen #dash-left { width: DASH_LEFT; }
    SupervisorScreen #figures { height: 1fr; }
    SupervisorScreen #dash-charts { width: 1fr; padding-left: 1; }
    SupervisorScreen PlotextPlot { height: 1fr; }
    SupervisorScreen #intake-legend { height: auto; }
    SupervisorScreen .sup-chart-title { height: 1; text-style: bold; }
    SupervisorScreen .sup-hint { height: auto; color: $text-muted; padding: 0 1; }
    SupervisorScreen #review-counts { height: auto; padding: 0 1; }
    SupervisorScreen #queue, SupervisorScreen #devices-table { height: 1fr; }
    SupervisorScreen #queue { scrollbar-gutter: stable; }
    SupervisorScreen .section-title { margin-top: 1; }
    SupervisorScreen .sup-form-row { height: auto; }
    SupervisorScreen .sup-form-row Select { width: 22; }
    SupervisorScreen #exp-format { width: 12; }
    SupervisorScreen #exp-status { width: 19; }
    SupervisorScreen #exp-risk { width: 18; }
    SupervisorScreen .sup-form-row Input { width: 1fr; }
    SupervisorScreen #rep-of { width: 14; }
    SupervisorScreen #rep-period { width: 17; }
    SupervisorScreen #rep-format { width: 12; }
    SupervisorScreen #folder-label { width: auto; padding: 1 1 0 1; }
    SupervisorScreen .sup-form-row Button { margin: 1 0 0 1; }
    SupervisorScreen #exp-result, SupervisorScreen #rep-result { height: auto; padding: 0 1; }
    SupervisorScreen #reports-body { overflow-x: auto; }
    SupervisorScreen #rep-preview { width: auto; height: auto; padding: 1 1 0 1; }
    """.replace("DASH_LEFT", str(DASH_LEFT_WIDTH))

    BINDINGS = [
        Binding("escape", "back", "binding.back"),
        Binding("1", "tab('dashboard')", "binding.tab_dashboard", show=False),
        Binding("2", "tab('review')", "binding.tab_review", show=False),
        Binding("3", "tab('devices')", "binding.tab_devices", show=False),
        Binding("4", "tab('reports')", "binding.tab_reports", show=False),
        Binding("5", "tab('shift')", "binding.tab_shift", show=False),
        Binding("6", "tab('persons')", "binding.tab_persons", show=False),
        Binding("o", "open_item_case", "binding.open_case"),
        Binding("p", "place_village", "binding.place_village"),
        Binding("x", "revoke", "binding.revoke"),
        Binding("ctrl+r", "refresh", "binding.refresh"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("f6", "app.toggle_serving", "binding.serve"),
    ]

    def __init__(
        self,
        service: CaseService,
        today: Callable[[], date] = date.today,
        folder: Path | None = None,
        then: tuple[str, str] | None = None,
        tab: str = "",
    ) -> None:
        super().__init__()
        self.service = service
        #: The tab shown first ("": the dashboard).
        self._first_tab = tab if tab in TABS else ""
        #: The decision (kind, subject) whose dialog opens once the caseload is read (after a lock).
        self._then = then
        self._today = today
        self._folder = folder or default_folder()
        self.board: Dashboard | None = None
        self.queue: Queue = Queue([], {})
        self.devices: list[DeviceRow] = []
        #: Device id -> last sync with this computer, as the devices tab last showed it.
        self._synced: dict[str, float] = {}
        #: Fork key -> its row (`fieldapp.core.station.fork_rows`).
        self.forks: dict[str, ForkRow] = {}
        #: Dashboard row key -> (title key, its placeholders, case ids).
        self._drill: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
        self._items: dict[str, Item] = {}
        #: The review tab's hint when the highlighted item has none of its own.
        self._queue_hint = ""
        #: case id -> ((operations folded, updated at), the case with its history).
        self._presented: dict[str, tuple[tuple[int, Any], ShownCase]] = {}
        #: case id -> ((operations folded, updated at), its report facts).
        self._facts: dict[str, tuple[tuple[int, Any], CaseFacts]] = {}
        #: case id -> a copy of the case's top level and its review items: what the figures and
        #: the queue are computed from. A refresh reads again only the cases the replica's change
        #: feed names (`sync.changes`) since `_read_to` (None: none read yet, read them all).
        self._copies: dict[str, CaseDoc] = {}
        self._case_items: dict[str, list[Item]] = {}
        self._read_to: int | None = None
        self._resumed = False
        #: True while the caseload is being read (`action_refresh`). Not `loading`: that is
        #: Textual's own reactive, which covers the screen and takes the keyboard focus away.
        self.gathering = False
        #: Tabs whose widgets are mounted (the others are built when first shown).
        self._built: set[str] = {"dashboard"}
        #: How many times the caseload was read (`_load`); the landed sessions' refresh waiting to
        #: run, and whether one landed while the caseload was being read.
        self.loads = 0
        self._landed_timer: Any = None
        self._landed_again = False
        #: The key persons and the person index they came from (None until first gathered).
        self.key_rows: list[KeyPersonRow] | None = None
        self.person_index: PersonIndex | None = None
        #: A gathering of the key persons in flight, and whether another was asked meanwhile.
        self._persons_busy = False
        self._persons_again = False
        #: How many times the key persons were gathered (what refreshes cost; tests count them).
        self.key_person_gathers = 0

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="sup-title")
        with TabbedContent(initial=self._first_tab or "dashboard", id="sup-tabs"):
            with TabPane("", id="dashboard"), Horizontal(id="dash-body"):
                with Vertical(id="dash-left"):
                    yield DataTable(id="figures", cursor_type="row", zebra_stripes=True)
                    yield Static(id="dash-hint", classes="sup-hint")
                with Vertical(id="dash-charts"):
                    yield Static(id="intake-title", classes="sup-chart-title")
                    yield PlotextPlot(id="intake-chart")
                    yield Static(id="intake-legend")
                    yield Static(id="rate-title", classes="sup-chart-title")
                    yield PlotextPlot(id="rate-chart")
            # The other tabs are built when first shown (`_build_tab`): opening the screen
            # then costs only the dashboard's widgets.
            for tab in TABS[1:]:
                yield TabPane("", id=tab)
        yield ServingLine()
        yield Footer()

    def _tab_widgets(self, tab: str) -> list[Widget]:
        """The widgets of a tab other than the dashboard."""
        if tab == "review":
            return [
                Static(id="review-counts"),
                DataTable(id="queue", cursor_type="row", zebra_stripes=True),
                Static(id="review-hint", classes="sup-hint"),
            ]
        if tab == "devices":
            return [
                DataTable(id="devices-table", cursor_type="row", zebra_stripes=True),
                Static(id="devices-hint", classes="sup-hint"),
            ]
        if tab == "shift":
            return [ShiftBoard(self.service)]
        if tab == "persons":
            return [KeyPersonsTab(self._officer_name)]
        return [
            ReportsPane(
                self.service,
                self._folder,
                self._today(),
                cases=self._cases,
                states=self._states,
                facts_of=self._facts_of,
            )
        ]

    async def _build_tab(self, tab: str) -> None:
        """Mount a tab's widgets the first time it is shown, and draw it."""
        if tab in self._built:
            return
        self._built.add(tab)
        await self.query_one(f"TabPane#{tab}", TabPane).mount_all(self._tab_widgets(tab))
        self._draw_tab(tab)

    def _draw_tab(self, tab: str) -> None:
        if tab == "dashboard":
            self._draw_figures()
            if self.board is not None:
                draw_charts(self.board, self, self._chart_width(self.app.size.width))
        elif tab == "review":
            self._draw_queue()
        elif tab == "devices":
            self._draw_devices()
        elif tab == "shift":
            self.query_one(ShiftBoard).draw()
        elif tab == "persons":
            self.query_one(KeyPersonsTab).show(self.key_rows)
        else:
            self.query_one(ReportsPane).relabel()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.action_refresh()
        if self._first_tab:  # built and given the cursor (focusing the figures would show the dashboard)
            self.call_later(self.action_tab, self._first_tab)
        else:
            self.query_one("#figures", DataTable).focus()

    def resume_place(self) -> Place:
        """This screen on its tab, to come back to after a lock."""
        return Place("supervisor", tab=self.query_one(TabbedContent).active)

    def resumed_dialog(self, screen: object) -> tuple[str, str] | None:
        """The decision whose dialog is `screen` (kind, subject), to reopen after a lock."""
        kind = DIALOG_KINDS.get(type(screen))
        return (kind, screen.draft_subject()) if kind and isinstance(screen, CaseDialog) else None

    def _reopen(self) -> None:
        """Open the dialog that was open when the app locked, if what it decides is still there."""
        if self._then is None:
            return
        kind, subject = self._then
        self._then = None
        if kind == "revoke":
            device = next((row for row in self.devices if row["device_id"] == subject), None)
            if device is not None:
                self._revoke(device)
        elif kind == "place":
            self._place(subject)
        else:
            item = next((i for i in self.queue.items if _decision_of(i) == (kind, subject)), None)
            if item is not None:
                self.decide(item)

    @staticmethod
    def _chart_width(screen_width: int) -> int:
        """The dashboard charts' width (what the figures and the charts' padding leave)."""
        return screen_width - DASH_LEFT_WIDTH - 1

    def on_resize(self, event: events.Resize) -> None:
        """A new terminal width: the charts' labels spaced for it; the review's details and the
        devices' status take what their other columns leave."""
        if self.board is not None:
            draw_charts(self.board, self, self._chart_width(event.size.width))
        if "review" in self._built:
            self._draw_queue()
        if "devices" in self._built:
            self._draw_devices()

    def on_screen_resume(self) -> None:
        """Back from a case or a list: the caseload may have changed."""
        if not self._resumed:
            self._resumed = True
            return
        self.action_refresh()

    def session_landed(self, _report: SessionReport) -> None:
        """A device's sync with this computer (station mode) finished: show what it brought, in
        one refresh with the sessions landing within LANDED_DELAY."""
        if self._landed_timer is None:
            self._landed_timer = self.set_timer(LANDED_DELAY, self._landed_refresh)

    def _landed_refresh(self) -> None:
        self._landed_timer = None
        if self.gathering:  # not restarted: once more when this reading ends
            self._landed_again = True
        else:
            self.action_refresh()

    def _cases(self) -> list[ShownCase]:
        """Every case with its history (for an export); only changed cases are read again."""
        for case_id, state in self.service.cases_view().items():
            if not state.get("exists"):
                continue
            mark = (len(state["_ops"]), state.get("updated_at"))
            cached = self._presented.get(case_id)
            if cached is None or cached[0] != mark:
                self._presented[case_id] = (mark, self.service.present(state))
        cases = [case for _mark, case in self._presented.values()]
        cases.sort(key=lambda c: (c["created_at"] or "", c["id"]), reverse=True)  # as `cases()` lists them
        return cases

    def _states(self) -> list[CaseDoc]:
        """The cases as the view holds them (what the dashboard and the report read)."""
        return [s for s in self.service.cases_view().values() if s.get("exists")]

    def _facts_of(self, state: CaseDoc) -> CaseFacts:
        """The report facts of a case, derived again only when the case changed."""
        mark = (len(state["_ops"]), state.get("updated_at"))
        cached = self._facts.get(state["id"])
        if cached is None or cached[0] != mark:
            cached = (mark, state_facts(state))
            self._facts[state["id"]] = cached
        return cached[1]

    def _load(self, board: Dashboard, queue: Queue) -> None:
        self.board = board
        self.queue = queue
        self.devices = device_rows(self.service)  # one row per device: small
        self.loads += 1

    def action_refresh(self) -> None:
        """Read the caseload again (after a sync, or a decision taken on a case).

        Only the cases changed since the last reading are read (all of them the first time), in
        slices between which the app handles keys and draws, so the screen answers at once on a
        large caseload; the figures appear when all are read. Each slice runs on the app's own
        thread, so no write can happen in the middle of a case; the dashboard's figures and the
        review queue are then computed in a thread from the copies kept of every case.
        """
        self.gathering = True
        self._draw_loading()
        self._ask_key_persons()
        # (The checker cannot infer Textual's WorkType union from an async method: arg-type.)
        self.run_worker(self._load_in_slices, group="supervisor-load", exclusive=True)  # type: ignore[arg-type]

    def _read_case(self, case_id: str, state: CaseDoc | None) -> None:
        """Keep a copy of a case's top level, its facts and its review items (or drop a case gone)."""
        if state is None or not state.get("exists"):
            for kept in (self._copies, self._facts, self._case_items, self._presented):
                kept.pop(case_id, None)
            return
        # Derived again whatever its mark: the feed says it changed (a re-fold may keep the count).
        self._facts[case_id] = ((len(state["_ops"]), state.get("updated_at")), state_facts(state))
        # A copy of the top level, so that a merge folding meanwhile changes none of it.
        self._copies[case_id] = dict(state)  # type: ignore[assignment]
        self._case_items[case_id] = case_items(state)

    async def _load_in_slices(self) -> None:
        view = self.service.cases_view()  # (folds what a merge left pending)
        # The token before reading: a case folded while the slices are read is read again next time.
        token, changed = self.service.replica.changes.changed_since("cases", self._read_to)
        ids = list(view) if changed is None else sorted(changed)
        for start in range(0, len(ids), LOAD_SLICE):
            for case_id in ids[start : start + LOAD_SLICE]:
                self._read_case(case_id, view.get(case_id))
            await asyncio.sleep(0)
        self._read_to = token
        # Every case is read now. The dashboard's figures (~0.25 s at 17,000 cases) and the queue
        # are computed in a thread, from the copies and what was kept of each, so keys are
        # answered meanwhile. The forks, rejections and devices are few: read here.
        copies = list(self._copies.values())
        facts = {case_id: self._facts[case_id][1] for case_id in self._copies}
        per_case = list(self._case_items.values())
        replica = self.service.replica
        self.forks = {row["fork"]: row for row in fork_rows(self.service)}
        forks = list(self.forks.values())
        rejections = replica.rejections.all()
        devices = list(self.service.devices_view().values())
        # The pairs of person ids with a conflict (few), copied whole: a fold may add to them.
        links = {
            pair: copy.deepcopy(doc)
            for pair, doc in replica.view(LINKS_TABLE).items()
            if doc.get("conflicts")
        }
        today, areas = self._today(), self.service.areas()

        def aggregate() -> tuple[Dashboard, Queue]:
            board = build_dashboard(copies, today=today, areas=areas, facts_of=lambda case: facts[case["id"]])
            return board, assemble_queue(per_case, forks, rejections, devices, links)

        board, queue = await asyncio.to_thread(aggregate)
        before = (self.board, self.queue, self.devices, self._synced)
        self._load(board, queue)
        self.gathering = False
        if self._landed_again:
            self._landed_again = False
            self.call_later(self.action_refresh)
        # The screen may have been closed (or the store locked) while the figures were gathered.
        with contextlib.suppress(NoMatches):
            if "shift" in self._built:
                self.query_one(ShiftBoard).rebuild()
            self._redraw(self._changed_tabs(*before))
            self._reopen()

    def _ask_key_persons(self) -> None:
        """Gather the key persons again, unless this screen is covered (a case, Find: coming back
        reads everything again) or a gathering is in flight (then once more after it), so that
        sessions landing in station mode never run two at a time (~0.6 s each at 17,000 cases)."""
        # (Not `is_current`: that is true of the screen just under the top one too.)
        if self.is_attached and self.app.screen is not self and self.key_rows is not None:
            return
        if self._persons_busy:
            self._persons_again = True
            return
        self._persons_busy = True
        self.key_person_gathers += 1
        self.run_worker(self._gather_key_persons, group="key-persons")  # type: ignore[arg-type]

    async def _gather_key_persons(self) -> None:
        """The key persons, from the store's person index brought current (from what changed
        since, `person_index_worker`), listed in a thread; then the dashboard's figure and the
        Persons tab drawn with them."""
        try:
            index = await person_index_off_thread(self.service)
            rows = await asyncio.to_thread(key_persons, index, index.documents, self._today())
        finally:
            self._persons_busy = False
        self.person_index, self.key_rows = index, rows
        if self._persons_again:
            self._persons_again = False
            self.call_later(self._ask_key_persons)
        with contextlib.suppress(NoMatches):  # the screen closed meanwhile
            if self.board is not None:
                self._draw_figures()
            if "persons" in self._built:
                self.query_one(KeyPersonsTab).show(self.key_rows)
            if "review" in self._built and any(i.kind == "link_conflict" for i in self.queue.items):
                self._draw_queue()  # the disputed links' names, from the index just gathered

    def _draw_loading(self) -> None:
        """Say that the figures are being gathered (over the old ones, on a refresh)."""
        count = sum(1 for s in self.service.replica.view("cases").values() if s.get("exists"))
        self.query_one("#dash-hint", Static).update(t("dash.loading", count=count))
        if self.board is None:
            table = self.query_one("#figures", DataTable)
            table.clear(columns=True)
            table.add_column(t("dash.column.figure"), key="figure")
            table.add_row(t("dash.loading", count=count), key="loading")

    # ------------------------------------------------------------ drawing

    def _changed_tabs(
        self, board: Dashboard | None, queue: Queue, devices: list[DeviceRow], synced: dict[str, float]
    ) -> set[str]:
        """The tabs whose data a refresh changed, given what they showed before it; the others
        need not be drawn again. (The shift board rebuilds and draws itself; the key persons are
        drawn when gathered; the reports tab holds no data; officers' names show on the
        dashboard, the review, the devices and the key persons.)"""
        self._synced = last_synced_with(self.service.replica)
        names = {row["device_id"]: row["officer"] for row in self.devices}
        renamed = names != {row["device_id"]: row["officer"] for row in devices}
        changed = {"persons"} if renamed else set()
        if renamed or board != self.board:
            changed.add("dashboard")
        if renamed or queue != self.queue:
            changed.add("review")
        if devices != self.devices or synced != self._synced:
            changed.add("devices")
        return changed

    def _relabel(self, _language: str) -> None:
        self._redraw(set(TABS))

    def _redraw(self, shown: set[str]) -> None:
        """The title and the tabs' labels, and those of the `shown` tabs that are built drawn again (all
        of them when the language changes; after a refresh, those whose data changed)."""
        station = self.service.replica.anchor.station_name if self.service.replica.anchor else ""
        self.query_one("#sup-title", Static).update(t("sup.title", station=station))
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("dashboard").label = t("sup.tab.dashboard")
        decisions = sum(self.queue.counts.get(k, 0) for k in DECISIONS)
        tabs.get_tab("review").label = t("sup.tab.review", count=decisions)
        tabs.get_tab("devices").label = t("sup.tab.devices")
        tabs.get_tab("reports").label = t("sup.tab.reports")
        tabs.get_tab("shift").label = t("sup.tab.shift")
        tabs.get_tab("persons").label = t("sup.tab.persons")
        for tab in TABS:
            if tab in self._built and tab in shown:
                self._draw_tab(tab)
        if "dashboard" not in shown:  # the figures stand: no longer "gathering" (`_draw_loading`)
            self.query_one("#dash-hint", Static).update(t("dash.hint"))
        translate_bindings(self)

    def _officer_name(self, device_id: str | None) -> str:
        if not device_id:
            return t("dash.nobody")
        record = self.service.replica.device(device_id)
        return str((record.get("officer") if record else None) or device_id)

    def _draw_figures(self) -> None:
        if self.board is None:
            return
        table = self.query_one("#figures", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_column(t("dash.column.figure"), key="figure", width=FIGURE_WIDTH)
        table.add_column(t("dash.column.count"), key="count", width=COUNT_WIDTH)
        self._drill = {}
        counts = key_person_counts(self.key_rows) if self.key_rows is not None else None
        language: str = self.app.language  # type: ignore[attr-defined]
        for key, label, ids, title in figure_rows(self.board, self._officer_name, language, counts):
            count = "" if ids is None else Text(str(len(ids)), justify="right")
            table.add_row(label, count, key=key)
            if ids is not None:
                self._drill[key] = (title[0], title[1], ids)
        table.move_cursor(row=min(cursor, table.row_count - 1))
        self.query_one("#dash-hint", Static).update(t("dash.hint"))

    def _draw_queue(self) -> None:
        """The review table; the cursor stays on the item it was on (or the row that took its
        place), and each column is as wide as its cells, the details taking the rest."""
        counts = self.queue.counts
        self.query_one("#review-counts", Static).update(t("review.counts", **counts))
        table = self.query_one("#queue", DataTable)
        was_on = self._cursor_key(table)
        was_row = table.cursor_row
        self._items = {}
        decisions = [i for i in self.queue.items if i.kind in DECISIONS]
        records = [i for i in self.queue.items if i.kind not in DECISIONS]
        shown = decisions[:QUEUE_DECISIONS] + records[:QUEUE_RECORDS]
        rows: list[tuple[str, list[Text | str]]] = []
        for item in shown:
            kind = Text(
                t(f"review.kind.{item.kind}"),
                style="bold" if item.kind in DECISIONS else "",
            )
            case = Text(item.case_id)
            if item.risk:
                case = risk_cell(item.risk).append(f" {item.case_id}")
            what = Text(self._item_text(item), no_wrap=True, overflow="ellipsis")
            rows.append((item.key, [kind, case, what, self._officer_name(item.author), local_time(item.at)]))
            self._items[item.key] = item
        labels = [t(f"review.column.{column}") for column in QUEUE_COLUMNS]
        widths = fill_width(
            natural_widths(labels, (cells for _key, cells in rows)),
            QUEUE_COLUMNS.index("what"),
            self.app.size.width - table.styles.scrollbar_size_vertical,
            table.cell_padding,
            WHAT_MIN_WIDTH,
        )
        table.clear(columns=True)
        for column, label, width in zip(QUEUE_COLUMNS, labels, widths, strict=True):
            table.add_column(label, key=column, width=width)
        for key, cells in rows:
            table.add_row(*fit_row(cells, widths), key=key)
        if was_on in self._items:
            table.move_cursor(row=table.get_row_index(was_on))
        elif rows:
            table.move_cursor(row=min(was_row, len(rows) - 1))
        self._queue_hint = t("review.hint") if self.queue.items else t("review.empty")
        if len(shown) < len(self.queue.items):
            self._queue_hint = (
                t("review.more", shown=len(shown), total=len(self.queue.items)) + "  " + self._queue_hint
            )
        self._hint_for(table)

    @staticmethod
    def _cursor_key(table: DataTable[Any]) -> str | None:
        """The key of the row under the cursor (None in an empty table)."""
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _decided(self, item: Item) -> None:
        """A decision was recorded: its row goes at once, the cursor on the item that followed
        it and the keyboard in the list, before the queue is read again."""
        table = self.query_one("#queue", DataTable)
        if item.key in self._items:
            row = table.get_row_index(item.key)
            table.remove_row(item.key)
            del self._items[item.key]
            if table.row_count:
                table.move_cursor(row=min(row, table.row_count - 1))
            self._hint_for(table)
        table.focus()

    def _hint_for(self, table: DataTable[Any]) -> None:
        """The review hint: what the highlighted fork is and what to do, else the queue's hint
        (a fork's row is cut short on a narrow terminal)."""
        key = self._cursor_key(table)
        item = self._items.get(key) if key is not None else None
        if item is not None and item.kind == "fork":
            hint = t("review.fork_hint", officer=self._officer_name(item.author), seq=item.detail["seq"])
        else:
            hint = self._queue_hint
        self.query_one("#review-hint", Static).update(hint)

    @on(DataTable.RowHighlighted, "#queue")
    def _queue_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._hint_for(event.data_table)

    def _person_label(self, person_id: str) -> str:
        """A side of a disputed link as the queue names it: the name its own parties give, with
        the id (the id alone until the key persons' gathering brought the person index)."""
        index = self.person_index
        names = index.own_parties(person_id)[0] if index is not None else ()
        return f"{names[0]} {person_id}" if names else person_id

    def _item_text(self, item: Item) -> str:
        d = item.detail
        if item.kind == "conflict":
            name = str(d["field"])
            first, second = d["values"][0]["value"], d["values"][-1]["value"]
            return t(
                "review.conflict",
                field=field_label(name),
                first=value_text(name, first),
                second=value_text(name, second),
            )
        if item.kind == "escalation":
            return t("review.escalation", tier=vocab("case.tier", d.get("tier")))
        if item.kind == "refused":
            return t(
                "review.refused",
                kind=vocab("case.op", d.get("op_kind")),
                reason=refused_text(d),
            )
        if item.kind == "fork":
            return t("review.fork", seq=d.get("seq"))
        if item.kind == "link_conflict":
            return t("review.link_conflict", a=self._person_label(d["a"]), b=self._person_label(d["b"]))
        if item.kind == "fork_settled":
            return t(f"review.fork_settled.{d.get('standing')}", seq=d.get("seq"))
        if item.kind == "rejected":
            return t("review.rejected", reason=rejection_text(d))
        return t("review.red_closure")

    def _draw_devices(self) -> None:
        """The devices, each column as wide as its cells; the status whole (a revocation's reason
        ends with "…"), the role left out when 80 columns cannot hold it with the rest."""
        table = self.query_one("#devices-table", DataTable)
        cursor = table.cursor_row
        synced = last_synced_with(self.service.replica)
        rows: list[tuple[str, list[Text | str]]] = []
        for row in self.devices:
            if row["revoked"]:
                state = Text(t("devices.revoked", reason=row["revoked"]["reason"]), style="bold")
            else:
                state = Text(t("devices.this") if row["this_device"] else t("devices.active"))
            at = synced.get(row["device_id"])
            cells: list[Text | str] = [
                row["officer"],
                vocab("devices.role", row["role"]),
                row["device_id"],
                local_time(row["last_seen"]) or t("devices.never_synced"),
                datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else "—",
                state,
            ]
            rows.append((row["device_id"], cells))
        labels = [t(f"devices.column.{column}") for column in DEVICE_COLUMNS]
        states = (t("devices.this"), t("devices.active"), t("devices.revoked", reason=""))
        columns, widths = drop_to_fit(
            DEVICE_COLUMNS,
            natural_widths(labels, (cells for _key, cells in rows)),
            "state",
            self.app.size.width - table.styles.scrollbar_size_vertical,
            table.cell_padding,
            max(cell_width(text) for text in (*states, labels[-1])),
            ("role",),
        )
        table.clear(columns=True)
        for column, width in zip(columns, widths, strict=True):
            table.add_column(labels[DEVICE_COLUMNS.index(column)], key=column, width=width)
        shown = [DEVICE_COLUMNS.index(column) for column in columns]
        for key, cells in rows:
            table.add_row(*fit_row([cells[i] for i in shown], widths), key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        hint = t("devices.hint") if authority(self.service) is not None else t("devices.not_authority")
        self.query_one("#devices-hint", Static).update(hint)

    # ------------------------------------------------------------ navigation and decisions

    def action_back(self) -> None:
        """Back to home."""
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`o` on the review tab, `x` on the devices tab only (so the footer shows what works)."""
        tab = self.query_one(TabbedContent).active if self.is_mounted else "dashboard"
        if action == "open_item_case":
            return tab == "review"
        if action == "place_village":
            return tab == "dashboard"
        if action == "revoke":  # never offered on this device's own row: it cannot revoke itself
            device = self._selected_device() if tab == "devices" else None
            return (
                tab == "devices"
                and authority(self.service) is not None
                and not (device is not None and device["this_device"])
            )
        return True

    def _selected_device(self) -> DeviceRow | None:
        """The device under the cursor on the devices tab."""
        table = self.query_one("#devices-table", DataTable)
        if not table.row_count:
            return None
        device_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((r for r in self.devices if r["device_id"] == device_id), None)

    @on(DataTable.RowHighlighted, "#devices-table")
    def _device_row_highlighted(self) -> None:
        self.refresh_bindings()

    @on(events.Key)
    def _x_on_own_row(self, event: events.Key) -> None:
        # x is not offered on this device's own row (the binding is off there); say why if pressed.
        if event.key == "x" and self.query_one(TabbedContent).active == "devices":
            device = self._selected_device()
            if device is not None and device["this_device"]:
                event.stop()
                self.notify(t("revoke.own_device"), severity="warning")

    @on(TabbedContent.TabActivated)
    async def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        await self._build_tab(str(event.pane.id))
        self.refresh_bindings()

    async def action_tab(self, tab: str) -> None:
        """Show a tab and put the cursor in it."""
        self.query_one(TabbedContent).active = tab
        await self._build_tab(tab)
        first = {
            "dashboard": "#figures",
            "review": "#queue",
            "devices": "#devices-table",
            "reports": "#exp-format",
            "shift": "#shift-table",
            "persons": "#keyp-table",
        }
        self.query_one(first[tab]).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: drill down (dashboard), decide (review)."""
        key = str(event.row_key.value)
        if event.data_table.id == "figures" and key == "key_persons":
            self.call_later(self.action_tab, "persons")
        elif event.data_table.id == "figures" and key in self._drill:
            title_key, args, ids = self._drill[key]
            self.app.push_screen(CaseListScreen(self.service, title_key, args, ids))
        elif event.data_table.id == "queue" and key in self._items:
            self.decide(self._items[key])

    def decide(self, item: Item) -> None:
        """The dialog deciding a queue item, or its case for the items that only inform."""
        if item.kind == "fork":
            self.settle(item)
            return
        if item.kind == "link_conflict":
            self.settle_link(item)
            return
        if not item.case_id:
            self.notify(self._item_text(item), title=t(f"review.kind.{item.kind}"), timeout=15)
            return
        try:
            case = self.service.cases_view()[item.case_id]
        except KeyError:
            return
        dialog: CaseDialog[Any, ShownCase]
        if item.kind == "conflict":
            dialog = ConflictDialog(self.service, case, str(item.detail["field"]))
            done = "conflict.done"
        elif item.kind == "escalation":
            dialog, done = ApproveDialog(self.service, case), "approve.done"
        elif item.kind == "red_closure":
            dialog, done = CloseDialog(self.service, case), "close.done"
        else:
            self.app.open_case(item.case_id)  # type: ignore[attr-defined]
            return

        def recorded(result: ShownCase | None) -> None:
            if result is not None:
                self.notify(t(done, id=item.case_id))
                self._decided(item)
                self.action_refresh()

        self.app.push_screen(dialog, recorded)

    def settle(self, item: Item) -> None:
        """The dialog settling a fork: both entries, which to keep, why (supervisors only)."""
        row = self.forks.get(str(item.detail["fork"]))
        if row is None:
            return
        if not self.service.is_supervisor:  # the screen is a supervisor's; the merge checks again
            self.notify(t("sup.only_supervisor"), severity="warning")
            return

        def settled(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.notify(t("fork.done", officer=row["officer"] or row["device_id"]))
                self._decided(item)
                self.action_refresh()

        self.app.push_screen(ForkDialog(self.service, row), settled)

    def settle_link(self, item: Item) -> None:
        """The dialog settling a person link conflict: link or unlink (supervisors only)."""
        if not self.service.is_supervisor:  # the screen is a supervisor's; the merge checks again
            self.notify(t("sup.only_supervisor"), severity="warning")
            return
        a, b = item.detail["a"], item.detail["b"]

        def settled(linked: bool | None) -> None:
            if linked is not None:
                self.notify(t(f"linkc.done.{'true' if linked else 'false'}", a=a, b=b))
                self._decided(item)
                self.action_refresh()

        self.app.push_screen(LinkConflictDialog(self.service, dict(item.detail), self.person_index), settled)

    def action_place_village(self) -> None:
        """Place the village of the selected dashboard row in a police area."""
        table = self.query_one("#figures", DataTable)
        if not table.row_count:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if not key.startswith("village:"):
            self.notify(t("area.choose_village"), severity="warning")
            return
        self._place(key.removeprefix("village:"))

    def _place(self, village: str) -> None:
        def placed(result: dict[str, str | None] | None) -> None:
            if result is not None:
                self.notify(t("area.done", village=village, area=result.get("area") or t("dash.no_area")))
                self.action_refresh()

        self.app.push_screen(PlaceDialog(self.service, village), placed)

    def action_open_item_case(self) -> None:
        """Open the case of the selected review item."""
        if self.query_one(TabbedContent).active != "review":
            return
        table = self.query_one("#queue", DataTable)
        if not table.row_count:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        item = self._items.get(key)
        if item is None or not item.case_id:
            self.notify(t("review.no_case"))
            return
        self.app.open_case(item.case_id)  # type: ignore[attr-defined]

    def action_revoke(self) -> None:
        """Revoke the device selected on the devices tab (station authority only)."""
        if self.query_one(TabbedContent).active != "devices":
            return
        if authority(self.service) is None:
            self.notify(t("devices.not_authority"), severity="warning")
            return
        device = self._selected_device()
        if device is None:
            return
        if device["this_device"]:
            self.notify(t("revoke.own_device"), severity="warning")
            return
        self._revoke(device)

    def _revoke(self, device: DeviceRow) -> None:
        def revoked(result: DeviceRow | None) -> None:
            if result is not None:
                self.notify(t("revoke.done", officer=device["officer"]))
                self.action_refresh()

        self.app.push_screen(RevokeDialog(self.service, device), revoked)


def _decision_of(item: Item) -> tuple[str, str] | None:
    """The dialog deciding a review item, as `resumed_dialog` names it (None: it has none)."""
    if item.kind == "fork":
        return ("fork", str(item.detail["fork"]))
    if item.kind == "conflict":
        return ("conflict", f"{item.case_id}:{item.detail['field']}")
    if item.kind == "link_conflict":
        return ("link", f"{item.detail['a']}+{item.detail['b']}")
    if item.kind == "escalation":
        return ("approve", item.case_id)
    if item.kind == "red_closure":
        return ("close", item.case_id)
    return None
