"""Hostile or damaged operations are refused with a reason; the rest of a batch still lands.

Each test hands a receiving device a batch mixing good entries (from an honest
device) with one kind of bad entry, and checks: the bad part is refused with its
code and a readable reason; the good part is applied; nothing of the bad part is
in the log or the view.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import pytest

from fieldapp.core.service import CaseService
from fieldapp.core.station import settle_fork
from fieldapp.domain import cases as kinds
from fieldapp.i18n.rules import refused_text
from harness.replicas import ManualWall, copied_twice, devices
from sync.hlc import HybridClock
from sync.identity import DeviceIdentity
from sync.ops import decode, encode_body, sign

Entry = tuple[bytes, bytes]


def entries_of(svc: CaseService) -> list[Entry]:
    """Only the device's own log, in sequence order."""
    me = svc.identity.device_id
    return [e for e in svc.replica.entries_missing_from({}) if decode(*e).author == me]


def work(svc: CaseService, visits: int = 2) -> str:
    case = svc.new_case(
        "东岭村", "land", "orange", "田界纠纷", [{"name": "测试甲", "phone": "", "role": "party"}]
    )
    for i in range(visits):
        svc.add_visit(case["id"], "home", f"第{i + 1}次走访")
    return str(case["id"])


def codes(report) -> list[str]:
    return [r.code for r in report.rejections]


def held(svc: CaseService, entry: Entry) -> bool:
    return svc.replica.ops.has(decode(*entry).key)


def with_byte_changed(body: bytes, old: bytes, new: bytes) -> bytes:
    assert old in body
    return body.replace(old, new, 1)


@pytest.fixture
def trio(tmp_path: Path):
    """An officer whose entries get tampered with, an honest officer, and a receiver."""
    with devices(tmp_path, ["officer", "officer", "supervisor"]) as services:
        yield services


def test_altered_payload_is_refused_and_later_entries_wait(trio) -> None:
    author, honest, receiver = trio
    case_id = work(author)
    good = entries_of(author)  # announce, create, visit 1, visit 2
    body = with_byte_changed(good[2][0], "第1次".encode(), "第9次".encode())
    batch = [good[0], good[1], (body, good[2][1]), good[3], *entries_of(honest)]
    before = receiver.state_hash()

    report = receiver.replica.apply(batch)

    assert codes(report) == ["bad_signature"]
    assert "altered" in report.rejections[0].reason and report.rejections[0].seq == 3
    assert report.held_back == 1  # visit 2 follows the altered entry
    assert held(receiver, good[1]) and not held(receiver, good[2]) and not held(receiver, good[3])
    assert receiver.case(case_id)["visits"] == []
    assert receiver.replica.device(honest.identity.device_id) is not None  # the honest part landed
    assert receiver.state_hash() != before
    # The genuine entries, delivered later, complete the picture.
    assert receiver.replica.apply(good).applied == 2
    assert len(receiver.case(case_id)["visits"]) == 2


def test_altered_last_entry_fails_its_signature(trio) -> None:
    author, _, receiver = trio
    work(author)
    good = entries_of(author)
    body = with_byte_changed(good[-1][0], "第2次".encode(), "第8次".encode())
    report = receiver.replica.apply([*good[:-1], (body, good[-1][1])])
    assert codes(report) == ["bad_signature"]
    assert report.applied == len(good) - 1 and not held(receiver, good[-1])


def test_broken_chain_is_refused(trio) -> None:
    author, _, receiver = trio
    work(author)
    good = entries_of(author)
    op = decode(*good[2])
    me = author.identity
    # Correctly signed by the author, but naming the wrong predecessor.
    body = encode_body(
        op.station, op.author, op.epoch, op.seq, bytes(32), op.hlc, op.kind, op.entity, op.payload
    )
    report = receiver.replica.apply([good[0], good[1], (body, sign(me.signing_key, body)), good[3]])
    assert codes(report) == ["broken_chain"]
    assert "does not follow" in report.rejections[0].reason
    assert report.applied == 2 and not held(receiver, good[3])


