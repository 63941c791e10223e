"""TLS 1.3 for LAN sync: X.509 certificates from the station authority, and the contexts.

The station's certificates (`sync.certs`) are compact msgpack for operations;
TLS needs X.509. So the station authority issues both at once:

- a **CA certificate**, self-signed with the station's Ed25519 CA key
  (subject CN = station id), which every enrolled device keeps with its anchor;
- a **device certificate** for the device's own Ed25519 key (subject CN =
  device id, OU = role; issuer CN = station id), signed by that CA.

Neither carries a person's name, and both are as small as TLS allows: no
extension but the CA's basic constraints, since every byte travels in each
handshake. Validity runs from 2000 to 9999: a device's clock on patrol may be
far off, and a device leaves the station by revocation, not by expiry.

Both sides of a sync present their certificate and require the peer's to chain
to the station's CA (`CERT_REQUIRED`), TLS 1.3 only. What OpenSSL cannot check
is checked right after the handshake, before any data (`peer_identity`): the
certificate's key hashes to the device id it names, the issuer is this
station, and (in `sync.session`) the device is not revoked.

Python's `ssl` loads a private key only from a file: the key is written to an
anonymous in-memory file (`memfd_create`) and read back through
``/proc/self/fd``, so it never touches a disk.
"""

from __future__ import annotations

import datetime
import os
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from sync.certs import ROLES, Anchor, CertificateError
from sync.identity import device_id_for

NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
MAX_CERT_BYTES = 4096


def _name(**parts: str) -> x509.Name:
    oids = {"cn": NameOID.COMMON_NAME, "ou": NameOID.ORGANIZATIONAL_UNIT_NAME}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in parts.items()])


def _serial(text: str) -> int:
    return int.from_bytes(text.encode()[:15].ljust(15, b"\0"), "big") | 1


def ca_certificate(ca_private_key: bytes, station_id: str) -> bytes:
    """DER of the station's self-signed CA certificate (deterministic: Ed25519 signs so)."""
    key = Ed25519PrivateKey.from_private_bytes(ca_private_key)
    name = _name(cn=station_id)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial(station_id))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def device_certificate(ca_private_key: bytes, station_id: str, device_key: bytes, role: str) -> bytes:
    """DER of a device's TLS certificate, signed by the station CA."""
    if role not in ROLES:
        raise CertificateError(f"unknown role {role!r}")
    key = Ed25519PrivateKey.from_private_bytes(ca_private_key)
    device_id = device_id_for(device_key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn=device_id, ou=role))
        .issuer_name(_name(cn=station_id))
        .public_key(Ed25519PublicKey.from_public_bytes(device_key))
        .serial_number(_serial(device_id))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class PeerIdentity:
    """Who is at the other end of a TLS connection, as its certificate says."""

    device_id: str
    station_id: str
    role: str


def read_device_certificate(der: bytes, station_id: str) -> PeerIdentity:
    """Check what OpenSSL leaves unchecked in a device certificate, and name its device."""
    if not isinstance(der, bytes) or len(der) > MAX_CERT_BYTES:
        raise CertificateError("the peer's certificate is missing or too large")
    try:
        cert = x509.load_der_x509_certificate(der)
        key = cert.public_key()
        subject = {a.oid: a.value for a in cert.subject}
        issuer = {a.oid: a.value for a in cert.issuer}
    except ValueError:
        raise CertificateError("the peer's certificate cannot be read") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CertificateError("the peer's certificate does not hold a device key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    device_id = str(subject.get(NameOID.COMMON_NAME, ""))
    if device_id_for(raw) != device_id:
        raise CertificateError("the peer's certificate names a device id that is not its key's")
    if issuer.get(NameOID.COMMON_NAME) != station_id:  # the chain to this CA was checked by TLS
        raise CertificateError("the peer's certificate belongs to another station")
    role = str(subject.get(NameOID.ORGANIZATIONAL_UNIT_NAME, ""))
    if role not in ROLES:
        raise CertificateError("the peer's certificate has no valid role")
    return PeerIdentity(device_id, station_id, role)


def check_ca_certificate(der: bytes, anchor: Anchor) -> None:
    """The CA certificate a device was given must hold the anchor's key."""
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except (ValueError, TypeError):
        raise CertificateError("the station's TLS certificate cannot be read") from None
    if (
        not isinstance(key, Ed25519PublicKey)
        or key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        != anchor.ca_public_key
    ):
        raise CertificateError("the station's TLS certificate does not hold the station's key")


@dataclass(frozen=True)
class TlsMaterial:
    """What a device needs to speak TLS to its station's devices."""

    station_id: str
    ca_der: bytes
    cert_der: bytes
    private_key: bytes  # raw Ed25519 private key of the device


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _context(material: TlsMaterial, server: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    if server:
        context.num_tickets = 0  # sessions are never resumed: tickets would only cost bytes
    context.check_hostname = False  # peers are named by device id, checked in peer_identity
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=_pem(material.ca_der).decode())
    key_pem = Ed25519PrivateKey.from_private_bytes(material.private_key).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.memfd_create("fieldapp-tls", os.MFD_CLOEXEC)
    try:
        os.write(fd, _pem(material.cert_der) + key_pem)
        context.load_cert_chain(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)
    return context


def server_context(material: TlsMaterial) -> ssl.SSLContext:
    """For accepting syncs: TLS 1.3, the peer's certificate required and checked."""
    return _context(material, server=True)


def client_context(material: TlsMaterial) -> ssl.SSLContext:
    """For starting syncs: TLS 1.3, the peer's certificate required and checked."""
    return _context(material, server=False)


def peer_identity(ssl_object: ssl.SSLObject | ssl.SSLSocket, station_id: str) -> PeerIdentity:
    """The verified peer's identity; CertificateError when its certificate does not hold."""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise CertificateError("the peer presented no certificate")
    return read_device_certificate(der, station_id)
