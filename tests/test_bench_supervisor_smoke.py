"""`bench.py supervisor --quick` runs end to end and prints well-formed figures (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
FIGURES = (
    "supervise_open_s",
    "tab_review_s",
    "tab_devices_s",
    "tab_reports_s",
    "refresh_s",
    "decide_s",
    "peak_rss_mb",
)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_supervisor_bench_quick_prints_every_figure(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH), "supervisor", "--quick", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr
    figures = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {f["name"]: f for f in figures}
    assert len(by_name) == len(figures)
    for figure in figures:
        assert figure["bench"] == "supervisor" and figure["value"] > 0 and figure["unit"], figure
    for name in FIGURES:
        assert by_name[f"{name}_1k"]["impl"] == "fieldapp", name
    opened = by_name["supervise_open_s_1k"]
    assert opened["cases"] == 1000 and "dashboard_figures" in opened["ratio_vs"]
    assert by_name["dashboard_figures_supervise_open_s_1k"]["impl"] == "dashboard_figures"
    assert by_name["decide_s_1k"]["decided"] in ("escalation", "conflict", "red_closure")
    assert not list(tmp_path.iterdir())  # the data is removed at the end
