"""Who may author operations, and in which role.

Until the station authority exists, a device makes itself known with a
``device.announce`` operation at the start of each log epoch: it carries the
device's public key (the device id is a hash of it, so the binding is
self-certifying) and the role the device was set up with. `Trust` is the seam
where station-signed certificates plug in later: merge asks only
`public_key(author)` and `role(author)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import msgpack

from sync.certs import Anchor, Certificate, CertificateError, decode_certificate
from sync.identity import device_id_for
from sync.ops import canonical
from sync.refusals import Refusal, refusal

ROLES = ("officer", "supervisor")
ANNOUNCE = "device.announce"
REVOKE = "device.revoke"
#: A supervisor's decision on a fork: which of two signed entries at one position is the log.
SETTLE = "device.settle"
#: The station authority's record that it enrolled a device (issued its certificate): the
#: device is known, listed and revocable everywhere before its own log arrives.
ENROL = "device.enrol"
#: Kinds folded even from a log held out of the view after a fork: the station's own
#: decisions about devices (a quarantine must never block a revocation or an enrolment).
ALWAYS_FOLDED = frozenset({ANNOUNCE, REVOKE, SETTLE, ENROL})


@dataclass(frozen=True)
class DeviceRecord:
    """What this device knows about another device."""

    device_id: str
    public_key: bytes
    role: str
    officer: str


class Trust(Protocol):
    """The questions merge asks about an author."""

    def public_key(self, author: str) -> bytes | None:
        """The author's Ed25519 public key, or None if the author is unknown."""
        ...

    def role(self, author: str) -> str | None:
        """The author's role, or None if unknown."""
        ...


def announce_payload(
    public_key: bytes, role: str, officer: str, cert: list[bytes] | None = None
) -> dict[str, object]:
    """Payload of a device.announce operation (with the station certificate once enrolled)."""
    payload: dict[str, object] = {"public_key": public_key, "role": role, "officer": officer}
    if cert is not None:
        payload["cert"] = list(cert)
    return payload


def settle_payload(epoch: int, seq: int, keep: bytes, reason: str) -> dict[str, object]:
    """Payload of a device.settle operation: keep the entry whose body hashes to `keep`."""
    return {"epoch": epoch, "seq": seq, "keep": keep, "reason": reason}


def settlement_key(epoch: int, seq: int) -> str:
    """Where a device's `settled` map keeps the decision on a fork at (epoch, seq)."""
    return f"{epoch:016x}.{seq:010d}"


def revocation_statement(station_id: str, device_id: str, reason: str, cutoff: dict[str, int]) -> bytes:
    """The bytes the station CA signs to revoke a device."""
    return msgpack.packb(canonical(["revoke", station_id, device_id, reason, cutoff]), use_bin_type=True)


def enrolment_statement(station_id: str, author: str, cert_body: bytes) -> bytes:
    """The bytes the station CA signs to say that device `author` records this enrolment.

    Binding the author makes the statement the authority's own: a device that copied a
    certificate out of an announcement cannot record it as an enrolment.
    """
    return msgpack.packb(canonical(["enrol", station_id, author, cert_body]), use_bin_type=True)


def enrol_payload(certificate: Certificate, station_sig: bytes) -> dict[str, object]:
    """Payload of a device.enrol operation: who the certificate names, the certificate itself
    (checked against the station anchor at merge time) and the station's signature."""
    return {
        "public_key": certificate.device_key,
        "officer": certificate.officer,
        "role": certificate.role,
        "serial": certificate.serial,
        "cert": certificate.to_wire(),
        "station_sig": station_sig,
    }


def record_from_announce(
    author: str, payload: dict[str, object], anchor: Anchor | None
) -> DeviceRecord | Refusal:
    """A DeviceRecord from an announce payload, or why it is not acceptable (a coded refusal).

    At an enrolled station (`anchor` given) the role and officer come from the
    station-signed certificate in the payload; before enrolment they are the
    device's own claim.
    """
    if anchor is not None:
        cert = payload.get("cert")
        if not isinstance(cert, list) or len(cert) != 2:
            return refusal("announce_not_enrolled", device=author)
        try:
            certificate = decode_certificate(cert[0], cert[1], anchor)
        except CertificateError:  # which check failed is not kept: the view holds no prose
            return refusal("announce_certificate_invalid", device=author)
        if certificate.device_id != author or certificate.device_key != payload.get("public_key"):
            return refusal("announce_certificate_other_device", device=author)
        if payload.get("role") != certificate.role or payload.get("officer") != certificate.officer:
            return refusal("announce_role_not_certified", device=author)
    public_key = payload.get("public_key")
    role = payload.get("role")
    officer = payload.get("officer")
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        return refusal("announce_no_key")
    if device_id_for(public_key) != author:
        return refusal("announce_key_mismatch")
    if role not in ROLES:
        return refusal("announce_unknown_role", role=str(role)[:32])
    if not isinstance(officer, str) or len(officer) > 64:
        return refusal("announce_officer_invalid")
    return DeviceRecord(author, public_key, str(role), officer)
