"""The `merge` bench: a station receives many devices' offline work in one sync, vs pycrdt.

Set-up (not timed): the station's store and every device's field work, recorded
through CaseService in the ACTION_MIX (`field_work`). Timed: the station verifies and
durably applies it (`receive`); the reference is pycrdt applying as many Map updates
to one Doc (`pycrdt_updates`, `pycrdt_apply`). See `bench_merge`.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench_common import (
    FAST_KDF,
    PASSPHRASE,
    SUMMARY_PARTS,
    VILLAGES,
    Figures,
    emit,
    fake_case,
    fake_name,
    fake_phone,
    fake_update,
    note,
    scratch_dir,
    sig,
    timed_calls,
)

from fieldapp.core.service import CaseError, CaseService, init_device
from fieldapp.domain import model
from storage import formats
from storage.store import EncryptedStore
from sync import replica as replica_module
from sync.hlc import HybridClock
from sync.replica import Entry, Replica

#: The mix of offline field work, in percent of attempted operations.
ACTION_MIX = {"intake": 12, "visit": 35, "field": 20, "status": 15, "note": 10, "assign": 5, "reopen": 3}
SUPERVISOR_EVERY = 10  # devices 0, 10, 20, ... are supervisors' (they assign; officers claim)
WORK_BLOCK = 50  # operations a device records per store transaction during set-up
DEPARTMENTS = ("司法所", "信访办", "村委会", "人社所", "国土所")


class ManualWall:
    """A wall clock (ms) that the set-up moves forward by hand, shared by every device."""

    def __init__(self) -> None:
        self.now = time.time_ns() // 1_000_000  # announcements were stamped by the real clock

    def __call__(self) -> int:
        return self.now


def fake_text(rng: random.Random, parts: int = 2) -> str:
    """A sentence or two of case narrative."""
    return "，".join(rng.sample(SUMMARY_PARTS, parts)) + "。"


def fake_intake(rng: random.Random, wall_ms: int) -> dict[str, Any]:
    """Arguments of CaseService.new_case for a realistic intake (made-up people)."""
    deadline = None
    if rng.random() < 0.5:
        deadline = time.strftime("%Y-%m-%d", time.gmtime(wall_ms / 1000 + 86400 * rng.randint(3, 30)))
    roles = ("applicant", "respondent", "relative", "witness")
    return {
        "village": rng.choice(VILLAGES)[0],
        "category": rng.choice(model.CATEGORIES),
        "risk": rng.choice(model.RISKS),
        "summary": fake_text(rng, rng.randint(2, 4)),
        "parties": [
            {"name": fake_name(rng), "phone": fake_phone(rng), "role": roles[i]}
            for i in range(rng.randint(1, 3))
        ],
        "source": rng.choice(model.SOURCES),
        "flags": rng.sample(model.FLAGS, rng.randint(0, 2)),
        "deadline": deadline,
    }


class FieldWork:
    """One device working offline through CaseService, in the ACTION_MIX.

    Officers work on their own intakes and the shared cases assigned to them, and now
    and then (10%) on any shared case; supervisors on every shared case and their own.
    """

    def __init__(self, svc: CaseService, rng: random.Random, wall: ManualWall, officers: list[str]) -> None:
        self.svc, self.rng, self.wall, self.officers = svc, rng, wall, officers
        self.supervisor = svc.device_role == "supervisor"
        self.mine: list[str] = []  # cases this device works on
        self.shared: list[str] = []  # every shared case it holds
        self.done: Counter[str] = Counter()
        self.refused = 0

    def morning_sync(self, shared: list[Entry]) -> None:
        """Take the station's shared cases before going out; officers work on those assigned to them."""
        self.svc.replica.apply(shared)
        self.shared = sorted(live_case_ids(self.svc))
        if not self.supervisor:
            view, me = self.svc.replica.view("cases"), self.svc.identity.device_id
            self.mine = [case_id for case_id in self.shared if view[case_id]["assignee"] == me]

    def act(self) -> None:
        """Record one operation; a refusal by the workflow rules means trying another action."""
        for _ in range(50):
            action = self.rng.choices(list(ACTION_MIX), list(ACTION_MIX.values()))[0]
            try:
                getattr(self, f"do_{action}")()
            except CaseError:
                self.refused += 1
                continue
            self.done[action] += 1
            return
        raise RuntimeError("50 actions in a row were refused: the work generator is broken")

    def pick(self, wanted: Callable[[dict[str, Any]], bool] = lambda case: True) -> str:
        """A case to work on that satisfies `wanted`, or CaseError if there is none."""
        pool = self.mine
        if self.supervisor or self.rng.random() < 0.1:
            pool = self.mine + self.shared
        view = self.svc.replica.view("cases")
        candidates = [case_id for case_id in pool if wanted(view[case_id])]
        if not candidates:
            raise CaseError("no case to do this on")
        return self.rng.choice(candidates)

    def do_intake(self) -> None:
        self.mine.append(self.svc.new_case(**fake_intake(self.rng, self.wall.now))["id"])

    def do_visit(self) -> None:
        kind = self.rng.choice(model.VISIT_KINDS)
        place = f"{self.rng.choice(VILLAGES)[0]}{self.rng.randint(1, 12)}组"
        self.svc.add_visit(self.pick(), kind, fake_text(self.rng), place, fake_name(self.rng))

    def do_field(self) -> None:
        rng = self.rng
        fields = rng.choice(
            [
                {"risk": rng.choice(model.RISKS)},
                {"summary": fake_text(rng, rng.randint(2, 4))},
                {"flags": rng.sample(model.FLAGS, rng.randint(0, 2))},
                {"category": rng.choice(model.CATEGORIES), "risk": rng.choice(model.RISKS)},
            ]
        )
        self.svc.update(self.pick(), fields=fields)

    def do_status(self) -> None:
        rng = self.rng
        case_id = self.pick(lambda case: bool(model.TRANSITIONS[case["status"]]))
        status = rng.choice(sorted(model.TRANSITIONS[self.svc.replica.view("cases")[case_id]["status"]]))
        self.svc.update(
            case_id,
            status=status,
            reason=fake_text(rng, 1),
            tier=rng.choice((2, 3)) if status == "escalated" else None,
            referral={"department": rng.choice(DEPARTMENTS), "notified": "电话通知"}
            if status == "referred"
            else None,
            outcome={"kind": "agreement", "terms": "双方签订调解协议，赔偿三千元"}
            if status == "resolved"
            else None,
        )

    def do_note(self) -> None:
        self.svc.update(self.pick(), note=fake_text(self.rng))

    def do_assign(self) -> None:
        if self.supervisor:
            self.svc.update(self.pick(), assign=self.rng.choice(self.officers))
        else:
            me = self.svc.identity.device_id
            self.svc.claim(self.pick(lambda case: case["assignee"] in (None, me)))

    def do_reopen(self) -> None:
        case_id = self.pick(lambda case: case["status"] in model.REOPENABLE)
        self.svc.reopen(case_id, "纠纷反弹：" + fake_text(self.rng, 1))


