"""On-disk formats of the journal, the snapshot and the manifest.

Every file starts with a plaintext header (magic, version, store id, generation)
that is bound as associated data to everything encrypted in it, so a file from
another store or another generation cannot be swapped in unnoticed.

Journal record framing::

    length u32 | crc32(length) u32 | nonce(12) | ciphertext | tag(16)

The CRC covers only the length field: it tells a torn tail (a crash mid-append,
which is expected and harmless because that save was never acknowledged) from a
damaged length (which is corruption and must not silently drop later records).
The record's index in the journal is bound as associated data, so records cannot
be reordered or dropped from the middle without detection.

Records cannot be dropped from the *end* unnoticed either: the journal's header has
two seal slots, each an authenticated (count of records, tag of the last of them).
After a record is appended and synced, the slot of its parity is overwritten with
the new count and synced too, so the newest seal never runs ahead of what is on disk
and never lags behind an acknowledged save. Fewer records than a valid seal counts is
a rollback (`StoreRolledBack`).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag

from storage.crypto import NONCE_LEN, TAG_LEN, Sealer
from storage.errors import (
    JournalCorrupted,
    ManifestCorrupted,
    SnapshotCorrupted,
    SnapshotTruncated,
    StoreRolledBack,
    UnsupportedVersion,
)

#: Version of the snapshot and manifest formats.
FORMAT_VERSION = 1
#: Version of the journal format: 2 adds the seal slots. A version 1 journal (records right
#: after its header) is still read, and replaced by a new generation as soon as it is opened.
JOURNAL_VERSION = 2
_SEAL_OVERHEAD = NONCE_LEN + TAG_LEN

_JOURNAL_HEAD = struct.Struct(">8sH16sQ")  # magic, version, store id, generation
_SNAPSHOT_HEAD = struct.Struct(">8sH16sQQ")  # ... plus total file length
_MANIFEST_HEAD = struct.Struct(">8sH16sQ")
_RECORD_HEAD = struct.Struct(">II")  # length, crc32(length)
_RECORD_AAD = struct.Struct(">c16sQQ")  # b"J", store id, generation, index
_SEAL_BODY = struct.Struct(">Q16s")  # records sealed, tag of the last of them
_SEAL_AAD = struct.Struct(">c16sQB")  # b"L", store id, generation, slot; then the body

JOURNAL_MAGIC = b"FLDAPPJ1"
SNAPSHOT_MAGIC = b"FLDAPPS1"
MANIFEST_MAGIC = b"FLDAPPM1"
_JOURNAL_HEAD_LEN = _JOURNAL_HEAD.size + _SEAL_OVERHEAD
#: Each seal slot starts a 512-byte sector of its own: rewriting one never touches the other.
SEAL_OFFSETS = (512, 1024)
SEAL_LEN = _SEAL_BODY.size + _SEAL_OVERHEAD
#: Records start here (version 2); the bytes between header and slots are zero.
JOURNAL_HEADER_LEN = 1536
LEGACY_JOURNAL_HEADER_LEN = _JOURNAL_HEAD_LEN
NO_TAG = bytes(TAG_LEN)
#: A single journal record may not exceed this (a whole-store rewrite goes to a snapshot).
MAX_RECORD_LEN = 256 * 1024 * 1024


def snapshot_name(generation: int) -> str:
    """File name of the snapshot of `generation`."""
    return f"snap-{generation:08d}.fa"


def journal_name(generation: int) -> str:
    """File name of the journal that follows snapshot `generation`."""
    return f"journal-{generation:08d}.fa"


MANIFEST_NAME = "manifest.fa"
KEY_NAME = "key.fa"


def _check_header(
    path: Path,
    raw: bytes,
    head: struct.Struct,
    magic: bytes,
    error: type[JournalCorrupted] | type[SnapshotCorrupted] | type[ManifestCorrupted],
    store_id: bytes,
    generation: int | None,
    versions: tuple[int, ...] = (FORMAT_VERSION,),
) -> tuple[Any, ...]:
    if len(raw) < head.size:
        raise error(path, f"its header is cut short ({len(raw)} bytes)")
    fields = head.unpack_from(raw)
    if fields[0] != magic:
        raise error(path, "it does not start like this kind of fieldapp file")
    if fields[1] not in versions:
        raise UnsupportedVersion(path, fields[1])
    if fields[2] != store_id:
        raise error(path, "it belongs to a different store")
    if generation is not None and fields[3] != generation:
        raise error(path, f"it is generation {fields[3]}, expected {generation}")
    return fields


# ---------------------------------------------------------------- manifest


def encode_manifest(sealer: Sealer, store_id: bytes, generation: int) -> bytes:
    """The manifest names the current generation; it is authenticated, not secret."""
    head = _MANIFEST_HEAD.pack(MANIFEST_MAGIC, FORMAT_VERSION, store_id, generation)
    return head + sealer.seal(b"", head)


def decode_manifest(path: Path, raw: bytes, sealer: Sealer, store_id: bytes) -> int:
    """Return the generation named by a manifest, or raise ManifestCorrupted."""
    fields = _check_header(path, raw, _MANIFEST_HEAD, MANIFEST_MAGIC, ManifestCorrupted, store_id, None)
    head = raw[: _MANIFEST_HEAD.size]
    try:
        sealer.open(raw[_MANIFEST_HEAD.size :], head)
    except (InvalidTag, ValueError):
        raise ManifestCorrupted(path, "its authentication tag does not match", salvageable=True) from None
    return int(fields[3])


# ---------------------------------------------------------------- snapshot


def encode_snapshot(sealer: Sealer, store_id: bytes, generation: int, plaintext: bytes) -> bytes:
    """Seal a whole-store snapshot; the header records the total file length."""
    total = _SNAPSHOT_HEAD.size + len(plaintext) + _SEAL_OVERHEAD
    head = _SNAPSHOT_HEAD.pack(SNAPSHOT_MAGIC, FORMAT_VERSION, store_id, generation, total)
    return head + sealer.seal(plaintext, head)


def decode_snapshot(path: Path, raw: bytes, sealer: Sealer, store_id: bytes, generation: int) -> bytes:
    """Return the snapshot's plaintext, or raise a specific error."""
    fields = _check_header(path, raw, _SNAPSHOT_HEAD, SNAPSHOT_MAGIC, SnapshotCorrupted, store_id, generation)
    total = fields[4]
    if len(raw) < total:
        raise SnapshotTruncated(path, f"it holds {len(raw)} of its {total} bytes")
    if len(raw) > total:
        raise SnapshotCorrupted(path, f"it has {len(raw) - total} unexpected trailing bytes")
    head = raw[: _SNAPSHOT_HEAD.size]
    try:
        # A memoryview: slicing 50 MB of ciphertext must not copy it.
        return sealer.open(memoryview(raw)[_SNAPSHOT_HEAD.size :], head)
    except (InvalidTag, ValueError):
        raise SnapshotCorrupted(path, "its contents fail authentication") from None


