"""Hostile input to LAN sync: the frame decoder, and live sessions from an enrolled peer over TLS.

The peer is a genuine enrolled officer's device: it completes the TLS 1.3 handshake with
its real certificate (as `_hostile` in test_sync_session.py does), then sends what
Hypothesis makes of it: random bytes; a valid hello and vector followed by a real `ops`
frame with bits flipped in bodies, signatures, lengths or msgpack structure, truncated or
oversized; random sequences of well-formed frames of every type with random fields. Every
example runs against a fresh copy of the station's store and checks that

- the server reported the session (it did not crash), and a real sync on the same server
  afterwards converges;
- a session that ended early says why in a short printable sentence, in the server's report
  and in the error frame the peer got (no repr, no traceback);
- what the station stored is genuine: each new entry is byte for byte the officer's body, the
  new entries are a contiguous prefix of its log, as many as the report says were applied; a
  batch refused as malformed (never received) left the vector and state hash as they were;
  no fork, no quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fieldapp.core.service import CaseService
from harness import PASSPHRASE
from harness.replicas import station_devices
from sync.frames import HEADER, FrameError, decode_body, encode_frame, read_frame
from sync.lan import SyncServer, sync_with
from sync.ops import MAX_BODY_BYTES, chain_key, decode, encode_body, op_key
from sync.replica import Entry
from sync.session import (
    BATCH_ENTRIES,
    LIMITS,
    Endpoint,
    SessionError,
    SessionReport,
    _check_batch,
    _check_vector,
)
from sync.tls import client_context
from tests.test_sync_session import material, record_work

HOST = "127.0.0.1"
#: How long the hostile peer waits for another frame before hanging up (the server may be
#: waiting for the rest of a truncated frame).
IDLE_S = 0.3
#: The server's read timeout: only reached if the peer neither sends nor hangs up.
SERVER_IO_S = 3.0
#: Examples per live test: each is a TLS session and a real sync on a fresh store copy (~0.15 s).
FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Signs that a reason is a program's text rather than a sentence for a person.
NOT_PROSE = ("Traceback", "object at 0x", "b'", 'b"', "{'", "\\x", "Error(", "<class")


@dataclass(repr=False)  # the repr would print every entry in each failure report
class Station:
    """The station's pristine store (closed) and the enrolled officer (open) who attacks it."""

    root: Path
    pristine: Path
    officer: CaseService
    client: ssl.SSLContext
    station_id: str
    officer_id: str
    #: The officer's entries the station lacks, in log order, and by op key.
    genuine: list[Entry]
    by_key: dict[str, Entry]
    chain: str
    keys: frozenset[str]
    vector: dict[str, int]
    state_hash: str
    converged_hash: str

    def hello(self, digest: bytes = b"\x01" * 32) -> bytes:
        """A correct hello from the officer (its digest differs from the station's)."""
        msg = {"t": "hello", "proto": 1, "station": self.station_id, "device": self.officer_id}
        return encode_frame(msg | {"digest": digest})

    def vector_frame(self) -> bytes:
        """The officer's true vector: it lacks nothing, so the station sends no batch."""
        return encode_frame({"t": "vector", "v": self.officer.replica.vector()})


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    root = tmp_path_factory.mktemp("fuzz")
    with station_devices(root, 1) as (authority, officer):
        record_work(officer, 3, "东岭")
        # The officer already holds what the station holds: only the station can lack things.
        officer.replica.apply(list(authority.replica.entries_missing_from(officer.replica.vector())))
        genuine = list(officer.replica.entries_missing_from(authority.replica.vector()))
        keys = frozenset(authority.replica.ops.raw())
        vector, state_hash = authority.replica.vector(), authority.state_hash()
        station_id = authority.replica.station
    ops = [decode(b, s) for b, s in genuine]
    assert len(ops) >= 5 and len({op.chain for op in ops}) == 1  # one log: its announcement, then work
    officer = CaseService.open(root / "officer0", PASSPHRASE)
    try:
        yield Station(
            root=root,
            pristine=root / "authority",
            officer=officer,
            client=client_context(material(officer)),
            station_id=station_id,
            officer_id=officer.identity.device_id,
            genuine=genuine,
            by_key={op.key: (op.body, op.sig) for op in ops},
            chain=ops[0].chain,
            keys=keys,
            vector=vector,
            state_hash=state_hash,
            converged_hash=officer.state_hash(),
        )
    finally:
        officer.close()


