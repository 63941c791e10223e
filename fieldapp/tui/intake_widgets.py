"""Pieces of the intake form: translated choices, error lines, and the party row."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Select, Static

from fieldapp.domain import model
from fieldapp.domain.intake_form import PartyValues, Problem
from fieldapp.i18n import intake as _strings  # noqa: F401  (registers the form's strings)
from fieldapp.i18n import t


def choice_options(prefix: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
    """(translated label, value) pairs for a Select over a vocabulary tuple."""
    return [(t(f"{prefix}.{value}"), value) for value in values]


def relabel_select(select: Select[str], options: list[tuple[str, str]]) -> None:
    """Translate a Select's options, keeping what is chosen (set_options clears it)."""
    value = select.value
    select.set_options(options)
    if value != Select.NULL:
        select.value = value


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
