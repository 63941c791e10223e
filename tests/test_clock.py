"""The clock: it moves past every operation received, whatever brought it, and keeps it
across a restart; a local operation sorts after everything its entity holds.

The peer's clock runs 5 minutes fast (inside the 10-minute bound), so what it stamps is
ahead of this machine's wall clock: a device whose clock did not move on receive would
stamp its next operation before it.
"""

from __future__ import annotations

import asyncio
import errno
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fieldapp.cli.main import main
from fieldapp.core.service import CaseError, CaseService
from fieldapp.core.station import tls_material
from fieldapp.domain import cases as kinds
from harness import PASSPHRASE
from harness.replicas import fast_peer_station
from sync.hlc import HybridClock
from sync.lan import SyncServer, sync_with
from sync.session import Endpoint

pytestmark = pytest.mark.timeout(120)


def latest_stamp(service: CaseService) -> int:
    """The highest HLC of any operation this device holds."""
    return max(int(doc["hlc"]) for doc in service.replica.chains.raw().values())


def own_stamp(service: CaseService, case_id: str) -> int:
    """The HLC of this device's latest operation on a case."""
    me = service.identity.device_id
    return max(hlc for hlc, author, _e, _s in service.replica.view("cases")[case_id]["_ops"] if author == me)


def new_case_stamp(service: CaseService) -> int:
    """Record a new case (an entity nothing was received for); the HLC it was stamped with."""
    return own_stamp(service, service.new_case("东岭村", "land", "yellow", "田界纠纷")["id"])


def exchange_to(officer: CaseService, peer: CaseService) -> None:
    """What a sync brings the officer: the peer's operations it lacks."""
    officer.replica.apply(list(peer.replica.entries_missing_from(officer.replica.vector())))


def by_apply(peer: CaseService, officer: CaseService, _root: Path) -> CaseService:
    exchange_to(officer, peer)
    return officer


def by_lan_session(peer: CaseService, officer: CaseService, _root: Path) -> CaseService:
    material, mine = tls_material(peer), tls_material(officer)
    assert material is not None and mine is not None

    async def session() -> None:
        async with SyncServer(Endpoint(peer.replica), material, "127.0.0.1") as server:
            report = await sync_with("127.0.0.1", server.port, Endpoint(officer.replica), mine)
            assert report.error is None and report.applied > 0, report

    asyncio.run(session())
    return officer


def by_ops_import(peer: CaseService, officer: CaseService, root: Path) -> CaseService:
    """`fieldapp ops export` on the peer, `fieldapp ops import` on the officer's device."""
    bundle, peer_dir, officer_dir = root / "ops.bin", peer.db.store.directory, officer.db.store.directory
    peer.close()
    officer.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIELDAPP_PASSPHRASE", PASSPHRASE)
        # --plaintext: the peer has never met this device, so an encrypted file would not be
        # addressed to it (docs/replication.md, "Exchange by file"); the clock is the point here.
        assert main(["ops", "export", "--store", str(peer_dir), "--out", str(bundle), "--plaintext"]) == 0
        assert main(["ops", "import", "--store", str(officer_dir), str(bundle)]) == 0
    return CaseService.open(officer_dir, PASSPHRASE)


@pytest.mark.parametrize("receive", [by_apply, by_lan_session, by_ops_import])
def test_the_clock_moves_past_what_is_received_and_keeps_it_across_a_restart(
    tmp_path: Path, receive: Callable[[CaseService, CaseService, Path], CaseService]
) -> None:
    with fast_peer_station(tmp_path) as (peer, officer):
        officer_dir = officer.db.store.directory
        peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")
        received = latest_stamp(peer)
        assert officer.replica.clock.now() < received  # this device's own clock is behind the peer's

        officer = receive(peer, officer, tmp_path)
        try:
            assert latest_stamp(officer) == received
            assert officer.replica.clock.last >= received
            # The next local operation, on another case, is stamped after what was received.
            assert new_case_stamp(officer) > received
        finally:
            officer.close()

        reopened = CaseService.open(officer_dir, PASSPHRASE)  # a restart: a fresh clock object
        try:
            assert reopened.replica.clock.last > received
            assert new_case_stamp(reopened) > received
        finally:
            reopened.close()


