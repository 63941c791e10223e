"""The static checks are live: scripts/check (run by scripts/run-tests before pytest) fails on
a type error, a missing annotation in sync/ or storage/, an unchecked body in fieldapp/, or a
lint error, and says which check failed. Each runs in a copy of the tree with a fault put in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sync.certs import Anchor, CertificateError

ROOT = Path(__file__).resolve().parent.parent


def _tree(tmp_path: Path) -> Path:
    """A copy of what scripts/check checks, with this test run's environment as its .venv."""
    tree = tmp_path / "tree"
    caches = (".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".git", ".venv", "bench-out", *caches))
    (tree / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return tree


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(tree / "scripts" / "check")], capture_output=True, text=True, timeout=100
    )


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_type_errors_fail_the_checks(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    _append(tree / "sync" / "hlc.py", '\n\ndef _wrong() -> int:\n    return "text"\n')
    _append(tree / "storage" / "files.py", "\n\ndef _unannotated(x):\n    return x\n")
    _append(tree / "fieldapp" / "__init__.py", '\n\ndef _unannotated():\n    return "text" + 1\n')
    result = _check(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "scripts/check: FAILED: mypy" in result.stderr
    # A wrong type in sync/; strict in storage/: a function without annotations is refused.
    assert "sync/hlc.py:" in result.stdout and "[return-value]" in result.stdout
    assert "storage/files.py:" in result.stdout and "[no-untyped-def]" in result.stdout
    # fieldapp/ is checked, not strict: the body of an unannotated function is checked.
    assert "fieldapp/__init__.py:" in result.stdout and "[operator]" in result.stdout
    assert not [line for line in result.stdout.splitlines() if "fieldapp/" in line and "untyped" in line]
    assert "Found 3 errors in 3 files" in result.stdout


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_lint_error_fails_the_checks_before_mypy(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    _append(tree / "sync" / "hlc.py", "\n\ndef _shadow(list_: list[int] = []) -> None:\n    pass\n")
    result = _check(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "scripts/check: FAILED: ruff lint" in result.stderr
    assert "B006" in result.stdout  # a mutable default argument
    assert not (tree / ".mypy_cache").exists()  # stopped at the first check that failed


def test_an_anchor_whose_key_is_not_bytes_is_refused() -> None:
    """Found by mypy: `bytes(doc["ca_key"])` turned an int into that many zero bytes, and a
    huge one raised OverflowError where callers catch CertificateError."""
    with pytest.raises(CertificateError, match="incomplete"):
        Anchor.from_doc({"station_id": "st-x", "station_name": "测试派出所", "ca_key": 2**63})
