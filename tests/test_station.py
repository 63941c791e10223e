"""Station authority: certificates decide who belongs and in which role; revocation spreads."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.core.service import CaseError, CaseService, init_device
from fieldapp.core.station import (
    StationError,
    create_station,
    device_rows,
    issue_certificate,
    revoke_device,
)
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import exchange, station_devices
from sync.ops import decode, encode_body, sign
from sync.trust import ANNOUNCE, announce_payload


def own_entries(svc: CaseService) -> list[tuple[bytes, bytes]]:
    me = svc.identity.device_id
    return [e for e in svc.replica.entries_missing_from({}) if decode(*e).author == me]


def test_enrolled_devices_share_work_and_roles_come_from_certificates(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        assert officer.replica.station == authority.replica.station
        assert officer.device_role == "officer" and authority.device_role == "supervisor"
        case = officer.new_case("东岭村", "land", "red", "田界纠纷")
        exchange(officer, authority)
        assert authority.case(case["id"])["summary"] == "田界纠纷"
        assert authority.replica.role(officer.identity.device_id, officer.identity.epoch, 2) == "officer"
        authority.update(case["id"], assign=officer.identity.device_id)
        exchange(officer, authority)
        assert officer.case(case["id"])["assignee"] == officer.identity.device_id
        assert officer.state_hash() == authority.state_hash()
        rows = {r["device_id"]: r for r in device_rows(authority)}
        assert rows[officer.identity.device_id]["role"] == "officer"


def test_an_officer_cannot_announce_itself_as_supervisor(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        exchange(officer, authority)
        cert = officer.db.table("device").all()[0]["cert"]
        me = officer.identity
        # A new epoch announced with the officer's certificate but claiming the supervisor role.
        forged = officer.replica.make(
            ANNOUNCE, me.device_id, announce_payload(me.public_key, "supervisor", officer.officer, cert)
        )
        report = authority.replica.apply([(forged.body, forged.sig)])
        assert report.applied == 1  # chained and signed correctly...
        refused = authority.replica.view("devices")[me.device_id].get("refused", [])
        assert refused and refused[0]["code"] == "announce_role_not_certified"  # ...but it grants nothing
        assert authority.replica.role(me.device_id, me.epoch, forged.seq + 1) == "officer"


def test_devices_of_another_station_or_none_are_refused(tmp_path: Path) -> None:
    with (
        station_devices(tmp_path / "a", 1) as (authority, _),
        station_devices(tmp_path / "b", 1, "另一派出所") as (
            _,
            stranger,
        ),
    ):
        stranger.new_case("西河村", "debt", "yellow", "欠款纠纷")
        report = authority.replica.apply(own_entries(stranger))
        assert {r.code for r in report.rejections} == {"wrong_station"}
        assert report.applied == 0 and authority.replica.device(stranger.identity.device_id) is None

        init_device(tmp_path / "loner", PASSPHRASE, "未注册", FAST_KDF)
        loner = CaseService.open(tmp_path / "loner", PASSPHRASE)
        try:
            report = authority.replica.apply(own_entries(loner))
            assert {r.code for r in report.rejections} == {"wrong_station"}
        finally:
            loner.close()


def test_a_device_copying_the_station_id_without_a_certificate_is_unknown(tmp_path: Path) -> None:
    with station_devices(tmp_path, 0) as (authority,):
        init_device(tmp_path / "rogue", PASSPHRASE, "冒充者", FAST_KDF)
        rogue = CaseService.open(tmp_path / "rogue", PASSPHRASE)
        try:
            me = rogue.identity
            # Operations stamped with our station id, opening a log with a certificate-less announcement.
            payload = announce_payload(me.public_key, "supervisor", "冒充者")
            stamp = rogue.replica.clock.now()
            station = authority.replica.station
            body = encode_body(
                station, me.device_id, me.epoch + 1, 1, bytes(32), stamp, ANNOUNCE, me.device_id, payload
            )
            report = authority.replica.apply([(body, sign(me.signing_key, body))])
            assert [r.code for r in report.rejections] == ["unknown_author"]
            assert "no certificate from this station" in report.rejections[0].reason
            assert authority.replica.device(me.device_id) is None
        finally:
            rogue.close()


def test_station_create_refuses_a_device_with_prior_work(tmp_path: Path) -> None:
    init_device(tmp_path / "busy", PASSPHRASE, "测试", FAST_KDF)
    busy = CaseService.open(tmp_path / "busy", PASSPHRASE)
    try:
        busy.new_case("东岭村", "land", "yellow", "田界纠纷")
        with pytest.raises(StationError, match="freshly initialised"):
            create_station(busy, "测试派出所")
        with pytest.raises(StationError, match="name"):
            create_station(busy, "  ")
    finally:
        busy.close()


def test_only_the_authority_enrols_and_revokes(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, officer, other):
        with pytest.raises(StationError, match="station authority"):
            issue_certificate(officer, other.identity.public_key, "x", "officer")
        with pytest.raises(StationError, match="station authority"):
            revoke_device(officer, other.identity.device_id, "lost")
        with pytest.raises(StationError, match="reason"):
            revoke_device(authority, officer.identity.device_id, " ")


def test_revocation_keeps_earlier_work_refuses_later_and_spreads_by_gossip(tmp_path: Path) -> None:
    with station_devices(tmp_path, 3) as (authority, lost, relay, absent):
        everyone = [authority, lost, relay, absent]
        case = lost.new_case("南坡村", "irrigation", "orange", "浇水纠纷")
        lost.add_visit(case["id"], "home", "撤销前的走访")
        exchange(lost, authority)
        exchange(lost, absent)  # the absent device already holds the lost device's early work

        revoke_device(authority, lost.identity.device_id, "巡逻中遗失")
        with pytest.raises(StationError, match="already revoked"):
            revoke_device(authority, lost.identity.device_id, "again")
        # The thief keeps using the device; the absent officer meets the thief first.
        lost.add_visit(case["id"], "phone", "撤销后的记录")
        later = own_entries(lost)[-1]
        exchange(lost, absent)
        assert len(absent.case(case["id"])["visits"]) == 2  # not yet told

        exchange(authority, relay)  # the relay learns of the revocation at the station
        exchange(relay, absent)  # and passes it on: the absent device never met the authority
        visits = absent.case(case["id"])["visits"]
        assert [v["note"] for v in visits] == ["撤销前的走访"]  # earlier work stays, with its author
        assert visits[0]["author"] == lost.identity.device_id
        assert absent.replica.ops.has(decode(*later).key)  # kept as evidence, counted nowhere
        report = authority.replica.apply([later])
        assert [r.code for r in report.rejections] == ["revoked"]
        assert not authority.replica.ops.has(decode(*later).key)
        exchange(authority, lost)  # once the lost device hears of it, it refuses its own work too
        with pytest.raises(CaseError, match="was revoked"):
            lost.update(case["id"], note="再试一次")
        for svc in everyone:
            for other in everyone:
                if svc is not other and other is not lost and svc is not lost:
                    exchange(svc, other)
        hashes = {svc.state_hash() for svc in (authority, relay, absent)}
        assert len(hashes) == 1
        row = {r["device_id"]: r for r in device_rows(absent)}[lost.identity.device_id]
        assert row["revoked"]["reason"] == "巡逻中遗失"
