"""The X.509 profile of docs/sync.md ("Certificates"), read back with `cryptography.x509`.

Certificates are built here from the documented profile with `cryptography`'s own builder,
not with `sync.tls`, and the hostile peers are plain `ssl` sockets: what the tests check is
what a second implementation written from docs/sync.md would meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import json
import os
import re
import socket
import ssl
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from fieldapp.core.device import DEVICE_TABLE
from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import (
    AUTHORITY_TABLE,
    StationError,
    adopt_enrolment,
    issue_certificate,
    renew_enrolment,
    tls_material,
)
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import station_devices
from sync.certs import CertificateError, StationAuthority
from sync.enrol import EnrolServer
from sync.identity import DeviceIdentity, device_id_for
from sync.lan import SyncServer, sync_with
from sync.session import Endpoint, SessionReport
from sync.tls import LEGACY_ACCEPTED_UNTIL, LEGACY_EXPIRED, read_device_certificate

DOC = Path(__file__).resolve().parent.parent / "docs" / "sync.md"
HOST = "127.0.0.1"
UTC = datetime.UTC
NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
EKU = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
CN, ORG, OU = NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME


# ------------------------------------------------------------------ the documented profile


def documented_extensions() -> dict[str, list[tuple[str, bool]]]:
    """(OID, critical) per certificate, in order, from the extension table of docs/sync.md."""
    rows: dict[str, list[tuple[str, bool]]] = {"CA": [], "device": []}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in rows and re.fullmatch(r"[\d.]+", cells[2]):
            rows[cells[0]].append((cells[2], {"yes": True, "no": False}[cells[3]]))
    return rows


def raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> bytes:
    """RFC 5280 method 1 for Ed25519: SHA-1 of the 32 raw bytes."""
    return hashlib.sha1(raw(key)).digest()


def usage(*, signature: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(signature, False, False, False, False, cert_sign, cert_sign, False, False)


def name(*parts: tuple[Any, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def device_extensions(
    key: Ed25519PublicKey, ca_key: Ed25519PublicKey
) -> list[tuple[x509.ExtensionType, bool]]:
    """The five extensions of a device certificate, as the table lists them."""
    return [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage(signature=True), True),
        (x509.ExtendedKeyUsage(EKU), False),
        (x509.SubjectKeyIdentifier(key_id(key)), False),
        (x509.AuthorityKeyIdentifier(key_id(ca_key), None, None), False),
    ]


def forge(
    signer: Ed25519PrivateKey,
    issuer: x509.Name,
    subject: x509.Name,
    key: Ed25519PublicKey,
    extensions: list[tuple[x509.ExtensionType, bool]],
    not_after: datetime.datetime = NOT_AFTER,
) -> bytes:
    builder = (
        x509.CertificateBuilder()
        .issuer_name(issuer)
        .subject_name(subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(not_after)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signer, None).public_bytes(serialization.Encoding.DER)


def ca_key_of(authority: CaseService) -> Ed25519PrivateKey:
    doc = authority.db.keyed(AUTHORITY_TABLE).get_copy("ca")
    assert doc is not None
    return Ed25519PrivateKey.from_private_bytes(bytes(doc["private_key"]))


def legacy_device_certificate(ca: Ed25519PrivateKey, station_id: str, device_key: bytes, role: str) -> bytes:
    """A device certificate as issued before the profile: CN + OU, no extension."""
    public = Ed25519PublicKey.from_public_bytes(device_key)
    return forge(ca, name((CN, station_id)), name((CN, device_id_for(device_key)), (OU, role)), public, [])


def legacy_ca_certificate(ca: Ed25519PrivateKey, station_id: str) -> bytes:
    """The CA certificate as issued before the profile: basic constraints only."""
    station = name((CN, station_id))
    return forge(
        ca, station, station, ca.public_key(), [(x509.BasicConstraints(ca=True, path_length=0), True)]
    )


# ------------------------------------------------------------------ the profile itself


def test_issued_certificates_have_every_field_of_the_documented_profile(tmp_path: Path) -> None:
    documented = documented_extensions()
    assert [oid for oid, _ in documented["CA"]] == ["2.5.29.19", "2.5.29.15", "2.5.29.14"]
    assert len(documented["device"]) == 5
    with station_devices(tmp_path, 1) as (authority, officer):
        station_id = authority.replica.station
        for service in (authority, officer):
            material = tls_material(service)
            assert material is not None and material.ca_der == tls_material(authority).ca_der  # type: ignore[union-attr]
            ca = x509.load_der_x509_certificate(material.ca_der)
            cert = x509.load_der_x509_certificate(material.cert_der)
            ca_key, key = ca.public_key(), cert.public_key()
            assert isinstance(ca_key, Ed25519PublicKey) and isinstance(key, Ed25519PublicKey)
            assert raw(key) == service.identity.public_key
            for each in (ca, cert):
                assert each.version == x509.Version.v3
                assert each.signature_algorithm_oid == SignatureAlgorithmOID.ED25519
                assert each.not_valid_before_utc == NOT_BEFORE and each.not_valid_after_utc == NOT_AFTER
                assert each.issuer == name((CN, station_id))
                ca_key.verify(each.signature, each.tbs_certificate_bytes)  # signed by the CA key
                assert all(len(rdn) == 1 for rdn in each.subject.rdns)
                # Every name value a UTF8String (tag 0x0c) right after its OID.
                assert b"\x0c" + bytes([len(station_id)]) + station_id.encode() in each.tbs_certificate_bytes
            # CA: subject, serial from its key, extensions in the documented order and criticality.
            assert ca.subject == name((CN, station_id))
            ca_serial = (int.from_bytes(hashlib.sha256(raw(ca_key)).digest()[:16], "big") >> 1) | 1
            assert ca.serial_number == ca_serial
            assert [(e.oid.dotted_string, e.critical) for e in ca.extensions] == documented["CA"]
            values = [e.value for e in ca.extensions]
            assert values[0] == x509.BasicConstraints(ca=True, path_length=0)
            assert values[1] == usage(cert_sign=True)
            assert values[2] == x509.SubjectKeyIdentifier(key_id(ca_key))
            # Device: CN = device id, O = station id, then the OU every device has (no role, no name).
            assert cert.subject == name((CN, service.identity.device_id), (ORG, station_id), (OU, "officer"))
            assert 0 < cert.serial_number < 2**127
            assert [(e.oid.dotted_string, e.critical) for e in cert.extensions] == documented["device"]
            assert [(e.value, e.critical) for e in cert.extensions] == device_extensions(key, ca_key)
            assert cert.extensions[0].value.public_bytes() == b"\x30\x00"  # CA:FALSE: an empty SEQUENCE
            assert len(material.cert_der) <= 428 and len(material.ca_der) <= 324
        # Two devices' certificates never share a serial.
        serials = {
            x509.load_der_x509_certificate(tls_material(s).cert_der).serial_number
            for s in (authority, officer)
        }  # type: ignore[union-attr]
        assert len(serials) == 2


def _subject_apart_from_device_id(der: bytes, device_id: str) -> list[tuple[Any, str]]:
    """The subject's (oid, value) pairs in order, the device id's CN taken out (it must be first)."""
    attributes = [(a.oid, str(a.value)) for a in x509.load_der_x509_certificate(der).subject]
    assert attributes[0] == (CN, device_id)
    return attributes[1:]


def test_the_supervisors_and_an_officers_certificates_differ_only_in_the_device_id(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        station_id = authority.replica.station
        # A second supervisor's device, certified now by the authority.
        deputy = DeviceIdentity.generate()
        wire, _ = issue_certificate(authority, deputy.public_key, "测试副所长", "supervisor")
        # The authority's own, renewed from a certificate of the old shape that showed its role.
        _downgrade(authority, ca_key_of(authority), "supervisor")
        renewed = tls_material(authority)
        assert renewed is not None and _profile(authority) == "current"
        certificates = {
            "authority (supervisor)": (renewed.cert_der, authority.identity.device_id),
            "second supervisor": (bytes(wire[2]), deputy.device_id),
            "officer": (tls_material(officer).cert_der, officer.identity.device_id),  # type: ignore[union-attr]
        }
        # The roles differ where they are kept, the station-signed announcements in the log.
        for who, role in ((authority, "supervisor"), (officer, "officer")):
            announced = who.replica.device(who.identity.device_id)
            assert announced is not None and announced["role"] == role
        # The certificates do not: apart from the CN, every subject attribute is the same.
        subjects = {
            who: _subject_apart_from_device_id(der, device_id)
            for who, (der, device_id) in certificates.items()
        }
        assert set(map(tuple, subjects.values())) == {((ORG, station_id), (OU, "officer"))}, subjects


# ------------------------------------------------------------------ the checks, one rule at a time

Forgery = Callable[[Ed25519PrivateKey, str, Ed25519PrivateKey], bytes]


def _subject(me: Ed25519PrivateKey, station_id: str, ou: str | None = "officer") -> x509.Name:
    """A device certificate's subject: CN = its device id, O = `station_id`, then OU = `ou` if any."""
    parts = [(CN, device_id_for(raw(me.public_key()))), (ORG, station_id)]
    return name(*parts, *([(OU, ou)] if ou is not None else []))