def open_device(path: Path, wall: ManualWall) -> CaseService:
    """Unlock a device's store with its HLC on the shared manual wall clock."""
    return CaseService.open(path, PASSPHRASE, clock=HybridClock(wall=wall))


def live_case_ids(svc: CaseService) -> set[str]:
    """Ids of the cases that exist in a device's view."""
    return {case_id for case_id, case in svc.replica.view("cases").items() if case["exists"]}


def make_receiver(
    args: argparse.Namespace, path: Path, wall: ManualWall, officers: list[str], rng: random.Random
) -> tuple[list[Entry], dict[str, int], str]:
    """Give the station workstation its shared cases and its ~`--records` records.

    Returns the shared cases' entries (every device synced them before going out), the
    station's version vector, and what its records are.
    """
    station = open_device(path, wall)
    try:
        for i in range(args.shared * args.devices):
            wall.now += rng.randint(30_000, 300_000)
            case_id = station.new_case(**fake_intake(rng, wall.now))["id"]
            station.update(case_id, assign=officers[i % len(officers)])
            station.add_visit(case_id, "phone", fake_text(rng))
        shared = list(station.replica.entries_missing_from({}))
        db = station.db
        synced = sum(len(table) for table in db.store.tables.values())
        archived = max(0, args.records - synced)
        with db.transaction():
            db.table("archive").insert_multiple(fake_case(rng, i) for i in range(archived))
        db.store.compact()
        what = (
            f"{synced + archived} records: {synced} of sync state ({len(shared)} ops, chains and views "
            f"of {args.shared * args.devices} shared cases) + {archived} archived case documents "
            f"(fake_case, ~500 B each) in table 'archive', snapshot compacted"
        )
        return shared, station.replica.vector(), what
    finally:
        station.close()


