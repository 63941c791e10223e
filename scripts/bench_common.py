"""What the benches share: fake case data, measuring, and the figures they print.

Every figure is one JSON object on its own stdout line (`emit`); commentary goes to
stderr (`note`); all data lives in a `scratch_dir` removed at the end. The benches
are `bench_store.py`, `bench_merge.py` and `bench_sync.py`; `bench.py` is their command line.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fieldapp.domain.model import CATEGORIES, RISKS
from storage import KdfParams

PASSPHRASE = "bench passphrase, not a secret"
FAST_KDF = KdfParams(memory_kib=8192, iterations=1, lanes=1)
#: The store bench's references.
BASELINES = ("sqlite3", "tinydb_aesgcm")
#: Per bench: the references fieldapp figures are compared with, and how their figures are named.
REFERENCES = {
    "store": (BASELINES, "."),
    "merge": (("pycrdt",), "_"),
    "sync": (("ops_msgpack", "ops_file"), "_"),
    "kdf": ((), "_"),
    "persons": (("dict_lookup",), "_"),
}
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


# ---------------------------------------------------------------- measuring and reporting


def p99(samples: list[float]) -> float:
    """99th percentile by nearest rank (the maximum when there are under 100 samples)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


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


def emit(
    figures: Figures,
    impl: str,
    name: str,
    value: float,
    unit: str,
    bench: str = "store",
    compare_as: str | None = None,
    **extra: Any,
) -> None:
    """Record a figure and print it as one JSON line; fieldapp figures get ratios.

    The ratios are to the references' figures of the same name, or of `compare_as`
    (another count of the same thing, e.g. TCP bytes against frame bytes' references).
    """
    figures[(impl, name)] = value
    references, sep = REFERENCES[bench]
    ratio_vs = {}
    if impl == "fieldapp":
        ref = compare_as or name
        ratio_vs = {b: sig(value / figures[(b, ref)]) for b in references if figures.get((b, ref), 0) > 0}
    shown = name if impl == "fieldapp" else f"{impl}{sep}{name}"
    figure = {"bench": bench, "name": shown, "value": sig(value), "unit": unit}
    figure |= {"ratio_vs": ratio_vs, "impl": impl, **extra}
    if compare_as:
        figure["ratio_vs_figure"] = compare_as  # the references' figure the ratios are to
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
