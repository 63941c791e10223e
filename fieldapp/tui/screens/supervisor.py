"""The supervisor's screen: dashboard, review queue, devices, reports and exports.

Shown only on a device holding a supervisor's certificate (`FieldApp.action_supervise`
refuses otherwise); every decision taken here is an operation that the merge checks
against the author's certificate on every device, so a crafted one from an officer's
device is refused there too.

- **Dashboard** (1): the figures of `fieldapp.dashboard`, each a row; Enter lists the
  cases behind it. Charts: weekly intake by category, resolution rate by month.
- **Review** (2): `fieldapp.review`'s queue; Enter decides the item (settle a conflict,
  approve an escalation, close a red case) or opens its case; `o` opens the case.
- **Devices** (3): every enrolled device, its last record and last sync with this
  device; `x` revokes one (station authority's device only).
- **Reports & exports** (4): the export and the period report of `fieldapp export` /
  `fieldapp report`, written to a folder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Footer, Input, Select, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot

from fieldapp import i18n_supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp import model
from fieldapp.cli_reports import officer_names
from fieldapp.dashboard import Dashboard, build_dashboard
from fieldapp.exports import CaseFilter, ExportError, build_export, filter_cases, write_new
from fieldapp.i18n import t
from fieldapp.i18n_rules import reason_text
from fieldapp.reports import (
    PERIODS,
    CaseFacts,
    ReportError,
    build_report,
    period_of,
    report_file,
    report_text,
    state_facts,
)
from fieldapp.review import DECISIONS, Item, Queue, review_queue
from fieldapp.service import CaseError, CaseService
from fieldapp.station import authority, device_rows
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.case_timeline import field_label, local_time, value_text, vocab
from fieldapp.tui.screens.case_dialogs import CaseDialog, relabel_select
from fieldapp.tui.screens.case_list import CaseListScreen
from fieldapp.tui.screens.supervisor_dialogs import (
    ApproveDialog,
    CloseDialog,
    ConflictDialog,
    PlaceDialog,
    RevokeDialog,
)
from sync.session import last_synced_with

TABS = ("dashboard", "review", "devices", "reports")
#: Cases read between two turns of the app's event loop while loading (~0.1 s of work).
LOAD_SLICE = 500
#: Review rows drawn: the most urgent decisions and the newest records (a table of thousands
#: of rows takes seconds to draw, and nobody decides more than these in one sitting).
QUEUE_DECISIONS = 200
QUEUE_RECORDS = 50
#: Categories drawn in the intake chart (the rest are summed as "other").
CHART_CATEGORIES = 5
#: Colours of the intake chart's series, and the legend's swatches (readable on both themes).
SERIES_COLOURS = ("red", "orange", "blue", "green", "magenta", "cyan")
SWATCH = {
    "red": "#e53935",
    "orange": "#fb8c00",
    "blue": "#1e88e5",
    "green": "#43a047",
    "magenta": "#d81b60",
    "cyan": "#00acc1",
}
EXPORT_FORMATS = ("xlsx", "csv", "json")
REPORT_FORMATS = ("xlsx", "csv")


def default_folder() -> Path:
    """Where files are written unless the supervisor types another folder."""
    return Path.home()


class SupervisorScreen(Screen[None]):
    """Four tabs over the merged caseload; numbers 1-4 switch tabs."""

    DEFAULT_CSS = """
    SupervisorScreen #sup-title { height: 1; padding: 0 1; background: $primary; text-style: bold; }
    SupervisorScreen #sup-tabs { height: 1fr; }
    SupervisorScreen TabPane { padding: 0; }
    SupervisorScreen #dash-body { height: 1fr; }
    SupervisorScreen #dash-left { width: 44; }
    SupervisorScreen #figures { height: 1fr; }
    SupervisorScreen #dash-charts { width: 1fr; padding-left: 1; }
    SupervisorScreen PlotextPlot { height: 1fr; }
    SupervisorScreen #intake-legend { height: auto; }
    SupervisorScreen .sup-chart-title { height: 1; text-style: bold; }
    SupervisorScreen .sup-hint { height: auto; color: $text-muted; padding: 0 1; }
    SupervisorScreen #review-counts { height: auto; padding: 0 1; }
    SupervisorScreen #queue, SupervisorScreen #devices-table { height: 1fr; }
    SupervisorScreen .section-title { margin-top: 1; }
    SupervisorScreen .sup-form-row { height: auto; }
    SupervisorScreen .sup-form-row Select { width: 22; }
    SupervisorScreen .sup-form-row Input { width: 1fr; }
    SupervisorScreen #rep-of { width: 22; }
    SupervisorScreen #folder-label { width: auto; padding: 1 1 0 1; }
    SupervisorScreen .sup-form-row Button { margin: 1 0 0 1; }
    SupervisorScreen #exp-result, SupervisorScreen #rep-result { height: auto; padding: 0 1; }
    SupervisorScreen #rep-preview { height: auto; padding: 1 1 0 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "binding.back"),
        Binding("1", "tab('dashboard')", "binding.tab_dashboard", show=False),
        Binding("2", "tab('review')", "binding.tab_review", show=False),
        Binding("3", "tab('devices')", "binding.tab_devices", show=False),
        Binding("4", "tab('reports')", "binding.tab_reports", show=False),
        Binding("o", "open_item_case", "binding.open_case"),
        Binding("p", "place_village", "binding.place_village"),
        Binding("x", "revoke", "binding.revoke"),
        Binding("ctrl+r", "refresh", "binding.refresh"),
        Binding("f2", "app.switch_language", "binding.language"),
    ]

    def __init__(
        self,
        service: CaseService,
        today: Callable[[], date] = date.today,
        folder: Path | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self._today = today
        self._folder = folder or default_folder()
        self.board: Dashboard | None = None
        self.queue: Queue = Queue([], {})
        self.devices: list[dict[str, Any]] = []
        #: Dashboard row key -> (title key, its placeholders, case ids).
        self._drill: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
        self._items: dict[str, Item] = {}
        #: case id -> ((operations folded, updated at), the case with its history).
        self._presented: dict[str, tuple[tuple[int, Any], dict[str, Any]]] = {}
        #: case id -> ((operations folded, updated at), its report facts).
        self._facts: dict[str, tuple[tuple[int, Any], CaseFacts]] = {}
        self._resumed = False
        #: True while the caseload is being read (`action_refresh`).
        self.loading = False
        #: Tabs whose widgets are mounted (the others are built when first shown).
        self._built: set[str] = {"dashboard"}

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="sup-title")
        with TabbedContent(initial="dashboard", id="sup-tabs"):
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
        return [
            VerticalScroll(
                Static(id="exp-title", classes="section-title"),
                Horizontal(
                    Select([(f, f) for f in EXPORT_FORMATS], id="exp-format", allow_blank=False),
                    Select([], id="exp-status"),
                    Select([], id="exp-risk"),
                    Input(id="exp-village"),
                    classes="sup-form-row",
                ),
                Horizontal(
                    Static(id="folder-label"),
                    Input(str(self._folder), id="folder"),
                    Button(id="exp-button", variant="primary", compact=True),
                    classes="sup-form-row",
                ),
                Static(id="exp-result"),
                Static(id="rep-title", classes="section-title"),
                Horizontal(
                    Select([(p, p) for p in PERIODS], id="rep-period", allow_blank=False),
                    Input(self._today().strftime("%Y-%m"), id="rep-of", max_length=7),
                    Select([(f, f) for f in REPORT_FORMATS], id="rep-format", allow_blank=False),
                    Button(id="rep-show", compact=True),
                    Button(id="rep-button", variant="primary", compact=True),
                    classes="sup-form-row",
                ),
                Static(id="rep-result"),
                Static(id="rep-preview"),
                id="reports-body",
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
            self._draw_charts()
        elif tab == "review":
            self._draw_queue()
        elif tab == "devices":
            self._draw_devices()
        else:
            self._label_reports()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one("#figures", DataTable).focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        """Back from a case or a list: the caseload may have changed."""
        if not self._resumed:
            self._resumed = True
            return
        self.action_refresh()

    def _cases(self) -> list[dict[str, Any]]:
        """Every case with its history (for an export); only changed cases are read again."""
        for case_id, state in self.service.replica.view("cases").items():
            if not state.get("exists"):
                continue
            mark = (len(state["_ops"]), state.get("updated_at"))
            cached = self._presented.get(case_id)
            if cached is None or cached[0] != mark:
                self._presented[case_id] = (mark, self.service.present(state))
        cases = [case for _mark, case in self._presented.values()]
        cases.sort(key=lambda c: (c["created_at"] or "", c["id"]), reverse=True)  # as `cases()` lists them
        return cases

    def _states(self) -> list[dict[str, Any]]:
        """The cases as the view holds them (what the dashboard and the report read)."""
        return [s for s in self.service.replica.view("cases").values() if s.get("exists")]

    def _facts_of(self, state: dict[str, Any]) -> CaseFacts:
        """The report facts of a case, derived again only when the case changed."""
        mark = (len(state["_ops"]), state.get("updated_at"))
        cached = self._facts.get(state["id"])
        if cached is None or cached[0] != mark:
            cached = (mark, state_facts(state))
            self._facts[state["id"]] = cached
        return cached[1]

    def _load(self) -> None:
        today = self._today()
        self.board = build_dashboard(
            self._states(), today=today, areas=self.service.areas(), facts_of=self._facts_of
        )
        replica = self.service.replica
        self.queue = review_queue(
            replica.view("cases").values(), replica.forks.raw().values(), replica.rejections.all()
        )
        self.devices = device_rows(self.service)

    def action_refresh(self) -> None:
        """Read the caseload again (after a sync, or a decision taken on a case).

        The cases are read in slices between which the app handles keys and draws, so the
        screen answers at once on a large caseload; the figures appear when all are read.
        Each slice runs on the app's own thread, so no write can happen in the middle of a case.
        """
        self.loading = True
        self._draw_loading()
        self.run_worker(self._load_in_slices, group="supervisor-load", exclusive=True)

    async def _load_in_slices(self) -> None:
        states = self._states()
        for start in range(0, len(states), LOAD_SLICE):
            for state in states[start : start + LOAD_SLICE]:
                self._facts_of(state)
            await asyncio.sleep(0)
        self._load()  # every case is read now: the rest is the figures
        self.loading = False
        # The screen may have been closed (or the store locked) while the figures were gathered.
        with contextlib.suppress(NoMatches):
            self._relabel(self.app.language)

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

    def _relabel(self, _language: str) -> None:
        station = self.service.replica.anchor.station_name if self.service.replica.anchor else ""
        self.query_one("#sup-title", Static).update(t("sup.title", station=station))
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("dashboard").label = t("sup.tab.dashboard")
        decisions = sum(self.queue.counts.get(k, 0) for k in ("conflict", "escalation", "red_closure"))
        tabs.get_tab("review").label = t("sup.tab.review", count=decisions)
        tabs.get_tab("devices").label = t("sup.tab.devices")
        tabs.get_tab("reports").label = t("sup.tab.reports")
        for tab in TABS:
            if tab in self._built:
                self._draw_tab(tab)
        translate_bindings(self)

    def _officer_name(self, device_id: str | None) -> str:
        if not device_id:
            return t("dash.nobody")
        record = self.service.replica.device(device_id) or {}
        return str(record.get("officer") or device_id)

    def _figure_rows(self) -> list[tuple[str, Text | str, list[str] | None, tuple[str, dict[str, Any]]]]:
        """(row key, label, case ids or None for a heading, title key and args)."""
        board = self.board
        assert board is not None
        rows: list[tuple[str, Text | str, list[str] | None, tuple[str, dict[str, Any]]]] = []

        def heading(key: str, text: str) -> None:
            rows.append((f"h:{key}", Text(text, style="bold"), None, ("", {})))

        def row(
            key: str, title: tuple[str, dict[str, Any]], ids: list[str], label: Text | str | None = None
        ) -> None:
            rows.append((key, label if label is not None else "  " + t(title[0], **title[1]), ids, title))

        heading("open", t("dash.section.open"))
        for risk in model.RISKS:
            label = Text("  ").append_text(risk_cell(risk))
            row(
                f"risk:{risk}",
                ("dash.open_risk", {"risk": t(f"risk.{risk}")}),
                board.open_by_risk[risk],
                label,
            )
        for status, ids in board.open_by_status.items():
            name = vocab("status", status)
            row(f"status:{status}", ("dash.open_status", {"status": name}), ids, "  " + name)
        heading("attention", t("dash.section.attention"))
        for name in ("overdue", "followups_due", "unassigned", "unclaimed"):
            row(name, (f"dash.{name}", {}), getattr(board, name))
        for kind, (period, figures, behind) in board.periods.items():
            heading(kind, period.label(self.app.language))
            for name in (
                "found",
                "resolved",
                "found_resolved",
                "hazards_found",
                "hazards_fixed",
                "repeat_incidents",
            ):
                row(f"{kind}:{name}", (f"dash.period.{name}", {}), behind[name])
            rate = figures["resolution_rate"]
            rate_text = t("dash.no_rate") if rate is None else f"{rate:.1f}%"
            rows.append((f"{kind}:rate", "  " + t("dash.period.rate", rate=rate_text), None, ("", {})))
        heading("area", t("dash.section.area"))
        for area, ids in sorted(board.by_area.items(), key=lambda kv: (kv[0] == "", -len(kv[1]), kv[0])):
            name = area or t("dash.no_area")
            row(f"area:{area}", ("dash.open_status", {"status": name}), ids, "  " + name)
        heading("village", t("dash.section.village"))
        for village, ids in sorted(board.by_village.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            row(f"village:{village}", ("dash.open_status", {"status": village}), ids, "  " + village)
        heading("officer", t("dash.section.officer"))
        for officer, ids in sorted(board.by_officer.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            name = self._officer_name(officer)
            row(f"officer:{officer}", ("dash.open_status", {"status": name}), ids, "  " + name)
        heading("months", t("dash.section.months"))
        for first, rate, _found, _done in reversed(board.monthly_rate):
            month = first.strftime("%Y-%m")
            shown = t("dash.no_rate") if rate is None else f"{rate:.1f}%"
            label = "  " + t("dash.month_rate", month=month, rate=shown)
            row(f"month:{month}", ("dash.month_found", {"month": month}), board.monthly_found[first], label)
        heading("weeks", t("dash.section.weeks"))
        for index in reversed(range(len(board.weeks))):
            ids = [i for weekly in board.weekly_intake.values() for i in weekly[index]]
            week = board.weeks[index].isoformat()
            row(f"week:{week}", ("dash.week", {"date": week}), ids)
        return rows

    def _draw_figures(self) -> None:
        if self.board is None:
            return
        table = self.query_one("#figures", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_column(t("dash.column.figure"), key="figure")
        table.add_column(t("dash.column.count"), key="count")
        self._drill = {}
        for key, label, ids, title in self._figure_rows():
            count = "" if ids is None else Text(str(len(ids)), justify="right")
            table.add_row(label, count, key=key)
            if ids is not None:
                self._drill[key] = (title[0], title[1], ids)
        table.move_cursor(row=min(cursor, table.row_count - 1))
        self.query_one("#dash-hint", Static).update(t("dash.hint"))

    def _draw_charts(self) -> None:
        board = self.board
        if board is None:
            return
        weeks = [d.strftime("%m-%d") for d in board.weeks]
        totals = {c: sum(len(w) for w in weekly) for c, weekly in board.weekly_intake.items()}
        top = [c for c in sorted(totals, key=lambda c: (-totals[c], c)) if totals[c]][:CHART_CATEGORIES]
        series = [[len(w) for w in board.weekly_intake[c]] for c in top]
        rest = [
            sum(len(board.weekly_intake[c][i]) for c in board.weekly_intake if c not in top)
            for i in range(len(weeks))
        ]
        names = [vocab("category", c) for c in top]
        if any(rest):
            series.append(rest)
            names.append(t("dash.other_categories"))
        intake = self.query_one("#intake-chart", PlotextPlot).plt
        intake.clear_data()
        intake.clear_figure()
        if series:
            intake.stacked_bar(weeks, series, color=list(SERIES_COLOURS[: len(series)]), width=0.6)
        intake.xticks(list(range(1, len(weeks) + 1, 3)), weeks[::3])
        self.query_one("#intake-chart", PlotextPlot).refresh()
        legend = Text()
        for name, colour in zip(names, SERIES_COLOURS, strict=False):
            legend.append("■ ", style=SWATCH[colour])
            legend.append(f"{name}  ")
        self.query_one("#intake-legend", Static).update(legend)
        self.query_one("#intake-title", Static).update(t("dash.chart.intake"))
        months = [first.strftime("%y-%m") for first, _rate, _found, _done in board.monthly_rate]
        rates = [rate or 0.0 for _first, rate, _found, _done in board.monthly_rate]
        rate_plot = self.query_one("#rate-chart", PlotextPlot).plt
        rate_plot.clear_data()
        rate_plot.clear_figure()
        rate_plot.bar(months, rates, color="green", width=0.6)
        rate_plot.ylim(0, 100)
        rate_plot.xticks(list(range(1, len(months) + 1, 2)), months[::2])
        self.query_one("#rate-chart", PlotextPlot).refresh()
        self.query_one("#rate-title", Static).update(t("dash.chart.rate"))

    def _draw_queue(self) -> None:
        counts = self.queue.counts
        self.query_one("#review-counts", Static).update(t("review.counts", **counts))
        table = self.query_one("#queue", DataTable)
        table.clear(columns=True)
        for column in ("kind", "case", "what", "who", "when"):
            table.add_column(t(f"review.column.{column}"), key=column)
        self._items = {}
        decisions = [i for i in self.queue.items if i.kind in DECISIONS]
        records = [i for i in self.queue.items if i.kind not in DECISIONS]
        shown = decisions[:QUEUE_DECISIONS] + records[:QUEUE_RECORDS]
        for item in shown:
            kind = Text(
                t(f"review.kind.{item.kind}"),
                style="bold" if item.kind in ("conflict", "escalation", "red_closure") else "",
            )
            case = Text(item.case_id)
            if item.risk:
                case = risk_cell(item.risk).append(f" {item.case_id}")
            what = Text(self._item_text(item), no_wrap=True, overflow="ellipsis")
            table.add_row(
                kind, case, what, self._officer_name(item.author), local_time(item.at), key=item.key
            )
            self._items[item.key] = item
        hint = t("review.hint") if self.queue.items else t("review.empty")
        if len(shown) < len(self.queue.items):
            hint = t("review.more", shown=len(shown), total=len(self.queue.items)) + "  " + hint
        self.query_one("#review-hint", Static).update(hint)

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
                reason=reason_text(d.get("reason", "")),
            )
        if item.kind == "fork":
            return t("review.fork", seq=d.get("seq"))
        if item.kind == "rejected":
            return t("review.rejected", reason=d.get("reason", ""))
        return t("review.red_closure")

    def _draw_devices(self) -> None:
        table = self.query_one("#devices-table", DataTable)
        table.clear(columns=True)
        for column in ("officer", "role", "device", "seen", "synced", "state"):
            table.add_column(t(f"devices.column.{column}"), key=column)
        synced = last_synced_with(self.service.replica)
        for row in self.devices:
            if row["revoked"]:
                state = Text(t("devices.revoked", reason=row["revoked"]["reason"]), style="bold")
            else:
                state = Text(t("devices.this") if row["this_device"] else t("devices.active"))
            at = synced.get(row["device_id"])
            table.add_row(
                row["officer"],
                vocab("devices.role", row["role"]),
                row["device_id"],
                local_time(row["last_seen"]) or t("devices.never"),
                datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else "—",
                state,
                key=row["device_id"],
            )
        hint = t("devices.hint") if authority(self.service) is not None else t("devices.not_authority")
        self.query_one("#devices-hint", Static).update(hint)

    def _label_reports(self) -> None:
        any_ = t("exp.any")
        self.query_one("#exp-title", Static).update(t("exp.title"))
        self._set_options("#exp-format", [(f.upper(), f) for f in EXPORT_FORMATS])
        self._set_options(
            "#exp-status", [(vocab("status", s), s) for s in model.STATUSES], f"{t('exp.status')}: {any_}"
        )
        self._set_options("#exp-risk", [(t(f"risk.{r}"), r) for r in model.RISKS], f"{t('exp.risk')}: {any_}")
        self.query_one("#exp-village", Input).placeholder = t("exp.village")
        self.query_one("#folder-label", Static).update(t("exp.folder"))
        self.query_one("#exp-button", Button).label = t("exp.button")
        self.query_one("#rep-title", Static).update(t("rep.title"))
        self._set_options("#rep-period", [(t(f"rep.period.{p}"), p) for p in PERIODS])
        self.query_one("#rep-of", Input).placeholder = t("rep.of")
        self._set_options("#rep-format", [(f.upper(), f) for f in REPORT_FORMATS])
        self.query_one("#rep-show", Button).label = t("rep.show")
        self.query_one("#rep-button", Button).label = t("rep.button")

    def _set_options(self, selector: str, options: list[tuple[str, str]], prompt: str | None = None) -> None:
        relabel_select(self.query_one(selector, Select), options, prompt)

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
        if action == "revoke":
            return tab == "devices" and authority(self.service) is not None
        return True

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
        }
        self.query_one(first[tab]).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: drill down (dashboard), decide (review)."""
        key = str(event.row_key.value)
        if event.data_table.id == "figures" and key in self._drill:
            title_key, args, ids = self._drill[key]
            self.app.push_screen(CaseListScreen(self.service, title_key, args, ids))
        elif event.data_table.id == "queue" and key in self._items:
            self.decide(self._items[key])

    def decide(self, item: Item) -> None:
        """The dialog deciding a queue item, or its case for the items that only inform."""
        if not item.case_id:
            self.notify(self._item_text(item), title=t(f"review.kind.{item.kind}"), timeout=15)
            return
        try:
            case = self.service.replica.view("cases")[item.case_id]
        except KeyError:
            return
        dialog: CaseDialog
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

        def recorded(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.notify(t(done, id=item.case_id))
                self.action_refresh()

        self.app.push_screen(dialog, recorded)

    def action_place_village(self) -> None:
        """Place the village of the selected dashboard row in a police area."""
        table = self.query_one("#figures", DataTable)
        if not table.row_count:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if not key.startswith("village:"):
            self.notify(t("area.choose_village"), severity="warning")
            return
        village = key.removeprefix("village:")

        def placed(result: dict[str, Any] | None) -> None:
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
        table = self.query_one("#devices-table", DataTable)
        if not table.row_count:
            return
        device_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        device = next((r for r in self.devices if r["device_id"] == device_id), None)
        if device is None:
            return

        def revoked(result: dict[str, Any] | None) -> None:
            if result is not None:
                self.notify(t("revoke.done", officer=device["officer"]))
                self.action_refresh()

        self.app.push_screen(RevokeDialog(self.service, device), revoked)

    # ------------------------------------------------------------ reports and exports

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value == Select.NULL else str(value)

    def _target(self, name: str) -> Path | None:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        if not folder.is_dir():
            return None
        return folder / name

    @on(Button.Pressed, "#exp-button")
    def export(self) -> None:
        """Write the filtered cases (and visits) to a new file in the folder."""
        result = self.query_one("#exp-result", Static)
        fmt = self._chosen("#exp-format") or EXPORT_FORMATS[0]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self._target(f"fieldapp-cases-{stamp}.{fmt}")
        if target is None:
            result.update(t("exp.no_folder", folder=self.query_one("#folder", Input).value))
            return
        wanted = CaseFilter(
            status=self._chosen("#exp-status"),
            risk=self._chosen("#exp-risk"),
            village=self.query_one("#exp-village", Input).value.strip() or None,
        )
        visits_out = target.with_name(f"fieldapp-visits-{stamp}.csv") if fmt == "csv" else None
        try:
            cases = filter_cases(self._cases(), wanted)
            made = build_export(
                cases,
                fmt,
                self.app.language,
                officer_names(self.service),
                target,
                visits_out,  # type: ignore[attr-defined]
            )
            write_new(made.files)
        except (ExportError, CaseError) as exc:
            result.update(t("exp.failed", reason=str(exc)))
            return
        self.last_export = target
        result.update(t("exp.done", cases=made.cases, visits=made.visits, path=target))

    def _report(self) -> dict[str, Any] | None:
        result = self.query_one("#rep-result", Static)
        try:
            period = period_of(
                self._chosen("#rep-period") or "month", self.query_one("#rep-of", Input).value.strip()
            )
        except ReportError:
            result.update(t("rep.of_bad"))
            return None
        result.update("")
        return build_report(self._states(), period, officer_names(self.service), facts_of=self._facts_of)

    @on(Button.Pressed, "#rep-show")
    def show_report(self) -> None:
        """The report as text, below the form."""
        report = self._report()
        if report is not None:
            self.query_one("#rep-preview", Static).update(report_text(report, self.app.language))  # type: ignore[attr-defined]

    @on(Button.Pressed, "#rep-button")
    def write_report(self) -> None:
        """Write the report's table (XLSX or CSV) to a new file in the folder."""
        report = self._report()
        if report is None:
            return
        result = self.query_one("#rep-result", Static)
        fmt = self._chosen("#rep-format") or REPORT_FORMATS[0]
        code = report["period"]["code"]
        target = self._target(f"fieldapp-report-{code}-{datetime.now():%Y%m%d-%H%M%S}.{fmt}")
        if target is None:
            result.update(t("exp.no_folder", folder=self.query_one("#folder", Input).value))
            return
        try:
            write_new({str(target): report_file(report, fmt, self.app.language)})  # type: ignore[attr-defined]
        except ExportError as exc:
            result.update(t("exp.failed", reason=str(exc)))
            return
        self.last_report = target
        result.update(t("rep.done", period=code, path=target))
        self.show_report()
