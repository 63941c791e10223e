"""The case screen's edit dialog (`m`): change a case's village, risk, summary and parties.

Prefilled with the case as it stands; what was typed is checked with the intake form's checks
(`fieldapp.domain.intake_form`, built on `fieldapp.domain.fields`), each problem beside its
field, and only the fields that changed are recorded: one `case.set`, the operation
`fieldapp case update --village/--risk/--summary` writes. The rules decide who may (a refusal
is shown translated, nothing recorded). Like the other dialogs it keeps a draft, party rows
included, when the app locks.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Select, TextArea

from fieldapp.core.service import CaseService
from fieldapp.domain import intake_form as form
from fieldapp.domain import model
from fieldapp.domain.dialog_drafts import DialogValues, draft_key, read_draft
from fieldapp.domain.documents import ShownCase
from fieldapp.domain.intake_form import PartyValues
from fieldapp.i18n import t
from fieldapp.tui.case_timeline import vocab
from fieldapp.tui.intake_widgets import PartyRow, party_row_to_remove, remove_party_row
from fieldapp.tui.screens.case_dialogs import CaseDialog, Problem, field, relabel_select, text_of

#: The draft's count of party rows; each row's values are `party-N-name`, `-phone`, `-role`.
ROWS_KEY = "party-rows"


def case_parties(case: ShownCase) -> tuple[PartyValues, ...]:
    """The case's parties as the rows show them."""
    return tuple(
        PartyValues(str(p.get("name", "")), str(p.get("phone", "")), str(p.get("role", form.DEFAULT_ROLE)))
        for p in case["parties"]
    )


def parties_values(parties: tuple[PartyValues, ...]) -> DialogValues:
    """Party rows as a draft keeps them (a draft holds plain values by key)."""
    values: DialogValues = {ROWS_KEY: len(parties)}
    for index, party in enumerate(parties):
        values |= {
            f"party-{index}-name": party.name,
            f"party-{index}-phone": party.phone,
            f"party-{index}-role": party.role,
        }
    return values


def draft_parties(values: DialogValues) -> tuple[PartyValues, ...] | None:
    """The party rows of a draft (None: it holds none)."""
    count = values.get(ROWS_KEY)
    if not isinstance(count, int):
        return None

    def text(key: str) -> str:
        value = values.get(key)
        return value if isinstance(value, str) else ""

    rows = []
    for index in range(min(max(count, 0), model.MAX_PARTIES)):
        role = text(f"party-{index}-role")
        rows.append(
            PartyValues(
                text(f"party-{index}-name"),
                text(f"party-{index}-phone"),
                role if role in model.PARTY_ROLES else form.DEFAULT_ROLE,
            )
        )
    return tuple(rows)