def _good(ca: Ed25519PrivateKey, station_id: str, me: Ed25519PrivateKey, **change: Any) -> bytes:
    key = me.public_key()
    subject = change.get("subject", _subject(me, station_id))
    extensions = change.get("extensions", device_extensions(key, ca.public_key()))
    return forge(
        change.get("signer", ca),
        change.get("issuer", name((CN, station_id))),
        subject,
        key,
        extensions,
        change.get("not_after", NOT_AFTER),
    )


def _replace(extensions: list, index: int, new: Any) -> list:
    return [new if n == index else e for n, e in enumerate(extensions)]


def _exts(ca: Ed25519PrivateKey, me: Ed25519PrivateKey) -> list[tuple[x509.ExtensionType, bool]]:
    return device_extensions(me.public_key(), ca.public_key())


VIOLATIONS: dict[str, tuple[Forgery, str]] = {
    "signed by another key, issuer CN right": (
        lambda ca, st, me: _good(ca, st, me, signer=Ed25519PrivateKey.generate()),
        "was not issued by this station",
    ),
    "issued under another name": (
        lambda ca, st, me: _good(ca, st, me, issuer=name((CN, st), (ORG, "fieldapp station"))),
        "was not issued by this station",
    ),
    "expired": (
        lambda ca, st, me: _good(ca, st, me, not_after=datetime.datetime(2001, 1, 1, tzinfo=UTC)),
        "outside its validity",
    ),
    "another station's O": (
        lambda ca, st, me: _good(ca, st, me, subject=_subject(me, "st-x")),
        "does not name this station",
    ),
    "another station's O and CA:TRUE (rule 3 comes first)": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            subject=_subject(me, "st-x"),
            extensions=_replace(_exts(ca, me), 0, (x509.BasicConstraints(ca=True, path_length=None), True)),
        ),
        "does not name this station",
    ),
    "a role in the subject (OU supervisor)": (
        lambda ca, st, me: _good(ca, st, me, subject=_subject(me, st, "supervisor")),
        "subject is not device id, station and OU officer",
    ),
    # The subject unreleased code issued for a while: release 0.1.0 refuses it ("no valid role").
    "no OU": (
        lambda ca, st, me: _good(ca, st, me, subject=_subject(me, st, None)),
        "subject is not device id, station and OU officer",
    ),
    "the OU before the O": (
        lambda ca, st, me: _good(
            ca, st, me, subject=name((CN, device_id_for(raw(me.public_key()))), (OU, "officer"), (ORG, st))
        ),
        "subject is not device id, station and OU officer",
    ),
    "a device id that is not its key's": (
        lambda ca, st, me: _good(
            ca, st, me, subject=name((CN, "aaaaaaaaaaaaaaaa"), (ORG, st), (OU, "officer"))
        ),
        "not its key's",
    ),
    "CA:TRUE": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            extensions=_replace(_exts(ca, me), 0, (x509.BasicConstraints(ca=True, path_length=0), True)),
        ),
        "not a device certificate of this station",
    ),
    "basicConstraints not critical": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            extensions=_replace(_exts(ca, me), 0, (x509.BasicConstraints(ca=False, path_length=None), False)),
        ),
        "lacks the extensions",
    ),
    "keyUsage keyCertSign": (
        lambda ca, st, me: _good(
            ca, st, me, extensions=_replace(_exts(ca, me), 1, (usage(signature=True, cert_sign=True), True))
        ),
        "not a device certificate of this station",
    ),
    "no clientAuth": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            extensions=_replace(
                _exts(ca, me), 2, (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            ),
        ),
        "not a device certificate of this station",
    ),
    "no extendedKeyUsage": (
        lambda ca, st, me: _good(ca, st, me, extensions=[e for n, e in enumerate(_exts(ca, me)) if n != 2]),
        "lacks the extensions",
    ),
    "an extra extension": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            extensions=[*_exts(ca, me), (x509.SubjectAlternativeName([x509.DNSName("fieldapp")]), False)],
        ),
        "lacks the extensions",
    ),
    "another authority key id": (
        lambda ca, st, me: _good(
            ca,
            st,
            me,
            extensions=_replace(
                _exts(ca, me), 4, (x509.AuthorityKeyIdentifier(b"\1" * 20, None, None), False)
            ),
        ),
        "not a device certificate of this station",
    ),
    "another subject key id": (
        lambda ca, st, me: _good(
            ca, st, me, extensions=_replace(_exts(ca, me), 3, (x509.SubjectKeyIdentifier(b"\2" * 20), False))
        ),
        "not a device certificate of this station",
    ),
}


