#!/usr/bin/env python3
"""Benchmarks of fieldapp, one subcommand per bench: ``python scripts/bench.py {store,merge} [options]``.

Every figure is one JSON object on its own stdout line::

    {"bench": "store", "name": ..., "value": ..., "unit": ..., "ratio_vs": {...}, "impl": ...}

Figures of fieldapp (impl "fieldapp") carry plain names and ratios against the bench's
references for the same name; reference figures are named "<impl>.<name>" in the store
bench and "<impl>_<name>" in the merge bench. Progress and commentary go to stderr. All
data lives in a temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tinydb import TinyDB
from tinydb.storages import Storage

from fieldapp import model
from fieldapp.device import init_device
from fieldapp.service import CaseError, CaseService
from storage import DEFAULT_KDF, FieldDB, KdfParams
from storage.files import atomic_write
from sync import replica as replica_module
from sync.hlc import HybridClock
from sync.replica import Entry, Replica

PASSPHRASE = "bench passphrase, not a secret"
FAST_KDF = KdfParams(memory_kib=8192, iterations=1, lanes=1)
TABLE = "cases"
BASELINES = ("sqlite3", "tinydb_aesgcm")
IMPLS = (*BASELINES, "fieldapp")
#: Per bench: the references fieldapp figures are compared with, and how their figures are named.
REFERENCES = {"store": (BASELINES, "."), "merge": (("pycrdt",), "_")}
Figures = dict[tuple[str, str], float]

# ---------------------------------------------------------------- fake case records

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯邓曹彭"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红春梅文海"
VILLAGES = [
    ("东岭村", "Dongling"),
    ("西河村", "Xihe"),
    ("南山村", "Nanshan"),
    ("北坡村", "Beipo"),
    ("石桥村", "Shiqiao"),
    ("柳树湾村", "Liushuwan"),
    ("杏花村", "Xinghua"),
    ("青龙村", "Qinglong"),
]
CATEGORIES = (
    "family",
    "marriage",
    "neighbor",
    "land",
    "homestead",
    "irrigation",
    "debt",
    "wages",
    "housing",
    "injury",
    "hazard",
    "other",
)
RISKS = ("red", "orange", "yellow")
STATUSES = ("open", "mediating", "agreed", "referred", "closed")
SUMMARY_PARTS = [
    "双方因宅基地边界问题发生争执",
    "就灌溉用水的分配产生矛盾",
    "邻里之间因噪音问题多次口角",
    "拖欠务工工资约三个月未结清",
    "家庭内部因赡养老人问题发生纠纷",
    "借款到期未还引发冲突",
    "院墙出现裂缝存在倒塌隐患",
    "村委会已组织过一次调解",
    "当事人情绪较为激动",
    "建议民警近期上门回访",
    "双方同意下周再次协商",
    "已通知司法所参与调解",
]


def fake_name(rng: random.Random) -> str:
    """A made-up Chinese name: random surname plus one or two given-name characters."""
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


def fake_phone(rng: random.Random) -> str:
    """A made-up mobile number of the form 1xx-xxxx-xxxx."""
    digits = [rng.randrange(10) for _ in range(9)]
    return "1{}{}-{}{}{}{}-{}{}{}{}".format(rng.choice("3456789"), *digits)


def fake_case(rng: random.Random, seq: int) -> dict[str, Any]:
    """One realistic dispute-case document (about 500 bytes of msgpack); no real people."""
    village, village_en = rng.choice(VILLAGES)
    opened = 1_700_000_000 + rng.randrange(60_000_000)
    parties = [
        {"role": role, "name": fake_name(rng), "phone": fake_phone(rng), "age": rng.randint(18, 85)}
        for role in ("complainant", "respondent")
    ]
    return {
        "case_no": f"{village_en[:2].upper()}-{seq:07d}",
        "uid": f"{rng.getrandbits(128):032x}",
        "village": village,
        "village_en": village_en,
        "place": f"{village}{rng.randint(1, 12)}组{rng.randint(1, 60)}号",
        "category": rng.choice(CATEGORIES),
        "risk": rng.choice(RISKS),
        "status": rng.choice(STATUSES),
        "parties": parties,
        "summary": "，".join(rng.sample(SUMMARY_PARTS, rng.randint(2, 4))) + "。",
        "officer": fake_name(rng),
        "created_at": opened,
        "updated_at": opened + rng.randrange(2_000_000),
        "deadline": time.strftime("%Y-%m-%d", time.gmtime(opened + 86400 * rng.randint(3, 30))),
        "device": f"{rng.getrandbits(32):08x}",
        "version": rng.randint(1, 9),
    }


def fake_update(rng: random.Random) -> dict[str, Any]:
    """The fields a typical edit changes: status, risk, time and who did it."""
    when = 1_760_000_000 + rng.randrange(10**6)
    return {
        "status": rng.choice(STATUSES),
        "risk": rng.choice(RISKS),
        "updated_at": when,
        "officer": fake_name(rng),
    }


def dumps(doc: Any) -> str:
    """JSON as the references store it (UTF-8 text, not \\u escapes)."""
    return json.dumps(doc, ensure_ascii=False)


# ---------------------------------------------------------------- the three implementations


class TinyDBImpl:
    """A TinyDB-based implementation: a save is one insert or update of one document."""

    db: TinyDB

    def insert(self, doc: dict[str, Any]) -> None:
        """Durably add one record."""
        self.db.table(TABLE).insert(doc)

    def update(self, doc_id: int, fields: dict[str, Any]) -> None:
        """Durably change some fields of an existing record."""
        self.db.table(TABLE).update(fields, doc_ids=[doc_id])

    def close(self) -> None:
        """Close (lock) the database."""
        self.db.close()


class FieldappImpl(TinyDBImpl):
    """Our store: each save is one sealed, fdatasync'd journal append."""

    def __init__(self, path: Path, records: list[dict[str, Any]], kdf: KdfParams) -> None:
        self.db = FieldDB.create(path, PASSPHRASE, kdf)
        with self.db.transaction():
            self.db.table(TABLE).insert_multiple(records)
        self.db.store.compact()


