"""`fieldapp shift-report`: what each device's syncs brought, from the sync ledger and the cases view."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService
from fieldapp.core.station import revoke_device
from fieldapp.outputs.shift import ShiftError, build_shift, parse_since, shift_report
from fieldapp.outputs.shift_text import merged_line, shift_csv, shift_text
from harness.replicas import station_devices
from sync import ledger
from sync.ops import decode
from tests.cli import fieldapp
from tests.test_sync_session import sync

pytestmark = pytest.mark.timeout(120)


def kinds_sent(service: CaseService, lacking: dict[str, int]) -> Counter[str]:
    """Independently of the ledger: the kinds of this device's own operations past `lacking`."""
    me = service.identity.device_id
    return Counter(
        decode(b, s).kind
        for b, s in service.replica.entries_missing_from(lacking)
        if decode(b, s).author == me
    )


def shift(root: Path) -> Any:
    """A station and two officers."""
    return station_devices(root, 2)


def a_shift(station: CaseService, a: CaseService, b: CaseService) -> dict[str, Any]:
    """A and B sync; then (after `mid`) A brings a shift's work, with a conflict on a case the
    station edited meanwhile. Returns what A did."""
    shared = station.new_case("西河村", "land", "yellow", "共同案件", deadline="2026-01-05")
    assert sync(station, a)[0].error is None and sync(station, b)[0].error is None
    mid = time.time()
    station.update(shared["id"], fields={"summary": "所里改的"})
    a.update(shared["id"], fields={"summary": "民警改的"})  # made without seeing the station's
    red = a.new_case("东岭村", "land", "red", "当场红色")
    raised = a.new_case("东岭村", "land", "yellow", "后来升级")
    a.update(raised["id"], fields={"risk": "red"})
    resolved = a.new_case("南湾村", "debt", "yellow", "欠款")
    for case in (raised, resolved, red):
        a.add_visit(case["id"], "home", "走访记录")
    a.update(resolved["id"], status="resolved", outcome={"kind": "agreement", "terms": "分期还款"})
    sent = kinds_sent(a, station.replica.sync_vector())
    report, _ = sync(station, a)
    assert report.error is None
    return {"mid": mid, "shared": shared["id"], "red": {red["id"], raised["id"]}, "sent": sent}


def test_the_report_counts_what_each_device_brought_against_what_it_sent(tmp_path: Path) -> None:
    with shift(tmp_path) as (station, a, b):
        did = a_shift(station, a, b)
        now = datetime.now().astimezone()
        report = shift_report(station, datetime.fromtimestamp(did["mid"]).astimezone(), now)
        rows = {row["device"]: row for row in report["devices"]}
        row = rows[a.identity.device_id]
        sent = did["sent"]
        assert row["synced"] and row["sessions"] == 1 and row["carried"] == sum(sent.values())
        assert row["brought"] == {
            "intakes": sent["case.create"],
            "visits": sent["visit.add"],
            "updates": sent["case.set"] + sent["case.status"] - 1,
            "resolutions": 1,
            "other": 0,
        }
        assert sent == {"case.create": 3, "visit.add": 3, "case.set": 2, "case.status": 1}
        assert {r["case"] for r in report["new_red"]} == did["red"] and row["new_red"] == 2
        [conflict] = report["new_conflicts"]
        assert conflict["case"] == did["shared"] and conflict["carried_by"] == a.identity.device_id
        assert row["conflicts"] == 1
        assert report["overdue"] == [
            {
                "device": station.identity.device_id,
                "officer": "测试所长",
                "count": 1,
                "cases": [did["shared"]],
            }
        ]
        # B synced before the window: expected, not merged, named with its last sync.
        assert (report["merged"], report["expected"]) == (1, 2)
        assert [m["device"] for m in report["missing"]] == [b.identity.device_id]
        assert not rows[b.identity.device_id]["synced"] and rows[b.identity.device_id]["last_sync"]
        assert merged_line(report, "en", now) == (
            "1 of 2 devices merged this shift; missing: 测试辅警1 (last synced 0 min ago)"
        )
        text = shift_text(report, "zh", now)
        assert "本班次已合并1/2台设备；未同步：测试辅警1（上次同步：0分钟前）" in text
        assert "新增红色案件（2）" in text and "新增冲突（1）" in text

        # Three days on, nobody has merged since: both are missing, "3 days ago".
        later = now + timedelta(days=3)
        stale = build_shift(
            ledger.entries(station.db),
            station.devices_view(),
            station.cases_view(),
            station.identity.device_id,
            later - timedelta(hours=12),
            later,
        )
        assert merged_line(stale, "en") == (
            "0 of 2 devices merged this shift; missing: 测试辅警1 (last synced 3 days ago), "
            "测试辅警0 (last synced 3 days ago)"
        )
        assert merged_line(stale, "zh").startswith(
            "本班次已合并0/2台设备；未同步：测试辅警1（上次同步：3天前）、"
        )
        assert stale["new_red"] == stale["new_conflicts"] == []


