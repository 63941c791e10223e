"""Shared fixtures: small real stores with a cheap KDF so tests stay fast."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage import KdfParams

#: Argon2id at its cheapest: the tests exercise the format, not the KDF cost
#: (the benchmark measures the default parameters).
FAST_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)
PASSPHRASE = "correct horse battery"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A path where a store may be created."""
    return tmp_path / "store"


def file_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory`, by relative path."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
