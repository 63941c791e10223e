"""The supervisor's decisions through the service and the merge: assignment with a deadline,
settling conflicts, the review queue, and officers' crafted supervisor operations refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseError, CaseService, init_device
from fieldapp.core.station import adopt_enrolment, fork_rows, issue_certificate
from fieldapp.domain import cases as kinds
from fieldapp.domain.areas import AREA_SET
from fieldapp.domain.review import review_queue
from fieldapp.i18n.rules import refused_text
from fieldapp.outputs.dashboard import build_dashboard
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import converge, exchange, station_devices
from sync.merge import field_base

pytestmark = pytest.mark.timeout(120)


def intake(svc: CaseService, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "village": "测试村",
        "category": "irrigation",
        "risk": "yellow",
        "summary": "轮灌时间安排不均，上下游农户争抢浇水",
        "parties": [{"name": "测试甲", "phone": "13800000001", "role": "party"}],
    }
    fields.update(overrides)
    return str(svc.new_case(**fields)["id"])


@pytest.fixture
def station(tmp_path: Path):
    """The station authority (supervisor) and two officers, enrolled."""
    with station_devices(tmp_path, 2) as services:
        yield services


def conflicted(station: list[CaseService], field: str = "risk") -> tuple[str, list[Any]]:
    """A case on which both officers changed `field` without seeing each other's change."""
    boss, first, second = station
    case_id = intake(first)
    converge(station)
    if field == "risk":
        first.update(case_id, fields={"risk": "orange"})
        second.update(case_id, fields={"risk": "red"})
    else:
        first.update(case_id, fields={field: "东岭村"})
        second.update(case_id, fields={field: "西河村"})
    converge(station)
    case = boss.case(case_id)
    [conflict] = [c for c in case["conflicts"] if c["open"]]
    return case_id, conflict["values"]


def test_assignment_with_a_deadline_and_the_claim(station: list[CaseService]) -> None:
    boss, first, second = station
    case_id = intake(first)
    converge(station)  # the supervisor knows both officers' devices
    case = boss.assign(case_id, second.identity.device_id, deadline="2030-01-31")
    assert case["assignee"] == second.identity.device_id
    assert case["deadline"] == "2030-01-31"
    assert case["claimed_by"] is None
    assert case["history"][-1]["what"] == {"assignee": second.identity.device_id, "deadline": "2030-01-31"}
    exchange(boss, second)
    second.claim(case_id)
    exchange(second, boss)
    assert boss.case(case_id)["claimed_by"] == second.identity.device_id
    with pytest.raises(CaseError, match="No device 'nobody'"):
        boss.assign(case_id, "nobody")
    with pytest.raises(CaseError, match="only a supervisor may assign"):
        first.assign(case_id, first.identity.device_id)


def test_keeping_the_shown_value_settles_the_conflict_on_every_device(station: list[CaseService]) -> None:
    boss, first, second = station
    case_id, values = conflicted(station)
    shown = boss.case(case_id)["risk"]
    case = boss.settle_conflict(case_id, "risk")
    assert case["risk"] == shown
    assert not [c for c in case["conflicts"] if c["open"]]
    assert case["history"][-1]["kind"] == kinds.REVIEW
    converge(station)
    assert {s.state_hash() for s in station} == {boss.state_hash()}
    assert all(not [c for c in s.case(case_id)["conflicts"] if c["open"]] for s in station)
    # Both values stay on record, with who and when.
    [conflict] = boss.case(case_id)["conflicts"]
    assert {v["value"] for v in conflict["values"]} == {"orange", "red"}
    assert {v["author"] for v in conflict["values"]} == {first.identity.device_id, second.identity.device_id}


def test_choosing_the_other_value_writes_it_and_settles(station: list[CaseService]) -> None:
    boss = station[0]
    case_id, values = conflicted(station)
    shown = boss.case(case_id)["risk"]
    other = next(v["value"] for v in values if v["value"] != shown)
    case = boss.settle_conflict(case_id, "risk", other, keep=False)
    assert case["risk"] == other
    assert not [c for c in case["conflicts"] if c["open"]]
    converge(station)
    assert {s.case(case_id)["risk"] for s in station} == {other}


def test_a_written_value_settles_a_text_conflict(station: list[CaseService]) -> None:
    boss = station[0]
    case_id, _ = conflicted(station, "village")
    case = boss.settle_conflict(case_id, "village", "南坡村", keep=False)
    assert case["village"] == "南坡村" and not [c for c in case["conflicts"] if c["open"]]


