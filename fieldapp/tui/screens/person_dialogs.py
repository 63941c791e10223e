"""The person screen's actions as dialogs: mark a key person and write the plan (k), link a
possible match (l), unlink an id (x); and the case screen's list of its parties (p).

Each is a `CaseDialog` about a person (its `as_dict()`): fields checked first, then recorded
through `CaseService` (the functions `fieldapp person` uses); a refusal of the rules is shown
in the dialog and nothing is recorded. Who may do what is decided again at merge time on every
device (docs/persons.md), so the plan dialog says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, RadioButton, RadioSet, Select, Static, TextArea

from fieldapp.core.service import CaseService
from fieldapp.core.station import device_rows
from fieldapp.domain import fields
from fieldapp.domain.documents import ShownCase
from fieldapp.domain.person_index import Person, PersonIndex
from fieldapp.domain.persons import PLAN_MAX
from fieldapp.i18n import persons as _strings  # noqa: F401  (registers the persons' strings)
from fieldapp.i18n import t
from fieldapp.tui.case_timeline import party_text, vocab
from fieldapp.tui.screens.case_dialogs import CaseDialog, Problem, field, relabel_select, text_of

#: What a person dialog is about: `Person.as_dict()`.
PersonSubject = Mapping[str, Any]


def due_problem(text: str) -> Problem | None:
    """A typed due date's problem, as `fieldapp person key --due` checks it
    (`fields.deadline_problem`: a real day, not past, not too far off)."""
    found = fields.deadline_problem(text)
    if found is None:
        return None
    if found.code == "deadline_invalid":
        return ("person.plan.due_bad", {})
    return (f"rule.{found.code}.sentence", dict(found.params))


class PlanDialog(CaseDialog[PersonSubject, str]):
    """Mark a key person (重点人员) and write the plan (一策: what, by whom, by when), or take
    them off the key list; dismisses with the id the mark is recorded on."""

    #: What was recorded, as the command line says it (i18n key, placeholders), once recorded.
    done: Problem = ("", {})

    TITLE_KEY = "person.plan.title"
    DRAFT_KIND = "person_plan"
    LABELS = {
        "mark": "person.plan.mark",
        "plan": "person.plan.plan",
        "officer": "person.plan.officer",
        "due": "person.plan.due",
    }

    def title_args(self) -> dict[str, Any]:
        return {"id": self.case["id"]}

    @staticmethod
    def _marks() -> list[tuple[str, str]]:
        return [(t("person.plan.mark_yes"), "yes"), (t("person.plan.mark_no"), "no")]

    def _officers(self) -> list[tuple[str, str]]:
        rows = [r for r in device_rows(self.service) if r["revoked"] is None]
        rows.sort(key=lambda r: (r["role"] != "officer", r["officer"], r["device_id"]))
        return [(f"{r['officer']} · {vocab('devices.role', r['role'])}", r["device_id"]) for r in rows]

    def fields(self) -> ComposeResult:
        person = self.case
        yield field("mark", Select(self._marks(), allow_blank=False, value="yes", id="mark"))
        yield field("plan", TextArea(str(person.get("plan") or ""), id="plan"))
        current = person.get("officer")
        options = self._officers()
        chosen = current if any(v == current for _, v in options) else Select.NULL
        yield field("officer", Select(options, id="officer", value=chosen))
        yield field("due", Input(str(person.get("due") or ""), id="due", max_length=10))
        yield Static(id="plan-rules", classes="case-field-hint")

    def relabel(self) -> None:
        relabel_select(self.query_one("#mark", Select), self._marks())
        # Left empty, the plan is its writer's (an officer's names them; a supervisor's names
        # nobody and is theirs: `Person.responsible`).
        officer = "person.plan.officer_none" if self.service.is_supervisor else "person.plan.officer"
        self.query_one("#officer-label", Static).update(t(officer))
        relabel_select(self.query_one("#officer", Select), self._officers(), t("person.plan.officer_blank"))
        self.query_one("#plan-rules", Static).update(t("person.plan.rules"))

    def check(self) -> dict[str, Problem]:
        problems: dict[str, Problem] = {}
        plan = text_of(self.query_one("#plan", TextArea))
        if self.query_one("#mark", Select).value == "yes" and not plan:
            problems["plan"] = ("person.error.no_plan.app", {})
        elif len(plan) > PLAN_MAX:
            problems["plan"] = ("case.too_long", {"limit": PLAN_MAX})
        due = text_of(self.query_one("#due", Input))
        # A date kept as it was is not checked again (it may have passed: the plan is overdue).
        if due != (self.case.get("due") or "") and (problem := due_problem(due)):
            problems["due"] = problem
        return problems

    def record(self) -> str:
        officer = self.query_one("#officer", Select).value
        key = self.query_one("#mark", Select).value == "yes"
        shown = self.service.mark_key_person(
            str(self.case["id"]),
            text_of(self.query_one("#plan", TextArea)) or None,
            None if officer == Select.NULL else str(officer),
            text_of(self.query_one("#due", Input)) or None,
            key=key,
        )
        # The command line's words: recorded here, decided again when devices merge.
        self.done = ("person.marked" if key else "person.unmarked", {"id": shown})
        return shown


class _ChooseDialog(CaseDialog[PersonSubject, str]):
    """A choice of one id among several (a RadioSet), then one recording."""

    #: i18n key of the question above the choices (placeholder: id).
    CHOOSE_KEY = ""
    #: i18n key of the problem when nothing is chosen.
    REQUIRED_KEY = ""
    #: i18n key of a note under the choices ("" for none).
    NOTE_KEY = ""
    #: What was recorded, as the command line says it (i18n key, placeholders), once recorded.
    done: Problem = ("", {})

    def __init__(self, service: CaseService, person: PersonSubject, choices: list[str]) -> None:
        super().__init__(service, person)
        #: The ids to choose from, in order.
        self.choices = choices

    def title_args(self) -> dict[str, Any]:
        return {"id": self.case["id"]}

    def label(self, choice: str) -> str:
        """How a choice is shown."""
        return choice

    def fields(self) -> ComposeResult:
        yield field("choice", RadioSet(*(RadioButton(self.label(c)) for c in self.choices), id="choice"))
        yield Static(id="choose-note", classes="case-field-hint")

    def on_mount(self) -> None:
        # Textual runs CaseDialog.on_mount as well (handlers run along the class hierarchy).
        self.query_one("#choice", RadioSet).focus()

    def relabel(self) -> None:
        self.query_one("#choice-label", Static).update(t(self.CHOOSE_KEY, id=self.case["id"]))
        for button, choice in zip(self.query(RadioButton).results(RadioButton), self.choices, strict=True):
            button.label = self.label(choice)
        note = self.query_one("#choose-note", Static)
        note.update(t(self.NOTE_KEY) if self.NOTE_KEY else "")
        note.display = bool(self.NOTE_KEY)

    def chosen(self) -> str | None:
        """The id chosen, or None."""
        index = self.query_one("#choice", RadioSet).pressed_index
        return self.choices[index] if index >= 0 else None

    def check(self) -> dict[str, Problem]:
        return {} if self.chosen() is not None else {"choice": (self.REQUIRED_KEY, {})}


class LinkDialog(_ChooseDialog):
    """Confirm that a proposed match (same name or pinyin in one of the villages) is this person;
    dismisses with the id the person is shown under then."""

    TITLE_KEY = "person.link.title"
    SAVE_KEY = "person.link.confirm"
    CHOOSE_KEY = "person.link.choose"
    REQUIRED_KEY = "person.link.required"
    NOTE_KEY = "person.link.note"

    def __init__(self, service: CaseService, person: PersonSubject, proposals: list[Person]) -> None:
        super().__init__(service, person, [p.id for p in proposals])
        self._proposals = {p.id: p for p in proposals}

    def label(self, choice: str) -> str:
        match = self._proposals[choice]
        sep = t("person.sep")
        return t(
            "person.link.option",
            id=match.id,
            names=sep.join(match.names),
            mobile=sep.join(match.phones) or t("person.no_mobile"),
            villages=sep.join(match.villages),
            count=len(match.cases),
        )

    def record(self) -> str:
        a, b = str(self.case["id"]), str(self.chosen())
        shown = self.service.link_persons(a, b)
        self.done = ("person.linked", {"a": a, "b": b, "id": shown})
        return shown


class UnlinkDialog(_ChooseDialog):
    """Say that an id linked to this person is someone else; dismisses with the person's id."""

    TITLE_KEY = "person.unlink.title"
    SAVE_KEY = "person.unlink.confirm"
    CHOOSE_KEY = "person.unlink.choose"
    REQUIRED_KEY = "person.unlink.required"
    NOTE_KEY = "person.unlink.note"

    def __init__(
        self,
        service: CaseService,
        person: PersonSubject,
        choices: list[str],
        index: PersonIndex | None = None,
    ) -> None:
        super().__init__(service, person, choices)
        #: The index the screen showed, to say who each id is (its own parties), not just the id.
        self._index = index

    def label(self, choice: str) -> str:
        if self._index is None:
            return choice
        names, villages, cases = self._index.own_parties(choice)
        sep = t("person.sep")
        return t(
            "person.link.option",
            id=choice,
            names=sep.join(names),
            mobile=self._index.own_mobile(choice) or t("person.no_mobile"),
            villages=sep.join(villages),
            count=len(cases),
        )

    def record(self) -> str:
        a, b = str(self.case["id"]), str(self.chosen())
        shown = self.service.link_persons(a, b, linked=False)
        self.done = ("person.unlinked", {"a": a, "b": b})
        return shown