class AesGcmJSONStorage(Storage):
    """Naive TinyDB storage: the whole DB as JSON, the whole file sealed with AES-256-GCM."""

    def __init__(self, path: Path) -> None:
        self.path = path / "db.json.enc"
        self.aead = AESGCM((path / "key.bin").read_bytes())  # a raw key file: baseline only

    def read(self) -> dict[str, dict[str, Any]] | None:
        """Decrypt and parse the whole file."""
        if not self.path.exists():
            return None
        raw = self.path.read_bytes()
        return json.loads(self.aead.decrypt(raw[:12], raw[12:], None))

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Seal everything with a fresh nonce; temp file, fsync, os.replace, fsync directory."""
        nonce = os.urandom(12)
        atomic_write(self.path, nonce + self.aead.encrypt(nonce, dumps(data).encode(), None))


class NaiveImpl(TinyDBImpl):
    """The naive baseline: stock TinyDB (whole-file read and rewrite) over `AesGcmJSONStorage`."""

    def __init__(self, path: Path, records: list[dict[str, Any]], kdf: KdfParams) -> None:
        path.mkdir(parents=True)
        (path / "key.bin").write_bytes(AESGCM.generate_key(bit_length=256))
        AesGcmJSONStorage(path).write({TABLE: {str(i): r for i, r in enumerate(records, 1)}})
        self.db = TinyDB(path, storage=AesGcmJSONStorage)


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """Autocommit connection in WAL mode with full fsync on every commit."""
    conn = sqlite3.connect(path / "cases.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class SqliteImpl:
    """The reference: sqlite3 with one JSON document per row."""

    def __init__(self, path: Path, records: list[dict[str, Any]], kdf: KdfParams) -> None:
        path.mkdir(parents=True)
        self.conn = sqlite_connect(path)
        self.conn.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)")
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO cases (doc) VALUES (?)", ((dumps(r),) for r in records))
        self.conn.execute("COMMIT")

    def insert(self, doc: dict[str, Any]) -> None:
        """INSERT + COMMIT (autocommit)."""
        self.conn.execute("INSERT INTO cases (doc) VALUES (?)", (dumps(doc),))

    def update(self, doc_id: int, fields: dict[str, Any]) -> None:
        """Read-modify-write of one document in one transaction."""
        self.conn.execute("BEGIN IMMEDIATE")
        (raw,) = self.conn.execute("SELECT doc FROM cases WHERE id = ?", (doc_id,)).fetchone()
        doc = json.loads(raw) | fields
        self.conn.execute("UPDATE cases SET doc = ? WHERE id = ?", (dumps(doc), doc_id))
        self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


IMPL_CLASSES: dict[str, Callable[..., Any]] = {
    "fieldapp": FieldappImpl,
    "sqlite3": SqliteImpl,
    "tinydb_aesgcm": NaiveImpl,
}


def unlock(impl: str, path: Path) -> Callable[[], None]:
    """Unlock the store in `path`; return a function that locks it again."""
    if impl == "fieldapp":
        db = FieldDB.open(path, PASSPHRASE)
        return db.close
    if impl == "tinydb_aesgcm":
        data = AesGcmJSONStorage(path).read()
        if not data:
            raise RuntimeError(f"no naive store in {path}")
        return data.clear
    conn = sqlite_connect(path)  # first query: the 50 most recent cases, as a list screen would
    query = "SELECT doc FROM cases ORDER BY id DESC LIMIT 50"
    if not [json.loads(doc) for (doc,) in conn.execute(query)]:
        raise RuntimeError(f"no sqlite3 store in {path}")
    return conn.close


# ---------------------------------------------------------------- measuring and reporting


def p99(samples: list[float]) -> float:
    """99th percentile by nearest rank (the maximum when there are under 100 samples)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def make_op(op: str, store: Any, n: int, docs: list[Any], rng: random.Random) -> Callable[[int], Any]:
    """The i-th timed save: "save" inserts new doc i, "update" edits a random existing record."""
    if op == "save":
        return lambda i: store.insert(docs[i + 1])
    return lambda i: store.update(rng.randint(1, n), fake_update(rng))


