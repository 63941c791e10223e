"""The supervisor's shift board (the Shift tab, 5): every enrolled device at the shift's end.

One row per device of the station (from its enrolment on): officer, role, last sync with this
computer, whether it merged this shift, what it brought (`fieldapp.outputs.shift`: new intakes,
visits, updates, conflicts, operations refused), how far behind it is (`sync.session.behind`)
and its errors (connections refused, sessions cut short); above the table the line "12 of 14
devices merged this shift; missing: ...", below it the refused connections and cut transfers,
and a progress bar per session in flight (station mode's `ServeStatus.transfers`).

The report is built again only when `rebuild()` is called: the supervisor's screen calls it,
coalesced, as sessions land; the progress bars follow `app.serving` by themselves. What it reads
is copied on the app's thread (`fieldapp.outputs.shift.shift_sources`, a few milliseconds) and
the report (~80 ms at 17,000 cases) is built in a thread, so keys are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, ProgressBar, Static

from fieldapp.core.service import CaseService
from fieldapp.core.serving import ServeStatus, Transfer
from fieldapp.i18n import Translator, t
from fieldapp.i18n import shift_board as _strings  # noqa: F401  (registers the board's strings)
from fieldapp.outputs.shift import ShiftError, parse_since, shift_sources
from fieldapp.outputs.shift_text import ago, event_line, merged_line
from fieldapp.tui.case_timeline import vocab
from fieldapp.tui.column_fit import natural_widths

#: The table's columns, in order.
COLUMNS = (
    "officer",
    "role",
    "last",
    "shift",
    "intakes",
    "visits",
    "updates",
    "conflicts",
    "refused_ops",
    "behind",
    "errors",
)
#: The columns of text (the others are counts, right-aligned); the one left out when the table
#: is too narrow for all (the Devices tab shows the roles too).
TEXT_COLUMNS = ("officer", "role", "last", "shift")
NARROW_DROPS = "role"
#: Refused connections and cut transfers listed under the table (the newest).
EVENTS_SHOWN = 5


def local_now() -> datetime:
    """Now, in this computer's time zone."""
    return datetime.now().astimezone()


def board_cells(row: dict[str, Any], lang: str, now: datetime) -> list[Text | str]:
    """One device's cells (a row of `shift_report`'s "devices"), in COLUMNS' order."""
    tr = Translator(lang)
    brought = row["brought"]
    behind = row["behind"]
    shift = Text(tr.t("board.yes" if row["synced"] else "board.no"), style="" if row["synced"] else "bold")
    if row["revoked"]:  # not expected this shift
        shift = Text(tr.t("board.revoked"))
    errors = row["refusals"] + row["errors"]

    def count(n: int, style: str = "") -> Text:
        return Text(str(n), justify="right", style=style if n else "")

    return [
        row["officer"] or row["device"],
        vocab("devices.role", row["role"]) if row["role"] else "",
        ago(row["last_sync"], now, tr),
        shift,
        count(brought["intakes"]),
        count(brought["visits"]),
        count(brought["updates"] + brought["resolutions"]),  # "other": announcements and the like
        count(row["conflicts"], "bold"),
        count(row["refused_ops"], "bold"),
        count(behind) if behind is not None else Text(tr.t("board.unknown"), justify="right"),
        count(errors, "bold red"),
    ]


def _spaced(cell: Text | str) -> Text:
    """A cell one space from the column before it (counts are right-aligned: they have it)."""
    if isinstance(cell, Text) and cell.justify == "right":
        return cell
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    return Text(" ") + text