# ---------------------------------------------------------------- journal


def _seal_aad(store_id: bytes, generation: int, slot: int, body: bytes) -> bytes:
    return _SEAL_AAD.pack(b"L", store_id, generation, slot) + body


def encode_seal(
    sealer: Sealer, store_id: bytes, generation: int, slot: int, count: int, last_tag: bytes
) -> bytes:
    """One seal slot: `count` records were written, the last of them with tag `last_tag`."""
    body = _SEAL_BODY.pack(count, last_tag)
    return body + sealer.seal(b"", _seal_aad(store_id, generation, slot, body))


def decode_seal(
    raw: bytes, sealer: Sealer, store_id: bytes, generation: int, slot: int
) -> tuple[int, bytes] | None:
    """(count, last tag) of a seal slot, or None if it is damaged (or was torn by a crash)."""
    start = SEAL_OFFSETS[slot]
    body = raw[start : start + _SEAL_BODY.size]
    sealed = raw[start + _SEAL_BODY.size : start + SEAL_LEN]
    if len(sealed) != _SEAL_OVERHEAD:
        return None
    try:
        sealer.open(sealed, _seal_aad(store_id, generation, slot, body))
    except (InvalidTag, ValueError):
        return None
    count, last_tag = _SEAL_BODY.unpack(body)
    return int(count), bytes(last_tag)


def encode_journal_header(sealer: Sealer, store_id: bytes, generation: int) -> bytes:
    """Header of a new, empty journal: the sealed header, then both seal slots at 0 records."""
    head = _JOURNAL_HEAD.pack(JOURNAL_MAGIC, JOURNAL_VERSION, store_id, generation)
    out = bytearray(JOURNAL_HEADER_LEN)
    out[:_JOURNAL_HEAD_LEN] = head + sealer.seal(b"", head)
    for slot, start in enumerate(SEAL_OFFSETS):
        out[start : start + SEAL_LEN] = encode_seal(sealer, store_id, generation, slot, 0, NO_TAG)
    return bytes(out)


