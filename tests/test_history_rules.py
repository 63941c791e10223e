"""Rules about a case's history, on the devices of an enrolled station (issue 13, item 3).

A case that has been red at any moment since it was last opened is closed by a supervisor,
whatever its risk now; an officer's raise of an escalated case's tier awaits a supervisor's
approval as the first escalation does. Both hold on every replica (the rules run inside the
merge fold) and locally before anything is recorded.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import cases as kinds
from fieldapp.domain.review import review_queue
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices
from sync.merge import field_base
from sync.ops import decode
from tests.cli import fieldapp as run_cli

pytestmark = pytest.mark.timeout(120)

#: The refusals' codes, as the view keeps them (`fieldapp.domain.refusals`).
WAS_RED = "red_since_opened_close_needs_supervisor"
RED = "red_close_needs_supervisor"
RAISE = "tier_raise_needs_escalation"
#: ...and the English text of the first, as the command line says it.
WAS_RED_TEXT = "a case that has been red since it was last opened can only be closed by a supervisor"
TIER_CHANGED = "escalation_tier_changed"
AGREEMENT = {"kind": "agreement", "terms": "按轮灌表浇水，上游让水两天"}


@pytest.fixture
def station(tmp_path: Path) -> Iterator[list[CaseService]]:
    """The station authority (supervisor) and two officers, enrolled."""
    with station_devices(tmp_path, 2) as services:
        yield services


def intake(svc: CaseService, risk: str = "yellow") -> str:
    return str(
        svc.new_case(
            village="测试村",
            category="irrigation",
            risk=risk,
            summary="轮灌时间安排不均，上下游农户争抢浇水",
            parties=[{"name": "测试甲", "phone": "13800000001", "role": "party"}],
        )["id"]
    )


def head_seq(svc: CaseService) -> int:
    return svc.replica.head(f"{svc.identity.device_id}.{svc.identity.epoch:016x}")[0]


def refused_locally(svc: CaseService, code: str, action: Any) -> None:
    """The officer gets the refusal (`code`) at once, and nothing is written."""
    before_seq, before_hash = head_seq(svc), svc.state_hash()
    with pytest.raises(CaseError) as caught:
        action()
    assert caught.value.refusal is not None and caught.value.refusal.code == code
    assert head_seq(svc) == before_seq and svc.state_hash() == before_hash


def forced(svc: CaseService, kind: str, case_id: str, payload: dict[str, Any]) -> None:
    """An operation signed and chained by the device but not checked first: what a modified
    app would record. It goes into the device's own log as any received entry would."""
    op = svc.replica.make(kind, case_id, payload)
    report = svc.replica.apply([(op.body, op.sig)])
    assert report.applied == 1 and report.rejections == []


def forced_closure(svc: CaseService, case_id: str) -> None:
    state = svc.replica.view("cases")[case_id]
    payload = {"status": "closed", "reason": "已化解", "base": field_base(state, "status")}
    forced(svc, kinds.STATUS, case_id, payload)


def same_everywhere(station: list[CaseService], case_id: str) -> dict[str, Any]:
    converge(station)
    assert len({s.state_hash() for s in station}) == 1
    views = [s.replica.view("cases")[case_id] for s in station]
    assert all(v == views[0] for v in views)
    return views[0]


# ---------------------------------------------------------------- red since last opened


