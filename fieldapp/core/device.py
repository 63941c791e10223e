"""This device's store: create it, open it, read who it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from storage import FieldDB

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


def device_info(db: FieldDB) -> DeviceInfo | None:
    """This device's info, or None for a store made without `init_device`."""
    docs = db.table(DEVICE_TABLE).all()
    if not docs:
        return None
    doc = docs[0]
    return DeviceInfo(str(doc["device_id"]), str(doc["officer"]), float(doc["created_at"]))