def field_work(
    args: argparse.Namespace, root: Path, receiver: Path, rng: random.Random
) -> tuple[list[list[Entry]], set[str], ManualWall, str, Counter[str]]:
    """Set up the station and `--devices` devices; let each record `--ops` operations offline.

    Returns each device's entries as the receiver lacks them (in device order), the union
    of the devices' cases, the wall clock, what the receiver's records are, and the mix done.
    """
    roles = ["supervisor" if i % SUPERVISOR_EVERY == 0 else "officer" for i in range(args.devices)]
    init_device(receiver, PASSPHRASE, "值班民警", FAST_KDF, role="supervisor")
    ids = [
        init_device(root / f"device{i}", PASSPHRASE, fake_name(rng), FAST_KDF, role=role).device_id
        for i, role in enumerate(roles)
    ]
    officers = [device_id for device_id, role in zip(ids, roles, strict=True) if role == "officer"]
    wall = ManualWall()
    shared, station_vector, receiver_what = make_receiver(args, receiver, wall, officers, rng)
    workers: list[FieldWork] = []
    try:
        for i in range(args.devices):
            work = FieldWork(
                open_device(root / f"device{i}", wall), random.Random(rng.random()), wall, officers
            )
            workers.append(work)
            work.morning_sync(shared)
        for start in range(0, args.ops, WORK_BLOCK):  # devices take turns: their stamps interleave
            for work in workers:
                with work.svc.db.transaction():
                    for _ in range(min(WORK_BLOCK, args.ops - start)):
                        wall.now += rng.randint(2_000, 60_000)
                        work.act()
        batches = [list(w.svc.replica.entries_missing_from(station_vector)) for w in workers]
        union = set().union(*(live_case_ids(w.svc) for w in workers))
        mix = sum((w.done for w in workers), Counter())
        mix["refused_and_retried"] = sum(w.refused for w in workers)
    finally:
        for work in workers:
            work.svc.close()
    return batches, union, wall, receiver_what, mix


PHASE_WHAT = {
    "verify": "in sync.verify.verify_batch within apply_s: decoding, chains, signatures",
    "store": "in Replica._store: the entries, chain heads, devices and dirty markers, in memory",
    "journal": "in EncryptedStore._append: packing, sealing, writing and fsyncing journal records",
    "fsync": "in fdatasync, part of journal",
    "fold": "in Replica._fold: the cases folded once at the end of the session, packed and stored",
    "rules": "in fold_into, part of fold (and of store, for devices): the reducers' rules",
    "collector": "the cyclic garbage collector, by gc callbacks",
}
#: Where an apply's time goes: (figure, module or class, function), each call timed.
PHASES = (
    ("verify", replica_module, "verify_batch"),
    ("store", Replica, "_store"),
    ("journal", EncryptedStore, "_append"),
    ("fsync", formats.os, "fdatasync"),
    ("fold", Replica, "_fold"),
    ("rules", replica_module, "fold_into"),
)


