"""Replicas that saw the same operations show the same view, whatever the delivery.

Hypothesis drives 3-6 devices through random work of every kind, delivers random
subsets of operations in random order, with duplicates and partitions, then lets
everyone meet; every replica's view and state hash must then be identical, and
identical to a fresh replica fed everything in one shuffled batch.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import model
from harness.replicas import ManualWall, converge, devices
from sync.ops import decode

WORK = ["new", "new", "set", "status", "visit", "note", "reopen", "assign", "claim", "approve", "escalate"]


def do_work(svc: CaseService, kind: str, rng: random.Random, peers: list[str]) -> None:
    """One piece of work a person might do; refusals by the rules are part of the game."""
    ids = sorted(svc.replica.view("cases"))
    if kind == "new" or not ids:
        svc.new_case(
            village=rng.choice(["东岭村", "西河村", "南坡村"]),
            category=rng.choice(model.CATEGORIES),
            risk=rng.choice(model.RISKS),
            summary=rng.choice(["田界纠纷", "浇水先后起争执", "宅基地墙界"]),
            parties=[{"name": "测试甲", "phone": "13800000000", "role": "party"}],
        )
        return
    case_id = rng.choice(ids)
    actions: dict[str, Any] = {
        "set": lambda: svc.update(case_id, fields={rng.choice(["risk", "summary"]): rng.choice(model.RISKS)}),
        "status": lambda: svc.update(
            case_id,
            status=rng.choice(["in_progress", "resolved", "closed"]),
            outcome={"kind": "agreement", "terms": "赔偿三千元"},
        ),
        "visit": lambda: svc.add_visit(case_id, rng.choice(model.VISIT_KINDS), "走访记录"),
        "note": lambda: svc.update(case_id, note="补充说明"),
        "reopen": lambda: svc.reopen(case_id, "纠纷反弹"),
        "assign": lambda: svc.update(case_id, assign=rng.choice(peers)),
        "claim": lambda: svc.claim(case_id),
        "approve": lambda: svc.approve_escalation(case_id),
        "escalate": lambda: svc.update(case_id, status="escalated", tier=rng.choice([2, 3])),
    }
    with contextlib.suppress(CaseError):  # refusals by the rules are part of the game
        actions[kind]()


def deliver(src: CaseService, dst: CaseService, rng: random.Random) -> None:
    """Part of what src holds, shuffled, some twice: an interrupted or partial meeting.

    Mostly a random prefix of each author's log (so one author's later work can
    arrive before another author's earlier work it depends on); sometimes a random
    subset with gaps.
    """
    by_chain: dict[str, list[tuple[bytes, bytes]]] = {}
    for entry in src.replica.entries_missing_from({}):
        by_chain.setdefault(decode(*entry).chain, []).append(entry)
    if rng.random() < 0.7:
        chosen = [e for chain in by_chain.values() for e in chain[: rng.randint(0, len(chain))]]
    else:
        entries = [e for chain in by_chain.values() for e in chain]
        chosen = rng.sample(entries, rng.randint(0, len(entries)))
    chosen += rng.sample(chosen, len(chosen) // 3)
    rng.shuffle(chosen)
    if rng.random() < 0.3:  # a sync round: several batches stored, folded once at the end
        cut = rng.randint(0, len(chosen))
        with dst.replica.merge_session():
            dst.replica.apply(chosen[:cut])
            dst.replica.apply(chosen[cut:])
    else:
        dst.replica.apply(chosen)


def views(services: list[CaseService]) -> list[dict[str, Any]]:
    return [{t: dict(s.replica.view(t)) for t in s.replica.view_tables} for s in services]


def run_scenario(services: list[CaseService], wall: ManualWall, rng: random.Random, steps: int) -> None:
    """Random work on random devices, partial meetings between random pairs, time passing."""
    peers = [s.identity.device_id for s in services]
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.5:
            do_work(rng.choice(services), rng.choice(WORK), random.Random(rng.random()), peers)
        elif roll < 0.9:
            src, dst = rng.sample(services, 2)
            deliver(src, dst, random.Random(rng.random()))
        else:
            wall.now += rng.randint(1, 120_000)  # time passes; device clocks share it here


@pytest.mark.timeout(900)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    roles=st.lists(st.sampled_from(["officer", "officer", "supervisor"]), min_size=3, max_size=6),
    steps=st.integers(20, 80),
    seed=st.integers(0, 2**32),
)
def test_any_delivery_order_converges_to_one_view(roles: list[str], steps: int, seed: int) -> None:
    wall = ManualWall()
    with tempfile.TemporaryDirectory() as tmp, devices(Path(tmp), roles, wall) as services:
        run_scenario(services, wall, random.Random(seed), steps)
        converge(services)
        hashes = {s.state_hash() for s in services}
        assert len(hashes) == 1, "replicas disagree after everyone met"
        first, *rest = views(services)
        assert all(v == first for v in rest)

        # A newcomer fed every operation at once, in a shuffled order, agrees too.
        everything = list(services[0].replica.entries_missing_from({}))
        random.Random(seed).shuffle(everything)
        with devices(Path(tmp) / "fresh", ["officer"], wall) as (fresh,):
            fresh.replica.apply(everything)
            assert dict(fresh.replica.view("cases")) == dict(services[0].replica.view("cases"))
