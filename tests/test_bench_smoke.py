"""`scripts/bench.py store`, `merge` and `sync`, and `scripts/simulate_station.py --quick`, run end to
end and print well-formed figures.

No speed is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
REQUIRED = {"bench", "name", "value", "unit", "ratio_vs"}
IMPLS = ("fieldapp", "sqlite3", "tinydb_aesgcm")
BASELINES = ("sqlite3", "tinydb_aesgcm")
SIZES = ("200", "500")


def shown(impl: str, name: str) -> str:
    """How the bench names a figure: plain for fieldapp, prefixed for the references."""
    return name if impl == "fieldapp" else f"{impl}.{name}"


def run_bench(workdir: Path) -> list[dict[str, Any]]:
    """Run the small store bench; return every stdout line parsed as JSON."""
    cmd = [
        sys.executable,
        str(BENCH),
        "store",
        "--sizes",
        ",".join(SIZES),
        "--saves",
        "10",
        "--naive-saves",
        "3",
        "--kdf-fast",
        "--workdir",
        str(workdir),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    return [json.loads(line) for line in lines]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_store_bench_prints_every_figure(tmp_path: Path) -> None:
    """Every line is a figure with the required keys; every expected figure is there, > 0."""
    figures = run_bench(tmp_path)
    by_name: dict[str, dict[str, Any]] = {}
    for figure in figures:
        assert figure.keys() >= REQUIRED, figure
        assert figure["bench"] == "store"
        assert isinstance(figure["value"], int | float) and not isinstance(figure["value"], bool)
        assert isinstance(figure["unit"], str) and figure["unit"]
        assert isinstance(figure["ratio_vs"], dict)
        assert figure["name"] not in by_name, f"duplicate figure {figure['name']}"
        by_name[figure["name"]] = figure

    expected = [
        (impl, f"{op}_{stat}_ms_{size}")
        for impl in IMPLS
        for size in SIZES
        for op in ("save", "update")
        for stat in ("median", "p99")
    ]
    expected += [
        (impl, f"{metric}_{SIZES[-1]}")
        for impl in IMPLS
        for metric in ("unlock_s", "peak_rss_mb", "baseline_rss_mb")
    ]
    expected.append(("fieldapp", "kdf_ms"))
    for impl, name in expected:
        figure = by_name.get(shown(impl, name))
        assert figure is not None, f"missing {impl} figure {name}"
        assert figure["value"] > 0, figure
        if impl == "fieldapp" and name != "kdf_ms":
            assert set(figure["ratio_vs"]) == set(BASELINES), figure
            assert all(ratio > 0 for ratio in figure["ratio_vs"].values()), figure

    for metric in ("save_median_ms", "update_median_ms", "unlock_s", "peak_rss_mb"):
        name = f"{metric}_{SIZES[-1]}"
        assert isinstance(by_name[name]["met"], bool) and by_name[name]["target"], by_name[name]
    assert list(tmp_path.iterdir()) == [], "the bench left data behind"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_merge_bench_prints_every_figure(tmp_path: Path) -> None:
    """A tiny merge bench: well-formed figures, positive timings, and the receivers converged."""
    cmd = [sys.executable, str(BENCH), "merge", "--devices", "3", "--ops", "60", "--records", "500"]
    cmd += ["--repeats", "1", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    by_name: dict[str, dict[str, Any]] = {}
    for line in lines:
        figure = json.loads(line)
        assert figure.keys() >= REQUIRED, figure
        assert figure["bench"] == "merge"
        assert isinstance(figure["value"], int | float) and not isinstance(figure["value"], bool)
        assert isinstance(figure["unit"], str) and figure["unit"]
        assert isinstance(figure["ratio_vs"], dict)
        assert figure["name"] not in by_name, f"duplicate figure {figure['name']}"
        by_name[figure["name"]] = figure

    for name in ("apply_s", "pycrdt_apply_s", "ops_per_s", "verify_s", "ops_applied", "converged"):
        assert name in by_name, f"missing figure {name}"
    apply_s = by_name["apply_s"]["value"]
    for phase in ("verify", "store", "journal", "fsync", "fold", "rules"):  # where the time went
        assert 0 < by_name[f"{phase}_s"]["value"] < apply_s, by_name[f"{phase}_s"]
    assert by_name["fsync_s"]["value"] <= by_name["journal_s"]["value"]
    assert 0 <= by_name["collector_s"]["value"] < apply_s
    assert by_name["apply_s"]["value"] > 0 and by_name["pycrdt_apply_s"]["value"] > 0
    assert by_name["apply_s"]["ratio_vs"]["pycrdt"] > 0
    assert isinstance(by_name["apply_s"]["met"], bool) and by_name["apply_s"]["target"]
    assert by_name["ops_applied"]["value"] == by_name["apply_s"]["ops"] >= 3 * 60
    assert by_name["converged"]["value"] == 1, by_name["converged"]
    assert list(tmp_path.iterdir()) == [], "the bench left data behind"


#: What `bench.py sync --quick` runs: this many new operations, one repeat.
QUICK_SYNC_OPS = 40


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sync_bench_prints_every_figure(tmp_path: Path) -> None:
    """A tiny sync bench over TLS on loopback: every figure, both byte counts, targets, convergence."""
    cmd = [sys.executable, str(BENCH), "sync", "--quick", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=110, check=False)
    assert proc.returncode == 0, proc.stderr
    by_name: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.splitlines():
        figure = json.loads(line)
        assert figure.keys() >= REQUIRED, figure
        assert figure["bench"] == "sync"
        assert isinstance(figure["value"], int | float) and not isinstance(figure["value"], bool)
        assert isinstance(figure["unit"], str) and figure["unit"]
        assert figure["name"] not in by_name, f"duplicate figure {figure['name']}"
        by_name[figure["name"]] = figure

    n = QUICK_SYNC_OPS
    fieldapp = ["resync_bytes", "resync_tcp_bytes", "resync_s", f"new_work_bytes_{n}"]
    fieldapp += [f"new_work_tcp_bytes_{n}", f"sync_s_{n}", f"ops_per_s_{n}", "converged"]
    references = ["ops_file_resync_bytes", f"ops_msgpack_new_work_bytes_{n}", f"ops_file_new_work_bytes_{n}"]
    references += [f"ops_file_sync_s_{n}", f"ops_file_ops_per_s_{n}"]
    for name in fieldapp + references:
        assert name in by_name, f"missing figure {name}"
        assert by_name[name]["value"] > 0, by_name[name]
    for name in ("resync_bytes", "resync_tcp_bytes", f"new_work_bytes_{n}", f"new_work_tcp_bytes_{n}"):
        assert isinstance(by_name[name]["met"], bool) and by_name[name]["target"], by_name[name]
    for name in (f"new_work_bytes_{n}", f"new_work_tcp_bytes_{n}"):
        assert set(by_name[name]["ratio_vs"]) == {"ops_msgpack", "ops_file"}, by_name[name]
        assert by_name[name]["ratio_vs"]["ops_msgpack"] >= 1  # the operations themselves travel
    assert set(by_name[f"sync_s_{n}"]["ratio_vs"]) == {"ops_file"}
    # The TCP count holds the frames plus TLS: the handshake, record overhead, alerts.
    assert by_name["resync_tcp_bytes"]["value"] > by_name["resync_bytes"]["value"]
    assert by_name[f"new_work_tcp_bytes_{n}"]["value"] > by_name[f"new_work_bytes_{n}"]["value"]
    assert by_name["converged"]["value"] == 1
    assert list(tmp_path.iterdir()) == [], "the bench left data behind"


SIMULATE = BENCH.parent / "simulate_station.py"


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_simulate_station_quick_run_converges_and_times_keystrokes(tmp_path: Path) -> None:
    """`simulate_station --quick`: the app in station mode takes 4 devices' real syncs (two rounds)
    while Find's filter is typed into; every figure, every store equal, nothing left behind."""
    cmd = [sys.executable, str(SIMULATE), "--quick", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=140, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    by_name: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.splitlines():
        figure = json.loads(line)
        assert figure.keys() >= REQUIRED and figure["bench"] == "simulate_station", figure
        assert figure["devices"] == 4 and figure["name"] not in by_name, figure
        by_name[figure["name"]] = figure
    assert by_name["state_hashes_match"]["value"] == 1, by_name["state_hashes_match"]
    assert by_name["sessions_ok"]["value"] == by_name["sessions_ok"]["station_done"] == 8  # 2 rounds
    assert by_name["sessions_failed"]["value"] == 0
    # Each device brought a shift, some of it edits of the same cases as other devices.
    assert by_name["shift_operations"]["value"] >= 4 * 5 and by_name["shift_operations"]["conflict_edits"] > 0
    merged, converged = by_name["merged_at_station_s"]["value"], by_name["converged_s"]["value"]
    assert 0 < merged <= converged
    assert by_name["bytes_round_1"]["value"] > 0 and by_name["bytes_round_2"]["value"] > 0
    for name in ("filter_keystroke_ms_2k", "filter_keystroke_p95_ms_2k"):
        busy, quiet = by_name[name], by_name[f"quiet_{name}"]
        assert busy["keystrokes"] > 0 and quiet["keystrokes"] > 0 and quiet["reference"] is True
        assert busy["value"] > 0 and quiet["value"] > 0
        assert busy["ratio_vs"]["quiet"] == pytest.approx(busy["value"] / quiet["value"], rel=0.01)
    assert by_name["supervisor_refreshes_while_busy"]["value"] > 0  # the landings reached the screen
    assert list(tmp_path.iterdir()) == [], "the simulation left data behind"
