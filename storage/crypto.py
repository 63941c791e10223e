"""Key hierarchy: an Argon2id key-encryption key wraps a random 256-bit data key.

The key file holds only KDF parameters, salts, the store id and the wrapped data
key. Changing the passphrase rewrites this small file alone; the data stays
encrypted under the same data key.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from storage.errors import KeyFileCorrupted, UnsupportedVersion, WrongPassphrase
from storage.files import atomic_write

KEY_MAGIC = b"FLDAPPK1"
KEY_VERSION = 1
NONCE_LEN = 12
TAG_LEN = 16
DATA_KEY_LEN = 32
STORE_ID_LEN = 16
SALT_LEN = 16

# magic, version, memory KiB, iterations, lanes, salt, store id
_KEY_FIELDS = struct.Struct(f">8sHIII{SALT_LEN}s{STORE_ID_LEN}s")
_WRAPPED_LEN = NONCE_LEN + DATA_KEY_LEN + TAG_LEN
_CHECK_LEN = 32
KEY_FILE_LEN = _KEY_FIELDS.size + _WRAPPED_LEN + _CHECK_LEN


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, stored in the key file header."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """Derive the 256-bit key-encryption key from a passphrase."""
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(passphrase.encode("utf-8"))


#: Default cost: about 0.12 s per derivation on the development machine (docs/storage.md;
#: measure with `scripts/bench.py kdf`), slow enough to make guessing costly.
DEFAULT_KDF = KdfParams()


@dataclass(frozen=True)
class KeyFile:
    """Parsed key file: parameters plus the wrapped data key."""

    params: KdfParams
    salt: bytes
    store_id: bytes
    wrapped: bytes

    def header(self) -> bytes:
        """Bytes bound as associated data when wrapping the data key."""
        return _KEY_FIELDS.pack(
            KEY_MAGIC,
            KEY_VERSION,
            self.params.memory_kib,
            self.params.iterations,
            self.params.lanes,
            self.salt,
            self.store_id,
        )

    def encode(self) -> bytes:
        """Serialise with a trailing checksum that tells damage from a wrong passphrase."""
        body = self.header() + self.wrapped
        return body + hashlib.sha256(body).digest()

    def unwrap(self, passphrase: str) -> bytes:
        """Return the data key, or raise WrongPassphrase."""
        kek = self.params.derive(passphrase, self.salt)
        nonce, sealed = self.wrapped[:NONCE_LEN], self.wrapped[NONCE_LEN:]
        try:
            return AESGCM(kek).decrypt(nonce, sealed, self.header())
        except InvalidTag:
            raise WrongPassphrase() from None


def wrap_data_key(data_key: bytes, passphrase: str, store_id: bytes, params: KdfParams) -> KeyFile:
    """Wrap `data_key` under a fresh salt and nonce."""
    salt = os.urandom(SALT_LEN)
    partial = KeyFile(params, salt, store_id, b"")
    kek = params.derive(passphrase, salt)
    nonce = os.urandom(NONCE_LEN)
    sealed = AESGCM(kek).encrypt(nonce, data_key, partial.header())
    return KeyFile(params, salt, store_id, nonce + sealed)


def read_key_file(path: Path) -> KeyFile:
    """Parse and integrity-check a key file (raises KeyFileCorrupted, UnsupportedVersion)."""
    raw = path.read_bytes()
    if len(raw) < _KEY_FIELDS.size:
        raise KeyFileCorrupted(path, f"it is {len(raw)} bytes, shorter than a key file")
    magic, version, mem, iters, lanes, salt, store_id = _KEY_FIELDS.unpack_from(raw)
    if magic != KEY_MAGIC:
        raise KeyFileCorrupted(path, "it does not start like a fieldapp key file")
    if version != KEY_VERSION:
        raise UnsupportedVersion(path, version)
    if len(raw) != KEY_FILE_LEN:
        raise KeyFileCorrupted(path, f"it is {len(raw)} bytes, expected {KEY_FILE_LEN}")
    body, check = raw[:-_CHECK_LEN], raw[-_CHECK_LEN:]
    if hashlib.sha256(body).digest() != check:
        raise KeyFileCorrupted(path, "its checksum does not match (bytes were altered)")
    params = KdfParams(memory_kib=mem, iterations=iters, lanes=lanes)
    return KeyFile(params, salt, store_id, raw[_KEY_FIELDS.size : -_CHECK_LEN])


def write_key_file(path: Path, key_file: KeyFile) -> None:
    """Atomically replace the key file."""
    atomic_write(path, key_file.encode())


class Sealer:
    """AES-256-GCM with a fresh random 96-bit nonce for every message."""

    def __init__(self, data_key: bytes) -> None:
        self._aead = AESGCM(data_key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Return nonce || ciphertext || tag."""
        nonce = os.urandom(NONCE_LEN)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    def open(self, sealed: bytes | memoryview, aad: bytes) -> bytes:
        """Decrypt nonce || ciphertext || tag; raises InvalidTag on any alteration."""
        return self._aead.decrypt(bytes(sealed[:NONCE_LEN]), sealed[NONCE_LEN:], aad)
