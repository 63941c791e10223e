"""The person screen: one person's file (一人一档) and plan (一策).

The header says who they are (names, other ids, mobile, villages), whether they are a key person
(重点人员), the highest risk of their open cases and the officer responsible; then the plan (what
is done next, by whom, by when, overdue marked) and what awaits a decision. Below, one timeline of
all their cases and visits, newest first, each row naming its case: Enter opens it. Actions are
dialogs (`person_dialogs`) that record through `CaseService`, the functions `fieldapp person`
uses; after one records, the screen reads the person again.

The person is read from the store's person index, brought current from what changed when the
screen opens, after each action and on coming back (docs/persons.md, "Cost"): on the app's thread
when few documents changed since (a few milliseconds), else off it (the first time the index is
built: 0.3 s at 17,000 cases), the screen saying it is reading meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from fieldapp.core.service import CaseError, CaseService, officer_names
from fieldapp.domain.person_index import Person, PersonIndex
from fieldapp.i18n import persons as _strings  # noqa: F401  (registers the persons' strings)
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.column_fit import fill_width, fit_row, natural_widths
from fieldapp.tui.footer import Footer
from fieldapp.tui.person_file import FileRow, file_rows, highest_open_risk, plan_overdue
from fieldapp.tui.person_index_worker import person_index_if_cheap, person_index_off_thread
from fieldapp.tui.resume import Place
from fieldapp.tui.screens.person_dialogs import LinkDialog, PlanDialog, UnlinkDialog

#: The timeline's columns; the last takes the width the others leave.
COLUMNS = ("when", "case", "who", "what")
#: The narrowest "what" (cells) before the table scrolls sideways.
WHAT_MIN_WIDTH = 8
#: A badge in words as well as colour (as the case screen's overdue mark).
BADGE = "bold #ffffff on #c62828"


class PersonScreen(Screen[None]):
    """One person's file: header, plan, timeline; k (key person and plan), l (link a possible
    match), x (unlink an id), Enter (open the case of a row)."""

    BINDINGS = [
        Binding("escape", "back", "binding.back", show=False),
        Binding("k", "plan", "binding.person_key"),
        Binding("l", "link", "binding.person_link"),
        Binding("x", "unlink", "binding.person_unlink"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
    ]

    def __init__(
        self, person_id: str, today: Callable[[], date] = date.today, then: str | None = None
    ) -> None:
        super().__init__()
        #: The id the person is shown under (it follows a link or unlink made here).
        self.person_id = person_id.strip().lower()
        self._today = today
        #: The action whose dialog opens over the person at once (coming back after a lock).
        self._then = then
        self.index: PersonIndex | None = None
        #: The person as last read (None if this device holds no such person).
        self.person: Person | None = None
        self.proposals: list[Person] = []
        self.disputed: list[tuple[str, str]] = []
        #: The timeline's rows, in the table's order.
        self.rows: list[FileRow] = []
        #: True while the person index is brought current off the app's thread.
        self.reading = False
        self._resumed = False

    @property
    def service(self) -> CaseService:
        """The unlocked store's service (the app's one: a screen never opens its own)."""
        service = getattr(self.app, "service", None)
        if not isinstance(service, CaseService):
            raise CaseError("The store is locked.")
        return service

    @property
    def unlocked(self) -> bool:
        """Whether the app holds an open store (not while it locks, popping this screen)."""
        return isinstance(getattr(self.app, "service", None), CaseService)

    def compose(self) -> ComposeResult:
        yield Static(id="person-title")
        yield Static(id="person-facts")
        yield Static(id="person-plan")
        yield Static(id="person-notes")
        yield Static(id="person-timeline-title")
        yield DataTable(id="person-timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._load()
        self.watch(self.app, "language", self._language_changed, init=False)
        self._relabel(self.app.language)  # type: ignore[attr-defined]
        self.query_one("#person-timeline", DataTable).focus()
        if not self.reading:
            self._open_then()

    def _open_then(self) -> None:
        """The dialog asked to open over the person at once (coming back after a lock)."""
        then, self._then = self._then, None
        if then == "plan":  # the only one of its dialogs that keeps a draft
            self.action_plan()

    def resume_place(self) -> Place:
        """This person, to come back to after a lock."""
        return Place("person", subject=self.person_id)

    def resumed_dialog(self, screen: object) -> tuple[str, str] | None:
        """The plan dialog over this person comes back after a lock (with its draft)."""
        return ("plan", self.person_id) if isinstance(screen, PlanDialog) else None

    def on_screen_resume(self) -> None:
        """Back from a case or a dialog: read the person again (a case may have changed)."""
        if not self._resumed:
            self._resumed = True
            return
        if not self.unlocked:
            return
        self._load()
        self._relabel(self.app.language)  # type: ignore[attr-defined]

    def on_resize(self, _event: events.Resize) -> None:
        """A new width: the "what" column takes what the others leave of it."""
        self._draw_rows()

    def _load(self) -> None:
        """Read the person: at once if the store's person index is current or nearly, else once
        it is brought current off the app's thread."""
        index = person_index_if_cheap(self.service)
        if index is None:
            self.reading = True
            self._load_off_thread()
        else:
            self._read(index)

    @work(exclusive=True, exit_on_error=False, group="person-index")
    async def _load_off_thread(self) -> None:
        index = await person_index_off_thread(self.service)
        if self.unlocked and self.is_attached:
            self._read(index)
            self._relabel(self.app.language)  # type: ignore[attr-defined]
            self._open_then()

    def _read(self, index: PersonIndex) -> None:
        self.reading = False
        self.index = index
        self.person = person = index.get(self.person_id)
        if person is None:
            self.proposals, self.disputed, self.rows = [], [], []
            return
        self.person_id = person.id
        self.proposals = index.proposals(person.id)
        self.disputed = index.disputed_links(person.id)
        self.rows = self._timeline_rows(person)

    def _timeline_rows(self, person: Person) -> list[FileRow]:
        return file_rows((self.service.case(c.id) for c in person.cases), self.officer_name)

    def officer_name(self, device_id: str | None) -> str:
        """The officer of a device, as the station's devices announced it; the id if unknown."""
        return officer_names(self.service)(device_id) if device_id else t("person.none")

    # ------------------------------------------------------------ drawing

    def _language_changed(self, language: str) -> None:
        """F2: the timeline's texts ("Intake recorded", visit kinds) are words too."""
        if self.person is not None:
            self.rows = self._timeline_rows(self.person)
        self._relabel(language)

    def _relabel(self, _language: str) -> None:
        self._draw()
        translate_bindings(self)

    def _draw(self) -> None:
        person = self.person
        title = self.query_one("#person-title", Static)
        for selector in ("#person-plan", "#person-notes", "#person-timeline-title", "#person-timeline"):
            self.query_one(selector).display = person is not None
        if person is None:
            title.update(Text(t("person.screen.title", id=self.person_id), style="bold"))
            key = "person.screen.loading" if self.reading else "person.screen.missing"
            self.query_one("#person-facts", Static).update(t(key, id=self.person_id))
            return
        title.update(self._title_text(person))
        self.query_one("#person-facts", Static).update(self._facts_text(person))
        self.query_one("#person-plan", Static).update(self._plan_text(person))
        notes = self._notes()
        box = self.query_one("#person-notes", Static)
        box.update("\n".join(notes))
        box.display = bool(notes)
        self.query_one("#person-timeline-title", Static).update(
            t("person.screen.timeline", count=len(person.cases), open=person.open_cases)
        )
        self._draw_rows()

    def _title_text(self, person: Person) -> Text:
        title = Text(t("person.screen.title", id=person.id), style="bold")
        title.append(f"  ·  {t('person.sep').join(person.names)}")
        if person.key:
            title.append("  ")
            title.append(f" {t('person.screen.key')} ", style=BADGE)
        return title

    def _facts_text(self, person: Person) -> Text:
        sep, none = t("person.sep"), t("person.none")
        lines = []
        if person.aliases:
            lines.append(Text(t("person.aliases", ids=sep.join(person.aliases))))
        lines.append(
            Text(
                t("person.phones", phones=sep.join(person.phones) or none)
                + "   "
                + t("person.villages", villages=sep.join(person.villages))
            )
        )
        risk = highest_open_risk(person)
        line = Text(t("person.screen.risk", risk="") if risk else t("person.screen.risk", risk=none))
        if risk:
            line.append_text(risk_cell(risk))
        line.append("   " + t("person.screen.responsible", officer=self.officer_name(person.responsible())))
        lines.append(line)
        return Text("\n").join(lines)

    def _plan_text(self, person: Person) -> Text:
        if not person.key:
            return Text(t("person.screen.no_plan"))
        text = Text(t("person.screen.plan", plan=person.plan or t("person.none")))
        due = person.due or t("person.none")
        if person.officer is None:  # the writer's own plan (home lists it there)
            line = t("person.plan_by_writer", officer=self.officer_name(person.plan_by), due=due)
        else:
            line = t("person.plan_by", officer=self.officer_name(person.officer), due=due)
        text.append("\n" + line)
        if plan_overdue(person, self._today()):
            text.append("  ")
            text.append(f" {t('case.overdue')} ", style=BADGE)
        return text

    def _notes(self) -> list[str]:
        notes = []
        person = self.person
        if person is not None and person.conflicts:
            notes.append(t("person.conflicts", count=len(person.conflicts)))
        notes.extend(t("person.disputed.app", a=a, b=b) for a, b in self.disputed)
        if self.proposals:
            names = t("person.sep").join(f"{p.names[0]} ({p.id})" for p in self.proposals)
            notes.append(t("person.screen.proposals", names=names))
        return notes

    def _draw_rows(self) -> None:
        if self.person is None:
            return
        table = self.query_one("#person-timeline", DataTable)
        cursor = table.cursor_row
        labels = [t(f"person.col.{column}") for column in ("when", "case", "who", "what")]
        cells = [[row.at, row.case_id, row.author, row.text] for row in self.rows]
        widths = natural_widths(labels, cells)
        room = self.app.size.width - table.styles.scrollbar_size_vertical
        widths = fill_width(widths, len(COLUMNS) - 1, room, table.cell_padding, WHAT_MIN_WIDTH)
        table.clear(columns=True)
        for key, label, width in zip(COLUMNS, labels, widths, strict=True):
            table.add_column(label, key=key, width=width)
        for number, row in enumerate(cells):
            table.add_row(*fit_row(row, widths), key=str(number))
        if cells:
            table.move_cursor(row=min(cursor, len(cells) - 1))

    def timeline_texts(self) -> list[str]:
        """The timeline as shown, one string per row (for tests and screen readers)."""
        return [f"{row.at}  {row.case_id}  {row.author}  {row.text}" for row in self.rows]

    # ------------------------------------------------------------ actions

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row opens its case."""
        self.app.open_case(self.rows[int(str(event.row_key.value))].case_id)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Back to where the person was opened from."""
        self.dismiss()

    def action_plan(self) -> None:
        """Mark a key person and write the plan (or, a supervisor, take them off the list)."""
        if self.person is not None:
            self._open(PlanDialog(self.service, self.person.as_dict()))

    def action_link(self) -> None:
        """Confirm that a possible match (same name in one of the villages) is this person."""
        if self.person is None:
            return
        if not self.proposals:
            self.notify(t("person.screen.no_match", id=self.person.id), severity="warning")
            return
        self._open(LinkDialog(self.service, self.person.as_dict(), self.proposals))

    def action_unlink(self) -> None:
        """Say that an id linked to this person is someone else."""
        if self.person is None:
            return
        if not self.person.aliases:
            self.notify(t("person.screen.no_alias", id=self.person.id), severity="warning")
            return
        self._open(UnlinkDialog(self.service, self.person.as_dict(), list(self.person.aliases), self.index))

    def _open(self, dialog: PlanDialog | LinkDialog | UnlinkDialog) -> None:
        def recorded(shown: str | None) -> None:
            if shown is None:
                return
            key, params = dialog.done
            self.notify(t(key, **params))
            self.person_id = shown  # read again as the screen comes back (`on_screen_resume`)

        self.app.push_screen(dialog, recorded)
