"""A device's identity: its Ed25519 signing key, device id and log epoch."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def device_id_for(public_key: bytes) -> str:
    """A short, stable id derived from the public key (80 bits, base32, lower case)."""
    digest = hashlib.sha256(public_key).digest()[:10]
    return base64.b32encode(digest).decode("ascii").lower()


@dataclass(frozen=True)
class DeviceIdentity:
    """Keys and ids of this device; kept only inside the encrypted store."""

    device_id: str
    signing_key: bytes
    public_key: bytes
    #: A fresh random epoch per created (or re-created) store: (device, epoch, seq) never repeats.
    epoch: int

    @classmethod
    def generate(cls) -> DeviceIdentity:
        """Create a new identity with a new key pair and a random epoch."""
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(
            device_id=device_id_for(public),
            signing_key=private.private_bytes_raw(),
            public_key=public,
            epoch=int.from_bytes(os.urandom(8), "big") >> 1,
        )

    def to_doc(self) -> dict[str, object]:
        """The document stored in the `device` table."""
        return {
            "device_id": self.device_id,
            "signing_key": self.signing_key,
            "public_key": self.public_key,
            "epoch": self.epoch,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, object]) -> DeviceIdentity:
        """Inverse of `to_doc`; TypeError if a field has the wrong type."""
        signing_key, public_key, epoch = doc["signing_key"], doc["public_key"], doc["epoch"]
        if (
            not isinstance(signing_key, bytes)
            or not isinstance(public_key, bytes)
            or not isinstance(epoch, int)
        ):
            raise TypeError("the device identity document has a field of the wrong type")
        return cls(
            device_id=str(doc["device_id"]), signing_key=signing_key, public_key=public_key, epoch=epoch
        )
