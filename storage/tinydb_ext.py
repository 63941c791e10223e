"""TinyDB on the encrypted store, through TinyDB's own extension points.

TinyDB's stock `Table._update_table` rebuilds the whole table and hands the whole
database to `Storage.write` on every change. Here the storage returns the live
in-memory tables, and `JournalTable` runs TinyDB's updaters against a tracking
view that records which documents changed, so only those reach the journal.

Documents returned by queries are shallow copies of the stored ones: treat them
as read-only and change data through `insert`/`update`/`remove`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from storage.crypto import DEFAULT_KDF, KdfParams
from storage.store import MISSING, EncryptedStore, pack, packer, restore, unpack


class JournalStorage(Storage):
    """A TinyDB storage whose state is an unlocked `EncryptedStore`."""

    def __init__(self, store: EncryptedStore) -> None:
        self.store = store

    def read(self) -> dict[str, dict[str, Any]]:
        """Return the live tables (no copy, no I/O)."""
        return self.store.tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """A whole-database write (drop_tables, drop_table): becomes a compaction."""
        self.store.replace_all(data)

    def close(self) -> None:
        """Lock the store."""
        self.store.close()


class _TrackedTable(MutableMapping[int, Any]):
    """A view of one raw table keyed by int doc ids that remembers what it touched."""

    def __init__(self, raw: dict[str, Any], id_class: Callable[[str], int]) -> None:
        self._raw = raw
        self._id_class = id_class
        self.before: dict[str, Any] = {}

    def _touch(self, key: str) -> None:
        if key not in self.before:
            self.before[key] = pack(self._raw[key]) if key in self._raw else MISSING

    def __getitem__(self, doc_id: int) -> Any:
        key = str(doc_id)
        doc = self._raw[key]
        self._touch(key)  # the caller may mutate the document in place
        return doc

    def __setitem__(self, doc_id: int, doc: Any) -> None:
        key = str(doc_id)
        self._touch(key)
        self._raw[key] = doc

    def __delitem__(self, doc_id: int) -> None:
        key = str(doc_id)
        self._touch(key)
        del self._raw[key]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self._raw

    def __iter__(self) -> Iterator[int]:
        return (self._id_class(key) for key in list(self._raw))

    def __len__(self) -> int:
        return len(self._raw)

    def clear(self) -> None:
        for key in list(self._raw):
            self._touch(key)
        self._raw.clear()

    def changes(self) -> dict[str, bytes | None]:
        """Packed new values of documents that really changed (None: removed)."""
        changed: dict[str, bytes | None] = {}
        for key, old in self.before.items():
            doc = self._raw.get(key, MISSING)
            if doc is MISSING:
                if old is not MISSING:
                    changed[key] = None
                continue
            new = pack(doc)
            if new != old:
                changed[key] = new
        return changed

    def rollback(self) -> None:
        """Undo every in-memory change made through this view."""
        for key, old in self.before.items():
            restore(self._raw, key, old)


class JournalTable(Table):
    """A TinyDB table whose writes journal only the documents that changed."""

    # Results are computed from live memory; a cache could outlive a rolled-back transaction.
    default_query_cache_capacity = 0

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        storage = self._storage
        assert isinstance(storage, JournalStorage)
        store = storage.store
        tables = store.tables
        created = self.name not in tables
        raw = tables.setdefault(self.name, {})
        tracked = _TrackedTable(raw, self.document_id_class)
        try:
            # Ignored [arg-type]: TinyDB's updaters take its dict; the tracking view acts as one.
            updater(tracked)  # type: ignore[arg-type]
            store.record_changes(self.name, tracked.changes(), tracked.before, new_table=created)
        except BaseException:
            tracked.rollback()
            if created and not raw:
                tables.pop(self.name, None)
            raise
        finally:
            self.clear_cache()


class KeyedTable(JournalTable):
    """A table keyed by string ids chosen by the caller (operation keys, case ids)."""

    # Ignored [assignment]: TinyDB declares int ids; keyed tables use their str keys as ids.
    document_id_class = str  # type: ignore[assignment]

    def put_many(self, docs: dict[str, Any]) -> None:
        """Set (insert or replace) several documents by key: one journal change set.

        Whole documents are replaced, never mutated in place, so the replaced objects
        themselves serve as the undo record and only the new ones are packed.
        """
        store = self._storage.store  # type: ignore[attr-defined]  # a JournalStorage (FieldDB)
        created = self.name not in store.tables
        raw = store.tables.setdefault(self.name, {})
        before = {key: raw.get(key, MISSING) for key in docs}
        try:
            pack_doc = packer()
            changes: dict[str, bytes | None] = {key: pack_doc(doc) for key, doc in docs.items()}
            raw.update(docs)
            store.record_changes(self.name, changes, before, new_table=created)
        except BaseException:
            for key, old in before.items():
                restore(raw, key, old)
            if created and not raw:
                store.tables.pop(self.name, None)
            raise
        finally:
            self.clear_cache()

    def remove_keys(self, keys: Iterable[str]) -> None:
        """Remove the documents at `keys` (absent ones are skipped): one journal change set.

        Like `put_many`, the removed objects themselves are the undo record (documents of
        keyed tables are replaced whole, never mutated in place), so nothing is packed.
        """
        store = self._storage.store  # type: ignore[attr-defined]  # a JournalStorage (FieldDB)
        raw = store.tables.get(self.name)
        if not raw:
            return
        before = {key: raw.pop(key) for key in keys if key in raw}
        try:
            store.record_changes(self.name, dict.fromkeys(before), before)
        except BaseException:
            raw.update(before)
            raise
        finally:
            self.clear_cache()

    def put(self, key: str, doc: Any) -> None:
        """Set one document by key."""
        self.put_many({key: doc})

    def get_copy(self, key: str) -> Any | None:
        """A deep copy of the document at `key` (safe to mutate), or None."""
        raw = self._read_table().get(key)
        return None if raw is None else unpack(pack(raw))

    def has(self, key: str) -> bool:
        """True if a document is stored at `key`."""
        return key in self._read_table()

    def raw(self) -> dict[str, Any]:
        """The live documents by key: read-only, no copy (for scans and hashing)."""
        return self._read_table()


class FieldDB(TinyDB):
    """TinyDB over an unlocked `EncryptedStore`."""

    table_class = JournalTable

    def __init__(self, store: EncryptedStore) -> None:
        super().__init__(store, storage=JournalStorage)

    @property
    def store(self) -> EncryptedStore:
        """The underlying encrypted store."""
        storage = self.storage
        assert isinstance(storage, JournalStorage)
        return storage.store

    def keyed(self, name: str) -> KeyedTable:
        """The table `name` with string keys (created on first write)."""
        tables: dict[str, KeyedTable] = self.__dict__.setdefault("_keyed", {})
        if name not in tables:
            tables[name] = KeyedTable(self.storage, name)
        return tables[name]

    def transaction(self) -> AbstractContextManager[None]:
        """Many writes, one journal record and one fsync; all or nothing."""
        return self.store.transaction()

    @classmethod
    def create(cls, directory: Path, passphrase: str, kdf: KdfParams = DEFAULT_KDF) -> FieldDB:
        """Create a new store and open it."""
        return cls(EncryptedStore.create(directory, passphrase, kdf))

    @classmethod
    def open(cls, directory: Path, passphrase: str) -> FieldDB:
        """Unlock an existing store."""
        return cls(EncryptedStore.open(directory, passphrase))
