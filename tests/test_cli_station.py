"""`fieldapp station create` and `fieldapp device list|revoke` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
