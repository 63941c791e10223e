"""Every stored signature verifies, and relaying never stalls (docs/replication.md, "Signatures").

A receiver checks the signature of the last signed entry of each run and of one entry at
least every SEGMENT_ENTRIES entries and SEGMENT_BYTES bytes; it keeps only those, and stores
the other entries without one (the hash chain authenticates them). Senders cut their batches
after a signed entry. These tests relay real logs through several devices, in batches of
several sizes, and check what each device stores.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import msgpack
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from fieldapp.core.service import CaseService
from harness import PASSPHRASE
from harness.replicas import devices
from sync.ops import chain_key, decode, op_key
from sync.replica import LOG_FORMAT_KEY
from sync.verify import SEGMENT_BYTES, SEGMENT_ENTRIES, signed_batches

Entry = tuple[bytes, bytes]


def own_log(svc: CaseService) -> list[Entry]:
    me = svc.identity
    return [
        e
        for e in svc.replica.entries_missing_from({})
        if decode(*e).chain == chain_key(me.device_id, me.epoch)
    ]


def write_log(author: CaseService, visits: int, seed: int) -> str:
    """A case and `visits` visits whose notes range from a few characters to the 4,000 allowed."""
    rng = random.Random(seed)
    case = author.new_case(
        "东岭村", "land", "orange", "田界纠纷", [{"name": "测试甲", "phone": "", "role": "party"}]
    )
    for n in range(visits):
        size = rng.choice([5, 40, 300, 3980])
        author.add_visit(case["id"], "home", f"第{n}次走访" + "记" * size)
    return str(case["id"])


def stored_chain(svc: CaseService, author: CaseService) -> list[Entry]:
    me = author.identity
    seq = svc.replica.head(chain_key(me.device_id, me.epoch))[0]
    raw = svc.replica.ops.raw()
    return [
        (bytes(raw[k]["b"]), bytes(raw[k]["s"]))
        for k in (op_key(me.device_id, me.epoch, s) for s in range(1, seq + 1))
    ]


def verifies(key: bytes, body: bytes, sig: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, body)
    except InvalidSignature:
        return False
    return True


def check_signatures(svc: CaseService, author: CaseService) -> int:
    """Every signature `svc` stores of `author`'s log verifies, the head has one, and the
    stretches without one are bounded. Returns how many it keeps."""
    log = stored_chain(svc, author)
    assert log, "nothing of the author's log is held"
    key = author.identity.public_key
    kept, count, size = 0, 0, 0
    for index, (body, sig) in enumerate(log):
        if count or size:
            assert count < SEGMENT_ENTRIES and size < SEGMENT_BYTES, f"a stretch of {count} entries unsigned"
        if sig:
            assert verifies(key, body, sig), f"entry {index + 1} is stored with a signature that fails"
            kept += 1
            count = size = 0
        else:
            count += 1
            size += len(body)
    assert log[-1][1], "the head of the log keeps no signature: it could not be relayed"
    return kept


def relay(source: CaseService, target: CaseService, max_entries: int) -> None:
    """What a LAN sender does: everything the target lacks, cut after signed entries."""
    missing = list(source.replica.entries_missing_from(target.replica.vector()))
    for batch in signed_batches(missing, max_entries, 192 * 1024):
        assert len(batch) <= max_entries
        report = target.replica.apply(batch)
        assert not report.rejections, report.rejections


@pytest.mark.timeout(120)
@pytest.mark.parametrize("max_entries", [SEGMENT_ENTRIES, 97, 200])
def test_a_log_relayed_through_three_devices_arrives_whole_with_only_checked_signatures(
    tmp_path: Path, max_entries: int
) -> None:
    with devices(tmp_path, ["officer", "officer", "officer", "supervisor"]) as (author, b, c, d):
        write_log(author, 150, seed=max_entries)
        log = own_log(author)
        report = b.replica.apply(log)  # the author's whole log at once, as a USB file brings it
        assert report.applied == len(log) and not report.rejections and not report.held_back
        relay(b, c, max_entries)
        relay(c, d, max_entries)
        for svc in (b, c, d):
            assert [body for body, _ in stored_chain(svc, author)] == [body for body, _ in log]
            kept = check_signatures(svc, author)
            assert kept < len(log) // 4, f"{kept} of {len(log)} signatures kept: the design checks few"
        for svc in (b, c, d):
            assert svc.replica.view("cases") == author.replica.view("cases")


@pytest.mark.timeout(120)
def test_one_bad_signature_anywhere_in_a_run_costs_nothing(tmp_path: Path) -> None:
    """A relay hands on the author's log with one signature replaced by random bytes, for
    each position in turn (with long notes, so some are where a checkpoint falls): every
    body lands, the bad signature is never kept, and the next device gets the whole log."""
    with devices(tmp_path, ["officer", "officer"]) as (author, _):
        write_log(author, 40, seed=1)
        log = own_log(author)
    for bad in range(1, len(log) - 1):
        with devices(tmp_path / str(bad), ["officer", "officer"]) as (b, c):
            forged = [(body, os.urandom(64) if i == bad else sig) for i, (body, sig) in enumerate(log)]
            report = b.replica.apply(forged)
            assert report.applied == len(log) and not report.rejections, (bad, report)
            assert check_signatures(b, author) < len(log) // 2
            relay(b, c, 200)
            check_signatures(c, author)


@pytest.mark.timeout(120)
def test_a_relay_that_forges_every_inner_signature_gets_a_checked_prefix_in(tmp_path: Path) -> None:
    """With every inner signature replaced, the bodies are still authentic (chained to the
    valid last one), but no stretch can be closed by a checked signature: the receiver takes
    the log up to where it could, refuses one entry with its reason, stores no forged
    signature, and takes the rest from an honest device later."""
    with devices(tmp_path, ["officer", "officer", "officer"]) as (author, b, c):
        write_log(author, 30, seed=1)
        log = own_log(author)
        forged = [
            (body, os.urandom(64) if 0 < i < len(log) - 1 else sig) for i, (body, sig) in enumerate(log)
        ]
        report = b.replica.apply(forged)
        assert 0 < report.applied < len(log)
        assert [r.code for r in report.rejections] == ["bad_signature"]
        check_signatures(b, author)
        relay(author, b, 200)  # the honest device brings the rest
        check_signatures(b, author)
        relay(b, c, 200)
        check_signatures(c, author)
        assert c.replica.view("cases") == author.replica.view("cases")


@pytest.mark.timeout(120)
def test_entries_after_the_last_signature_wait_for_the_entry_that_covers_them(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer", "officer"]) as (author, b):
        write_log(author, 5, seed=2)
        log = own_log(author)
        unsigned_tail = [*log[:-2], (log[-2][0], b""), (log[-1][0], b"")]
        report = b.replica.apply(unsigned_tail)
        assert report.applied == len(log) - 2 and report.held_back == 2 and not report.rejections
        assert b.replica.apply(log).applied == 2  # the same again with the signatures: all of it


@pytest.mark.timeout(120)
def test_a_store_that_kept_unchecked_signatures_keeps_only_checked_ones_after_the_upgrade(
    tmp_path: Path,
) -> None:
    """A store written before log format 2 holds every received signature, some of them never
    checked and wrong; opened by this version it keeps only signatures that verify, at the
    head and at least every SEGMENT_ENTRIES entries, and relays its log whole."""
    with devices(tmp_path, ["officer", "officer", "officer"]) as (author, b, c):
        write_log(author, 140, seed=3)
        log = own_log(author)
        b.replica.apply(log)
        me = author.identity
        old = {
            op_key(me.device_id, me.epoch, seq): {"b": body, "s": os.urandom(64) if seq % 7 == 0 else sig}
            for seq, (body, sig) in enumerate(log, start=1)
        }
        b.replica.ops.put_many(old)  # as format 1 stored them: every signature, checked or not
        b.replica.local.put(LOG_FORMAT_KEY, {"version": 1})
        path = Path(b.db.store.directory)
        b.close()
        reopened = CaseService.open(path, PASSPHRASE)
        try:
            check_signatures(reopened, author)
            assert reopened.replica.local.get_copy(LOG_FORMAT_KEY) == {"version": 2}
            relay(reopened, c, 200)
            check_signatures(c, author)
            assert c.replica.view("cases") == author.replica.view("cases")
        finally:
            reopened.close()


@pytest.mark.timeout(120)
def test_import_chunks_end_on_signatures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ops import` cuts its chunks as the LAN sender does: a relayed (sparse) log imports whole
    (with chunks of SEGMENT_ENTRIES entries instead of 10,000, so that it is cut at all)."""
    monkeypatch.setattr("fieldapp.core.service.IMPORT_CHUNK", SEGMENT_ENTRIES)
    with devices(tmp_path, ["officer", "officer", "officer"]) as (author, b, c):
        write_log(author, 150, seed=4)
        b.replica.apply(own_log(author))
        entries = [[body, sig] for body, sig in b.replica.entries_missing_from({})]
        data = msgpack.packb(
            {"format": "fieldapp-ops", "version": 1, "station": b.replica.station, "entries": entries},
            use_bin_type=True,
        )
        report = c.import_ops(data)
        assert not report.rejections and not report.held_back
        assert c.replica.view("cases") == author.replica.view("cases")


