"""`scripts/bench.py kdf` runs and prints the KDF figure the docs quote. No speed is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"


@pytest.mark.timeout(120)
def test_kdf_bench_prints_the_median_of_its_runs() -> None:
    cmd = [sys.executable, str(BENCH), "kdf", "--runs", "3", "--kdf-fast"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=100, check=False)
    assert proc.returncode == 0, proc.stderr
    (figure,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert (figure["bench"], figure["name"], figure["unit"]) == ("kdf", "kdf_ms", "ms")
    assert figure["samples"] == 3 and 0 < figure["min_ms"] <= figure["value"] <= figure["max_ms"]
    assert figure["kdf"] == {"memory_kib": 8192, "iterations": 1, "lanes": 1}