def test_bad_signature_is_refused(trio) -> None:
    author, _, receiver = trio
    work(author, visits=1)
    good = entries_of(author)
    report = receiver.replica.apply([*good[:-1], (good[-1][0], good[0][1])])
    assert codes(report) == ["bad_signature"]
    assert not held(receiver, good[-1])


def test_unknown_author_is_refused(trio) -> None:
    _, honest, receiver = trio
    stranger = DeviceIdentity.generate()
    body = encode_body(
        "local",
        stranger.device_id,
        stranger.epoch,
        1,
        bytes(32),
        HybridClock().now(),
        kinds.CREATE,
        "x",
        {"village": "某村"},
    )
    forged_key = DeviceIdentity.generate()
    impostor_announce = encode_body(
        "local",
        stranger.device_id,
        stranger.epoch + 1,
        1,
        bytes(32),
        HybridClock().now(),
        "device.announce",
        stranger.device_id,
        {"public_key": forged_key.public_key, "role": "supervisor", "officer": "冒充者"},
    )
    batch = [
        (body, sign(stranger.signing_key, body)),
        (impostor_announce, sign(forged_key.signing_key, impostor_announce)),
        *entries_of(honest),
    ]
    report = receiver.replica.apply(batch)
    assert codes(report) == ["unknown_author", "unknown_author"]
    reasons = " ".join(r.reason for r in report.rejections)
    assert "did not announce itself" in reasons and "does not match the device id" in reasons
    assert receiver.replica.device(stranger.device_id) is None
    assert receiver.replica.device(honest.identity.device_id) is not None


def test_reused_sequence_is_a_fork_that_quarantines_the_device(tmp_path: Path) -> None:
    """A store copied and written in two places: two signed entries at one position.

    Both are kept as evidence, and the device's log from that position on is held out of
    the view (its later entries are still stored and relayed) until a supervisor settles
    which entry is the log; then its work shows again (docs/replication.md, "Forks")."""
    wall = ManualWall()
    with devices(tmp_path, ["officer", "supervisor"], wall) as (author, receiver):
        case_id = work(author, visits=0)
        author, twin = copied_twice(author, tmp_path / "restored-copy", wall)
        try:
            author.add_visit(case_id, "home", "原设备的走访")
            twin.add_visit(case_id, "phone", "备份副本的电话回访")  # same (device, epoch, seq)
            assert receiver.replica.apply(entries_of(author)).applied == 3
            report = receiver.replica.apply(entries_of(twin))
            assert report.forks == 1 and codes(report) == ["fork"]
            assert receiver.replica.quarantined(author.identity.device_id)
            ((fork_key, fork),) = receiver.replica.forks.raw().items()
            assert fork["held"] != fork["other"]  # both versions kept as evidence
            assert receiver.case(case_id)["visits"] == []  # held out from the fork on
            author.add_visit(case_id, "home", "之后的走访")
            later = receiver.replica.apply(entries_of(author))
            assert later.applied == 1 and not later.rejections  # stored and relayed, not shown
            assert receiver.case(case_id)["visits"] == []
            assert len(receiver.replica.rejections) == 1  # the fork, kept for the supervisor's review

            settle_fork(receiver, fork_key, "held", "原设备的记录属实，副本已销毁")
            assert not receiver.replica.quarantined(author.identity.device_id)
            assert sorted(v["note"] for v in receiver.case(case_id)["visits"]) == [
                "之后的走访",
                "原设备的走访",
            ]
        finally:
            author.close()
            twin.close()


def test_stamp_far_in_the_future_is_refused_until_clocks_agree(tmp_path: Path) -> None:
    wall = ManualWall()
    ahead = ManualWall()
    ahead.now = wall.now + 2 * 3600 * 1000
    with (
        devices(tmp_path, ["supervisor"], wall) as (receiver,),
        devices(tmp_path / "skewed", ["officer"]) as (skewed,),
    ):
        skewed.replica.clock = HybridClock(wall=ahead)
        work(skewed, visits=0)
        good = entries_of(skewed)
        report = receiver.replica.apply(good)
        assert codes(report) == ["future_stamp"]
        assert "2 h 0 min in the future" in report.rejections[0].reason
        assert "check the date and time" in report.rejections[0].reason
        assert report.applied == 1  # the announcement, stamped before the clock jumped
        assert receiver.cases() == []
        wall.now = ahead.now  # two hours later the same entries are accepted: nothing was lost
        assert receiver.replica.apply(good).applied == 1
        assert len(receiver.cases()) == 1