class ShiftBoard(Vertical):
    """The Shift tab's contents: the merged line, the devices' table, errors, transfers."""

    DEFAULT_CSS = """
    ShiftBoard { height: 1fr; }
    ShiftBoard #shift-since-row { height: auto; }
    ShiftBoard #shift-since-label { width: auto; padding: 1 1 0 1; }
    ShiftBoard #shift-since { width: 24; }
    ShiftBoard #shift-since-note { width: 1fr; padding: 1 1 0 1; color: $text-muted; }
    ShiftBoard #shift-merged { height: auto; padding: 0 1; text-style: bold; }
    ShiftBoard #shift-table { height: 1fr; scrollbar-gutter: stable; }
    ShiftBoard #shift-events { height: auto; max-height: 4; padding: 0 1; }
    ShiftBoard #shift-transfers { height: auto; max-height: 6; padding: 0 1; }
    ShiftBoard .shift-transfer { height: 1; }
    ShiftBoard .shift-transfer Static { width: 1fr; }
    ShiftBoard .shift-transfer ProgressBar { width: auto; }
    ShiftBoard #shift-hint { height: auto; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, service: CaseService, now: Callable[[], datetime] = local_now) -> None:
        super().__init__(id="shift-board")
        self.service = service
        self._now = now
        #: What the supervisor typed as the shift's start ("": today 00:00, as `fieldapp shift-report`).
        self.since_text = ""
        #: The shift report drawn (`fieldapp.outputs.shift.shift_report`), None before the first.
        self.report: dict[str, Any] | None = None
        #: How many times the report was built (what a refresh costs; tests count them).
        self.builds = 0
        #: Progress bars of the sessions in flight, by the peer's address: (line, label, bar).
        self._bars: dict[str, tuple[Horizontal, Static, ProgressBar]] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="shift-since-row"):
            yield Static(id="shift-since-label")
            yield Input(id="shift-since")
            yield Static(id="shift-since-note")
        yield Static(id="shift-merged")
        # One cell between columns, not two: eleven columns fit 80 cells (`_draw_table`).
        yield DataTable(id="shift-table", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield Static(id="shift-events")
        yield Vertical(id="shift-transfers")
        yield Static(id="shift-hint")

    def on_mount(self) -> None:
        self.watch(self.app, "serving", self._draw_transfers)
        self.rebuild()

    def rebuild(self) -> None:
        """Build the shift report again from the ledger and the views, and draw it (the report
        is built in a thread; a rebuild asked meanwhile replaces the one under way)."""
        # (The checker cannot infer Textual's WorkType union from an async method: arg-type.)
        self.run_worker(self._rebuild, group="shift-board", exclusive=True)  # type: ignore[arg-type]

    async def _rebuild(self) -> None:
        now = self._now()
        try:
            since = parse_since(self.since_text or None, now)
        except ShiftError as exc:  # checked when typed; the clock may have moved since
            self.query_one("#shift-since-note", Static).update(t(exc.key, **exc.params))
            since = parse_since(None, now)
        sources = shift_sources(self.service)
        self.report = await asyncio.to_thread(sources.report, since, now)
        self.builds += 1
        with contextlib.suppress(NoMatches):  # the screen may have closed meanwhile
            self.draw()

    def draw(self) -> None:
        """Draw the report held (after a rebuild or a language switch)."""
        lang: str = self.app.language  # type: ignore[attr-defined]
        self.query_one("#shift-since-label", Static).update(t("board.since"))
        self.query_one("#shift-since", Input).placeholder = t("board.since_placeholder")
        self.query_one("#shift-hint", Static).update(t("board.hint"))
        report = self.report
        if report is None:
            return
        now = datetime.fromisoformat(report["until"])
        since = datetime.fromisoformat(report["since"]).strftime("%Y-%m-%d %H:%M")
        self.query_one("#shift-since-note", Static).update(t("board.since_shown", since=since))
        self.query_one("#shift-merged", Static).update(merged_line(report, lang, now))
        self._draw_table([(row["device"], board_cells(row, lang, now)) for row in report["devices"]])
        events = sorted(report["refused"] + report["errors"], key=lambda e: e["at"] or "")[-EVENTS_SHOWN:]
        lines = "\n".join(event_line(e, lang) for e in reversed(events))
        text = t("board.errors", lines="\n" + lines) if events else t("board.no_errors")
        self.query_one("#shift-events", Static).update(Text(text, style="red" if events else ""))
        self._draw_transfers(getattr(self.app, "serving", None))

    def _draw_table(self, rows: list[tuple[str, list[Text | str]]]) -> None:
        """The devices' table: each column as wide as its widest cell and one cell apart; without
        the role when all would not fit the screen's width."""
        table = self.query_one("#shift-table", DataTable)
        row_at = table.cursor_row
        labels = [t(f"board.col.{column}") for column in COLUMNS]
        widths = [w + 1 for w in natural_widths(labels, (cells for _key, cells in rows))]
        shown = list(range(len(COLUMNS)))
        if sum(widths) > self.app.size.width - 2 - table.styles.scrollbar_size_vertical:
            shown.remove(COLUMNS.index(NARROW_DROPS))
        table.clear(columns=True)
        for i in shown:
            text = COLUMNS[i] in TEXT_COLUMNS
            label = Text((" " if text else "") + labels[i], justify="left" if text else "right")
            table.add_column(label, key=COLUMNS[i], width=widths[i])
        for key, cells in rows:
            table.add_row(*(_spaced(cells[i]) for i in shown), key=key)
        if table.row_count:
            table.move_cursor(row=min(row_at, table.row_count - 1))

    def on_resize(self, _event: events.Resize) -> None:
        """Another width: the role column may fit now, or no longer."""
        if self.report is not None:
            self.draw()

    @on(Input.Submitted, "#shift-since")
    def _since_typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        try:
            parse_since(text or None, self._now())
        except ShiftError as exc:
            self.query_one("#shift-since-note", Static).update(
                Text(t(exc.key, **exc.params), style="bold red")
            )
            return
        self.since_text = text
        self.rebuild()
        self.query_one("#shift-table", DataTable).focus()

    def _who(self, transfer: Transfer) -> str:
        known: dict[str, Any] = dict(self.service.replica.device(transfer.device_id) or {})
        officer = known.get("officer") or (known.get("enrolled") or {}).get("officer")
        return str(officer or transfer.device_id)

    def _draw_transfers(self, status: ServeStatus | None) -> None:
        """A progress bar per session in flight (received and sent, against what is expected)."""
        box = self.query_one("#shift-transfers", Vertical)
        transfers = {tr.address: tr for tr in (status.transfers if status is not None else ())}
        for address in [a for a in self._bars if a not in transfers]:
            self._bars.pop(address)[0].remove()
        for address, transfer in transfers.items():
            total = transfer.to_receive + transfer.to_send
            done = transfer.received + transfer.sent
            text = t("board.transfer", who=self._who(transfer), done=done, total=total)
            found = self._bars.get(address)
            if found is None:
                label, bar = Static(text), ProgressBar(total=max(total, 1), show_eta=False)
                line = Horizontal(label, bar, classes="shift-transfer")
                self._bars[address] = (line, label, bar)
                box.mount(line)
            else:
                label, bar = found[1], found[2]
                label.update(text)
            bar.update(total=max(total, 1), progress=min(done, max(total, 1)))
        box.display = bool(transfers)
