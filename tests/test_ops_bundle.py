"""`fieldapp ops export` files: encrypted for the station's devices, plain text only when asked.

The stores are built in-process (enrolment as in harness/replicas.py); export and import run
as real `fieldapp` processes where the command line is what is pinned down.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgpack
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldapp.core.service import CaseError, CaseService
from fieldapp.core.station import adopt_enrolment, issue_certificate, revoke_device
from harness import PASSPHRASE
from harness.replicas import converge, station_devices
from sync import bundle
from tests.cli import fieldapp

ROOT = Path(__file__).resolve().parent.parent
#: Fake people and a fake dispute: none of these may appear in an encrypted file's bytes.
SECRETS = ["测试甲某某", "测试乙某某", "13800138000", "13900139000", "东岭村北坡灌渠放水先后起争执"]


def record_dispute(service: CaseService) -> str:
    """An intake naming the fake parties, and a visit; returns the case id."""
    case = service.new_case(
        "东岭村",
        "irrigation",
        "orange",
        SECRETS[4],
        parties=[
            {"name": SECRETS[0], "phone": SECRETS[2], "role": "applicant"},
            {"name": SECRETS[1], "phone": SECRETS[3], "role": "respondent"},
        ],
    )
    service.add_visit(case["id"], "home", f"走访{SECRETS[0]}，已告知调解时间")
    return str(case["id"])


def held(service: CaseService) -> tuple[dict[str, int], str]:
    """What a device holds: its version vector and its state hash."""
    return service.replica.vector(), service.state_hash()


def store(service: CaseService) -> Path:
    """The directory of a device's store (for the command line once it is closed)."""
    return Path(service.db.store.directory)


# ---------------------------------------------------------------- the key conversion


def test_ed25519_keys_map_to_matching_x25519_keys() -> None:
    # The public map (integer math on Edwards y) and the private one (SHA-512 of the seed,
    # clamped by cryptography) are computed independently: they must meet.
    for _ in range(50):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        private = bundle.x25519_private_from_ed25519(key.private_bytes_raw())
        assert private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == (
            bundle.x25519_public_from_ed25519(public)
        )


def test_each_recipient_adds_about_a_hundred_bytes() -> None:
    keys = [
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        for _ in range(11)
    ]
    recipients = [bundle.Recipient(f"{i:016d}", key) for i, key in enumerate(keys)]
    entries = [(bytes(300), bytes(64))] * 100
    plain = len(bundle.pack_plain("st-" + "a" * 16, entries))
    one, eleven = (len(bundle.seal("st-" + "a" * 16, recipients[:n], entries)) for n in (1, 11))
    assert 90 <= (eleven - one) / 10 <= 110
    assert one - plain < 250


# ---------------------------------------------------------------- the command line


@pytest.mark.timeout(240)
def test_export_is_encrypted_and_merges_on_another_device_of_the_station(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, sender, receiver):
        converge([authority, sender, receiver])
        record_dispute(sender)
        stores = store(sender), store(receiver), store(authority)
    out = tmp_path / "usb" / "ops.bin"
    out.parent.mkdir()

    exported = fieldapp("ops", "export", "--store", stores[0], "--out", out, "--json")
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ""  # no plain-text warning
    info = json.loads(exported.stdout)
    assert info["encrypted"] is True and info["bytes"] == out.stat().st_size
    data = out.read_bytes()
    for secret in SECRETS:  # neither as UTF-8 (msgpack's str) nor anywhere else in clear
        assert secret.encode() not in data, secret
    assert b"irrigation" not in data and "东岭村".encode() not in data
    for officer in ("测试所长", "测试辅警0", "测试辅警1", "测试派出所"):  # officers and station name too
        assert officer.encode() not in data, officer
    assert bundle.read(data).version == bundle.SEALED_VERSION

    imported = fieldapp("ops", "import", out, "--store", stores[1], "--json")
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert report["applied"] == 2 and report["refused"] == [] and report["forks"] == 0
    hashes = [fieldapp("state-hash", "--store", s).stdout for s in stores[:2]]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 65

    # The station authority reads it too (its own device key is among the recipients).
    assert fieldapp("ops", "import", out, "--store", stores[2]).returncode == 0
    assert fieldapp("state-hash", "--store", stores[2]).stdout == hashes[0]


