"""Exports and period reports, checked against an independent reading of the operations.

A station (supervisor's authority + officers' devices) works through two years of
shifts with a hand-moved clock, so every operation sits at a chosen local time. The
report's figures are then recomputed here from the raw signed operations of an
operations export (decoded with `sync.ops.decode`, folded by the simple pass below),
not from the cases' views or histories that `fieldapp.outputs.reports` reads.
"""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import msgpack
import openpyxl
import pytest

from fieldapp.core.service import CaseError, CaseService, officer_names
from fieldapp.outputs import reports
from fieldapp.outputs.dashboard import build_dashboard
from fieldapp.outputs.exports import CaseFilter, build_export, filter_cases
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices
from scripts.bench_common import SUMMARY_PARTS, VILLAGES, fake_name, fake_phone
from sync.ops import decode
from tests.cli import fieldapp as run_cli
from tests.persons_truth import party_key, repeat_truth

ROOT = Path(__file__).resolve().parent.parent
#: China's time (no daylight saving); the command-line runs get it as TZ=CST-8.
BEIJING = timezone(timedelta(hours=8))
TZ_ENV = "CST-8"
#: A fixed "now" after all the data, so that every period checked has ended.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=BEIJING)
DONE = ("resolved", "closed")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> int:
    """Milliseconds since the epoch of a Beijing local time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=BEIJING).timestamp() * 1000)


# ---------------------------------------------------------------- the independent pass


@dataclass
class Truth:
    """One case as the raw operations say, folded by hand."""

    id: str
    created: datetime
    creator: str
    category: str
    risk: str
    village: str
    flags: list[str]
    deadline: str | None
    assignee: str | None = None
    claimed_by: str | None = None
    status: str = "open"
    changes: list[tuple[datetime, str]] = field(default_factory=list)
    reopens: list[datetime] = field(default_factory=list)
    followups: list[list[Any]] = field(default_factory=list)
    visits: int = 0
    parties: list[dict[str, Any]] = field(default_factory=list)

    def status_at(self, moment: datetime) -> str:
        status = "open"
        for when, new in self.changes:
            if when < moment:
                status = new
        return status


def stamp_time(hlc: int) -> datetime:
    return datetime.fromtimestamp((hlc >> 16) / 1000, tz=UTC)


def truth_from_export(data: bytes) -> dict[str, Truth]:
    """Fold an `ops export` file's operations, in (hlc, author, epoch, seq) order."""
    doc = msgpack.unpackb(data, raw=False)
    ops = sorted(
        (decode(body, sig) for body, sig in doc["entries"]), key=lambda o: (o.hlc, o.author, o.epoch, o.seq)
    )
    cases: dict[str, Truth] = {}
    for op in ops:
        p, when = op.payload, stamp_time(op.hlc)
        if op.kind == "case.create":
            cases[op.entity] = Truth(
                op.entity,
                when,
                op.author,
                p["category"],
                p["risk"],
                p["village"],
                list(p["flags"]),
                p["deadline"],
                parties=list(p["parties"]),
            )
            continue
        case = cases.get(op.entity)
        if case is None:
            continue
        if op.kind == "case.set":
            for name, value in p["fields"].items():
                setattr(case, name, value)
        elif op.kind == "case.assign":
            case.assignee, case.claimed_by = p["assignee"], None
            if p.get("deadline"):
                case.deadline = p["deadline"]
        elif op.kind == "case.claim" and case.assignee in (None, op.author):
            case.assignee, case.claimed_by = op.author, op.author
        elif op.kind == "case.status":
            case.status = p["status"]
            case.changes.append((when, p["status"]))
            if p["status"] == "resolved":
                day = when.astimezone(BEIJING).date()  # follow-ups count from the station's date
                case.followups += [[(day + timedelta(days=n)).isoformat(), False] for n in (7, 30, 90)]
        elif op.kind == "case.reopen":
            # Issue 15: a reopening cancels the pending follow-ups (neither due nor done since).
            case.followups = [f for f in case.followups if f[1]]
            case.status = "in_progress"
            case.changes.append((when, "in_progress"))
            case.reopens.append(when)
        elif op.kind == "visit.add":
            case.visits += 1
            if p["kind"] == "follow_up":
                pending = [f for f in case.followups if not f[1]]
                if pending:
                    pending[0][1] = True
    return cases