@pytest.mark.parametrize("made_red", ["at intake", "by another officer"])
def test_the_reviewed_attack_is_refused_on_every_device(station: list[CaseService], made_red: str) -> None:
    """Red case: visit, resolve with an agreement, reassess to yellow, close: refused."""
    boss, first, second = station
    if made_red == "at intake":
        case_id = intake(first, risk="red")
    else:
        case_id = intake(first)
        converge(station)
        second.update(case_id, fields={"risk": "red"})
        converge(station)
    first.add_visit(case_id, "mediation", "组织双方到村委会调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    first.update(case_id, fields={"risk": "yellow"})  # an officer may still reassess the risk
    assert first.case(case_id)["risk"] == "yellow"
    refused_locally(first, WAS_RED, lambda: first.update(case_id, status="closed", reason="已化解"))
    # A modified app records the closure anyway; the merge refuses it everywhere, with the reason.
    forced_closure(first, case_id)
    case = same_everywhere(station, case_id)
    assert case["status"] == "resolved" and case["risk"] == "yellow"
    assert case["refused"][-1]["code"] == WAS_RED
    assert case["refused"][-1]["author"] == first.identity.device_id
    assert case[kinds.RED_SINCE_OPENED] is True
    queue = review_queue(boss.replica.view("cases").values())
    assert ("red_closure", case_id) in [(i.kind, i.case_id) for i in queue.items]
    # The supervisor's closure of the same case is accepted, on every device.
    boss.update(case_id, status="closed", reason="所长审核结案")
    case = same_everywhere(station, case_id)
    assert case["status"] == "closed"
    assert not [i for i in review_queue([case]).items if i.kind == "red_closure"]


def test_referred_then_closed_by_an_officer_is_refused_too(station: list[CaseService]) -> None:
    boss, first, _ = station
    case_id = intake(first, risk="red")
    referral = {"department": "司法所", "notified": "已发提示函"}
    first.update(case_id, status="referred", referral=referral)
    first.update(case_id, fields={"risk": "orange"})
    refused_locally(first, WAS_RED, lambda: first.update(case_id, status="closed"))
    forced_closure(first, case_id)
    case = same_everywhere(station, case_id)
    assert case["status"] == "referred" and case["refused"][-1]["code"] == WAS_RED


def close_by_supervisor(station: list[CaseService], case_id: str) -> None:
    boss, first, _ = station
    first.add_visit(case_id, "mediation", "组织调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    converge(station)
    boss.update(case_id, status="closed", reason="所长审核结案")
    converge(station)


def resolve_and_force_close(station: list[CaseService], case_id: str) -> dict[str, Any]:
    _, first, _ = station
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    forced_closure(first, case_id)
    return same_everywhere(station, case_id)


def test_red_before_a_closure_and_reopening_does_not_count_after_it(station: list[CaseService]) -> None:
    """Reopening a closed case opens a new period: its red from before no longer counts."""
    _, first, _ = station
    case_id = intake(first, risk="red")
    first.update(case_id, fields={"risk": "yellow"})
    first.add_visit(case_id, "mediation", "组织调解")
    case = resolve_and_force_close(station, case_id)
    assert case["status"] == "resolved" and case["refused"][-1]["code"] == WAS_RED
    station[0].update(case_id, status="closed", reason="所长审核结案")
    converge(station)
    first.reopen(case_id, "排水沟又被堵，双方再次争吵")
    assert first.case(case_id)[kinds.RED_SINCE_OPENED] is False
    first.add_visit(case_id, "mediation", "再次调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    first.update(case_id, status="closed", reason="回访无反弹")
    assert same_everywhere(station, case_id)["status"] == "closed"


def test_a_case_reopened_while_red_counts_as_red(station: list[CaseService]) -> None:
    _, first, _ = station
    case_id = intake(first, risk="red")
    close_by_supervisor(station, case_id)
    first.reopen(case_id, "矛盾反弹，再次报警")
    first.update(case_id, fields={"risk": "yellow"})
    first.add_visit(case_id, "mediation", "再次调解")
    case = resolve_and_force_close(station, case_id)
    assert case["status"] == "resolved" and case["refused"][-1]["code"] == WAS_RED


def test_red_after_the_reopening_counts(station: list[CaseService]) -> None:
    _, first, _ = station
    case_id = intake(first)
    first.add_visit(case_id, "home", "上门了解情况")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    first.update(case_id, status="closed", reason="回访无反弹")
    first.reopen(case_id, "矛盾反弹，再次报警")
    first.update(case_id, fields={"risk": "red"})
    first.update(case_id, fields={"risk": "orange"})
    case = resolve_and_force_close(station, case_id)
    assert case["status"] == "resolved" and case["refused"][-1]["code"] == WAS_RED


def test_reopening_a_resolved_case_does_not_wash_out_the_red(station: list[CaseService]) -> None:
    """Resolve, reassess, reopen, resolve, close: the case never closed, so its period goes on."""
    _, first, _ = station
    case_id = intake(first, risk="red")
    first.add_visit(case_id, "mediation", "组织调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    first.update(case_id, fields={"risk": "yellow"})
    first.reopen(case_id, "补充调解")
    case = resolve_and_force_close(station, case_id)
    assert case["status"] == "resolved" and case["refused"][-1]["code"] == WAS_RED
    assert case[kinds.RED_SINCE_OPENED] is True


def test_red_that_lost_a_conflict_still_counts(tmp_path: Path) -> None:
    """Two officers reassess at once, red and yellow; yellow is shown, but red was recorded."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as station:
        boss, first, second = station
        case_id = intake(first, risk="orange")
        first.add_visit(case_id, "home", "上门了解情况")
        converge(station)
        start = wall.now + 1000
        wall.now = start
        second.update(case_id, fields={"risk": "red"})
        wall.now = start + 5
        first.update(case_id, fields={"risk": "yellow"})
        case = same_everywhere(station, case_id)
        assert case["risk"] == "yellow" and [c for c in case["conflicts"] if c["open"]]
        wall.now = start + 10
        case = resolve_and_force_close(station, case_id)
        assert case["status"] == "resolved" and case["refused"][-1]["code"] == WAS_RED


@pytest.mark.timeout(600)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    close_at=st.integers(0, 4),
    red_at=st.integers(0, 4),
    back_to_yellow=st.booleans(),
    seed=st.randoms(use_true_random=False),
)
def test_a_concurrent_red_reassessment_counts_by_the_folds_order(
    close_at: int, red_at: int, back_to_yellow: bool, seed: Any
) -> None:
    """One officer closes a resolved yellow case while another, not yet synced, marks it red
    (and maybe yellow again): whichever sorts first in the total order decides, on every
    device, whatever order the entries arrive in."""
    wall = ManualWall()
    with tempfile.TemporaryDirectory() as tmp, station_devices(Path(tmp), 2, wall=wall) as station:
        boss, first, second = station
        case_id = intake(first)
        first.add_visit(case_id, "home", "上门了解情况")
        first.update(case_id, status="resolved", outcome=AGREEMENT)
        converge(station)
        start = wall.now + 1000
        wall.now = start + close_at
        first.update(case_id, status="closed", reason="回访无反弹")  # accepted here: never red
        wall.now = start + red_at
        second.update(case_id, fields={"risk": "red"})
        if back_to_yellow:
            wall.now += 1
            second.update(case_id, fields={"risk": "yellow"})
        [closure] = [
            op
            for op in (decode(*e) for e in first.replica.entries_missing_from({}))
            if op.kind == kinds.STATUS and op.payload["status"] == "closed"
        ]
        risks = {
            op.payload["fields"]["risk"]: op
            for op in (decode(*e) for e in second.replica.entries_missing_from({}))
            if op.kind == kinds.SET and op.author == second.identity.device_id
        }
        red, yellow = risks["red"], risks.get("yellow")
        # The new entries reach the others in an order of the test's choosing.
        fresh = [
            e for svc in (first, second) for e in svc.replica.entries_missing_from(boss.replica.vector())
        ]
        seed.shuffle(fresh)
        for entry in fresh:
            boss.replica.apply([entry])
        converge(station)
        assert len({s.state_hash() for s in station}) == 1
        case = boss.replica.view("cases")[case_id]
        if closure.order < red.order:
            assert case["status"] == "closed"
        else:
            assert case["status"] == "resolved"
            shown_red = yellow is None or closure.order < yellow.order
            assert case["refused"][-1]["code"] == (RED if shown_red else WAS_RED)
            assert case["refused"][-1]["op"] == closure.key


# ---------------------------------------------------------------- tiers


def escalated(station: list[CaseService], tier: int = 2) -> str:
    """An officer's case escalated to `tier` and approved by the supervisor, known everywhere."""
    boss, first, _ = station
    case_id = intake(first, risk="orange")
    first.add_visit(case_id, "home", "上门了解情况")
    first.update(case_id, status="escalated", tier=tier, reason="涉及多户，需联合调解")
    converge(station)
    boss.approve_escalation(case_id)
    converge(station)
    return case_id


def test_an_officers_raise_from_tier_2_to_3_awaits_approval(station: list[CaseService]) -> None:
    boss, first, second = station
    case_id = escalated(station)
    case = second.update(case_id, fields={"tier": 3})
    assert case["tier"] == 3 and case["escalation_approved"] is False
    case = same_everywhere(station, case_id)
    assert case["tier"] == 3 and case["escalation_approved"] is False
    [item] = [i for i in review_queue(boss.replica.view("cases").values()).items if i.kind == "escalation"]
    assert item.case_id == case_id and item.detail["tier"] == 3
    assert item.author == second.identity.device_id
    boss.approve_escalation(case_id)
    case = same_everywhere(station, case_id)
    assert case["tier"] == 3 and case["escalation_approved"] is True


def test_lowering_the_tier_needs_no_approval_and_a_supervisors_raise_is_approved(
    station: list[CaseService],
) -> None:
    boss, first, _ = station
    case_id = escalated(station, tier=3)
    assert first.update(case_id, fields={"tier": 2})["escalation_approved"] is True
    converge(station)
    first.update(case_id, fields={"tier": 3})
    converge(station)
    assert boss.case(case_id)["escalation_approved"] is False
    assert boss.update(case_id, fields={"tier": 2})["escalation_approved"] is False  # lowered, still asked
    case = boss.update(case_id, fields={"tier": 3})  # the supervisor's own raise
    assert case["escalation_approved"] is True
    assert same_everywhere(station, case_id)["escalation_approved"] is True


@pytest.mark.parametrize("status", ["open", "in_progress"])
def test_an_officer_moves_a_case_up_only_by_escalating_it(station: list[CaseService], status: str) -> None:
    boss, first, _ = station
    case_id = intake(first)
    if status == "in_progress":
        first.update(case_id, status="in_progress")
    refused_locally(first, RAISE, lambda: first.update(case_id, fields={"tier": 3}))
    assert first.update(case_id, fields={"tier": 1})["tier"] == 1  # not higher: no approval needed
    forced(first, kinds.SET, case_id, {"fields": {"tier": 2}, "base": {}})
    case = same_everywhere(station, case_id)
    assert case["tier"] == 1 and case["refused"][-1]["code"] == RAISE
    assert boss.update(case_id, fields={"tier": 2})["tier"] == 2  # a supervisor's move stands


@pytest.mark.parametrize("approval_first", [True, False])
def test_an_approval_and_a_concurrent_raise_leave_the_raise_awaiting_approval(
    tmp_path: Path, approval_first: bool
) -> None:
    """The supervisor approves tier 2 while an officer, not yet synced, raises it to 3: in either
    order of the fold, tier 3 awaits approval on every device."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as station:
        boss, first, second = station
        case_id = intake(first, risk="orange")
        first.add_visit(case_id, "home", "上门了解情况")
        first.update(case_id, status="escalated", tier=2, reason="涉及多户")
        converge(station)
        start = wall.now + 1000
        wall.now = start if approval_first else start + 5
        boss.approve_escalation(case_id)
        wall.now = start + 5 if approval_first else start
        second.update(case_id, fields={"tier": 3})
        exchange(second, first)  # the officers meet first, then the station
        case = same_everywhere(station, case_id)
        assert case["tier"] == 3 and case["escalation_approved"] is False
        refusals = [r["code"] for r in case.get("refused", [])]
        assert refusals == ([] if approval_first else [TIER_CHANGED])
        boss.approve_escalation(case_id)
        assert same_everywhere(station, case_id)["escalation_approved"] is True


# ---------------------------------------------------------------- command line and upgrade


def test_the_command_line_refuses_the_closure_with_the_reason(station: list[CaseService]) -> None:
    _, first, _ = station
    case_id = intake(first, risk="red")
    first.add_visit(case_id, "mediation", "组织调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    seq = head_seq(first)
    store = first.db.store.directory
    first.close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, "--store", str(store), without=("LC_ALL", "LANG"))

    both = run("case", "update", case_id, "--risk", "yellow", "--status", "closed")
    assert both.returncode == 1
    assert f"Not recorded: {WAS_RED_TEXT}." in both.stderr
    assert run("case", "update", case_id, "--risk", "yellow").returncode == 0
    closing = run("case", "update", case_id, "--status", "closed", "--reason", "已化解")
    assert closing.returncode == 1
    assert f"Not recorded: {WAS_RED_TEXT}." in closing.stderr
    reopened = CaseService.open(store, PASSPHRASE)
    try:
        assert head_seq(reopened) == seq + 1  # only the reassessment was written
        assert reopened.case(case_id)["status"] == "resolved"
    finally:
        reopened.close()


def test_a_store_folded_by_the_earlier_rules_is_refolded_with_these(station: list[CaseService]) -> None:
    """A closure the earlier version accepted is refused once the store is opened by this one."""
    from sync.replica import VIEW_FORMAT_KEY

    boss, first, _ = station
    case_id = intake(first, risk="red")
    first.add_visit(case_id, "mediation", "组织调解")
    first.update(case_id, status="resolved", outcome=AGREEMENT)
    first.update(case_id, fields={"risk": "yellow"})
    forced_closure(first, case_id)
    want = first.case(case_id)
    # What the earlier version's fold left: the closure counted, and no history flag.
    cases = first.db.keyed("cases")
    old = cases.get_copy(case_id)
    old["status"] = "closed"
    old.pop("refused", None)
    old.pop("red_since_opened", None)
    cases.put(case_id, old)
    first.db.keyed("local").put(VIEW_FORMAT_KEY, {"version": 3})
    store = first.db.store.directory
    first.close()
    reopened = CaseService.open(store, PASSPHRASE)
    try:
        assert reopened.case(case_id) == want
        assert want["status"] == "resolved" and want["refused"][-1]["code"] == WAS_RED
    finally:
        reopened.close()
