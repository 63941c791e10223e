"""Shared fixtures: small real stores with a cheap KDF so tests stay fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp import i18n


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A path where a store may be created."""
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """i18n holds a process-wide language: every test leaves it as the next one expects."""
    yield
    i18n.set_language("en")
