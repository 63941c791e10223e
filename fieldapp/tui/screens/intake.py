"""The intake form: record a dispute or hazard found on patrol, keeping half-filled forms as drafts.

What the form holds, how it is checked and how a draft is stored live in
`fieldapp.domain.intake_form`; this screen only shows widgets, reads them back and
calls `CaseService.new_case`. The case and the draft's removal are written in
one durable transaction before the screen says "saved".

While the parties and the village are typed, the early warning under the form names the open
and recent cases of the persons they match (`fieldapp.tui.early_warning`, docs/persons.md): the
person index is built off the UI thread when the form opens, then asked a short while after the
last keystroke. Neither typing nor saving waits for it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from fieldapp.core.service import CaseError, CaseService, officer_names
from fieldapp.domain import model
from fieldapp.domain.intake_form import (
    DraftKeeper,
    IntakeValues,
    PartyValues,
    Problem,
    case_fields,
    known_villages,
    matching_villages,
    validate,
)
from fieldapp.domain.person_index import PersonIndex
from fieldapp.i18n import error_message, t
from fieldapp.i18n import intake as _strings  # noqa: F401  (registers the form's strings)
from fieldapp.i18n.rules import render
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.early_warning import EarlyWarning
from fieldapp.tui.footer import Footer
from fieldapp.tui.intake_widgets import (
    PartyRow,
    choice_options,
    party_row_to_remove,
    relabel_select,
    remove_party_row,
    show_error,
)
from fieldapp.tui.person_index_worker import person_index_off_thread
from fieldapp.tui.resume import Place
from storage import StoreError

#: Fields with one error line each, in form order (party rows carry their own).
FIELDS = ("village", "category", "source", "parties", "summary", "risk", "deadline")
#: The Select fields and the vocabulary (and i18n prefix) their options come from.
CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "category": ("category", model.CATEGORIES),
    "source": ("source", model.SOURCES),
    "risk": ("risk", model.RISKS),
}
DISCARD_KEY = "F8"


class IntakeScreen(Screen[str | None]):
    """Record a new case; dismisses with its id once saved durably, or None (draft kept)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "binding.intake_save", priority=True),
        Binding("escape", "back", "binding.intake_back"),
        Binding("ctrl+n", "add_party", "binding.intake_add_party", priority=True),
        Binding("ctrl+r", "remove_party", "binding.intake_remove_party", priority=True),
        Binding("f8", "discard_draft", "binding.intake_discard_draft"),
        # Named on the early warning itself (and in F1): the footer has no room for it at 80 columns.
        Binding("f3", "toggle_warning", "binding.intake_warning", show=False),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
    ]

    #: Seconds after the last change before the draft is kept without being asked.
    AUTOSAVE_SECONDS = 3.0
    #: Seconds after the last change to a party or the village before the early warning looks.
    WARNING_SECONDS = 0.3

    def __init__(self, service: CaseService) -> None:
        super().__init__()
        self._service = service
        self._villages = known_villages(service.replica.view("cases").values())
        self._drafts = DraftKeeper(service.replica.local)
        #: When the restored draft was kept (None: no draft shown, or it was discarded).
        self._draft_when = self._drafts.kept_at
        self._initial = self._drafts.restored or IntakeValues()
        #: The form as last read: kept as the draft if the screen goes away unsaved.
        self._values = self._initial
        self._problems: list[Problem] = []
        self._general: Callable[[], str] | None = None
        self._attempted = False
        #: Saved, or closed with the draft kept: nothing left to keep.
        self._finished = False
        self._autosave: Timer | None = None
        #: The persons of this device's cases (None while it is built, off the UI thread).
        self._index: PersonIndex | None = None
        self._warning = EarlyWarning(officer_names(service), id="early-warning")
        #: (village, parties) the early warning last looked up.
        self._warned_for: tuple[str, tuple[tuple[str, str], ...]] | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        v = self._initial
        yield Static(id="intake-title")
        with VerticalScroll(id="intake-form"):
            with Horizontal(id="draft-note"):
                yield Static(id="draft-text")
                yield Button(id="discard-draft", variant="warning")
            with Horizontal(classes="intake-field"):
                yield Label(id="label-village", classes="intake-label")
                yield Input(
                    v.village,
                    id="village",
                    max_length=model.MAX_SHORT,
                    select_on_focus=False,
                    suggester=SuggestFromList(self._villages, case_sensitive=False),
                )
            yield Static(id="village-hint", classes="field-hint")
            yield Static(id="village-error", classes="field-error")
            yield from self._choice("category", v.category)
            yield from self._choice("source", v.source)
            with Horizontal(classes="intake-field"):  # Tab goes through the rows, then "Add party"
                yield Label(id="label-parties", classes="intake-label")
                with Vertical(id="party-column"):
                    yield Vertical(*(PartyRow(p) for p in v.parties), id="party-rows")
                    yield Button(id="add-party")
            yield Static(id="parties-error", classes="field-error")
            with Horizontal(classes="intake-field"):
                yield Label(id="label-summary", classes="intake-label")
                yield TextArea(v.summary, id="summary", soft_wrap=True, tab_behavior="focus")
            yield Static(id="summary-error", classes="field-error")
            yield from self._choice("risk", v.risk)
            with Horizontal(classes="intake-field"):
                yield Label(id="label-flags", classes="intake-label")
                with Vertical(id="flags"):
                    for flag in model.FLAGS:
                        yield Checkbox(value=flag in v.flags, id=f"flag-{flag}")
            with Horizontal(classes="intake-field"):
                yield Label(id="label-deadline", classes="intake-label")
                yield Input(v.deadline, id="deadline", max_length=10, select_on_focus=False)
            yield Static(id="deadline-error", classes="field-error")
            yield Static(id="intake-error")
            with Horizontal(id="intake-actions"):
                yield Button(id="save", variant="primary")
        yield self._warning
        yield Footer()

    def _choice(self, name: str, value: str | None) -> ComposeResult:
        prefix, values = CHOICES[name]
        with Horizontal(classes="intake-field"):
            yield Label(id=f"label-{name}", classes="intake-label")
            yield Select(choice_options(prefix, values), value=value or Select.NULL, id=name)
        yield Static(id=f"{name}-error", classes="field-error")

    def on_mount(self) -> None:
        self.query_one("#draft-note").display = self._draft_when is not None
        self.watch(self.app, "language", self._relabel)
        self.query_one("#village", Input).focus()
        self._load_person_index()

    def _relabel(self, _language: str) -> None:
        self.query_one("#intake-title", Static).update(t("intake.title"))
        for name in (*FIELDS, "flags"):
            self.query_one(f"#label-{name}", Label).update(t(f"intake.label.{name}"))
        for name, (prefix, values) in CHOICES.items():
            select = self.query_one(f"#{name}", Select)
            select.prompt = t(f"intake.placeholder.{name}")
            relabel_select(select, choice_options(prefix, values))
        self.query_one("#village", Input).placeholder = t("intake.placeholder.village")
        self.query_one("#summary", TextArea).placeholder = t("intake.placeholder.summary")
        self.query_one("#deadline", Input).placeholder = t("intake.placeholder.deadline")
        for flag in model.FLAGS:
            self.query_one(f"#flag-{flag}", Checkbox).label = t(f"flag.{flag}")
        for button, key in (("add-party", "add_party"), ("save", "save"), ("discard-draft", "discard_draft")):
            self.query_one(f"#{button}", Button).label = t(f"intake.button.{key}")
        if self._draft_when is not None:
            text = t("intake.draft_restored", when=self._draft_when, key=DISCARD_KEY)
            self.query_one("#draft-text", Static).update(text)
        for row in self.query(PartyRow):
            row.relabel()
        self._show_village_hint()
        self._show_problems()
        self._warning.redraw()
        translate_bindings(self)

    # ------------------------------------------------------------ reading and checking

    def _read_form(self) -> IntakeValues:
        def choice(name: str) -> str | None:
            value = self.query_one(f"#{name}", Select).selection
            return value if isinstance(value, str) else None

        return IntakeValues(
            village=self.query_one("#village", Input).value,
            category=choice("category"),
            source=choice("source"),
            parties=tuple(row.values() for row in self.query(PartyRow)),
            summary=self.query_one("#summary", TextArea).text,
            risk=choice("risk"),
            flags=tuple(f for f in model.FLAGS if self.query_one(f"#flag-{f}", Checkbox).value),
            deadline=self.query_one("#deadline", Input).value,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def _form_changed(
        self, event: Input.Changed | Select.Changed | Checkbox.Changed | TextArea.Changed
    ) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "village":
            self._show_village_hint()
        self._refresh_values()

    def _refresh_values(self) -> None:
        self._values = self._read_form()
        self._schedule_autosave()
        self._schedule_warning()
        if self._attempted:  # once a save was tried, messages follow each correction
            self._check(focus=False)

    def _check(self, focus: bool) -> bool:
        """Validate the form, show what is wrong beside each field; True if it may be saved."""
        self._problems = validate(self._read_form())
        count = len(self._problems)
        self._general = (lambda: t("intake.error.fix_fields", count=count)) if count else None
        self._show_problems()
        if focus and self._problems:
            self._widget_for(self._problems[0]).focus()
        return not self._problems

    def _show_problems(self) -> None:
        by_field: dict[str, list[Problem]] = defaultdict(list)
        by_row: dict[int, list[Problem]] = defaultdict(list)
        for problem in self._problems:
            if problem.index is None:
                by_field[problem.field].append(problem)
            else:
                by_row[problem.index].append(problem)
        for name in FIELDS:
            found = by_field.get(name, [])
            if name != "parties":
                self.query_one(f"#{name}").set_class(bool(found), "-invalid")
            text = " ".join(t(p.key, **p.params) for p in found)
            show_error(self.query_one(f"#{name}-error", Static), text)
        for index, row in enumerate(self.query(PartyRow)):
            row.show_errors(by_row.get(index, []))
        show_error(self.query_one("#intake-error", Static), self._general() if self._general else "")

    def _widget_for(self, problem: Problem) -> Widget:
        if problem.index is not None:
            row = list(self.query(PartyRow))[problem.index]
            return row.query_one(".party-name" if problem.field == "party_name" else ".party-phone")
        if problem.field == "parties":  # the first row's name, else the button adding one
            names = self.query(".party-name")
            return names.first() if names else self.query_one("#add-party")
        return self.query_one(f"#{problem.field}")

    def _show_village_hint(self) -> None:
        typed = self.query_one("#village", Input).value.strip()
        matches = matching_villages(self._villages, typed)
        if not self._villages:
            text = t("intake.villages.none")
        elif matches:
            text = t("intake.villages.known", names=" · ".join(matches))
        else:
            text = t("intake.villages.new")
        self.query_one("#village-hint", Static).update(text)

    @on(Input.Submitted, "#village")
    def _pick_village(self, event: Input.Submitted) -> None:
        """Enter takes the first known village containing what was typed (quick search)."""
        typed = event.value.strip()
        matches = matching_villages(self._villages, typed)
        if typed and typed not in self._villages and matches:
            event.input.value = matches[0]
        self.focus_next()

    # ------------------------------------------------------------ the early warning

    @work(exclusive=True, exit_on_error=False, group="person-index")
    async def _load_person_index(self) -> None:
        self._index = await person_index_off_thread(self._service)
        self._warned_for = None
        self._look_for_related()  # what was typed meanwhile (or the restored draft)

    def _typed_persons(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        values = self._values
        parties = tuple((p.name.strip(), p.phone.strip()) for p in values.parties if not p.is_blank())
        return values.village.strip(), parties

    def _schedule_warning(self) -> None:
        if self._typed_persons() != self._warned_for:  # else another field changed
            self._look_soon()

    @work(exclusive=True, group="early-warning")
    async def _look_soon(self) -> None:
        # Exclusive: each keystroke cancels the look the one before it asked for (a debounce).
        await asyncio.sleep(self.WARNING_SECONDS)
        self._look_for_related()

    def _look_for_related(self) -> None:
        """Show the open and recent cases of the persons the parties match (a few dictionary
        reads), or that the index is still being built."""
        village, parties = self._warned_for = self._typed_persons()
        if self._index is None:
            self._warning.checking(bool(parties))
        else:
            asked = [{"name": name, "phone": phone} for name, phone in parties]
            related = self._service.related_cases(asked, village, index=self._index) if asked else []
            self._warning.show(related, self._index)
        self.refresh_bindings()
        self.call_after_refresh(self._keep_in_view)

    def _keep_in_view(self) -> None:
        """The warning shown (or grown) takes rows from the form: keep the field with the cursor,
        and the message under it, in view."""
        focused = self.focused
        if focused is None or self.query_one("#intake-form") not in focused.ancestors:
            return
        row = next((a for a in focused.ancestors if isinstance(a, PartyRow)), None)
        # The message under it: its row's, or its field's (`#village-error`); none for some.
        errors = (
            row.query(".field-error") if row else self.query(f"#{focused.id}-error") if focused.id else None
        )
        focused.scroll_visible(animate=False)
        for error in errors or ():
            if error.display:
                error.scroll_visible(animate=False)

    def action_toggle_warning(self) -> None:
        """Show or hide the cases the early warning names (F3)."""
        self._warning.expanded = not self._warning.is_expanded()
        self._warning.redraw()
        self.call_after_refresh(self._keep_in_view)

    def on_resize(self) -> None:
        """The early warning is folded to one line on a short terminal, unless toggled."""
        self._warning.redraw()

    # ------------------------------------------------------------ parties

    @on(Button.Pressed, "#add-party")
    async def action_add_party(self) -> None:
        """Add an empty party row and put the cursor in its name."""
        if len(self.query(PartyRow)) >= model.MAX_PARTIES:
            self.notify(t("intake.error.too_many_parties", limit=model.MAX_PARTIES), severity="warning")
            return
        row = PartyRow(PartyValues())
        await self.query_one("#party-rows").mount(row)
        row.query_one(".party-name").focus()
        self._refresh_values()

    @on(Button.Pressed, ".party-remove")
    async def _remove_pressed(self, event: Button.Pressed) -> None:
        await self._remove_row(party_row_to_remove(self, event.button))

    async def action_remove_party(self) -> None:
        """Remove the party row holding the cursor (else the last one)."""
        await self._remove_row(party_row_to_remove(self))

    async def _remove_row(self, row: PartyRow | None) -> None:
        if row is None:
            return
        await remove_party_row(self, row)
        self._refresh_values()

    # ------------------------------------------------------------ saving and drafts

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check every field; record the case durably, then say so and close."""
        self._attempted = True
        if not self._check(focus=True):
            return
        fields = case_fields(self._read_form())
        try:
            # One transaction: the case is recorded and the draft gone, or neither.
            with self._service.db.transaction():
                case = self._service.new_case(**fields)
                self._drafts.drop()
        except CaseError as exc:
            found, reason = exc.refusal, str(exc)  # rebuilt per language: the rule's code, else English
            self._fail(
                lambda: (
                    t("rule.not_recorded", reason=render(found.code, found.params))
                    if found
                    else t("intake.error.refused", reason=reason)
                )
            )
            return
        except (StoreError, OSError) as exc:
            error = exc  # `exc` is unbound after the handler; the message is rebuilt per language
            self._fail(lambda: t("intake.error.store", reason=error_message(error)))
            return
        self._finished = True
        self.app.notify(t("intake.saved", case_id=case["id"]))
        self.dismiss(str(case["id"]))

    def _fail(self, message: Callable[[], str]) -> None:
        self._general = message
        self._show_problems()
        self.query_one("#save").focus()

    def action_back(self) -> None:
        """Keep what was typed as a draft, then close."""
        values = self._read_form()
        try:
            self._drafts.keep(values)
        except (StoreError, OSError) as exc:
            self.notify(t("intake.draft_failed", reason=error_message(exc)), severity="error")
            return
        self._finished = True
        if not values.is_blank():
            self.app.notify(t("intake.draft_kept"))
        self.dismiss(None)

    def _schedule_autosave(self) -> None:
        # Locking (by hand or when idle) closes the store before this screen goes, and a
        # battery can die: a few seconds after the last change the draft is kept anyway.
        if self._autosave is not None:
            self._autosave.stop()
        self._autosave = self.set_timer(self.AUTOSAVE_SECONDS, self._keep_quietly)

    def _keep_quietly(self) -> None:
        if not self._finished:
            with suppress(StoreError, OSError):  # Escape reports a failure; autosave retries
                self._drafts.keep(self._values)

    def keep_draft(self) -> None:
        """Keep the form as the draft now (the app is locking); raises StoreError or OSError."""
        if not self._finished:
            self._drafts.keep(self._read_form())
            self._finished = True

    def resume_place(self) -> Place:
        """The form, to come back to after a lock (its draft holds what was typed)."""
        return Place("intake")

    def on_unmount(self) -> None:
        """Closed some other way (the app quit): keep the draft if the store is still open."""
        if self._autosave is not None:
            self._autosave.stop()
        self._keep_quietly()

    @on(Button.Pressed, "#discard-draft")
    async def action_discard_draft(self) -> None:
        """Forget the restored draft and start from an empty form."""
        if self._draft_when is None:
            return
        try:
            self._drafts.drop()
        except (StoreError, OSError) as exc:
            self.notify(t("intake.draft_failed", reason=error_message(exc)), severity="error")
            return
        self._draft_when = None
        await self._fill(IntakeValues())
        self.query_one("#draft-note").display = False
        self.refresh_bindings()
        self.notify(t("intake.draft_discarded"))
        self.query_one("#village").focus()

    async def _fill(self, values: IntakeValues) -> None:
        """Show `values` in the form and forget earlier messages."""
        self.query_one("#village", Input).value = values.village
        for name in CHOICES:
            select = self.query_one(f"#{name}", Select)
            value = getattr(values, name)
            if value is None:
                select.clear()
            else:
                select.value = value
        rows = self.query_one("#party-rows")
        await rows.remove_children()
        await rows.mount_all([PartyRow(p) for p in values.parties])
        self.query_one("#summary", TextArea).text = values.summary
        for flag in model.FLAGS:
            self.query_one(f"#flag-{flag}", Checkbox).value = flag in values.flags
        self.query_one("#deadline", Input).value = values.deadline
        self._attempted, self._problems, self._general = False, [], None
        self._values = values
        self._show_problems()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Discarding needs a restored draft; removing a party needs a row; F3 a warning shown."""
        if action == "discard_draft":
            return self._draft_when is not None
        if action == "remove_party":
            return True if self.query(PartyRow) else None
        if action == "toggle_warning":
            return self._warning.has_matches
        return True
