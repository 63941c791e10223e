"""The docs and docstrings cite files and modules that exist.

After the modules moved into subpackages, a stale citation sends a reader (or a reviewer's
client written from docs/) to nothing. Every path with a directory in it, in any tracked
Markdown or Python file, names a file of this repository (or the project brief beside it,
`../shared/`; a path after a commit, `80c593f:fieldapp/station.py`, is that commit's); every
dotted name under fieldapp., sync., storage. or harness. names a module or an attribute of
one (when cited in backticks, as the docs cite code).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATH = re.compile(r"(?<![\w./:-])((?:\.\./)?(?:[A-Za-z_][\w-]*/)+[\w-]+\.(?:py|md|toml|tcss|sh))\b")
#: A dotted name in backticks (how docs and docstrings cite code), e.g. `sync.lan.wanted_by`.
DOTTED = re.compile(r"`((?:fieldapp|sync|storage|harness)(?:\.[A-Za-z_]\w*)+)[`(]")
#: Not code: catalogue keys and file names that look dotted.
NOT_MODULES = {"sync.error", "sync.md", "storage.md"}


def tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", *patterns], capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in out if (ROOT / name).is_file()]


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            found = None
        if found is None:
            continue
        obj = importlib.import_module(name)
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_cited_path_exists() -> None:
    missing = []
    for path in tracked("*.md", "*.py"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cited in PATH.findall(line):
                target = (ROOT / cited).resolve()
                if cited.startswith("../shared/") or target.exists():
                    continue
                if (path.parent / cited).exists():
                    continue
                missing.append(f"{path.relative_to(ROOT)}:{lineno}: {cited}")
    assert not missing, "\n".join(missing)


@pytest.mark.timeout(60)
def test_every_cited_module_and_name_exists() -> None:
    missing = []
    for path in tracked("*.md", "*.py"):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for cited in DOTTED.findall(line):
                cited = cited.rstrip(".")
                if any(cited == n or cited.startswith(n + ".") for n in NOT_MODULES):
                    continue
                if not resolves(cited):
                    missing.append(f"{path.relative_to(ROOT)}:{lineno}: {cited}")
    assert not missing, "\n".join(missing)