def forget_clock(service: CaseService) -> None:
    """This device's clock back at its own wall time, as if it never saw the peer's stamps."""
    service.replica.clock.last = 0
    service.replica.local.put("clock", {"last": 0})


def test_a_local_operation_sorts_after_a_future_stamped_operation_of_its_case(tmp_path: Path) -> None:
    with fast_peer_station(tmp_path) as (peer, officer):
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        peer.update(case_id, note="所长：本周内上门")
        exchange_to(officer, peer)
        future = peer.replica.view("cases")[case_id]["_ops"][-1]
        forget_clock(officer)

        officer.add_visit(case_id, "home", "上门了解情况")
        state = officer.replica.view("cases")[case_id]
        assert state["_ops"][-1][1] == officer.identity.device_id and state["_ops"][-1][0] > future[0]
        assert [v["note"] for v in state["visits"]] == ["上门了解情况"] and state.get("refused", []) == []
        # The rule is the entity's: a new case stamps by this device's own (behind) clock.
        forget_clock(officer)
        assert new_case_stamp(officer) < future[0]


def test_a_local_operation_sorts_after_received_operations_not_folded_yet(tmp_path: Path) -> None:
    with fast_peer_station(tmp_path) as (peer, officer):
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        future = peer.replica.view("cases")[case_id]["_ops"][-1][0]
        with officer.replica.merge_session():  # a sync round: stored, folded when it ends
            exchange_to(officer, peer)
            assert case_id not in officer.replica.db.keyed("cases").raw()
            forget_clock(officer)
            visit = {"kind": "home", "note": "走访", "place": "", "participants": ""}
            op = officer.replica.make(kinds.VISIT, case_id, visit)
        assert op.hlc > future


def test_an_own_operation_the_merge_would_refuse_is_not_recorded(tmp_path: Path) -> None:
    """If anything stamped an own operation before what its case holds, nothing is said saved."""
    with fast_peer_station(tmp_path) as (peer, officer):
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        exchange_to(officer, peer)
        forget_clock(officer)
        head, digest = officer.replica.vector(), officer.state_hash()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(HybridClock, "observe", lambda self, stamp: None)  # the clock never moves
            with pytest.raises(CaseError, match="does not exist"):
                officer.add_visit(case_id, "home", "上门了解情况")
        assert officer.replica.vector() == head and officer.state_hash() == digest
        assert officer.case(case_id)["visits"] == []


def test_a_replica_object_opened_before_a_receive_still_stamps_after_it(tmp_path: Path) -> None:
    """The stored clock is read before every local stamp: a second replica object on the store
    (a script; the sync screen once built its own) cannot stamp behind what another received."""
    with fast_peer_station(tmp_path) as (peer, officer):
        peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")
        other = CaseService(officer.db)
        exchange_to(officer, peer)
        assert new_case_stamp(other) > latest_stamp(peer)


class WatchedLock:
    """A re-entrant lock that tells when a thread had to wait for it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.waited = threading.Event()

    def __enter__(self) -> WatchedLock:
        if not self._lock.acquire(blocking=False):
            self.waited.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_a_save_while_a_sync_batch_is_being_written_waits_for_it_and_survives_its_failure(
    tmp_path: Path,
) -> None:
    """The sync screen applies batches in a thread while the officer may save on the UI thread:
    the save must not join the batch's transaction (which a full disk may then undo)."""
    with fast_peer_station(tmp_path) as (peer, officer):
        mine = officer.new_case("东岭村", "land", "yellow", "田界纠纷")["id"]
        peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")
        entries = list(peer.replica.entries_missing_from(officer.replica.vector()))
        store = officer.db.store
        watched = store._transaction_lock = WatchedLock()
        writing, go = threading.Event(), threading.Event()
        append = store._append

        def full_disk(changes: object) -> None:  # the batch's commit: held, then the disk is full
            writing.set()
            go.wait()
            raise OSError(errno.ENOSPC, "No space left on device")

        failed: list[BaseException] = []

        def sync_batch() -> None:
            with pytest.raises(OSError):
                asyncio.run(Endpoint(officer.replica).apply(entries))

        saved: list[dict[str, object]] = []

        def save() -> None:
            try:
                saved.append(officer.add_visit(mine, "home", "上门了解情况"))
            except BaseException as exc:  # reported below
                failed.append(exc)

        store._append = full_disk  # type: ignore[method-assign]
        batch = threading.Thread(target=sync_batch, daemon=True)
        ui = threading.Thread(target=save, daemon=True)
        try:
            batch.start()
            assert writing.wait(60)
            store._append = append  # type: ignore[method-assign]
            ui.start()
            while ui.is_alive() and not watched.waited.is_set():  # saved already, or waiting its turn
                ui.join(0.01)
        finally:
            go.set()
            batch.join(60)
            ui.join(60)
        assert failed == [] and saved
        assert [v["note"] for v in officer.case(mine)["visits"]] == ["上门了解情况"]
        officer_dir = officer.db.store.directory
        officer.close()
        reopened = CaseService.open(officer_dir, PASSPHRASE)
        try:
            assert [v["note"] for v in reopened.case(mine)["visits"]] == ["上门了解情况"]
        finally:
            reopened.close()


