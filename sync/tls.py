"""TLS 1.3 for LAN sync: the station's X.509 certificate profile, its checks, and the contexts.

The station's certificates (`sync.certs`) are compact msgpack for operations;
TLS needs X.509. So the station authority issues both at once:

- a **CA certificate**, self-signed with the station's Ed25519 CA key
  (subject CN = station id), which every enrolled device keeps with its anchor;
- a **device certificate** for the device's own Ed25519 key (subject CN =
  device id, O = station id, OU = `officer` for every device), signed by that CA.

`docs/sync.md` ("Certificates") is the profile, field by field, and the order of
the checks; this module is its one implementation. No certificate carries a
person's name or a role: in TLS 1.3 the listening side shows its certificate to
any client before that client proves anything, so a role there would tell a
stranger which device is the supervisor's. The role is carried only in the
station-signed certificate of the device's log announcement (`sync.certs`).

The OU is `COMPAT_OU` (`officer`) on every device certificate, the supervisor's
included: release 0.1.0 refuses a peer certificate whose OU is not a role, so the
constant keeps 0.1.0 devices syncing with devices running this code. Being the same
for every device it says nothing about any of them, and no check here reads it as a
role (it must be exactly that constant).

Certificates issued before this profile (no extensions, OU = role) are
accepted until the device holding one renews it (`fieldapp enrol join` again),
at the latest until `LEGACY_ACCEPTED_UNTIL`; the station authority renews its
own at its next sync or serve (`fieldapp.core.station.tls_material`).

Python's `ssl` loads a private key only from a file: the key is written to an
anonymous in-memory file (`memfd_create`) and read back through
``/proc/self/fd``, so it never touches a disk.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, SignatureAlgorithmOID

from sync.certs import ROLES, Anchor, CertificateError
from sync.identity import device_id_for

NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
MAX_CERT_BYTES = 4096
#: Device certificates issued before this profile are refused from this instant on, by the
#: checking device's clock (docs/sync.md, "Certificates issued before this profile").
LEGACY_ACCEPTED_UNTIL = datetime.datetime(2027, 7, 1, tzinfo=datetime.UTC)
#: The OU of every device certificate: the same for every device, so it tells nothing about one.
#: Release 0.1.0 requires a peer certificate's OU to be a role (its `sync/tls.py`); this value is
#: one of its roles, for 0.1.0 devices only: this code never reads it as a role.
COMPAT_OU = "officer"
#: The attributes of a device certificate's subject, in order (docs/sync.md, "Certificates").
DEVICE_SUBJECT = (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME)
LEGACY_EXPIRED = (
    "the peer's certificate predates the current profile and is no longer accepted; renew it: "
    "`fieldapp enrol open` on the station authority's device, then `fieldapp enrol join --code "
    "CODE` on that device (its records are kept)"
)
#: The extensions of each certificate, with their criticality (docs/sync.md, "Extensions").
CA_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS: True,
    ExtensionOID.KEY_USAGE: True,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER: False,
}
DEVICE_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS: True,
    ExtensionOID.KEY_USAGE: True,
    ExtensionOID.EXTENDED_KEY_USAGE: False,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER: False,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER: False,
}
DEVICE_EKU = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)


def _usage(*, digital_signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


CA_KEY_USAGE = _usage(cert_sign=True)
DEVICE_KEY_USAGE = _usage(digital_signature=True)


def station_name(station_id: str) -> x509.Name:
    """The CA's subject and every device certificate's issuer: CN = station id, nothing else.

    Unchanged since the first certificates, so a device enrolled before this profile
    chains the new certificates to the CA certificate it holds, and the other way round.
    """
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, station_id)])


def device_name(device_id: str, station_id: str) -> x509.Name:
    """A device certificate's subject: CN = device id, O = station id, OU = `COMPAT_OU` (no role)."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, device_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, station_id),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, COMPAT_OU),
        ]
    )


def ca_serial(ca_public_key: bytes) -> int:
    """The CA certificate's serial: from its key, so the CA certificate is deterministic."""
    return (int.from_bytes(hashlib.sha256(ca_public_key).digest()[:16], "big") >> 1) | 1


def device_serial() -> int:
    """A device certificate's serial: 127 random bits, never 0."""
    return (int.from_bytes(os.urandom(16), "big") >> 1) or 1


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def ca_certificate(ca_private_key: bytes, station_id: str) -> bytes:
    """DER of the station's self-signed CA certificate (deterministic: Ed25519 signs so)."""
    key = Ed25519PrivateKey.from_private_bytes(ca_private_key)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(station_name(station_id))
        .issuer_name(station_name(station_id))
        .public_key(public)
        .serial_number(ca_serial(_raw(public)))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