def _record_aad(store_id: bytes, generation: int, index: int) -> bytes:
    return _RECORD_AAD.pack(b"J", store_id, generation, index)


def encode_record(sealer: Sealer, store_id: bytes, generation: int, index: int, payload: bytes) -> bytes:
    """Frame and seal one journal record (its last TAG_LEN bytes are its tag)."""
    sealed = sealer.seal(payload, _record_aad(store_id, generation, index))
    length = len(sealed)
    if length > MAX_RECORD_LEN:
        raise ValueError(f"a single save of {length} bytes exceeds the journal record limit")
    len_bytes = struct.pack(">I", length)
    return _RECORD_HEAD.pack(length, zlib.crc32(len_bytes)) + sealed


@dataclass
class JournalScan:
    """What reading a journal found."""

    payloads: list[bytes]
    #: Offset just past the last complete, authentic record.
    good_end: int
    #: Bytes after `good_end` that were a torn (never acknowledged) append.
    torn_bytes: int = 0
    #: Set when salvaging past damage: a description of what was dropped.
    damage: str | None = None
    #: Tag of the last complete record (NO_TAG for none).
    last_tag: bytes = NO_TAG
    #: The seals do not yet match the records (a crash between a record and its seal):
    #: the writer seals the records it found before appending.
    reseal: bool = False
    #: A version 1 journal, without seals: to be replaced by a new generation.
    legacy: bool = False


def journal_in_use(raw: bytes, sealer: Sealer, store_id: bytes, generation: int) -> bool:
    """True if this (authentic, version 2) journal ever held a record: its generation was current."""
    try:
        _check_header(
            Path("journal"),
            raw,
            _JOURNAL_HEAD,
            JOURNAL_MAGIC,
            JournalCorrupted,
            store_id,
            generation,
            (JOURNAL_VERSION,),
        )
        sealer.open(raw[_JOURNAL_HEAD.size : _JOURNAL_HEAD_LEN], raw[: _JOURNAL_HEAD.size])
    except (JournalCorrupted, UnsupportedVersion, InvalidTag, ValueError):
        return False
    if len(raw) > JOURNAL_HEADER_LEN:
        return True
    seals = (decode_seal(raw, sealer, store_id, generation, slot) for slot in range(len(SEAL_OFFSETS)))
    return any(seal is not None and seal[0] > 0 for seal in seals)


def scan_journal(
    path: Path,
    raw: bytes,
    sealer: Sealer,
    store_id: bytes,
    generation: int,
    *,
    salvage: bool = False,
) -> JournalScan:
    """Decrypt every record; a torn tail is tolerated; damage, or records missing from the end
    that its seal counts, is an error unless salvaging."""
    fields = _check_header(
        path, raw, _JOURNAL_HEAD, JOURNAL_MAGIC, JournalCorrupted, store_id, generation, (1, JOURNAL_VERSION)
    )
    head = raw[: _JOURNAL_HEAD.size]
    try:
        sealer.open(raw[_JOURNAL_HEAD.size : _JOURNAL_HEAD_LEN], head)
    except (InvalidTag, ValueError):
        raise JournalCorrupted(path, "its header fails authentication") from None
    legacy = fields[1] == 1
    seals: list[tuple[int, bytes] | None] = []
    if legacy:
        offset = LEGACY_JOURNAL_HEADER_LEN
    else:
        if len(raw) < JOURNAL_HEADER_LEN:
            raise JournalCorrupted(path, f"its header is cut short ({len(raw)} bytes)", salvageable=True)
        gaps = (
            raw[_JOURNAL_HEAD_LEN : SEAL_OFFSETS[0]],
            raw[SEAL_OFFSETS[0] + SEAL_LEN : SEAL_OFFSETS[1]],
            raw[SEAL_OFFSETS[1] + SEAL_LEN : JOURNAL_HEADER_LEN],
        )
        if any(gap.count(0) != len(gap) for gap in gaps):
            raise JournalCorrupted(path, "its header has been altered", salvageable=True)
        seals = [decode_seal(raw, sealer, store_id, generation, slot) for slot in range(len(SEAL_OFFSETS))]
        offset = JOURNAL_HEADER_LEN

    payloads: list[bytes] = []
    tags: list[bytes] = []
    size = len(raw)

    def damaged(detail: str) -> JournalScan:
        message = f"record {len(payloads) + 1} at byte {offset} {detail}"
        if not salvage:
            raise JournalCorrupted(path, message, salvageable=True)
        return JournalScan(payloads, offset, 0, f"{message}; {size - offset} bytes after it dropped")

    torn = 0
    while offset < size:
        if size - offset < _RECORD_HEAD.size:
            torn = size - offset
            break
        length, crc = _RECORD_HEAD.unpack_from(raw, offset)
        if zlib.crc32(raw[offset : offset + 4]) != crc:
            return damaged("has a damaged length field")
        if length < _SEAL_OVERHEAD or length > MAX_RECORD_LEN:
            return damaged(f"declares an impossible length {length}")
        start = offset + _RECORD_HEAD.size
        if start + length > size:
            torn = size - offset
            break
        aad = _record_aad(store_id, generation, len(payloads))
        try:
            payloads.append(sealer.open(raw[start : start + length], aad))
        except (InvalidTag, ValueError):
            return damaged("fails authentication")
        tags.append(raw[start + length - TAG_LEN : start + length])
        offset = start + length
    scan = JournalScan(payloads, offset, torn, last_tag=tags[-1] if tags else NO_TAG, legacy=legacy)
    if legacy:
        return scan
    problem = _seal_problem(seals, tags)
    if problem is None:
        valid = [seal for seal in seals if seal is not None]
        scan.reseal = len(valid) < len(seals) or max(valid)[0] != len(payloads)
        return scan
    rolled_back, detail = problem
    if not salvage:
        if rolled_back:
            raise StoreRolledBack(path, detail)
        raise JournalCorrupted(path, detail, salvageable=True)
    scan.damage = detail
    return scan


