"""The station harness: generated devices, stations and shifts, and throw-away network
namespaces, shared by the tests (`tests/`) and the benchmarks and simulations (`scripts/`).

Not part of the installed app. Only generated people: no data copied from real persons.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from storage import KdfParams

#: Argon2id at its cheapest: the tests exercise the format, not the KDF cost
#: (the benchmark measures the default parameters).
FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)
PASSPHRASE = "correct horse battery"


def file_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory`, by relative path."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
