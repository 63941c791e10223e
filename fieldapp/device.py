"""This device's store: create it, open it, read who it belongs to."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from storage import DEFAULT_KDF, FieldDB, KdfParams
from sync.hlc import HybridClock
from sync.identity import DeviceIdentity

DEVICE_TABLE = "device"
#: The station id of a device not yet enrolled at a station (see docs/replication.md).
LOCAL_STATION = "local"


def default_store_dir() -> Path:
    """The platform's per-user data directory for fieldapp's store."""
    return Path(platformdirs.user_data_dir("fieldapp", appauthor=False)) / "store"


@dataclass(frozen=True)
class DeviceInfo:
    """Who this device belongs to (read from the encrypted store)."""

    device_id: str
    officer: str
    created_at: float


def init_device(
    store_dir: Path,
    passphrase: str,
    officer: str,
    kdf: KdfParams = DEFAULT_KDF,
    role: str = "officer",
    clock: HybridClock | None = None,
) -> DeviceInfo:
    """Create this device's encrypted store with a new identity; return its info.

    The device's log starts with its announcement (key, role, officer name).
    """
    from fieldapp.service import CaseService  # the service needs the device table first

    identity = DeviceIdentity.generate()
    db = FieldDB.create(store_dir, passphrase, kdf)
    try:
        created_at = time.time()
        doc = identity.to_doc() | {
            "officer": officer,
            "created_at": created_at,
            "role": role,
            "station": LOCAL_STATION,
        }
        with db.transaction():
            db.table(DEVICE_TABLE).insert(doc)
            CaseService(db, clock).replica.ensure_announced(role, officer)
    finally:
        db.close()
    return DeviceInfo(identity.device_id, officer, created_at)


def device_info(db: FieldDB) -> DeviceInfo | None:
    """This device's info, or None for a store made without `init_device`."""
    docs = db.table(DEVICE_TABLE).all()
    if not docs:
        return None
    doc = docs[0]
    return DeviceInfo(str(doc["device_id"]), str(doc["officer"]), float(doc["created_at"]))