def _seal_problem(seals: list[tuple[int, bytes] | None], tags: list[bytes]) -> tuple[bool, str] | None:
    """What the seals say is wrong with these records: (a rollback?, what), or None.

    A crash can leave one slot torn (its rewrite was cut short) or the records one ahead of
    the seals (cut between the record's sync and the seal's); it never leaves fewer records
    than a valid seal counts, nor one slot damaged unless the records are ahead of the other.
    """
    valid = [seal for seal in seals if seal is not None]
    if not valid:
        return False, "both of its seals are damaged"
    count, last_tag = max(valid)
    records = len(tags)
    if records < count:
        return True, (
            f"the journal ends after save {records} of its generation, but its seal records "
            f"{count}: the last {count - records} are missing"
        )
    if len(valid) < len(seals) and records == count:
        return False, "one of its seals is damaged, and saves may have been cut off its end"
    if count and tags[count - 1] != last_tag:
        return False, "its seal does not match its records"
    return None


class JournalWriter:
    """Appends records durably: each append is on disk (fdatasync), and sealed, when it returns."""

    def __init__(
        self, path: Path, sealer: Sealer, store_id: bytes, generation: int, scan: JournalScan
    ) -> None:
        if scan.legacy:
            raise ValueError("a version 1 journal is read, never appended to")
        self.path = path
        self._sealer = sealer
        self._store_id = store_id
        self.generation = generation
        self.index = len(scan.payloads)
        self.size = scan.good_end
        self._torn = scan.torn_bytes > 0
        self._last_tag = scan.last_tag
        self._reseal = scan.reseal
        self._fd = os.open(path, os.O_WRONLY)

    def _write_all(self, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, offset)
            view = view[written:]
            offset += written

    def _seal(self) -> None:
        """Record durably that `index` records exist, in the slot of its parity."""
        slot = self.index % len(SEAL_OFFSETS)
        seal = encode_seal(self._sealer, self._store_id, self.generation, slot, self.index, self._last_tag)
        self._reseal = True  # until the new seal is on disk
        self._write_all(seal, SEAL_OFFSETS[slot])
        os.fdatasync(self._fd)
        self._reseal = False

    def append(self, payload: bytes) -> None:
        """Seal, write and fdatasync one record, then its seal: two syncs.

        The record is synced before its seal is written, so that a seal never counts a
        record that a crash could lose; the save is acknowledged only once both are synced.
        """
        if self._torn:
            # Drop the bytes of a save that never completed before writing after it.
            os.ftruncate(self._fd, self.size)
            self._torn = False
        if self._reseal:
            # A crash came between a record and its seal (or cut a seal short): seal first.
            self._seal()
        record = encode_record(self._sealer, self._store_id, self.generation, self.index, payload)
        try:
            self._write_all(record, self.size)
            os.fdatasync(self._fd)
        except BaseException:
            # Whatever reached the file is an unacknowledged tail; cut it next time.
            self._torn = True
            raise
        self.size += len(record)
        self.index += 1
        self._last_tag = record[-TAG_LEN:]
        self._seal()

    def close(self) -> None:
        """Close the file descriptor (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
