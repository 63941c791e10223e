"""LAN sync sessions over real TLS on loopback: convergence, gossip, refusals, hostile peers."""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest

from fieldapp.core.service import CaseService, init_device
from fieldapp.core.station import revoke_device, tls_material
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import station_devices
from sync.certs import StationAuthority
from sync.frames import HEADER, encode_frame, read_frame
from sync.identity import DeviceIdentity
from sync.lan import SyncServer, sync_with
from sync.ops import decode
from sync.session import BATCH_ENTRIES, LIMITS, Endpoint, SessionReport
from sync.tls import TlsMaterial, ca_certificate, client_context, device_certificate

pytestmark = pytest.mark.timeout(120)
HOST = "127.0.0.1"


def material(service: CaseService) -> TlsMaterial:
    found = tls_material(service)
    assert found is not None
    return found


def record_work(service: CaseService, cases: int, tag: str) -> list[str]:
    ids = []
    for n in range(cases):
        case = service.new_case(f"{tag}村", "land", "yellow", f"{tag} 田界纠纷 {n}")
        service.add_visit(case["id"], "home", f"{tag} 第一次走访 {n}")
        ids.append(case["id"])
    return ids


async def serve_and_sync(
    server_side: CaseService, client_side: CaseService, **options: Any
) -> tuple[SessionReport, list]:
    """One session: `client_side` connects to `server_side` listening on loopback."""
    events: list[tuple[str, dict[str, Any]]] = []
    server = SyncServer(
        Endpoint(server_side.replica),
        material(server_side),
        HOST,
        on_event=lambda k, d: events.append((k, d)),
    )
    async with server:
        report = await sync_with(
            HOST, server.port, Endpoint(client_side.replica), material(client_side), **options
        )
        for _ in range(100):  # the server's side reports once its session has closed
            if any(kind in ("session", "refused") for kind, _ in events):
                break
            await asyncio.sleep(0.05)
    return report, events


def sync(server_side: CaseService, client_side: CaseService, **options: Any) -> tuple[SessionReport, list]:
    return asyncio.run(serve_and_sync(server_side, client_side, **options))


def test_two_devices_converge_both_ways_and_a_resync_moves_almost_nothing(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 150, "东岭")  # 450 operations: more than one batch
        record_work(authority, 3, "西河")
        report, events = sync(authority, officer)
        assert report.error is None, report.error
        assert report.sent > BATCH_ENTRIES and report.received > 0
        assert report.refused == 0
        assert officer.state_hash() == authority.state_hash()
        assert officer.replica.vector() == authority.replica.vector()
        assert len(authority.cases()) == len(officer.cases()) == 153
        served = dict(events)["session"]
        assert served["error"] is None and served["received"] == report.sent

        again, _ = sync(authority, officer)
        assert again.error is None and again.sent == again.received == 0
        assert again.bytes_sent + again.bytes_received < 2048, again


def test_gossip_carries_a_third_devices_operations_with_their_provenance(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, a, c):
        ids = record_work(a, 2, "南湾")
        assert sync(authority, a)[0].error is None  # A meets the station
        report, _ = sync(c, authority)  # the station meets C; A is not there
        assert report.error is None
        assert c.state_hash() == authority.state_hash()
        assert {x["id"] for x in c.cases()} >= set(ids)
        # C verified A's signatures itself: every one of A's entries is A's, chained from A's announcement.
        from_a = [
            decode(b, s)
            for b, s in c.replica.entries_missing_from({})
            if decode(b, s).author == a.identity.device_id
        ]
        assert [op.seq for op in from_a] == list(range(1, len(from_a) + 1))
        assert c.replica.public_key(a.identity.device_id) == a.identity.public_key


