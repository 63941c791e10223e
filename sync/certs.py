"""Station authority: a CA key, device certificates, station-signed statements.

The station id is derived from the CA public key (like a device id from its
key), so the anchor a device is given at enrolment is self-checking. A
certificate binds a device id and key to an officer, a role and the station; it
is canonical msgpack signed by the CA::

    [1, station_id, station_name, device_id, device_key, officer, role, issued_ms, serial]
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import msgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sync.identity import device_id_for
from sync.ops import MalformedOperation, canonical, unpack_untrusted

CERT_VERSION = 1
ROLES = ("officer", "supervisor")


class CertificateError(ValueError):
    """A certificate that does not hold; the message says why."""


def station_id_for(ca_public_key: bytes) -> str:
    """The station id: derived from the CA key, so an anchor checks itself."""
    return "st-" + device_id_for(ca_public_key)


@dataclass(frozen=True)
class Anchor:
    """What every enrolled device keeps to recognise its station."""

    station_id: str
    station_name: str
    ca_public_key: bytes

    def check(self) -> None:
        """Raise CertificateError if the id does not belong to the key."""
        if station_id_for(self.ca_public_key) != self.station_id:
            raise CertificateError("the station anchor's id does not match its key")

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True if the station CA signed `data`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.ca_public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_doc(self) -> dict[str, object]:
        """As stored and sent."""
        return {
            "station_id": self.station_id,
            "station_name": self.station_name,
            "ca_key": self.ca_public_key,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, object]) -> Anchor:
        """Inverse of `to_doc`; checks the id against the key."""
        try:
            ca_key = doc["ca_key"]
            if not isinstance(ca_key, bytes):  # bytes(an int) would be that many zero bytes
                raise TypeError("ca_key")
            anchor = cls(str(doc["station_id"]), str(doc["station_name"]), ca_key)
        except (KeyError, TypeError, ValueError):
            raise CertificateError("the station anchor is incomplete") from None
        anchor.check()
        return anchor


@dataclass(frozen=True)
class Certificate:
    """A device certificate: who the device is at which station, in which role."""

    station_id: str
    station_name: str
    device_id: str
    device_key: bytes
    officer: str
    role: str
    issued_ms: int
    serial: int
    body: bytes
    signature: bytes

    def to_wire(self) -> list[bytes]:
        """[body, signature] as stored, sent and carried in announcements."""
        return [self.body, self.signature]


def decode_certificate(body: bytes, signature: bytes, anchor: Anchor) -> Certificate:
    """Parse and check a certificate against the station anchor."""
    if not isinstance(body, bytes) or not isinstance(signature, bytes) or len(body) > 4096:
        raise CertificateError("the certificate is not well formed")
    try:
        fields = unpack_untrusted(body)
    except MalformedOperation:
        raise CertificateError("the certificate is not well formed") from None
    if not isinstance(fields, list) or len(fields) != 9 or fields[0] != CERT_VERSION:
        raise CertificateError("the certificate has an unknown format")
    _, station_id, station_name, device_id, device_key, officer, role, issued_ms, serial = fields
    if station_id != anchor.station_id:
        raise CertificateError("the certificate was issued by another station")
    if not anchor.verify(signature, body):
        raise CertificateError("the certificate is not signed by this station")
    if not isinstance(device_key, bytes) or device_id_for(device_key) != device_id:
        raise CertificateError("the certificate's device id does not match its key")
    if role not in ROLES or not isinstance(officer, str) or not isinstance(serial, int):
        raise CertificateError("the certificate's role or officer is invalid")
    return Certificate(
        station_id,
        str(station_name),
        device_id,
        device_key,
        officer,
        role,
        int(issued_ms),
        serial,
        body,
        signature,
    )


class StationAuthority:
    """The CA: lives only in the supervisor's encrypted store."""

    def __init__(self, ca_private_key: bytes, station_name: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(ca_private_key)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.anchor = Anchor(station_id_for(public), station_name, public)

    @classmethod
    def generate(cls, station_name: str) -> tuple[StationAuthority, bytes]:
        """A new CA; returns it and its private key bytes (to keep in the store)."""
        private = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(private, station_name), private

    def sign(self, data: bytes) -> bytes:
        """A station signature (certificates, revocations)."""
        return self._key.sign(data)

    def issue(self, device_key: bytes, officer: str, role: str, serial: int | None = None) -> Certificate:
        """Certify a device's key for an officer and role at this station."""
        if role not in ROLES:
            raise CertificateError(f"unknown role {role!r}")
        body = msgpack.packb(
            canonical(
                [
                    CERT_VERSION,
                    self.anchor.station_id,
                    self.anchor.station_name,
                    device_id_for(device_key),
                    device_key,
                    officer,
                    role,
                    int(time.time() * 1000),
                    serial if serial is not None else int.from_bytes(os.urandom(6), "big"),
                ]
            ),
            use_bin_type=True,
        )
        return decode_certificate(body, self.sign(body), self.anchor)
