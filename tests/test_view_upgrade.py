"""A view of each earlier format is upgraded and hashes like a fresh fold (issue 14, item 2).

For every earlier view format, the commit that introduced it is taken out of git
(`git archive`) and run with this test's Python: it builds a station (a supervisor and two
officers), records cases, visits, concurrent edits (a conflict), police areas, and operations
the merge refuses (an officer's assignment, closure and revocation, made by a modified app),
and exchanges everything between the devices. Today's code then opens each device's store: it
must hash exactly like a replica that received the same operations and folded them from
scratch, and its refusals must read as codes, not sentences.

Needs the repository's history (CI's clone has it); under a second per format.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService, app_reducers
from fieldapp.domain.refusals import CODES
from fieldapp.i18n.rules import refused_text
from harness import FAST_KDF, PASSPHRASE
from storage import FieldDB
from sync.identity import DeviceIdentity
from sync.replica import VIEW_FORMAT, VIEW_FORMAT_KEY, Replica

ROOT = Path(__file__).resolve().parent.parent
#: Each earlier view format and the commit that made it (`git log -G"^VIEW_FORMAT = [0-9]"
#: -- sync/replica.py`; format 1 is the parent of the commit that introduced 2).
FORMATS = {1: "8047471^", 2: "8047471", 3: "4d08157", 4: "1cb19f5", 5: "495a637"}

#: What the earlier version runs (its own modules and test helpers; the flat layout before
#: format 5): a station, its work and refusals, and a reopening of a case resolved by agreement
#: concurrent with a follow-up visit, exchanged between every device; prints the stores.
SCENARIO = r"""
import json, sys
from pathlib import Path
try:
    from fieldapp.domain import cases as kinds
except ImportError:  # before the layout move
    from fieldapp import cases as kinds
from sync.merge import field_base
from sync.trust import REVOKE
from tests.replicas import converge, exchange, station_devices

root = Path(sys.argv[1])
with station_devices(root, 2) as station:
    boss, first, second = station

    def forced(svc, kind, entity, payload):
        # signed and chained by the device, not checked first: what a modified app records
        op = svc.replica.make(kind, entity, payload)
        assert svc.replica.apply([(op.body, op.sig)]).applied == 1

    red = first.new_case(village="东岭村", category="land", risk="red", summary="地界争议",
                         parties=[{"name": "测试甲", "phone": "13800000001", "role": "party"}])["id"]
    first.add_visit(red, "mediation", "组织双方调解")
    first.update(red, status="resolved", outcome={"kind": "agreement", "terms": "按原界址"})
    state = first.replica.view("cases")[red]
    forced(first, kinds.STATUS, red, {"status": "closed", "reason": "x", "base": field_base(state, "status")})
    other = second.new_case(village="西岭村", category="irrigation", risk="yellow", summary="轮灌纠纷")["id"]
    forced(second, kinds.ASSIGN, other, {"assignee": second.identity.device_id, "base": None})
    forced(second, kinds.STATUS, other, {"status": "closed", "reason": "x", "base": None})
    converge(station)
    first.update(other, fields={"risk": "orange"})  # concurrent edits: a conflict
    second.update(other, fields={"risk": "red"})
    first.reopen(red, "又起争执")  # ends the agreement, on one device...
    second.add_visit(red, "follow_up", "回访")  # ...while another records a follow-up
    boss.place_village("东岭村", "一区")
    forced(second, "village.area", "西岭村", {"area": "二区", "base": None})  # an officer's: refused
    forced(first, REVOKE, second.identity.device_id, {"reason": "x", "cutoff": {}, "station_sig": b""})
    exchange(first, second)
    converge(station)
    hashes = {s.state_hash() for s in station}
    assert len(hashes) == 1, hashes
print(json.dumps(sorted(str(p) for p in root.iterdir())))
"""


def _checkout(commit: str, into: Path) -> None:
    """The tree of `commit`, from this repository's history, into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit],
        capture_output=True,
        timeout=60,
    )
    assert archive.returncode == 0, (
        f"cannot take {commit} out of git ({archive.stderr.decode(errors='replace').strip()}); "
        "this test needs the repository's history (a full clone, not a shallow one)"
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


def _stores_made_by(old_format: int, tmp_path: Path) -> list[Path]:
    """Run the scenario with the code that folded views in `old_format` (and this Python); the
    stores it left."""
    code, commit = tmp_path / "code", FORMATS[old_format]
    _checkout(commit, code)
    source = (code / "sync" / "replica.py").read_text(encoding="utf-8")
    # Format 1 is the views before the format was recorded at all.
    assert f"\nVIEW_FORMAT = {old_format}\n" in source if old_format > 1 else "VIEW_FORMAT" not in source
    root = tmp_path / "stores"
    root.mkdir()
    env = {**os.environ, "PYTHONPATH": str(code)}
    run = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(root)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, f"{commit}'s code could not build the stores:\n{run.stderr[-3000:]}"
    return [Path(p) for p in json.loads(run.stdout.strip().splitlines()[-1])]


def _fresh_fold(service: CaseService, where: Path) -> str:
    """The state hash of a replica that receives every operation `service` holds and folds them
    from scratch (a new, unannounced identity: its own log adds nothing to the view)."""
    db = FieldDB.create(where, PASSPHRASE, FAST_KDF)
    try:
        replica = Replica(
            db,
            DeviceIdentity.generate(),
            service.replica.station,
            app_reducers(),
            anchor=service.replica.anchor,
        )
        report = replica.apply(list(service.replica.entries_missing_from({})))
        assert report.rejections == [] and report.held_back == 0
        assert replica.vector() == service.replica.vector()
        return replica.state_hash()
    finally:
        db.close()


def _refusals(service: CaseService) -> list[dict[str, Any]]:
    return [
        entry
        for table in ("cases", "villages", "devices")
        for doc in service.replica.view(table).values()
        for entry in doc.get("refused", [])
    ]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("old_format", sorted(FORMATS))
def test_a_view_of_each_earlier_format_is_upgraded_and_hashes_like_a_fresh_fold(
    old_format: int, tmp_path: Path
) -> None:
    stores = _stores_made_by(old_format, tmp_path)
    assert len(stores) == 3
    hashes = set()
    for store in stores:
        service = CaseService.open(store, PASSPHRASE)  # today's code: the view is upgraded on open
        try:
            assert service.replica.local.get_copy(VIEW_FORMAT_KEY) == {"version": VIEW_FORMAT}
            upgraded = service.state_hash()
            assert upgraded == _fresh_fold(service, tmp_path / f"fresh-{store.name}")
            hashes.add(upgraded)
            refusals = _refusals(service)
            codes = sorted(r["code"] for r in refusals)
            assert codes == [
                "area_supervisor_only",
                "assign_supervisor_only",
                "red_close_needs_supervisor",
                "revoke_not_supervisor",
                "status_not_allowed",
            ], codes
            assert all("reason" not in r and r["code"] in CODES for r in refusals)
            assert "红色案件只能由所长结案" in [refused_text(r, "zh") for r in refusals]
            # Format 6: the reopening ended the agreement and cancelled the pending follow-ups.
            reopened = next(c for c in service.cases_view().values() if c.get("reopened"))
            assert reopened["outcome"] is None
            assert reopened["reopened"]["outcome"] == {"kind": "agreement", "terms": "按原界址"}
            assert not [f for f in reopened["followups"] if not f["done"] and not f.get("cancelled")]
        finally:
            service.close()
    assert len(hashes) == 1  # and every device of the station still agrees
