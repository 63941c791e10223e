"""Durability seen at the system-call level: what reaches the disk, in what order.

Killing a process (`test_store_crash.py`) leaves the page cache behind, so it cannot tell a
save that was synced from one that was only written: a skipped `fdatasync` passes every crash
test. Here every write, sync, rename and unlink the store makes is recorded, by file (device
and inode), and the order is checked against the contract in docs/storage.md: an
acknowledged save has its journal record written and synced, then its seal written and
synced, before it returns; a compaction makes the new snapshot durable (file synced,
renamed, directory synced) before the manifest names it, and the manifest durable before an
older generation is deleted."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from harness import FAST_KDF, PASSPHRASE
from storage import FieldDB
from storage.formats import MANIFEST_NAME, journal_name, snapshot_name

Inode = tuple[int, int]


def inode_of(where: int | str | Path) -> Inode:
    found = os.fstat(where) if isinstance(where, int) else os.stat(where)
    return found.st_dev, found.st_ino


class DiskLog:
    """Records the store's system calls (then makes them) while installed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[Any, ...]] = []
        for name in ("write", "pwrite", "ftruncate"):
            self._wrap_fd_call(monkeypatch, name, "write")
        for name in ("fsync", "fdatasync"):
            self._wrap_fd_call(monkeypatch, name, "sync")
        replace = os.replace

        def recorded_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            self.events.append(("replace", inode_of(src), Path(dst).name))
            replace(src, dst, *args, **kwargs)

        unlink = os.unlink

        def recorded_unlink(path: Any, *args: Any, **kwargs: Any) -> None:
            self.events.append(("unlink", Path(path).name))
            unlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "replace", recorded_replace)
        monkeypatch.setattr(os, "unlink", recorded_unlink)

    def _wrap_fd_call(self, monkeypatch: pytest.MonkeyPatch, name: str, kind: str) -> None:
        real = getattr(os, name)

        def recorded(fd: int, *args: Any) -> Any:
            self.events.append((kind, inode_of(fd)))
            return real(fd, *args)

        monkeypatch.setattr(os, name, recorded)

    def mark(self, label: str) -> None:
        self.events.append(("mark", label))

    def index(self, event: tuple[Any, ...]) -> int:
        assert event in self.events, f"{event} never happened: {self.events}"
        return self.events.index(event)

    def writes_synced_before(self, inode: Inode, end: int) -> None:
        """Each write to `inode` before event `end` is synced before the next write to it, and
        the last one before `end`: a record is on disk before its seal is written, and both
        before the save returns."""
        before = self.events[:end]
        writes = [i for i, event in enumerate(before) if event == ("write", inode)]
        assert writes, "nothing was written to the file"
        for write, following in zip(writes, [*writes[1:], end], strict=True):
            assert ("sync", inode) in before[write:following], (
                f"the write to the file at event {write} was not synced before event {following}: {before}"
            )


def make_db(store_dir: Path) -> FieldDB:
    db = FieldDB.create(store_dir, PASSPHRASE, FAST_KDF)
    db.table("cases").insert({"n": 0, "summary": "宅基地墙界纠纷"})
    return db


def test_a_save_returns_only_once_its_journal_record_is_synced(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_db(store_dir)
    cases = db.table("cases")
    journal = inode_of(store_dir / journal_name(db.store.generation))
    log = DiskLog(monkeypatch)
    saves = {
        "insert": lambda: cases.insert({"n": 1, "summary": "邻里噪音纠纷"}),
        "update": lambda: cases.update({"status": "closed"}, doc_ids=[1]),
        "remove": lambda: cases.remove(doc_ids=[1]),
    }
    for label, save in saves.items():
        start = len(log.events)
        save()
        log.mark(label)
        assert ("write", journal) in log.events[start:], f"{label} wrote nothing to the journal"
        log.writes_synced_before(journal, log.index(("mark", label)))

    start = len(log.events)
    with db.transaction():
        for n in range(2, 6):
            cases.insert({"n": n, "summary": f"土地承包纠纷 {n}"})
        assert ("write", journal) not in log.events[start:]  # one record, at the end
    log.mark("transaction")
    log.writes_synced_before(journal, log.index(("mark", "transaction")))
    db.close()


def test_a_save_whose_sync_fails_is_not_acknowledged(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_db(store_dir)

    def failing(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing)
    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OSError):
        db.table("cases").insert({"n": 1, "summary": "邻里噪音纠纷"})
    monkeypatch.undo()
    db.close()


def test_compaction_makes_each_file_durable_before_the_next_step(
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_db(store_dir)
    db.store.compact()  # generations 0 and 1 exist: the next compaction deletes generation 0
    db.table("cases").insert({"n": 1, "summary": "邻里噪音纠纷"})
    folder = inode_of(store_dir)
    log = DiskLog(monkeypatch)
    db.store.compact()
    log.mark("returned")
    new = db.store.generation
    assert new == 2

    steps = [journal_name(new), snapshot_name(new), MANIFEST_NAME]
    replaced = {name: next(e for e in log.events if e[0] == "replace" and e[2] == name) for name in steps}
    at = {name: log.index(event) for name, event in replaced.items()}
    for name, event in replaced.items():
        # The temporary file's content is synced before it is renamed into place...
        log.writes_synced_before(event[1], at[name])
    # ...and each rename is made durable (directory synced) before the next step starts.
    ends = [at[journal_name(new)], at[snapshot_name(new)], at[MANIFEST_NAME]]
    for name, end in zip(steps, [*ends[1:], log.index(("mark", "returned"))], strict=True):
        assert ("sync", folder) in log.events[at[name] : end], f"{name} renamed but the folder not synced"
    # The old generation goes only once the manifest names the new one, durably.
    deleted = [i for i, e in enumerate(log.events) if e[0] == "unlink" and e[1].endswith(f"{new - 2:08d}.fa")]
    assert len(deleted) == 2, log.events
    assert all(("sync", folder) in log.events[at[MANIFEST_NAME] : i] for i in deleted)
    assert ("sync", folder) in log.events[deleted[-1] : log.index(("mark", "returned"))]
    db.close()
