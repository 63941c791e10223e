"""This device's store: create it, open it, read who it belongs to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from storage import DEFAULT_KDF, FieldDB, KdfParams
from sync.identity import DeviceIdentity

DEVICE_TABLE = "device"


def default_store_dir() -> Path:
    """The platform's per-user data directory for fieldapp's store."""
    return Path(platformdirs.user_data_dir("fieldapp", appauthor=False)) / "store"


@dataclass(frozen=True)
class DeviceInfo:
    """Who this device belongs to (read from the encrypted store)."""

    device_id: str
    officer: str
    created_at: float


def init_device(store_dir: Path, passphrase: str, officer: str, kdf: KdfParams = DEFAULT_KDF) -> DeviceInfo:
    """Create this device's encrypted store with a new identity; return its info."""
    identity = DeviceIdentity.generate()
    db = FieldDB.create(store_dir, passphrase, kdf)
    try:
        doc = identity.to_doc() | {"officer": officer, "created_at": time.time()}
        db.table(DEVICE_TABLE).insert(doc)
    finally:
        db.close()
    return DeviceInfo(identity.device_id, officer, doc["created_at"])  # type: ignore[arg-type]


def device_info(db: FieldDB) -> DeviceInfo | None:
    """This device's info, or None for a store made without `init_device`."""
    docs = db.table(DEVICE_TABLE).all()
    if not docs:
        return None
    doc = docs[0]
    return DeviceInfo(str(doc["device_id"]), str(doc["officer"]), float(doc["created_at"]))