def half_up(part: int, whole: int) -> float:
    """100 * part / whole to one decimal, a half rounded away from zero, in integers only."""
    sign = -1 if part * whole < 0 else 1
    part, whole = abs(part), abs(whole)
    return sign * ((2000 * part + whole) // (2 * whole)) / 10


def bounds(kind: str, year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of the month, quarter or half containing year-month, Beijing time."""
    size = {"month": 1, "quarter": 3, "half": 6}[kind]
    first = (month - 1) // size * size + 1
    after = first + size
    end = datetime(year + (after > 12), (after - 1) % 12 + 1, 1, tzinfo=BEIJING)
    return datetime(year, first, 1, tzinfo=BEIJING), end


def expected(truth: dict[str, Truth], kind: str, year: int, month: int) -> dict[str, Any]:
    """The report's figures for one period, computed the plain way."""
    start, end = bounds(kind, year, month)
    last_day = (end - timedelta(days=1)).date().isoformat()
    cases = list(truth.values())
    found = [c for c in cases if start <= c.created < end]
    resolved = [c for c in cases if any(s == "resolved" and start <= w < end for w, s in c.changes)]
    done_by_end = [c for c in found if c.status_at(end) in DONE]
    hazards = [c for c in found if c.category == "hazard"]
    overdue = [
        c
        for c in cases
        if c.created < end
        and c.deadline
        and c.deadline < end.date().isoformat()
        and c.status_at(end) not in DONE
    ]
    due = [f for c in cases for f in c.followups if start.date().isoformat() <= f[0] <= last_day]
    repeat = {c.id for c in found if "repeat_calls" in c.flags}
    reopened = {c.id for c in cases if any(start <= w < end for w in c.reopens)}
    repeat_disputes, repeat_persons = repeat_truth(
        {c.id: (c.created, c.parties) for c in cases}, start, end, BEIJING
    )
    figures: dict[str, Any] = {
        "found": len(found),
        "resolved": len(resolved),
        "found_resolved": len(done_by_end),
        "resolution_rate": half_up(len(done_by_end), len(found)) if found else None,
        "hazards_found": len(hazards),
        "hazards_fixed": sum(c.status_at(end) in DONE for c in hazards),
        "overdue_at_end": len(overdue),
        "followups_due": len(due),
        "followups_done": sum(1 for f in due if f[1]),
        "repeat_calls": len(repeat),
        "reopened": len(reopened),
        "repeat_incidents": len(repeat | reopened),
        "repeat_disputes": len(repeat_disputes),
        "repeat_persons": len(repeat_persons),
    }
    for dimension in ("category", "risk", "village", "officer"):
        groups: dict[str, dict[str, int]] = defaultdict(lambda: {"found": 0, "resolved": 0})
        for measure, chosen in (("found", found), ("resolved", resolved)):
            for c in chosen:
                key = (c.assignee or c.creator) if dimension == "officer" else getattr(c, dimension)
                groups[key][measure] += 1
        figures[f"by_{dimension}"] = dict(groups)
    return figures


# ---------------------------------------------------------------- two years of a station


@dataclass
class Station:
    """The stores the shifts left, and what the test knows of them."""

    root: Path
    authority: Path
    officers: dict[str, str]  # device id -> officer name, every device
    truth: dict[str, Truth]
    state_hashes: set[str]


def _own(service: CaseService, case: dict[str, Any]) -> bool:
    me = service.identity.device_id
    return case["assignee"] == me or (case["assignee"] is None and case["created_by"] == me)


def _live(service: CaseService) -> list[dict[str, Any]]:
    """The device's cases as its view holds them (no history: cheaper than `cases()`)."""
    return [c for c in service.replica.view("cases").values() if c["exists"]]


#: Fake people who come back: one of them is a party to about one intake in seven (drawn from
#: their own random stream, so the rest of the station is what it was without them), their
#: mobile written in several ways: what the report's repeat disputes count.
REGULARS = (
    ({"name": "常某", "phone": "13900007001"}, {"name": "常某", "phone": "139-0000-7001"}),
    ({"name": "闫某某", "phone": "+86 139 0000 7002"}, {"name": "闫某某", "phone": "13900007002"}),
    ({"name": "鲁某", "phone": "0086 13900007003"},),
)


def _officer_action(service: CaseService, day: date, rng: random.Random, regulars: random.Random) -> None:
    """One piece of an officer's shift: an intake, or work on one of their own cases.

    Officers mostly carry their active cases forward (visit, mediate, resolve), so the
    figures look like a station's: most disputes resolved within weeks, some referred,
    escalated, left overdue, or flaring up again after a settlement.
    """
    mine = [c for c in _live(service) if _own(service, c)]
    active = [c for c in mine if c["status"] not in DONE]
    if not mine or rng.random() < (0.6 if len(active) < 3 else 0.15):
        flags = rng.sample(
            ["repeat_calls", "petition_threat", "violence_risk"], rng.choice([0, 0, 0, 0, 1, 1, 2])
        )
        deadline = (day + timedelta(days=rng.randint(5, 45))).isoformat() if rng.random() < 0.7 else None
        parties = [{"name": fake_name(rng), "phone": fake_phone(rng), "role": "party"} for _ in range(2)]
        if regulars.random() < 1 / 7:
            parties[0] = regulars.choice(regulars.choice(REGULARS)) | {"role": "party"}
        service.new_case(
            village=rng.choice(VILLAGES[:5])[0],
            category=rng.choice(["land", "homestead", "irrigation", "family", "debt", "neighbor", "hazard"]),
            risk=rng.choice(["red", "orange", "yellow", "yellow"]),
            summary="，".join(rng.sample(SUMMARY_PARTS, 2)) + "。",
            parties=parties,
            source=rng.choice(["patrol", "grid_report", "call_110", "villagers_meeting"]),
            flags=flags,
            deadline=deadline,
        )
        return
    case = rng.choice(active if active and rng.random() < 0.8 else mine)
    status, cid, roll = case["status"], case["id"], rng.random()
    agreement = {"kind": "agreement", "terms": f"{fake_name(rng)}赔偿{rng.randint(1, 30) * 1000}元"}
    try:
        if status not in DONE and (not case["visits"] or roll < 0.25):
            kind = rng.choice(["home", "phone", "mediation", "field"])
            service.add_visit(cid, kind, "上门了解情况，双方情绪平稳", place="村委会", participants="网格员")
        elif status == "open" and roll < 0.45:
            service.update(cid, status="in_progress", reason="开始调解")
        elif status in ("open", "in_progress") and roll < 0.5:
            service.update(cid, status="escalated", tier=2, reason="调解难度大，提请联合调解")
        elif status in ("open", "in_progress") and roll < 0.55:
            referral = {"department": "司法所", "notified": "提示函"}
            service.update(cid, status="referred", reason="涉及土地确权", referral=referral)
        elif status == "referred":
            service.update(cid, status="closed", reason="移交司法所处理完毕")
        elif status not in DONE:
            service.update(cid, status="resolved", reason="调解成功", outcome=agreement)
        elif status == "resolved" and roll < 0.6:
            service.add_visit(cid, "follow_up", "回访：双方履行协议，无反弹")
        elif status == "resolved" and roll < 0.7:
            service.reopen(cid, "再次因界桩发生口角")
        elif status == "resolved" and case["risk"] != "red":
            service.update(cid, status="closed", reason="协议履行完毕")
        elif status == "closed" and roll < 0.05:
            service.reopen(cid, "矛盾反弹，再次报警")
    except CaseError:
        pass  # a refusal records nothing; the shift goes on


def _supervisor_action(authority: CaseService, officers: list[str], day: date, rng: random.Random) -> None:
    """The supervisor's evening review: approve, close, assign, set a deadline, reassess."""
    cases = _live(authority)
    pending = [c for c in cases if c["status"] == "escalated" and not c["escalation_approved"]]
    settled_red = [c for c in cases if c["status"] == "resolved" and c["risk"] == "red"]
    active = [c for c in cases if c["status"] not in DONE]
    roll = rng.random()
    if pending and roll < 0.3:
        authority.approve_escalation(rng.choice(pending)["id"])
    elif settled_red and roll < 0.4:
        authority.update(rng.choice(settled_red)["id"], status="closed", reason="所长审核结案")
    elif not active:
        return
    elif roll < 0.7:
        authority.update(rng.choice(active)["id"], assign=rng.choice(officers))
    elif roll < 0.85:
        deadline = (day + timedelta(days=rng.randint(7, 30))).isoformat()
        authority.update(rng.choice(active)["id"], fields={"deadline": deadline})
    elif roll < 0.95:
        authority.update(rng.choice(active)["id"], fields={"risk": rng.choice(["red", "orange", "yellow"])})
    else:
        authority.update(
            rng.choice(active)["id"], fields={"category": rng.choice(["wages", "housing", "hazard"])}
        )


def build_station(root: Path, seed: int = 20250301) -> Station:
    """Two years (2024-2025) of shifts by three officers; the supervisor reviews each evening."""
    rng, regulars = random.Random(seed), random.Random(seed + 1)
    wall = ManualWall()
    wall.now = at(2024, 1, 2, 8)
    with station_devices(root, 3, wall=wall) as services:
        authority, officers = services[0], services[1:]
        ids = [o.identity.device_id for o in officers]
        day = date(2024, 1, 2)
        while day < date(2025, 12, 28):
            for officer in officers:
                exchange(officer, authority)
            for officer in officers:
                for _ in range(rng.choice([1, 2, 3, 4])):
                    # Mostly daytime; some just after midnight or just before: the local
                    # date differs from the UTC date there (00:30 Beijing is 16:30 UTC).
                    hour, minute = rng.choice([(9, 0), (11, 30), (15, 0), (17, 45), (0, 30), (23, 40)])
                    moment = at(day.year, day.month, day.day, hour, minute) + rng.randrange(600_000)
                    wall.now = max(wall.now + 1, moment)
                    _officer_action(officer, day, rng, regulars)
            for officer in officers:
                exchange(officer, authority)
            if rng.random() < 0.6:
                wall.now = max(wall.now + 1, at(day.year, day.month, day.day, 20))
                _supervisor_action(authority, ids, day, rng)
            day += timedelta(days=rng.randint(3, 7))
        converge(services)
        hashes = {s.state_hash() for s in services}
        names = {s.identity.device_id: s.officer for s in services}
        truth = truth_from_export(authority.export_ops(plaintext=True))
        for case in authority.cases():
            assert not case.get("refused"), case["refused"]  # the simple pass assumes none
    return Station(root, root / "authority", names, truth, hashes)


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Station:
    return build_station(tmp_path_factory.mktemp("station"))


@pytest.fixture
def authority(station: Station) -> Iterator[CaseService]:
    service = CaseService.open(station.authority, PASSPHRASE)
    try:
        yield service
    finally:
        service.close()


def fieldapp(*args: str | Path, tz: str = TZ_ENV) -> subprocess.CompletedProcess[str]:
    """Run `python -m fieldapp ARGS` with the passphrase in the environment, Beijing time."""
    return run_cli(*args, env={"TZ": tz}, without=("LC_ALL", "LANG"))


def ok_json(*args: str | Path) -> Any:
    result = fieldapp(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------- the data is what it claims


def test_the_station_data_is_two_years_of_varied_converged_work(station: Station) -> None:
    truth = station.truth
    assert len(station.state_hashes) == 1  # every device ended with the same view
    years = {c.created.astimezone(BEIJING).year for c in truth.values()}
    assert years == {2024, 2025}
    assert len(truth) >= 80
    statuses = {c.status for c in truth.values()}
    assert statuses >= {"open", "in_progress", "resolved", "closed", "referred"}
    assert any(c.reopens for c in truth.values())
    assert any(c.assignee and c.assignee != c.creator for c in truth.values())
    assert len({c.creator for c in truth.values()}) == 3
    assert any(c.category == "hazard" for c in truth.values())
    assert any("repeat_calls" in c.flags for c in truth.values())
    assert any(f[1] for c in truth.values() for f in c.followups)
    # Some cases sit where the local (Beijing) date is not the UTC date.
    assert any(c.created.astimezone(BEIJING).date() != c.created.date() for c in truth.values())


# ---------------------------------------------------------------- the dashboard

OPEN = ("open", "in_progress", "escalated", "referred")


def test_dashboard_figures_match_an_independent_pass_over_the_operations(
    station: Station, authority: CaseService
) -> None:
    truth = list(station.truth.values())
    today = date(2025, 12, 20)  # inside the data: this month and quarter have work
    now = datetime(2025, 12, 20, 23, 59, tzinfo=BEIJING)
    # The view is now (after all the data), so "today" figures use the final state; the
    # period figures use the history up to `now`.
    board = build_dashboard(authority.cases(), today=today, tz=BEIJING, now=now)
    open_ = [c for c in truth if c.status in OPEN]
    assert board.total == len(truth)
    for risk in ("red", "orange", "yellow"):
        assert set(board.open_by_risk[risk]) == {c.id for c in open_ if c.risk == risk}, risk
    for status in OPEN:
        assert set(board.open_by_status[status]) == {c.id for c in open_ if c.status == status}, status
    iso = today.isoformat()
    assert set(board.overdue) == {c.id for c in open_ if c.deadline and c.deadline < iso}
    assert set(board.followups_due) == {
        c.id
        for c in truth
        if c.status != "closed" and any(not done and due <= iso for due, done in c.followups)
    }
    assert set(board.unassigned) == {c.id for c in open_ if c.assignee is None}
    assert set(board.unclaimed) == {c.id for c in open_ if c.assignee and c.claimed_by != c.assignee}
    villages: dict[str, set[str]] = defaultdict(set)
    officers: dict[str, set[str]] = defaultdict(set)
    for c in open_:
        villages[c.village].add(c.id)
        officers[c.assignee or c.creator].add(c.id)
    assert {k: set(v) for k, v in board.by_village.items()} == villages
    assert {k: set(v) for k, v in board.by_officer.items()} == officers
    # Weekly intake: Monday-to-Sunday weeks in Beijing time, the last 12 up to today.
    monday = today - timedelta(days=today.weekday())
    assert board.weeks == [monday - timedelta(weeks=11 - i) for i in range(12)]
    for index, first in enumerate(board.weeks):
        for category, weekly in board.weekly_intake.items():
            want = {
                c.id
                for c in truth
                if c.category == category
                and first <= c.created.astimezone(BEIJING).date() < first + timedelta(7)
                and c.created.astimezone(BEIJING).date() <= today
            }
            assert set(weekly[index]) == want, (first, category)
    assert sum(len(w) for weekly in board.weekly_intake.values() for w in weekly) > 0
    # The month and quarter: the cases behind each figure, and the rate over twelve months.
    for kind, (period, figures, behind) in board.periods.items():
        start, end = bounds(kind, today.year, today.month)
        assert period.kind == kind and period.start(BEIJING) == start
        found = {c.id for c in truth if start <= c.created < end}
        assert set(behind["found"]) == found, kind
        assert set(behind["resolved"]) == {
            c.id for c in truth if any(s == "resolved" and start <= w < end for w, s in c.changes)
        }, kind
        assert set(behind["found_resolved"]) == {c for c in found if station.truth[c].status_at(end) in DONE}
        assert figures["found"] == len(found) > 0
    assert len(board.monthly_rate) == 12
    for first, rate, found_count, done in board.monthly_rate:
        want = expected(station.truth, "month", first.year, first.month)
        assert (rate, found_count, done) == (want["resolution_rate"], want["found"], want["found_resolved"])
        start, end = bounds("month", first.year, first.month)
        assert set(board.monthly_found[first]) == {c.id for c in truth if start <= c.created < end}


def test_facts_from_the_status_log_equal_the_facts_from_the_history(authority: CaseService) -> None:
    """What dashboards read (the view's status log) says what the history says, for every case."""
    view = authority.replica.view("cases")
    cases = authority.cases()
    assert sum(1 for c in cases if len(reports.case_facts(c).statuses) > 2) > 10
    for case in cases:
        assert reports.state_facts(view[case["id"]]) == reports.case_facts(case), case["id"]
    states = [s for s in view.values() if s["exists"]]
    today, now = date(2025, 12, 20), datetime(2025, 12, 20, 23, 59, tzinfo=BEIJING)
    from_states = build_dashboard(states, today=today, tz=BEIJING, now=now, facts_of=reports.state_facts)
    assert from_states == build_dashboard(cases, today=today, tz=BEIJING, now=now)
    period = reports.period_of("quarter", "2025-05")
    names = officer_names(authority)
    index = authority.person_index()
    by_state = reports.build_report(
        states, period, names, BEIJING, NOW, facts_of=reports.state_facts, persons=index
    )
    assert by_state == reports.build_report(cases, period, names, BEIJING, NOW, persons=index)


# ---------------------------------------------------------------- the report


PERIODS = [("month", 2025, m) for m in range(1, 13)] + [("quarter", 2025, m) for m in (2, 5, 8, 11)]
PERIODS += [("half", 2025, 3), ("half", 2025, 12)]


@pytest.mark.timeout(300)
def test_report_figures_match_an_independent_pass_over_the_operations(
    station: Station, authority: CaseService
) -> None:
    cases = authority.cases()
    names = officer_names(authority)
    index = authority.person_index()
    nonzero = set()
    for kind, year, month in PERIODS:
        period = reports.period_of(kind, f"{year}-{month:02d}")
        report = reports.build_report(cases, period, names, tz=BEIJING, now=NOW, persons=index)
        want_now = expected(station.truth, kind, year, month)
        want_then = expected(station.truth, kind, year - 1, month)
        assert report["current"] == want_now, (kind, year, month)
        assert report["previous"] == want_then, (kind, year - 1, month)
        assert report["previous_period"]["first_day"] == bounds(kind, year - 1, month)[0].date().isoformat()
        assert report["timezone"] == "+08:00"
        for name in reports.FIGURES:
            change = report["change"][name]
            a, b = want_now[name], want_then[name]
            if a is None or b is None:
                assert change["diff"] is None
            else:
                assert change["diff"] == (a - b if name != "resolution_rate" else round(a - b, 1))
            if name != "resolution_rate" and a is not None and b:
                assert change["pct"] == half_up(a - b, b)
            nonzero |= {name for name in reports.FIGURES if want_now[name] and want_then[name]}
        assert all(report["officers"][d] == station.officers[d] for d in report["officers"])
    # The data exercises every figure in both columns somewhere (else the check proves little).
    assert nonzero >= set(reports.FIGURES) - {"reopened", "repeat_incidents", "hazards_fixed"}


def test_period_membership_uses_local_time_and_last_year_sits_beside(tmp_path: Path) -> None:
    """Hand-placed cases at midnight edges: Beijing's month, not UTC's, decides."""
    wall = ManualWall()
    wall.now = at(2024, 3, 10, 9)
    with station_devices(tmp_path, 1, wall=wall) as (_authority, officer):
        new = {"village": "测试村", "category": "land", "risk": "orange", "summary": "田界纠纷"}
        old = officer.new_case(**new)["id"]  # 2024-03-10: last year's March
        wall.now = at(2024, 3, 12, 9)
        officer.add_visit(old, "home", "上门")
        wall.now = at(2024, 3, 20, 9)
        officer.update(old, status="resolved", outcome={"kind": "withdrawn"})
        wall.now = at(2025, 2, 28, 23, 30)  # February in Beijing and in UTC
        feb = officer.new_case(**new, deadline="2025-03-31")["id"]  # never resolved
        wall.now = at(2025, 3, 1, 0, 30)  # March in Beijing, still 28 February in UTC
        edge = officer.new_case(**new | {"category": "hazard", "flags": ["repeat_calls"]})["id"]
        officer.add_visit(edge, "field", "现场查看")
        wall.now = at(2025, 3, 5, 10)
        due_april = officer.new_case(**new, deadline="2025-04-01")["id"]  # due on April's first day
        wall.now = at(2025, 4, 1, 0, 0)  # exactly April's first instant in Beijing; 31 March in UTC
        officer.update(edge, status="resolved", outcome={"kind": "agreement", "terms": "当场整改"})
        cases = officer.cases()
    assert {c["id"] for c in cases} == {old, feb, edge, due_april}
    march = reports.period_of("month", "2025-03")
    local = reports.build_report(cases, march, tz=BEIJING, now=NOW)["current"]
    assert (local["found"], local["resolved"], local["found_resolved"]) == (2, 0, 0)
    assert local["resolution_rate"] == 0.0
    assert (local["hazards_found"], local["hazards_fixed"]) == (1, 0)
    assert local["repeat_calls"] == local["repeat_incidents"] == 1
    assert local["overdue_at_end"] == 1  # feb (due 31 March); due_april is not late yet
    report = reports.build_report(cases, march, tz=BEIJING, now=NOW)
    assert report["previous"]["found"] == report["previous"]["resolved"] == 1
    assert report["previous"]["resolution_rate"] == 100.0
    assert report["change"]["found"] == {"diff": 1, "pct": 100.0}
    assert report["change"]["resolution_rate"] == {"diff": -100.0, "pct": None}
    april = reports.build_report(cases, reports.period_of("month", "2025-04"), tz=BEIJING, now=NOW)
    assert (april["current"]["resolved"], april["current"]["found"]) == (1, 0)
    assert april["current"]["overdue_at_end"] == 2
    # Follow-ups fall due +7/+30/+90 days from the resolution's station date (1 April, China
    # time; still 31 March in UTC): 8 April, 1 May, 30 June, so April holds one.
    assert (april["current"]["followups_due"], april["current"]["followups_done"]) == (1, 0)
    edge_case = next(c for c in cases if c["id"] == edge)
    assert [f["due"] for f in edge_case["followups"]] == ["2025-04-08", "2025-05-01", "2025-06-30"]
    assert reports.build_report(cases, march, tz=BEIJING, now=NOW)["current"]["followups_due"] == 0
    quarter = reports.build_report(cases, reports.period_of("quarter", "2025-02"), tz=BEIJING, now=NOW)
    assert quarter["current"]["found"] == 3
    assert quarter["current"]["hazards_fixed"] == 0  # fixed at the first instant after the quarter
    half = reports.build_report(cases, reports.period_of("half", "2025-06"), tz=BEIJING, now=NOW)["current"]
    assert (half["found"], half["found_resolved"], half["hazards_fixed"], half["followups_due"]) == (
        3,
        1,
        1,
        3,
    )
    # The same cases read in UTC: the edge case moves to February, its resolution to March.
    utc = reports.build_report(cases, march, tz=UTC, now=NOW)["current"]
    assert (utc["found"], utc["resolved"]) == (1, 1)


def test_period_of_and_its_refusals() -> None:
    assert reports.period_of("quarter", "2025-05").code == "2025-Q2"
    assert reports.period_of("half", "2025-07").code == "2025-H2"
    q4 = reports.period_of("quarter", "2025-12")
    assert (q4.first_day, q4.last_day, q4.end_day) == (
        date(2025, 10, 1),
        date(2025, 12, 31),
        date(2026, 1, 1),
    )
    assert q4.last_year().code == "2024-Q4"
    assert q4.label("zh") == "2025年第4季度" and q4.label("en") == "Q4 2025"
    assert reports.period_of("half", "2025-01").label("zh") == "2025年上半年"
    assert reports.period_of("month", None, today=date(2026, 2, 3)).code == "2026-02"
    for bad in ("2025-13", "2025-00", "2025/03", "2025-3", "25-03", "March"):
        with pytest.raises(reports.ReportError, match="YYYY-MM"):
            reports.period_of("month", bad)
    with pytest.raises(reports.ReportError, match="month, quarter, half"):
        reports.period_of("week", "2025-03")


# ---------------------------------------------------------------- the command line


@pytest.mark.timeout(240)
def test_report_command_text_json_and_files(station: Station, tmp_path: Path) -> None:
    store = station.authority
    shown = ok_json("report", "--store", store, "--period", "quarter", "--of", "2025-05")
    assert shown["current"] == expected(station.truth, "quarter", 2025, 5)
    assert shown["previous"] == expected(station.truth, "quarter", 2024, 5)
    assert shown["period"]["code"] == "2025-Q2" and shown["timezone"] == "+08:00"

    text = fieldapp("report", "--store", store, "--period", "half", "--of", "2025-03", "--lang", "zh")
    assert text.returncode == 0, text.stderr
    want = expected(station.truth, "half", 2025, 3)
    assert "2025年上半年" in text.stdout and "去年同期（2024年上半年）" in text.stdout
    rate_line = next(line for line in text.stdout.splitlines() if line.strip().startswith("化解率 "))
    assert f"{want['resolution_rate']:.1f}%" in rate_line
    found_line = next(line for line in text.stdout.splitlines() if line.strip().startswith("排查发现纠纷"))
    assert found_line.split()[1:3] == [
        str(want["found"]),
        str(expected(station.truth, "half", 2024, 3)["found"]),
    ]
    assert "化解率 = 本期发现且在期末前已化解或结案的纠纷数 ÷ 本期发现纠纷数" in text.stdout

    english = fieldapp("report", "--store", store, "--of", "2025-03", "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert "Dispute work report: 2025-03" in english.stdout and "Resolution rate" in english.stdout

    out = tmp_path / "report.xlsx"
    written = ok_json(
        "report", "--store", store, "--of", "2025-03", "--format", "xlsx", "--out", out, "--lang", "zh"
    )
    assert written["out"] == str(out)
    sheet = openpyxl.load_workbook(out)["报表"]  # the sheet named in the report's language
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    rows = {(r[0], r[1]): r[2:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    month = expected(station.truth, "month", 2025, 3)
    assert rows[("总体情况", "排查发现纠纷")][:2] == (
        month["found"],
        expected(station.truth, "month", 2024, 3)["found"],
    )
    for key, counts in month["by_village"].items():
        if counts["found"]:
            assert rows[("发现纠纷：按村（社区）", key)][0] == counts["found"]

    out_csv = tmp_path / "report.csv"
    assert (
        fieldapp(
            "report", "--store", store, "--of", "2025-03", "--format", "csv", "--out", out_csv
        ).returncode
        == 0
    )
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert lines[0][:2] == ["分组", "项目"]  # no --lang: the language this device last chose (zh)
    again = fieldapp("report", "--store", store, "--of", "2025-03", "--format", "csv", "--out", out_csv)
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr


@pytest.mark.timeout(120)
def test_bad_period_or_month_is_a_clear_error(station: Station) -> None:
    for args, words in (
        (("--of", "2025-13"), "--of takes a month written YYYY-MM"),
        (("--of", "2025/03"), "--of takes a month written YYYY-MM"),
        (("--period", "week"), "--period must be one of: month, quarter, half"),
        (("--format", "csv"), "--format and --out go together"),
    ):
        result = fieldapp("report", "--store", station.authority, *args)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith("fieldapp: ") and words in result.stderr
    as_json = fieldapp("report", "--store", station.authority, "--period", "fortnight", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr)["error"] == "report_error"


def independent_filter(truth: dict[str, Truth], **wanted: Any) -> set[str]:
    """Ids of the cases the raw operations say match (local dates, Beijing)."""
    chosen = set()
    for c in truth.values():
        local_day = c.created.astimezone(BEIJING).date()
        if (
            all(
                getattr(c, k) == v
                for k, v in wanted.items()
                if k in ("village", "category", "risk", "status")
            )
            and ("officer" not in wanted or wanted["officer"] in (c.assignee, c.creator))
            and ("start" not in wanted or local_day >= wanted["start"])
            and ("end" not in wanted or local_day <= wanted["end"])
        ):
            chosen.add(c.id)
    return chosen


@pytest.mark.timeout(240)
def test_csv_export_holds_exactly_the_filtered_cases_with_chinese_intact(
    station: Station, tmp_path: Path
) -> None:
    village = VILLAGES[0][0]
    cases_csv, visits_csv = tmp_path / "案件.csv", tmp_path / "走访.csv"
    summary = ok_json(
        "export", "--store", station.authority, "--format", "csv",
        "--out", cases_csv, "--visits-out", visits_csv, "--village", village,
        "--from", "2024-03-01", "--to", "2025-06-30", "--lang", "zh",
    )  # fmt: skip
    want = independent_filter(station.truth, village=village, start=date(2024, 3, 1), end=date(2025, 6, 30))
    assert len(want) >= 3
    raw = cases_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and visits_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    with cases_csv.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["案件编号"] for r in rows} == want and len(rows) == len(want)
    assert summary["cases"] == len(want) and summary["lang"] == "zh"
    names = {
        "land": "土地田界",
        "homestead": "宅基地",
        "irrigation": "浇水灌溉",
        "family": "家庭",
        "debt": "经济债务",
    }
    names |= {"neighbor": "邻里", "hazard": "安全隐患", "wages": "务工工资", "housing": "房屋"}
    for row in rows:
        case = station.truth[row["案件编号"]]
        assert row["村（社区）"] == village
        assert row["纠纷类别"] == names[case.category]
        assert row["风险等级"] == {"red": "红", "orange": "橙", "yellow": "黄"}[case.risk]
        assert int(row["走访次数"]) == case.visits
        assert row["登记人"] == station.officers[case.creator]
        assert row["承办民警"] == (station.officers[case.assignee] if case.assignee else "")
        assert row["登记时间"] == case.created.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        assert len(row["当事人"].split("；")) == 2  # two invented parties, apart by "；"
    with visits_csv.open(encoding="utf-8-sig", newline="") as fh:
        visits = list(csv.DictReader(fh))
    assert len(visits) == summary["visits"] == sum(station.truth[i].visits for i in want)
    assert {v["案件编号"] for v in visits} <= want
    assert all(v["走访民警"] in station.officers.values() for v in visits)

    before = cases_csv.read_bytes()
    refused = fieldapp(
        "export", "--store", station.authority, "--format", "csv", "--out", cases_csv, "--risk", "red"
    )
    assert refused.returncode == 1 and refused.stdout == ""
    assert "already exists" in refused.stderr and "--force" in refused.stderr
    assert cases_csv.read_bytes() == before
    forced = ok_json(
        "export", "--store", station.authority, "--format", "csv", "--out", cases_csv,
        "--risk", "red", "--force", "--lang", "en",
    )  # fmt: skip
    with cases_csv.open(encoding="utf-8-sig", newline="") as fh:
        red = list(csv.DictReader(fh))
    assert {r["Case id"] for r in red} == independent_filter(station.truth, risk="red") and forced[
        "cases"
    ] == len(red)
    assert {r["Risk"] for r in red} == {"Red"}
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.timeout(240)
def test_xlsx_and_json_exports(station: Station, tmp_path: Path) -> None:
    officer = next(d for d, name in station.officers.items() if name == "测试辅警1")
    book = tmp_path / "cases.xlsx"
    summary = ok_json(
        "export",
        "--store",
        station.authority,
        "--format",
        "xlsx",
        "--out",
        book,
        "--officer",
        officer,
        "--lang",
        "zh",
    )
    want = independent_filter(station.truth, officer=officer)
    assert want and summary["cases"] == len(want)
    workbook = openpyxl.load_workbook(book)
    # Named in the export's language; the persons sheet: this is the supervisor's device.
    assert workbook.sheetnames == ["案件", "走访", "当事人", "人员"]
    people = {party_key(i, p) for i in want for p in station.truth[i].parties}
    assert workbook["人员"].max_row - 1 == summary["persons"] == len(people) > len(want)
    cases, visits = workbook["案件"], workbook["走访"]
    for sheet in (cases, visits):
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
        assert all(4 <= sheet.column_dimensions[c.column_letter].width <= 62 for c in sheet[1])
    header = [c.value for c in cases[1]]
    assert header[:3] == ["案件编号", "村（社区）", "纠纷类别"]
    rows = [dict(zip(header, r, strict=True)) for r in cases.iter_rows(min_row=2, values_only=True)]
    assert {r["案件编号"] for r in rows} == want
    assert all(r["村（社区）"] in {v for v, _ in VILLAGES} for r in rows)
    assert all(isinstance(r["登记时间"], datetime) for r in rows)
    assert visits.max_row - 1 == summary["visits"] == sum(station.truth[i].visits for i in want)

    resolved_hazards = independent_filter(station.truth, category="hazard", status="resolved")
    as_json = tmp_path / "hazards.json"
    ok_json(
        "export", "--store", station.authority, "--format", "json", "--out", as_json,
        "--category", "hazard", "--status", "resolved",
    )  # fmt: skip
    exported = json.loads(as_json.read_text(encoding="utf-8"))
    assert {c["id"] for c in exported} == resolved_hazards and len(exported) == len(resolved_hazards)
    assert resolved_hazards
    for case in exported[:4]:
        assert case == ok_json("case", "show", case["id"], "--store", station.authority)

    wrong = fieldapp("export", "--store", station.authority, "--format", "xlsx", "--out", tmp_path / "x.xlsx",
                     "--visits-out", tmp_path / "v.csv")  # fmt: skip
    assert wrong.returncode == 1 and "--visits-out is for --format csv only" in wrong.stderr
    bad_date = fieldapp(
        "export", "--store", station.authority, "--format", "csv",
        "--out", tmp_path / "y.csv", "--from", "2025-02-30",
    )  # fmt: skip
    assert bad_date.returncode == 1 and "--from takes a date like" in bad_date.stderr
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "y.csv").exists()


def test_export_filters_in_process_agree_with_the_operations(
    station: Station, authority: CaseService
) -> None:
    """Every single filter, in process (no subprocess): ids against the independent filter."""
    cases = authority.cases()
    for kwargs, wanted in (
        ({"status": "closed"}, {"status": "closed"}),
        ({"category": "hazard"}, {"category": "hazard"}),
        ({"village": VILLAGES[1][0]}, {"village": VILLAGES[1][0]}),
        ({"created_from": date(2025, 3, 1), "created_to": date(2025, 3, 31)},
         {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}),
    ):  # fmt: skip
        chosen = filter_cases(cases, CaseFilter(**kwargs), tz=BEIJING)
        assert {c["id"] for c in chosen} == independent_filter(station.truth, **wanted), kwargs
    # Both ends are included, and they are local dates: a case recorded at 00:30 in Beijing
    # is found by its Beijing date, not by the UTC date (the day before).
    edge = next(c for c in station.truth.values() if c.created.astimezone(BEIJING).date() != c.created.date())
    day = edge.created.astimezone(BEIJING).date()
    same_day = filter_cases(cases, CaseFilter(created_from=day, created_to=day), tz=BEIJING)
    assert edge.id in {c["id"] for c in same_day}
    assert {c["id"] for c in same_day} == independent_filter(station.truth, start=day, end=day)
    overdue_day = date(2025, 6, 1)
    overdue = filter_cases(cases, CaseFilter(overdue=True, today=overdue_day))
    want = {
        c.id
        for c in station.truth.values()
        if c.deadline and c.deadline < "2025-06-01" and c.status not in DONE
    }
    assert {c["id"] for c in overdue} == want
    result = build_export(cases[:3], "json", "en", officer_names(authority), Path("x.json"))
    assert json.loads(result.files["x.json"]) == cases[:3]
