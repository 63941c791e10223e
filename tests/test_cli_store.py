"""The command line: init, check, passphrase change and errors, as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp.core.service import CaseService
from fieldapp.core.station import authority, device_rows
from fieldapp.domain.review import review_queue
from harness import file_digests

ROOT = Path(__file__).resolve().parent.parent


def fieldapp(*args: str, passphrase: str | None = "station pass 1", stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "FIELDAPP_PASSPHRASE"}
    if passphrase is not None:
        env["FIELDAPP_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "fieldapp", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.timeout(120)
def test_init_prints_the_device_id_and_check_verifies(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = fieldapp("init", "--officer", "测试辅警 甲", "--store", str(store), "--json")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert len(created["device_id"]) == 16
    check = fieldapp("store", "check", "--store", str(store), "--json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert report["device_id"] == created["device_id"]
    assert report["tables"]["device"] == 1
    assert report["tables"]["ops"] == 1  # the device's announcement starts its log

    again = fieldapp("init", "--officer", "x", "--store", str(store))
    assert again.returncode == 1 and "already exists" in again.stderr


@pytest.mark.timeout(120)
def test_passphrase_from_file_and_wrong_passphrase(tmp_path: Path) -> None:
    store = tmp_path / "store"
    secret = tmp_path / "pass.txt"
    secret.write_text("from a file 123\n", encoding="utf-8")
    result = fieldapp(
        "init", "--officer", "乙", "--store", str(store), "--passphrase-file", str(secret), passphrase=None
    )
    assert result.returncode == 0, result.stderr
    before = file_digests(store)
    wrong = fieldapp(
        "store",
        "check",
        "--store",
        str(store),
        passphrase="not it at all",
    )
    assert wrong.returncode == 1
    assert "Wrong passphrase" in wrong.stderr and wrong.stdout == ""
    assert file_digests(store) == before
    wrong_json = fieldapp("store", "check", "--store", str(store), "--json", passphrase="not it at all")
    assert json.loads(wrong_json.stderr)["error"] == "wrong_passphrase"
    ok = fieldapp("store", "check", "--store", str(store), "--passphrase-file", str(secret), passphrase=None)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.timeout(120)
def test_passphrase_change_and_refusals(tmp_path: Path) -> None:
    store = tmp_path / "store"
    short = fieldapp("init", "--officer", "丙", "--store", str(store), passphrase="short")
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert not (store / "key.fa").exists()
    none = fieldapp("init", "--officer", "丙", "--store", str(store), passphrase=None, stdin="")
    assert none.returncode == 1 and "--passphrase-file" in none.stderr

    assert fieldapp("init", "--officer", "丙", "--store", str(store)).returncode == 0
    new = tmp_path / "new.txt"
    new.write_text("the new passphrase", encoding="utf-8")
    changed = fieldapp("store", "passphrase", "--store", str(store), "--new-passphrase-file", str(new))
    assert changed.returncode == 0, changed.stderr
    assert fieldapp("store", "check", "--store", str(store)).returncode == 1
    assert fieldapp("store", "check", "--store", str(store), passphrase="the new passphrase").returncode == 0


@pytest.mark.timeout(120)
def test_missing_store_and_salvage(tmp_path: Path) -> None:
    missing = fieldapp("store", "check", "--store", str(tmp_path / "none"))
    assert missing.returncode == 1 and "fieldapp init" in missing.stderr
    store = tmp_path / "store"
    assert fieldapp("init", "--officer", "丁", "--store", str(store)).returncode == 0
    journal = store / "journal-00000000.fa"
    raw = bytearray(journal.read_bytes())
    raw[-2] ^= 0x10
    journal.write_bytes(bytes(raw))
    damaged = fieldapp("store", "check", "--store", str(store))
    assert damaged.returncode == 1 and "store salvage" in damaged.stderr
    salvaged = fieldapp("store", "salvage", "--store", str(store), "--json")
    assert salvaged.returncode == 0, salvaged.stderr
    assert json.loads(salvaged.stdout)["moved_aside"] == ["journal-00000000.fa"]
    assert fieldapp("store", "check", "--store", str(store)).returncode == 0


@pytest.mark.timeout(120)
def test_demo_builds_a_store_that_opens(tmp_path: Path) -> None:
    store = tmp_path / "demo"
    built = fieldapp("demo", "--store", str(store), "--no-open", "--json", passphrase=None)
    assert built.returncode == 0, built.stderr
    info = json.loads(built.stdout)
    check = fieldapp("store", "check", "--store", str(store), passphrase=info["passphrase"])
    assert check.returncode == 0, check.stderr
    # A real station, with something in each of the supervisor's review kinds and areas.
    service = CaseService.open(store, info["passphrase"])
    try:
        assert service.is_supervisor and authority(service) is not None
        rows = device_rows(service)
        assert len(rows) == 4 and sum(r["role"] == "officer" for r in rows) == 3
        assert set(service.areas().values()) == {"第一警务区", "第二警务区", "第三警务区"}
        queue = review_queue(service.replica.view("cases").values())
        assert {"conflict", "escalation", "red_closure"} <= {item.kind for item in queue.items}
        assert any((c.get("outcome") or {}).get("kind") == "agreement" for c in service.cases())
    finally:
        service.close()