@contextmanager
def collector_time() -> Iterator[list[float]]:
    """Seconds the cyclic garbage collector ran inside the block (gc callbacks)."""
    spent: list[float] = []
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            spent.append(time.perf_counter() - started.pop())

    gc.callbacks.append(callback)
    try:
        yield spent
    finally:
        gc.callbacks.remove(callback)


def apply_batches(replica: Replica, batches: list[list[Entry]]) -> dict[str, Any]:
    """Verify and durably apply every batch, one Replica.apply per batch, in one merge session
    (the station's shift-end sync round): each batch is stored durably as it arrives and the
    cases are folded once at the end, inside the timed span.

    Returns the seconds it took, the seconds spent in each of PHASES and in the collector
    (`phases`; they nest: fsync is part of journal, rules of fold), and the ops applied.
    """
    os.sync()  # the fresh copy's dirty pages must not slow the first fsyncs
    gc.collect()
    applied = 0
    with ExitStack() as timers:
        spent = {name: timers.enter_context(timed_calls(owner, attr)) for name, owner, attr in PHASES}
        spent["collector"] = timers.enter_context(collector_time())
        t0 = time.perf_counter()
        with replica.merge_session():
            for entries in batches:
                report = replica.apply(entries)
                if report.rejections or report.held_back or report.duplicates or report.forks:
                    raise RuntimeError(f"the receiver did not take a batch whole: {report}")
                applied += report.applied
        apply_s = time.perf_counter() - t0
    if len(spent["verify"]) != len(batches):
        raise RuntimeError("Replica.apply no longer calls sync.replica.verify_batch: fix PHASES")
    return {
        "apply_s": apply_s,
        "phases": {name: sum(times) for name, times in spent.items()},
        "applied": applied,
    }


def receive(receiver: Path, copy: Path, wall: ManualWall, batches: list[list[Entry]]) -> dict[str, Any]:
    """On a fresh copy of the receiver's store: time the apply (not the unlock); read the result."""
    shutil.copytree(receiver, copy)
    station = open_device(copy, wall)
    try:
        result = apply_batches(station.replica, batches)
        return result | {"state_hash": station.state_hash(), "cases": live_case_ids(station)}
    finally:
        station.close()
        shutil.rmtree(copy)


def pycrdt_updates(args: argparse.Namespace, rng: random.Random) -> tuple[list[bytes], int]:
    """`--devices` docs x `--ops` updates of a "cases" Map, each an intake or a few-field change."""
    import pycrdt

    updates: list[bytes] = []
    created = 0
    for d in range(args.devices):
        doc = pycrdt.Doc()
        cases = doc.get("cases", type=pycrdt.Map)
        subscription = doc.observe(lambda event: updates.append(event.update))
        mine: list[str] = []
        for i in range(args.ops):
            with doc.transaction():
                if not mine or rng.random() < ACTION_MIX["intake"] / 100:
                    mine.append(f"d{d}-{i}")
                    cases[mine[-1]] = pycrdt.Map(fake_case(rng, i))
                else:
                    case = cases[rng.choice(mine)]
                    for key, value in fake_update(rng).items():
                        case[key] = value
        doc.unobserve(subscription)
        created += len(mine)
    return updates, created


def pycrdt_apply(updates: list[bytes], created: int) -> float:
    """Seconds to apply every update, in order, to one fresh Doc."""
    import pycrdt

    gc.collect()
    doc = pycrdt.Doc()
    t0 = time.perf_counter()
    for update in updates:
        doc.apply_update(update)
    elapsed = time.perf_counter() - t0
    if len(doc.get("cases", type=pycrdt.Map)) != created:
        raise RuntimeError("pycrdt lost cases")
    return elapsed