class EditDialog(CaseDialog[ShownCase, ShownCase]):
    """Change the village, risk, summary and parties; records only what changed."""

    BINDINGS = [
        Binding("ctrl+n", "add_party", "binding.intake_add_party", priority=True),
        Binding("ctrl+r", "remove_party", "binding.intake_remove_party", priority=True),
    ]

    TITLE_KEY = "case.edit.title"
    DRAFT_KIND = "edit"
    LABELS = {
        "village": "case.edit.village",
        "risk": "case.edit.risk",
        "summary": "case.edit.summary",
        "parties": "case.edit.parties",
    }

    def __init__(self, service: CaseService, case: ShownCase) -> None:
        super().__init__(service, case)
        #: Problems of single party rows (by row), shown beside each row.
        self._row_problems: list[form.Problem] = []
        # The rows are composed as the draft left them (the other fields are written back by
        # `CaseDialog`, which restores fields by widget id; party rows have none).
        kept = read_draft(service.replica.local.get_copy(draft_key(self.DRAFT_KIND, str(case["id"]))))
        rows = draft_parties(kept) if kept is not None else None
        self._rows = case_parties(case) if rows is None else rows

    # ------------------------------------------------------------ layout

    def fields(self) -> ComposeResult:
        case = self.case
        # Typing after a focus adds where the cursor is, never replaces what is there (as at intake).
        village = Input(case["village"], id="village", max_length=model.MAX_SHORT, select_on_focus=False)
        yield field("village", village)
        yield field("risk", Select(self._risks(), value=case["risk"], allow_blank=False, id="risk"))
        yield field("summary", TextArea(case["summary"], id="summary", soft_wrap=True, tab_behavior="focus"))
        yield field(
            "parties",
            Vertical(
                Vertical(*(PartyRow(p) for p in self._rows), id="party-rows"),
                Button(id="add-party", compact=True),
                id="party-column",
            ),
        )

    def on_mount(self) -> None:
        # Textual runs CaseDialog.on_mount as well. Back to the top once laid out: the first
        # field's label stays in view on a short terminal.
        body = self.query_one(".case-dialog-body", Widget)
        self.call_after_refresh(body.scroll_home, animate=False)

    @staticmethod
    def _risks() -> list[tuple[str, str]]:
        return [(vocab("risk", risk), risk) for risk in model.RISKS]

    def relabel(self) -> None:
        relabel_select(self.query_one("#risk", Select), self._risks())
        self.query_one("#add-party", Button).label = t("case.edit.add_party")
        for row in self.query(PartyRow):
            row.relabel()

    # ------------------------------------------------------------ values and drafts

    def opened_values(self) -> DialogValues:
        """The case as it stands (what a draft is compared with), whatever rows a draft brought."""
        case = self.case
        return {
            "village": case["village"],
            "risk": case["risk"],
            "summary": case["summary"],
        } | parties_values(case_parties(case))

    def field_values(self) -> DialogValues:
        return super().field_values() | parties_values(self._party_rows())

    def _party_rows(self) -> tuple[PartyValues, ...]:
        # A row just added has no widgets until it is composed (a change elsewhere may be read first).
        return tuple(row.values() for row in self.query(PartyRow) if row.query(".party-role"))

    def _rows_changed(self) -> None:
        if self._drafts is not None:
            self._values = self.field_values()

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
        row.scroll_visible(animate=False)
        self._rows_changed()

    @on(Button.Pressed, ".party-remove")
    async def _remove_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self._remove_row(party_row_to_remove(self, event.button))

    async def action_remove_party(self) -> None:
        """Remove the party row holding the cursor (else the last one)."""
        await self._remove_row(party_row_to_remove(self))

    async def _remove_row(self, row: PartyRow | None) -> None:
        if row is None:
            return
        await remove_party_row(self, row)
        self._row_problems = []
        self._show_problems()
        self._rows_changed()

    # ------------------------------------------------------------ checking and recording

    def changed(self) -> dict[str, Any]:
        """The fields that differ from the case, as a case stores them."""
        typed: dict[str, Any] = {
            "village": text_of(self.query_one("#village", Input)),
            "risk": self.query_one("#risk", Select).value,
            "summary": text_of(self.query_one("#summary", TextArea)),
            "parties": form.party_records(self._party_rows()),
        }
        current: dict[str, Any] = {**self.case, "parties": form.party_records(case_parties(self.case))}
        return {name: value for name, value in typed.items() if value != current[name]}

    def check(self) -> dict[str, Problem]:
        """Only what changed is checked (a value an earlier version stored may stand as it is)."""
        changed = self.changed()
        found: list[form.Problem | None] = []
        if "village" in changed:
            found.append(form.village_problem(changed["village"]))
        if "summary" in changed:
            found.append(form.summary_problem(changed["summary"]))
        if "parties" in changed:
            found.extend(form.parties_problems(self.case["category"], self._party_rows()))
        problems = [p for p in found if p is not None]
        self._row_problems = [p for p in problems if p.index is not None]
        result: dict[str, Problem] = {
            p.field: (p.key, dict(p.params)) for p in problems if p.index is None and p.field != "parties"
        }
        whole = [p for p in problems if p.field == "parties" and p.index is None]
        if whole:
            result["parties"] = (whole[0].key, dict(whole[0].params))
        elif self._row_problems:
            result["parties"] = ("case.edit.fix_parties", {})
        if not changed:
            result[""] = ("case.edit.nothing", {})
        return result

    def _show_problems(self) -> None:
        super()._show_problems()
        for index, row in enumerate(self.query(PartyRow)):
            row.show_errors([p for p in self._row_problems if p.index == index])

    def action_save(self) -> None:
        """Check, then record what changed; the cursor goes to the first party row at fault."""
        super().action_save()
        before = [name for name in self._problems if name and name != "parties"]
        if self._row_problems and not before:
            first = self._row_problems[0]
            rows = list(self.query(PartyRow))
            if first.index is not None and first.index < len(rows):
                widget = ".party-phone" if first.field == "party_phone" else ".party-name"
                rows[first.index].query_one(widget).focus()

    def record(self) -> ShownCase:
        return self.service.update(self.case["id"], fields=self.changed())
