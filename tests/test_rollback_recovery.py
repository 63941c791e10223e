"""A device whose store was rolled back takes its own log back at the next sync.

An older copy of an officer's store is put back (a restored backup): the station holds
operations the device itself no longer has. Meeting the station over real LAN sessions,
the device adopts its own missing operations and never forks its own log; what it wrote
into the gap while offline is kept, made again under a new epoch. Nobody is quarantined
(docs/replication.md, "Rollback of a device's store").
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldapp.core.service import CaseService
from harness import PASSPHRASE
from harness.replicas import station_devices
from sync.ops import chain_key
from tests.test_sync_session import sync


def restore(officer: CaseService, backup: Path) -> CaseService:
    """Put the older copy back in place of the officer's store, and open it."""
    path = Path(officer.db.store.directory)
    officer.close()
    shutil.rmtree(path)
    shutil.copytree(backup, path)
    return CaseService.open(path, PASSPHRASE)


def backup_of(officer: CaseService, where: Path) -> Path:
    path = Path(officer.db.store.directory)
    officer.close()
    shutil.copytree(path, where, ignore=shutil.ignore_patterns("lock"))
    return where


def notes(svc: CaseService, case_id: str) -> list[str]:
    return sorted(v["note"] for v in svc.case(case_id)["visits"])


def no_forks(*services: CaseService) -> None:
    for svc in services:
        assert not svc.replica.forks.raw(), "a fork was recorded"
        assert not svc.replica.held_out, "a log is held out"


@pytest.mark.timeout(120)
def test_a_restored_device_that_wrote_nothing_adopts_its_own_missing_work(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as services:
        station, officer = services
        case = officer.new_case("东岭村", "land", "orange", "田界纠纷")
        assert sync(station, officer)[0].error is None
        old = backup_of(officer, tmp_path / "backup")
        officer = services[1] = CaseService.open(
            Path(station.db.store.directory).parent / "officer0", PASSPHRASE
        )
        officer.add_visit(case["id"], "home", "备份之后的走访")
        assert sync(station, officer)[0].error is None
        officer = services[1] = restore(officer, old)
        assert notes(officer, case["id"]) == []  # the backup lacks the visit

        report, _ = sync(station, officer)

        assert report.error is None, report.error
        assert notes(officer, case["id"]) == ["备份之后的走访"]
        no_forks(station, officer)
        later = officer.add_visit(case["id"], "phone", "恢复后的电话回访")
        assert later is not None
        assert sync(station, officer)[0].error is None
        assert notes(station, case["id"]) == ["备份之后的走访", "恢复后的电话回访"]
        no_forks(station, officer)
        assert station.state_hash() == officer.state_hash()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("offline_writes", [1, 2, 4])
def test_work_written_into_the_gap_is_kept_under_a_new_epoch_and_nobody_is_quarantined(
    tmp_path: Path, offline_writes: int
) -> None:
    """2 operations went to the station after the backup; the restored device writes 1, 2
    (as many: the same log length) or 4 of its own before it meets the station."""
    with station_devices(tmp_path, 1) as services:
        station, officer = services
        case = officer.new_case("东岭村", "land", "orange", "田界纠纷")
        assert sync(station, officer)[0].error is None
        path = Path(officer.db.store.directory)
        old = backup_of(officer, tmp_path / "backup")
        officer = services[1] = CaseService.open(path, PASSPHRASE)
        officer.add_visit(case["id"], "home", "站里已有的走访一")
        officer.add_visit(case["id"], "home", "站里已有的走访二")
        assert sync(station, officer)[0].error is None
        officer = services[1] = restore(officer, old)
        epoch_before = officer.identity.epoch
        written = []
        new_case = officer.new_case("西坡村", "debt", "yellow", "离线登记的借款纠纷")
        written.append(new_case["id"])
        for n in range(offline_writes - 1):
            officer.add_visit(new_case["id"] if n % 2 else case["id"], "phone", f"离线走访{n}")

        report, _ = sync(station, officer)

        assert report.error is None, report.error
        no_forks(station, officer)
        assert officer.identity.epoch != epoch_before  # it goes on in a new log
        old_chain = chain_key(officer.identity.device_id, epoch_before)
        assert officer.replica.head(old_chain) == station.replica.head(old_chain)  # the station's version
        assert {"站里已有的走访一", "站里已有的走访二"} <= set(notes(officer, case["id"]))
        # What it wrote offline is there, made again: the new case under a new id, with its visits.
        reissued = list(officer.replica.reissued.raw().values())
        assert len(reissued) == offline_writes and all(d["as"] for d in reissued)
        offline_cases = [c for c in officer.cases() if c["summary"] == "离线登记的借款纠纷"]
        assert len(offline_cases) == 1 and offline_cases[0]["id"] != new_case["id"]
        expected = sorted(f"离线走访{n}" for n in range(offline_writes - 1))
        got = notes(officer, offline_cases[0]["id"]) + [
            n for n in notes(officer, case["id"]) if n.startswith("离线")
        ]
        assert sorted(got) == expected
        # The station gets it at the next sync; both show the same, nobody quarantined.
        assert sync(station, officer)[0].error is None
        no_forks(station, officer)
        assert station.state_hash() == officer.state_hash()
        assert [c["summary"] for c in station.cases() if c["summary"] == "离线登记的借款纠纷"]