def bench_merge(args: argparse.Namespace) -> None:
    """The `merge` bench: a station receives `--devices` devices' offline work in one sync.

    Set-up (not timed): the station's store holds ~`--records` records; each device records
    `--ops` operations of ACTION_MIX through CaseService. Timed: the station verifies and
    durably applies every device's entries, one Replica.apply per device in one merge
    session, on a fresh copy of its store per repeat. A second receiver applies the
    devices in reverse order and must reach the same state. Reference: pycrdt applying as
    many Map updates to one Doc.
    """
    if args.devices < 2 or args.ops < 1 or args.repeats < 1:
        raise SystemExit(
            "the merge bench needs --devices >= 2 (one supervisor, officers), --ops and --repeats >= 1"
        )
    figures: Figures = {}
    started = time.perf_counter()
    rng = random.Random(args.seed)
    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; setting up {args.devices} devices x {args.ops} operations")
        receiver = root / "receiver"
        batches, union, wall, receiver_what, mix = field_work(args, root, receiver, rng)
        wall.now += 60_000  # the sync happens a minute after the last piece of work
        total = sum(len(b) for b in batches)
        note(f"set-up done in {time.perf_counter() - started:.0f} s: {total} entries, mix {dict(mix)}")
        updates, created = pycrdt_updates(args, rng)
        runs, pycrdt_s = [], []
        for i in range(args.repeats):  # interleaved, so that noise hits both alike
            runs.append(receive(receiver, root / f"copy{i}", wall, batches))
            pycrdt_s.append(pycrdt_apply(updates, created))
            note(f"repeat {i + 1}: apply {runs[-1]['apply_s']:.2f} s, pycrdt {pycrdt_s[-1]:.2f} s")
        reverse = receive(receiver, root / "reverse", wall, batches[::-1])
    forward = runs[-1]
    converged = (
        all(r["state_hash"] == forward["state_hash"] for r in runs)
        and reverse["state_hash"] == forward["state_hash"]
        and forward["cases"] == union == reverse["cases"]
    )
    common = {"devices": args.devices, "ops_per_device": args.ops, "records": args.records}
    common["samples"] = args.repeats

    def report(impl: str, name: str, value: float, unit: str, **extra: Any) -> None:
        emit(figures, impl, name, value, unit, bench="merge", **common, **extra)

    pycrdt_what = f"{args.devices} Docs x {args.ops} Map updates applied to one fresh Doc"
    report("pycrdt", "apply_s", statistics.median(pycrdt_s), "s", updates=len(updates), what=pycrdt_what)
    apply_s = statistics.median(r["apply_s"] for r in runs)
    per_batch = total // len(batches)
    batching = f"one Replica.apply per device, one merge session: {len(batches)} batches of ~{per_batch}"
    report(
        "fieldapp",
        "apply_s",
        apply_s,
        "s",
        ops=total,
        batches=batching,
        receiver=receiver_what,
        target="<= 1.5 s",
        met=apply_s <= 1.5,
    )
    report("fieldapp", "ops_per_s", total / apply_s, "ops/s")
    for name in forward["phases"]:
        report(
            "fieldapp",
            f"{name}_s",
            statistics.median(r["phases"][name] for r in runs),
            "s",
            what=PHASE_WHAT[name],
        )
    report("fieldapp", "ops_applied", forward["applied"], "ops", mix=dict(mix))
    report(
        "fieldapp",
        "converged",
        int(converged),
        "bool",
        cases=len(forward["cases"]),
        union_of_devices_cases=len(union),
        reverse_order_cases=len(reverse["cases"]),
        state_hash=forward["state_hash"],
        reverse_order_state_hash=reverse["state_hash"],
        reverse_order_apply_s=sig(reverse["apply_s"]),
    )
    note(f"done in {time.perf_counter() - started:.0f} s, {len(figures)} figures")
    if not converged:
        raise SystemExit("the receivers did not converge (see the 'converged' figure)")