def device_certificate(
    ca_private_key: bytes, station_id: str, device_key: bytes, serial: int | None = None
) -> bytes:
    """DER of a device's TLS certificate, signed by the station CA (no role: see the module doc)."""
    ca_key = Ed25519PrivateKey.from_private_bytes(ca_private_key)
    public = Ed25519PublicKey.from_public_bytes(device_key)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(device_name(device_id_for(device_key), station_id))
        .issuer_name(station_name(station_id))
        .public_key(public)
        .serial_number(serial if serial is not None else device_serial())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(DEVICE_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(DEVICE_EKU)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, None)
    )
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class PeerIdentity:
    """Who is at the other end of a TLS connection, as its certificate says."""

    device_id: str
    station_id: str
    #: The certificate predates this profile (accepted until the device renews it).
    legacy: bool = False


def _load(der: object, what: str) -> x509.Certificate:
    if not isinstance(der, bytes) or not der or len(der) > MAX_CERT_BYTES:
        raise CertificateError(f"{what} is missing or too large")
    try:
        cert = x509.load_der_x509_certificate(der)
        if cert.version != x509.Version.v3:
            raise ValueError
        cert.extensions, cert.subject, cert.issuer  # noqa: B018 (parse them now, inside the try)
    except (ValueError, x509.InvalidVersion, x509.DuplicateExtension):
        raise CertificateError(f"{what} cannot be read") from None
    return cert


