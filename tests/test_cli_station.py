"""`fieldapp station create` and `fieldapp device list|revoke|forks|settle` as real processes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from harness import PASSPHRASE, file_digests
from tests.fork_station import BEFORE_VILLAGE, HELD_VILLAGE, OTHER_VILLAGE, build_forked_station
from tests.test_cli_store import fieldapp


@pytest.mark.timeout(180)
def test_station_create_then_device_list_and_revocation_refusals(tmp_path: Path) -> None:
    store = str(tmp_path / "authority")
    assert fieldapp("init", "--officer", "测试所长", "--store", store).returncode == 0
    created = fieldapp("station", "create", "--name", "测试派出所", "--store", store, "--json")
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    assert info["station_id"].startswith("st-") and info["name"] == "测试派出所"

    listed = fieldapp("device", "list", "--store", store, "--json")
    rows = json.loads(listed.stdout)
    assert [(r["device_id"], r["role"], r["this_device"]) for r in rows] == [
        (info["device_id"], "supervisor", True)
    ]

    again = fieldapp("station", "create", "--name", "另一个", "--store", store)
    assert again.returncode == 1 and "already belongs to a station" in again.stderr
    own = fieldapp("device", "revoke", info["device_id"], "--reason", "测试", "--store", store)
    assert own.returncode == 1 and "cannot revoke its own device" in own.stderr
    unknown = fieldapp("device", "revoke", "nosuchdevice", "--reason", "遗失", "--store", store)
    assert unknown.returncode == 1 and "fieldapp device list" in unknown.stderr


# ---------------------------------------------------------------- forks


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A station whose officer's store was copied and written in two places."""
    return build_forked_station(tmp_path_factory.mktemp("forked"))


def on(forked: dict[str, Any], device: str, tmp_path: Path) -> str:
    """A private copy of one device's store (tests change what they open)."""
    target = tmp_path / device
    shutil.copytree(forked["root"] / device, target)
    return str(target)


def run(*args: str) -> Any:
    return fieldapp(*args, passphrase=PASSPHRASE)


@pytest.mark.timeout(240)
def test_device_forks_lists_the_fork_with_both_entries_and_what_to_do(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = on(forked, "authority", tmp_path)
    listed = run("device", "forks", "--store", store, "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["fork"], row["device_id"], row["officer"]) == (
        forked["fork"],
        forked["forked"],
        forked["forked_officer"],
    )
    assert (row["seq"], row["standing"], row["held_out"]) == (3, "open", True)
    assert row["held"]["fields"]["village"] == HELD_VILLAGE
    assert row["other"]["fields"]["village"] == OTHER_VILLAGE
    assert row["held"]["kind"] == row["other"]["kind"] == "case.create"

    text = run("device", "forks", "--store", store, "--lang", "en")
    assert text.returncode == 0, text.stderr
    assert forked["fork"] in text.stdout and "held out of the view" in text.stdout
    assert "fieldapp device settle FORK --keep held|other --reason TEXT" in text.stdout
    zh = run("device", "forks", "--store", store, "--lang", "zh")
    assert "待裁定" in zh.stdout and "fieldapp device settle" in zh.stdout

    empty = run("device", "forks", "--store", on(forked, "officer0-copy", tmp_path), "--lang", "en")
    assert empty.returncode == 0 and "No forks" in empty.stdout


@pytest.mark.timeout(240)
def test_device_settle_refuses_without_a_reason_an_unknown_fork_and_on_an_officers_device(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = on(forked, "authority", tmp_path)
    fork = forked["fork"]
    before = file_digests(Path(store))
    no_reason = run("device", "settle", fork, "--keep", "held", "--store", store, "--lang", "en")
    assert no_reason.returncode == 1 and "needs a reason" in no_reason.stderr
    blank = run("device", "settle", fork, "--keep", "held", "--reason", "  ", "--store", store, "--json")
    assert blank.returncode == 1 and json.loads(blank.stderr)["error"] == "fork_reason"
    no_keep = run("device", "settle", fork, "--reason", "备份恢复", "--store", store, "--lang", "zh")
    assert no_keep.returncode == 1 and "--keep held" in no_keep.stderr and "请指明" in no_keep.stderr
    unknown = run("device", "settle", "nosuchfork", "--keep", "held", "--reason", "x", "--store", store)
    assert unknown.returncode == 1 and "fieldapp device forks" in unknown.stderr
    assert file_digests(Path(store)) == before  # nothing written by a refusal

    officer = on(forked, "officer1", tmp_path)  # it holds both entries too
    refused = run("device", "settle", fork, "--keep", "held", "--reason", "x", "--store", officer, "--json")
    assert refused.returncode == 1 and json.loads(refused.stderr)["error"] == "fork_not_supervisor"
    zh = run("device", "settle", fork, "--keep", "held", "--reason", "x", "--store", officer, "--lang", "zh")
    assert "只有所长的设备可以裁定日志分叉" in zh.stderr
    still = json.loads(run("device", "forks", "--store", officer, "--json").stdout)
    assert [r["standing"] for r in still] == ["open"]


@pytest.mark.timeout(240)
def test_settling_for_the_held_entry_shows_the_devices_work_again(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = on(forked, "authority", tmp_path)
    villages = {c["village"] for c in json.loads(run("case", "list", "--store", store, "--json").stdout)}
    assert villages == {BEFORE_VILLAGE}  # the forked device's work from the fork on is held out

    settled = run(
        "device", "settle", forked["fork"], "--keep", "held", "--reason", "原设备记录属实，副本已销毁",
        "--store", store, "--lang", "en",
    )  # fmt: skip
    assert settled.returncode == 0, settled.stderr
    assert "settled" in settled.stdout and "reaches other devices as they sync" in settled.stdout
    cases = {c["village"]: c for c in json.loads(run("case", "list", "--store", store, "--json").stdout)}
    assert set(cases) == {BEFORE_VILLAGE, HELD_VILLAGE}
    shown = run("case", "show", forked["held"], "--store", store, "--json")
    assert [v["note"] for v in json.loads(shown.stdout)["visits"]] == ["上门了解借款经过"]
    (row,) = json.loads(run("device", "forks", "--store", store, "--json").stdout)
    assert (row["standing"], row["held_out"]) == ("kept", False)


@pytest.mark.timeout(240)
def test_a_fork_of_this_devices_own_log_is_left_to_another_supervisor(
    forked: dict[str, Any], tmp_path: Path
) -> None:
    store = on(forked, "authority", tmp_path)
    service = CaseService.open(Path(store), PASSPHRASE)
    try:
        own = service.identity.device_id
        key = f"{own}.{service.identity.epoch:016x}.0000000002"
        service.replica.forks.put(
            key, {"author": own, "epoch": service.identity.epoch, "seq": 2, "held": b"a", "other": b"b"}
        )  # what a copy of this device's store, written elsewhere and synced back, would record
    finally:
        service.close()
    refused = run("device", "settle", key, "--keep", "held", "--reason", "x", "--store", store, "--json")
    assert refused.returncode == 1 and json.loads(refused.stderr)["error"] == "fork_own_log"
    listed = {r["fork"]: r for r in json.loads(run("device", "forks", "--store", store, "--json").stdout)}
    assert listed[key]["held"]["kind"] == "?"  # a body it cannot read is listed, not a crash
