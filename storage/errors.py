"""Errors a store can raise; each names the problem and what the user can do.

Messages never contain record content or a person's name: they name files,
offsets and counts only, so they are safe to show and to log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


class StoreError(Exception):
    """Base class: something is wrong with an encrypted store."""

    #: Short machine-readable code, stable across releases (used by `--json`).
    code = "store_error"


class StoreNotFound(StoreError):
    """No store exists at the given directory."""

    code = "store_not_found"

    def __init__(self, directory: Path) -> None:
        super().__init__(
            f"No fieldapp store in {directory}. Create one with "
            "`fieldapp init --officer NAME`, or point --store at an existing one."
        )


class StoreExists(StoreError):
    """A store already exists where a new one was to be created."""

    code = "store_exists"

    def __init__(self, directory: Path) -> None:
        super().__init__(
            f"A fieldapp store already exists in {directory}; it was left untouched. "
            "Choose another --store directory to create a new one."
        )


@dataclass(frozen=True)
class LockHolder:
    """The process holding a store's lock, as it recorded itself (no personal data)."""

    pid: int
    #: What it runs: "app", or a command such as "serve" or "station open".
    runs: str
    #: Since when (seconds since the epoch).
    since: float

    def since_text(self) -> str:
        """When it took the store, local time: 21:05 today, else 2026-12-05 21:05."""
        then = time.localtime(self.since)
        same_day = time.strftime("%Y-%m-%d", then) == time.strftime("%Y-%m-%d")
        return time.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M", then)

    def what(self) -> str:
        """What it runs, as a person types it."""
        if not self.runs:  # a program that did not say (`set_lock_label`)
            return "another fieldapp process"
        return "the fieldapp app" if self.runs == "app" else f"`fieldapp {self.runs}`"


class StoreLocked(StoreError):
    """Another process has the store open (`holder` names it when it could be read)."""

    code = "store_locked"

    def __init__(self, directory: Path, holder: LockHolder | None = None) -> None:
        self.holder = holder
        if holder is None:
            super().__init__(
                f"The store in {directory} is open in another fieldapp process. "
                "Close that one (the app, `fieldapp serve` or a running sync) and try again."
            )
            return
        super().__init__(
            f"The store in {directory} is open in {holder.what()} (pid {holder.pid}, since "
            f"{holder.since_text()}). Close that one (ctrl+q in the app, Ctrl-C for a command) and "
            "try again; to review while devices sync, serve from the app: `fieldapp station open`."
        )


class WrongPassphrase(StoreError):
    """The passphrase does not unlock the store's data key."""

    code = "wrong_passphrase"

    def __init__(self) -> None:
        super().__init__(
            "Wrong passphrase: the store was not unlocked and nothing was changed. "
            "Check the keyboard layout and Caps Lock, then try again."
        )


class UnsupportedVersion(StoreError):
    """A file was written by a newer (or unknown) format version."""

    code = "unsupported_version"

    def __init__(self, path: Path, version: int) -> None:
        super().__init__(
            f"{path.name} uses store format version {version}, which this fieldapp "
            "does not know. Update fieldapp on this device; the file was left untouched."
        )


class StoreCorrupted(StoreError):
    """A store file failed its integrity check (flipped bytes, tampering, wrong file)."""

    code = "store_corrupted"

    def __init__(self, path: Path, detail: str, *, salvageable: bool = False) -> None:
        self.path = path
        self.salvageable = salvageable
        hint = (
            " Run `fieldapp store salvage` to recover the last good state "
            "(the damaged file is kept aside, not deleted)."
            if salvageable
            else " Restore the store directory from a backup, or re-enrol the device "
            "and sync its data back from the station."
        )
        super().__init__(f"{path.name} is damaged: {detail}. Nothing was changed.{hint}")


class KeyFileCorrupted(StoreCorrupted):
    """The key file (wrapped data key and KDF parameters) is damaged."""

    code = "key_file_corrupted"


class SnapshotCorrupted(StoreCorrupted):
    """The snapshot file failed decryption or its header is damaged."""

    code = "snapshot_corrupted"


class SnapshotTruncated(StoreCorrupted):
    """The snapshot file is shorter than its header says."""

    code = "snapshot_truncated"


class JournalCorrupted(StoreCorrupted):
    """A journal record failed its integrity check."""

    code = "journal_corrupted"


class ManifestCorrupted(StoreCorrupted):
    """The manifest naming the current generation is damaged."""

    code = "manifest_corrupted"


class StoreRolledBack(StoreCorrupted):
    """Acknowledged saves were cut off the end of the store (truncation, or an old file put back).

    Told apart from a crash: a crash never loses an acknowledged save, so the journal's
    authenticated seal (or a newer generation already in use) shows what went missing.
    """

    code = "store_rolled_back"

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        self.salvageable = True
        StoreError.__init__(
            self,
            f"{path.name} shows that saves were removed from the end of this store (a rollback): "
            f"{detail}. Nothing was changed. Run `fieldapp store salvage` to open what is left "
            "(the cut file is kept aside in a damaged-* folder, not deleted).",
        )


class StoreFileMissing(StoreError):
    """One of the store's files is missing."""

    code = "store_file_missing"

    def __init__(self, path: Path, what: str, *, salvageable: bool = False) -> None:
        self.path = path
        self.salvageable = salvageable
        hint = (
            " Run `fieldapp store salvage` to rebuild it from the previous generation."
            if salvageable
            else " Restore the store directory from a backup."
        )
        super().__init__(f"The {what} {path.name} is missing from {path.parent}.{hint}")


class SnapshotMissing(StoreFileMissing):
    """The current snapshot file is missing."""

    code = "snapshot_missing"

    def __init__(self, path: Path, *, salvageable: bool = False) -> None:
        super().__init__(path, "snapshot", salvageable=salvageable)


class JournalMissing(StoreFileMissing):
    """The current journal file is missing."""

    code = "journal_missing"

    def __init__(self, path: Path, *, salvageable: bool = False) -> None:
        super().__init__(path, "journal", salvageable=salvageable)


class StoreClosed(StoreError):
    """An operation was attempted on a closed (locked) store."""

    code = "store_closed"

    def __init__(self) -> None:
        super().__init__("The store is locked. Unlock it with the passphrase first.")