def test_a_revoked_device_is_refused_at_the_handshake_and_its_earlier_work_stays(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as (authority, lost, other):
        ids = record_work(lost, 1, "北坡")
        assert sync(authority, lost)[0].error is None
        revoke_device(authority, lost.identity.device_id, "设备在巡逻中遗失")
        record_work(lost, 1, "北坡后")  # made after the revocation, on the lost device
        before = authority.replica.vector()
        report, events = sync(authority, lost)
        assert report.error is not None and "revoked" in report.error
        assert report.sent == 0 and authority.replica.vector() == before
        assert authority.case(ids[0])["summary"].startswith("北坡")
        # The revocation reaches a device that was not there, and it refuses the lost device too.
        assert sync(authority, other)[0].error is None
        refused, _ = sync(other, lost)
        assert refused.error is not None and "revoked" in refused.error


def test_devices_of_another_station_or_none_are_refused_at_the_handshake(tmp_path: Path) -> None:
    with (
        station_devices(tmp_path / "a", 1) as (authority, officer),
        station_devices(tmp_path / "b", 1) as (
            _,
            stranger,
        ),
    ):
        before = authority.replica.vector()
        report, events = sync(authority, stranger)
        assert report.error is not None and "station" in report.error
        assert dict(events)["refused"]["reason"]
        assert authority.replica.vector() == before

        # A device with a self-made certificate (enrolled nowhere) fares no better.
        rogue_ca, rogue_key = StationAuthority.generate("假冒派出所")
        me = DeviceIdentity.generate()
        rogue = TlsMaterial(
            station_id=authority.replica.station,  # claims the right station, but its CA is its own
            ca_der=ca_certificate(rogue_key, rogue_ca.anchor.station_id),
            cert_der=device_certificate(rogue_key, authority.replica.station, me.public_key),
            private_key=me.signing_key,
        )

        async def rogue_attempt() -> tuple[str | None, list]:
            events: list = []
            server = SyncServer(
                Endpoint(authority.replica),
                material(authority),
                HOST,
                on_event=lambda k, d: events.append((k, d)),
            )
            async with server:
                result = await sync_with(HOST, server.port, Endpoint(officer.replica), rogue)
                await asyncio.sleep(0.2)
            return result.error, events

        error, events = asyncio.run(rogue_attempt())
        assert error is not None
        assert [kind for kind, _ in events if kind != "listening"] == ["refused"]
        assert authority.replica.vector() == before


def test_an_unenrolled_device_has_no_certificate_to_sync_with(tmp_path: Path) -> None:
    init_device(tmp_path / "loose", PASSPHRASE, "未入站辅警", FAST_KDF)
    service = CaseService.open(tmp_path / "loose", PASSPHRASE)
    try:
        assert tls_material(service) is None
    finally:
        service.close()


async def _hostile(
    authority: CaseService, officer: CaseService, payloads: list[bytes]
) -> tuple[list, str | None]:
    """An enrolled peer that completes TLS, then sends `payloads` raw; the server's events."""
    events: list = []
    server = SyncServer(
        Endpoint(authority.replica),
        material(authority),
        HOST,
        on_event=lambda k, d: events.append((k, d)),
        io_timeout=2.0,
    )
    async with server:
        reader, writer = await asyncio.open_connection(
            HOST, server.port, ssl=client_context(material(officer)), server_hostname="fieldapp"
        )
        for payload in payloads:
            writer.write(payload)
        await writer.drain()
        reason = None
        try:
            while True:
                msg = await read_frame(reader, 5)
                if msg.get("t") == "error":
                    reason = msg.get("reason")
                    break
        except Exception:
            pass
        writer.close()
        for _ in range(60):
            if any(kind == "session" for kind, _ in events):
                break
            await asyncio.sleep(0.05)
    return events, reason


def _hello(officer: CaseService, digest: bytes = b"x" * 32) -> bytes:
    return encode_frame(
        {
            "t": "hello",
            "proto": 1,
            "station": officer.replica.station,
            "device": officer.identity.device_id,
            "digest": digest,
        }
    )


def _vector(officer: CaseService) -> bytes:
    return encode_frame({"t": "vector", "v": officer.replica.vector()})


def hostile_cases(officer: CaseService) -> dict[str, list[bytes]]:
    good = [[b, s] for b, s in officer.replica.entries_missing_from({})]
    half_bad = [*good[:2], [good[2][0], b"short"]]
    raw = msgpack.packb({"t": "ops", "e": good}, use_bin_type=True)
    return {
        "garbage": [os.urandom(64)],
        "oversized": [HEADER.pack(50 * 1024 * 1024) + b"\0" * 16],
        "not msgpack": [HEADER.pack(8) + b"\xc1" * 8],
        "wrong station": [
            encode_frame(
                {
                    "t": "hello",
                    "proto": 1,
                    "station": "st-other",
                    "device": officer.identity.device_id,
                    "digest": b"",
                }
            )
        ],
        "other device": [
            encode_frame(
                {
                    "t": "hello",
                    "proto": 1,
                    "station": officer.replica.station,
                    "device": "aaaaaaaaaaaaaaaa",
                    "digest": b"",
                }
            )
        ],
        "future protocol": [
            encode_frame(
                {
                    "t": "hello",
                    "proto": 99,
                    "station": officer.replica.station,
                    "device": officer.identity.device_id,
                    "digest": b"",
                }
            )
        ],
        "bad vector": [_hello(officer), encode_frame({"t": "vector", "v": {"x": "y"}})],
        "half bad batch": [_hello(officer), _vector(officer), encode_frame({"t": "ops", "e": half_bad})],
        "too many entries": [_hello(officer), _vector(officer), encode_frame({"t": "ops", "e": good * 100})],
        "truncated batch": [_hello(officer), _vector(officer), HEADER.pack(len(raw)) + raw[: len(raw) // 2]],
        "extension type": [
            _hello(officer),
            _vector(officer),
            encode_frame({"t": "vector", "v": {}})[:4] + b"\xd4\x01\x00",
        ],
        "unknown frame": [_hello(officer), _vector(officer), encode_frame({"t": "gimme"})],
        "deep nesting": [
            _hello(officer),
            _vector(officer),
            encode_frame({"t": "ops", "e": [[[[[[[[1]]]]]]]]}),
        ],
    }


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "oversized",
        "not msgpack",
        "wrong station",
        "other device",
        "future protocol",
        "bad vector",
        "half bad batch",
        "too many entries",
        "truncated batch",
        "extension type",
        "unknown frame",
        "deep nesting",
    ],
)
def test_a_hostile_frame_from_an_enrolled_peer_ends_the_session_and_applies_nothing(
    tmp_path: Path, case: str
) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 3, "东岭")
        before_vector, before_hash = authority.replica.vector(), authority.state_hash()
        events, reason = asyncio.run(_hostile(authority, officer, hostile_cases(officer)[case]))
        sessions = [data for kind, data in events if kind == "session"]
        assert len(sessions) == 1 and sessions[0]["error"], events
        assert sessions[0]["applied"] == 0
        assert authority.replica.vector() == before_vector
        assert authority.state_hash() == before_hash
        # The server is not harmed: a real sync afterwards goes through.
        report, _ = sync(authority, officer)
        assert report.error is None and authority.state_hash() == officer.state_hash()


