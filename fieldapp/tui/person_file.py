"""A person's file (一人一档) in words: who is responsible, the highest open risk, whether the
plan is overdue, and one timeline of all their cases, newest first. Pure presentation with no
Textual here, as `case_timeline` (whose entries it reuses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from fieldapp.domain import model
from fieldapp.domain.documents import ShownCase
from fieldapp.domain.person_index import Person
from fieldapp.tui.case_timeline import NameOf, timeline


@dataclass(frozen=True)
class FileRow:
    """One row of a person's timeline: an entry of one of their cases' history."""

    case_id: str
    #: The operation's kind (`case.create`, `visit.add`, `case.status`, ...).
    kind: str
    #: When (local, short): for a visit given its time, when it happened.
    at: str
    author: str
    text: str
    #: Where it goes: when it happened, then its stamp (`case_timeline.Entry.order`).
    order: tuple[int, int]


def responsible(person: Person) -> str | None:
    """The device responsible for the person (`Person.responsible`: the plan's officer, else the
    writer of a plan naming none, else the officer of their newest open case)."""
    return person.responsible()


def highest_open_risk(person: Person) -> str | None:
    """The highest risk among the person's open cases (None: no open case)."""
    risks = {c.risk for c in person.cases if c.is_open}
    return next((risk for risk in model.RISKS if risk in risks), None)


def plan_overdue(person: Person, today: date) -> bool:
    """A key person's plan whose date has passed."""
    return person.key and bool(person.due) and str(person.due) < today.isoformat()


def file_rows(cases: Iterable[ShownCase], name_of: NameOf) -> list[FileRow]:
    """Every accepted operation of every case (created, visits when they happened, updates and
    resolutions, notes, edits), newest first. A case's conflicts and refused operations stay on
    the case's own screen."""
    rows = [
        FileRow(case["id"], entry.kind, entry.at, entry.author, entry.text, entry.order())
        for case in cases
        for entry in timeline(case, name_of)
        if entry.kind
    ]
    rows.sort(key=lambda row: (row.order, row.case_id), reverse=True)
    return rows