def test_refusals_and_unknown_devices_are_listed(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, lost):
        assert sync(station, lost)[0].error is None
        revoke_device(station, lost.identity.device_id, "设备遗失")
        assert sync(station, lost)[0].error is not None
        now = time.time()
        ledger.record(
            station.db,
            ledger.entry(
                "server",
                None,
                now,
                now,
                error="the peer's certificate was not issued by this station",
                error_code="foreign_certificate",
                address="192.0.2.7:50000",
                refused=True,
            ),
        )
        report = shift_report(station, datetime.fromtimestamp(now - 3600).astimezone())
        codes = [(e["device"], e["code"]) for e in report["refused"]]
        assert codes == [(lost.identity.device_id, "revoked"), (None, "foreign_certificate")]
        row = {r["device"]: r for r in report["devices"]}[lost.identity.device_id]
        assert row["revoked"] and row["refusals"] == 1 and row["sessions"] == 1  # the sync before it
        assert report["expected"] == 0  # a revoked device is not waited for
        text = shift_text(report, "en")
        assert "Refused connections (2)" in text and "192.0.2.7:50000  a device of another station" in text
        assert "(unknown devices)" in text
        assert "其他派出所的设备" in shift_text(report, "zh")
        table = list(csv.reader(io.StringIO(shift_csv(report, "en").decode("utf-8-sig"))))
        assert table[-1][0] == "(unknown devices)" and table[-1][table[0].index("Refused")] == "1"


