"""Key persons' plan dates on the responsible officer's home screen (docs/persons.md, "Plan dates").

A key person's plan (一策) may carry a date (`due`). It is this device's to meet when the plan's
`officer` is this device, or when no officer is named and this device wrote the plan (a
supervisor's own plan). Such a plan due today or earlier is listed among what is due, as a
follow-up visit is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import PersonDoc


@dataclass(frozen=True)
class PlanDue:
    """A key person's plan due today or overdue, as home lists it."""

    #: The id the person is shown under.
    person: str
    #: The name most used in their cases.
    name: str
    plan: str
    #: YYYY-MM-DD.
    due: str
    #: Their newest case (what Enter opens until the person screen exists), its village and risk.
    case_id: str
    village: str
    risk: str


def maybe_mine(doc: Mapping[str, Any], me: str) -> bool:
    """Whether this `persons` entry may hold a dated plan of this device's (a cheap first look,
    before the person index is built: `plans_due` decides)."""
    return bool(doc.get("key")) and bool(doc.get("due")) and doc.get("officer") in (me, None)


def plans_due(index: PersonIndex, persons: Mapping[str, PersonDoc], me: str, today: str) -> list[PlanDue]:
    """The dated plans of key persons this device (`me`) is responsible for, due on or before
    `today` (YYYY-MM-DD), soonest first.

    Read on the person as shown (the latest write among its linked ids, `PersonIndex`): the plan
    is this device's if its `officer` is `me`, or if no officer is named and `me` wrote it.
    """
    found: dict[str, PlanDue] = {}
    for person_id, doc in persons.items():
        if not maybe_mine(doc, me):
            continue
        person = index.get(person_id)
        if person is None or person.id in found or not person.cases:
            continue
        pid = person.id
        if not (person.key and person.plan and person.due and person.due <= today):
            continue
        if person.responsible() != me:  # its officer, or its writer when it names none
            continue
        newest = person.cases[0]
        found[pid] = PlanDue(
            pid, person.names[0], person.plan, person.due, newest.id, newest.village, newest.risk
        )
    return sorted(found.values(), key=lambda p: (p.due, p.person))
