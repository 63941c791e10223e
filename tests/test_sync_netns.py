"""`fieldapp serve` and `fieldapp sync` as real processes in network namespaces.

Every device runs in its own namespace on a private bridge (harness/netns.py), finds
the station's computer with real zeroconf (or is given --peer) and syncs over
TLS 1.3: a station with several officers converging in two concurrent rounds,
gossip through a device in the middle, connections cut mid-transfer (SIGKILL of
either side, a link taken down) that lose and duplicate nothing, and devices of
another station or revoked ones refused at the handshake; and a small run of
scripts/simulate_lan.py. The stores are prepared in-process (harness/replicas.py,
harness/shifts.py) and closed before any process opens them. Random choices (the work
recorded, when a cut comes) come from a seed printed with a failure;
FIELDAPP_TEST_SEED=N replays it.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import pytest

from fieldapp.core.service import CaseService
from fieldapp.core.station import revoke_device
from harness import PASSPHRASE
from harness.netns import (
    Namespace,
    Running,
    fieldapp_in,
    link_bytes,
    namespaces,
    set_link,
    skip_unless_available,
    throttle,
)
from harness.replicas import exchange, station_devices
from harness.shifts import INTAKES, VILLAGES, VISITS, record_shift
from sync.ops import chain_key, decode
from sync.session import BATCH_ENTRIES

pytestmark = pytest.mark.slow
OFFICERS = 4
#: What a slow station Wi-Fi carries per second: makes a transfer last long enough to be cut.
SLOW_LINK = "2mbit"


@pytest.fixture
def seed() -> int:
    """A fresh seed per run (or $FIELDAPP_TEST_SEED, to replay one named in a failure message)."""
    given = os.environ.get("FIELDAPP_TEST_SEED")
    value = int(given) if given else random.SystemRandom().randrange(2**32)
    print(f"FIELDAPP_TEST_SEED={value}")  # pytest shows it with a failure
    return value


def store_of(service: CaseService) -> Path:
    return Path(service.db.store.directory)


def own_chain(service: CaseService) -> str:
    return chain_key(service.identity.device_id, service.identity.epoch)


@dataclass
class Done:
    """A finished command: exit code, stdout lines, stderr."""

    code: int
    lines: list[str]
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        """The first stdout line as JSON (what `--json` prints)."""
        assert self.lines, f"no output (exit {self.code}): {self.stderr}"
        return json.loads(self.lines[0])

    @property
    def clean(self) -> bool:
        """Exit code 0 and no traceback."""
        return self.code == 0 and "Traceback" not in self.stderr


def run_all(argvs: list[list[str]], timeout: float = 60) -> list[Done]:
    """Run the commands at once and wait for all."""
    running = [Running(argv) for argv in argvs]
    try:
        codes = [r.finish(timeout) for r in running]
        return [Done(code, r.rest(), "".join(r.stderr)) for code, r in zip(codes, running, strict=True)]
    finally:
        for r in running:
            r.stop()


def state_hashes(stores: list[Path]) -> list[str]:
    """`fieldapp state-hash` of each store (no network: run here, all at once)."""
    done = run_all([fieldapp_in(None, "state-hash", "--store", store) for store in stores])
    assert all(d.clean for d in done), done
    return [d.lines[0].strip() for d in done]


def case_ids(stores: list[Path]) -> list[set[str]]:
    """Ids of the cases `fieldapp case list` shows on each store."""
    done = run_all([fieldapp_in(None, "case", "list", "--store", store, "--json") for store in stores])
    assert all(d.clean for d in done), done
    return [{case["id"] for case in json.loads(d.lines[0])} for d in done]


def serve(ns: Namespace, store: Path, *options: str) -> tuple[Running, int]:
    """`fieldapp serve --json` in `ns`; returns it once listening, with its port."""
    server = Running(fieldapp_in(ns, "serve", "--store", store, "--json", *options))
    listening = server.json_line()
    assert listening["event"] == "listening", listening
    return server, int(listening["port"])


def stop_serving(server: Running, expected: int = 0) -> list[dict[str, Any]]:
    """The `expected` events the server prints as sessions end, then SIGTERM: it must stop cleanly.

    Waiting for the events first matters: a session still folding what it received when
    SIGTERM comes is cut short and reports nothing (what it received is kept).
    """
    events = [server.json_line() for _ in range(expected)]
    code = server.terminate()
    stderr = "".join(server.stderr)
    assert code == 0 and "Traceback" not in stderr, stderr
    return events + server.json_rest()


@pytest.fixture
def net() -> Iterator[list[Namespace]]:
    """One namespace for the station's computer and one per officer's device."""
    skip_unless_available()
    with namespaces(OFFICERS + 1) as spaces:
        yield spaces


# ---------------------------------------------------------------- a station's shift-end meeting


@pytest.mark.timeout(150)
def test_station_and_officers_converge_over_zeroconf_in_two_concurrent_rounds(
    net: list[Namespace], tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    made: dict[str, int] = {}  # device id -> operations it made (its announcement included)
    with station_devices(tmp_path, OFFICERS, name="柳河派出所") as services:
        opened: set[str] = set()
        for service in services:
            opened.update(record_shift(service, rng, rng.randint(12, 30)))
            made[service.identity.device_id] = service.replica.vector()[own_chain(service)]
        stores = [store_of(s) for s in services]
        ids = [s.identity.device_id for s in services]
    total = sum(made.values())
    station_ns, officer_ns = net[0], net[1:]

    server, _ = serve(station_ns, stores[0], "--interface", station_ns.address)
    rounds: list[list[dict[str, Any]]] = []
    try:
        for _ in range(2):
            results = run_all(
                [
                    fieldapp_in(ns, "sync", "--store", store, "--interface", ns.address, "--json")
                    for ns, store in zip(officer_ns, stores[1:], strict=True)
                ]
            )
            assert all(d.clean for d in results), (seed, results)
            rounds.append([d.json for d in results])
        events = stop_serving(server, 2 * OFFICERS)
    finally:
        server.stop()

    for n, (first, second) in enumerate(zip(*rounds, strict=True)):
        officer = ids[n + 1]
        # Each found the station's computer by zeroconf, and only it (no other device serves).
        assert [p["peer"] for p in first["peers"]] == [ids[0]] == [p["peer"] for p in second["peers"]]
        (one,), (two,) = first["peers"], second["peers"]
        assert one["error"] is None and two["error"] is None, (one, two)
        assert one["sent"] == made[officer] and two["sent"] == 0  # all of its own work, once
        assert one["refused"] == two["refused"] == 0 and one["forks"] == two["forks"] == 0
        # Whatever the first round did not bring (devices that synced later), the second did.
        assert one["applied"] + two["applied"] == total - made[officer], (seed, one, two)
        assert one["duplicates"] == two["duplicates"] == 0
    sessions = [e for e in events if e["event"] == "session"]
    assert len(sessions) == 2 * OFFICERS and all(e["error"] is None for e in sessions), events
    assert not [e for e in events if e["event"] == "refused"], events

    hashes = state_hashes(stores)
    assert len(set(hashes)) == 1, (seed, hashes)
    assert {r["state_hash"] for r in rounds[1]} == set(hashes)
    assert all(held == opened for held in case_ids(stores)), seed


# ---------------------------------------------------------------- gossip


@pytest.mark.timeout(120)
def test_gossip_a_meets_b_b_meets_c_so_c_holds_a_s_signed_work(
    net: list[Namespace], tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    with station_devices(tmp_path, 3) as (_, a, b, c):
        a_cases = set(record_shift(a, rng, 15))
        record_shift(b, rng, 10)
        c_cases = set(record_shift(c, rng, 10))
        a_id, b_id, c_id = a.identity.device_id, b.identity.device_id, c.identity.device_id
        a_entries = {e for e in a.replica.entries_missing_from({}) if decode(*e).author == a_id}
        a_store, b_store, c_store = store_of(a), store_of(b), store_of(c)
    a_ns, b_ns, c_ns = net[:3]

    met: dict[str, list[dict[str, Any]]] = {}
    for name, ns, store in (("a", a_ns, a_store), ("c", c_ns, c_store)):
        server, port = serve(ns, store)  # not advertised: B is told where with --peer
        try:
            (done,) = run_all(
                [fieldapp_in(b_ns, "sync", "--store", b_store, "--peer", f"{ns.address}:{port}", "--json")]
            )
            assert done.clean and done.json["peers"][0]["error"] is None, done
            met[name] = [e for e in stop_serving(server, 1) if e["event"] == "session"]
        finally:
            server.stop()
    assert [e["peer"] for e in met["a"]] == [b_id] and [e["peer"] for e in met["c"]] == [b_id]

    export = c_store.parent / "c-ops.bin"
    (done,) = run_all(
        [fieldapp_in(None, "ops", "export", "--store", c_store, "--out", export, "--plaintext")]
    )
    assert done.clean, done
    held = [tuple(e) for e in msgpack.unpackb(export.read_bytes())["entries"]]
    from_a = [decode(body, sig) for body, sig in held if decode(body, sig).author == a_id]
    # C holds every one of A's operations, byte for byte as A signed them, in an unbroken chain;
    # of the signatures, only A's own, where C checked one (always at the head; docs/replication.md).
    assert {op.body for op in from_a} == {body for body, _ in a_entries}
    signatures = dict(a_entries)
    assert all(op.sig in (b"", signatures[op.body]) for op in from_a)
    assert max(from_a, key=lambda op: op.seq).sig == signatures[max(from_a, key=lambda op: op.seq).body]
    assert sorted(op.seq for op in from_a) == list(range(1, len(a_entries) + 1))
    assert {decode(body, sig).author for body, sig in held} >= {a_id, b_id, c_id}
    a_ids, b_ids, c_ids = case_ids([a_store, b_store, c_store])
    assert a_cases <= c_ids and c_cases <= c_ids and b_ids == c_ids
    assert not c_cases & a_ids
    hash_a, hash_b, hash_c = state_hashes([a_store, b_store, c_store])
    assert hash_b == hash_c and hash_a != hash_c  # A never met C, so it lacks C's work


# ---------------------------------------------------------------- cuts mid-transfer


def bulk_work(service: CaseService, cases: int, tag: str) -> None:
    """Three operations per case (intake, visit, note), saved as one transaction: fast to make."""
    with service.db.transaction():
        for n in range(cases):
            category, summary = INTAKES[n % len(INTAKES)]
            case = service.new_case(VILLAGES[n % len(VILLAGES)], category, "yellow", f"{summary}（{tag}{n}）")
            kind, note = VISITS[n % len(VISITS)]
            service.add_visit(case["id"], kind, note)
            service.update(case["id"], note=f"{tag}第{n}号：已登记")


def holdings(store: Path) -> tuple[dict[str, int], int]:
    """(version vector, operations stored) of a store: it must open after any cut."""
    service = CaseService.open(store, PASSPHRASE)
    try:
        return service.replica.vector(), len(service.replica.ops.raw())
    finally:
        service.close()


def wait_for_bytes(ns: Namespace, target: int, sync: Running, timeout: float = 30) -> None:
    """Return once `ns` has sent `target` bytes in all (or the sync process ended)."""
    deadline = time.monotonic() + timeout
    while link_bytes(ns)[1] < target:
        if sync.proc.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(0.01)


@pytest.mark.timeout(150)
def test_cuts_mid_transfer_lose_nothing_duplicate_nothing_and_the_sync_resumes(
    tmp_path: Path, seed: int
) -> None:
    skip_unless_available()
    rng = random.Random(seed)
    with station_devices(tmp_path, 1) as (authority, officer):
        bulk_work(officer, 540, "东")  # 1,620 operations
        bulk_work(authority, 100, "所")  # and 300 the officer lacks: both directions move
        officer_chain, station_chain = own_chain(officer), own_chain(authority)
        made = {**officer.replica.vector(), **authority.replica.vector()}
        per_op = len(officer.export_ops()) / made[officer_chain]
        station, device = store_of(authority), store_of(officer)
    total = made[officer_chain]
    assert total > 1500

    cuts = ["kill-sync", "link-down", "kill-serve", "kill-sync", "kill-sync"]
    held_after: list[int] = []
    with namespaces(2) as (station_ns, officer_ns):
        for ns in (station_ns, officer_ns):
            reason = throttle(ns, SLOW_LINK)
            if reason:
                pytest.skip(reason)
        held = 0
        for cut in cuts:
            server, port = serve(station_ns, station)
            sync = None
            try:
                start = link_bytes(officer_ns)[1]
                # Of what is left to send: from 0.2 (the first cut comes after the first acked
                # batch) to 0.4 (even the fifth leaves 0.6**5 * 1,621 > 120 operations in flight).
                share = rng.uniform(0.2, 0.4)
                sync = Running(
                    fieldapp_in(officer_ns, "sync", "--store", device, "--json", "--timeout", "3")
                    + ["--peer", f"{station_ns.address}:{port}"]
                )
                wait_for_bytes(officer_ns, start + int(share * (total - held) * per_op), sync)
                assert sync.proc.poll() is None, f"seed {seed}: the transfer ended before the {cut}"
                if cut == "kill-sync":
                    sync.stop()  # SIGKILL
                elif cut == "kill-serve":
                    server.stop()
                    assert sync.finish(30) == 1
                else:
                    set_link(officer_ns, False)
                    try:
                        assert sync.finish(30) == 1  # gives up after --timeout, with a reason
                    finally:
                        set_link(officer_ns, True)
                if cut != "kill-sync":
                    (report,) = json.loads(sync.rest()[0])["peers"]
                    assert report["error"], report
                    assert "Traceback" not in "".join(sync.stderr)
                if cut != "kill-serve":
                    stop_serving(server)
            finally:
                server.stop()
                if sync is not None:
                    sync.stop()
            station_vector, station_ops = holdings(station)
            device_vector, device_ops = holdings(device)
            # Both stores open; each holds whole prefixes of the logs, and all of its own work.
            assert station_ops == sum(station_vector.values()) and device_ops == sum(device_vector.values())
            assert station_vector[station_chain] == made[station_chain]
            assert device_vector[officer_chain] == total
            assert held <= station_vector.get(officer_chain, 0) <= total, (seed, cut)
            held = station_vector.get(officer_chain, 0)
            held_after.append(held)
        # The first cut came after the first acknowledged batch and before the end.
        assert BATCH_ENTRIES <= held_after[0] < total, (seed, held_after)

        server, port = serve(station_ns, station)
        try:
            (done,) = run_all(
                [
                    fieldapp_in(officer_ns, "sync", "--store", device, "--json")
                    + ["--peer", f"{station_ns.address}:{port}"]
                ]
            )
            stop_serving(server, 1)
        finally:
            server.stop()
    assert done.clean, done
    (report,) = done.json["peers"]
    assert report["error"] is None and report["refused"] == 0 and report["forks"] == 0
    assert report["sent"] == total - held, (seed, held_after, report)  # resumed where it stopped
    station_vector, station_ops = holdings(station)
    device_vector, device_ops = holdings(device)
    assert station_vector == device_vector == made, seed
    assert station_ops == device_ops == sum(made.values()), seed
    hash_station, hash_device = state_hashes([station, device])
    assert hash_station == hash_device == done.json["state_hash"]


# ---------------------------------------------------------------- refused at the handshake


@pytest.mark.timeout(120)
def test_another_station_s_device_and_a_revoked_device_are_refused_by_serve(
    net: list[Namespace], tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    with station_devices(tmp_path / "ours", 2) as (authority, kept, lost):
        record_shift(lost, rng, 8)
        exchange(authority, lost)  # its work reached the station before it was lost
        record_shift(kept, rng, 5)
        exchange(authority, kept)
        revoke_device(authority, lost.identity.device_id, "设备在巡逻途中遗失")
        record_shift(lost, rng, 6)  # made on the lost device afterwards
        station, lost_store = store_of(authority), store_of(lost)
        lost_id, before = lost.identity.device_id, authority.replica.vector()
    with station_devices(tmp_path / "theirs", 1, name="石门派出所") as (_, stranger):
        record_shift(stranger, rng, 6)
        stranger_store = store_of(stranger)
    (hash_before,) = state_hashes([station])
    station_ns, stranger_ns, lost_ns = net[:3]

    server, port = serve(station_ns, station, "--interface", station_ns.address)
    try:
        at = f"{station_ns.address}:{port}"
        foreign, revoked = run_all(
            [
                fieldapp_in(stranger_ns, "sync", "--store", stranger_store, "--peer", at, "--json"),
                # The revoked device still finds the station by zeroconf, and is turned away.
                fieldapp_in(lost_ns, "sync", "--store", lost_store, "--interface", lost_ns.address, "--json"),
            ]
        )
        # Zeroconf does not even offer the stranger this station's computer: another station's tag.
        (unseen,) = run_all(
            [
                fieldapp_in(stranger_ns, "sync", "--store", stranger_store, "--json", "--wait", "2")
                + ["--interface", stranger_ns.address]
            ]
        )
        events = stop_serving(server, 2)
    finally:
        server.stop()

    (report,) = foreign.json["peers"]
    assert foreign.code == 1 and "not issued by this station" in report["error"], foreign
    assert report["sent"] == report["received"] == 0

    assert unseen.code == 1 and not unseen.lines, unseen
    assert "No device of this station answered" in json.loads(unseen.stderr)["message"], unseen

    (report,) = revoked.json["peers"]
    assert revoked.code == 1 and "revoked" in report["error"] and "Traceback" not in revoked.stderr, revoked
    assert report["sent"] == report["received"] == 0

    refused = [e for e in events if e["event"] == "refused"]
    sessions = [e for e in events if e["event"] == "session"]
    assert len(refused) == 1 and refused[0]["address"].startswith(stranger_ns.address), events
    # Its client already rejects this station's certificate, so the server mostly sees it hang up.
    assert refused[0]["reason"] and "Traceback" not in refused[0]["reason"]
    assert len(sessions) == 1 and sessions[0]["peer"] == lost_id, events
    assert "revoked" in sessions[0]["error"] and sessions[0]["received"] == 0

    assert state_hashes([station]) == [hash_before]
    assert holdings(station)[0] == before


# ---------------------------------------------------------------- the simulation script


@pytest.mark.timeout(120)
def test_simulate_lan_prints_figures_and_converges(tmp_path: Path) -> None:
    skip_unless_available()
    script = Path(__file__).resolve().parent.parent / "scripts" / "simulate_lan.py"
    argv = [sys.executable, str(script), "--devices", "3", "--ops-min", "5", "--ops-max", "8"]
    done = run_all([argv + ["--workdir", str(tmp_path)]], timeout=100)[0]
    assert done.code == 0, done
    figures = {f["name"]: f for f in map(json.loads, done.lines)}
    assert all(f["bench"] == "simulate" and f["devices"] == 3 for f in figures.values())
    assert figures["state_hashes_match"]["value"] == 1 and figures["sync_failures"]["value"] == 0
    # Every operation reached every device but its author's, and not much more than that moved.
    moved, needed = figures["bytes_moved"]["value"], figures["ops_msgpack_bytes_needed"]["value"]
    assert needed <= moved <= 2 * needed
    assert figures["convergence_time"]["unit"] == "s" and figures["convergence_time"]["value"] > 0
    assert not list(tmp_path.iterdir())  # its stores are gone