def test_the_command_prints_text_json_and_writes_csv(tmp_path: Path) -> None:
    with shift(tmp_path) as (station, a, b):
        did = a_shift(station, a, b)
        a_id, b_id = a.identity.device_id, b.identity.device_id
    store = tmp_path / "authority"
    done = fieldapp("shift-report", "--store", store, "--since", "12h", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rows = {r["device"]: r for r in report["devices"]}
    assert rows[a_id]["brought"]["intakes"] == did["sent"]["case.create"]
    assert rows[b_id]["synced"] and (report["merged"], report["expected"]) == (2, 2)

    text = fieldapp("shift-report", "--store", store, "--since", "12h", "--lang", "en")
    assert text.returncode == 0 and "2 of 2 devices merged this shift" in text.stdout
    zh = fieldapp("shift-report", "--store", store, "--since", "12h", "--lang", "zh")
    header = next(line for line in zh.stdout.splitlines() if line.startswith("民警"))
    row = next(line for line in zh.stdout.splitlines() if line.startswith("测试辅警0"))

    # Aligned by display width: a Chinese character takes two cells.
    def column(line: str, word: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in line[: line.index(word)])

    assert column(header, "设备") == column(row, a_id) == 2 * len("测试辅警0") - 1 + 2

    out = tmp_path / "shift.csv"
    written = fieldapp("shift-report", "--store", store, "--since", "12h", "--csv", out, "--lang", "zh")
    assert written.returncode == 0, written.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][:5] == ["民警", "设备", "角色", "上次同步", "本班次"]
    by_device = {line[1]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
    assert (
        by_device[a_id]["新登记"] == "3"
        and by_device[a_id]["化解"] == "1"
        and by_device[a_id]["本班次"] == "是"
    )
    again = fieldapp("shift-report", "--store", store, "--csv", out)
    assert again.returncode != 0  # an existing file is not replaced without --force


@pytest.mark.parametrize(
    ("given", "lang", "words"),
    [
        ("25:99", "en", "--since 25:99 is not a time: write YYYY-MM-DD HH:MM, HH:MM (today)"),
        ("昨天", "zh", "--since 昨天 不是有效的时间"),
        ("2999-01-01 08:00", "en", "is in the future"),
        ("2999-01-01 08:00", "zh", "是将来的时间"),
    ],
)
def test_a_since_that_is_no_time_is_refused_in_the_users_language(given: str, lang: str, words: str) -> None:
    done = fieldapp("shift-report", "--since", given, "--lang", lang, "--store", "/nonexistent")
    assert done.returncode == 1 and words in done.stderr and done.stdout == ""
    as_json = fieldapp("shift-report", "--since", given, "--json", "--store", "/nonexistent")
    assert json.loads(as_json.stderr)["error"] == "shift_error"


def test_since_accepts_a_time_today_a_date_and_time_and_durations() -> None:
    now = datetime(2026, 12, 6, 19, 30).astimezone()
    assert parse_since(None, now) == now.replace(hour=0, minute=0)
    assert parse_since("08:15", now) == now.replace(hour=8, minute=15)
    assert parse_since("2026-12-05 20:00", now) == now.replace(day=5, hour=20, minute=0)
    assert parse_since("12h", now) == now - timedelta(hours=12)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    with pytest.raises(ShiftError) as refused:
        parse_since("20:00", now)  # later today: the future
    assert refused.value.key == "shift.error.since_future"


def test_text_and_csv_show_how_far_behind_and_the_refused_operations(tmp_path: Path) -> None:
    with shift(tmp_path) as (station, a, b):
        did = a_shift(station, a, b)
        now = datetime.now().astimezone()
        report = shift_report(station, datetime.fromtimestamp(did["mid"]).astimezone(), now)
    rows = {row["device"]: row for row in report["devices"]}
    a_id, b_id = a.identity.device_id, b.identity.device_id
    # B synced before A brought its work, and before the station's own edit of the shared case.
    assert rows[b_id]["behind"] == sum(did["sent"].values()) + 1
    rows[a_id]["refused_ops"] = 4  # as the rules would count them (the renderers show what is given)
    for lang, behind, refused_ops, unknown in (
        ("en", "Behind", "Ops refused", "unknown"),
        ("zh", "落后", "被拒操作", "未知"),
    ):
        table = list(csv.reader(io.StringIO(shift_csv(report, lang).decode("utf-8-sig"))))
        by_device = {line[1]: dict(zip(table[0], line, strict=True)) for line in table[1:]}
        assert by_device[b_id][behind] == str(rows[b_id]["behind"]) and by_device[a_id][behind] == "0"
        assert by_device[a_id][refused_ops] == "4" and by_device[b_id][refused_ops] == "0"
        header, *lines = shift_text(report, lang, now).splitlines()[3:5]
        assert header.split()[-1] == behind and refused_ops.split()[-1] in header
        never = {**report, "devices": [{**rows[b_id], "behind": None}]}  # never completed a sync here
        table = list(csv.reader(io.StringIO(shift_csv(never, lang).decode("utf-8-sig"))))
        assert table[1][table[0].index(behind)] == unknown
        assert shift_text(never, lang, now).splitlines()[4].endswith(unknown)
