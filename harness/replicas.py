"""Helpers for tests with several devices: real encrypted stores, fake officers."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import adopt_enrolment, create_station, issue_certificate
from harness import FAST_KDF, PASSPHRASE
from sync.hlc import HybridClock


class ManualWall:
    """A wall clock a test moves by hand (milliseconds)."""

    def __init__(self) -> None:
        # Start at real time: device announcements are stamped by the real clock at init.
        self.now = time.time_ns() // 1_000_000

    def __call__(self) -> int:
        return self.now


@contextmanager
def devices(root: Path, roles: list[str], wall: ManualWall | None = None) -> Iterator[list[CaseService]]:
    """Open one CaseService per role (officers and supervisors), closing all at the end."""
    services: list[CaseService] = []
    try:
        for index, role in enumerate(roles):
            path = root / f"device{index}"
            init_device(path, PASSPHRASE, f"测试{role}{index}", FAST_KDF, role=role)
            clock = HybridClock(wall=wall) if wall is not None else None
            services.append(CaseService.open(path, PASSPHRASE, clock=clock))
        yield services
    finally:
        for service in services:
            service.close()


def exchange(a: CaseService, b: CaseService) -> None:
    """What a sync does: each sends what the other lacks, in sequence order."""
    b.replica.apply(list(a.replica.entries_missing_from(b.replica.vector())))
    a.replica.apply(list(b.replica.entries_missing_from(a.replica.vector())))


def converge(services: list[CaseService]) -> None:
    """All-pairs exchange until every replica holds every operation."""
    for _ in range(2):
        for a in services:
            for b in services:
                if a is not b:
                    exchange(a, b)


@contextmanager
def station_devices(
    root: Path, officers: int, name: str = "测试派出所", wall: ManualWall | None = None
) -> Iterator[list[CaseService]]:
    """A station authority plus enrolled officers (enrolment done in-process).

    With `wall`, every device's clock reads it (each its own HybridClock), from its
    announcement on: a test then places every operation at a time of its choosing.
    """
    services: list[CaseService] = []

    def clock() -> HybridClock | None:
        return HybridClock(wall=wall) if wall is not None else None

    try:
        init_device(root / "authority", PASSPHRASE, "测试所长", FAST_KDF, clock=clock())
        authority = CaseService.open(root / "authority", PASSPHRASE, clock=clock())
        services.append(authority)
        create_station(authority, name)
        for index in range(officers):
            path = root / f"officer{index}"
            init_device(path, PASSPHRASE, f"测试辅警{index}", FAST_KDF, clock=clock())
            officer = CaseService.open(path, PASSPHRASE, clock=clock())
            services.append(officer)
            cert, anchor = issue_certificate(
                authority, officer.identity.public_key, officer.officer, "officer"
            )
            adopt_enrolment(officer, cert, anchor)
        yield services
    finally:
        for service in services:
            service.close()


#: How far ahead `fast_wall` runs: inside the 10-minute bound a remote stamp may be ahead.
FAST_MS = 5 * 60 * 1000


def fast_wall() -> int:
    """A peer's wall clock running 5 minutes fast (milliseconds)."""
    return time.time_ns() // 1_000_000 + FAST_MS


@contextmanager
def fast_peer_station(root: Path) -> Iterator[tuple[CaseService, CaseService]]:
    """(station authority whose clock runs 5 minutes fast, enrolled officer with a true clock)."""
    with station_devices(root, 1) as (authority, officer):
        directory = authority.db.store.directory
        authority.close()
        peer = CaseService.open(directory, PASSPHRASE, clock=HybridClock(wall=fast_wall))
        try:
            yield peer, officer
        finally:
            peer.close()


def copied_twice(
    service: CaseService, copy: Path, wall: ManualWall | None = None
) -> tuple[CaseService, CaseService]:
    """Close `service`, copy its store to `copy`, and open both: the original and its twin.

    What a store copied and written in two places starts from (a fork). With `wall`, each
    reads it through a clock of its own, as `devices` gives them.
    """
    path = Path(service.db.store.directory)
    service.close()
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns("lock"))

    def clock() -> HybridClock | None:
        return HybridClock(wall=wall) if wall is not None else None

    return CaseService.open(path, PASSPHRASE, clock=clock()), CaseService.open(
        copy, PASSPHRASE, clock=clock()
    )