class PartiesDialog(CaseDialog[ShownCase, str]):
    """The case's parties, each a person: Enter on one dismisses with their person id (the case
    screen then opens the person's file)."""

    TITLE_KEY = "person.parties.title"
    SAVE_KEY = "person.parties.open"

    def __init__(self, service: CaseService, case: ShownCase) -> None:
        super().__init__(service, case)
        index = service.person_index()
        #: (the party, their person id), for each party the index knows.
        self.parties = [
            (party, pid) for party in case.get("parties") or [] if (pid := index.person_of(case["id"], party))
        ]

    def title_args(self) -> dict[str, Any]:
        return {"id": self.case["id"]}

    def fields(self) -> ComposeResult:
        buttons = (RadioButton(f"{party_text(party)}  {pid}") for party, pid in self.parties)
        yield field("party", RadioSet(*buttons, id="party"))

    def on_mount(self) -> None:
        # Textual runs CaseDialog.on_mount as well (handlers run along the class hierarchy).
        self.query_one("#party", RadioSet).focus()

    def relabel(self) -> None:
        self.query_one("#party-label", Static).update(t("person.parties.choose"))
        for button, (party, pid) in zip(
            self.query(RadioButton).results(RadioButton), self.parties, strict=True
        ):
            button.label = f"{party_text(party)}  {pid}"

    @on(RadioSet.Changed, "#party")
    def _chosen(self) -> None:
        self.action_save()

    def check(self) -> dict[str, Problem]:
        return (
            {}
            if self.query_one("#party", RadioSet).pressed_index >= 0
            else {"party": ("person.parties.choose", {})}
        )

    def record(self) -> str:
        return self.parties[self.query_one("#party", RadioSet).pressed_index][1]
