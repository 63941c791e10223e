#!/usr/bin/env python3
"""Benchmarks of fieldapp, one subcommand per bench: ``python scripts/bench.py store [options]``.

Every figure is one JSON object on its own stdout line::

    {"bench": "store", "name": ..., "value": ..., "unit": ..., "ratio_vs": {...}, "impl": ...}

Figures of our store (impl "fieldapp") carry plain names and ratios against the two
references at the same size; reference figures are named "<impl>.<name>". Progress and
commentary go to stderr. All data lives in a temporary directory removed at the end.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tinydb import TinyDB
from tinydb.storages import Storage

from storage import DEFAULT_KDF, FieldDB, KdfParams
from storage.files import atomic_write

PASSPHRASE = "bench passphrase, not a secret"
FAST_KDF = KdfParams(memory_kib=8192, iterations=1, lanes=1)
TABLE = "cases"
BASELINES = ("sqlite3", "tinydb_aesgcm")
IMPLS = (*BASELINES, "fieldapp")
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
    """Round to 4 significant digits."""
    return float(f"{x:.4g}")


def size_label(n: int) -> str:
    """1000 -> "1k", 100000 -> "100k", 500 -> "500"."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def emit(figures: Figures, impl: str, name: str, value: float, unit: str, **extra: Any) -> None:
    """Record a figure and print it as one JSON line; fieldapp figures get ratios."""
    figures[(impl, name)] = value
    ratio_vs = {}
    if impl == "fieldapp":
        ratio_vs = {b: sig(value / figures[(b, name)]) for b in BASELINES if figures.get((b, name), 0) > 0}
    shown = name if impl == "fieldapp" else f"{impl}.{name}"
    figure = {"bench": "store", "name": shown, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs, "impl": impl, **extra}
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def note(message: str) -> None:
    """Human commentary on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


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
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="fieldapp-bench-", dir=args.workdir))
    sample = msgpack.packb(fake_case(random.Random(args.seed), 0), use_bin_type=True)
    note(f"data in {root}; KDF {kdf}; a record is ~{len(sample)} bytes of msgpack")
    figures: Figures = {}
    started = time.perf_counter()
    try:
        for n in sorted(args.sizes):
            bench_saves(args, root, n, kdf, figures)
        bench_unlock(args, root, kdf, figures)
    finally:
        shutil.rmtree(root, ignore_errors=True)
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{store}")
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
