"""Home: what the officer holding this device has to do today.

My cases (assigned to me, claimed by me, or recorded by me and not assigned to
anyone else), follow-ups due today or overdue, cases past their deadline and the
plans of key persons this device is responsible for that are due (docs/persons.md,
"Plan dates"), open cases by risk colour, and the sync state (operations no other
device has yet, last successful sync). Enter opens a case; the footer shows the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypedDict

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Static

from fieldapp.core.service import CaseService, public
from fieldapp.domain.documents import CaseDoc, PublicCase
from fieldapp.domain.model import followup_pending, is_overdue
from fieldapp.domain.person_plans import PlanDue, maybe_mine, plans_due
from fieldapp.domain.persons import PERSONS_TABLE
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import COLUMNS, VILLAGE_MAX_WIDTH, case_cells, risk_cell
from fieldapp.tui.column_fit import cell_width, fill_width, fit_row, natural_widths
from fieldapp.tui.footer import Footer
from fieldapp.tui.person_index_worker import person_index_off_thread
from storage import FieldDB
from sync.session import sync_status

#: Most rows shown per table (the Find screen shows everything).
MAX_ROWS = 200
RISKS = ("red", "orange", "yellow")
OPEN = frozenset({"open", "in_progress", "escalated", "referred"})
#: Lines of the screen outside the two tables: the header, sync and risk lines, the two
#: section titles with the blank line above each, the footer (app.tcss, "Home").
CHROME_LINES = 8
#: The first part of a due row's key for a key person's plan (a case row's is the case id).
PLAN_ROW = "plan"
#: Narrowest summary column (cells); a narrower screen ends the summary with "…".
SUMMARY_MIN_WIDTH = 4


class HomeFigures(TypedDict):
    """What the home screen shows, from the `cases` view (`home_figures`)."""

    #: This officer's cases not closed, most urgent first.
    mine: list[CaseDoc]
    #: (what, date, case) asked of the officer today (`due_items`), soonest first.
    due: list[tuple[str, str, CaseDoc]]
    #: Open cases by risk.
    by_risk: dict[str, int]
    total: int


def due_items(case: PublicCase, today: str) -> list[tuple[str, str]]:
    """(what, date) a case asks of the officer today: follow-ups due or overdue, a passed deadline."""
    if case.get("status") == "closed":
        return []  # closed: nothing more is asked of anyone
    items = [
        ("followup", f["due"])
        for f in case.get("followups") or ()
        if followup_pending(f) and f["due"] <= today
    ]
    if is_overdue(case, date.fromisoformat(today)):
        items.append(("deadline", str(case["deadline"])))  # (is_overdue: it has one)
    return items


def is_mine(case: PublicCase, me: str) -> bool:
    """Assigned to me, claimed by me, or recorded by me and not assigned to anyone else."""
    if case.get("assignee") == me or case.get("claimed_by") == me:
        return True
    return case.get("created_by") == me and not case.get("assignee")


def home_figures(view: Mapping[str, CaseDoc], me: str, today: str) -> HomeFigures:
    """Everything the home screen shows, from the `cases` view, in one pass."""
    mine: list[CaseDoc] = []
    due: list[tuple[str, str, CaseDoc]] = []
    by_risk = dict.fromkeys(RISKS, 0)
    total = 0
    for case in view.values():
        if not case.get("exists"):
            continue
        total += 1
        if case["status"] in OPEN and case["risk"] in by_risk:
            by_risk[case["risk"]] += 1
        if is_mine(case, me) and case["status"] != "closed":
            mine.append(case)
        for what, when in due_items(case, today):
            due.append((what, when, case))
    risk_rank = {r: i for i, r in enumerate(RISKS)}
    mine.sort(key=lambda c: (risk_rank.get(c["risk"], 9), c.get("deadline") or "9999", c["id"]))
    due.sort(key=lambda item: (item[1], risk_rank.get(item[2]["risk"], 9)))
    return {"mine": mine, "due": due, "by_risk": by_risk, "total": total}


def due_height(room: int, due_rows: int, mine_rows: int) -> int:
    """Lines (header included) the due table takes of the `room` lines both tables share.

    All due rows when they fit beside all of "My cases"; else "My cases" keeps its header and
    up to a third of the room (at least 3 rows) and the due list takes the rest.
    """
    due_need = due_rows + 1
    mine_need = mine_rows + 1 if mine_rows else 0
    if due_need + mine_need <= room:
        return due_need
    mine_keep = min(mine_need, max(4, room // 3))
    return max(2, min(due_need, room - mine_keep))


def plan_cells(plan: PlanDue, today: str) -> list[Text]:
    """A key person's plan as a due row: their newest case's risk and village, the date (an
    overdue one says so, in bold), their name and the plan."""
    overdue = plan.due < today
    return [
        risk_cell(plan.risk),
        Text(plan.village, no_wrap=True, overflow="ellipsis"),
        Text(
            t("home.due_plan_overdue" if overdue else "home.due_plan", date=plan.due),
            style="bold" if overdue else "",
            no_wrap=True,
        ),
        Text(t("home.plan_summary", name=plan.name, plan=plan.plan), no_wrap=True, overflow="ellipsis"),
    ]


class HomeScreen(Screen[None]):
    """The officer's day at a glance."""

    BINDINGS = [
        Binding("n", "app.new_intake", "binding.new_intake"),
        Binding("f", "app.find", "binding.find"),
        Binding("slash", "app.find", "binding.find", show=False),
        Binding("s", "app.sync", "binding.sync"),
        Binding("d", "supervise", "binding.supervise"),
        Binding("l", "app.lock", "binding.lock"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
        Binding("q", "app.quit", "binding.quit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The supervisor's key is not shown on an officer's device."""
        if action == "supervise":
            return bool(getattr(self.app, "is_supervisor", lambda: False)())
        return True

    def action_supervise(self) -> None:
        """The supervisor's screen (the app refuses it to an officer's device)."""
        self.app.action_supervise()  # type: ignore[attr-defined]

    def __init__(self, db: FieldDB, today: str | None = None) -> None:
        super().__init__()
        self._db = db
        self._today = today
        #: Key persons' plans due (built off the UI thread when this device may have some).
        self._plans: list[PlanDue] = []
        self._load()
        self._resumed = False

    def _load(self) -> None:
        self._device: dict[str, Any] | None = next(iter(self._db.table("device").all()), None)
        me = self._me = str(self._device.get("device_id", "")) if self._device else ""
        today = self._today or date.today().isoformat()
        self._figures = home_figures(self._db.keyed("cases").raw(), me, today)
        #: Whether a key person's plan may be this device's: only then is the person index built.
        self._plans_wanted = bool(me) and any(maybe_mine(d, me) for d in self._persons().values())
        if not self._plans_wanted:
            self._plans = []

    def _persons(self) -> Mapping[str, Any]:
        return self._db.keyed(PERSONS_TABLE).raw()

    @work(exclusive=True, exit_on_error=False, group="home-plans")
    async def _load_plans(self) -> None:
        """The key persons' plans due, from the store's person index brought current off the UI
        thread; then shown."""
        service = getattr(self.app, "service", None)
        if not isinstance(service, CaseService):
            return
        index = await person_index_off_thread(service)
        today = self._today or date.today().isoformat()
        self._plans = plans_due(index, self._persons(), self._me, today)
        self._relabel(self.app.language)  # type: ignore[attr-defined]

    def open_plan(self, plan: PlanDue) -> None:
        """Enter on a key person's plan: the person's file, with the plan and their cases."""
        self.app.open_person(plan.person)  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        with Horizontal(id="caseload-header"):
            yield Static(id="officer")
            yield Static(id="device")
            yield Static(id="case-count")
        yield Static(id="home-status")
        yield Static(id="home-risk")
        yield Static(id="due-title", classes="section-title")
        yield DataTable(id="due", cursor_type="row", zebra_stripes=True)
        yield Static(id="mine-title", classes="section-title")
        yield DataTable(id="mine", cursor_type="row", zebra_stripes=True)
        yield Static(id="empty-state")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        # Cell widths measured before the first layout come out as wide as the headers only
        # (CJK cut to one character): fill once more after it.
        self.call_after_refresh(self._relabel, self.app.language)  # type: ignore[attr-defined]
        table = self.query_one("#due" if self._figures["due"] else "#mine", DataTable)
        table.focus()
        if self._plans_wanted:
            self._load_plans()

    def on_resize(self, _event: events.Resize) -> None:
        """Column widths and table heights follow the terminal's size."""
        self._fill_due()
        self._fill_mine()
        self._share_height()

    def on_screen_resume(self) -> None:
        """Back from a case, an intake or a sync: show the store as it is now."""
        if not self._resumed:  # the first resume is the first showing: loaded just now
            self._resumed = True
            return
        self._load()
        self._relabel(self.app.language)  # type: ignore[attr-defined]
        if self._plans_wanted:
            self._load_plans()

    def _relabel(self, _language: str) -> None:
        figures = self._figures
        officer = self.query_one("#officer", Static)
        device = self.query_one("#device", Static)
        if self._device is None:
            officer.update(t("caseload.not_enrolled"))
            device.update("")
        else:
            officer.update(t("caseload.officer", name=self._device.get("officer", "")))
            device.update(t("caseload.device", device_id=self._device.get("device_id", "")))
        self.query_one("#case-count", Static).update(t("caseload.count", count=figures["total"]))
        self.query_one("#home-status", Static).update(self._sync_line())
        risk = Text(t("home.open_by_risk") + "  ")
        for level in RISKS:
            risk.append_text(risk_cell(level))
            risk.append(f" {figures['by_risk'][level]}   ")
        self.query_one("#home-risk", Static).update(risk)
        due_count = len(figures["due"]) + len(self._plans)
        self.query_one("#due-title", Static).update(t("home.due_title", count=due_count))
        self.query_one("#mine-title", Static).update(t("home.mine_title", count=len(figures["mine"])))
        self._fill_due()
        self._fill_mine()
        empty = self.query_one("#empty-state", Static)
        empty.update(t("caseload.empty"))
        empty.display = figures["total"] == 0
        self._share_height()
        translate_bindings(self)

    def _sync_line(self) -> str:
        if self.app_service is None:
            return ""
        at, unsynced = sync_status(self.app_service.replica)
        when = (
            datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")
            if at is not None
            else t("home.never_synced")
        )
        return t("home.sync_status", count=unsynced, when=when)

    @property
    def app_service(self) -> Any:
        return getattr(self.app, "service", None)

    def _share_height(self) -> None:
        """Give the due list every row it has when both tables fit, else share the height."""
        room = self.app.size.height - CHROME_LINES
        shown = lambda rows: min(len(rows), MAX_ROWS)  # noqa: E731
        due_rows = min(len(self._figures["due"]) + len(self._plans), MAX_ROWS)
        height = due_height(room, due_rows, shown(self._figures["mine"]))
        self.query_one("#due", DataTable).styles.height = height

    def _fit(
        self, table: DataTable[Any], keys: list[str], labels: list[str], rows: list[list[Text]]
    ) -> list[int]:
        """Columns as wide as their widest cell; the summary takes what the others leave."""
        widths = natural_widths(labels, rows)
        village = keys.index("village")
        widths[village] = min(widths[village], max(VILLAGE_MAX_WIDTH, cell_width(labels[village])))
        room = self.app.size.width - table.styles.scrollbar_size_vertical
        widths = fill_width(widths, keys.index("summary"), room, table.cell_padding, SUMMARY_MIN_WIDTH)
        table.clear(columns=True)
        for key, label, width in zip(keys, labels, widths, strict=True):
            table.add_column(label, key=key, width=width)
        return widths

    def _fill(
        self, table: DataTable[Any], keys: list[str], labels: list[str], rows: list[tuple[str, list[Text]]]
    ) -> None:
        cursor = table.cursor_row
        widths = self._fit(table, keys, labels, [cells for _key, cells in rows])
        for key, cells in rows:
            table.add_row(*fit_row(cells, widths), key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))
        table.display = bool(rows)

    def _fill_due(self) -> None:
        today = self._today or date.today().isoformat()
        rank = {r: i for i, r in enumerate(RISKS)}
        entries = [
            (
                (when, rank.get(case["risk"], 9)),
                f"{case['id']}|{what}|{when}",
                [
                    risk_cell(case["risk"]),
                    Text(case["village"], no_wrap=True, overflow="ellipsis"),
                    Text(
                        t(f"home.due_{what}", date=when), style="bold" if when < today else "", no_wrap=True
                    ),
                    Text(case["summary"], no_wrap=True, overflow="ellipsis"),
                ],
            )
            for what, when, case in self._figures["due"][:MAX_ROWS]
        ]
        entries += [  # among the follow-ups, by date
            (
                (plan.due, rank.get(plan.risk, 9)),
                f"{PLAN_ROW}|{plan.person}|{plan.due}",
                plan_cells(plan, today),
            )
            for plan in self._plans
        ]
        entries.sort(key=lambda entry: entry[0])  # stable: the cases keep their order
        rows = [(key, cells) for _order, key, cells in entries[:MAX_ROWS]]
        keys = ["risk", "village", "due", "summary"]
        labels = [t("column.risk"), t("column.village"), t("home.column_due"), t("column.summary")]
        self._fill(self.query_one("#due", DataTable), keys, labels, rows)

    def _fill_mine(self) -> None:
        rows = [(case["id"], case_cells(public(case))) for case in self._figures["mine"][:MAX_ROWS]]
        labels = [t(f"column.{column}") for column in COLUMNS]
        self._fill(self.query_one("#mine", DataTable), list(COLUMNS), labels, rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its case (a key person's plan: `open_plan`)."""
        key = event.row_key.value or ""
        first, _, rest = key.partition("|")
        if first == PLAN_ROW:
            person = rest.split("|", 1)[0]
            plan = next((p for p in self._plans if p.person == person), None)
            if plan is not None:
                self.open_plan(plan)
            return
        self.app.open_case(first)  # type: ignore[attr-defined]
