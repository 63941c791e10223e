"""`scripts/bench.py persons --quick` runs end to end and prints well-formed figures (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"


@pytest.mark.timeout(300)
def test_persons_bench_quick_prints_the_lookup_against_a_plain_dict(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH), "persons", "--quick", "--workdir", str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr
    figures = {f["name"]: f for f in map(json.loads, run.stdout.splitlines())}
    assert set(figures) == {
        "dict_lookup_related_cases_ms_1k",
        "related_cases_ms_1k",
        "warning_check_ms_1k",
        "index_copy_slice_ms_1k",
        "person_index_build_s_1k",
        "key_persons_s_1k",
        "key_persons_kept_s_1k",
        "person_index_update_ms_k10_1k",
        "person_index_update_ms_k100_1k",
    }
    lookup = figures["related_cases_ms_1k"]
    assert lookup["value"] > 0 and lookup["ratio_vs"]["dict_lookup"] > 0 and lookup["target"] == 50.0
    assert lookup["with_related"] > 0 and lookup["persons"] > 0
    assert figures["person_index_build_s_1k"]["value"] > 0
    assert figures["warning_check_ms_1k"]["value"] > 0 and figures["warning_check_ms_1k"]["target"] == 50.0
    assert figures["index_copy_slice_ms_1k"]["value"] > 0
    assert figures["key_persons_s_1k"]["value"] > 0 and figures["key_persons_s_1k"]["key_persons"] >= 0
    update = figures["person_index_update_ms_k10_1k"]
    assert update["value"] > 0 and update["changed_cases"] == 10 and update["build_over_update"] > 0
    assert figures["key_persons_kept_s_1k"]["value"] > 0
    assert list(tmp_path.iterdir()) == []  # the bench's data is gone
