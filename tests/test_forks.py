"""Forks only on proof; a forked log is held out, never blocks revocations, and is settled.

The hostile review's attack: one genuine entry of device D the receiver lacks, plus a
second body at the same (device, epoch, seq) carrying 64 random bytes as its signature,
in one `ops import` file. It used to record a fork and quarantine D for good; with D the
station authority, the receiver then refused the authority's revocations. Now a fork needs
two entries each signed by D's key; anything less is a refused entry with its reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import pytest

from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import adopt_enrolment, issue_certificate, revoke_device, settle_fork
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import copied_twice, exchange, station_devices
from sync.ops import decode, encode_body

Entry = tuple[bytes, bytes]


def log_of(svc: CaseService) -> list[Entry]:
    me = svc.identity.device_id
    return [e for e in svc.replica.entries_missing_from({}) if decode(*e).author == me]


def look_alike(entry: Entry) -> Entry:
    """Another body at the same position as `entry`, with 64 random bytes as its signature."""
    op = decode(*entry)
    body = encode_body(
        op.station, op.author, op.epoch, op.seq, op.prev, op.hlc, op.kind, op.entity, {**op.payload, "x": 1}
    )
    return body, os.urandom(64)


def export_file(station: str, entries: list[Entry]) -> bytes:
    """An `ops export` file in the plain format anyone can write (docs/replication.md)."""
    return msgpack.packb(
        {"format": "fieldapp-ops", "version": 1, "station": station, "entries": [list(e) for e in entries]},
        use_bin_type=True,
    )


@pytest.mark.timeout(120)
@pytest.mark.parametrize("forgery_first", [False, True])
def test_a_forged_look_alike_of_the_authoritys_entry_is_refused_and_revocations_still_apply(
    tmp_path: Path, forgery_first: bool
) -> None:
    with station_devices(tmp_path, 2) as (authority, officer, lost):
        lost_id = lost.identity.device_id
        officer.replica.apply(log_of(lost))
        authority.replica.apply(log_of(lost))
        authority.place_village("东岭村", "第一警务区")
        genuine = log_of(authority)[-1]  # the officer lacks it
        fake = look_alike(genuine)
        entries = [fake, *log_of(authority)] if forgery_first else [*log_of(authority), fake]

        report = officer.import_ops(export_file(officer.replica.station, entries))

        assert report.forks == 0 and not officer.replica.forks.raw()
        assert not officer.replica.quarantined(authority.identity.device_id)
        assert [r.code for r in report.rejections] == ["bad_signature"]
        assert officer.areas() == {"东岭村": "第一警务区"}  # the genuine placement applied
        # The authority's later revocation of a lost device still reaches the officer.
        revoke_device(authority, lost_id, "巡逻途中遗失")
        officer.import_ops(export_file(officer.replica.station, log_of(authority)))
        assert officer.replica.device(lost_id)["revoked"] is not None


@pytest.mark.timeout(120)
def test_a_real_fork_of_the_authority_is_held_out_its_revocation_applies_and_a_supervisor_settles_it(
    tmp_path: Path,
) -> None:
    """The authority's store is copied and both copies write: a proven fork. The officer
    holds the authority's work from the fork on out of its view, but the authority's
    revocation (station-signed) still applies; a second supervisor settles the fork with an
    operation that spreads, and the work shows again."""
    with station_devices(tmp_path, 2) as (authority, officer, lost):
        init_device(tmp_path / "deputy", PASSPHRASE, "测试副所长", FAST_KDF)
        deputy = CaseService.open(tmp_path / "deputy", PASSPHRASE)
        try:
            cert, anchor = issue_certificate(
                authority, deputy.identity.public_key, deputy.officer, "supervisor"
            )
            adopt_enrolment(deputy, cert, anchor)
            for svc in (authority, officer, deputy):
                svc.replica.apply(log_of(lost))
                svc.replica.apply(log_of(authority))
            officer.replica.apply(log_of(deputy))
            authority, twin = copied_twice(authority, tmp_path / "copy")
            try:
                authority.place_village("东岭村", "第一警务区")
                twin.place_village("东岭村", "第二警务区")  # the same position of the same log
                officer.replica.apply(log_of(authority))
                report = officer.replica.apply(log_of(twin))
                assert report.forks == 1
                assert officer.replica.quarantined(authority.identity.device_id)
                assert officer.areas() == {}  # held out from the fork on

                revoke_device(authority, lost.identity.device_id, "巡逻途中遗失")
                later = officer.replica.apply(log_of(authority))
                assert later.applied == 1 and not later.rejections  # stored, not refused
                assert officer.replica.device(lost.identity.device_id)["revoked"] is not None
                lost.new_case("西坡村", "debt", "yellow", "借款纠纷")
                assert officer.replica.apply(log_of(lost)).applied == 0  # the revocation holds

                # The deputy learns of the fork too and settles it for the officer's entry.
                deputy.replica.apply(log_of(authority))
                deputy.replica.apply(log_of(twin))
                (fork_key,) = deputy.replica.forks.raw()
                settle_fork(deputy, fork_key, "held", "所长设备的记录属实，副本已作废")
                officer.replica.apply(log_of(deputy))
                assert not officer.replica.quarantined(authority.identity.device_id)
                assert officer.areas() == {"东岭村": "第一警务区"}
            finally:
                twin.close()
        finally:
            deputy.close()


@pytest.mark.timeout(120)
def test_an_officer_cannot_settle_a_fork(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        authority.replica.forks.put(
            "x.0000000000000001.0000000001",
            {"author": "x", "epoch": 1, "seq": 1, "held": b"a", "other": b"b", "seen_at": 0},
        )
        officer.replica.forks.put(
            "x.0000000000000001.0000000001",
            {"author": "x", "epoch": 1, "seq": 1, "held": b"a", "other": b"b", "seen_at": 0},
        )
        with pytest.raises(Exception, match="supervisor"):
            settle_fork(officer, "x.0000000000000001.0000000001", "held", "想自己裁定")


@pytest.mark.timeout(120)
def test_a_device_holding_the_branch_not_kept_sets_it_aside_and_converges(tmp_path: Path) -> None:
    """An officer's store copied and written twice: the station holds one branch, another
    officer's device the other. The supervisor keeps the station's; when the decision reaches
    the other device it sets its branch aside (kept in the fork's record), takes the kept one
    at the next sync, and shows what the station shows. The branch not kept, offered again, is
    refused without a new fork."""
    with station_devices(tmp_path, 3) as (authority, forked, _, other):
        for svc in (authority, other):
            svc.replica.apply(log_of(forked))
        forked, twin = copied_twice(forked, tmp_path / "copy")
        try:
            kept_case = forked.new_case("东岭村", "land", "orange", "田界纠纷")
            forked.add_visit(kept_case["id"], "home", "第一次走访")
            twin.new_case("西坡村", "debt", "yellow", "借款纠纷")  # the same position
            authority.replica.apply(log_of(forked))
            authority.replica.apply(log_of(twin))
            other.replica.apply(log_of(twin))
            other.replica.apply(log_of(forked))
            assert authority.replica.quarantined(forked.identity.device_id)
            assert other.replica.quarantined(forked.identity.device_id)

            (fork_key,) = authority.replica.forks.raw()
            settle_fork(authority, fork_key, "held", "所长核实：原设备的记录属实")
            exchange(authority, other)  # the decision reaches the other device
            (aside,) = other.replica.forks.raw().values()
            assert other.replica.fork_standing(aside) == "awaiting" and aside["set_aside"]
            exchange(authority, other)  # the kept branch follows
            assert not other.replica.quarantined(forked.identity.device_id)
            assert other.replica.view("cases") == authority.replica.view("cases")
            assert [v["note"] for v in other.case(kept_case["id"])["visits"]] == ["第一次走访"]

            again = other.replica.apply(log_of(twin))
            assert [r.code for r in again.rejections] == ["settled"] and again.forks == 0
            assert len(other.replica.forks.raw()) == 1
        finally:
            twin.close()