@pytest.mark.parametrize("violation", list(VIOLATIONS))
def test_each_rule_of_the_profile_is_checked_in_the_documented_order(violation: str) -> None:
    ca, _ = StationAuthority.generate("测试派出所")
    ca_key = Ed25519PrivateKey.from_private_bytes(_)
    station_id, me = ca.anchor.station_id, Ed25519PrivateKey.generate()
    forgery, reason = VIOLATIONS[violation]
    # The same builder without the violation makes a certificate the checks accept.
    accepted = read_device_certificate(_good(ca_key, station_id, me), station_id, ca.anchor.ca_public_key)
    assert accepted.device_id == device_id_for(raw(me.public_key())) and not accepted.legacy
    with pytest.raises(CertificateError, match=re.escape(reason)):
        read_device_certificate(forgery(ca_key, station_id, me), station_id, ca.anchor.ca_public_key)


def test_old_profile_device_certificates_are_accepted_until_the_documented_end() -> None:
    ca, private = StationAuthority.generate("测试派出所")
    ca_key, station_id = Ed25519PrivateKey.from_private_bytes(private), ca.anchor.station_id
    me = DeviceIdentity.generate()
    old = legacy_device_certificate(ca_key, station_id, me.public_key, "officer")
    before_end = LEGACY_ACCEPTED_UNTIL - datetime.timedelta(seconds=1)
    peer = read_device_certificate(old, station_id, ca.anchor.ca_public_key, now=before_end)
    assert (peer.device_id, peer.legacy) == (me.device_id, True)
    # The end is the one docs/sync.md names, and the refusal says what to do.
    assert "from 2027-07-01 00:00:00 UTC" in DOC.read_text(encoding="utf-8")
    assert datetime.datetime(2027, 7, 1, tzinfo=UTC) == LEGACY_ACCEPTED_UNTIL
    with pytest.raises(CertificateError, match="fieldapp enrol join") as refused:
        read_device_certificate(old, station_id, ca.anchor.ca_public_key, now=LEGACY_ACCEPTED_UNTIL)
    assert str(refused.value) == LEGACY_EXPIRED
    # The old shape still has to hold what it held: a known role, its key, the station's signature.
    with pytest.raises(CertificateError, match="no valid role"):
        bad_role = legacy_device_certificate(ca_key, station_id, me.public_key, "admin")
        read_device_certificate(bad_role, station_id, ca.anchor.ca_public_key, now=before_end)
    with pytest.raises(CertificateError, match="not issued by this station"):
        rogue = legacy_device_certificate(Ed25519PrivateKey.generate(), station_id, me.public_key, "officer")
        read_device_certificate(rogue, station_id, ca.anchor.ca_public_key, now=before_end)


