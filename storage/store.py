"""The encrypted, durable store: a snapshot plus an append-only journal.

While unlocked, the decrypted database lives in memory as
``{table: {doc_id: document}}``. A save appends one sealed journal record that
holds only the changed documents and fdatasyncs it, so its cost follows the size
of the change, not of the store. When the journal grows past half the snapshot
(and a floor), it is compacted into a new snapshot generation.

Generation G consists of ``snap-G.fa`` and ``journal-G.fa``; ``manifest.fa`` names
the current G. Compaction writes journal G+1, snapshot G+1, then the manifest
(each fsync'd and atomically renamed), and keeps generation G beside it so that a
damaged current snapshot can be rebuilt (see `salvage`).
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from storage import formats
from storage.crypto import (
    DATA_KEY_LEN,
    DEFAULT_KDF,
    STORE_ID_LEN,
    KdfParams,
    Sealer,
    read_key_file,
    wrap_data_key,
    write_key_file,
)
from storage.errors import (
    JournalMissing,
    SnapshotMissing,
    StoreClosed,
    StoreCorrupted,
    StoreError,
    StoreExists,
    StoreFileMissing,
    StoreNotFound,
    StoreRolledBack,
)
from storage.files import DirectoryLock, atomic_write, fsync_dir

Tables = dict[str, dict[str, Any]]
#: A change to one document: its new packed bytes, or None for a removal.
Changes = dict[str, dict[str, bytes | None]]
MISSING = object()


def pack(value: Any) -> bytes:
    """The one serialisation of documents used in memory and on disk."""
    return msgpack.packb(value, use_bin_type=True)


def packer() -> Callable[[Any], bytes]:
    """`pack` for many documents in a row: one msgpack Packer instead of one per call.

    Same bytes as `pack`. Keep it local to one call (a Packer is not thread-safe, and it
    keeps its buffer as large as the largest value it packed).
    """
    return msgpack.Packer(use_bin_type=True).pack


def unpack(data: bytes | memoryview) -> Any:
    """Inverse of `pack`."""
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large, acyclic structure.

    Unpacking a 100k-record snapshot allocates millions of containers; each
    allocation burst triggers a collection that walks everything built so far.
    Measured on a 100k-record store (3 runs each): unlock 1.90-2.02 s with the
    collector running, 1.29-1.53 s without.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class SalvageReport:
    """What `EncryptedStore.salvage` recovered and what it set aside."""

    rebuilt_from_previous: bool = False
    journal_records_recovered: int = 0
    damage: list[str] = field(default_factory=list)
    moved_aside: list[str] = field(default_factory=list)


class EncryptedStore:
    """An unlocked store: live tables in memory, durable encrypted files on disk."""

    #: Compaction becomes *due* once the journal exceeds max(this, half the snapshot) and
    #: is done at the next idle moment (`maybe_compact`) or at close; a save compacts
    #: inline only once the journal outgrows max(this, the whole snapshot).
    min_compact_bytes = 4 * 1024 * 1024

    def __init__(self, directory: Path, sealer: Sealer, store_id: bytes, lock: DirectoryLock) -> None:
        self.directory = directory
        self.store_id = store_id
        self.tables: Tables = {}
        self.generation = 0
        self.snapshot_bytes = 0
        self._sealer = sealer
        self._lock = lock
        self._journal: formats.JournalWriter | None = None
        self._pending: Changes | None = None
        self._undo: list[tuple[str, str, Any]] = []
        self._closed = False
        #: One thread's transaction at a time (a sync applies batches in a worker thread while
        #: the UI thread saves): another thread's changes must not join an open transaction.
        self._transaction_lock: AbstractContextManager[Any] = threading.RLock()

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, directory: Path, passphrase: str, kdf: KdfParams = DEFAULT_KDF) -> EncryptedStore:
        """Create an empty store in `directory` (created if needed, must hold no store)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if (directory / formats.KEY_NAME).exists() or (directory / formats.MANIFEST_NAME).exists():
            raise StoreExists(directory)
        lock = DirectoryLock(directory)
        lock.acquire()
        try:
            data_key = os.urandom(DATA_KEY_LEN)
            store_id = os.urandom(STORE_ID_LEN)
            store = cls(directory, Sealer(data_key), store_id, lock)
            store._write_generation(0, b"\x80")  # msgpack of {}
            # The key file goes last: until it exists, this is not a store.
            write_key_file(directory / formats.KEY_NAME, wrap_data_key(data_key, passphrase, store_id, kdf))
            store._journal = store._open_journal_writer(0, store._empty_scan())
            return store
        except BaseException:
            lock.release()
            raise

    @classmethod
    def open(cls, directory: Path, passphrase: str) -> EncryptedStore:
        """Unlock an existing store; raises a specific StoreError on any problem."""
        store = cls._unlock(Path(directory), passphrase)
        try:
            store._load(salvage=False)
            if store._journal is None:  # a version 1 journal: upgrade to sealed journals now
                store.compact()
        except BaseException:
            store.close()
            raise
        # The decrypted state lives while the store is open and holds no reference cycles:
        # move it out of the collector's generations, or every later collection walks all of
        # it (measured at 100k cases: pauses of 1.1-3.1 s after unlock, 2.0 of the 3.3 s the
        # home screen took to appear; 1.2 s with this). Refcounting still frees it at close.
        gc.freeze()
        return store

    @classmethod
    def salvage(cls, directory: Path, passphrase: str) -> tuple[EncryptedStore, SalvageReport]:
        """Recover the last good state of a damaged store and make it whole again.

        Damaged files are renamed into a ``damaged-<time>`` folder, never deleted;
        the recovered state is written as a fresh generation.
        """
        store = cls._unlock(Path(directory), passphrase)
        try:
            report = store._load(salvage=True)
            aside = store.directory / time.strftime("damaged-%Y%m%d-%H%M%S")
            bad = [store.directory / name for name in report.moved_aside]
            if bad:
                aside.mkdir(mode=0o700)
                for path in bad:
                    if path.exists():
                        os.rename(path, aside / path.name)
                fsync_dir(store.directory)
            store.compact(prune=False)
        except BaseException:
            store.close()
            raise
        return store, report

    @classmethod
    def _unlock(cls, directory: Path, passphrase: str) -> EncryptedStore:
        key_path = directory / formats.KEY_NAME
        if not key_path.exists():
            if (directory / formats.MANIFEST_NAME).exists():
                raise StoreFileMissing(key_path, "key file")
            raise StoreNotFound(directory)
        lock = DirectoryLock(directory)
        lock.acquire()
        try:
            key_file = read_key_file(key_path)
            data_key = key_file.unwrap(passphrase)
        except BaseException:
            lock.release()
            raise
        return cls(directory, Sealer(data_key), key_file.store_id, lock)

    def close(self) -> None:
        """Lock the store: compact if due, forget the decrypted state, release the directory.

        A transaction another thread has open (a sync batch) is finished first.
        """
        with self._transaction_lock:
            with suppress(OSError):  # e.g. a full disk: the journal holds everything, compact next time
                self.maybe_compact()
            if self._journal is not None:
                self._journal.close()
                self._journal = None
            self.tables = {}
            self._closed = True
            self._lock.release()

    @property
    def is_open(self) -> bool:
        """True while unlocked."""
        return not self._closed

    @property
    def journal_bytes(self) -> int:
        """Current size of the journal file."""
        return self._writer().size

    def check_passphrase(self, passphrase: str) -> None:
        """Raise WrongPassphrase unless `passphrase` unwraps this store's data key (the app's
        unlock screen while the store stays open to serve syncs: docs/sync.md, "Station mode")."""
        read_key_file(self.directory / formats.KEY_NAME).unwrap(passphrase)

    def change_passphrase(self, old: str, new: str, kdf: KdfParams | None = None) -> None:
        """Re-wrap the data key under `new`; the data files are not touched."""
        key_path = self.directory / formats.KEY_NAME
        key_file = read_key_file(key_path)
        data_key = key_file.unwrap(old)
        write_key_file(key_path, wrap_data_key(data_key, new, self.store_id, kdf or key_file.params))

    # ------------------------------------------------------------ loading

    def _empty_scan(self) -> formats.JournalScan:
        return formats.JournalScan([], formats.JOURNAL_HEADER_LEN)

    def _path(self, name: str) -> Path:
        return self.directory / name

    def _read_manifest(self, report: SalvageReport | None) -> int:
        path = self._path(formats.MANIFEST_NAME)
        try:
            generation = formats.decode_manifest(path, path.read_bytes(), self._sealer, self.store_id)
            self._check_no_newer_generation(path, generation)
            return generation
        except (FileNotFoundError, StoreCorrupted) as exc:
            if report is None:
                if isinstance(exc, FileNotFoundError):
                    raise StoreFileMissing(path, "manifest", salvageable=True) from None
                raise
            generations = sorted(
                int(p.name[5:13]) for p in self.directory.glob("snap-*.fa") if p.name[5:13].isdigit()
            )
            if not generations:
                raise SnapshotMissing(self._path(formats.snapshot_name(0))) from None
            report.damage.append(f"{path.name}: {exc}")
            if path.exists():
                report.moved_aside.append(path.name)
            return generations[-1]

    def _check_no_newer_generation(self, manifest: Path, generation: int) -> None:
        """An older manifest put back would open an older generation: a newer journal that was
        ever written to shows it (a compaction cut short leaves the newer journal empty)."""
        for path in self.directory.glob("journal-*.fa"):
            digits = path.name[8:16]
            if not digits.isdigit() or int(digits) <= generation:
                continue
            with path.open("rb") as file:
                head = file.read(formats.JOURNAL_HEADER_LEN + 1)
            if formats.journal_in_use(head, self._sealer, self.store_id, int(digits)):
                raise StoreRolledBack(
                    manifest,
                    f"it names generation {generation}, but the newer generation {int(digits)} "
                    "was already in use",
                )

    def _read_snapshot(self, generation: int) -> Tables:
        path = self._path(formats.snapshot_name(generation))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SnapshotMissing(path, salvageable=self._has_previous(generation)) from None
        try:
            plaintext = formats.decode_snapshot(path, raw, self._sealer, self.store_id, generation)
        except StoreCorrupted as exc:
            exc.salvageable = self._has_previous(generation)
            raise
        del raw  # the ciphertext is not needed while the plaintext is unpacked
        with no_gc():
            tables: Tables = unpack(plaintext)
            return tables

    def _has_previous(self, generation: int) -> bool:
        return generation > 0 and all(
            self._path(name(generation - 1)).exists()
            for name in (formats.snapshot_name, formats.journal_name)
        )

    def _read_journal(self, generation: int, salvage: bool) -> formats.JournalScan:
        path = self._path(formats.journal_name(generation))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise JournalMissing(path, salvageable=True) from None
        return formats.scan_journal(path, raw, self._sealer, self.store_id, generation, salvage=salvage)

    def _load(self, salvage: bool) -> SalvageReport:
        report = SalvageReport()
        generation = self._read_manifest(report if salvage else None)
        try:
            tables = self._read_snapshot(generation)
        except (StoreCorrupted, StoreFileMissing) as exc:
            if not (salvage and self._has_previous(generation)):
                raise
            # The previous snapshot plus its whole journal equals this snapshot.
            tables = self._read_snapshot(generation - 1)
            self._replay(tables, self._read_journal(generation - 1, salvage=False).payloads)
            report.rebuilt_from_previous = True
            report.damage.append(str(exc))
            report.moved_aside.append(formats.snapshot_name(generation))
        try:
            scan = self._read_journal(generation, salvage)
        except JournalMissing as exc:
            if not salvage:
                raise
            report.damage.append(str(exc))
            scan = self._empty_scan()
        if scan.damage:
            report.damage.append(f"{formats.journal_name(generation)}: {scan.damage}")
            report.moved_aside.append(formats.journal_name(generation))
        self._replay(tables, scan.payloads)
        report.journal_records_recovered = len(scan.payloads)
        self.tables = tables
        self.generation = generation
        if report.damage or scan.legacy:
            # Salvage writes a fresh generation at once; no writer on damaged files. A version 1
            # journal (without seals) is replaced by a new generation when the store opens.
            self._journal = None
        else:
            self.snapshot_bytes = self._path(formats.snapshot_name(generation)).stat().st_size
            self._journal = self._open_journal_writer(generation, scan)
        return report

    @staticmethod
    def _replay(tables: Tables, payloads: list[bytes]) -> None:
        with no_gc():
            EncryptedStore._replay_all(tables, payloads)

    @staticmethod
    def _replay_all(tables: Tables, payloads: list[bytes]) -> None:
        for payload in payloads:
            for table_name, docs in unpack(payload).items():
                table = tables.setdefault(table_name, {})
                for doc_id, packed in docs.items():
                    if packed is None:
                        table.pop(doc_id, None)
                    else:
                        table[doc_id] = unpack(packed)

    def _open_journal_writer(self, generation: int, scan: formats.JournalScan) -> formats.JournalWriter:
        return formats.JournalWriter(
            self._path(formats.journal_name(generation)), self._sealer, self.store_id, generation, scan
        )

    # ------------------------------------------------------------ writing

    def _writer(self) -> formats.JournalWriter:
        if self._journal is None:
            raise StoreClosed()
        return self._journal

    def record_changes(
        self,
        table: str,
        changes: dict[str, bytes | None],
        before: dict[str, Any],
        *,
        new_table: bool = False,
    ) -> None:
        """Make already-applied in-memory changes durable (or part of the open transaction).

        `before` maps each changed doc id to its packed previous value or MISSING,
        so that a failed transaction can be rolled back in memory. A `new_table`
        is recorded even when empty, so that it exists after a reopen.
        """
        self.tables.setdefault(table, {})
        if not changes and not new_table:
            return
        if self._pending is not None:
            self._pending.setdefault(table, {}).update(changes)
            self._undo.extend((table, key, before[key]) for key in changes)
            return
        self._append({table: changes})

    def _append(self, changes: Changes) -> None:
        writer = self._writer()
        writer.append(pack(changes))
        if writer.size > max(self.min_compact_bytes, self.snapshot_bytes):
            self.compact()

    @property
    def compaction_due(self) -> bool:
        """True once the journal is worth folding into a new snapshot."""
        return self._journal is not None and self._journal.size > max(
            self.min_compact_bytes, self.snapshot_bytes // 2
        )

    def maybe_compact(self) -> bool:
        """Compact if due (call when idle: the end of a command, a sync, a quiet moment)."""
        if self._closed or self._pending is not None or not self.compaction_due:
            return False
        self.compact()
        return True

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group many changes into one journal record: one write, one fsync.

        If the block raises, every in-memory change made inside it is undone and
        nothing reaches the disk. A transaction another thread has open is waited for.
        """
        with self._transaction_lock:
            if self._pending is not None:
                yield  # nested: the outer transaction decides
                return
            self._writer()
            self._pending, self._undo = {}, []
            tables_before = set(self.tables)
            try:
                yield
                if self._pending:
                    self._append(self._pending)
            except BaseException:
                for table, key, old in reversed(self._undo):
                    restore(self.tables.setdefault(table, {}), key, old)
                for table in set(self.tables) - tables_before:
                    del self.tables[table]
                raise
            finally:
                self._pending, self._undo = None, []

    def replace_all(self, tables: Tables) -> None:
        """Replace the whole database (TinyDB's drop_tables and friends): a compaction."""
        if self._pending is not None:
            raise StoreError("The whole store cannot be replaced inside a transaction.")
        self.tables = tables
        self.compact()

    def compact(self, *, prune: bool = True) -> None:
        """Write the in-memory state as a new generation and start an empty journal.

        With `prune`, generations older than the previous one are deleted.
        """
        if self._closed:
            raise StoreClosed()
        old = self._journal
        new_generation = self.generation + 1
        self._write_generation(new_generation, pack(self.tables))
        self._journal = self._open_journal_writer(new_generation, self._empty_scan())
        if old is not None:
            old.close()
        if not prune:
            return
        # Keep generation G (the previous one) for salvage; remove anything older.
        for pattern in ("snap-*.fa", "journal-*.fa"):
            for path in self.directory.glob(pattern):
                digits = path.name.split("-")[1][:8]
                if digits.isdigit() and int(digits) < new_generation - 1:
                    path.unlink()
        fsync_dir(self.directory)

    def _write_generation(self, generation: int, plaintext: bytes) -> None:
        journal_header = formats.encode_journal_header(self._sealer, self.store_id, generation)
        atomic_write(self._path(formats.journal_name(generation)), journal_header)
        snapshot = formats.encode_snapshot(self._sealer, self.store_id, generation, plaintext)
        atomic_write(self._path(formats.snapshot_name(generation)), snapshot)
        manifest = formats.encode_manifest(self._sealer, self.store_id, generation)
        atomic_write(self._path(formats.MANIFEST_NAME), manifest)
        self.generation = generation
        self.snapshot_bytes = len(snapshot)


def restore(table: dict[str, Any], key: str, old: Any) -> None:
    """Put back a document's previous value: packed bytes, a detached object, or MISSING."""
    if old is MISSING:
        table.pop(key, None)
    elif isinstance(old, bytes):
        table[key] = unpack(old)
    else:
        table[key] = old
