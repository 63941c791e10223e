"""The `sync` bench: LAN sync between two enrolled devices over real TLS on loopback.

Set-up (not timed): a station authority and an officer's device, enrolled as
`fieldapp station create` and enrolment make them; the station's shared cases reach the
officer in a first real sync. Then, through a byte-counting TCP relay
(`CountingProxy`) between the two:

- a re-sync with nothing new: bytes counted two ways, the session's frames
  (`SessionReport.bytes_sent + bytes_received`) and the TCP payload both ways,
  TLS handshake and alerts included;
- new work: the officer records N operations in the field mix of the merge bench
  (`bench_merge.FieldWork`, Chinese text) and syncs them to a fresh copy of the
  station's store: bytes on the wire against the msgpack size of the operations
  themselves, and time per sync (until the station has folded them).

References measured in the same run: `ops_msgpack`, the operations' own msgpack size
(sum of ``len(msgpack.packb([body, sig]))``: the ratio the target is on), and
`ops_file`, the same operations as one `fieldapp ops export` file moved by hand
(file bytes; time to pack it on the officer's device and import it on the station's).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
from bench_common import FAST_KDF, PASSPHRASE, Figures, emit, fake_name, note, scratch_dir
from bench_merge import WORK_BLOCK, FieldWork, ManualWall, fake_intake, fake_text, open_device

from fieldapp.core.service import EXPORT_FORMAT, EXPORT_VERSION, CaseService, init_device
from fieldapp.core.station import adopt_enrolment, create_station, issue_certificate, tls_material
from sync.lan import SyncServer, sync_with
from sync.replica import Entry
from sync.session import Endpoint, SessionReport
from sync.tls import TlsMaterial

HOST = "127.0.0.1"
RESYNC_TARGET_BYTES = 2048
NEW_WORK_TARGET = 1.3
#: How long to wait for the station to report its side of a session, and for the relay to drain.
SETTLE_S = 30.0
#: Prints one figure of this bench: (impl, name, value, unit, **extra).
Report = Callable[..., None]


class CountingProxy:
    """A TCP relay on loopback that counts the payload bytes each way (TLS records, handshake included).

    One connection per proxy: `finished` is set once both directions have hit end of stream.
    IP and TCP headers are not counted.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.up = 0  # client (officer) -> server (station)
        self.down = 0  # server -> client
        self.finished = asyncio.Event()
        self._server: asyncio.Server | None = None

    @property
    def total(self) -> int:
        """Bytes both ways."""
        return self.up + self.down

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._relay, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(HOST, self.target_port)
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer, up=True),
                self._pipe(server_reader, client_writer, up=False),
            )
        finally:
            for writer in (client_writer, server_writer):
                writer.close()
            self.finished.set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: bool) -> None:
        try:
            while data := await reader.read(65536):
                if up:
                    self.up += len(data)
                else:
                    self.down += len(data)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()  # pass the half-close on: TLS sees the close as it would directly
        except (ConnectionError, OSError):
            pass  # one side hung up hard; the counts so far stand


def material(service: CaseService) -> TlsMaterial:
    """A device's TLS identity (the bench only uses enrolled devices)."""
    found = tls_material(service)
    if found is None:
        raise RuntimeError("the bench's devices must be enrolled")
    return found


async def measured_sync(station: CaseService, officer: CaseService) -> dict[str, Any]:
    """One session, the officer connecting to the station through a CountingProxy.

    Timed from the connection attempt until the station has reported its side of the
    session (after it folded what it received); the server and relay are up before.
    """
    served: list[dict[str, Any]] = []
    seen = asyncio.Event()

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind in ("session", "refused"):
            served.append({"kind": kind, **data})
            seen.set()

    server = SyncServer(Endpoint(station.replica), material(station), HOST, on_event=on_event)
    async with server, CountingProxy(server.port) as proxy:
        t0 = time.perf_counter()
        report = await sync_with(HOST, proxy.port, Endpoint(officer.replica), material(officer))
        await asyncio.wait_for(seen.wait(), SETTLE_S)
        seconds = time.perf_counter() - t0
        await asyncio.wait_for(proxy.finished.wait(), SETTLE_S)
    if report.error or served[0]["kind"] != "session" or served[0]["error"]:
        raise RuntimeError(f"the sync failed: officer {report.error!r}, station {served[0]}")
    return {"report": report, "seconds": seconds, "tcp_up": proxy.up, "tcp_down": proxy.down}


def app_bytes(report: SessionReport) -> int:
    """Frame bytes (4-byte headers included) both ways, as the session counted them."""
    return report.bytes_sent + report.bytes_received


def msgpack_size(entries: list[Entry]) -> int:
    """The operations' own size: sum of len(msgpack.packb([body, sig]))."""
    return sum(len(msgpack.packb([body, sig], use_bin_type=True)) for body, sig in entries)


