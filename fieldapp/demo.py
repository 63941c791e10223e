"""A ready demo station store for newcomers and screenshots (fake people only)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fieldapp.device import init_device

#: Printed by `fieldapp demo`; a demo store holds no real data.
DEMO_PASSPHRASE = "demo-station"
DEMO_OFFICER = "演示辅警 林晓"


def build_demo_store(store_dir: Path | None = None) -> tuple[Path, str]:
    """Create a demo store (in a new temporary folder unless given); return it and its passphrase."""
    if store_dir is None:
        store_dir = Path(tempfile.mkdtemp(prefix="fieldapp-demo-")) / "store"
    init_device(store_dir, DEMO_PASSPHRASE, DEMO_OFFICER)
    return store_dir, DEMO_PASSPHRASE