def test_settling_needs_an_open_conflict_and_a_supervisor(station: list[CaseService]) -> None:
    boss, first, _ = station
    case_id, _ = conflicted(station)
    with pytest.raises(CaseError, match="only a supervisor may settle a conflict"):
        first.settle_conflict(case_id, "risk")
    with pytest.raises(CaseError, match="no open conflict on 'village'"):
        boss.settle_conflict(case_id, "village")
    boss.settle_conflict(case_id, "risk")
    with pytest.raises(CaseError, match="no open conflict"):
        boss.settle_conflict(case_id, "risk")


def test_a_review_that_does_not_name_the_shown_value_is_refused(station: list[CaseService]) -> None:
    boss, first, second = station
    case_id, values = conflicted(station)
    writer = field_base(boss.replica.view("cases")[case_id], "risk")
    stale = next(v["op"] for v in values if v["op"] != writer)
    crafted = boss.replica.make(kinds.REVIEW, case_id, {"field": "risk", "base": stale})
    boss.replica.apply([(crafted.body, crafted.sig)])
    case = boss.case(case_id)
    assert (
        refused_text(case["refused"][-1], "en") == "the field changed after the review began; review it again"
    )
    assert [c for c in case["conflicts"] if c["open"]]  # still waiting for a review


def test_a_review_arriving_after_an_officer_settled_the_conflict_does_not_count(
    station: list[CaseService],
) -> None:
    boss, first, second = station
    case_id, _ = conflicted(station)
    # An officer who saw both values writes the field again (settling it) while the
    # supervisor, not yet synced, reviews it: whichever sorts first counts, on every device.
    second.update(case_id, fields={"risk": "orange"})
    boss.settle_conflict(case_id, "risk")
    converge(station)
    case = boss.case(case_id)
    assert not [c for c in case["conflicts"] if c["open"]]
    assert case["risk"] == "orange"
    refused = [refused_text(r, "en") for r in case.get("refused", [])]
    assert refused in ([], ["there is no open conflict on that field"])
    assert {s.state_hash() for s in station} == {boss.state_hash()}


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        (kinds.ASSIGN, {"assignee": "OFFICER"}, "only a supervisor may assign a case"),
        (kinds.APPROVE, {}, "only a supervisor may approve an escalation"),
        (kinds.REVIEW, {"field": "risk", "base": "BASE"}, "only a supervisor may settle a conflict"),
        (
            kinds.SET,
            {"fields": {"deadline": "2031-01-01"}, "base": {}},
            "only a supervisor may change the deadline",
        ),
        (
            kinds.STATUS,
            {"status": "closed", "reason": "x", "base": "STATUS"},
            "a red case can only be closed by a supervisor",
        ),
    ],
    ids=["assign", "approve", "review", "deadline", "close-red"],
)
def test_an_officers_hand_crafted_supervisor_operation_is_refused_by_the_merge(
    station: list[CaseService], kind: str, payload: dict[str, Any], reason: str
) -> None:
    boss, first, second = station
    case_id, _ = conflicted(station)
    second.update(case_id, fields={"risk": "red"})
    second.add_visit(case_id, "mediation", "组织双方调解")
    second.update(case_id, status="escalated", tier=2, reason="提请联合调解")
    second.update(case_id, status="resolved", outcome={"kind": "agreement", "terms": "按轮灌表浇水"})
    converge(station)
    state = first.replica.view("cases")[case_id]
    fill = {
        "OFFICER": first.identity.device_id,
        "BASE": field_base(state, "risk"),
        "STATUS": field_base(state, "status"),
    }
    payload = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before = boss.case(case_id)
    # Signed and chained correctly by the officer's device, bypassing the service's checks.
    crafted = first.replica.make(kind, case_id, payload)
    report = boss.replica.apply([(crafted.body, crafted.sig)])
    assert report.applied == 1 and report.rejections == []
    after = boss.case(case_id)
    assert refused_text(after["refused"][-1], "en") == reason
    assert after["refused"][-1]["author"] == first.identity.device_id
    for name in ("assignee", "deadline", "status", "escalation_approved", "risk", "conflicts"):
        assert after[name] == before[name], name
    converge(station)
    assert {s.state_hash() for s in station} == {boss.state_hash()}