@given(
    gaps=st.lists(st.integers(0, SEGMENT_ENTRIES - 1), min_size=1, max_size=40),
    max_entries=st.integers(SEGMENT_ENTRIES, 250),
    sizes=st.lists(st.integers(1, 3000), min_size=1, max_size=20),
)
def test_batches_end_on_a_signature_and_stay_within_their_bounds(
    gaps: list[int], max_entries: int, sizes: list[int]
) -> None:
    """Runs of up to SEGMENT_ENTRIES - 1 unsigned entries, each closed by a signed one: every
    batch but the last ends on a signature, none is longer than `max_entries`, and together
    they are the input in order."""
    entries: list[Entry] = []
    for gap in gaps:
        for _ in range(gap):
            entries.append((b"x" * sizes[len(entries) % len(sizes)], b""))
        entries.append((b"y" * sizes[len(entries) % len(sizes)], b"s" * 64))
    batches = list(signed_batches(entries, max_entries, 192 * 1024))
    assert [e for batch in batches for e in batch] == entries
    assert all(len(batch) <= max_entries for batch in batches)
    assert all(batch[-1][1] for batch in batches)


def test_a_batch_without_any_signature_is_cut_anyway() -> None:
    entries = [(b"x", b"")] * 450
    assert [len(b) for b in signed_batches(entries, 200, 192 * 1024)] == [200, 200, 50]
