"""The supervisor's dashboard: figures over the merged caseload, each with the cases behind it.

Pure functions over cases as `CaseService.cases()` presents them (public shape with
`history`); no Textual, no store access. Every figure is a list of case ids, so a
screen can show the count and drill down to exactly those cases.

Definitions (the period figures are `fieldapp.outputs.reports`' own, so the dashboard and the
printed report always agree):

- **Open**: status open, in progress, escalated or referred.
- **Overdue**: open and past its deadline today (`service.is_overdue`).
- **Follow-ups due**: a follow-up visit not yet done with its due date today or earlier,
  on a case not closed (the home screen's definition).
- **Load** per police area, village and officer: open cases; a case's area is the one
  the supervisor placed its village in (`fieldapp.domain.areas`), its officer is its assignee,
  or the device that recorded it while nobody is assigned (as in the reports).
- **Unassigned**: open cases no supervisor has assigned and nobody has claimed.
  **Not claimed**: assigned, but the assignee has not claimed it yet (面对面认领).
- **This month / this quarter**: the report's figures for the current period up to now.
- **Weekly intake**: cases found per local calendar week (Monday to Sunday) and category,
  for the last `WEEKS` weeks including this one.
- **Resolution rate over time**: the report's 化解率 of each of the last `MONTHS` months
  (found in the month and resolved or closed by its end), as far as it has run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, overload

from fieldapp.domain import model
from fieldapp.domain.documents import PublicCase, ShownCase
from fieldapp.outputs.reports import (
    DONE,
    Case,
    CaseFacts,
    Period,
    case_facts,
    figure_cases,
    figures,
    percent,
    period_of,
)

OPEN = ("open", "in_progress", "escalated", "referred")
WEEKS = 12
MONTHS = 12


@dataclass
class Dashboard:
    """The figures of a dashboard; every list holds case ids, newest case first."""

    today: date
    total: int = 0
    open_by_risk: dict[str, list[str]] = field(default_factory=dict)
    open_by_status: dict[str, list[str]] = field(default_factory=dict)
    overdue: list[str] = field(default_factory=list)
    followups_due: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)
    by_village: dict[str, list[str]] = field(default_factory=dict)
    by_officer: dict[str, list[str]] = field(default_factory=dict)
    #: Police area ("" for villages not placed in one) -> open cases.
    by_area: dict[str, list[str]] = field(default_factory=dict)
    #: "month" / "quarter" -> the period, its report figures and the cases behind each count.
    periods: dict[str, tuple[Period, dict[str, Any], dict[str, list[str]]]] = field(default_factory=dict)
    #: Monday of each week shown, oldest first.
    weeks: list[date] = field(default_factory=list)
    #: category -> cases found in each week (same order as `weeks`).
    weekly_intake: dict[str, list[list[str]]] = field(default_factory=dict)
    #: (first day of the month, resolution rate or None, found, found and resolved by its end).
    monthly_rate: list[tuple[date, float | None, int, int]] = field(default_factory=list)
    #: First day of each of those months -> the cases found in it (what its rate is of).
    monthly_found: dict[date, list[str]] = field(default_factory=dict)


def _newest_first(cases: Iterable[Case]) -> list[Case]:
    return sorted(cases, key=lambda c: (c.get("created_at") or "", c["id"]), reverse=True)


def officer_of(case: PublicCase) -> str:
    """Whose load a case counts in: its assignee, else the device that recorded it."""
    return str(case.get("assignee") or case.get("created_by") or "")


@overload
def build_dashboard(
    cases: Iterable[ShownCase],
    today: date | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    areas: dict[str, str] | None = None,
) -> Dashboard: ...


@overload
def build_dashboard(
    cases: Iterable[Case],
    today: date | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    areas: dict[str, str] | None = None,
    *,
    facts_of: Callable[[Case], CaseFacts],
) -> Dashboard: ...


def build_dashboard(
    cases: Iterable[Any],
    today: date | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    areas: dict[str, str] | None = None,
    facts_of: Callable[[Any], CaseFacts] = case_facts,
) -> Dashboard:
    """All figures of the dashboard from the presented cases (with their history).

    `areas`: village -> police area (`CaseService.areas()`); villages in none count under "".
    `facts_of`: `reports.case_facts`, or a cache of it (a screen refreshing after one change).
    """
    areas = areas or {}
    now = now or datetime.now().astimezone(tz)
    today = today or now.astimezone(tz).date()
    ordered = _newest_first(c for c in cases if c.get("created_at"))
    board = Dashboard(today=today, total=len(ordered))
    board.open_by_risk = {risk: [] for risk in model.RISKS}
    board.open_by_status = {status: [] for status in OPEN}
    iso_today = today.isoformat()
    for case in ordered:
        case_id = case["id"]
        is_open = case["status"] in OPEN
        if case["status"] != "closed" and any(
            model.followup_pending(f) and f["due"] <= iso_today for f in case.get("followups") or ()
        ):
            board.followups_due.append(case_id)
        if not is_open:
            continue
        board.open_by_risk.setdefault(case["risk"], []).append(case_id)
        board.open_by_status[case["status"]].append(case_id)
        if case.get("deadline") and case["deadline"] < iso_today:
            board.overdue.append(case_id)
        if not case.get("assignee"):
            board.unassigned.append(case_id)
        elif case.get("claimed_by") != case["assignee"]:
            board.unclaimed.append(case_id)
        board.by_village.setdefault(case["village"], []).append(case_id)
        board.by_area.setdefault(areas.get(case["village"], ""), []).append(case_id)
        board.by_officer.setdefault(officer_of(case), []).append(case_id)
    facts = [facts_of(c) for c in ordered]
    for kind in ("month", "quarter"):
        period = period_of(kind, today=today)
        behind = figure_cases(facts, period, tz, now)
        board.periods[kind] = (
            period,
            figures(facts, period, tz, now, behind),
            {name: [f.id for f in found] for name, found in behind.items()},
        )
    board.weeks, board.weekly_intake = _weekly_intake(facts, today, tz)
    board.monthly_rate, board.monthly_found = _monthly_rate(facts, today, tz, now)
    return board


def _weekly_intake(
    facts: list[CaseFacts], today: date, tz: tzinfo | None
) -> tuple[list[date], dict[str, list[list[str]]]]:
    this_monday = today - timedelta(days=today.weekday())
    weeks = [this_monday - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    intake: dict[str, list[list[str]]] = {category: [[] for _ in weeks] for category in model.CATEGORIES}
    first = weeks[0]
    for f in facts:
        day = f.created.astimezone(tz).date()
        if first <= day <= today:
            intake.setdefault(f.category, [[] for _ in weeks])[(day - first).days // 7].append(f.id)
    return weeks, intake


def _monthly_rate(
    facts: list[CaseFacts], today: date, tz: tzinfo | None, now: datetime
) -> tuple[list[tuple[date, float | None, int, int]], dict[date, list[str]]]:
    """The report's 化解率 of each of the last `MONTHS` months, in one pass over the cases."""
    year, month = today.year, today.month
    periods = []
    for _ in range(MONTHS):
        periods.append(period_of("month", of=f"{year:04d}-{month:02d}", today=today))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    periods.reverse()
    first = periods[0].start(tz)
    counts = {p.first_day: [0, 0] for p in periods}
    found: dict[date, list[str]] = {p.first_day: [] for p in periods}
    ends = {p.first_day: p.end(tz) for p in periods}
    for f in facts:
        if f.created < first:
            continue
        local = f.created.astimezone(tz).date()
        key = local.replace(day=1)
        if key not in counts:
            continue  # after this month (a clock ahead of this device's)
        counts[key][0] += 1
        found[key].append(f.id)
        if f.status_at(ends[key]) in DONE:
            counts[key][1] += 1
    rates = [(day, percent(done, n), n, done) for day, (n, done) in counts.items()]
    return rates, found