def test_a_sync_batch_waits_while_a_save_is_between_its_check_and_its_write(tmp_path: Path) -> None:
    with fast_peer_station(tmp_path) as (peer, officer):
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        exchange_to(officer, peer)
        peer.update(case_id, note="所长：本周内上门")
        entries = list(peer.replica.entries_missing_from(officer.replica.vector()))
        watched = officer.db.store._transaction_lock = WatchedLock()
        checking, go = threading.Event(), threading.Event()
        make = officer.replica.make

        def held_make(*args: Any) -> Any:  # the save has its stamp and is about to be checked
            op = make(*args)
            checking.set()
            go.wait()
            return op

        officer.replica.make = held_make  # type: ignore[method-assign]
        ui = threading.Thread(target=officer.add_visit, args=(case_id, "home", "上门了解情况"), daemon=True)
        batch = threading.Thread(
            target=lambda: asyncio.run(Endpoint(officer.replica).apply(entries)), daemon=True
        )
        try:
            ui.start()
            assert checking.wait(60)
            officer.replica.make = make  # type: ignore[method-assign]
            batch.start()
            while batch.is_alive() and not watched.waited.is_set():  # applied already, or waiting
                batch.join(0.01)
            assert watched.waited.is_set() and batch.is_alive()
        finally:
            go.set()
            ui.join(60)
            batch.join(60)
        state = officer.replica.view("cases")[case_id]
        assert [v["note"] for v in state["visits"]] == ["上门了解情况"] and state.get("refused", []) == []
        assert len(state["_ops"]) == 3  # the intake, the visit and the note the batch brought


def test_locking_the_store_while_a_sync_batch_is_being_written_waits_for_the_batch(tmp_path: Path) -> None:
    """The app locks its store (idle timeout, ctrl+p Lock) on the UI thread; a batch the sync
    screen's worker thread is committing then is finished, not cut off by a closed journal."""
    with fast_peer_station(tmp_path) as (peer, officer):
        case_id = peer.new_case("西河村", "irrigation", "orange", "灌溉用水纠纷")["id"]
        entries = list(peer.replica.entries_missing_from(officer.replica.vector()))
        store = officer.db.store
        watched = store._transaction_lock = WatchedLock()
        writing, go = threading.Event(), threading.Event()
        append = store._append

        def slow_disk(changes: Any) -> None:
            writing.set()
            go.wait()
            append(changes)

        reports: list[Any] = []
        store._append = slow_disk  # type: ignore[method-assign]
        batch = threading.Thread(
            target=lambda: reports.append(asyncio.run(Endpoint(officer.replica).apply(entries))), daemon=True
        )
        lock = threading.Thread(target=officer.close, daemon=True)
        try:
            batch.start()
            assert writing.wait(60)
            lock.start()
            while lock.is_alive() and not watched.waited.is_set():  # closed already, or waiting
                lock.join(0.01)
        finally:
            go.set()
            batch.join(60)
            lock.join(60)
        assert reports and reports[0].applied == len(entries)
        reopened = CaseService.open(officer.db.store.directory, PASSPHRASE)
        try:
            assert reopened.case(case_id)["summary"] == "灌溉用水纠纷"
        finally:
            reopened.close()