def export_file(station_id: str, entries: list[Entry]) -> bytes:
    """The bytes of a `fieldapp ops export` file holding exactly `entries` (the format of export_ops)."""
    doc = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "station": station_id}
    return msgpack.packb(doc | {"entries": [[b, s] for b, s in entries]}, use_bin_type=True)


def enrolled_pair(args: argparse.Namespace, root: Path, wall: ManualWall, rng: random.Random) -> str:
    """Create the station and an enrolled officer's device; give the officer the shared cases.

    Returns the officer's device id. Both stores are closed at the end, converged.
    """
    init_device(root / "station", PASSPHRASE, fake_name(rng), FAST_KDF, role="supervisor")
    init_device(root / "officer", PASSPHRASE, fake_name(rng), FAST_KDF, role="officer")
    station, officer = open_device(root / "station", wall), open_device(root / "officer", wall)
    try:
        create_station(station, "城关派出所")
        cert, anchor = issue_certificate(station, officer.identity.public_key, officer.officer, "officer")
        adopt_enrolment(officer, cert, anchor)
        me = officer.identity.device_id
        for _ in range(args.shared):
            wall.now += rng.randint(30_000, 300_000)
            case_id = station.new_case(**fake_intake(rng, wall.now))["id"]
            station.update(case_id, assign=me)
            station.add_visit(case_id, "phone", fake_text(rng))
        first = asyncio.run(measured_sync(station, officer))["report"]
        if first.error or station.state_hash() != officer.state_hash():
            raise RuntimeError(f"the first sync did not converge: {first.error}")
        note(f"enrolled; first sync moved {first.received} ops to the officer, {first.sent} to the station")
        return me
    finally:
        station.close()
        officer.close()


def record_work(svc: CaseService, count: int, wall: ManualWall, rng: random.Random) -> None:
    """`count` more operations of field work on the officer's device (ACTION_MIX of the merge bench)."""
    work = FieldWork(svc, random.Random(rng.random()), wall, [svc.identity.device_id])
    work.morning_sync([])  # the shared cases are already there: this only picks them up
    for start in range(0, count, WORK_BLOCK):
        with svc.db.transaction():
            for _ in range(min(WORK_BLOCK, count - start)):
                wall.now += rng.randint(2_000, 60_000)
                work.act()


def file_route(
    station_dir: Path, copy: Path, wall: ManualWall, station_id: str, entries: list[Entry]
) -> float:
    """Seconds to pack the export on the officer's side and import it into a fresh copy of the station."""
    shutil.copytree(station_dir, copy)
    station = open_device(copy, wall)
    try:
        t0 = time.perf_counter()
        report = station.import_ops(export_file(station_id, entries))
        seconds = time.perf_counter() - t0
        if report.applied != len(entries):
            raise RuntimeError(f"the import did not apply every operation: {report}")
        return seconds
    finally:
        station.close()
        shutil.rmtree(copy)


def sync_route(station_dir: Path, copy: Path, wall: ManualWall, officer: CaseService) -> dict[str, Any]:
    """One measured sync of the officer's work into a fresh copy of the station's store."""
    shutil.copytree(station_dir, copy)
    station = open_device(copy, wall)
    try:
        result = asyncio.run(measured_sync(station, officer))
        result["converged"] = station.state_hash() == officer.state_hash()
        return result
    finally:
        station.close()
        shutil.rmtree(copy)


def bench_sync(args: argparse.Namespace) -> None:
    """The `sync` bench (see the module docstring); --quick is a tiny run for the smoke test."""
    if args.quick:
        args.sizes, args.repeats, args.shared = [40], 1, 3
    if args.repeats < 1 or args.shared < 1:
        raise SystemExit("the sync bench needs --repeats >= 1 and --shared >= 1")
    figures: Figures = {}
    started = time.perf_counter()
    rng = random.Random(args.seed)
    wall = ManualWall()

    def report(impl: str, name: str, value: float, unit: str, **extra: Any) -> None:
        emit(figures, impl, name, value, unit, bench="sync", **extra)

    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; sizes {args.sizes}, {args.repeats} repeat(s)")
        enrolled_pair(args, root, wall, rng)
        station_dir = root / "station"
        base = open_device(station_dir, wall)
        base_vector, station_id = base.replica.vector(), base.replica.station
        officer = open_device(root / "officer", wall)
        converged = True
        try:
            runs = []
            for _ in range(args.repeats):
                runs.append(asyncio.run(measured_sync(base, officer)))
                if runs[-1]["report"].sent or runs[-1]["report"].received:
                    raise RuntimeError("the re-sync moved operations: the set-up did not converge")
            full_export = len(officer.export_ops())
        finally:
            base.close()
        try:
            resync(report, runs, full_export, officer)
            recorded = 0
            for n in sorted(args.sizes):
                t0 = time.perf_counter()
                record_work(officer, n - recorded, wall, rng)
                recorded = n
                entries = list(officer.replica.entries_missing_from(base_vector))
                if len(entries) != n:
                    raise RuntimeError(f"expected {n} new operations, found {len(entries)}")
                note(f"{n} operations recorded ({time.perf_counter() - t0:.0f} s)")
                wall.now += 60_000  # the sync comes a minute after the last piece of work
                syncs, files = [], []
                for i in range(args.repeats):  # interleaved, so that noise hits both alike
                    syncs.append(sync_route(station_dir, root / f"sync-{n}-{i}", wall, officer))
                    files.append(file_route(station_dir, root / f"file-{n}-{i}", wall, station_id, entries))
                    note(
                        f"{n} ops, repeat {i + 1}: sync {syncs[-1]['seconds']:.2f} s, file {files[-1]:.2f} s"
                    )
                converged = converged and all(s["converged"] for s in syncs)
                new_work(report, n, entries, station_id, syncs, files)
        finally:
            officer.close()
    report(
        "fieldapp",
        "converged",
        int(converged),
        "bool",
        what="station state hash == officer's after every sync",
    )
    note(f"done in {time.perf_counter() - started:.0f} s, {len(figures)} figures")
    if not converged:
        raise SystemExit("a sync did not converge (see the 'converged' figure)")


