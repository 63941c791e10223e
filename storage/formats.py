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
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag

from storage.crypto import NONCE_LEN, TAG_LEN, Sealer
from storage.errors import (
    JournalCorrupted,
    ManifestCorrupted,
    SnapshotCorrupted,
    SnapshotTruncated,
    UnsupportedVersion,
)

FORMAT_VERSION = 1
_SEAL_OVERHEAD = NONCE_LEN + TAG_LEN

_JOURNAL_HEAD = struct.Struct(">8sH16sQ")  # magic, version, store id, generation
_SNAPSHOT_HEAD = struct.Struct(">8sH16sQQ")  # ... plus total file length
_MANIFEST_HEAD = struct.Struct(">8sH16sQ")
_RECORD_HEAD = struct.Struct(">II")  # length, crc32(length)
_RECORD_AAD = struct.Struct(">c16sQQ")  # b"J", store id, generation, index

JOURNAL_MAGIC = b"FLDAPPJ1"
SNAPSHOT_MAGIC = b"FLDAPPS1"
MANIFEST_MAGIC = b"FLDAPPM1"
JOURNAL_HEADER_LEN = _JOURNAL_HEAD.size + _SEAL_OVERHEAD
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
) -> tuple:
    if len(raw) < head.size:
        raise error(path, f"its header is cut short ({len(raw)} bytes)")
    fields = head.unpack_from(raw)
    if fields[0] != magic:
        raise error(path, "it does not start like this kind of fieldapp file")
    if fields[1] != FORMAT_VERSION:
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


def encode_journal_header(sealer: Sealer, store_id: bytes, generation: int) -> bytes:
    """Header of a new, empty journal."""
    head = _JOURNAL_HEAD.pack(JOURNAL_MAGIC, FORMAT_VERSION, store_id, generation)
    return head + sealer.seal(b"", head)


def _record_aad(store_id: bytes, generation: int, index: int) -> bytes:
    return _RECORD_AAD.pack(b"J", store_id, generation, index)


def encode_record(sealer: Sealer, store_id: bytes, generation: int, index: int, payload: bytes) -> bytes:
    """Frame and seal one journal record."""
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


def scan_journal(
    path: Path,
    raw: bytes,
    sealer: Sealer,
    store_id: bytes,
    generation: int,
    *,
    salvage: bool = False,
) -> JournalScan:
    """Decrypt every record; a torn tail is tolerated, damage is an error unless salvaging."""
    _check_header(path, raw, _JOURNAL_HEAD, JOURNAL_MAGIC, JournalCorrupted, store_id, generation)
    head = raw[: _JOURNAL_HEAD.size]
    try:
        sealer.open(raw[_JOURNAL_HEAD.size : JOURNAL_HEADER_LEN], head)
    except (InvalidTag, ValueError):
        raise JournalCorrupted(path, "its header fails authentication") from None

    payloads: list[bytes] = []
    offset = JOURNAL_HEADER_LEN
    size = len(raw)

    def damaged(detail: str) -> JournalScan:
        message = f"record {len(payloads) + 1} at byte {offset} {detail}"
        if not salvage:
            raise JournalCorrupted(path, message, salvageable=True)
        return JournalScan(payloads, offset, 0, f"{message}; {size - offset} bytes after it dropped")

    while offset < size:
        if size - offset < _RECORD_HEAD.size:
            return JournalScan(payloads, offset, size - offset)
        length, crc = _RECORD_HEAD.unpack_from(raw, offset)
        if zlib.crc32(raw[offset : offset + 4]) != crc:
            return damaged("has a damaged length field")
        if length < _SEAL_OVERHEAD or length > MAX_RECORD_LEN:
            return damaged(f"declares an impossible length {length}")
        start = offset + _RECORD_HEAD.size
        if start + length > size:
            return JournalScan(payloads, offset, size - offset)
        aad = _record_aad(store_id, generation, len(payloads))
        try:
            payloads.append(sealer.open(raw[start : start + length], aad))
        except (InvalidTag, ValueError):
            return damaged("fails authentication")
        offset = start + length
    return JournalScan(payloads, offset)


class JournalWriter:
    """Appends records durably: each append is on disk (fdatasync) when it returns."""

    def __init__(
        self, path: Path, sealer: Sealer, store_id: bytes, generation: int, scan: JournalScan
    ) -> None:
        self.path = path
        self._sealer = sealer
        self._store_id = store_id
        self.generation = generation
        self.index = len(scan.payloads)
        self.size = scan.good_end
        self._torn = scan.torn_bytes > 0
        self._fd = os.open(path, os.O_WRONLY)

    def append(self, payload: bytes) -> None:
        """Seal, write and fdatasync one record."""
        if self._torn:
            # Drop the bytes of a save that never completed before writing after it.
            os.ftruncate(self._fd, self.size)
            self._torn = False
        record = encode_record(self._sealer, self._store_id, self.generation, self.index, payload)
        view = memoryview(record)
        offset = self.size
        try:
            while view:
                written = os.pwrite(self._fd, view, offset)
                view = view[written:]
                offset += written
            os.fdatasync(self._fd)
        except BaseException:
            # Whatever reached the file is an unacknowledged tail; cut it next time.
            self._torn = True
            raise
        self.size += len(record)
        self.index += 1

    def close(self) -> None:
        """Close the file descriptor (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