@contextlib.contextmanager
def fresh_copy(station: Station) -> Iterator[CaseService]:
    """The station's store as it was before any example, open."""
    path = Path(tempfile.mkdtemp(prefix="station-", dir=station.root))
    shutil.copytree(station.pristine, path, dirs_exist_ok=True)
    service = CaseService.open(path, PASSPHRASE)
    try:
        yield service
    finally:
        service.close()
        shutil.rmtree(path)


@dataclass
class Outcome:
    """What one hostile session did to the station, and the real sync after it."""

    session: dict[str, Any]
    replies: list[dict[str, Any]]
    stored: dict[str, Entry]
    vector: dict[str, int]
    state_hash: str
    forks: int
    resync: SessionReport
    resync_hash: str


async def _wait_sessions(events: list[tuple[str, dict[str, Any]]], count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        sessions = [data for kind, data in events if kind == "session"]
        if len(sessions) >= count:
            return sessions
        await asyncio.sleep(0.02)
    raise AssertionError(f"the server did not report session {count}: {events}")


async def _attack(station: Station, target: CaseService, payload: bytes) -> Outcome:
    """Send `payload` after a genuine handshake, read the replies, then sync for real."""
    events: list[tuple[str, dict[str, Any]]] = []
    server = SyncServer(
        Endpoint(target.replica),
        material(target),
        HOST,
        on_event=lambda kind, data: events.append((kind, data)),
        io_timeout=SERVER_IO_S,
    )
    async with server:
        reader, writer = await asyncio.open_connection(
            HOST, server.port, ssl=station.client, server_hostname="fieldapp"
        )
        writer.write(payload)
        with contextlib.suppress(ConnectionError, OSError):
            await writer.drain()
        replies: list[dict[str, Any]] = []
        with contextlib.suppress(FrameError):
            while not replies or replies[-1].get("t") != "error":
                replies.append(await read_frame(reader, IDLE_S, LIMITS))
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)
        (session,) = await _wait_sessions(events, 1)
        raw = target.replica.ops.raw()
        stored = {k: (bytes(e["b"]), bytes(e["s"])) for k, e in raw.items() if k not in station.keys}
        vector, state_hash = target.replica.vector(), target.state_hash()
        forks = len(target.replica.forks.raw())
        resync = await sync_with(
            HOST, server.port, Endpoint(station.officer.replica), material(station.officer)
        )
        await _wait_sessions(events, 2)
    return Outcome(session, replies, stored, vector, state_hash, forks, resync, target.state_hash())


def attack(station: Station, payload: bytes) -> Outcome:
    """One hostile session against a fresh copy of the station; the common checks done."""
    with fresh_copy(station) as target:
        outcome = asyncio.run(asyncio.wait_for(_attack(station, target, payload), 60))
        assert target.replica.vector() == station.officer.replica.vector()
    check(station, outcome)
    return outcome


def readable(reason: object) -> bool:
    """A short sentence a person can read: no repr, no traceback, no control characters."""
    return (
        isinstance(reason, str)
        and 0 < len(reason) <= 300
        and reason.isprintable()
        and not any(marker in reason for marker in NOT_PROSE)
    )


def check(station: Station, outcome: Outcome) -> None:
    """What must hold after any hostile session."""
    session = outcome.session
    assert session["error"] is None or readable(session["error"]), session["error"]
    for reply in outcome.replies:
        if reply.get("t") == "error":
            assert readable(reply.get("reason")), reply
    # Only genuine entries, byte for byte, as a contiguous prefix of the officer's log.
    for key, (body, sig) in outcome.stored.items():
        assert key in station.by_key, f"stored an entry the officer never made: {key}"
        assert body == station.by_key[key][0], f"stored an altered body at {key}"
        # Only the author's own signature, or none (the entry is covered by a later signed one).
        assert sig in (b"", station.by_key[key][1]), f"{key} is stored with a signature its author never made"
    if outcome.stored:  # the log's head keeps a checked signature: the station can relay it
        head = max(outcome.stored, key=lambda k: decode(*outcome.stored[k]).seq)
        assert outcome.stored[head][1] == station.by_key[head][1]
    added = outcome.vector.get(station.chain, 0) - station.vector.get(station.chain, 0)
    assert added == len(outcome.stored) == session["applied"], (added, len(outcome.stored), session)
    assert {k for k in outcome.vector if k != station.chain} == {
        k for k in station.vector if k != station.chain
    }
    if not session["received"]:  # nothing passed the frame checks: nothing may have changed
        assert outcome.vector == station.vector and outcome.state_hash == station.state_hash
    if not outcome.stored:
        assert outcome.state_hash == station.state_hash
    assert outcome.forks == 0  # nobody can forge the officer's signature
    # The server is unharmed: the real sync that follows converges.
    assert outcome.resync.error is None, outcome.resync.error
    assert outcome.resync_hash == station.converged_hash


