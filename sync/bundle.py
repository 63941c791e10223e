"""Operation bundles: the file `fieldapp ops export` writes, sealed for a station's devices.

Version 2 (the default) is msgpack ``{"format": "fieldapp-ops", "version": 2, "header": bin,
"sealed": bin}``. ``header`` is msgpack ``{"format", "version", "station", "nonce",
"recipients": [[id, ephemeral X25519 public key, wrapped file key], ...]}``, kept as the bytes
written: ``sealed`` is AES-256-GCM under a random 256-bit file key over the msgpack list of
``[body, sig]`` entries, with those header bytes as associated data, so a change anywhere in
the header (a recipient added, removed or altered, another station) fails the check.

The file key is wrapped for each recipient the way age wraps for an ssh-ed25519 key: the
recipient's Ed25519 public key mapped to X25519 (Edwards y -> Montgomery u = (1+y)/(1-y) mod
p), an ephemeral X25519 key per recipient, HKDF-SHA256 over the shared secret (salt: both
public keys; info: the recipient's id and a digest of format, version, station, nonce and
every recipient id), and AES-256-GCM with the header's bytes as associated data. The reader's
X25519 scalar is the first half of SHA-512 of its Ed25519 seed (the scalar Ed25519 itself
signs with; `X25519PrivateKey.from_private_bytes` clamps it).

Version 1 is the plain form ``{"format": "fieldapp-ops", "version": 1, "station": ...,
"entries": [[body, sig], ...]}``, still read, written only when asked for.

Entries stay opaque ``[body, sig]`` byte pairs: verifying them is the replica's job.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "fieldapp-ops"
PLAIN_VERSION = 1
SEALED_VERSION = 2
#: No export is larger (the import refuses the file before reading it).
MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_HEADER_BYTES = 256 * 1024
MAX_RECIPIENTS = 2048
MAX_ID_CHARS = 64
#: More entries than a county's decade of work; bounds the objects a hostile file can make.
MAX_ENTRIES = 8_000_000
NONCE_BYTES = 12
KEY_BYTES = 32
WRAPPED_BYTES = KEY_BYTES + 16
_WRAP_NONCE = bytes(NONCE_BYTES)  # each key-encryption key is used once
_WRAP_INFO = b"fieldapp-ops/2 file key\x00"
_P = 2**255 - 19

Entry = tuple[bytes, bytes]


class BundleError(ValueError):
    """A file that cannot be written or read; `code` and `params` say why (rendered at the edge)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Recipient:
    """Who may open a bundle: a device (or the station authority) and its Ed25519 public key."""

    id: str
    ed25519_public: bytes


@dataclass(frozen=True)
class Bundle:
    """A parsed file: its station and recipients; entries at once (v1) or after `open_entries` (v2)."""

    version: int
    station: str
    recipients: tuple[str, ...] = ()
    entries: list[Entry] | None = None
    header: bytes = b""
    nonce: bytes = b""
    stanzas: tuple[tuple[bytes, bytes], ...] = ()
    sealed: bytes = field(default=b"", repr=False)


def x25519_public_from_ed25519(public: bytes) -> bytes:
    """The X25519 public key (Montgomery u) of an Ed25519 public key (Edwards y, sign bit dropped)."""
    if len(public) != KEY_BYTES:
        raise ValueError("an Ed25519 public key is 32 bytes")
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    if y >= _P or y == 1:  # not a field element, or the neutral point (1 - y has no inverse)
        raise ValueError("not a usable Ed25519 public key")
    u = (1 + y) * pow(1 - y, _P - 2, _P) % _P
    return u.to_bytes(KEY_BYTES, "little")


def x25519_private_from_ed25519(seed: bytes) -> X25519PrivateKey:
    """The X25519 key matching `x25519_public_from_ed25519` of this Ed25519 seed's public key."""
    return X25519PrivateKey.from_private_bytes(hashlib.sha512(seed).digest()[:KEY_BYTES])


def _context(station: str, nonce: bytes, ids: list[str] | tuple[str, ...]) -> bytes:
    """Digest of what every wrap is bound to: format, version, station, nonce, recipient ids."""
    packed = msgpack.packb([FORMAT, SEALED_VERSION, station, nonce, list(ids)], use_bin_type=True)
    return hashlib.sha256(packed).digest()


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes, rid: str, context: bytes) -> AESGCM:
    """The key-encryption key of one recipient's stanza."""
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=ephemeral + recipient,
        info=_WRAP_INFO + rid.encode() + b"\x00" + context,
    ).derive(shared)
    return AESGCM(key)


def pack_plain(station: str, entries: list[Entry]) -> bytes:
    """Version 1: the entries in clear (only when the user asks for it)."""
    doc = {
        "format": FORMAT,
        "version": PLAIN_VERSION,
        "station": station,
        "entries": [list(e) for e in entries],
    }
    return msgpack.packb(doc, use_bin_type=True)


