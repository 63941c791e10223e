"""Enrolment is recorded (issue 16, item 1): the station authority's `device.enrol` operation.

A device the authority has just enrolled is listed by `fieldapp device list` and can be revoked
before it ever syncs (a device lost on its first patrol); its sync is then refused. An enrolment
not made by the station authority is refused and listed for review, and quarantines nobody.
Whatever the order in which the enrolment, the device's own announcement and the revocation
reach a device, every device ends with the same view.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import (
    adopt_enrolment,
    authority,
    device_rows,
    issue_certificate,
    revoke_device,
    tls_material,
)
from fieldapp.domain.review import review_queue
from fieldapp.i18n.rules import refused_text
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens.supervisor_dialogs import RevokeDialog
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices
from sync.certs import decode_certificate
from sync.hlc import HybridClock
from sync.lan import SyncServer, sync_with
from sync.ops import decode
from sync.session import Endpoint, SessionReport
from sync.trust import ENROL, enrol_payload, enrolment_statement
from tests.cli import fieldapp
from tests.test_tui_supervisor import run, supervise

HOST = "127.0.0.1"
MINUTE = 60_000


def sync(server_side: CaseService, client_side: CaseService) -> SessionReport:
    """One LAN session on loopback: `client_side` connects to `server_side`."""
    server_tls, client_tls = tls_material(server_side), tls_material(client_side)
    assert server_tls is not None and client_tls is not None

    async def run() -> SessionReport:
        async with SyncServer(Endpoint(server_side.replica), server_tls, HOST) as server:
            return await sync_with(HOST, server.port, Endpoint(client_side.replica), client_tls)

    return asyncio.run(run())


@contextmanager
def enrolled(
    root: Path, authority_svc: CaseService, name: str, role: str = "officer"
) -> Iterator[CaseService]:
    """A device the authority enrols now (in-process, as `enrol open`/`join` do), not synced."""
    init_device(root / name, PASSPHRASE, name, FAST_KDF)
    device = CaseService.open(root / name, PASSPHRASE)
    try:
        adopt_enrolment(device, *issue_certificate(authority_svc, device.identity.public_key, name, role))
        yield device
    finally:
        device.close()


@pytest.mark.timeout(240)
def test_an_enrolled_device_that_never_synced_is_listed_revocable_and_refused_at_sync(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (boss, lost, other):
        store = Path(boss.db.store.directory)
        lost_id = lost.identity.device_id
        case = lost.new_case("北坡村", "land", "yellow", "田界纠纷", parties=[])  # on patrol, offline
        boss.close()  # the command line opens the authority's store now

        listed = fieldapp("device", "list", "--store", store, "--json")
        assert listed.returncode == 0, listed.stderr
        rows = {row["device_id"]: row for row in json.loads(listed.stdout)}
        assert set(rows) == {boss.identity.device_id, lost_id, other.identity.device_id}
        row = rows[lost_id]
        assert (row["officer"], row["role"], row["last_seen"]) == ("测试辅警0", "officer", None)
        assert row["never_synced"] is True and row["enrolled_at"] and row["revoked"] is None
        assert rows[boss.identity.device_id]["never_synced"] is False

        text = fieldapp("device", "list", "--store", store, "--lang", "en").stdout
        [line] = [line for line in text.splitlines() if lost_id in line]
        assert "测试辅警0" in line and "never synced" in line and "enrolled " in line
        text = fieldapp("device", "list", "--store", store, "--lang", "zh").stdout
        [line] = [line for line in text.splitlines() if lost_id in line]
        assert "测试辅警0" in line and "从未同步" in line and "登记于" in line

        revoked = fieldapp("device", "revoke", lost_id, "--reason", "首次巡逻遗失", "--store", store)
        assert revoked.returncode == 0, revoked.stderr
        after = {
            r["device_id"]: r
            for r in json.loads(fieldapp("device", "list", "--store", store, "--json").stdout)
        }
        assert after[lost_id]["revoked"] == {"reason": "首次巡逻遗失", "by": boss.identity.device_id}

        boss = CaseService.open(store, PASSPHRASE)
        try:
            report = sync(boss, lost)
            assert report.error is not None and "revoked" in report.error
            assert report.sent == report.received == 0
            assert boss.replica.device(lost_id).get("public_key") is None  # its log never came in
            # The revocation spreads with sync; a device that never met the supervisor learns it
            # from `other`, and refuses the lost device as well.
            with enrolled(tmp_path, boss, "测试辅警9") as third:
                assert sync(boss, other).error is None
                assert sync(other, third).error is None
                refused = sync(third, lost)
                assert refused.error is not None and "revoked" in refused.error
                assert third.replica.device(lost_id)["revoked"]["reason"] == "首次巡逻遗失"
                assert case["id"] not in {c["id"] for c in third.cases()}
        finally:
            boss.close()


def test_an_enrolment_is_an_operation_of_the_authority_that_names_the_certificate(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (boss, officer):
        [op] = [
            decode(body, sig)
            for body, sig in boss.replica.entries_missing_from({})
            if decode(body, sig).kind == ENROL
        ]
        cert_body, cert_sig = officer.db.table("device").all()[0]["cert"]
        certificate = decode_certificate(cert_body, cert_sig, boss.replica.anchor)
        assert op.author == boss.identity.device_id and op.entity == officer.identity.device_id
        assert op.payload["public_key"] == officer.identity.public_key
        assert (op.payload["officer"], op.payload["role"]) == ("测试辅警0", "officer")
        assert op.payload["serial"] == certificate.serial
        # Before any sync the officer's device knows nothing of it; after one it shows the same.
        exchange(boss, officer)
        assert officer.replica.device(officer.identity.device_id)["enrolled"]["serial"] == certificate.serial
        assert officer.state_hash() == boss.state_hash()


@pytest.mark.timeout(180)
def test_enrolments_not_made_by_the_authority_are_refused_listed_and_quarantine_nobody(
    tmp_path: Path,
) -> None:
    with (
        station_devices(tmp_path, 1) as (boss, officer),
        enrolled(tmp_path, boss, "测试副所长", "supervisor") as deputy,
    ):
        converge([boss, officer, deputy])
        ca = authority(boss)
        assert ca is not None
        deputy_cert = deputy.db.table("device").all()[0]["cert"]
        certificate = decode_certificate(*deputy_cert, ca.anchor)
        fake = "fakedevice234567"
        # An officer's device copies the deputy's certificate (every announcement carries its
        # device's) into an enrolment of its own, for the deputy's id and for a made-up one.
        copied = officer.replica.make(
            ENROL, deputy.identity.device_id, enrol_payload(certificate, b"\x01" * 64)
        )
        officer.replica.apply([(copied.body, copied.sig)])
        forged_fake = officer.replica.make(ENROL, fake, enrol_payload(certificate, b"\x01" * 64))
        officer.replica.apply([(forged_fake.body, forged_fake.sig)])
        # A supervisor's device without the station CA's key: the station's signature is missing.
        officer_cert = decode_certificate(*officer.db.table("device").all()[0]["cert"], ca.anchor)
        unsigned = deputy.replica.make(
            ENROL, officer.identity.device_id, enrol_payload(officer_cert, b"\x02" * 64)
        )
        deputy.replica.apply([(unsigned.body, unsigned.sig)])
        # The station CA's signature, but for another author (the statement binds the author).
        replayed = deputy.replica.make(
            ENROL,
            officer.identity.device_id,
            enrol_payload(
                officer_cert,
                ca.sign(
                    enrolment_statement(ca.anchor.station_id, boss.identity.device_id, officer_cert.body)
                ),
            ),
        )
        deputy.replica.apply([(replayed.body, replayed.sig)])
        # The authority's own, naming another serial than the certificate's.
        mismatch = {**enrol_payload(officer_cert, b""), "serial": officer_cert.serial + 1}
        mismatch["station_sig"] = ca.sign(
            enrolment_statement(ca.anchor.station_id, boss.identity.device_id, officer_cert.body)
        )
        wrong = boss.replica.make(ENROL, officer.identity.device_id, mismatch)
        boss.replica.apply([(wrong.body, wrong.sig)])
        converge([boss, officer, deputy])

        codes = {
            op.key: code
            for op, code in (
                (copied, "enrol_not_supervisor"),
                (forged_fake, "enrol_not_supervisor"),
                (unsigned, "enrol_not_signed"),
                (replayed, "enrol_not_signed"),
                (wrong, "enrol_certificate_mismatch"),
            )
        }
        for svc in (boss, officer, deputy):
            devices = svc.replica.view("devices")
            refused = {r["op"]: r["code"] for doc in devices.values() for r in doc.get("refused", [])}
            assert refused == codes
            # Nothing of them counts: the fake device is no device, the others keep what the
            # authority recorded for them.
            assert "enrolled" not in devices[fake] and fake not in {r["device_id"] for r in device_rows(svc)}
            assert devices[officer.identity.device_id]["enrolled"]["serial"] == officer_cert.serial
            # Nobody is quarantined and nothing is rejected: the forgers' logs are genuine.
            assert not svc.replica.forks.raw() and not svc.replica.held_out
            assert not svc.replica.rejections.all()
        assert len({svc.state_hash() for svc in (boss, officer, deputy)}) == 1

        # Listed for the supervisor's review, in the reader's language.
        queue = review_queue([], devices=boss.replica.view("devices").values())
        listed = {i.detail["ref"]: i for i in queue.items if i.kind == "refused"}
        assert set(listed) == set(codes)
        assert listed[forged_fake.key].detail["device"] == fake
        assert refused_text(dict(listed[unsigned.key].detail), "zh") == "设备登记记录未经派出所签名"

        # The forgers' own work still counts, and the authority still revokes.
        case = officer.new_case("东岭村", "land", "yellow", "田界纠纷", parties=[])
        revoke_device(boss, deputy.identity.device_id, "测试：停用")
        converge([boss, officer, deputy])
        assert case["id"] in {c["id"] for c in boss.cases()}
        assert boss.replica.device(deputy.identity.device_id)["revoked"]["reason"] == "测试：停用"
        assert officer.replica.device(deputy.identity.device_id)["revoked"] is not None


# ---------------------------------------------------------------- any order, one view

#: Where the lost device's clock is against the station's: its announcement sorts before the
#: enrolment, between the enrolment and the revocation, or after the revocation.
OFFSETS = {"before_enrolment": -60 * MINUTE, "before_revocation": 2 * MINUTE, "after_revocation": 4 * MINUTE}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("offset", sorted(OFFSETS))
def test_enrolment_announcement_and_revocation_converge_in_any_order(tmp_path: Path, offset: str) -> None:
    """Six devices each receive the three parts in one of the six orders (an early part of the
    authority's log is held back and comes again), then all meet: one view everywhere, equal to a
    device fed everything in one batch. The lost device's announcement counts nowhere."""
    wall = ManualWall()
    lost_wall = ManualWall()
    lost_wall.now = wall.now + OFFSETS[offset]
    orders = list(itertools.permutations(("enrol", "announce", "revoke")))
    with station_devices(tmp_path, len(orders) + 1, wall=wall) as (boss, *receivers):
        init_device(tmp_path / "lost", PASSPHRASE, "测试失主", FAST_KDF, clock=HybridClock(wall=lost_wall))
        lost = CaseService.open(tmp_path / "lost", PASSPHRASE, clock=HybridClock(wall=lost_wall))
        try:
            wall.now += MINUTE
            lost_id = lost.identity.device_id
            enrolled_at = boss.replica.head(f"{boss.identity.device_id}.{boss.identity.epoch:016x}")[0] + 1
            adopt_enrolment(lost, *issue_certificate(boss, lost.identity.public_key, lost.officer, "officer"))
            lost.new_case("北坡村", "land", "yellow", "巡逻中登记", parties=[])
            wall.now += 2 * MINUTE
            revoke_device(boss, lost_id, "首次巡逻遗失")
            station_log = [
                e
                for e in boss.replica.entries_missing_from({})
                if decode(*e).author == boss.identity.device_id
            ]
            parts = {
                "enrol": [e for e in station_log if decode(*e).seq <= enrolled_at],
                "revoke": [e for e in station_log if decode(*e).seq > enrolled_at],
                "announce": list(lost.replica.entries_missing_from({})),
            }
            for receiver, order in zip(receivers, orders, strict=False):
                for part in order:
                    receiver.replica.apply(parts[part])
                # The next sync: the part of the authority's log held back (it came before the
                # log's start) comes again; what was applied already is a duplicate.
                receiver.replica.apply(station_log)
            receivers[-1].replica.apply([*parts["announce"], *parts["revoke"], *parts["enrol"]])  # one batch
            docs = [r.replica.view("devices")[lost_id] for r in receivers]
            assert all(doc == docs[0] for doc in docs), offset
            doc = docs[0]
            assert doc["enrolled"]["officer"] == "测试失主" and doc["revoked"]["reason"] == "首次巡逻遗失"
            assert "public_key" not in doc and not doc["roles"]  # its announcement is cut off
            converge([boss, *receivers])
            hashes = {r.state_hash() for r in (boss, *receivers)}
            assert len(hashes) == 1, offset
            [row] = [r for r in device_rows(boss) if r["device_id"] == lost_id]
            assert row["never_synced"] and row["officer"] == "测试失主" and row["revoked"]
        finally:
            lost.close()


# ---------------------------------------------------------------- the supervisor's Devices tab


@pytest.mark.timeout(180)
def test_the_devices_tab_shows_a_device_that_never_synced_and_revokes_it(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (boss, officer):
        store, officer_id = Path(boss.db.store.directory), officer.identity.device_id
        boss.close()

    async def scenario(app: FieldApp, pilot: Pilot[None]) -> None:
        screen = await supervise(app, pilot, "devices")
        table = screen.query_one("#devices-table", DataTable)
        assert str(table.get_cell(officer_id, "officer")) == "测试辅警0"
        assert str(table.get_cell(officer_id, "seen")) == "never synced"
        assert str(table.get_cell(officer_id, "state")) == "active"
        table.focus()
        table.move_cursor(row=table.get_row_index(officer_id))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RevokeDialog)
        dialog.query_one("#reason", TextArea).text = "首次巡逻遗失"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert str(table.get_cell(officer_id, "state")) == "revoked: 首次巡逻遗失"

    run(store, scenario)
    service = CaseService.open(store, PASSPHRASE)
    try:
        assert service.replica.device(officer_id)["revoked"]["reason"] == "首次巡逻遗失"
    finally:
        service.close()
