"""`scripts/bench_ui.py --quick` runs end to end and prints well-formed figures (no speed asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench_ui.py"
REQUIRED = {"bench", "name", "value", "unit", "ratio_vs", "impl"}
LABEL = "2k"  # --quick: 2,000 cases
FIELDAPP = (
    "unlock_s",
    "home_interactive_s",
    "start_to_home_s",
    "find_open_s",
    "filter_keystroke_ms",
    "filter_keystroke_p95_ms",
    "peak_rss_mb",
)
TARGETED = ("unlock_s", "home_interactive_s", "filter_keystroke_ms", "filter_keystroke_p95_ms", "peak_rss_mb")
REFERENCES = {
    "unlock_s": "store_open",
    "home_interactive_s": "home_figures",
    "start_to_home_s": "no_ui",
    "find_open_s": "index_build",
    "filter_keystroke_ms": "scan_only",
    "filter_keystroke_p95_ms": "scan_only",
}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ui_bench_quick_prints_every_figure(tmp_path: Path) -> None:
    """Every line is a figure; each fieldapp figure is there, positive, with its reference's ratio."""
    cmd = [sys.executable, str(BENCH), "--quick", "--workdir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, proc.stderr
    by_name: dict[str, dict[str, Any]] = {}
    for line in lines:
        figure = json.loads(line)
        assert figure.keys() >= REQUIRED, figure
        assert figure["bench"] == "ui"
        assert isinstance(figure["value"], int | float) and not isinstance(figure["value"], bool)
        assert figure["value"] > 0, figure
        assert isinstance(figure["unit"], str) and figure["unit"]
        assert figure["name"] not in by_name, f"duplicate figure {figure['name']}"
        by_name[figure["name"]] = figure

    for name in FIELDAPP:
        figure = by_name.get(f"{name}_{LABEL}")
        assert figure is not None, f"missing figure {name}_{LABEL}"
        assert figure["impl"] == "fieldapp"
        reference = REFERENCES.get(name)
        if reference is not None:
            assert f"{reference}_{name}_{LABEL}" in by_name
            assert figure["ratio_vs"].get(reference, 0) > 0, figure
        if name in TARGETED:
            assert isinstance(figure["met"], bool) and figure["target"], figure
    keystrokes = by_name[f"filter_keystroke_ms_{LABEL}"]
    assert keystrokes["keystrokes"] == 20 and len(keystrokes["last_run"]) == 20
    assert by_name[f"unlock_s_{LABEL}"]["store"]["cases"] == 2000
    assert by_name[f"find_open_s_{LABEL}"]["rows"] > 0
    assert list(tmp_path.iterdir()) == [], "the bench left data behind"
