"""Rolling a store back on the device is detected where the files allow it (docs/storage.md).

Cutting whole records off the end of the journal used to open silently with the older
state, and `fieldapp store check` called the store intact. The journal's seal counts the
records an acknowledged save left behind, so a cut is a clear error now, in both languages,
pointing at `fieldapp store salvage`, and nothing is written. A crash never trips it: see
`test_store_damage.py::test_a_crash_mid_save_opens_the_last_acknowledged_state` and
`test_store_crash.py`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from fieldapp import i18n
from harness import FAST_KDF, PASSPHRASE, file_digests
from storage import EncryptedStore, FieldDB
from storage.errors import JournalCorrupted, StoreRolledBack
from storage.formats import (
    JOURNAL_HEADER_LEN,
    LEGACY_JOURNAL_HEADER_LEN,
    SEAL_LEN,
    SEAL_OFFSETS,
    journal_name,
)
from storage.store import pack, unpack
from tests.cli import fieldapp as run_cli

ROOT = Path(__file__).resolve().parent.parent


def saves(store_dir: Path, count: int) -> tuple[list[dict], list[int]]:
    """A store with `count` saves in its journal; the state and journal size after each."""
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    cases = db.table("cases")
    states, ends = [unpack(pack(db.store.tables))], [db.store.journal_bytes]
    for n in range(count):
        cases.insert({"n": n, "summary": f"宅基地墙界纠纷 {n}", "village": "东岭村"})
        states.append(unpack(pack(db.store.tables)))
        ends.append(db.store.journal_bytes)
    db.close()
    return states, ends


def fieldapp(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, without=("LC_", "LANG"))


@pytest.mark.parametrize("cut", [1, 2, 5])
def test_whole_records_cut_off_the_journal_are_a_rollback_and_nothing_is_written(
    store_dir: Path, cut: int
) -> None:
    states, ends = saves(store_dir, 5)
    journal = store_dir / journal_name(0)
    journal.write_bytes(journal.read_bytes()[: ends[-1 - cut]])  # the last `cut` saves removed
    before = file_digests(store_dir)
    with pytest.raises(StoreRolledBack) as caught:
        FieldDB.open(store_dir, PASSPHRASE)
    assert f"its seal records 5: the last {cut} are missing" in str(caught.value)
    assert "fieldapp store salvage" in str(caught.value)
    assert file_digests(store_dir) == before  # nothing overwritten, nothing cut off
    for language, words in (("en", "rollback"), ("zh", "回滚")):
        i18n.set_language(language)
        message = i18n.error_message(caught.value)
        assert words in message and "fieldapp store salvage" in message and "journal-00000000.fa" in message
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def test_a_cut_hidden_by_damaging_the_newest_seal_is_still_an_error(store_dir: Path) -> None:
    """A damaged seal is excused only when the records are ahead of the other seal (a power cut
    during the seal's rewrite); damaging the newest seal cannot cover records cut away."""
    _, ends = saves(store_dir, 4)
    journal = store_dir / journal_name(0)
    raw = bytearray(journal.read_bytes()[: ends[3]])  # save 4 cut off...
    newest = SEAL_OFFSETS[4 % len(SEAL_OFFSETS)]
    raw[newest : newest + SEAL_LEN] = bytes(SEAL_LEN)  # ...and the seal that counts it wiped
    journal.write_bytes(bytes(raw))
    with pytest.raises(JournalCorrupted, match="saves may have been cut off its end.*store salvage"):
        FieldDB.open(store_dir, PASSPHRASE)


@pytest.mark.timeout(120)
def test_store_check_reports_the_rollback_and_salvage_opens_what_is_left(store_dir: Path) -> None:
    states, ends = saves(store_dir, 4)
    journal = store_dir / journal_name(0)
    journal.write_bytes(journal.read_bytes()[: ends[2]])

    check = fieldapp("store", "check", "--store", str(store_dir), "--json")
    assert check.returncode == 1, check.stdout
    error = json.loads(check.stderr.strip().splitlines()[-1])
    assert error["error"] == "store_rolled_back"
    assert "the last 2 are missing" in error["message"] and "宅基地" not in error["message"]
    chinese = fieldapp("store", "check", "--lang", "zh", "--store", str(store_dir))
    assert (
        chinese.returncode == 1
        and "数据被回滚" in chinese.stderr
        and "fieldapp store salvage" in chinese.stderr
    )
    english = fieldapp("store", "check", "--store", str(store_dir))
    assert english.returncode == 1 and "(a rollback)" in english.stderr, english.stderr

    salvage = fieldapp("store", "salvage", "--store", str(store_dir), "--json")
    assert salvage.returncode == 0, salvage.stderr
    report = json.loads(salvage.stdout)
    assert report["journal_records_recovered"] == 2
    assert any("the last 2 are missing" in line for line in report["damage"])
    assert report["moved_aside"] == [journal_name(0)]
    aside = [p for p in store_dir.glob("damaged-*/*")]
    assert [p.name for p in aside] == [journal_name(0)]  # kept, not deleted
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert unpack(pack(db.store.tables)) == states[2]
    db.close()
    assert fieldapp("store", "check", "--store", str(store_dir)).returncode == 0


def test_an_older_manifest_put_back_is_a_rollback(store_dir: Path) -> None:
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    cases = db.table("cases")
    cases.insert({"n": 1})
    db.store.compact()  # generation 1
    old_manifest = (store_dir / "manifest.fa").read_bytes()
    cases.insert({"n": 2})
    db.store.compact()  # generation 2; generation 1 is kept beside it
    cases.insert({"n": 3})
    final = unpack(pack(db.store.tables))
    db.close()
    (store_dir / "manifest.fa").write_bytes(old_manifest)  # would open generation 1: saves 2 and 3 gone
    before = file_digests(store_dir)
    with pytest.raises(
        StoreRolledBack, match="names generation 1, but the newer generation 2 was already in use"
    ):
        FieldDB.open(store_dir, PASSPHRASE)
    assert file_digests(store_dir) == before
    store, report = EncryptedStore.salvage(store_dir, PASSPHRASE)
    assert store.tables == final and report.moved_aside == ["manifest.fa"]
    store.close()


def test_an_interrupted_compaction_is_not_taken_for_a_rollback(store_dir: Path) -> None:
    """A crash after the new generation's files but before the manifest: the old one is current."""
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    db.table("cases").insert({"n": 1})
    db.store.compact()
    manifest = (store_dir / "manifest.fa").read_bytes()
    db.table("cases").insert({"n": 2})
    final = unpack(pack(db.store.tables))
    journal = (store_dir / journal_name(1)).read_bytes()
    db.store.compact()  # writes generation 2, then the manifest...
    db.close()
    (store_dir / "manifest.fa").write_bytes(manifest)  # ...which the crash did not leave behind
    (store_dir / journal_name(1)).write_bytes(journal)
    assert (store_dir / journal_name(2)).stat().st_size == JOURNAL_HEADER_LEN
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert unpack(pack(db.store.tables)) == final
    db.close()


def test_a_version_1_journal_is_read_and_replaced_by_a_sealed_one(store_dir: Path) -> None:
    states, _ = saves(store_dir, 3)
    journal = store_dir / journal_name(0)
    raw = journal.read_bytes()
    # The version 1 layout: the same sealed header with version 1, the same records right after it.
    db = FieldDB.open(store_dir, PASSPHRASE)
    sealer, store_id = db.store._sealer, db.store.store_id
    db.close()
    head = b"FLDAPPJ1" + (1).to_bytes(2, "big") + store_id + (0).to_bytes(8, "big")
    shutil.copy(journal, store_dir / "journal-v2.keep")
    journal.write_bytes(head + sealer.seal(b"", head) + raw[JOURNAL_HEADER_LEN:])
    assert len(head) + 28 == LEGACY_JOURNAL_HEADER_LEN
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert unpack(pack(db.store.tables)) == states[-1]
    assert db.store.generation == 1  # upgraded at once
    db.table("cases").insert({"n": 9})
    expected = unpack(pack(db.store.tables))
    db.close()
    assert (store_dir / journal_name(1)).read_bytes()[8:10] == (2).to_bytes(2, "big")
    db = FieldDB.open(store_dir, PASSPHRASE)
    assert unpack(pack(db.store.tables)) == expected
    db.close()
