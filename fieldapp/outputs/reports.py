"""Period reports in the shape the stations report: a month, quarter or half-year,
side by side with the same period a year earlier.

Pure functions over cases as `CaseService.cases()` presents them (public shape with
`history`); no Textual, no store access.

Definitions (they are also printed under the text report):

- **Period membership** uses local time: the time zone of the machine making the
  report (or `tz`), applied to the case's `created_at` and to the `at` of its history
  entries (UTC ISO timestamps of the operations' hybrid-logical-clock stamps). A
  period runs from local midnight of its first day to local midnight after its last.
- **Disputes found**: cases whose `created_at` is in the period.
- **Resolved in the period**: cases with a status change to `resolved` in the period
  (from the history; a case resolved twice in one period counts once).
- **Found and resolved by period end**: cases found in the period whose status at
  the end of the period (replaying the status changes and reopenings of the history
  up to then) was `resolved` or `closed`.
- **Resolution rate (化解率)** = found and resolved by period end ÷ found, as a
  percentage to one decimal rounded half up (2 of 32 is 6.3 %, as a reader rounds by
  hand; `round()` would give 6.2); none when nothing was found. Changes in percent and
  percentage points are rounded the same way (`half_up`).
- **Safety hazards found / fixed**: the same two counts for category `hazard`.
- **Overdue at period end**: cases recorded before the end whose deadline was before
  the end's date and whose status then was not resolved or closed. For a period not
  over yet, "the end" is now.
- **Follow-ups due / done**: follow-up visits scheduled (+7/+30/+90 days after the
  latest resolution) with a due date in the period, and how many of those are marked
  done now.
- **Repeat incidents** (`repeat_incidents`, "repeat calls or reopened"): cases found in the
  period flagged as repeat 110 calls, plus cases reopened (flared up) in the period; each case
  counted once. It reads the officers' flags and the reopenings, not persons.
- **Repeat disputes (重复纠纷) and repeat persons**, defined on persons (`repeats`): a case is
  a *repeat* for a person among its parties if that person has another case recorded before it
  (an earlier `created_at`; at the same instant, the smaller case id first) on or after the local
  date 365 days before the case's local date (`REPEAT_DAYS`: the 12 months of the early warning
  and of the key persons' "disputes in the last 12 months"). The earlier case may lie in the
  period or before it, in any village, of any category and status. **Repeat disputes**: cases
  found in the period that are a repeat for at least one of their persons; **repeat persons**:
  the persons with at least one such case, each counted once. A person is who the person index
  says (`fieldapp.domain.person_index`, docs/persons.md): the same mobile number however written,
  or ids an officer linked; the same name alone (a proposal) joins nobody. Persons are as this
  device knows them when the report is made (a link made since counts in last year's column
  too). Both are None ("—") in a report made without the index (`build_report`'s `persons`).
- **By category, risk, village, officer**: found and resolved in the period, grouped by
  the case's current category, risk and village, and by its officer: the assignee,
  or the device that recorded it when nobody is assigned.

Category, risk, village, flags, deadline and assignee are the case's current values:
the history records that a field changed, not what it was before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar, overload

from fieldapp.domain import model
from fieldapp.domain.cases import STATUS_LOG
from fieldapp.domain.documents import CaseDoc, PublicCase, ShownCase
from fieldapp.domain.person_index import RECENT_DAYS, PersonIndex
from fieldapp.i18n import Translator
from fieldapp.i18n import reports as _strings  # noqa: F401  (registers the report strings)
from fieldapp.outputs.exports import Cell, Number, csv_bytes, xlsx_bytes

PERIODS = ("month", "quarter", "half")
MONTHS = {"month": 1, "quarter": 3, "half": 6}
DONE = ("resolved", "closed")
DIMENSIONS = ("category", "risk", "village", "officer")
#: Scalar figures, in the order reports show them.
FIGURES = (
    "found",
    "resolved",
    "found_resolved",
    "resolution_rate",
    "hazards_found",
    "hazards_fixed",
    "overdue_at_end",
    "followups_due",
    "followups_done",
    "repeat_calls",
    "reopened",
    "repeat_incidents",
    "repeat_disputes",
    "repeat_persons",
)
#: A case is a repeat if its person had another case this many days before it, or fewer (local
#: dates): the 12 months of the early warning and of the key persons' count.
REPEAT_DAYS = RECENT_DAYS

Names = Callable[[str], str]


class ReportError(ValueError):
    """A report that cannot be made as asked; the message says what to do."""

    code = "report_error"


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or half-year."""

    kind: str
    year: int
    first_month: int

    @property
    def months(self) -> int:
        """How many months the period spans."""
        return MONTHS[self.kind]

    @property
    def first_day(self) -> date:
        """The period's first calendar day."""
        return date(self.year, self.first_month, 1)

    @property
    def end_day(self) -> date:
        """The first calendar day after the period."""
        month = self.first_month + self.months
        return date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        """The period's last calendar day."""
        return self.end_day - timedelta(days=1)

    def start(self, tz: tzinfo | None = None) -> datetime:
        """Local midnight at the start of the period (aware)."""
        return _midnight(self.first_day, tz)

    def end(self, tz: tzinfo | None = None) -> datetime:
        """Local midnight after the period's last day (aware; excluded from the period)."""
        return _midnight(self.end_day, tz)

    def last_year(self) -> Period:
        """The same period one year earlier."""
        return Period(self.kind, self.year - 1, self.first_month)

    @property
    def code(self) -> str:
        """Short language-neutral name: 2026-03, 2026-Q1, 2026-H1."""
        if self.kind == "month":
            return f"{self.year}-{self.first_month:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{(self.first_month - 1) // 3 + 1}"
        return f"{self.year}-H{(self.first_month - 1) // 6 + 1}"

    def label(self, lang: str) -> str:
        """The period's name in `lang`: 2026年3月, 2026年第1季度, 2026年上半年."""
        tr = Translator(lang)
        if self.kind == "month":
            return tr.t("report.month", year=self.year, month=self.first_month)
        if self.kind == "quarter":
            return tr.t("report.quarter", year=self.year, quarter=(self.first_month - 1) // 3 + 1)
        return tr.t(f"report.half.{(self.first_month - 1) // 6 + 1}", year=self.year)


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    naive = datetime(day.year, day.month, day.day)
    # A naive time's astimezone() reads it as the machine's local time, with that date's offset.
    return naive.astimezone() if tz is None else naive.replace(tzinfo=tz)


_OF = re.compile(r"(\d{4})-(\d{2})")


def period_of(kind: str, of: str | None = None, today: date | None = None) -> Period:
    """The `kind` period containing the month `of` (YYYY-MM), or today's."""
    if kind not in PERIODS:
        raise ReportError(f"--period must be one of: {', '.join(PERIODS)}; got {kind!r}.")
    if of is None:
        day = today or date.today()
        year, month = day.year, day.month
    else:
        match = _OF.fullmatch(of)
        if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
            raise ReportError(f"--of takes a month written YYYY-MM, for example 2026-03; got {of!r}.")
        year, month = int(match.group(1)), int(match.group(2))
    size = MONTHS[kind]
    return Period(kind, year, (month - 1) // size * size + 1)


# ------------------------------------------------------------------ what each case did when


@dataclass(frozen=True)
class CaseFacts:
    """What a report needs of one case: times (aware) and current values."""

    id: str
    created: datetime
    category: str
    risk: str
    village: str
    officer: str
    flags: tuple[str, ...]
    deadline: str | None
    followups: tuple[tuple[str, bool], ...]
    #: (time, status) of each status change and reopening, in merge order.
    statuses: tuple[tuple[datetime, str], ...]
    reopenings: tuple[datetime, ...]

    def status_at(self, moment: datetime) -> str | None:
        """The status just before `moment`; None if the case did not exist yet."""
        if self.created >= moment:
            return None
        status = "open"
        for at, new in self.statuses:
            if at < moment:
                status = new
        return status


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _facts(case: PublicCase, changes: Iterable[tuple[str, str, bool]]) -> CaseFacts:
    """CaseFacts of a case (presented or as the view holds it) and its status changes,
    given as (ISO time, new status, whether a reopening), in merge order."""
    statuses: list[tuple[datetime, str]] = []
    reopenings: list[datetime] = []
    for stamp, status, reopening in changes:
        at = _when(stamp)
        statuses.append((at, status))
        if reopening:
            reopenings.append(at)
    created = case["created_at"]
    if created is None:
        raise TypeError(f"case {case['id']} has no intake folded: it has no figures")
    return CaseFacts(
        id=case["id"],
        created=_when(created),
        category=case["category"],
        risk=case["risk"],
        village=case["village"],
        officer=case.get("assignee") or case.get("created_by") or "",
        flags=tuple(case.get("flags", [])),
        deadline=case.get("deadline"),
        # A follow-up cancelled by a reopening is neither due nor done.
        followups=tuple(
            (f["due"], bool(f["done"])) for f in case.get("followups", []) if not f.get("cancelled")
        ),
        statuses=tuple(statuses),
        reopenings=tuple(reopenings),
    )


def case_facts(case: ShownCase) -> CaseFacts:
    """The facts of a presented case (with its history)."""
    return _facts(
        case,
        (
            (
                e["at"],
                "in_progress" if e["kind"] == "case.reopen" else str(e["what"].get("status")),
                e["kind"] == "case.reopen",
            )
            for e in case.get("history", [])
            if e["kind"] in ("case.status", "case.reopen")
        ),
    )


def state_facts(state: CaseDoc) -> CaseFacts:
    """The same facts from a case as the `cases` view holds it (its status log, no history).

    What a dashboard uses: it needs no operation decoded. Equal to `case_facts` of the
    presented case (`tests/test_exports_reports.py` checks every case of a station).
    """
    # Times to the second, as the history shows them.
    log = state.get(STATUS_LOG, ())
    return _facts(state, ((model.stamp_iso(hlc), status, bool(reopening)) for hlc, status, reopening in log))


# ------------------------------------------------------------------ figures


def half_up(value: Decimal) -> float:
    """`value` to one decimal, a half rounded away from zero (6.25 -> 6.3, -6.25 -> -6.3)."""
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, to one decimal, rounded half up; None when `whole` is 0."""
    return half_up(Decimal(100 * part) / Decimal(whole)) if whole else None


#: (person id, a case that is a repeat for them), as `repeats` lists them.
Repeat = tuple[str, CaseFacts]


def repeats(
    facts: Sequence[CaseFacts], persons: Mapping[str, Sequence[str]], tz: tzinfo | None = None
) -> list[Repeat]:
    """Every (person, case) where the case is a repeat for that person, whatever its period: the
    person had another case recorded before it on or after the local date `REPEAT_DAYS` before
    its own (the module's definitions). `persons`: case id -> its persons
    (`PersonIndex.case_persons`)."""
    by_id = {f.id: f for f in facts}
    timelines: dict[str, list[CaseFacts]] = {}
    for case_id, ids in persons.items():
        case = by_id.get(case_id)
        if case is not None:
            for person_id in ids:
                timelines.setdefault(person_id, []).append(case)
    found: list[Repeat] = []
    window = timedelta(days=REPEAT_DAYS)
    for person_id, cases in timelines.items():
        if len(cases) < 2:
            continue  # most persons: one case, no repeat
        cases.sort(key=lambda f: (f.created, f.id))
        # The case just before is the latest earlier one: if it is out of the window, all are.
        for before, case in zip(cases, cases[1:], strict=False):
            if before.created.astimezone(tz).date() >= case.created.astimezone(tz).date() - window:
                found.append((person_id, case))
    return sorted(found, key=lambda found: (found[0], found[1].created, found[1].id))


def figure_cases(
    facts: Sequence[CaseFacts],
    period: Period,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    repeated: Sequence[Repeat] | None = None,
) -> dict[str, list[CaseFacts]]:
    """The cases behind each counted figure of one period (what a dashboard drills down to);
    "repeat_disputes" only when given `repeats`' list as `repeated`."""
    start, end = period.start(tz), period.end(tz)
    now = now or datetime.now().astimezone()
    cutoff = min(end, now)
    cutoff_day = cutoff.astimezone(tz).date()

    def within(moment: datetime) -> bool:
        return start <= moment < end

    found = [f for f in facts if within(f.created)]
    hazards = [f for f in found if f.category == "hazard"]
    repeat_calls = [f for f in found if "repeat_calls" in f.flags]
    reopened = [f for f in facts if any(within(at) for at in f.reopenings)]
    behind: dict[str, list[CaseFacts]] = {}
    if repeated is not None:
        repeat_ids = {case.id for _person, case in repeated if within(case.created)}
        behind["repeat_disputes"] = [f for f in found if f.id in repeat_ids]
    return behind | {
        "found": found,
        "resolved": [f for f in facts if any(s == "resolved" and within(at) for at, s in f.statuses)],
        "found_resolved": [f for f in found if f.status_at(end) in DONE],
        "hazards_found": hazards,
        "hazards_fixed": [f for f in hazards if f.status_at(end) in DONE],
        "overdue_at_end": [
            f
            for f in facts
            if f.created < cutoff
            and f.deadline
            and f.deadline < cutoff_day.isoformat()
            and f.status_at(cutoff) not in DONE
        ],
        "repeat_calls": repeat_calls,
        "reopened": reopened,
        "repeat_incidents": list({f.id: f for f in repeat_calls + reopened}.values()),
    }


def figures(
    facts: Sequence[CaseFacts],
    period: Period,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    cases: dict[str, list[CaseFacts]] | None = None,
    repeated: Sequence[Repeat] | None = None,
) -> dict[str, Any]:
    """The figures of one period (see the module's definitions); `cases`: its `figure_cases`
    (given `repeated` too, if given here); `repeated`: `repeats`' list, without which the
    repeat disputes and persons are None."""
    cases = cases if cases is not None else figure_cases(facts, period, tz, now, repeated)
    start, end = period.start(tz), period.end(tz)
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    due = [done for f in facts for day, done in f.followups if first <= day <= last]
    result: dict[str, Any] = {
        "found": len(cases["found"]),
        "resolved": len(cases["resolved"]),
        "found_resolved": len(cases["found_resolved"]),
        "resolution_rate": percent(len(cases["found_resolved"]), len(cases["found"])),
        "hazards_found": len(cases["hazards_found"]),
        "hazards_fixed": len(cases["hazards_fixed"]),
        "overdue_at_end": len(cases["overdue_at_end"]),
        "followups_due": len(due),
        "followups_done": sum(due),
        "repeat_calls": len(cases["repeat_calls"]),
        "reopened": len(cases["reopened"]),
        "repeat_incidents": len(cases["repeat_incidents"]),
        "repeat_disputes": len(cases["repeat_disputes"]) if "repeat_disputes" in cases else None,
        "repeat_persons": (
            None
            if repeated is None
            else len({person for person, case in repeated if start <= case.created < end})
        ),
    }
    for dimension in DIMENSIONS:
        groups: dict[str, dict[str, int]] = {}
        for measure in ("found", "resolved"):
            for f in cases[measure]:
                counts = groups.setdefault(getattr(f, dimension), {"found": 0, "resolved": 0})
                counts[measure] += 1
        result[f"by_{dimension}"] = groups
    return result


def _change(current: Any, previous: Any) -> dict[str, Any]:
    """Difference (and percentage change of counts); rates change in percentage points."""
    if current is None or previous is None:
        return {"diff": None, "pct": None}
    if isinstance(current, float) or isinstance(previous, float):
        # Rates have one decimal; their difference is exact in decimal (no float residue).
        return {"diff": half_up(Decimal(str(current)) - Decimal(str(previous))), "pct": None}
    diff = current - previous
    return {"diff": diff, "pct": half_up(Decimal(100 * diff) / Decimal(previous)) if previous else None}


#: A case as a caller of `build_report` (or the dashboard) gives it, with the `facts_of` it needs.
Case = TypeVar("Case", bound=PublicCase)


@overload
def build_report(
    cases: Iterable[ShownCase],
    period: Period,
    names: Names | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    *,
    persons: PersonIndex | None = None,
) -> dict[str, Any]: ...


@overload
def build_report(
    cases: Iterable[Case],
    period: Period,
    names: Names | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    *,
    facts_of: Callable[[Case], CaseFacts],
    persons: PersonIndex | None = None,
) -> dict[str, Any]: ...


def build_report(
    cases: Iterable[Any],
    period: Period,
    names: Names | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
    facts_of: Callable[[Any], CaseFacts] | None = None,
    persons: PersonIndex | None = None,
) -> dict[str, Any]:
    """The report: this period and the same period last year, their figures and the change.

    `cases` as `CaseService.cases()` presents them; or the view's states with
    `facts_of=state_facts` (or a cache of it), which needs no history. `persons`: the device's
    person index (`CaseService.person_index()`), for the repeat disputes and persons.
    """
    facts_of = facts_of or case_facts
    facts = [facts_of(c) for c in cases if c.get("created_at")]
    previous = period.last_year()
    repeated = None if persons is None else repeats(facts, persons.case_persons(), tz)
    current_figures = figures(facts, period, tz, now, repeated=repeated)
    previous_figures = figures(facts, previous, tz, now, repeated=repeated)
    offset = period.start(tz).strftime("%z")
    officers = sorted(set(current_figures["by_officer"]) | set(previous_figures["by_officer"]))
    names = names or (lambda device_id: device_id)
    return {
        "period": _period_doc(period),
        "previous_period": _period_doc(previous),
        "timezone": f"{offset[:3]}:{offset[3:]}",
        "current": current_figures,
        "previous": previous_figures,
        "change": {k: _change(current_figures[k], previous_figures[k]) for k in FIGURES},
        "officers": {device_id: names(device_id) for device_id in officers if device_id},
    }


def _period_doc(period: Period) -> dict[str, Any]:
    return {
        "kind": period.kind,
        "code": period.code,
        "first_day": period.first_day.isoformat(),
        "last_day": period.last_day.isoformat(),
    }


# ------------------------------------------------------------------ presenting


def _period_from(doc: dict[str, Any]) -> Period:
    first = date.fromisoformat(doc["first_day"])
    return Period(doc["kind"], first.year, first.month)


NONE = "—"
#: Number formats of the report's cells in a workbook: a rate, a signed count, a signed percentage.
RATE_FORMAT = "0.0%"
SIGNED_FORMAT = "+0;-0;0"
SIGNED_PERCENT_FORMAT = "+0.0%;-0.0%;0.0%"


def _show(value: Any) -> Cell:
    """A figure's cell: a count as an int, a rate as a `Number` (6.3 shown "6.3%", stored 0.063)."""
    if value is None:
        return NONE
    if isinstance(value, float):
        return Number(float(Decimal(str(value)) / 100), RATE_FORMAT, f"{value:.1f}%")
    return int(value)


def _show_change(figure: str, change: dict[str, Any], tr: Translator) -> tuple[Cell, Cell]:
    """The change as two cells: the difference (+3; a rate's in percentage points) and the
    percentage change of a count (+50.0%); "—" where there is none, "" for a rate's."""
    diff, pct = change["diff"], change["pct"]
    if figure == "resolution_rate":
        shown = (
            NONE if diff is None else Number(diff, tr.t("report.pp_format"), tr.t("report.pp", value=diff))
        )
        return shown, ""
    if diff is None:
        return NONE, NONE
    text = f"{diff:+d}" if diff else "0"
    percentage = (
        NONE
        if pct is None
        else Number(float(Decimal(str(pct)) / 100), SIGNED_PERCENT_FORMAT, f"{pct:+.1f}%" if pct else "0.0%")
    )
    return Number(diff, SIGNED_FORMAT, text), percentage


def _dimension_names(dimension: str, report: dict[str, Any], tr: Translator) -> Callable[[str], str]:
    if dimension in ("category", "risk"):
        return lambda key: tr.t(f"{dimension}.{key}") if tr.has(f"{dimension}.{key}") else key
    if dimension == "officer":
        officers: dict[str, str] = report.get("officers", {})
        taken = [officers.get(k, k) for k in officers]

        def officer(key: str) -> str:
            name = officers.get(key, key)
            return name if taken.count(name) < 2 else f"{name} ({key[:6]})"

        return officer
    return lambda key: key


def _dimension_order(
    dimension: str, now: dict[str, dict[str, int]], then: dict[str, dict[str, int]], measure: str
) -> list[str]:
    """Vocabulary order for categories and risks; most first (this period, then last year) otherwise."""
    keys = set(now) | set(then)
    if dimension in ("category", "risk"):
        known = model.CATEGORIES if dimension == "category" else model.RISKS
        return [k for k in known if k in keys] + sorted(keys - set(known))

    def count(groups: dict[str, dict[str, int]], key: str) -> int:
        return groups.get(key, {}).get(measure, 0)

    return sorted(keys, key=lambda k: (-count(now, k), -count(then, k), k))


def report_table(report: dict[str, Any], lang: str) -> tuple[list[str], list[list[Cell]]]:
    """The report as one table: section, item, this period, same period last year, change,
    change in percent. Counts are ints; rates and changes are `Number`s (numbers with a
    number format in a workbook, their text in a CSV)."""
    tr = Translator(lang)
    current, previous = _period_from(report["period"]), _period_from(report["previous_period"])
    header = [
        tr.t("report.col.section"),
        tr.t("report.col.item"),
        tr.t("report.col.current", period=current.label(lang)),
        tr.t("report.col.previous", period=previous.label(lang)),
        tr.t("report.col.change"),
        tr.t("report.col.change_pct"),
    ]
    rows: list[list[Cell]] = []
    overall = tr.t("report.section.overall")
    for figure in FIGURES:
        rows.append(
            [
                overall,
                tr.t(f"report.fig.{figure}"),
                _show(report["current"][figure]),
                _show(report["previous"][figure]),
                *_show_change(figure, report["change"][figure], tr),
            ]
        )
    for measure in ("found", "resolved"):
        for dimension in DIMENSIONS:
            now_groups = report["current"][f"by_{dimension}"]
            then_groups = report["previous"][f"by_{dimension}"]
            section = tr.t(f"report.section.{measure}.{dimension}")
            name = _dimension_names(dimension, report, tr)
            for key in _dimension_order(dimension, now_groups, then_groups, measure):
                a = now_groups.get(key, {}).get(measure, 0)
                b = then_groups.get(key, {}).get(measure, 0)
                if a or b:
                    rows.append([section, name(key), a, b, *_show_change(measure, _change(a, b), tr)])
    return header, rows


def _cell_text(cell: Cell) -> str:
    return cell.text if isinstance(cell, Number) else str(cell)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def report_text(report: dict[str, Any], lang: str) -> str:
    """The report as a plain-text table, one block per section."""
    tr = Translator(lang)
    header, rows = report_table(report, lang)
    current = _period_from(report["period"])
    # One change column, as "+3 (+50.0%)": the two spreadsheet columns side by side.
    header = header[:5]
    cells = []
    for figures in rows:
        texts = [_cell_text(c) for c in figures]
        if isinstance(figures[5], Number) and texts[4] not in (NONE, "0"):
            texts[4] = f"{texts[4]} ({texts[5]})"
        cells.append(texts[:5])
    widths = [max([_width(header[i])] + [_width(r[i]) for r in cells]) for i in range(1, 5)]

    def line(row: list[str]) -> str:
        return "  " + "  ".join(
            _pad(c, w, right=i > 0) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    lines = [
        tr.t("report.title", period=current.label(lang)),
        tr.t("report.timezone", offset=report["timezone"]),
        "",
        line(header[1:]),
    ]
    section = None
    for row in cells:
        if row[0] != section:
            section = row[0]
            lines += ["", section]
        lines.append(line(row[1:]))
    lines += ["", tr.t("report.note", offset=report["timezone"]), tr.t("report.note_repeat")]
    return "\n".join(lines)


#: A report of fewer rows than this prints on one A4 page (scaled down to fit); a longer
#: one prints one page wide, as many tall as it needs, the header row on each.
ONE_PAGE_ROWS = 80


def report_file(report: dict[str, Any], fmt: str, lang: str) -> bytes:
    """The report's table as a CSV (UTF-8 with BOM) or XLSX (sheet "report", 报表 in Chinese) file.

    In the XLSX, counts, rates and changes are numbers with number formats (a rate
    "0.0%", a change "+0;-0;0"); the sheet prints on A4, the labels beside the figures.
    """
    table = report_table(report, lang)
    if fmt == "csv":
        return csv_bytes(table)
    if fmt == "xlsx":
        sheet = Translator(lang).t("report.sheet")
        return xlsx_bytes([(sheet, table)], one_page=len(table[1]) < ONE_PAGE_ROWS)
    raise ReportError(f"--format must be csv or xlsx for a report file; got {fmt!r}.")
