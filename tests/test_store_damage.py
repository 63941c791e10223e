"""Damaged files never yield silently wrong data: a clear error, or the last acknowledged state."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness import FAST_KDF, PASSPHRASE
from storage import FieldDB, StoreError
from storage.errors import StoreRolledBack
from storage.formats import JOURNAL_HEADER_LEN, SEAL_LEN, SEAL_OFFSETS
from storage.store import pack, unpack

MARKER = "MARKER-flip-3c9e"


def build_small_store(store_dir: Path) -> tuple[list[dict], list[int], list[bytes]]:
    """Two generations and a journal; returns the state, journal size and journal after each save."""
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    cases = db.table("cases")
    for i in range(3):
        cases.insert({"n": i, "note": f"{MARKER} 土地纠纷 {i}"})
    db.store.compact()
    journal = store_dir / "journal-00000001.fa"
    states = [unpack(pack(db.store.tables))]
    ends = [db.store.journal_bytes]
    images = [journal.read_bytes()]
    for i in range(3, 7):
        if i == 5:
            cases.update({"note": "调解成功"}, doc_ids=[1])
        else:
            cases.insert({"n": i, "note": f"{MARKER} 婚恋纠纷 {i}"})
        states.append(unpack(pack(db.store.tables)))
        ends.append(db.store.journal_bytes)
        images.append(journal.read_bytes())
    db.close()
    return states, ends, images


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
    states, _, _ = build_small_store(store_dir)
    final = states[-1]
    # The newest seal slot of the current journal: flipped, it looks exactly like a seal rewrite
    # cut short by a power failure after its record was synced, so the store opens, with every
    # save intact (and the next save rewrites the seal). Any other byte must give an error.
    newest = SEAL_OFFSETS[(len(states) - 1) % len(SEAL_OFFSETS)]
    seal_bytes = range(newest, newest + SEAL_LEN)
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
                # Only the kept previous generation (and the newest seal) may be damaged unnoticed.
                assert result == final, f"wrong data after flipping byte {offset} of {path.name}"
                newest_seal = path.name == "journal-00000001.fa" and offset in seal_bytes
                assert path.name.endswith("00000000.fa") or newest_seal, (
                    f"{path.name} byte {offset} went unnoticed"
                )
                outcomes["intact"] += 1
        path.write_bytes(original)
    current = sum(p.stat().st_size for p in files if not p.name.endswith("00000000.fa")) - SEAL_LEN
    assert outcomes["error"] >= current, "every byte of the current generation is protected"
    assert try_open(store_dir) == final


@pytest.mark.timeout(120)
def test_truncating_the_journal_anywhere_is_a_clear_error(store_dir: Path) -> None:
    """Cutting the journal short, at a record boundary or not, never opens an older state."""
    states, ends, _ = build_small_store(store_dir)
    journal = store_dir / "journal-00000001.fa"
    original = journal.read_bytes()
    assert len(original) == ends[-1]
    for cut in range(len(original)):
        journal.write_bytes(original[:cut])
        result = try_open(store_dir)
        assert isinstance(result, StoreError), f"journal cut at {cut} was accepted"
        assert_clear_error(result)
        if cut >= JOURNAL_HEADER_LEN:
            assert isinstance(result, StoreRolledBack), f"cut at {cut}: {result}"
            assert "store salvage" in str(result)
    journal.write_bytes(original)
    assert try_open(store_dir) == states[-1]


@pytest.mark.timeout(120)
def test_a_crash_mid_save_opens_the_last_acknowledged_state(store_dir: Path) -> None:
    """What a power cut can leave: the record of save k+1 cut anywhere (its seal not yet
    rewritten), the whole record without its seal, or the seal's rewrite itself cut short."""
    states, ends, images = build_small_store(store_dir)
    journal = store_dir / "journal-00000001.fa"
    for k in range(len(ends) - 1):
        seals_before, after = images[k][:JOURNAL_HEADER_LEN], images[k + 1]
        for cut in range(ends[k], ends[k + 1] + 1):
            journal.write_bytes(seals_before + after[JOURNAL_HEADER_LEN:cut])
            expected = states[k + 1] if cut == ends[k + 1] else states[k]
            assert try_open(store_dir) == expected, f"save {k + 1} cut at {cut}"
        slot = SEAL_OFFSETS[(k + 1) % len(SEAL_OFFSETS)]
        for torn in range(1, SEAL_LEN):  # the new seal's first bytes written, the rest old
            image = bytearray(images[k])
            image[slot : slot + torn] = after[slot : slot + torn]
            journal.write_bytes(bytes(image[:JOURNAL_HEADER_LEN]) + after[JOURNAL_HEADER_LEN:])
            assert try_open(store_dir) == states[k + 1], f"seal of save {k + 1} torn after {torn} bytes"
    # After such a crash the next save seals first: the store stays consistent.
    journal.write_bytes(images[-2][:JOURNAL_HEADER_LEN] + images[-1][JOURNAL_HEADER_LEN:])
    db = FieldDB.open(store_dir, PASSPHRASE)
    db.table("cases").insert({"n": 99})
    expected = unpack(pack(db.store.tables))
    db.close()
    assert try_open(store_dir) == expected


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
