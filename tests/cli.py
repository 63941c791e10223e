"""Running the command line as a user does: `python -m fieldapp`, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness import PASSPHRASE

ROOT = Path(__file__).resolve().parent.parent


def fieldapp(
    *args: str | Path, env: dict[str, str] | None = None, without: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `python -m fieldapp ARGS` with the test passphrase in the environment (60 s at most).

    `env` adds (or replaces) variables; `without` takes out those whose names start with one
    of its prefixes (e.g. the locale, for a test of the default language).
    """
    environ = {k: v for k, v in os.environ.items() if not (without and k.startswith(without))}
    environ |= {"FIELDAPP_PASSPHRASE": PASSPHRASE, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "fieldapp", *map(str, args)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