def _signed_by(cert: x509.Certificate, ca_public_key: bytes) -> bool:
    if cert.signature_algorithm_oid != SignatureAlgorithmOID.ED25519:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(ca_public_key).verify(cert.signature, cert.tbs_certificate_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


def _attributes(name: x509.Name) -> list[tuple[Any, str]]:
    """(oid, value) per RDN; an RDN of several attributes fits no profile."""
    if any(len(rdn) != 1 for rdn in name.rdns):
        return []
    return [(a.oid, str(a.value)) for a in name]


def _extensions(cert: x509.Certificate) -> dict[Any, x509.Extension[Any]]:
    return {ext.oid: ext for ext in cert.extensions}


def is_legacy_device_certificate(cert: x509.Certificate) -> bool:
    """The shape issued before this profile: no extensions, subject CN and OU (the role)."""
    names = [oid for oid, _ in _attributes(cert.subject)]
    return not cert.extensions and names == [NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME]


def read_device_certificate(
    der: bytes, station_id: str, ca_public_key: bytes, now: datetime.datetime | None = None
) -> PeerIdentity:
    """Check a device certificate against the profile, in the order docs/sync.md gives.

    Raises CertificateError naming the first rule that does not hold.
    """
    cert = _load(der, "the peer's certificate")
    # 1. issued by this station: its name, and its key's signature (not the name alone).
    if cert.issuer != station_name(station_id) or not _signed_by(cert, ca_public_key):
        raise CertificateError("the peer's certificate was not issued by this station")
    # 2. valid now.
    now = now or datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateError("the peer's certificate is outside its validity (check both devices' clocks)")
    legacy = is_legacy_device_certificate(cert)
    attributes = _attributes(cert.subject)
    names = [oid for oid, _ in attributes]
    values = dict(attributes)
    if legacy and now >= LEGACY_ACCEPTED_UNTIL:
        raise CertificateError(LEGACY_EXPIRED)
    # 3. this station's id in the subject (a legacy certificate names it only by its issuer).
    if not legacy and values.get(NameOID.ORGANIZATION_NAME) != station_id:
        raise CertificateError("the peer's certificate does not name this station")
    # 4. no role in the subject (the log's announcement carries it): the OU is the constant
    # every device has; legacy: a known role.
    if legacy:
        if values[NameOID.ORGANIZATIONAL_UNIT_NAME] not in ROLES:
            raise CertificateError("the peer's certificate has no valid role")
    elif tuple(names) != DEVICE_SUBJECT or values[NameOID.ORGANIZATIONAL_UNIT_NAME] != COMPAT_OU:
        raise CertificateError("the peer's certificate's subject is not device id, station and OU officer")
    # 5. the device id is its key's.
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise CertificateError("the peer's certificate does not hold a device key")
    device_id = values.get(NameOID.COMMON_NAME, "")
    if device_id_for(_raw(key)) != device_id:
        raise CertificateError("the peer's certificate names a device id that is not its key's")
    # 6. the extensions of a device certificate, exactly.
    if not legacy:
        _check_device_extensions(cert, key, ca_public_key)
    return PeerIdentity(device_id, station_id, legacy)


def _check_device_extensions(cert: x509.Certificate, key: Ed25519PublicKey, ca_public_key: bytes) -> None:
    found = _extensions(cert)
    if {oid: ext.critical for oid, ext in found.items()} != DEVICE_EXTENSIONS:
        raise CertificateError("the peer's certificate lacks the extensions of a device certificate")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(Ed25519PublicKey.from_public_bytes(ca_public_key))
    aki = found[ExtensionOID.AUTHORITY_KEY_IDENTIFIER].value
    if (
        found[ExtensionOID.BASIC_CONSTRAINTS].value != x509.BasicConstraints(ca=False, path_length=None)
        or found[ExtensionOID.KEY_USAGE].value != DEVICE_KEY_USAGE
        or list(found[ExtensionOID.EXTENDED_KEY_USAGE].value) != list(DEVICE_EKU)
        or found[ExtensionOID.SUBJECT_KEY_IDENTIFIER].value != x509.SubjectKeyIdentifier.from_public_key(key)
        or aki != x509.AuthorityKeyIdentifier(ca_ski.digest, None, None)
    ):
        raise CertificateError("the peer's certificate is not a device certificate of this station")


def check_ca_certificate(der: bytes, anchor: Anchor) -> None:
    """The CA certificate a device is given must be the station's, of either profile."""
    cert = _load(der, "the station's TLS certificate")
    name = station_name(anchor.station_id)
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if (
        cert.subject != name
        or cert.issuer != name
        or not isinstance(key, Ed25519PublicKey)
        or _raw(key) != anchor.ca_public_key
        or not _signed_by(cert, anchor.ca_public_key)
    ):
        raise CertificateError("the station's TLS certificate does not hold the station's key")
    found = _extensions(cert)
    constraints = found.get(ExtensionOID.BASIC_CONSTRAINTS)
    if constraints is None or not constraints.critical or constraints.value != x509.BasicConstraints(True, 0):
        raise CertificateError("the station's TLS certificate is not a station CA certificate")
    if ca_is_legacy(cert):
        return
    if {oid: ext.critical for oid, ext in found.items()} != CA_EXTENSIONS or (
        found[ExtensionOID.KEY_USAGE].value != CA_KEY_USAGE
        or found[ExtensionOID.SUBJECT_KEY_IDENTIFIER].value != x509.SubjectKeyIdentifier.from_public_key(key)
    ):
        raise CertificateError("the station's TLS certificate is not a station CA certificate")


def ca_is_legacy(cert: x509.Certificate) -> bool:
    """The CA certificate issued before this profile: basic constraints and nothing else."""
    return [ext.oid for ext in cert.extensions] == [ExtensionOID.BASIC_CONSTRAINTS]


def predates_profile(cert_der: bytes, ca_der: bytes) -> bool:
    """True if a device's own certificate or its CA certificate was issued before this profile.

    That is an old-shape certificate (OU = role), and also one of the shape unreleased code
    issued for a while (CN and O, no OU), which release 0.1.0 refuses.
    """
    cert, ca = x509.load_der_x509_certificate(cert_der), x509.load_der_x509_certificate(ca_der)
    names = tuple(oid for oid, _ in _attributes(cert.subject))
    return names != DEVICE_SUBJECT or is_legacy_device_certificate(cert) or ca_is_legacy(ca)


@dataclass(frozen=True)
class TlsMaterial:
    """What a device needs to speak TLS to its station's devices."""

    station_id: str
    ca_der: bytes
    cert_der: bytes
    private_key: bytes  # raw Ed25519 private key of the device

    @property
    def ca_public_key(self) -> bytes:
        """The station CA's raw Ed25519 key, as this device's CA certificate holds it."""
        key = x509.load_der_x509_certificate(self.ca_der).public_key()
        assert isinstance(key, Ed25519PublicKey)
        return _raw(key)


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


def peer_identity(ssl_object: ssl.SSLObject | ssl.SSLSocket, material: TlsMaterial) -> PeerIdentity:
    """The verified peer's identity; CertificateError when its certificate does not hold."""
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        raise CertificateError("the peer presented no certificate")
    return read_device_certificate(der, material.station_id, material.ca_public_key)
