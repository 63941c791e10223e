"""`bench.py draw --quick` runs end to end and prints well-formed figures (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
SCREENS = ("sup_dashboard", "sup_review", "sup_devices", "sup_reports", "sup_shift", "sup_persons", "find")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_draw_bench_quick_prints_every_figure_against_both_references(tmp_path: Path) -> None:
    cmd = [sys.executable, str(BENCH), "draw", "--quick", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr
    figures = [json.loads(line) for line in proc.stdout.splitlines()]
    by_name = {f["name"]: f for f in figures}
    assert len(by_name) == len(figures)
    for figure in figures:
        assert figure["bench"] == "draw" and figure["value"] >= 0 and figure["unit"] == "ms", figure
    names = [f"{kind}_ms_{screen}_1k" for screen in SCREENS for kind in ("chops", "render")]
    names += [f"key_{kind}{p95}_ms_1k" for kind in ("draw", "lines", "chops") for p95 in ("", "_p95")]
    for name in names:
        assert by_name[name]["impl"] == "fieldapp", name
        assert set(by_name[name]["ratio_vs"]) <= {"textual", "per_cell"}, name
        for impl in ("textual", "per_cell"):
            assert by_name[f"{impl}_{name}"]["impl"] == impl, name
    assert by_name["chops_ms_find_1k"]["value"] > 0
    assert by_name["key_draw_ms_1k"]["keystrokes"] > 0
    assert not list(tmp_path.iterdir())  # the data is removed at the end