# ------------------------------------------------------------------ over TLS, from plain ssl


def _hello(station_id: str, device_id: str) -> bytes:
    body = msgpack.packb(
        {"t": "hello", "proto": 1, "station": station_id, "device": device_id, "digest": b"\0" * 32},
        use_bin_type=True,
    )
    return struct.pack(">I", len(body)) + body


def _plain_client(port: int, chain_pem: Path, key_pem: Path, hello: bytes) -> bytes | str:
    """A hostile device written from docs/sync.md: TLS 1.3, its certificate, a hello, then read."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.load_cert_chain(chain_pem, key_pem)
    received = b""
    try:
        with (
            socket.create_connection((HOST, port), timeout=20) as tcp,
            context.wrap_socket(tcp, server_hostname="fieldapp") as tls,
        ):
            tls.sendall(hello)
            # Until the first whole frame (the server then waits for our vector) or the end.
            while not _frames(received) and (chunk := tls.recv(65536)):
                received += chunk
    except (ssl.SSLError, ConnectionError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return received


def _frames(data: bytes) -> list[dict[str, Any]]:
    """The whole frames in `data` (4-byte big-endian length, msgpack map)."""
    frames = []
    while len(data) >= 4 and len(data) >= 4 + struct.unpack(">I", data[:4])[0]:
        (size,) = struct.unpack(">I", data[:4])
        frames.append(msgpack.unpackb(data[4 : 4 + size], raw=False))
        data = data[4 + size :]
    return frames


async def _attempt(
    authority: CaseService, chain: list[bytes], me: Ed25519PrivateKey, tmp: Path
) -> tuple[Any, list]:
    material = tls_material(authority)
    assert material is not None
    tmp.mkdir(exist_ok=True)
    chain_pem, key_pem = tmp / "chain.pem", tmp / "key.pem"
    chain_pem.write_bytes(
        b"".join(
            x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM) for der in chain
        )
    )
    key_pem.write_bytes(
        me.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    events: list[tuple[str, dict[str, Any]]] = []
    seen = asyncio.Event()

    def on_event(kind: str, data: dict[str, Any]) -> None:
        events.append((kind, data))
        if kind in ("refused", "session"):
            seen.set()

    hello = _hello(authority.replica.station, device_id_for(raw(me.public_key())))
    async with SyncServer(Endpoint(authority.replica), material, HOST, on_event=on_event) as server:
        answer = await asyncio.to_thread(_plain_client, server.port, chain_pem, key_pem, hello)
        await seen.wait()
    return answer, [(kind, data) for kind, data in events if kind != "listening"]


HOSTILE: dict[str, tuple[Callable[[Ed25519PrivateKey, str, Ed25519PrivateKey], list[bytes]], str]] = {
    # The shape the old code accepted, with CA:TRUE.
    "old subject with CA:TRUE": (
        lambda ca, st, me: [
            forge(
                ca,
                name((CN, st)),
                name((CN, device_id_for(raw(me.public_key()))), (OU, "supervisor")),
                me.public_key(),
                [(x509.BasicConstraints(ca=True, path_length=None), True)],
            )
        ],
        "does not name this station",  # it has an extension, so it is not of the old shape
    ),
    # The old code never read the O.
    "another station's O": (
        lambda ca, st, me: [
            forge(
                ca,
                name((CN, st)),
                name((CN, device_id_for(raw(me.public_key()))), (ORG, "st-x"), (OU, "officer")),
                me.public_key(),
                [],
            )
        ],
        "does not name this station",
    ),
    "CA:TRUE": (lambda ca, st, me: [VIOLATIONS["CA:TRUE"][0](ca, st, me)], "not a device certificate"),
    "no extendedKeyUsage": (
        lambda ca, st, me: [VIOLATIONS["no extendedKeyUsage"][0](ca, st, me)],
        "lacks the extensions",
    ),
    # OpenSSL refuses these in the handshake: a client certificate without clientAuth, a signature
    # by another key under the station's name, and a whole look-alike CA of the same CN.
    "no clientAuth": (
        lambda ca, st, me: [VIOLATIONS["no clientAuth"][0](ca, st, me)],
        "not issued by this station",
    ),
    "issuer CN right, signed by another key": (
        lambda ca, st, me: [VIOLATIONS["signed by another key, issuer CN right"][0](ca, st, me)],
        "not issued by this station",
    ),
    "a self-made CA with the station's CN": (
        lambda ca, st, me: _look_alike_chain(st, me),
        "not issued by this station",
    ),
}


def _look_alike_chain(station_id: str, me: Ed25519PrivateKey) -> list[bytes]:
    rogue = Ed25519PrivateKey.generate()
    station = name((CN, station_id))
    rogue_ca = forge(
        rogue,
        station,
        station,
        rogue.public_key(),
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (usage(cert_sign=True), True),
            (x509.SubjectKeyIdentifier(key_id(rogue.public_key())), False),
        ],
    )
    return [_good(rogue, station_id, me), rogue_ca]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_a_plain_tls_client_off_the_profile_is_refused_before_any_frame(tmp_path: Path, hostile: str) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        ca, station_id, me = ca_key_of(authority), authority.replica.station, Ed25519PrivateKey.generate()
        before = authority.replica.vector()
        # The same client with a certificate of the profile is let in: the server says hello.
        answer, events = asyncio.run(_attempt(authority, [_good(ca, station_id, me)], me, tmp_path / "good"))
        assert isinstance(answer, bytes) and _frames(answer)[0]["t"] == "hello", answer
        assert [kind for kind, _ in events] == ["session"]

        make, reason = HOSTILE[hostile]
        answer, events = asyncio.run(_attempt(authority, make(ca, station_id, me), me, tmp_path / "bad"))
        assert [kind for kind, _ in events] == ["refused"], events
        assert reason in events[0][1]["reason"]
        frames = _frames(answer) if isinstance(answer, bytes) else []
        if "not issued by this station" in reason:  # OpenSSL's refusal: an alert, no frame
            assert frames == []
        else:  # refused right after the handshake: one error frame, no hello
            assert [(f["t"], f["reason"].startswith("refused:")) for f in frames] == [("error", True)]
        assert authority.replica.vector() == before


# ------------------------------------------------------------------ enrolment and old stores


def test_an_enrolment_answer_with_a_tls_certificate_not_signed_by_the_station_is_refused(
    tmp_path: Path,
) -> None:
    init_device(tmp_path / "joiner", PASSPHRASE, "测试辅警", FAST_KDF)
    joiner = CaseService.open(tmp_path / "joiner", PASSPHRASE)
    with station_devices(tmp_path, 0) as (authority,), contextlib.closing(joiner):
        cert_wire, anchor_doc = issue_certificate(
            authority, joiner.identity.public_key, "测试辅警", "officer"
        )
        # The names the old code read (issuer CN, subject CN and OU), but signed by another key.
        rogue = Ed25519PrivateKey.generate()
        forged = legacy_device_certificate(
            rogue, authority.replica.station, joiner.identity.public_key, "officer"
        )
        with pytest.raises(StationError, match="not issued by this station"):
            adopt_enrolment(joiner, [*cert_wire[:2], forged], anchor_doc)
        assert tls_material(joiner) is None
        adopt_enrolment(joiner, cert_wire, anchor_doc)  # the genuine answer is taken
        assert tls_material(joiner) is not None


def _downgrade(service: CaseService, ca: Ed25519PrivateKey, role: str) -> None:
    """Give a store the certificates the code issued before the profile."""
    device = service.db.table(DEVICE_TABLE)
    record = device.all()[0]
    station_id = service.device_station
    tls = {
        "cert": legacy_device_certificate(ca, station_id, service.identity.public_key, role),
        "ca": legacy_ca_certificate(ca, station_id),
    }
    with service.db.transaction():
        device.update({**record, "tls": tls}, doc_ids=[record.doc_id])


def _profile(service: CaseService) -> str:
    """`old` for a device certificate of the old shape (no extension), else `current`."""
    raw_doc = service.db.table(DEVICE_TABLE).all()[0]["tls"]
    return "current" if x509.load_der_x509_certificate(bytes(raw_doc["cert"])).extensions else "old"


def _sync(server_side: CaseService, client_side: CaseService) -> SessionReport:
    async def run() -> SessionReport:
        material = tls_material(server_side)
        assert material is not None
        async with SyncServer(Endpoint(server_side.replica), material, HOST) as server:
            client = tls_material(client_side)
            assert client is not None
            return await sync_with(HOST, server.port, Endpoint(client_side.replica), client)

    return asyncio.run(run())


@pytest.mark.timeout(120)
def test_stores_enrolled_before_the_profile_keep_syncing_and_renew(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, old, new):
        ca = ca_key_of(authority)
        _downgrade(authority, ca, "supervisor")
        _downgrade(old, ca, "officer")
        old.new_case("东村", "land", "yellow", "旧证书设备的记录")
        assert (_profile(authority), _profile(old), _profile(new)) == ("old", "old", "current")

        # The authority renews its own at its first sync; the old officer is still let in.
        report = _sync(authority, old)
        assert report.error is None, report.error
        assert _profile(authority) == "current" and _profile(old) == "old"
        ca_now = x509.load_der_x509_certificate(tls_material(authority).ca_der)  # type: ignore[union-attr]
        assert len(ca_now.extensions) == 3
        # Old and current certificates chain to each other's CA certificates, both ways.
        assert _sync(old, new).error is None
        assert _sync(new, old).error is None
        assert old.state_hash() == new.state_hash()

        # The old device renews by joining its own station again: only its TLS certificates change.
        before = (old.replica.vector(), old.state_hash(), old.identity.device_id)
        cert_wire, anchor_doc = issue_certificate(authority, old.identity.public_key, old.officer, "officer")
        renew_enrolment(old, cert_wire, anchor_doc)
        assert _profile(old) == "current"
        assert (old.replica.vector(), old.state_hash(), old.identity.device_id) == before
        assert _sync(authority, old).error is None and _sync(old, new).error is None

        # A code of another station, or a certificate for another device, renews nothing.
        with station_devices(tmp_path / "other", 0) as (stranger,):
            wire, doc = issue_certificate(stranger, old.identity.public_key, old.officer, "officer")
            with pytest.raises(StationError, match="another station"):
                renew_enrolment(old, wire, doc)
        wire, doc = issue_certificate(authority, new.identity.public_key, new.officer, "officer")
        with pytest.raises(StationError, match="another device"):
            renew_enrolment(old, wire, doc)
        # An authority still on the old code would renew with the old shape: that is no renewal.
        wire, doc = issue_certificate(authority, old.identity.public_key, old.officer, "officer")
        station_id = authority.replica.station
        wire[2] = legacy_device_certificate(ca, station_id, old.identity.public_key, "officer")
        with pytest.raises(StationError, match="update fieldapp"):
            renew_enrolment(old, wire, {**doc, "ca_x509": legacy_ca_certificate(ca, station_id)})
        assert _profile(old) == "current"


def test_the_authority_renews_its_certificate_without_the_ou_at_its_next_use(tmp_path: Path) -> None:
    """Unreleased code issued device certificates with no OU, which release 0.1.0 refuses."""
    with station_devices(tmp_path, 0) as (authority,):
        ca, station_id = ca_key_of(authority), authority.replica.station
        me = Ed25519PrivateKey.from_private_bytes(authority.identity.signing_key)
        device = authority.db.table(DEVICE_TABLE)
        record = device.all()[0]
        without_ou = _good(ca, station_id, me, subject=_subject(me, station_id, None))
        with authority.db.transaction():
            device.update({**record, "tls": {**record["tls"], "cert": without_ou}}, doc_ids=[record.doc_id])
        material = tls_material(authority)
        assert material is not None and material.cert_der != without_ou
        subject = x509.load_der_x509_certificate(material.cert_der).subject
        assert subject == _subject(me, station_id)
        assert bytes(device.all()[0]["tls"]["cert"]) == material.cert_der  # kept, not re-issued each time


@pytest.mark.timeout(120)
def test_enrol_join_on_an_enrolled_device_renews_its_old_certificates_and_keeps_its_records(
    tmp_path: Path,
) -> None:
    init_device(tmp_path / "officer", PASSPHRASE, "测试辅警", FAST_KDF)
    with station_devices(tmp_path / "station", 0) as (authority,):
        officer = CaseService.open(tmp_path / "officer", PASSPHRASE)
        with contextlib.closing(officer):
            cert_wire, anchor_doc = issue_certificate(
                authority, officer.identity.public_key, "测试辅警", "officer"
            )
            adopt_enrolment(officer, cert_wire, anchor_doc)
            _downgrade(officer, ca_key_of(authority), "officer")
            officer.new_case("东村", "land", "yellow", "续签前的记录")
            before = (officer.replica.vector(), officer.state_hash(), _profile(officer))
        assert before[2] == "old"

        async def renew() -> tuple[int, bytes, bytes]:
            def issue(device_key: bytes, name: str, role: str) -> tuple[list[bytes], dict[str, Any]]:
                return issue_certificate(authority, device_key, name, role)

            server = EnrolServer(issue, host=HOST, io_timeout=10.0)
            await server.start()
            try:
                assert server.current is not None
                env = {k: v for k, v in os.environ.items() if k != "FIELDAPP_PASSPHRASE"}
                join = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "fieldapp",
                    "enrol",
                    "join",
                    "--code",
                    server.current.code,
                    "--peer",
                    f"{HOST}:{server.port}",
                    "--store",
                    str(tmp_path / "officer"),
                    "--json",
                    cwd=DOC.parent.parent,
                    env={**env, "FIELDAPP_PASSPHRASE": PASSPHRASE},
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await join.communicate()
                return join.returncode or 0, out, err
            finally:
                await server.close()

        code, out, err = asyncio.run(renew())
        assert code == 0, err.decode()
        answer = json.loads(out)
        assert answer["renewed"] is True and answer["station"] == authority.replica.station
    officer = CaseService.open(tmp_path / "officer", PASSPHRASE)
    with contextlib.closing(officer):
        assert (officer.replica.vector(), officer.state_hash(), _profile(officer)) == (*before[:2], "current")


def test_every_certificate_refusal_reads_in_chinese() -> None:
    from fieldapp.i18n.sync_errors import sync_reason_text

    source = (DOC.parent.parent / "sync" / "tls.py").read_text(encoding="utf-8")
    reasons = re.findall(r'CertificateError\("(the peer[^"{]*)"\)', source)
    assert len(reasons) >= 10
    for reason in [*reasons, LEGACY_EXPIRED]:
        for shown in (reason, f"refused: {reason}"):
            chinese = sync_reason_text(shown, "zh")
            assert re.search(r"[\u4e00-\u9fff]", chinese) and "certificate" not in chinese, shown
            assert sync_reason_text(shown, "en") == shown
