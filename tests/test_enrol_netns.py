"""`fieldapp enrol open|join` as real processes in separate network namespaces.

The supervisor's device and the new devices each run in their own namespace on a
private bridge (harness/netns.py); the joiner finds the supervisor with real
zeroconf (no --peer) bound to its namespace address. Failures (wrong, reused and
expired codes, a relay in a third namespace running SPAKE2 with a guessed code)
must end with a clear message and enrol nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp.core import station
from fieldapp.core.device import LOCAL_STATION
from fieldapp.core.service import CaseService, init_device
from harness import FAST_KDF, PASSPHRASE
from harness.netns import (
    ROOT,
    Namespace,
    Running,
    fieldapp_env,
    fieldapp_in,
    namespaces,
    skip_unless_available,
)
from tests.enrol_helpers import wrong_words

PROCESS_TIMEOUT = 60
pytestmark = pytest.mark.slow

RELAY = """
import asyncio, json, sys
from tests.enrol_helpers import substituting_relay

async def main(listen, station, port, guess):
    done = asyncio.Event()

    async def accept(reader, writer):
        try:
            await substituting_relay((reader, writer), (station, port), guess, "forward", [])
        finally:
            done.set()

    server = await asyncio.start_server(accept, listen, 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.wait_for(done.wait(), 30)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


@pytest.fixture
def net() -> Iterator[list[Namespace]]:
    """Three namespaces: the supervisor's (10.231.0.1), a new device's (.2), an attacker's (.3)."""
    skip_unless_available()
    with namespaces(3) as spaces:
        yield spaces


def make_station(tmp_path: Path) -> tuple[Path, str]:
    """A supervisor's store that is the station authority; returns it and the station id."""
    store = tmp_path / "sup"
    init_device(store, PASSPHRASE, "Supervisor Li", FAST_KDF)
    service = CaseService.open(store, PASSPHRASE)
    try:
        return store, station.create_station(service, "Chengguan").station_id
    finally:
        service.close()


def make_device(tmp_path: Path, name: str) -> tuple[Path, str]:
    """A fresh device's store and id."""
    return tmp_path / name, init_device(tmp_path / name, PASSPHRASE, f"Officer {name}", FAST_KDF).device_id


def membership(store: Path) -> tuple[str, str]:
    """(station id, role) recorded in a device's store."""
    service = CaseService.open(store, PASSPHRASE)
    try:
        return service.replica.station, service.device_role
    finally:
        service.close()


def enrol_open(ns: Namespace, store: Path, *options: str) -> Running:
    """`fieldapp enrol open --json` in `ns`, listening and advertising on its address."""
    return Running(
        fieldapp_in(ns, "enrol", "open", "--store", store, "--json", "--interface", ns.address, *options)
    )


def start_relay(attacker: Namespace, station_ns: Namespace, port: int, guess: str) -> Running:
    """A man in the middle in `attacker`'s namespace, relaying to the station with a guessed code."""
    return Running(
        attacker.command(
            [sys.executable, "-c", RELAY, attacker.address, station_ns.address, str(port), guess]
        )
    )


def issued(store: Path) -> set[str]:
    """Device ids the station authority in `store` has certified."""
    service = CaseService.open(store, PASSPHRASE)
    try:
        return set(service.db.keyed(station.ISSUED_TABLE).raw())
    finally:
        service.close()


def join(ns: Namespace, store: Path, code: str, *where: str) -> subprocess.CompletedProcess[str]:
    """`fieldapp enrol join` in `ns`; by discovery unless `where` gives --peer."""
    argv = fieldapp_in(ns, "enrol", "join", "--code", code, "--store", store, "--json", "--timeout", "20")
    argv += list(where) or ["--interface", ns.address]
    return subprocess.run(
        argv, cwd=ROOT, env=fieldapp_env(), capture_output=True, text=True, timeout=PROCESS_TIMEOUT
    )


def refused(result: subprocess.CompletedProcess[str], message: str) -> None:
    """The command failed with exit code 1 and a JSON error naming `message`."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["error"] == "enrol_error" and message in error["message"], error


@pytest.mark.timeout(120)
def test_enrol_across_namespaces_found_by_zeroconf(net: list[Namespace], tmp_path: Path) -> None:
    sup_ns, new_ns, _ = net
    sup_store, station_id = make_station(tmp_path)
    new_store, new_id = make_device(tmp_path, "wang")
    started = time.monotonic()
    server = enrol_open(sup_ns, sup_store, "--role", "supervisor", "--timeout", "60")
    try:
        offer = server.json_line()
        assert set(offer) == {"code", "port", "nameplate"} and offer["code"].startswith(
            f"{offer['nameplate']}-"
        )
        result = join(new_ns, new_store, offer["code"])
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"device_id": new_id, "role": "supervisor", "station": station_id}
        assert server.json_line() == {"enrolled": new_id, "officer": "Officer wang", "role": "supervisor"}
        assert server.finish() == 0, server.stderr
    finally:
        server.stop()
    assert membership(new_store) == (station_id, "supervisor")
    assert issued(sup_store) == {new_id}
    assert time.monotonic() - started < 60


@pytest.mark.timeout(180)
def test_wrong_relayed_and_reused_codes_enrol_nothing(net: list[Namespace], tmp_path: Path) -> None:
    sup_ns, new_ns, attacker_ns = net
    sup_store, station_id = make_station(tmp_path)
    first_store, first_id = make_device(tmp_path, "wang")
    second_store, second_id = make_device(tmp_path, "zhao")
    server = enrol_open(
        sup_ns, sup_store, "--count", "2", "--officer", "Officer Wang Wei", "--timeout", "120"
    )
    try:
        offer = server.json_line()
        code, station_at = offer["code"], f"{sup_ns.address}:{offer['port']}"

        refused(join(new_ns, first_store, wrong_words(code)), "wrong code")
        assert membership(first_store) == (LOCAL_STATION, "officer")

        relay = start_relay(attacker_ns, sup_ns, offer["port"], wrong_words(code))
        try:
            relay_at = f"{attacker_ns.address}:{relay.json_line()['port']}"
            refused(join(new_ns, first_store, code, "--peer", relay_at), "wrong code")
            assert relay.finish(30) == 0, relay.stderr
        finally:
            relay.stop()
        assert membership(first_store) == (LOCAL_STATION, "officer")

        result = join(new_ns, first_store, code)  # the third and last attempt on this code
        assert result.returncode == 0, result.stderr
        assert server.json_line() == {"enrolled": first_id, "officer": "Officer Wang Wei", "role": "officer"}

        refused(join(new_ns, second_store, code, "--peer", station_at), "this code was already used")
        assert membership(second_store) == (LOCAL_STATION, "officer")
        next_offer = server.json_line()
        assert next_offer["code"] != code
        result = join(new_ns, second_store, next_offer["code"])
        assert result.returncode == 0, result.stderr
        assert server.json_line()["enrolled"] == second_id
        assert server.finish() == 0, server.stderr
    finally:
        server.stop()
    assert membership(first_store) == (station_id, "officer")
    assert membership(second_store) == (station_id, "officer")
    assert issued(sup_store) == {first_id, second_id}


@pytest.mark.timeout(120)
def test_expired_code_enrols_nothing(net: list[Namespace], tmp_path: Path) -> None:
    sup_ns, new_ns, _ = net
    sup_store, _ = make_station(tmp_path)
    new_store, _ = make_device(tmp_path, "wang")
    server = enrol_open(sup_ns, sup_store, "--code-ttl", "1", "--timeout", "6")
    try:
        offer = server.json_line()
        # Wait for the server to report the code expired (its own timer), not for wall-clock time.
        while "expired" not in [json.loads(line).get("warning") for line in server.stderr if line[:1] == "{"]:
            assert server.proc.poll() is None, "".join(server.stderr)
            time.sleep(0.05)
        station_at = f"{sup_ns.address}:{offer['port']}"
        refused(join(new_ns, new_store, offer["code"], "--peer", station_at), "this code has expired")
        assert server.finish(30) == 1
    finally:
        server.stop()
    assert "no device enrolled within 6 s" in "".join(server.stderr)
    assert membership(new_store) == (LOCAL_STATION, "officer")
    assert issued(sup_store) == set()