def test_the_review_queue_lists_decisions_then_records(station: list[CaseService]) -> None:
    boss, first, second = station
    conflict_case, _ = conflicted(station)
    escalated = intake(second, risk="orange")
    second.add_visit(escalated, "home", "上门了解情况")
    second.update(escalated, status="escalated", tier=3, reason="需司法所参与")
    red = intake(first, risk="red")
    first.add_visit(red, "mediation", "组织调解")
    first.update(red, status="resolved", outcome={"kind": "agreement", "terms": "双方和解"})
    crafted = first.replica.make(kinds.APPROVE, escalated, {})
    converge(station)
    boss.replica.apply([(crafted.body, crafted.sig)])
    replica = boss.replica
    queue = review_queue(replica.view("cases").values(), fork_rows(boss), replica.rejections.all())
    kinds_in_order = [(item.kind, item.case_id) for item in queue.items]
    assert ("conflict", conflict_case) in kinds_in_order
    assert ("escalation", escalated) in kinds_in_order
    assert ("red_closure", red) in kinds_in_order
    assert ("refused", escalated) in kinds_in_order
    # Decisions come before the records, red cases first among the decisions.
    assert kinds_in_order[-1][0] == "refused"
    assert kinds_in_order[0] == ("red_closure", red) or queue.items[0].risk == "red"
    assert queue.counts == {
        "conflict": 1,
        "link_conflict": 0,
        "escalation": 1,
        "red_closure": 1,
        "refused": 1,
        "fork": 0,
        "fork_settled": 0,
        "rejected": 0,
    }
    # Deciding empties the queue of those items.
    boss.approve_escalation(escalated)
    boss.update(red, status="closed", reason="所长审核结案")
    boss.settle_conflict(conflict_case, "risk")
    queue = review_queue(replica.view("cases").values())
    assert [item.kind for item in queue.items] == ["refused"]


# ---------------------------------------------------------------- police areas


def test_the_supervisor_places_villages_in_police_areas_and_the_dashboard_counts_them(
    station: list[CaseService],
) -> None:
    boss, first, second = station
    east = intake(first, village="东岭村")
    west = intake(first, village="西河村")
    south = intake(second, village="南坡村")
    converge(station)
    assert boss.place_village("东岭村", "第一警务区") == {"东岭村": "第一警务区"}
    boss.place_village("西河村", "第一警务区")
    boss.place_village("南坡村", "第二警务区")
    boss.place_village("南坡村", None)  # taken out again
    with pytest.raises(CaseError, match="only a supervisor may place a village"):
        first.place_village("东岭村", "第三警务区")
    converge(station)
    assert {s.state_hash() for s in station} == {boss.state_hash()}
    assert first.areas() == {"东岭村": "第一警务区", "西河村": "第一警务区"}
    board = build_dashboard(boss.cases(), areas=boss.areas())
    assert {k: set(v) for k, v in board.by_area.items()} == {"第一警务区": {east, west}, "": {south}}


def test_an_officers_crafted_placement_is_refused_and_concurrent_ones_conflict(
    station: list[CaseService],
) -> None:
    boss, first, _ = station
    converge(station)
    crafted = first.replica.make(AREA_SET, "东岭村", {"area": "第九警务区", "base": None})
    boss.replica.apply([(crafted.body, crafted.sig)])
    village = boss.replica.view("villages")["东岭村"]
    assert village["area"] is None
    assert (
        refused_text(village["refused"][0], "en") == "only a supervisor may place a village in a police area"
    )
    # A second supervisor's device of the station places the same village, apart from the
    # first: both values are kept as a conflict, the later one shown, on every device.
    path = boss.db.store.directory.parent / "deputy"
    init_device(path, PASSPHRASE, "测试副所长", FAST_KDF)
    deputy = CaseService.open(path, PASSPHRASE)
    try:
        adopt_enrolment(
            deputy, *issue_certificate(boss, deputy.identity.public_key, deputy.officer, "supervisor")
        )
        converge([*station, deputy])
        boss.place_village("东岭村", "第一警务区")
        deputy.place_village("东岭村", "第二警务区")
        converge([*station, deputy])
        views = [s.replica.view("villages")["东岭村"] for s in (*station, deputy)]
        assert all(v == views[0] for v in views)
        [conflict] = views[0]["conflicts"]
        assert {v["value"] for v in conflict["values"]} == {"第一警务区", "第二警务区"}
        assert views[0]["area"] == conflict["values"][-1]["value"]
    finally:
        deputy.close()


def test_area_commands(station: list[CaseService], tmp_path: Path) -> None:
    boss = station[0]
    intake(boss, village="北塘村")
    store = boss.db.store.directory
    boss.close()
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANG")} | {
        "FIELDAPP_PASSPHRASE": PASSPHRASE
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fieldapp", *args, "--store", str(store)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parent.parent,
        )

    placed = run("area", "set", "北塘村", "第二警务区", "--json")
    assert placed.returncode == 0, placed.stderr
    assert json.loads(placed.stdout) == {"village": "北塘村", "area": "第二警务区"}
    listed = run("area", "list", "--json")
    assert json.loads(listed.stdout) == [{"village": "北塘村", "area": "第二警务区"}]
    missing = run("area", "set", "北塘村")
    assert missing.returncode == 1 and "--none" in missing.stderr
    cleared = run("area", "set", "北塘村", "--none")
    assert cleared.returncode == 0 and "no police area" in cleared.stdout
    assert json.loads(run("area", "list", "--json").stdout) == [{"village": "北塘村", "area": None}]
