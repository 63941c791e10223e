"""Pieces of the intake form: translated choices, error lines, and the party row."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from fieldapp.domain import model
from fieldapp.domain.intake_form import PartyValues, Problem
from fieldapp.i18n import intake as _strings  # noqa: F401  (registers the form's strings)
from fieldapp.i18n import t
from fieldapp.tui.screens.case_dialogs import relabel_select  # redraws a Select that cannot be blank


def choice_options(prefix: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """(translated label, value) pairs for a Select over a vocabulary tuple."""
    return [(t(f"{prefix}.{value}"), value) for value in values]


def show_error(label: Static, text: str) -> None:
    """Show a message beside a field, or hide the line when there is none."""
    label.update(text)
    label.display = bool(text)


class PartyRow(Vertical):
    """One party: name, phone, role, a button removing the row, and what is wrong with it."""

    def __init__(self, party: PartyValues) -> None:
        super().__init__(classes="party-row")
        self._party = party

    def compose(self) -> ComposeResult:
        with Horizontal(classes="party-line"):
            # Typing after a focus adds where the cursor is, never replaces what is there.
            yield Input(
                self._party.name, max_length=model.MAX_SHORT, select_on_focus=False, classes="party-name"
            )
            yield Input(self._party.phone, select_on_focus=False, classes="party-phone")
            yield Select(
                choice_options("intake.role", model.PARTY_ROLES),
                value=self._party.role,
                allow_blank=False,
                classes="party-role",
            )
            yield Button(classes="party-remove")
        yield Static(classes="field-error")

    def on_mount(self) -> None:
        self.relabel()
        self.show_errors([])

    def values(self) -> PartyValues:
        """The row as typed."""
        role = self.query_one(".party-role", Select).selection
        return PartyValues(
            self.query_one(".party-name", Input).value,
            self.query_one(".party-phone", Input).value,
            role if isinstance(role, str) else model.PARTY_ROLES[0],
        )

    def relabel(self) -> None:
        """Show the row's texts in the current language."""
        self.query_one(".party-name", Input).placeholder = t("intake.placeholder.party_name")
        self.query_one(".party-phone", Input).placeholder = t("intake.placeholder.party_phone")
        self.query_one(".party-remove", Button).label = t("intake.button.remove_party")
        roles = choice_options("intake.role", model.PARTY_ROLES)
        relabel_select(self.query_one(".party-role", Select), roles)

    def show_errors(self, problems: list[Problem]) -> None:
        """Mark the name and phone inputs and say what is wrong beside them."""
        self.query_one(".party-name").set_class(any(p.field == "party_name" for p in problems), "-invalid")
        self.query_one(".party-phone").set_class(any(p.field == "party_phone" for p in problems), "-invalid")
        show_error(self.query_one(".field-error", Static), " ".join(t(p.key, **p.params) for p in problems))


def party_row_to_remove(screen: Screen[Any], pressed: Widget | None = None) -> PartyRow | None:
    """The party row a remove asks for: the one holding `pressed` (a row's button), else the one
    holding the cursor, else the last one (None: no row)."""
    start = pressed if pressed is not None else screen.focused
    holder = next((a for a in (start.ancestors_with_self if start else []) if isinstance(a, PartyRow)), None)
    rows = list(screen.query(PartyRow))
    return holder or (rows[-1] if rows else None)


async def remove_party_row(screen: Screen[Any], row: PartyRow) -> None:
    """Remove `row` and put the cursor in the name of the row now in its place (or the one
    before), or on "Add party" when none is left: the intake form's and the edit dialog's rows."""
    rows = list(screen.query(PartyRow))
    index = rows.index(row)
    await row.remove()
    rows.remove(row)
    target: Widget = (
        rows[min(index, len(rows) - 1)].query_one(".party-name") if rows else screen.query_one("#add-party")
    )
    target.focus()
