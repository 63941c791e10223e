"""The `store` bench: our encrypted store vs sqlite3 (reference) vs naive encrypted TinyDB.

Durable save latency (insert and update) at each size, then KDF time, unlock time and
peak memory at the largest size; the unlocks run in child processes started as
``bench.py _unlock-child IMPL DIRECTORY`` (`unlock_child`). The `kdf` bench
(`bench_kdf`) times the KDF alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
from bench_common import (
    BASELINES,
    FAST_KDF,
    PASSPHRASE,
    Figures,
    emit,
    fake_case,
    fake_update,
    note,
    p99,
    peak_rss_mb,
    scratch_dir,
    sig,
    time_ms,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tinydb import TinyDB
from tinydb.storages import Storage

from storage import DEFAULT_KDF, FieldDB, KdfParams
from storage.crypto import wrap_data_key
from storage.files import atomic_write

TABLE = "cases"
IMPLS = (*BASELINES, "fieldapp")
#: The entry point whose `_unlock-child` subcommand runs `unlock_child` in a fresh process.
BENCH_SCRIPT = Path(__file__).with_name("bench.py")


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


# ---------------------------------------------------------------- timed saves and unlocks


def make_op(op: str, store: Any, n: int, docs: list[Any], rng: random.Random) -> Callable[[int], Any]:
    """The i-th timed save: "save" inserts new doc i, "update" edits a random existing record."""
    if op == "save":
        return lambda i: store.insert(docs[i + 1])
    return lambda i: store.update(rng.randint(1, n), fake_update(rng))


def size_label(n: int) -> str:
    """1000 -> "1k", 100000 -> "100k", 500 -> "500"."""
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


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


def unwrap_ms(kdf: KdfParams, runs: int) -> list[float]:
    """Milliseconds of each of `runs` unwraps of a store's data key with parameters `kdf`.

    An unwrap is what an unlock pays before it reads any data: the Argon2id derivation
    from the passphrase, then AES-GCM opening the 32-byte data key (microseconds).
    """
    key = wrap_data_key(os.urandom(32), PASSPHRASE, os.urandom(16), kdf)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        key.unwrap(PASSPHRASE)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def bench_kdf(args: argparse.Namespace) -> None:
    """The `kdf` bench: the Argon2id cost of unlocking, alone (no store is built).

    Prints `kdf_ms`, the median of `--runs` unwraps with the default parameters (the
    same figure `bench.py store` prints), with the fastest and slowest run.
    """
    kdf = FAST_KDF if args.kdf_fast else DEFAULT_KDF
    note(f"KDF {kdf}; {args.runs} unwraps of a data key; {os.cpu_count()} CPUs")
    times = unwrap_ms(kdf, args.runs)
    emit(
        {},
        "fieldapp",
        "kdf_ms",
        statistics.median(times),
        "ms",
        bench="kdf",
        samples=len(times),
        # Rounded as the median is (`sig`), so the fastest never shows above it.
        min_ms=sig(min(times)),
        max_ms=sig(max(times)),
        kdf=vars(kdf),
        cpus=os.cpu_count(),
    )


def bench_unlock(args: argparse.Namespace, root: Path, kdf: KdfParams, figures: Figures) -> None:
    """KDF time; unlock time and peak RSS of each impl's largest store, in fresh child processes.

    A fresh process is what an app start pays, and neither time nor memory is then skewed by
    this process's big heap. Unlock time is the median of the runs, peak RSS the highest.
    """
    n = max(args.sizes)
    label = size_label(n)
    kdf_ms = unwrap_ms(kdf, args.unlock_runs)
    emit(figures, "fieldapp", "kdf_ms", statistics.median(kdf_ms), "ms", samples=len(kdf_ms), kdf=vars(kdf))
    runs: dict[str, list[dict[str, float]]] = {impl: [] for impl in IMPLS}
    for _ in range(args.unlock_runs):
        for impl in IMPLS:  # interleaved, like the saves
            cmd = [sys.executable, str(BENCH_SCRIPT), "_unlock-child", impl, str(root / label / impl)]
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