# ---------------------------------------------------------------- the decoders, without a network


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), flips=st.lists(st.integers(0, 10_000), max_size=4))
def test_session_frames_decode_or_fail_with_a_reason(data: bytes, flips: list[int]) -> None:
    """Bytes, and real frames with bits flipped, decode within the session's limits or raise
    FrameError; what decodes passes the session's checks or raises SessionError, readably."""
    real = bytearray(encode_frame({"t": "ops", "e": [[b"\x95" + data[:40] + b"x", b"s" * 64]]})[4:])
    for flip in flips:
        real[flip % len(real)] ^= 1 << (flip % 8)
    for body in (data, bytes(real)):
        try:
            msg = decode_body(body, LIMITS)
        except FrameError as exc:
            assert readable(exc.reason), exc.reason
            continue
        assert isinstance(msg, dict) and all(isinstance(k, str) for k in msg)
        for field, validate in (("e", _check_batch), ("v", _check_vector)):
            try:
                value = validate(msg.get(field))
            except SessionError as exc:
                assert readable(exc.reason), exc.reason
                continue
            assert isinstance(value, list | dict)


# ---------------------------------------------------------------- live sessions over TLS


@pytest.mark.slow
@pytest.mark.timeout(60)
@settings(max_examples=30, **FUZZ)
@given(data=st.data())
def test_random_bytes_after_the_handshake(station: Station, data: st.DataObject) -> None:
    """Random bytes, raw or behind a plausible length, alone or after a valid hello and vector."""
    opening = data.draw(st.sampled_from([b"", station.hello(), station.hello() + station.vector_frame()]))
    noise = data.draw(st.binary(min_size=1, max_size=600))
    if data.draw(st.booleans()):
        noise = HEADER.pack(len(noise)) + noise  # gets past the length check to the decoder
    outcome = attack(station, opening + noise)
    event(f"ended: {outcome.session['error']}"[:90])
    assert outcome.session["error"] is not None  # random bytes never make a whole session
    assert not outcome.stored


def _flip(data: bytes, positions: list[int]) -> bytes:
    out = bytearray(data)
    for position in positions:
        out[position % len(out)] ^= 1 << (position % 8)
    return bytes(out)


def _rebuilt(body: bytes, seq: int | None = None, payload: dict[str, Any] | None = None) -> bytes:
    """A well-formed body like `body`, at another position or with another payload."""
    op = decode(body, b"")
    return encode_body(
        op.station,
        op.author,
        op.epoch,
        op.seq if seq is None else seq,
        op.prev,
        op.hlc,
        op.kind,
        op.entity,
        op.payload if payload is None else payload,
    )


def _look_alike(body: bytes, salt: int) -> bytes:
    return _rebuilt(body, payload={**decode(body, b"").payload, "forged": salt})


def _flip_position(body: bytes, bit: int) -> bytes:
    """The body with one bit of its sequence number flipped (staying a valid position)."""
    seq = decode(body, b"").seq
    return _rebuilt(body, seq=max(1, seq ^ (1 << (bit % 6))))


MUTATIONS = (
    "none",
    "body bits",
    "signature bits",
    "signature length",
    "entry shape",
    "reorder",
    "frame bits",
    "length header",
    "truncated",
    "too many entries",
    "body too large",
    "look-alike",
    "position bits",
)


