"""Crash safety with real processes: SIGKILL at random moments never loses an acknowledged save."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import FAST_KDF, PASSPHRASE
from storage import FieldDB
from tests.store_crash_child import value_for

CHILD = Path(__file__).with_name("store_crash_child.py")
ROOT = CHILD.parent.parent


def run_child_until_killed(store_dir: Path, first: int, rng: random.Random) -> list[int]:
    """Start the child, collect its acks, SIGKILL it at a random moment; return the acks."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(store_dir), PASSPHRASE, str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    acks: list[int] = []
    buffer = b""
    deadline: float | None = None
    hard_deadline = time.monotonic() + 30
    try:
        while time.monotonic() < hard_deadline:
            if deadline is not None and time.monotonic() >= deadline:
                break
            ready, _, _ = select.select([child.stdout], [], [], 0.01)
            if ready:
                chunk = os.read(child.stdout.fileno(), 65536)
                if not chunk:
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                acks.extend(int(line) for line in lines)
                if deadline is None and acks:
                    deadline = time.monotonic() + rng.uniform(0.0, 0.4)
        else:
            pytest.fail("the child did not start saving within 30 s")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    # Acks already in the pipe were acknowledged before the kill; read them too.
    rest = buffer + child.stdout.read()
    acks.extend(int(line) for line in rest.split(b"\n") if line.strip())
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode() if child.stderr else ""
    return acks


@pytest.mark.timeout(400)
def test_sigkill_never_loses_an_acknowledged_save(store_dir: Path) -> None:
    FieldDB.create(store_dir, PASSPHRASE, FAST_KDF).close()
    rng = random.Random(20261123)
    acknowledged: set[int] = set()
    last_tx = -1
    next_n = 1
    generations = set()
    for _ in range(30):
        acks = run_child_until_killed(store_dir, next_n, rng)
        acknowledged.update(acks)
        last_tx = max([last_tx] + [n for n in acks if n % 4 == 0])
        db = FieldDB.open(store_dir, PASSPHRASE)
        try:
            stored = {doc["n"]: doc["v"] for doc in db.table("cases").all()}
            missing = acknowledged - stored.keys()
            assert not missing, f"acknowledged saves lost: {sorted(missing)[:10]}"
            for n, v in stored.items():
                assert v == value_for(n), f"record {n} holds wrong content"
            counter = db.table("counter").all()
            if last_tx > 0:
                assert counter and counter[0]["n"] >= last_tx
            generations.add(db.store.generation)
            next_n = max(stored, default=0) + 1
        finally:
            db.close()
    assert len(acknowledged) > 300, "the child saved too little for the test to mean anything"
    assert len(generations) > 3, "kills should have spanned several compactions"