def test_a_cut_connection_resumes_where_it_stopped(tmp_path: Path) -> None:
    """The link drops after the first acknowledged batch; the next session sends only the rest."""
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 200, "东岭")  # 600 operations, 3+ batches

        async def cut_after_first_ack() -> SessionReport:
            server = SyncServer(Endpoint(authority.replica), material(authority), HOST)
            async with server:
                cut = asyncio.Event()

                def progress(report: SessionReport) -> None:
                    if report.sent >= BATCH_ENTRIES:
                        cut.set()

                task = asyncio.create_task(
                    sync_with(
                        HOST, server.port, Endpoint(officer.replica), material(officer), progress=progress
                    )
                )
                await cut.wait()
                task.cancel()
                try:
                    return await task
                except asyncio.CancelledError:
                    return SessionReport(peer="cut", error="cut")

        asyncio.run(cut_after_first_ack())
        held = sum(authority.replica.vector().values())
        assert held >= BATCH_ENTRIES  # the acknowledged batch stayed
        total = sum(officer.replica.vector().values())
        report, _ = sync(authority, officer)
        assert report.error is None
        assert report.sent == total - held  # only what the station did not already hold
        assert authority.replica.vector() == officer.replica.vector()
        assert authority.state_hash() == officer.state_hash()


def test_long_notes_travel_in_batches_that_each_fit_a_frame(tmp_path: Path) -> None:
    """41 operations, 40 of them visits with 3,000-character notes: under 200 entries, but
    ~370 KB, more than one frame may hold; the sender cuts them by size."""
    with station_devices(tmp_path, 1) as (authority, officer):
        case = officer.new_case("东岭村", "land", "yellow", "田界纠纷")
        for _ in range(40):
            officer.add_visit(case["id"], "home", "双方就田界问题再次协商，" * 250)
        acked: list[int] = []
        report, _ = sync(authority, officer, progress=lambda r: acked.append(r.sent))
        assert report.error is None, report.error
        assert report.sent == 42 and len(set(acked) - {0}) >= 2  # the announcement, the case, 40 visits
        assert report.bytes_sent > LIMITS.max_bytes
        assert authority.state_hash() == officer.state_hash()


