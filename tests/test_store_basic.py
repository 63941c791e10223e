"""The encrypted store keeps what was saved, across reopen, compaction and re-keying."""

from __future__ import annotations

from pathlib import Path

import pytest
from tinydb import Query

from harness import FAST_KDF, PASSPHRASE, file_digests
from storage import EncryptedStore, FieldDB
from storage.errors import (
    JournalCorrupted,
    JournalMissing,
    SnapshotMissing,
    StoreExists,
    StoreFileMissing,
    StoreLocked,
    StoreNotFound,
    WrongPassphrase,
)
from storage.formats import JOURNAL_HEADER_LEN
from storage.store import pack, unpack


def make_db(store_dir: Path) -> FieldDB:
    return FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)


def snapshot_of(db: FieldDB) -> dict:
    """A deep copy of the live state (documents are mutated in place by updates)."""
    return unpack(pack(db.store.tables))


def test_round_trip_of_inserts_updates_removals(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    ids = [cases.insert({"n": i, "summary": f"宅基地墙界纠纷 {i}", "blob": bytes([i])}) for i in range(10)]
    cases.update({"status": "in_progress"}, Query().n == 3)
    cases.update(lambda doc: doc.pop("blob"), doc_ids=[ids[4]])
    cases.remove(doc_ids=[ids[0]])
    db.table("visits").insert({"case": ids[1], "note": "电话回访，双方情绪平稳"})
    expected = snapshot_of(db)
    db.close()

    db = FieldDB.open(store_dir, PASSPHRASE)
    assert snapshot_of(db) == expected
    assert db.table("cases").get(doc_id=ids[3])["status"] == "in_progress"
    assert "blob" not in db.table("cases").get(doc_id=ids[4])
    assert db.table("cases").get(doc_id=ids[0]) is None
    assert db.table("cases").get(doc_id=ids[9])["blob"] == b"\x09"
    db.close()


def test_compaction_keeps_state_and_previous_generation(store_dir: Path) -> None:
    db = make_db(store_dir)
    db.store.min_compact_bytes = 2048
    cases = db.table("cases")
    for i in range(200):
        cases.insert({"n": i, "text": "x" * 50})
        db.store.maybe_compact()  # as the app does at idle moments
    assert db.store.generation >= 2, "the journal should have been compacted"
    expected = snapshot_of(db)
    generation = db.store.generation
    db.close()
    names = sorted(p.name for p in store_dir.glob("snap-*.fa"))
    assert names == [f"snap-{generation - 1:08d}.fa", f"snap-{generation:08d}.fa"]
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert snapshot_of(db) == expected
    db.close()


def test_compaction_waits_for_an_idle_moment_unless_the_journal_outgrows_the_snapshot(
    store_dir: Path,
) -> None:
    db = make_db(store_dir)
    db.store.min_compact_bytes = 1024
    cases = db.table("cases")
    with db.transaction():
        cases.insert_multiple({"n": i, "text": "y" * 40} for i in range(100))
    db.store.compact()
    generation, snapshot = db.store.generation, db.store.snapshot_bytes
    while db.store.journal_bytes <= snapshot // 2:
        cases.insert({"text": "z" * 40})
    assert db.store.compaction_due and db.store.generation == generation  # due, not done mid-save
    assert db.store.maybe_compact() and db.store.generation == generation + 1
    assert not db.store.compaction_due
    while db.store.generation == generation + 1:
        cases.insert({"text": "w" * 40})
    # past the whole snapshot's size a save compacts inline
    assert db.store.journal_bytes < JOURNAL_HEADER_LEN + 200
    expected = snapshot_of(db)
    db.close()
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert snapshot_of(db) == expected
    db.close()


def test_a_save_writes_only_the_change(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    with db.transaction():
        cases.insert_multiple({"n": i, "summary": "邻里纠纷" * 10} for i in range(5000))
    before = db.store.journal_bytes
    doc_id = cases.insert({"n": -1, "summary": "new"})
    grew = db.store.journal_bytes - before
    assert 0 < grew < 200, f"one small insert wrote {grew} bytes"
    before = db.store.journal_bytes
    cases.update({"summary": "changed"}, doc_ids=[doc_id])
    assert db.store.journal_bytes - before < 200
    before = db.store.journal_bytes
    cases.update({"summary": "changed"}, doc_ids=[doc_id])  # no real change: nothing written
    assert db.store.journal_bytes == before
    db.close()


def test_transaction_is_one_record_and_all_or_nothing(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    keep = cases.insert({"n": 0})
    expected = snapshot_of(db)
    size = db.store.journal_bytes
    with pytest.raises(RuntimeError), db.transaction():
        cases.insert({"n": 1})
        cases.update({"n": 99}, doc_ids=[keep])
        db.table("visits").insert({"note": "x"})
        raise RuntimeError("abandon")
    assert snapshot_of(db) == expected
    assert db.store.journal_bytes == size
    with db.transaction():
        for i in range(50):
            cases.insert({"n": i})
    assert db.store.journal_bytes > size
    expected = snapshot_of(db)
    db.close()
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert snapshot_of(db) == expected
    db.close()


def test_unserialisable_value_is_refused_and_rolled_back(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    doc_id = cases.insert({"n": 1})
    with pytest.raises(TypeError):
        cases.update({"bad": object()}, doc_ids=[doc_id])
    assert cases.get(doc_id=doc_id) == {"n": 1}
    db.close()
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert db.table("cases").get(doc_id=doc_id) == {"n": 1}
    db.close()


def test_passphrase_change_rewrites_only_the_key_file(store_dir: Path) -> None:
    db = make_db(store_dir)
    db.table("cases").insert({"n": 1})
    db.store.change_passphrase(PASSPHRASE, "a new passphrase")
    db.close()
    before = file_digests(store_dir)
    with pytest.raises(WrongPassphrase):
        EncryptedStore.open(store_dir, PASSPHRASE)
    db = FieldDB.open(store_dir, "a new passphrase")
    assert db.table("cases").all() == [{"n": 1}]
    db.close()
    after = file_digests(store_dir)
    assert after == before


def test_wrong_passphrase_leaves_every_file_byte_identical(store_dir: Path) -> None:
    db = make_db(store_dir)
    db.table("cases").insert({"n": 1})
    db.close()
    before = file_digests(store_dir)
    with pytest.raises(WrongPassphrase, match="Wrong passphrase"):
        FieldDB.open(store_dir, "not the passphrase")
    assert file_digests(store_dir) == before


def test_distinct_errors_for_missing_parts(tmp_path: Path, store_dir: Path) -> None:
    with pytest.raises(StoreNotFound, match="fieldapp init"):
        FieldDB.open(tmp_path / "nowhere", PASSPHRASE)
    make_db(store_dir).close()
    with pytest.raises(StoreExists):
        make_db(store_dir)

    journal = store_dir / "journal-00000000.fa"
    journal.rename(tmp_path / "j")
    with pytest.raises(JournalMissing, match="journal"):
        FieldDB.open(store_dir, PASSPHRASE)
    (tmp_path / "j").rename(journal)

    snapshot = store_dir / "snap-00000000.fa"
    snapshot.rename(tmp_path / "s")
    with pytest.raises(SnapshotMissing, match="snapshot"):
        FieldDB.open(store_dir, PASSPHRASE)
    (tmp_path / "s").rename(snapshot)

    (store_dir / "manifest.fa").rename(tmp_path / "m")
    with pytest.raises(StoreFileMissing, match="manifest"):
        FieldDB.open(store_dir, PASSPHRASE)
    (tmp_path / "m").rename(store_dir / "manifest.fa")

    (store_dir / "key.fa").rename(tmp_path / "k")
    with pytest.raises(StoreFileMissing, match="key file"):
        FieldDB.open(store_dir, PASSPHRASE)
    (tmp_path / "k").rename(store_dir / "key.fa")
    FieldDB.open(store_dir, PASSPHRASE).close()


def test_second_opener_is_refused_while_the_store_is_open(store_dir: Path) -> None:
    db = make_db(store_dir)
    with pytest.raises(StoreLocked, match="another fieldapp process"):
        FieldDB.open(store_dir, PASSPHRASE)
    db.close()
    FieldDB.open(store_dir, PASSPHRASE).close()


def test_torn_tail_is_dropped_and_writing_continues(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    cases.insert({"n": 1})
    size = db.store.journal_bytes
    journal = store_dir / "journal-00000000.fa"
    sealed_before = journal.read_bytes()[:JOURNAL_HEADER_LEN]
    cases.insert({"n": 2})
    db.close()
    # A crash mid-append: part of the record is on disk, and the seals (rewritten in place only
    # once the record is synced) are still those of the save before.
    journal.write_bytes(sealed_before + journal.read_bytes()[JOURNAL_HEADER_LEN : size + 7])
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert db.table("cases").all() == [{"n": 1}]
    db.table("cases").insert({"n": 3})
    db.close()
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert [d["n"] for d in db.table("cases").all()] == [1, 3]
    db.close()


def test_salvage_recovers_the_prefix_before_a_damaged_record(store_dir: Path) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    cases.insert({"n": 1})
    damaged_at = db.store.journal_bytes
    cases.insert({"n": 2})
    cases.insert({"n": 3})
    db.close()
    journal = store_dir / "journal-00000000.fa"
    raw = bytearray(journal.read_bytes())
    raw[damaged_at + 20] ^= 0x40
    journal.write_bytes(bytes(raw))
    with pytest.raises(JournalCorrupted, match="store salvage") as excinfo:
        FieldDB.open(store_dir, PASSPHRASE)
    assert excinfo.value.salvageable

    store, report = EncryptedStore.salvage(store_dir, PASSPHRASE)
    store.close()
    assert report.journal_records_recovered == 1  # n=1; n=2 was damaged, n=3 follows it
    assert report.moved_aside == ["journal-00000000.fa"]
    kept = list(store_dir.glob("damaged-*/journal-00000000.fa"))
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(raw)
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert db.table("cases").all() == [{"n": 1}]
    db.close()


def test_salvage_rebuilds_a_damaged_snapshot_from_the_previous_generation(store_dir: Path) -> None:
    db = make_db(store_dir)
    for i in range(5):
        db.table("cases").insert({"n": i})
    db.store.compact()
    db.table("cases").insert({"n": 5})
    expected = snapshot_of(db)
    db.close()
    snapshot = store_dir / "snap-00000001.fa"
    raw = bytearray(snapshot.read_bytes())
    raw[-3] ^= 0x01
    snapshot.write_bytes(bytes(raw))
    store, report = EncryptedStore.salvage(store_dir, PASSPHRASE)
    store.close()
    assert report.rebuilt_from_previous
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert snapshot_of(db) == expected
    db.close()


def test_keyed_put_many_is_durable_and_all_or_nothing(store_dir: Path) -> None:
    db = make_db(store_dir)
    ops = db.keyed("ops")
    ops.put_many({"a": {"v": 1}, "b": {"v": 2}})
    with pytest.raises(RuntimeError), db.transaction():
        ops.put_many({"a": {"v": 10}, "c": {"v": 3}})
        raise RuntimeError("abandon")
    assert ops.raw() == {"a": {"v": 1}, "b": {"v": 2}}
    with pytest.raises(TypeError):
        ops.put_many({"b": {"v": 20}, "d": {"bad": object()}})
    assert ops.raw() == {"a": {"v": 1}, "b": {"v": 2}}
    with pytest.raises(TypeError):
        db.keyed("fresh").put_many({"x": {"bad": object()}})
    assert "fresh" not in db.store.tables
    db.keyed("empty").put_many({})
    ops.put("b", {"v": 22})
    db.close()
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert db.keyed("ops").raw() == {"a": {"v": 1}, "b": {"v": 22}}
    assert "empty" in db.store.tables  # a new table is recorded even when empty
    db.close()


def test_atomic_write_leaves_other_files_beside_the_target_alone(tmp_path: Path) -> None:
    from storage.files import atomic_write

    target, bystander = tmp_path / "report.xlsx", tmp_path / "report.xlsx.tmp"
    bystander.write_bytes(b"an officer's own file")
    atomic_write(target, b"new contents")
    atomic_write(target, b"newer contents")
    assert target.read_bytes() == b"newer contents"
    assert bystander.read_bytes() == b"an officer's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx", "report.xlsx.tmp"]
    assert target.stat().st_mode & 0o777 == 0o600
