"""Durable file primitives: fsync'd atomic replace, directory fsync, a process lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
from pathlib import Path

from storage.errors import LockHolder, StoreLocked

#: What this process runs, recorded in the lock file of every store it opens (a short label such
#: as "app", "serve" or "station open", set once by the program; never personal data).
_runs = ""


def set_lock_label(runs: str) -> str:
    """Name what this process runs, for the message a second process gets (`StoreLocked`);
    returns the label it replaces."""
    global _runs
    previous, _runs = _runs, runs
    return previous


def fsync_dir(directory: Path) -> None:
    """Make renames and creations inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file.

    The data goes to a fresh hidden temporary file beside `path` (mode 600), is
    fsync'd, renamed over `path`, and the directory is fsync'd. The temporary name
    is unique, so no other file (an officer's ``report.xlsx.tmp``, say) is touched.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but there
        return True
    return True


def _holder(fd: int) -> LockHolder | None:
    """Who holds the lock, as its holder wrote it in the lock file; None if unreadable or if
    that process is gone (a crashed holder's record is never shown: the kernel freed its lock)."""
    try:
        record = json.loads(os.pread(fd, 512, 0) or b"null")
        holder = LockHolder(int(record["pid"]), str(record["runs"])[:40], float(record["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return holder if _alive(holder.pid) else None


class DirectoryLock:
    """An advisory exclusive lock so that one process at a time writes a store.

    The holder writes into the lock file its process id, what it runs (`set_lock_label`) and
    since when, so that a second process's `StoreLocked` can name it; it empties the file when it
    lets go. The record is read only while the lock is held by someone, and only if that process
    still exists.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise StoreLocked."""
        fd = os.open(self._directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise StoreLocked(self._directory, holder) from None
        self._fd = fd
        record = {"pid": os.getpid(), "runs": _runs, "since": round(time.time())}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        except OSError:  # a full disk: the lock holds all the same, only unnamed
            pass

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):  # nobody holds it now: no record left to mislead
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