@pytest.mark.slow
@pytest.mark.timeout(60)
@settings(max_examples=60, **FUZZ)
@given(data=st.data())
def test_mutated_ops_frames_apply_only_authentic_entries(station: Station, data: st.DataObject) -> None:
    """hello, vector, then a real batch of the officer's entries, mutated; then done."""
    n = len(station.genuine)
    start = data.draw(st.sampled_from([0, 0, 0, 0, 1, 2]), label="first entry")  # 1, 2: held back
    stop = data.draw(st.integers(start + 1, n), label="end")
    batch = [list(entry) for entry in station.genuine[start:stop]]
    mutation = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    at = data.draw(st.integers(0, len(batch) - 1), label="entry")
    bits = data.draw(st.lists(st.integers(0, 2**20), min_size=1, max_size=3), label="bits")
    if mutation == "body bits":
        batch[at][0] = _flip(batch[at][0], bits)
    elif mutation == "signature bits":
        batch[at][1] = _flip(batch[at][1], bits)
    elif mutation == "signature length":  # (none at all is allowed: covered by a later signature)
        batch[at][1] = batch[at][1][: data.draw(st.integers(1, 63))] if bits[0] % 2 else batch[at][1] + b"\0"
    elif mutation == "look-alike":  # another body at the position of a genuine entry, a random signature
        fake = [_look_alike(batch[at][0], bits[0]), random.Random(bits[0]).randbytes(64)]
        batch.insert(at + (bits[0] % 2), fake)  # before or after the genuine one
    elif mutation == "position bits":  # a copy of an entry moved to another position of the log
        batch.insert(at, [_flip_position(batch[at][0], bits[0]), batch[at][1]])
    elif mutation == "entry shape":
        batch[at] = data.draw(
            st.sampled_from([batch[at][:1], [*batch[at], b""], batch[at][0], 7, None, [batch[at][0], "sig"]])
        )
    elif mutation == "reorder":
        random.Random(bits[0]).shuffle(batch)
    elif mutation == "too many entries":
        batch = (batch * (BATCH_ENTRIES // len(batch) + 1))[: BATCH_ENTRIES + 1]
    elif mutation == "body too large":
        batch[at][0] = batch[at][0] + b"\0" * (MAX_BODY_BYTES + 1 - len(batch[at][0]))
    body = msgpack.packb({"t": "ops", "e": batch}, use_bin_type=True)
    if mutation == "frame bits":
        body = _flip(body, bits)
    header = HEADER.pack(len(body))
    if mutation == "length header":
        header = HEADER.pack(data.draw(st.sampled_from([0, 1, len(body) - 1, len(body) + 1, 2**32 - 1])))
    done = encode_frame({"t": "done"})
    if mutation == "truncated":  # and nothing after it, which would fill the gap
        body, done = body[: data.draw(st.integers(0, len(body) - 1))], b""
    outcome = attack(station, station.hello() + station.vector_frame() + header + body + done)

    applied = len(outcome.stored)
    event(f"{mutation}: {'checked' if outcome.session['received'] else 'refused'} batch, applied {applied}")
    if outcome.session["received"] and start == 0:
        # An authentic prefix of the log is applied whole; the first altered body and all after it never.
        if mutation in ("none", "reorder"):  # order within a batch does not matter
            assert applied == len(batch)
        elif mutation == "look-alike":  # the forgery is refused, the genuine log applied whole
            assert applied == len(batch) - 1
        elif mutation == "body bits":  # (two flips of one bit undo each other)
            assert applied == (at if batch[at][0] != station.genuine[at][0] else len(batch))
        elif mutation == "signature bits":
            assert at <= applied <= len(batch)
    if mutation in ("signature length", "too many entries", "body too large", "truncated"):
        assert not outcome.session["received"] and not applied  # malformed: nothing of it applied
    if mutation == "none":
        assert outcome.session["error"] is None  # a genuine session completes


@pytest.mark.slow
@pytest.mark.timeout(60)
@settings(max_examples=40, **FUZZ)
@given(data=st.data())
def test_one_altered_entry_stops_the_batch_exactly_there(station: Station, data: st.DataObject) -> None:
    """The officer's whole log as one batch, one bit flipped in one entry's body or signature.

    A body flip lands in the second half of the body (mostly the payload), so that the body
    often still decodes and chains: the entries before it are applied, it and all after it
    never. A signature flip in the announcement refuses the log (a device new to the station
    must sign its own announcement); in the last entry it costs that entry; anywhere else
    nothing, as the last entry's valid signature authenticates the bodies chained before it
    (docs/replication.md).
    """
    n = len(station.genuine)
    at = data.draw(st.integers(0, n - 1), label="entry")
    where = data.draw(st.sampled_from(["body", "signature"]), label="where")
    batch = [list(entry) for entry in station.genuine]
    target = batch[at][0] if where == "body" else batch[at][1]
    half = len(target) // 2 if where == "body" else 0
    bit = data.draw(st.integers(half * 8, len(target) * 8 - 1), label="bit")
    altered = bytearray(target)
    altered[bit // 8] ^= 1 << (bit % 8)
    batch[at][0 if where == "body" else 1] = bytes(altered)
    body = msgpack.packb({"t": "ops", "e": batch}, use_bin_type=True)
    frames = station.hello() + station.vector_frame() + HEADER.pack(len(body)) + body
    outcome = attack(station, frames + encode_frame({"t": "done"}))
    event(f"{where}, entry {at}: applied {len(outcome.stored)}")
    assert outcome.session["received"] == n  # well-formed: it reached verification
    if where == "body":
        assert len(outcome.stored) == at
    elif at == 0:  # the announcement of a device new to the station is checked on its own
        assert not outcome.stored
    else:
        assert len(outcome.stored) == (n if at < n - 1 else n - 1)


def _frames(station: Station) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Sequences of well-formed frames of every type, their fields right or random."""
    junk = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=24)
        | st.binary(max_size=70),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=8,
    )
    entry = st.one_of(
        st.sampled_from([list(e) for e in station.genuine]),
        st.tuples(st.binary(min_size=1, max_size=120), st.binary(min_size=64, max_size=64)).map(list),
        junk,
    )

    def frame(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        return st.fixed_dictionaries({"t": st.just(kind), **fields})

    vector = st.dictionaries(st.text(max_size=70), st.integers(-5, 2**41), max_size=4)
    return st.lists(
        st.one_of(
            frame(
                "hello",
                proto=st.just(1) | junk,
                station=st.just(station.station_id) | junk,
                device=st.just(station.officer_id) | junk,
                digest=st.binary(min_size=32, max_size=32) | junk,
            ),
            frame("vector", v=st.just(station.officer.replica.vector()) | vector | junk),
            frame("ops", e=st.lists(entry, min_size=1, max_size=6) | junk),
            frame("ack", n=st.integers(-1, BATCH_ENTRIES + 1) | junk, applied=junk, refused=junk),
            frame("done", batches=st.integers(0, 3) | junk),
            frame("error", reason=st.text(max_size=300) | junk),
            st.dictionaries(st.text(max_size=8), junk, max_size=4),  # no type, or any type
        ),
        max_size=6,
    )


@pytest.mark.slow
@pytest.mark.timeout(60)
@settings(max_examples=50, **FUZZ)
@given(data=st.data())
def test_random_well_formed_frames_of_every_type(station: Station, data: st.DataObject) -> None:
    """Any sequence of well-formed frames, often after a valid hello and vector."""
    full = station.hello() + station.vector_frame()
    opening = data.draw(st.sampled_from([b"", station.hello(), full, full]))
    frames = data.draw(_frames(station))
    payload = opening + b"".join(encode_frame(f, LIMITS.max_bytes) for f in frames)
    outcome = attack(station, payload)
    event(f"ended: {outcome.session['error'] or 'complete'}"[:90])
    first = frames[0].get("t") if frames else None
    if not opening and first != "hello":
        assert outcome.session["error"] is not None and not outcome.stored
    if opening.endswith(station.vector_frame()) and first not in (None, "ops", "ack", "done"):
        assert outcome.session["error"] is not None  # a frame out of place ends the session


@pytest.mark.timeout(60)
def test_a_signature_flipped_inside_a_genuine_batch_is_not_stored(station: Station) -> None:
    """A peer flips a bit in the signature of an entry in the middle of a genuine batch: the
    body is authentic (chained to the last, validly signed entry), so it is stored, but
    without that signature: only signatures the station checked are kept, so relaying its
    log can never stall on one its author never made (docs/replication.md)."""
    batch = [list(entry) for entry in station.genuine]
    batch[1][1] = _flip(batch[1][1], [5])
    body = msgpack.packb({"t": "ops", "e": batch}, use_bin_type=True)
    payload = station.hello() + station.vector_frame() + HEADER.pack(len(body)) + body
    outcome = attack(station, payload + encode_frame({"t": "done"}))
    assert len(outcome.stored) == len(batch)
    first = decode(*station.genuine[0])
    assert outcome.stored[op_key(first.author, first.epoch, 2)][1] == b""


@pytest.mark.timeout(60)
def test_the_fixture_log_is_what_the_fuzzing_assumes(station: Station) -> None:
    """The officer's entries start its log (so a batch from the first applies), one chain."""
    first = decode(*station.genuine[0])
    assert first.seq == 1 and station.chain == chain_key(first.author, first.epoch)
    assert station.vector.get(station.chain, 0) == 0
    assert set(station.by_key) == {
        op_key(first.author, first.epoch, s) for s in range(1, len(station.genuine) + 1)
    }
