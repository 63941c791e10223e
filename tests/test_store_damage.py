"""Damaged files never yield silently wrong data: a clear error, or the last acknowledged state."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from storage import FieldDB, StoreError
from storage.formats import JOURNAL_HEADER_LEN
from storage.store import pack, unpack
from tests.conftest import FAST_KDF, PASSPHRASE

MARKER = "MARKER-flip-3c9e"


def build_small_store(store_dir: Path) -> tuple[list[dict], list[int]]:
    """Two generations and a journal; returns the state and journal size after each save."""
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    cases = db.table("cases")
    for i in range(3):
        cases.insert({"n": i, "note": f"{MARKER} 土地纠纷 {i}"})
    db.store.compact()
    states = [unpack(pack(db.store.tables))]
    ends = [db.store.journal_bytes]
    for i in range(3, 7):
        if i == 5:
            cases.update({"note": "调解成功"}, doc_ids=[1])
        else:
            cases.insert({"n": i, "note": f"{MARKER} 婚恋纠纷 {i}"})
        states.append(unpack(pack(db.store.tables)))
        ends.append(db.store.journal_bytes)
    db.close()
    return states, ends


def try_open(store_dir: Path) -> dict | StoreError:
    try:
        db = FieldDB.open(store_dir, PASSPHRASE)
    except StoreError as exc:
        return exc
    state = unpack(pack(db.store.tables))
    db.close()
    return state


def assert_clear_error(exc: StoreError) -> None:
    message = str(exc)
    assert len(message) > 30 and MARKER not in message
    assert exc.code != StoreError.code, f"generic error for a specific problem: {message}"


@pytest.mark.timeout(300)
def test_flipping_any_byte_gives_an_error_or_the_exact_state(store_dir: Path) -> None:
    states, _ = build_small_store(store_dir)
    final = states[-1]
    rng = random.Random(7)
    files = sorted(p for p in store_dir.iterdir() if p.name.endswith(".fa"))
    assert {p.name for p in files} >= {"key.fa", "manifest.fa", "snap-00000001.fa", "journal-00000001.fa"}
    outcomes = {"error": 0, "intact": 0}
    for path in files:
        original = path.read_bytes()
        for offset in range(len(original)):
            damaged = bytearray(original)
            damaged[offset] ^= rng.randrange(1, 256)
            path.write_bytes(bytes(damaged))
            result = try_open(store_dir)
            if isinstance(result, StoreError):
                assert_clear_error(result)
                outcomes["error"] += 1
            else:
                # Only the kept previous generation may be damaged without notice.
                assert result == final, f"wrong data after flipping byte {offset} of {path.name}"
                assert path.name.endswith("00000000.fa"), f"{path.name} byte {offset} went unnoticed"
                outcomes["intact"] += 1
        path.write_bytes(original)
    current = sum(p.stat().st_size for p in files if not p.name.endswith("00000000.fa"))
    assert outcomes["error"] >= current, "every byte of the current generation is protected"
    assert try_open(store_dir) == final


@pytest.mark.timeout(120)
def test_truncating_the_journal_anywhere_gives_an_acknowledged_state(store_dir: Path) -> None:
    states, ends = build_small_store(store_dir)
    journal = store_dir / "journal-00000001.fa"
    original = journal.read_bytes()
    assert len(original) == ends[-1]
    for cut in range(len(original)):
        journal.write_bytes(original[:cut])
        result = try_open(store_dir)
        if cut < JOURNAL_HEADER_LEN:
            assert isinstance(result, StoreError), f"cut at {cut} inside the header was accepted"
            assert_clear_error(result)
            continue
        complete = max(k for k, end in enumerate(ends) if end <= cut)
        assert result == states[complete], f"cut at {cut}: expected the state after save {complete}"
    journal.write_bytes(original)
    assert try_open(store_dir) == states[-1]


@pytest.mark.timeout(120)
def test_truncating_the_snapshot_anywhere_is_a_clear_error(store_dir: Path) -> None:
    build_small_store(store_dir)
    snapshot = store_dir / "snap-00000001.fa"
    original = snapshot.read_bytes()
    for cut in range(len(original)):
        snapshot.write_bytes(original[:cut])
        result = try_open(store_dir)
        assert isinstance(result, StoreError), f"snapshot cut at {cut} was accepted"
        assert_clear_error(result)
    snapshot.write_bytes(original)


@pytest.mark.timeout(60)
def test_files_swapped_between_stores_are_refused(tmp_path: Path) -> None:
    build_small_store(tmp_path / "a")
    build_small_store(tmp_path / "b")
    (tmp_path / "b" / "journal-00000001.fa").write_bytes(
        (tmp_path / "a" / "journal-00000001.fa").read_bytes()
    )
    result = try_open(tmp_path / "b")
    assert isinstance(result, StoreError) and "different store" in str(result)