def test_tls_is_version_1_3_only(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        context = client_context(material(officer))
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED


def test_a_server_takes_several_devices_at_once(tmp_path: Path) -> None:
    with station_devices(tmp_path, 3) as (authority, *officers):
        for index, officer in enumerate(officers):
            record_work(officer, 80, f"村{index}")

        async def all_at_once() -> list[SessionReport]:
            server = SyncServer(Endpoint(authority.replica), material(authority), HOST)
            async with server:
                return await asyncio.gather(
                    *(sync_with(HOST, server.port, Endpoint(o.replica), material(o)) for o in officers)
                )

        reports = asyncio.run(all_at_once())
        assert [r.error for r in reports] == [None, None, None]
        assert len(authority.cases()) == 240
        # A second round brings everyone everything.
        assert all(sync(authority, o)[0].error is None for o in officers)
        assert len({authority.state_hash(), *(o.state_hash() for o in officers)}) == 1


def test_stopping_a_server_mid_batch_waits_for_the_batch_before_folding(tmp_path: Path) -> None:
    """A cancelled apply must not release the store to the fold while its thread still writes."""
    with station_devices(tmp_path, 1) as (authority, officer):
        record_work(officer, 3, "东岭")
        replica = authority.replica
        state = {"in_store": False, "overlap": False}
        store, fold = replica._store, replica.fold_pending

        def slow_store(accepted: Any, signed: Any = None) -> None:
            state["in_store"] = True
            time.sleep(0.8)  # inside apply's transaction, in the worker thread
            try:
                store(accepted, signed)
            finally:
                state["in_store"] = False

        def watched_fold() -> None:
            state["overlap"] |= state["in_store"]
            fold()

        replica._store, replica.fold_pending = slow_store, watched_fold  # type: ignore[method-assign]

        async def stop_mid_batch() -> None:
            server = SyncServer(Endpoint(replica), material(authority), HOST)
            await server.start()
            client = asyncio.create_task(
                sync_with(HOST, server.port, Endpoint(officer.replica), material(officer))
            )
            while not state["in_store"]:
                await asyncio.sleep(0.01)
            await server.close()
            await asyncio.wait({client}, timeout=10)

        asyncio.run(stop_mid_batch())
        replica._store, replica.fold_pending = store, fold  # type: ignore[method-assign]
        assert not state["overlap"]
        report, _ = sync(authority, officer)
        assert report.error is None and authority.state_hash() == officer.state_hash()