def resync(report: Report, runs: list[dict[str, Any]], full_export: int, officer: CaseService) -> None:
    """Figures of the re-sync with nothing new."""
    held = sum(officer.replica.vector().values())
    common = {"samples": len(runs), "ops_held": held}
    report(
        "ops_file",
        "resync_bytes",
        full_export,
        "B",
        what=f"`fieldapp ops export` of all the officer holds ({held} ops): a file carries it all every time",
    )
    app = statistics.median(app_bytes(r["report"]) for r in runs)
    tcp = statistics.median(r["tcp_up"] + r["tcp_down"] for r in runs)
    report(
        "fieldapp",
        "resync_bytes",
        app,
        "B",
        what="session frames both ways, 4-byte headers included (SessionReport.bytes_sent + bytes_received)",
        target=f"< {RESYNC_TARGET_BYTES} B",
        met=app < RESYNC_TARGET_BYTES,
        **common,
    )
    report(
        "fieldapp",
        "resync_tcp_bytes",
        tcp,
        "B",
        compare_as="resync_bytes",
        what="TCP payload both ways through a relay: TLS 1.3 handshake, records, alerts (no IP/TCP headers)",
        up=runs[-1]["tcp_up"],
        down=runs[-1]["tcp_down"],
        target=f"< {RESYNC_TARGET_BYTES} B",
        met=tcp < RESYNC_TARGET_BYTES,
        **common,
    )
    report("fieldapp", "resync_s", statistics.median(r["seconds"] for r in runs), "s", **common)


def new_work(
    report: Report,
    n: int,
    entries: list[Entry],
    station_id: str,
    syncs: list[dict[str, Any]],
    files: list[float],
) -> None:
    """Figures of syncing `n` new operations, references first (fieldapp figures carry ratios to them)."""
    own = msgpack_size(entries)
    name = f"new_work_bytes_{n}"
    report("ops_msgpack", name, own, "B", ops=n, what="sum of len(msgpack.packb([body, sig])) of the new ops")
    report(
        "ops_file", name, len(export_file(station_id, entries)), "B", ops=n, what="`ops export` file of them"
    )
    common = {"ops": n, "samples": len(syncs)}
    app = statistics.median(app_bytes(s["report"]) for s in syncs)
    tcp = statistics.median(s["tcp_up"] + s["tcp_down"] for s in syncs)
    target = f"<= {NEW_WORK_TARGET}x ops_msgpack"
    last = syncs[-1]["report"]
    report(
        "fieldapp",
        name,
        app,
        "B",
        what="session frames both ways (SessionReport.bytes_sent + bytes_received)",
        sent=last.bytes_sent,
        received=last.bytes_received,
        target=target,
        met=app <= NEW_WORK_TARGET * own,
        **common,
    )
    report(
        "fieldapp",
        f"new_work_tcp_bytes_{n}",
        tcp,
        "B",
        compare_as=name,
        what="TCP payload both ways through a relay, TLS handshake included",
        up=syncs[-1]["tcp_up"],
        down=syncs[-1]["tcp_down"],
        target=target,
        met=tcp <= NEW_WORK_TARGET * own,
        **common,
    )
    sync_s, file_s = statistics.median(s["seconds"] for s in syncs), statistics.median(files)
    file_what = "pack the export on the officer's device + `ops import` on a fresh station copy (no file I/O)"
    report("ops_file", f"sync_s_{n}", file_s, "s", what=file_what, **common)
    report(
        "fieldapp",
        f"sync_s_{n}",
        sync_s,
        "s",
        what="connect, TLS, session, durable apply and fold on a fresh station copy; one process, loopback",
        **common,
    )
    report("ops_file", f"ops_per_s_{n}", n / file_s, "ops/s", **common)
    report("fieldapp", f"ops_per_s_{n}", n / sync_s, "ops/s", **common)
