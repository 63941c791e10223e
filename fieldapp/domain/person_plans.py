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
from sync.merge import OPS, WRITERS


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


def _writer(doc: Mapping[str, Any], name: str) -> tuple[Any, ...] | None:
    """(total order..., author, epoch, seq) of the operation that wrote `name`, or None."""
    index = doc.get(WRITERS, {}).get(name)
    return None if index is None else tuple(doc[OPS][index])


def plan_writer(index: PersonIndex, persons: Mapping[str, PersonDoc], person_id: str) -> str | None:
    """The device that wrote the person's plan as shown (the latest write of `officer` among its
    linked ids): whose plan it is when it names no officer."""
    writes = [w for m in index.members(person_id) if m in persons and (w := _writer(persons[m], "officer"))]
    return str(max(writes)[-3]) if writes else None  # the author of the latest write


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
        if person.officer is None:
            if plan_writer(index, persons, pid) != me:
                continue
        elif person.officer != me:
            continue
        newest = person.cases[0]
        found[pid] = PlanDue(
            pid, person.names[0], person.plan, person.due, newest.id, newest.village, newest.risk
        )
    return sorted(found.values(), key=lambda p: (p.due, p.person))