def seal(station: str, recipients: list[Recipient], entries: list[Entry]) -> bytes:
    """Version 2: the entries encrypted so that only `recipients` can read them."""
    ordered = sorted({r.id: r for r in recipients}.values(), key=lambda r: r.id)
    if not ordered or len(ordered) > MAX_RECIPIENTS:
        raise BundleError("recipients", count=len(ordered))
    ids = [r.id for r in ordered]
    file_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(NONCE_BYTES)
    context = _context(station, nonce, ids)
    keyed: list[tuple[str, bytes, AESGCM]] = []
    for r in ordered:
        target = x25519_public_from_ed25519(r.ed25519_public)
        ephemeral = X25519PrivateKey.generate()
        public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(target))
        keyed.append((r.id, public, _kek(shared, public, target, r.id, context)))
    # The wraps are bound to the context (ids, nonce); the header holding them is what the
    # entries' tag binds, so changing any stanza fails the entries' check too.
    core = {"format": FORMAT, "version": SEALED_VERSION, "station": station, "nonce": nonce}
    stanzas = [[rid, public, kek.encrypt(_WRAP_NONCE, file_key, context)] for rid, public, kek in keyed]
    header = msgpack.packb(core | {"recipients": stanzas}, use_bin_type=True)
    payload = msgpack.packb([list(e) for e in entries], use_bin_type=True)
    sealed = AESGCM(file_key).encrypt(nonce, payload, header)
    outer = {"format": FORMAT, "version": SEALED_VERSION, "header": header, "sealed": sealed}
    return msgpack.packb(outer, use_bin_type=True)


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ValueError("extension types are not allowed")


def _unpack(data: bytes, *, max_str_len: int, max_bin_len: int, max_array_len: int, max_map_len: int) -> Any:
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=True,
            ext_hook=_refuse_ext,
            max_str_len=max_str_len,
            max_bin_len=max_bin_len,
            max_array_len=max_array_len,
            max_map_len=max_map_len,
        )
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return None


def _entries(value: Any) -> list[Entry] | None:
    if not isinstance(value, list) or not all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], bytes) and isinstance(e[1], bytes)
        for e in value
    ):
        return None
    return [(e[0], e[1]) for e in value]


def read(data: bytes) -> Bundle:
    """Parse a file (either version) without opening it; BundleError says what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise BundleError("too_large")
    # Collections bounded by the input's length; only the v1 entries list can be long.
    doc = _unpack(
        data,
        max_str_len=MAX_ID_CHARS,
        max_bin_len=len(data),
        max_array_len=min(len(data), MAX_ENTRIES),
        max_map_len=8,
    )
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError("not_export")
    version = doc.get("version")
    if version == PLAIN_VERSION:
        entries = _entries(doc.get("entries"))
        station = doc.get("station")
        if entries is None or not isinstance(station, str):
            raise BundleError("entries_damaged")
        return Bundle(PLAIN_VERSION, station, entries=entries)
    if version != SEALED_VERSION:
        raise BundleError("version", version=repr(version))
    return _read_sealed(doc)


def _read_sealed(doc: dict[str, Any]) -> Bundle:
    header, sealed = doc.get("header"), doc.get("sealed")
    if set(doc) != {"format", "version", "header", "sealed"} or not isinstance(sealed, bytes):
        raise BundleError("damaged")
    if not isinstance(header, bytes) or len(header) > MAX_HEADER_BYTES:
        raise BundleError("damaged")
    head = _unpack(
        header,
        max_str_len=MAX_ID_CHARS,
        max_bin_len=WRAPPED_BYTES,
        max_array_len=MAX_RECIPIENTS,
        max_map_len=8,
    )
    if not isinstance(head, dict) or set(head) != {"format", "version", "station", "nonce", "recipients"}:
        raise BundleError("damaged")
    station, nonce, stanzas = head["station"], head["nonce"], head["recipients"]
    if (
        head["format"] != FORMAT
        or head["version"] != SEALED_VERSION
        or not isinstance(station, str)
        or not isinstance(nonce, bytes)
        or len(nonce) != NONCE_BYTES
        or not isinstance(stanzas, list)
        or not stanzas
        or not all(_is_stanza(s) for s in stanzas)
    ):
        raise BundleError("damaged")
    ids = tuple(s[0] for s in stanzas)
    if len(set(ids)) != len(ids):
        raise BundleError("damaged")
    return Bundle(
        SEALED_VERSION,
        station,
        recipients=ids,
        header=header,
        nonce=nonce,
        stanzas=tuple((s[1], s[2]) for s in stanzas),
        sealed=sealed,
    )


def _is_stanza(s: Any) -> bool:
    return (
        isinstance(s, list)
        and len(s) == 3
        and isinstance(s[0], str)
        and isinstance(s[1], bytes)
        and len(s[1]) == KEY_BYTES
        and isinstance(s[2], bytes)
        and len(s[2]) == WRAPPED_BYTES
    )


def open_entries(bundle: Bundle, recipient_id: str, ed25519_seed: bytes) -> list[Entry]:
    """The entries of a v2 bundle, opened with one recipient's key; BundleError("damaged") if
    any check fails (the file was changed, or the key is not that recipient's)."""
    if bundle.version != SEALED_VERSION or recipient_id not in bundle.recipients:
        raise BundleError("not_recipient")
    ephemeral, wrapped = bundle.stanzas[bundle.recipients.index(recipient_id)]
    private = x25519_private_from_ed25519(ed25519_seed)
    own = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    context = _context(bundle.station, bundle.nonce, bundle.recipients)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral))
        file_key = _kek(shared, ephemeral, own, recipient_id, context).decrypt(_WRAP_NONCE, wrapped, context)
        payload = AESGCM(file_key).decrypt(bundle.nonce, bundle.sealed, bundle.header)
    except (InvalidTag, ValueError):  # ValueError: a low-order ephemeral key (all-zero secret)
        raise BundleError("damaged") from None
    entries = _entries(
        _unpack(
            payload,
            max_str_len=0,
            max_bin_len=len(payload),
            max_array_len=min(len(payload), MAX_ENTRIES),
            max_map_len=0,
        )
    )
    if entries is None:  # authenticated, so made wrongly rather than damaged on the way
        raise BundleError("entries_damaged")
    return entries
