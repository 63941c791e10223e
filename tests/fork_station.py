"""A station whose officer's store was copied and written in two places: a real, proven fork.

As `tests/test_forks.py` builds one: the officer's store directory is copied while closed,
both copies record an intake at the same (device, epoch, seq), and the supervisor's
device (and the other officer's) receives both logs. Stores stay on disk for the CLI and
the app to open with `harness.PASSPHRASE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fieldapp.core.service import CaseService
from harness.replicas import converge, copied_twice, station_devices
from sync.ops import decode

#: Village of the intake the original device records at the forked position (held by the
#: supervisor's device), and of the one its copy records there.
HELD_VILLAGE = "岔河村"
OTHER_VILLAGE = "双井村"
BEFORE_VILLAGE = "东岭村"


def log_of(svc: CaseService) -> list[tuple[bytes, bytes]]:
    """The entries of `svc`'s own log."""
    me = svc.identity.device_id
    return [e for e in svc.replica.entries_missing_from({}) if decode(*e).author == me]


def build_forked_station(root: Path) -> dict[str, Any]:
    """Stores `authority`, `officer0` (the forked device), `officer0-copy`, `officer1` under
    `root`; the supervisor's and `officer1`'s devices hold both entries of the fork."""
    with station_devices(root, 2) as (boss, first, second):
        before = first.new_case(BEFORE_VILLAGE, "irrigation", "yellow", "上下游农户争抢浇水")["id"]
        converge([boss, first, second])
        original, twin = copied_twice(first, root / "officer0-copy")
        try:
            held = original.new_case(HELD_VILLAGE, "debt", "orange", "借款到期未还，双方争执")["id"]
            original.add_visit(held, "home", "上门了解借款经过")  # later work, held out too
            other = twin.new_case(OTHER_VILLAGE, "neighbor", "yellow", "邻里排水沟堵塞")["id"]
            for device in (boss, second):
                device.replica.apply(log_of(original))
                assert device.replica.apply(log_of(twin)).forks == 1
            (fork_key,) = boss.replica.forks.raw()
            facts = {
                "root": root,
                "fork": fork_key,
                "forked": original.identity.device_id,
                "forked_officer": original.officer,
                "before": before,
                "held": held,
                "other": other,
            }
        finally:
            original.close()
            twin.close()
    return facts
