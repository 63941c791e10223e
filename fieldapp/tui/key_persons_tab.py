"""The supervisor's key persons (the Persons tab, 6): flagged, or two or more disputes in the last
12 months (`fieldapp.outputs.key_persons`, which defines every column).

The rows are listed off the UI thread (in `asyncio.to_thread`, as the dashboard's figures are),
from the store's person index brought current from what changed (`person_index_worker`), each
time the supervisor's screen reads the caseload again, and drawn here when they arrive. Enter on a row
opens the person's file (`KeyPersonsTab.open_person`).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from fieldapp.i18n import key_persons as _strings  # noqa: F401  (registers the tab's strings)
from fieldapp.i18n import t
from fieldapp.outputs.key_persons import KeyPersonRow
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.column_fit import drop_to_fit, fit_row, natural_widths

#: The table's columns, in order; "villages" takes the width the others leave.
COLUMNS = ("name", "villages", "why", "recent", "open", "risk", "visit", "officer", "due")
#: Counts, right-aligned.
NUMBERS = frozenset({"recent", "open"})
#: The villages' narrowest width (cells); below it the last visit is left out (80 columns, English).
VILLAGES_MIN = 8
NARROW_DROPS = ("visit",)


def row_cells(row: KeyPersonRow, name_of: Any) -> list[Text | str]:
    """One key person's cells, in COLUMNS' order (each text cell one space from the one before)."""
    why = Text(t("keyp.why.flagged"), style="bold") if row.flagged else Text(t("keyp.why.repeat"))
    risk = risk_cell(row.top_risk) if row.top_risk else Text(t("keyp.none"))
    if row.due and row.overdue:
        due = Text(f"{row.due} {t('keyp.overdue')}", style="bold red")
    else:
        due = Text(row.due or t("keyp.none"))
    cells: list[Text | str] = [
        Text(row.name),
        Text("、".join(row.villages)),
        why,
        Text(str(row.recent), justify="right"),
        Text(str(row.open_cases), justify="right"),
        risk,
        Text(row.last_visit.isoformat() if row.last_visit else t("keyp.none")),
        Text(name_of(row.officer) if row.officer else t("keyp.none")),
        due,
    ]
    return [c if c.justify == "right" else Text(" ") + c for c in cells]  # type: ignore[union-attr]


class KeyPersonsTab(Vertical):
    """The Persons tab's contents: a summary line, the key persons' table, the hint."""

    DEFAULT_CSS = """
    KeyPersonsTab { height: 1fr; }
    KeyPersonsTab #keyp-summary { height: auto; padding: 0 1; }
    KeyPersonsTab #keyp-table { height: 1fr; scrollbar-gutter: stable; }
    KeyPersonsTab #keyp-hint { height: auto; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, name_of: Any) -> None:
        super().__init__(id="key-persons")
        #: Device id -> the officer's name.
        self._name_of = name_of
        #: The rows drawn (None until the first gathering ends).
        self.rows: list[KeyPersonRow] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="keyp-summary")
        # One cell between columns, not two: nine columns fit 80 cells.
        yield DataTable(id="keyp-table", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield Static(id="keyp-hint")

    def show(self, rows: list[KeyPersonRow] | None) -> None:
        """Draw these rows (None: still gathering)."""
        self.rows = rows
        self.draw()

    def draw(self) -> None:
        """Draw the rows held (after a gathering or a language switch)."""
        rows = self.rows
        self.query_one("#keyp-hint", Static).update(t("keyp.hint"))
        summary = self.query_one("#keyp-summary", Static)
        table = self.query_one("#keyp-table", DataTable)
        was_on = table.cursor_row
        table.clear(columns=True)
        if rows is None:
            summary.update(t("keyp.loading"))
            return
        flagged = sum(1 for r in rows if r.flagged)
        overdue = sum(1 for r in rows if r.flagged and r.overdue)
        summary.update(
            t("keyp.summary", count=len(rows), flagged=flagged, overdue=overdue, repeat=len(rows) - flagged)
            if rows
            else t("keyp.empty")
        )
        cells = [(row.id, row_cells(row, self._name_of)) for row in rows]
        labels = [t(f"keyp.col.{column}") for column in COLUMNS]
        heads = [
            Text(label, justify="right") if column in NUMBERS else Text(" " + label)
            for column, label in zip(COLUMNS, labels, strict=True)
        ]
        natural = natural_widths(heads, (c for _key, c in cells))
        # A count is right-aligned: one cell more, to stand apart from the column before it.
        widths = [w + (column in NUMBERS) for column, w in zip(COLUMNS, natural, strict=True)]
        room = self.app.size.width - 2 - table.styles.scrollbar_size_vertical
        columns, widths = drop_to_fit(COLUMNS, widths, "villages", room, 0, VILLAGES_MIN, NARROW_DROPS)
        shown = [COLUMNS.index(column) for column in columns]
        for index, width in zip(shown, widths, strict=True):
            table.add_column(heads[index], key=COLUMNS[index], width=width)
        for key, row_of in cells:
            table.add_row(*fit_row([row_of[i] for i in shown], widths), key=key)
        if table.row_count:
            table.move_cursor(row=min(was_on, table.row_count - 1))

    def on_resize(self) -> None:
        """Another width: the villages take what the other columns leave."""
        if self.rows is not None:
            self.draw()

    def selected(self) -> KeyPersonRow | None:
        """The key person under the cursor."""
        table = self.query_one("#keyp-table", DataTable)
        if not table.row_count or self.rows is None:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        return next((r for r in self.rows if r.id == key), None)

    @on(DataTable.RowSelected, "#keyp-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.open_person(row)

    def open_person(self, row: KeyPersonRow) -> None:
        """Enter on a key person: their file (cases, visits, the plan)."""
        self.app.open_person(row.id)  # type: ignore[attr-defined]
