"""`fieldapp serve` and `fieldapp sync` as real processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp.core.service import init_device
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import station_devices

pytestmark = pytest.mark.timeout(120)


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FIELDAPP_PASSPHRASE": PASSPHRASE}
    result = subprocess.run(
        [sys.executable, "-m", "fieldapp", *argv], capture_output=True, text=True, env=env, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_serve_and_sync_report_per_peer_and_converge(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (authority, officer):
        officer.new_case("东岭村", "land", "red", "田界纠纷，双方争执")
        sup, off = authority.db.store.directory, officer.db.store.directory
    env = {**os.environ, "FIELDAPP_PASSPHRASE": PASSPHRASE}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fieldapp",
            "serve",
            "--store",
            str(sup),
            "--interface",
            "127.0.0.1",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        listening = json.loads(server.stdout.readline())
        assert listening["event"] == "listening"
        peer = f"127.0.0.1:{listening['port']}"
        first = json.loads(run("sync", "--store", str(off), "--peer", peer, "--json").stdout)
        (report,) = first["peers"]
        assert report["error"] is None and report["sent"] >= 2 and report["received"] >= 1
        session = json.loads(server.stdout.readline())
        assert session["event"] == "session" and session["received"] == report["sent"]
        again = run("sync", "--store", str(off), "--peer", peer)
        assert "sent 0, received 0" in again.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert run("state-hash", "--store", str(sup)).stdout == run("state-hash", "--store", str(off)).stdout


def test_sync_errors_name_the_problem_and_what_to_do(tmp_path: Path) -> None:
    init_device(tmp_path / "loose", PASSPHRASE, "未入站辅警", FAST_KDF)
    loose = run("sync", "--store", str(tmp_path / "loose"), "--peer", "127.0.0.1:9", check=False)
    assert loose.returncode == 1 and "not enrolled at a station" in loose.stderr
    with station_devices(tmp_path / "st", 1) as (_, officer):
        off = officer.db.store.directory
    nobody = run("sync", "--store", str(off), "--peer", "127.0.0.1:9", "--json", check=False)
    assert nobody.returncode == 1
    assert "nothing is listening at 127.0.0.1:9" in json.loads(nobody.stdout)["peers"][0]["error"]
    where = run("sync", "--store", str(off), check=False)
    assert where.returncode == 1 and "--interface" in where.stderr and "--peer" in where.stderr
    bad = run("sync", "--store", str(off), "--peer", "nowhere", check=False)
    assert bad.returncode == 1 and "HOST:PORT" in bad.stderr