def test_officer_doing_a_supervisors_operation_is_refused_everywhere(trio) -> None:
    officer, _, supervisor = trio
    case_id = work(officer, visits=0)
    # Crafted by hand: signed and chained correctly, but not allowed for an officer.
    crafted = officer.replica.make(kinds.ASSIGN, case_id, {"assignee": officer.identity.device_id})
    batch = [*entries_of(officer), (crafted.body, crafted.sig)]
    report = supervisor.replica.apply(batch)
    assert report.rejections == [] and report.applied == len(batch)
    case = supervisor.case(case_id)
    assert case["assignee"] is None
    assert refused_text(case["refused"][0], "en") == "only a supervisor may assign a case"
    assert case["refused"][0]["author"] == officer.identity.device_id
    # The officer's own device folds it the same way.
    officer.replica.apply([(crafted.body, crafted.sig)])
    assert officer.case(case_id) == case


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xc1",  # never-used msgpack byte
        os.urandom(300),
        msgpack.packb([1, "local", "a", 1, 1, bytes(32), 1, "k", "e", msgpack.ExtType(5, b"x")]),
        msgpack.packb({"not": "a list"}),
        msgpack.packb([1, "local", "a", 1, 1, bytes(32), 1, "k", "e", {"b": 1, "a": 2}], use_bin_type=True),
        b"\x91" * 100_000,  # deeply nested arrays
        msgpack.packb([1, "local", "a", True, 1, bytes(32), 1, "k", "e", {}], use_bin_type=True),
    ],
    ids=["empty", "invalid-byte", "random", "ext-type", "map", "non-canonical", "deep-nesting", "bool-epoch"],
)
def test_malformed_entries_are_refused_without_harm(trio, body: bytes) -> None:
    _, honest, receiver = trio
    report = receiver.replica.apply([(body, bytes(64)), *entries_of(honest)])
    assert codes(report) == ["malformed"]
    assert report.rejections[0].reason.startswith("malformed operation")
    assert receiver.replica.device(honest.identity.device_id) is not None


def _signed_successor(author: CaseService, prev: Entry, payload_bytes: bytes) -> Entry:
    """The author's next entry after `prev`, correctly chained and signed, with a payload
    given as raw msgpack bytes (so that it can be encoded in a non-canonical way)."""
    op = decode(*prev)
    head = msgpack.packb(
        [1, op.station, op.author, op.epoch, op.seq + 1, op.digest, op.hlc + 1, kinds.NOTE, op.entity],
        use_bin_type=True,
    )
    body = bytes([head[0] + 1]) + head[1:] + payload_bytes  # a 9-item fixarray becomes 10 items
    return body, sign(author.identity.signing_key, body)


@pytest.mark.parametrize(
    "payload",
    [
        # a nested map whose keys are out of order (inside a list, inside the payload)
        msgpack.packb({"text": "备注", "z": [{"b": 1, "a": 2}]}, use_bin_type=True),
        # a repeated key
        b"\x82" + msgpack.packb("text") + msgpack.packb("甲") + msgpack.packb("text") + msgpack.packb("乙"),
    ],
    ids=["unsorted-nested-map", "duplicate-key"],
)
def test_non_canonical_body_is_refused_even_when_signed_by_its_author(trio, payload: bytes) -> None:
    author, _, receiver = trio
    work(author, visits=1)
    good = entries_of(author)
    forged = _signed_successor(author, good[-1], payload)
    assert decode(*good[-1]).digest == msgpack.unpackb(forged[0])[5]  # chained as it should be

    report = receiver.replica.apply([*good, forged])

    assert codes(report) == ["malformed"]
    assert "canonical" in report.rejections[0].reason
    assert report.applied == len(good)
    assert len(receiver.replica.ops.raw()) == len(good) + len(entries_of(receiver))
