"""Key persons (重点人员) as a supervisor lists them: flagged, or with repeat disputes.

Pure functions over a `PersonIndex` and the cases it was built from; no Textual, no store access
(docs/persons.md, "Key persons on the supervisor's screen").

- **A dispute in the last 12 months**: a case of the person (any status), whose `created_at`,
  taken as a calendar date in local time (the machine's time zone, or `tz`), is on or after
  `today` minus 365 days (`is_recent`). A case dated after today (a device whose clock runs
  ahead) counts too. The same window as the early warning at intake
  (`person_index.RECENT_DAYS`).
- **A key person**: flagged (marked key, `person.key` true), or with two or more disputes in
  the last 12 months ("repeat"). A person is who the person index says: matched by mobile, or
  joined by a confirmed link; a name-only proposal does not join anyone.
- **Open cases**: not resolved or closed. **Highest open risk**: red above orange above yellow,
  among the open cases; none without one.
- **Last visit**: the latest visit of any of their cases, by when it happened
  (`model.visit_moment`), as a local date.
- **Officer responsible** (`Person.responsible`): the plan's officer; a plan naming none is its
  writer's; without a plan, the officer of their newest open
  case (its assignee, else the device that recorded it); else none.
- **Plan overdue**: flagged, with a plan due date before today.

Sorted: flagged persons with an overdue plan first, then by highest open risk (none last), then
by disputes in the last 12 months (most first), then by open cases, then by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from fieldapp.domain import model
from fieldapp.domain.person_index import RECENT_DAYS, CaseBrief, Person, PersonIndex, local_date

#: A person with this many disputes in the last 12 months or more is listed as a repeat.
REPEAT_DISPUTES = 2
_RISK_RANK = {risk: rank for rank, risk in enumerate(model.RISKS)}


@dataclass(frozen=True)
class KeyPersonRow:
    """One key person as the supervisor's Persons tab lists them."""

    id: str
    #: The name most used in their cases.
    name: str
    villages: tuple[str, ...]
    #: Marked a key person (重点人员); False: listed for repeat disputes only.
    flagged: bool
    #: Disputes in the last 12 months (`is_recent`).
    recent: int
    open_cases: int
    #: The highest risk among the open cases, or None.
    top_risk: str | None
    #: Local date of the latest visit of any of their cases, or None.
    last_visit: date | None
    #: The device responsible (`Person.responsible`).
    officer: str | None
    #: The plan's due date (YYYY-MM-DD), or None.
    due: str | None
    overdue: bool
    #: Their newest open case, else their newest case.
    case_id: str

    @property
    def repeat(self) -> bool:
        """Two or more disputes in the last 12 months."""
        return self.recent >= REPEAT_DISPUTES


def is_recent(created_at: str, today: date, tz: tzinfo | None = None) -> bool:
    """Whether a case created at `created_at` is a dispute of the last 12 months: its local date
    on or after `today` minus 365 days."""
    day = local_date(created_at, tz)
    return day is not None and day >= today - timedelta(days=RECENT_DAYS)


def key_persons(
    index: PersonIndex, cases: Mapping[str, Any], today: date, tz: tzinfo | None = None
) -> list[KeyPersonRow]:
    """The key persons of `index` (flagged, or two or more disputes in the last 12 months), sorted
    as the module says. `cases`: the case documents the index was built from (their visits)."""
    rows = []
    for person in index.key_candidates(REPEAT_DISPUTES):
        recent = sum(1 for c in person.cases if is_recent(c.created_at, today, tz))
        if person.key or recent >= REPEAT_DISPUTES:
            rows.append(_row(person, recent, cases, today, tz))
    rows.sort(key=_order)
    return rows


def _row(
    person: Person, recent: int, cases: Mapping[str, Any], today: date, tz: tzinfo | None
) -> KeyPersonRow:
    open_cases = [c for c in person.cases if c.is_open]  # newest first, as the person holds them
    risks = [c.risk for c in open_cases if c.risk in _RISK_RANK]
    moments = [
        model.visit_moment(visit)
        for brief in person.cases
        for visit in (cases.get(brief.id) or {}).get("visits") or ()
        if visit.get("at")
    ]
    newest: CaseBrief = open_cases[0] if open_cases else person.cases[0]
    due = person.due if person.key else None
    return KeyPersonRow(
        id=person.id,
        name=person.names[0] if person.names else "",
        villages=person.villages,
        flagged=person.key,
        recent=recent,
        open_cases=len(open_cases),
        top_risk=min(risks, key=_RISK_RANK.__getitem__) if risks else None,
        last_visit=local_date(max(moments), tz) if moments else None,
        officer=person.responsible(),
        due=due,
        overdue=bool(due) and str(due) < today.isoformat(),
        case_id=newest.id,
    )


def _order(row: KeyPersonRow) -> tuple[Any, ...]:
    return (
        not (row.flagged and row.overdue),
        _RISK_RANK.get(row.top_risk or "", len(_RISK_RANK)),
        -row.recent,
        -row.open_cases,
        row.id,
    )


def key_person_counts(rows: list[KeyPersonRow]) -> tuple[int, int]:
    """(key persons, of them flagged): the dashboard's figure."""
    return len(rows), sum(1 for row in rows if row.flagged)
