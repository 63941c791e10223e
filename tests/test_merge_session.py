"""Merge sessions: batches are stored at once and each case folded once at the end;
a crash between storing and folding is repaired when the store is next opened."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

from fieldapp.core.service import CaseService
from harness import PASSPHRASE
from harness.replicas import devices, exchange
from sync.ops import decode

ROOT = Path(__file__).resolve().parent.parent


def field_work(svc: CaseService, cases: int = 3) -> None:
    for i in range(cases):
        case = svc.new_case("东岭村", "neighbor", "yellow", f"邻里纠纷{i}")
        svc.add_visit(case["id"], "home", "走访")
        svc.update(case["id"], fields={"risk": "orange"})


def own(svc: CaseService) -> list[tuple[bytes, bytes]]:
    me = svc.identity.device_id
    return [e for e in svc.replica.entries_missing_from({}) if decode(*e).author == me]


def test_a_session_folds_each_case_once_and_matches_batch_by_batch(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer", "officer", "supervisor", "supervisor"]) as (a, b, lazy, eager):
        field_work(a)
        field_work(b)
        batches = [own(a), own(b)]
        for batch in batches:
            eager.replica.apply(batch)
        calls = 0
        fold = lazy.replica._fold

        def counting_fold() -> None:
            nonlocal calls
            calls += 1
            fold()

        lazy.replica._fold = counting_fold  # type: ignore[method-assign]
        with lazy.replica.merge_session():
            for batch in batches:
                assert lazy.replica.apply(batch).applied == len(batch)
            assert lazy.replica.dirty.raw(), "stored but not folded yet"
        assert calls == 1 and not lazy.replica.dirty.raw()
        assert dict(lazy.replica.view("cases")) == dict(eager.replica.view("cases"))


def test_the_collector_is_paused_for_a_session_and_back_after_it_even_when_it_fails(
    tmp_path: Path,
) -> None:
    with devices(tmp_path, ["officer", "supervisor"]) as (a, receiver):
        field_work(a)
        assert gc.isenabled()
        with receiver.replica.merge_session():
            assert not gc.isenabled()
            receiver.replica.apply(own(a))
            assert not gc.isenabled()  # apply's own pause did not end the session's
        assert gc.isenabled() and len(receiver.cases()) == 3
        with pytest.raises(RuntimeError), receiver.replica.merge_session():
            raise RuntimeError("the peer went away")
        assert gc.isenabled()


@pytest.mark.timeout(120)
def test_a_crash_between_store_and_fold_is_repaired_on_open(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer", "supervisor"]) as (author, reference):
        field_work(author, cases=4)
        batch = own(author)
        reference.replica.apply(batch)
        expected = dict(reference.replica.view("cases"))
        target = Path(reference.db.store.directory).parent / "device-target"
    # A fresh receiver in a child process stores the batch inside a session, then is killed.
    from fieldapp.core.service import init_device
    from harness import FAST_KDF

    init_device(target, PASSPHRASE, "测试接收", FAST_KDF)
    batch_file = tmp_path / "batch.msgpack"
    batch_file.write_bytes(msgpack.packb([list(e) for e in batch], use_bin_type=True))
    child = (
        "import sys, os, signal, msgpack\n"
        "from fieldapp.core.service import CaseService\n"
        f"svc = CaseService.open(sys.argv[1], {PASSPHRASE!r})\n"
        "entries = [tuple(e) for e in msgpack.unpackb(open(sys.argv[2], 'rb').read())]\n"
        "with svc.replica.merge_session():\n"
        "    svc.replica.apply(entries)\n"
        "    print('stored', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", child, str(target), str(batch_file)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "stored" and result.returncode == -9, result.stderr
    receiver = CaseService.open(target, PASSPHRASE)
    try:
        assert receiver.replica.dirty.raw(), "the kill left cases stored but unfolded"
        assert dict(receiver.replica.view("cases")) == expected  # repaired on first read
        assert not receiver.replica.dirty.raw()
    finally:
        receiver.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("in_session", [True, False], ids=["in a merge session", "one apply"])
def test_new_operations_for_a_case_left_unfolded_by_a_crash_fold_with_the_stored_ones(
    tmp_path: Path, in_session: bool
) -> None:
    """A receiver is killed after storing a case's first operations; reopened, the first thing
    it does is apply more operations of that case (as `fieldapp serve` does). The case must
    hold all of them, not only those that arrived after the crash."""
    with devices(tmp_path, ["officer", "supervisor"]) as (author, reference):
        field_work(author, cases=2)
        batch = own(author)  # announcement, then create, visit, update per case
        reference.replica.apply(batch)
        expected = dict(reference.replica.view("cases"))
        target = Path(reference.db.store.directory).parent / "device-target"
    from fieldapp.core.service import init_device
    from harness import FAST_KDF

    init_device(target, PASSPHRASE, "测试接收", FAST_KDF)
    first, rest = batch[:3], batch[3:]  # the crash comes between a case's visit and its update
    batch_file = tmp_path / "first.msgpack"
    batch_file.write_bytes(msgpack.packb([list(e) for e in first], use_bin_type=True))
    child = (
        "import sys, os, signal, msgpack\n"
        "from fieldapp.core.service import CaseService\n"
        f"svc = CaseService.open(sys.argv[1], {PASSPHRASE!r})\n"
        "entries = [tuple(e) for e in msgpack.unpackb(open(sys.argv[2], 'rb').read())]\n"
        "with svc.replica.merge_session():\n"
        "    svc.replica.apply(entries)\n"
        "    print('stored', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", child, str(target), str(batch_file)],
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "stored" and result.returncode == -9, result.stderr
    receiver = CaseService.open(target, PASSPHRASE)
    try:
        assert receiver.replica.dirty.raw(), "the kill left cases stored but unfolded"
        if in_session:
            with receiver.replica.merge_session():
                assert receiver.replica.apply(rest).applied == len(rest)
        else:
            assert receiver.replica.apply(rest).applied == len(rest)
        assert dict(receiver.replica.view("cases")) == expected
    finally:
        receiver.close()


def test_views_folded_by_an_earlier_version_are_rebuilt_once_on_open(tmp_path: Path) -> None:
    """A store whose views another version folded (field writers as [key, hlc, author]) re-folds."""
    from sync.replica import VIEW_FORMAT, VIEW_FORMAT_KEY

    with devices(tmp_path, ["officer", "supervisor"]) as (officer, boss):
        case_id = officer.new_case("东岭村", "land", "orange", "田界纠纷")["id"]
        officer.add_visit(case_id, "home", "上门走访")
        exchange(officer, boss)
        officer.update(case_id, fields={"risk": "red"})
        boss.update(case_id, fields={"risk": "yellow"})
        exchange(officer, boss)
        want_hash, want_case = boss.state_hash(), boss.case(case_id)
        assert want_case["conflicts"]
        store = boss.db.store.directory
        cases = boss.db.keyed("cases")
        old = cases.get_copy(case_id)
        old["_w"] = {name: ["an.old.key", 1, "someone"] for name in old["_w"]}
        cases.put(case_id, old)
        boss.db.keyed("local").remove_keys([VIEW_FORMAT_KEY])
    reopened = CaseService.open(store, PASSPHRASE)
    try:
        assert reopened.state_hash() == want_hash
        assert reopened.case(case_id) == want_case
        assert reopened.replica.local.get_copy(VIEW_FORMAT_KEY) == {"version": VIEW_FORMAT}
        assert not reopened.replica.dirty.raw()
    finally:
        reopened.close()
