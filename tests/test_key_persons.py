"""Key persons as the supervisor lists them (issue 17 item 4, `fieldapp.outputs.key_persons`):
flagged, or two or more disputes in the last 12 months, checked against a count made here from
the cases as recorded. Fake people only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from fieldapp.domain.persons import person_id_for
from fieldapp.outputs.key_persons import is_recent, key_person_counts, key_persons
from harness.replicas import ManualWall, converge, station_devices

BEIJING = timezone(timedelta(hours=8))
DAY_MS = 86_400_000


def test_a_dispute_of_the_last_12_months_is_counted_on_its_local_date() -> None:
    today = date(2026, 3, 16)  # today minus 365 days is 2025-03-16
    # 16:00 UTC on 15 March is midnight on 16 March in Beijing: within, though its UTC date is not.
    assert is_recent("2025-03-15T16:00:00+00:00", today, BEIJING)
    assert not is_recent("2025-03-15T15:59:59+00:00", today, BEIJING)
    assert not is_recent("2025-03-15T16:00:00+00:00", today, UTC)
    assert is_recent("2026-03-17T01:00:00+00:00", today, BEIJING)  # a clock ahead: still counted
    assert not is_recent("", today, BEIJING)


def party(name: str, phone: str = "") -> dict[str, str]:
    return {"name": name, "phone": phone, "role": "party"}


def intake(svc: CaseService, village: str, risk: str, *parties: dict[str, str]) -> str:
    return str(svc.new_case(village, "neighbor", risk, "邻里纠纷测试记录", list(parties))["id"])


@pytest.mark.timeout(120)
def test_key_persons_are_the_flagged_and_the_repeat_as_counted_by_hand(tmp_path: Path) -> None:
    wall = ManualWall()
    start = wall.now - 400 * DAY_MS
    wall.now = start

    def at(days_ago: int) -> None:  # the wall at noon (Beijing) that many days before the end
        wall.now = start + (400 - days_ago) * DAY_MS

    with station_devices(tmp_path, 2, wall=wall) as station:
        boss, first, second = station
        at(399)
        old = intake(first, "东岭村", "red", party("测试甲", "13800001111"))  # more than a year ago
        at(200)
        first_recent = intake(first, "东岭村", "yellow", party("测试甲", "138-0000-1111"))
        at(30)
        second_recent = intake(second, "西河村", "orange", party("测试甲", "+86 138 0000 1111"))
        second.add_visit(second_recent, "home", "上门走访，了解情况")
        at(20)
        lone = intake(first, "南坡村", "yellow", party("测试乙", "13900002222"))  # one dispute only
        at(10)
        # Two parties without a mobile, in two cases: two persons until an officer links them.
        named_a = intake(first, "北塘村", "orange", party("测试丙"))
        named_b = intake(second, "北塘村", "yellow", party("测试丙"))
        named_elsewhere = intake(second, "青石社区", "red", party("测试丙"))  # same name, never linked
        intake(first, "东岭村", "yellow", party("测试丁", "13700003333"))
        converge(station)
        at(0)
        pa, pb = (person_id_for(f"party:{case_id}:测试丙") for case_id in (named_a, named_b))
        first.link_persons(pa, pb)
        lone_id = person_id_for("mobile:13900002222")
        due = (datetime.fromtimestamp(wall.now / 1000, BEIJING).date() - timedelta(days=1)).isoformat()
        converge(station)
        boss.mark_key_person(lone_id, "每周走访一次", officer=second.identity.device_id, due=due)
        converge(station)
        today = datetime.fromtimestamp(wall.now / 1000, BEIJING).date()
        cases: dict[str, Any] = boss.cases_view()
        rows = key_persons(boss.person_index(), cases, today, BEIJING)

        # The count by hand: per mobile (digits only) and per linked pair, the cases created on or
        # after today - 365 days (Beijing dates), from the case documents as recorded.
        since = today - timedelta(days=365)

        def recent(case_id: str) -> bool:
            created = datetime.fromisoformat(cases[case_id]["created_at"]).astimezone(BEIJING).date()
            return created >= since

        by_person: dict[str, set[str]] = {}
        for case_id, case in cases.items():
            for p in case["parties"]:
                digits = "".join(ch for ch in p["phone"] if ch.isdigit())[-11:]
                if digits:
                    by_person.setdefault(person_id_for(f"mobile:{digits}"), set()).add(case_id)
        linked = boss.person_index().resolve(pa)  # the id the two are shown under
        assert linked in (pa, pb) and boss.person_index().resolve(pb) == linked
        by_person[linked] = {named_a, named_b}
        counted = {pid: sum(map(recent, ids)) for pid, ids in by_person.items()}
        expected = {pid: n for pid, n in counted.items() if n >= 2} | {lone_id: counted[lone_id]}
        assert {row.id: row.recent for row in rows} == expected
        assert counted[person_id_for("mobile:13800001111")] == 2  # the old case is out
        assert counted[person_id_for("mobile:13700003333")] == 1  # listed nowhere
        assert named_elsewhere not in {row.case_id for row in rows}

        listed = {row.id: row for row in rows}
        flagged = listed[lone_id]
        assert rows[0] is flagged  # flagged with an overdue plan: first
        assert (flagged.flagged, flagged.overdue, flagged.due) == (True, True, due)
        assert flagged.officer == second.identity.device_id and flagged.case_id == lone
        assert not flagged.repeat and flagged.top_risk == "yellow"
        jia = listed[person_id_for("mobile:13800001111")]
        assert not jia.flagged and jia.repeat and jia.open_cases == 3
        assert jia.top_risk == "red" and jia.villages == ("东岭村", "西河村")
        assert jia.case_id == second_recent  # the newest open case
        assert jia.officer == second.identity.device_id  # no plan: the newest open case's officer
        assert jia.last_visit == today - timedelta(days=30)
        bing = listed[linked]
        assert bing.recent == 2 and bing.last_visit is None and bing.top_risk == "orange"
        # After the flagged one: by highest open risk.
        assert [row.id for row in rows] == [lone_id, jia.id, bing.id]
        assert key_person_counts(rows) == (3, 1)
        assert {first_recent, old} <= by_person[jia.id]


@pytest.mark.timeout(120)
def test_one_officer_is_responsible_on_every_screen_for_a_plan_naming_none(tmp_path: Path) -> None:
    """A supervisor's plan that names no officer is the supervisor's own (home lists it on the
    supervisor's device): the Persons tab's row, the person's JSON and `person show` say so, not
    the officer of the person's newest open case."""
    with station_devices(tmp_path, 1) as (boss, first):
        intake(first, "东岭村", "red", party("测试甲", "13800001111"))
        converge([boss, first])
        pid = person_id_for("mobile:13800001111")
        boss.mark_key_person(pid, "每周走访一次", None, None)
        converge([boss, first])
        for svc in (boss, first):
            person = svc.person_index().get(pid)
            assert person is not None and person.officer is None
            assert person.plan_by == boss.identity.device_id
            assert person.responsible() == boss.identity.device_id
            assert person.as_dict()["responsible"] == boss.identity.device_id
        (row,) = key_persons(first.person_index(), first.cases_view(), date.today())
        assert row.officer == boss.identity.device_id  # not the case's officer (first)
        # Without a plan, the newest open case's officer is.
        intake(first, "西河村", "yellow", party("测试乙", "13900002222"))
        other = first.person_index().get(person_id_for("mobile:13900002222"))
        assert other is not None and other.responsible() == first.identity.device_id