@pytest.mark.timeout(240)
def test_plaintext_only_when_asked_with_a_warning_and_it_imports(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, sender, receiver):
        converge([authority, sender, receiver])
        record_dispute(sender)
        stores = store(sender), store(receiver)
    out = tmp_path / "plain.bin"

    exported = fieldapp("ops", "export", "--store", stores[0], "--out", out, "--plaintext")
    assert exported.returncode == 0, exported.stderr
    assert "plain text" in exported.stderr and "明文" in exported.stderr  # both languages
    assert "--plaintext" in exported.stderr
    doc = msgpack.unpackb(out.read_bytes())
    assert (doc["format"], doc["version"]) == ("fieldapp-ops", 1)
    assert SECRETS[0].encode() in out.read_bytes()  # what the default export keeps out

    imported = fieldapp("ops", "import", out, "--store", stores[1], "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["applied"] == 2
    hashes = [fieldapp("state-hash", "--store", s).stdout for s in stores]
    assert hashes[0] == hashes[1]


@pytest.mark.timeout(240)
def test_a_device_of_another_station_is_refused_and_nothing_is_applied(tmp_path: Path) -> None:
    with station_devices(tmp_path / "a", 1, name="测试甲派出所") as (authority, sender):
        converge([authority, sender])
        record_dispute(sender)
        station_a = sender.replica.station
        sender_store = store(sender)
    with station_devices(tmp_path / "b", 1, name="测试乙派出所") as (_, outsider):
        outsider_store, before = store(outsider), held(outsider)
    out = tmp_path / "ops.bin"
    assert fieldapp("ops", "export", "--store", sender_store, "--out", out).returncode == 0

    refused = fieldapp("ops", "import", out, "--store", outsider_store)
    assert refused.returncode == 1 and refused.stdout == ""
    assert station_a in refused.stderr
    assert "Nothing was imported" in refused.stderr and "未导入任何内容" in refused.stderr
    assert f"device of station {station_a}" in refused.stderr  # what to do
    outsider = CaseService.open(outsider_store, PASSPHRASE)
    try:
        assert held(outsider) == before
    finally:
        outsider.close()


@pytest.mark.timeout(240)
def test_a_local_device_needs_plaintext_to_export(tmp_path: Path) -> None:
    from fieldapp.core.service import init_device
    from harness import FAST_KDF

    init_device(tmp_path / "loose", PASSPHRASE, "测试辅警丁", FAST_KDF)
    out = tmp_path / "ops.bin"
    refused = fieldapp("ops", "export", "--store", tmp_path / "loose", "--out", out)
    assert refused.returncode == 1 and not out.exists()
    assert "not enrolled at a station" in refused.stderr and "尚未加入派出所" in refused.stderr
    assert "--plaintext" in refused.stderr and "fieldapp enrol join" in refused.stderr


# ---------------------------------------------------------------- revocation and enrolment


@pytest.mark.timeout(120)
def test_a_device_revoked_before_the_export_is_not_a_recipient(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, sender, revoked):
        converge([authority, sender, revoked])
        record_dispute(sender)
        before_revocation = sender.export_ops()
        revoke_device(authority, revoked.identity.device_id, "测试：设备遗失")
        converge([authority, sender])  # the revocation reaches the exporter, not the lost device
        after = sender.export_ops()
        recipients = set(bundle.read(after).recipients)
        assert revoked.identity.device_id not in recipients
        assert {sender.identity.device_id, authority.identity.device_id, sender.replica.station} == recipients

        state = held(revoked)
        with pytest.raises(CaseError) as refused:
            revoked.import_ops(after)
        assert "is not among them" in str(refused.value) and "不在其中" in str(refused.value)
        assert revoked.identity.device_id in str(refused.value)
        assert held(revoked) == state
        # A file made before the revocation reached the exporter stays readable by that device.
        assert revoked.import_ops(before_revocation).rejections == []


@pytest.mark.timeout(120)
def test_a_device_enrolled_after_the_export_cannot_read_it_the_authority_can(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, sender):
        record_dispute(sender)  # never synced: the sender knows only itself and the station
        data = sender.export_ops()
        from fieldapp.core.service import init_device
        from harness import FAST_KDF

        init_device(tmp_path / "late", PASSPHRASE, "测试辅警戊", FAST_KDF)
        late = CaseService.open(tmp_path / "late", PASSPHRASE)
        try:
            cert, anchor = issue_certificate(authority, late.identity.public_key, late.officer, "officer")
            adopt_enrolment(late, cert, anchor)
            converge([authority, late])
            with pytest.raises(CaseError, match="is not among them"):
                late.import_ops(data)
        finally:
            late.close()
        # The authority's device is no recipient by its device key here, but by the CA's.
        assert authority.identity.device_id not in bundle.read(data).recipients
        report = authority.import_ops(data)
        assert report.applied == 3 and report.rejections == []


@pytest.mark.timeout(120)
def test_a_device_enrolled_but_never_synced_can_read_the_authoritys_export(tmp_path: Path) -> None:
    """The authority records each enrolment (`device.enrol`, with the device's key): an export it
    makes afterwards is sealed for that device too, before the device ever synced or announced
    itself (a new officer handed the station's caseload as a file)."""
    with station_devices(tmp_path, 1) as (authority, sender):
        converge([authority, sender])
        record_dispute(sender)
        converge([authority, sender])
        from fieldapp.core.service import init_device
        from harness import FAST_KDF

        init_device(tmp_path / "new", PASSPHRASE, "测试辅警己", FAST_KDF)
        new = CaseService.open(tmp_path / "new", PASSPHRASE)
        try:
            cert, anchor = issue_certificate(authority, new.identity.public_key, new.officer, "officer")
            adopt_enrolment(new, cert, anchor)
            data = authority.export_ops()
            assert new.identity.device_id in bundle.read(data).recipients
            report = new.import_ops(data)
            assert report.rejections == [] and report.applied > 0
            assert set(new.cases_view()) == set(authority.cases_view()) != set()
        finally:
            new.close()


# ---------------------------------------------------------------- hostile files


@pytest.mark.timeout(300)
def test_a_flipped_byte_anywhere_is_refused_and_nothing_is_applied(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, sender, receiver):
        converge([authority, sender, receiver])
        sender.new_case("东岭村", "land", "yellow", "田界纠纷")
        data = sender.export_ops()
        state = held(receiver)
        accepted = []
        for position in range(len(data)):
            for mask in (0x01, 0x80):
                damaged = bytearray(data)
                damaged[position] ^= mask
                try:
                    receiver.import_ops(bytes(damaged))
                except CaseError:
                    continue
                accepted.append((position, mask))
        assert accepted == []
        for cut in (1, len(data) // 2, len(data) - 1):
            with pytest.raises(CaseError):
                receiver.import_ops(data[:cut])
        assert held(receiver) == state
        with pytest.raises(CaseError) as refused:
            receiver.import_ops(data[:-20] + bytes(20))  # the entries' tag
        assert "damaged or was changed" in str(refused.value) and "已损坏" in str(refused.value)
        assert receiver.import_ops(data).applied == 1  # the intact file goes in


@pytest.mark.timeout(120)
def test_hostile_headers_and_sizes_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with station_devices(tmp_path, 1) as (_, sender):
        data = sender.export_ops()
        outer = msgpack.unpackb(data)
        header = msgpack.unpackb(outer["header"])
        doubled = header | {"recipients": header["recipients"] * 2}
        variants = {
            "a recipient listed twice": outer | {"header": msgpack.packb(doubled)},
            "an unknown field": outer | {"extra": b"x"},
            "a long nonce": outer | {"header": msgpack.packb(header | {"nonce": bytes(13)})},
            "a huge header": outer | {"header": bytes(bundle.MAX_HEADER_BYTES + 1)},
            "a future version": outer | {"version": 3},
            "a timestamp extension": outer | {"version": msgpack.Timestamp(0)},
            "an extension type": outer | {"station": msgpack.ExtType(5, b"x")},
        }
        accepted = []
        for what, doc in variants.items():
            try:
                sender.import_ops(msgpack.packb(doc, datetime=False))
            except CaseError:
                continue
            accepted.append(what)
        assert accepted == []
        monkeypatch.setattr(bundle, "MAX_FILE_BYTES", len(data) - 1)
        with pytest.raises(CaseError, match="larger than any operations export"):
            sender.import_ops(data)


@pytest.mark.timeout(120)
def test_the_old_plaintext_format_still_imports_with_empty_signatures_left_to_the_replica(
    tmp_path: Path,
) -> None:
    with station_devices(tmp_path, 2) as (authority, sender, receiver):
        converge([authority, sender, receiver])
        record_dispute(sender)
        entries = list(sender.replica.entries_missing_from(receiver.replica.vector()))
        old = {"format": "fieldapp-ops", "version": 1, "station": sender.replica.station}
        report = receiver.import_ops(msgpack.packb(old | {"entries": [list(e) for e in entries]}))
        assert report.applied == len(entries) == 2 and report.rejections == []
        assert held(receiver)[1] == held(sender)[1]
        # Entries are opaque pairs: an empty signature reaches the replica, which decides.
        body, _ = entries[0]
        sealed = bundle.seal(sender.replica.station, sender.bundle_recipients(), [(body, b"")])
        assert bundle.open_entries(
            bundle.read(sealed), sender.identity.device_id, sender.identity.signing_key
        ) == [(body, b"")]