def time_ms(
    ops: dict[str, Callable[[int], Any]], count: int, budget_s: float = math.inf
) -> dict[str, list[float]]:
    """Per-call ms of op(0..count-1) for each impl, round-robin so that noise hits all alike.

    Each op first runs once untimed (op(-1)) to warm up; timing stops early past the budget.
    """
    for op in ops.values():
        op(-1)
    os.sync()  # start from clean page cache so earlier bulk writes do not slow these fsyncs
    gc.collect()
    samples: dict[str, list[float]] = {impl: [] for impl in ops}
    start = time.perf_counter()
    for i in range(count):
        for impl, op in ops.items():
            t0 = time.perf_counter()
            op(i)
            samples[impl].append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() - start > budget_s:
            break
    return samples


def peak_rss_mb() -> float:
    """This process's RSS high-water mark in MB.

    On Linux, getrusage's ru_maxrss survives exec: a child started from this (big) bench
    process would report the parent's peak. VmHWM belongs to the child's own address space.
    """
    status = Path("/proc/self/status")
    if status.exists():
        return int(status.read_text().split("VmHWM:")[1].split()[0]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sig(x: float) -> float:
    """Round to 4 significant digits (counts stay integers)."""
    return x if isinstance(x, int) else float(f"{x:.4g}")


def size_label(n: int) -> str:
    """1000 -> "1k", 100000 -> "100k", 500 -> "500"."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def emit(
    figures: Figures, impl: str, name: str, value: float, unit: str, bench: str = "store", **extra: Any
) -> None:
    """Record a figure and print it as one JSON line; fieldapp figures get ratios."""
    figures[(impl, name)] = value
    references, sep = REFERENCES[bench]
    ratio_vs = {}
    if impl == "fieldapp":
        ratio_vs = {b: sig(value / figures[(b, name)]) for b in references if figures.get((b, name), 0) > 0}
    shown = name if impl == "fieldapp" else f"{impl}{sep}{name}"
    figure = {"bench": bench, "name": shown, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs, "impl": impl, **extra}
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def note(message: str) -> None:
    """Human commentary on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextmanager
def scratch_dir(workdir: Path | None) -> Iterator[Path]:
    """A temporary data directory (inside `workdir` if given), removed at the end."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fieldapp-bench-", dir=workdir))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench_saves(args: argparse.Namespace, root: Path, n: int, kdf: KdfParams, figures: Figures) -> None:
    """Populate each impl with n records, then time durable inserts and updates.

    sqlite3 and fieldapp are timed interleaved; the slow naive baseline runs after them, alone,
    for fewer saves (see --naive-saves) so that its huge rewrites do not disturb them.
    """
    label, largest = size_label(n), max(args.sizes)
    rng = random.Random(args.seed)
    records = [fake_case(rng, i) for i in range(n)]
    new_docs = [fake_case(rng, n + i) for i in range(args.saves + 1)]
    stores: dict[str, Any] = {}
    for impl in IMPLS:
        t0 = time.perf_counter()
        stores[impl] = IMPL_CLASSES[impl](root / label / impl, records, kdf)
        note(f"{impl}: {n} records stored in {time.perf_counter() - t0:.1f} s")
    naive_count = min(args.saves, max(1, args.naive_saves * largest // n))
    groups = [(("sqlite3", "fieldapp"), args.saves, math.inf)]
    groups.append((("tinydb_aesgcm",), naive_count, args.naive_budget))
    samples: dict[tuple[str, str], list[float]] = {}
    for impls, count, budget in groups:
        for op in ("save", "update"):
            ops = {impl: make_op(op, stores[impl], n, new_docs, rng) for impl in impls}
            samples |= {(impl, op): ms for impl, ms in time_ms(ops, count, budget).items()}
    if n == largest:  # the journal is folded into a new snapshot now and then: that save stalls
        t0 = time.perf_counter()
        stores["fieldapp"].db.store.compact()
        compact_s = time.perf_counter() - t0
    for impl, store in stores.items():
        store.close()
        if n != largest:
            shutil.rmtree(root / label / impl)
    for impl in IMPLS:  # the references first: fieldapp figures carry ratios to them
        for op in ("save", "update"):
            ms = samples[(impl, op)]
            for stat, value in (("median", statistics.median(ms)), ("p99", p99(ms))):
                name = f"{op}_{stat}_ms_{label}"
                extra: dict[str, Any] = {"samples": len(ms), "records": n}
                if impl == "fieldapp" and stat == "median" and n == largest:
                    met = value <= 5 and value <= 10 * figures[("sqlite3", name)]
                    extra |= {"target": "<= 5 ms and <= 10x sqlite3", "met": met}
                emit(figures, impl, name, value, "ms", **extra)
    if n == largest:
        emit(figures, "fieldapp", f"compact_s_{label}", compact_s, "s", samples=1, records=n)


def bench_unlock(args: argparse.Namespace, root: Path, kdf: KdfParams, figures: Figures) -> None:
    """KDF time; unlock time and peak RSS of each impl's largest store, in fresh child processes.

    A fresh process is what an app start pays, and neither time nor memory is then skewed by
    this process's big heap. Unlock time is the median of the runs, peak RSS the highest.
    """
    n = max(args.sizes)
    label = size_label(n)
    kdf_ms = []
    for _ in range(args.unlock_runs):
        t0 = time.perf_counter()
        kdf.derive(PASSPHRASE, os.urandom(16))
        kdf_ms.append((time.perf_counter() - t0) * 1000)
    emit(figures, "fieldapp", "kdf_ms", statistics.median(kdf_ms), "ms", samples=len(kdf_ms), kdf=vars(kdf))
    runs: dict[str, list[dict[str, float]]] = {impl: [] for impl in IMPLS}
    for _ in range(args.unlock_runs):
        for impl in IMPLS:  # interleaved, like the saves
            cmd = [sys.executable, __file__, "_unlock-child", impl, str(root / label / impl)]
            out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
            runs[impl].append(json.loads(out))
    for impl, results in runs.items():
        extra: dict[str, Any] = {"samples": len(results), "records": n, "process": "child"}
        unlock_s = statistics.median(r["unlock_s"] for r in results)
        met = {"target": "<= 2 s", "met": unlock_s <= 2} if impl == "fieldapp" else {}
        emit(figures, impl, f"unlock_s_{label}", unlock_s, "s", **extra, **met)
        baseline = statistics.median(r["baseline_mb"] for r in results)
        emit(figures, impl, f"baseline_rss_mb_{label}", baseline, "MB", **extra)
        peak = max(r["peak_mb"] for r in results)
        met = {"target": "<= 400 MB", "met": peak <= 400} if impl == "fieldapp" else {}
        emit(figures, impl, f"peak_rss_mb_{label}", peak, "MB", **extra, **met)


def bench_store(args: argparse.Namespace) -> None:
    """The `store` bench: our encrypted store vs sqlite3 (reference) vs naive encrypted TinyDB.

    Durable save latency (insert and update) at each size, then KDF time, unlock time and
    peak memory at the largest size. The naive baseline rewrites its whole file on every
    save, so it gets fewer saves (each figure says how many in "samples").
    """
    kdf = FAST_KDF if args.kdf_fast else DEFAULT_KDF
    figures: Figures = {}
    started = time.perf_counter()
    with scratch_dir(args.workdir) as root:
        sample = msgpack.packb(fake_case(random.Random(args.seed), 0), use_bin_type=True)
        note(f"data in {root}; KDF {kdf}; a record is ~{len(sample)} bytes of msgpack")
        for n in sorted(args.sizes):
            bench_saves(args, root, n, kdf, figures)
        bench_unlock(args, root, kdf, figures)
    note(f"done in {time.perf_counter() - started:.0f} s, {len(figures)} figures")


def unlock_child(args: argparse.Namespace) -> None:
    """Child process: unlock one store; print the time it took and peak RSS before and after."""
    baseline = peak_rss_mb()
    t0 = time.perf_counter()
    lock = unlock(args.impl, args.directory)
    unlock_s = time.perf_counter() - t0
    peak = peak_rss_mb()
    lock()
    result = {"impl": args.impl, "unlock_s": unlock_s, "baseline_mb": baseline, "peak_mb": peak}
    print(json.dumps(result))


# ---------------------------------------------------------------- merge: field work, sync, pycrdt

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


@contextmanager
def timed_calls(module: Any, name: str) -> Iterator[list[float]]:
    """Seconds of every call of the function `module.name` made inside the block."""
    original = getattr(module, name)
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    setattr(module, name, timed)
    try:
        yield spent
    finally:
        setattr(module, name, original)


def apply_batches(replica: Replica, batches: list[list[Entry]]) -> dict[str, Any]:
    """Verify and durably apply every batch, one Replica.apply per batch, in one merge session
    (the station's shift-end sync round): each batch is stored durably as it arrives and the
    cases are folded once at the end, inside the timed span.

    Returns the seconds it took, the part of them spent in sync.verify.verify_batch (on
    the same entries, with the VerifyContext Replica.apply builds), and the ops applied.
    """
    os.sync()  # the fresh copy's dirty pages must not slow the first fsyncs
    gc.collect()
    applied = 0
    with timed_calls(replica_module, "verify_batch") as verify_times:
        t0 = time.perf_counter()
        with replica.merge_session():
            for entries in batches:
                report = replica.apply(entries)
                if report.rejections or report.held_back or report.duplicates or report.forks:
                    raise RuntimeError(f"the receiver did not take a batch whole: {report}")
                applied += report.applied
        apply_s = time.perf_counter() - t0
    if len(verify_times) != len(batches):
        raise RuntimeError("Replica.apply no longer calls sync.replica.verify_batch: fix verify_s")
    return {"apply_s": apply_s, "verify_s": sum(verify_times), "applied": applied}


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
    report(
        "fieldapp",
        "verify_s",
        statistics.median(r["verify_s"] for r in runs),
        "s",
        what="time in sync.verify.verify_batch within apply_s (same entries and VerifyContext)",
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


def parse_sizes(text: str) -> list[int]:
    """ "1000,10000" -> [1000, 10000]."""
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, comma-separated")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per bench."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{store,merge}")
    store = sub.add_parser(
        "store",
        help="encrypted store vs sqlite3 vs naive encrypted TinyDB",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = store.add_argument
    add("--sizes", type=parse_sizes, default="1000,10000,100000", help="records per store")
    add("--saves", type=int, default=200, help="timed saves per op and size")
    add(
        "--naive-saves",
        type=int,
        default=5,
        help="naive saves at the largest size (proportionally more at smaller sizes, up to --saves)",
    )
    add("--naive-budget", type=float, default=30.0, help="seconds of naive saves per op and size")
    add("--unlock-runs", type=int, default=3, help="unlock timings to take the median of")
    add("--kdf-fast", action="store_true", help="cheap KDF (for smoke tests)")
    add("--seed", type=int, default=20240611, help="seed of the fake records")
    add("--workdir", type=Path, help="make the temporary data directory in this one")
    store.set_defaults(func=bench_store)
    merge = sub.add_parser(
        "merge",
        help="a station verifies and applies many devices' offline work vs pycrdt",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = merge.add_argument
    add("--devices", type=int, default=30, help="devices working offline")
    add("--ops", type=int, default=1000, help="operations each device records")
    add("--records", type=int, default=100_000, help="records already in the receiving station's store")
    add("--shared", type=int, default=10, help="shared cases per device, known to all before going out")
    add("--repeats", type=int, default=3, help="timed applies (fresh store copies) to take the median of")
    add("--seed", type=int, default=20240611, help="seed of the fake work")
    add("--workdir", type=Path, help="make the temporary data directory in this one")
    merge.set_defaults(func=bench_merge)
    child = sub.add_parser("_unlock-child")
    child.add_argument("impl", choices=IMPLS)
    child.add_argument("directory", type=Path)
    child.set_defaults(func=unlock_child)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
