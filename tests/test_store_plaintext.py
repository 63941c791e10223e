"""No record content and no person's name reaches the disk in clear, in any state of the store."""

from __future__ import annotations

from pathlib import Path

from fieldapp.core.service import init_device
from harness import FAST_KDF, PASSPHRASE
from storage import EncryptedStore, FieldDB

MARKER = "PLAINTEXT-MARKER-5d1b77e0"
NAME = "欧阳翠花"  # a generated name, not a real person
OFFICER = "司马建国"


def encodings(text: str) -> list[bytes]:
    return [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("gb18030")]


def assert_absent(store_dir: Path) -> None:
    needles = encodings(MARKER) + encodings(NAME) + encodings(OFFICER)
    needles += [MARKER[:12].encode(), NAME[:2].encode("utf-8")]
    files = [p for p in store_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in clear in {path.name}"
        for needle in (MARKER, NAME, OFFICER):
            assert needle not in str(path.relative_to(store_dir))


def test_marker_and_names_never_appear_on_disk(store_dir: Path) -> None:
    init_device(store_dir, PASSPHRASE, OFFICER, FAST_KDF)
    assert_absent(store_dir)

    db = FieldDB.open(store_dir, PASSPHRASE)
    cases = db.table("cases")
    doc_id = cases.insert({"summary": MARKER, "parties": [{"name": NAME, "phone": "138-0000-1234"}]})
    assert_absent(store_dir)  # in the journal
    with db.transaction():
        cases.insert_multiple({"summary": f"{MARKER} {i}", "name": NAME} for i in range(50))
    db.store.compact()
    assert_absent(store_dir)  # in a snapshot
    cases.update({"note": f"{NAME} {MARKER}"}, doc_ids=[doc_id])
    db.store.change_passphrase(PASSPHRASE, "another passphrase")
    db.close()
    assert_absent(store_dir)

    # A damaged journal, salvaged: the files kept aside are still ciphertext.
    journal = store_dir / f"journal-{1:08d}.fa"
    raw = bytearray(journal.read_bytes())
    raw[-5] ^= 0xFF
    journal.write_bytes(bytes(raw))
    store, _report = EncryptedStore.salvage(store_dir, "another passphrase")
    store.close()
    assert list(store_dir.glob("damaged-*/*"))
    assert_absent(store_dir)
