"""A visit says when it happened (issue 15: "an officer records in the evening what happened at
10 a.m."): a past time within `fields.VISIT_BACKDATE_DAYS`, never after the recording.

The merge decides from the operation's own stamp, so every device folds alike whatever its
clock; the command line (`--at`) and the visit dialog check what is typed with one function
(`fields.visit_time_problem`); the timeline, `case show` and the exports show the time it
happened and, beside it, when it was recorded. Visits without a time fold to the bytes they
always did.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import cases as kinds
from fieldapp.domain import fields, model
from fieldapp.domain.dialog_drafts import draft_key, read_draft
from fieldapp.outputs.exports import visit_table
from fieldapp.tui.app import FieldApp
from fieldapp.tui.case_timeline import local_time
from fieldapp.tui.screens.case_detail import CaseScreen
from fieldapp.tui.screens.case_dialogs import VisitDialog
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, exchange, station_devices
from sync.replica import FOLDED_WITH_KEY
from tests.cli import fieldapp
from tests.test_tui_autolock import Idle, open_case_dialog, stored_drafts
from tests.test_tui_autolock import run as run_locking
from tests.test_tui_autolock import unlock as unlock_again
from tests.test_tui_case import entry_with, intake, own_ops, save
from tests.test_tui_case import run as run_case

pytestmark = pytest.mark.timeout(120)

DAY_MS = 86_400_000
LIMIT_MS = fields.VISIT_BACKDATE_DAYS * DAY_MS
#: China Standard Time, as a station's devices are set; the command-line tests run in it.
CST = timezone(timedelta(hours=8))
CST_ENV = {"TZ": "CST-8"}  # POSIX: UTC+8, without the system's zone files


def head_seq(svc: CaseService) -> int:
    return svc.replica.head(f"{svc.identity.device_id}.{svc.identity.epoch:016x}")[0]


def forced_visit(svc: CaseService, case_id: str, occurred: Any) -> None:
    """A visit signed and chained by the device but not checked first (what a modified app, or a
    device whose entry check was wrong, records): it reaches the others as any entry does."""
    payload = {"kind": "home", "note": "上门走访", "place": "", "participants": "", "occurred": occurred}
    op = svc.replica.make(kinds.VISIT, case_id, payload)
    assert svc.replica.apply([(op.body, op.sig)]).applied == 1


# ---------------------------------------------------------------- the merge rule


def test_a_visits_time_is_judged_by_its_own_stamp_on_every_device_whatever_its_clock(tmp_path: Path) -> None:
    """Not after the recording stamp (equal is taken), not more than 14 days before it (exactly 14
    is taken, a second more is not); the device that folds it, 20 days later, decides alike."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as station:
        boss, first, second = station
        # A whole second after every stamp made so far: the boundaries below fall on it exactly.
        wall.now = (time.time_ns() // 1_000_000_000 + 5) * 1000
        case_id = intake(first)
        recorded_ms = wall.now
        first.add_visit(case_id, "home", "边界：14 天前", occurred=(recorded_ms - LIMIT_MS) // 1000)
        first.add_visit(case_id, "phone", "边界：此刻", occurred=recorded_ms // 1000)
        first.add_visit(case_id, "field", "未给时间")
        wrong: list[tuple[Any, str]] = [
            ((recorded_ms - LIMIT_MS) // 1000 - 1, "visit_time_too_early"),
            (recorded_ms // 1000 + 1, "visit_time_after_recorded"),
            (str(recorded_ms // 1000), "visit_time_invalid"),  # a modified app's, or a newer version's
            (True, "visit_time_invalid"),
        ]
        for occurred, code in wrong:
            before, hashed = head_seq(first), first.state_hash()
            with pytest.raises(CaseError) as refused:  # refused at once, nothing written
                first.add_visit(case_id, "home", "不应记录", occurred=occurred)
            assert refused.value.refusal is not None and refused.value.refusal.code == code
            assert (head_seq(first), first.state_hash()) == (before, hashed)
            forced_visit(first, case_id, occurred)  # recorded anyway: the merge refuses it everywhere

        wall.now += 20 * DAY_MS  # the others fold it much later: 20 days, past the limit
        converge(station)
        assert len({s.state_hash() for s in station}) == 1
        for device in (boss, second, first):
            case = device.replica.view("cases")[case_id]
            assert [v["note"] for v in case["visits"]] == ["边界：14 天前", "边界：此刻", "未给时间"]
            shown = [(v.get("occurred"), v["at"]) for v in case["visits"]]
            recorded = model.stamp_iso(recorded_ms << 16)
            fourteen_days_before = model.stamp_iso((recorded_ms - LIMIT_MS) << 16)
            assert shown == [(fourteen_days_before, recorded), (recorded, recorded), (None, recorded)]
            codes = [r["code"] for r in case["refused"]]
            assert codes == ["visit_time_too_early", "visit_time_after_recorded"] + ["visit_time_invalid"] * 2
            assert case["refused"][0]["params"] == {"days": fields.VISIT_BACKDATE_DAYS}


def test_visits_are_listed_in_the_order_they_happened(tmp_path: Path) -> None:
    """The evening's entry of the morning's visit goes before the noon visit recorded at noon,
    on every device, whatever order the logs arrive in."""
    wall = ManualWall()
    with station_devices(tmp_path, 2, wall=wall) as (boss, first, second):
        case_id = intake(first)
        converge([boss, first, second])
        morning = wall.now // 1000
        wall.now += 3 * 3_600_000
        second.add_visit(case_id, "phone", "中午电话回访")  # recorded at noon, no time given
        wall.now += 7 * 3_600_000
        first.add_visit(case_id, "home", "上午上门走访", occurred=morning)  # recorded in the evening
        first.add_visit(case_id, "mediation", "晚上调解")
        exchange(first, boss)
        exchange(second, boss)
        converge([boss, first, second])
        for device in (boss, first, second):
            visits = device.case(case_id)["visits"]
            assert [v["note"] for v in visits] == ["上午上门走访", "中午电话回访", "晚上调解"]
        assert len({s.state_hash() for s in (boss, first, second)}) == 1


def test_a_visit_without_a_time_carries_and_stores_what_it_always_did(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_boss, officer):
        case_id = intake(officer)
        (visit,) = officer.add_visit(case_id, "home", "上门了解情况")["visits"]
        state = officer.replica.view("cases")[case_id]
        (op,) = [op for op in officer.replica.load_ops(state["_ops"]) if op.kind == kinds.VISIT]
    assert set(op.payload) == {"kind", "note", "place", "participants"}
    assert set(visit) == {"id", "kind", "note", "place", "participants", "author", "at", "hlc"}


#: What the code of the branch point (no visit times) records and prints: the stores and their hashes.
BEFORE = "6750a93"
SCENARIO = r"""
import json, sys
from pathlib import Path
from fieldapp.domain.model import stamp_iso
from harness.replicas import converge, station_devices

root = Path(sys.argv[1])
with station_devices(root, 1) as station:
    boss, officer = station
    case = officer.new_case(village="东岭村", category="land", risk="yellow", summary="地界争议",
                            parties=[{"name": "测试甲", "phone": "13800000001", "role": "party"}])["id"]
    officer.add_visit(case, "home", "上门了解情况", place="东岭村三组")
    officer.add_visit(case, "mediation", "组织双方调解", participants="双方当事人")
    officer.update(case, status="resolved", outcome={"kind": "agreement", "terms": "按原界址"})
    officer.add_visit(case, "follow_up", "回访")
    converge(station)
    print(json.dumps({str(s.db.store.directory): TABLE_DIGESTS(s.replica) for s in station}))
"""


def table_digests(replica: Any) -> dict[str, str]:
    """Each view table's SHA-256 over its documents' canonical bytes (as `state_hash` takes them).

    Compared table by table, not as one state hash: tables a later version adds (persons) are
    empty here and a state hash leaves them out, but the code before this change hashed its
    empty tables too."""
    import hashlib

    from storage.store import pack
    from sync.ops import canonical

    out = {}
    for table in replica.view_tables:
        docs = replica.view(table)
        digest = hashlib.sha256()
        for key in sorted(docs):
            digest.update(pack([key, canonical(docs[key])]))
        out[table] = digest.hexdigest()
    return out


SCENARIO = SCENARIO.replace("TABLE_DIGESTS", "table_digests").replace(
    "import json, sys\n", "import json, sys\nfrom typing import Any\n" + inspect.getsource(table_digests), 1
)


@pytest.mark.timeout(300)
def test_stores_without_visit_times_hash_as_before_once_refolded(tmp_path: Path) -> None:
    """Stores made by the code before this change (its own reducer, version 2) are re-folded by
    this one when opened, and hash exactly as they did: no visit's bytes changed."""
    code = tmp_path / "code"
    archive = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parent.parent), "archive", BEFORE],
        capture_output=True,
        timeout=60,
    )
    assert archive.returncode == 0, "this test needs the repository's history"
    code.mkdir()
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True, timeout=60)
    assert "version = 2\n" in (code / "fieldapp" / "domain" / "cases.py").read_text(encoding="utf-8")
    stores = tmp_path / "stores"
    stores.mkdir()
    made = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(stores)],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    hashes = json.loads(made.stdout.strip().splitlines()[-1])
    for store, before in hashes.items():
        service = CaseService.open(Path(store), PASSPHRASE)
        try:
            assert service.replica.local.get_copy(FOLDED_WITH_KEY) == service.replica._folded_with
            now = table_digests(service.replica)
            assert {table: now[table] for table in before} == before
            assert all(not service.replica.view(table) for table in set(now) - set(before))
        finally:
            service.close()


# ---------------------------------------------------------------- what a person may type


NOW = datetime(2026, 12, 6, 19, 30, 40, tzinfo=CST)


@pytest.mark.parametrize(
    ("typed", "happened", "code"),
    [
        ("10:00", "2026-12-06 10:00", None),
        ("9:05", "2026-12-06 09:05", None),
        ("  2026-12-05   22:15 ", "2026-12-05 22:15", None),
        ("１０：００", "2026-12-06 10:00", None),  # as a Chinese input method types it
        ("19:30", "2026-12-06 19:30", None),  # this minute
        ("2026-11-22 19:31", "2026-11-22 19:31", None),  # the earliest whole minute 14 days back
        ("", None, None),  # empty: now (no time carried)
        ("19:31", None, "visit_time_future"),
        ("2026-12-07 08:00", None, "visit_time_future"),
        ("2026-11-22 19:30", None, "visit_time_too_old"),
        ("2025-12-06 10:00", None, "visit_time_too_old"),  # a slip of the year
        ("2026-02-30 10:00", None, "visit_time_format"),
        ("24:10", None, "visit_time_format"),
        ("10.30", None, "visit_time_format"),
        ("2026-12-06", None, "visit_time_format"),
        ("yesterday 10:00", None, "visit_time_format"),
    ],
)
def test_a_typed_visit_time_is_checked_once_for_the_dialog_and_the_command_line(
    typed: str, happened: str | None, code: str | None
) -> None:
    """Every time the entry check takes is one the reducer takes when recorded at that moment."""
    found = fields.visit_time_problem(typed, NOW)
    assert (None if found is None else found.code) == code
    if code is not None:
        return
    occurred = fields.visit_time(typed, NOW)
    if happened is None:
        assert occurred is None
        return
    assert occurred is not None
    assert datetime.fromtimestamp(occurred, CST).strftime("%Y-%m-%d %H:%M") == happened
    recorded = int(NOW.timestamp() * 1000) << 16
    assert fields.visit_occurred(occurred, recorded) is None


def test_a_refused_typed_time_names_the_time_the_limit_and_the_earliest() -> None:
    too_old = fields.visit_time_problem("2026-11-01 10:00", NOW)
    assert too_old is not None and too_old.params == {
        "time": "2026-11-01 10:00",
        "days": 14,
        "earliest": "2026-11-22 19:31",
    }
    future = fields.visit_time_problem("20:00", NOW)
    assert future is not None and future.params == {"time": "2026-12-06 20:00", "now": "2026-12-06 19:30"}


# ---------------------------------------------------------------- the command line


def _minutes(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def officer_store(tmp_path: Path) -> tuple[Path, str]:
    """An officer's store holding one case (closed: the command line opens it)."""
    with station_devices(tmp_path, 1) as (_boss, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
    return store, case_id


def test_visit_add_at_records_when_it_happened_and_case_show_says_both(tmp_path: Path) -> None:
    store, case_id = officer_store(tmp_path)
    now = datetime.now(CST)
    happened = (now - timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
    done = fieldapp(
        "visit", "add", case_id, "--store", store, "--kind", "home", "--note", "上午上门走访",
        "--at", happened, "--json", env=CST_ENV,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (visit,) = json.loads(done.stdout)["visits"]
    occurred = datetime.fromisoformat(visit["occurred"])
    assert occurred.astimezone(CST).strftime("%Y-%m-%d %H:%M") == happened
    assert occurred < datetime.fromisoformat(visit["at"])

    midnight = fieldapp(  # HH:MM: today
        "visit", "add", case_id, "--store", store, "--kind", "phone", "--note", "零点电话",
        "--at", "00:00", "--json", env=CST_ENV,
    )  # fmt: skip
    assert midnight.returncode == 0, midnight.stderr
    visits = json.loads(midnight.stdout)["visits"]
    call = next(v for v in visits if v["note"] == "零点电话")
    shown = datetime.fromisoformat(call["occurred"]).astimezone(CST).strftime("%Y-%m-%d %H:%M")
    today, tomorrow = now.strftime("%Y-%m-%d 00:00"), (now + timedelta(days=1)).strftime("%Y-%m-%d 00:00")
    assert shown in (today, tomorrow)  # (tomorrow: the command ran after midnight)
    in_order = ["零点电话", "上午上门走访"] if shown < happened else ["上午上门走访", "零点电话"]
    assert [v["note"] for v in visits] == in_order  # as they happened, not as recorded

    for lang, words in (("en", "Visit (Home visit): 上午上门走访"), ("zh", "走访（上门走访）：上午上门走访")):
        text = fieldapp("case", "show", case_id, "--store", store, "--lang", lang, env=CST_ENV)
        assert text.returncode == 0, text.stderr
        (line,) = [line for line in text.stdout.splitlines() if words in line]
        recorded = datetime.fromisoformat(visit["at"]).astimezone(CST).strftime("%Y-%m-%d %H:%M")
        assert line.strip().startswith(happened)  # shown at the time it happened
        assert (f"recorded {recorded}" if lang == "en" else f"{recorded} 录入") in line


def test_visit_add_refuses_a_bad_future_or_too_old_time_in_both_languages(tmp_path: Path) -> None:
    store, case_id = officer_store(tmp_path)
    now = datetime.now(CST)
    for at, english, chinese in (
        ("2026-13-45 10:00", "is not a date and time: write --at as YYYY-MM-DD HH:MM", "不是有效的日期时间"),
        ("tomorrow", "or HH:MM for today", "当天可只写 时:分"),
        (_minutes(now + timedelta(days=1)), "is later than now", "晚于现在"),
        (
            _minutes(now - timedelta(days=15)),
            "is more than 14 days ago: --at goes back to",
            "已超过 14 天：--at 最早",
        ),
    ):
        refused = fieldapp(
            "visit", "add", case_id, "--store", store, "--kind", "home", "--note", "不应记录", "--at", at,
            env=CST_ENV,
        )  # fmt: skip
        assert refused.returncode == 1 and refused.stdout == ""
        assert english in refused.stderr and chinese in refused.stderr, refused.stderr
    as_json = fieldapp(
        "visit", "add", case_id, "--store", store, "--kind", "home", "--note", "不应记录", "--at", "25:00",
        "--json", env=CST_ENV,
    )  # fmt: skip
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr)["rule"] == "visit_time_format"
    shown = fieldapp("case", "show", case_id, "--store", store, "--json")
    assert json.loads(shown.stdout)["visits"] == []  # nothing recorded


# ---------------------------------------------------------------- the visit dialog


def test_the_visit_dialog_takes_the_time_it_happened_checks_it_beside_the_field_and_shows_it(
    tmp_path: Path,
) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        officer.add_visit(case_id, "phone", "刚才电话回访")  # recorded now, no time given
        store = officer.db.store.directory
        officer.close()

    async def scenario(app: FieldApp, screen: CaseScreen, pilot: Pilot[None]) -> None:
        assert app.service is not None
        dialog = await open_dialog(app, pilot)
        label = str(dialog.query_one("#occurred-label", Static).render())
        assert "When it happened" in label and "optional" in label
        dialog.query_one("#note", TextArea).text = "Both households met at the ditch"
        before = own_ops(app.service)
        now = datetime.now().astimezone()  # the dialog reads times in the device's own zone
        for typed, words in (
            ("25:99", "25:99 is not a date and time"),
            (_minutes(now + timedelta(hours=2)), "is later than now"),
            (_minutes(now - timedelta(days=15)), "more than 14 days ago"),
        ):
            dialog.query_one("#occurred", Input).value = typed
            await save(pilot)
            assert app.screen is dialog
            assert words in str(dialog.query_one("#occurred-error", Static).render())
            assert app.focused is dialog.query_one("#occurred", Input)
            assert own_ops(app.service) == before

        happened = now - timedelta(hours=3)
        dialog.query_one("#occurred", Input).value = _minutes(happened)
        await save(pilot)
        assert app.screen is screen
        visits = app.service.case(case_id)["visits"]
        assert [v["note"] for v in visits] == ["Both households met at the ditch", "刚才电话回访"]
        recorded = local_time(visits[0]["at"])
        assert local_time(visits[0]["occurred"]) == _minutes(happened)
        entry = entry_with(screen, "Both households met at the ditch")
        assert entry.startswith(_minutes(happened)) and f"recorded {recorded}" in entry
        assert "recorded" not in entry_with(screen, "刚才电话回访")
        texts = screen.timeline_texts()
        assert texts.index(entry) < texts.index(entry_with(screen, "刚才电话回访"))

    run_case(store, case_id, scenario)


async def open_dialog(app: FieldApp, pilot: Pilot[None]) -> VisitDialog:
    await pilot.press("v")
    await pilot.pause()
    assert isinstance(app.screen, VisitDialog)
    return app.screen


def test_the_visit_dialogs_time_is_kept_across_an_auto_lock(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        store = officer.db.store.directory
        officer.close()
    typed = _minutes(datetime.now().astimezone() - timedelta(hours=5))

    async def scenario(app: FieldApp, pilot: Pilot[None], idle: Idle) -> None:
        dialog = await open_case_dialog(app, pilot, case_id, "v", VisitDialog)
        dialog.query_one("#note", TextArea).focus()
        await pilot.press(*"Spoke with both households")
        dialog.query_one("#occurred", Input).focus()
        await pilot.press(*typed)
        await idle.lock(pilot)
        values = read_draft(stored_drafts(store)[draft_key("visit", case_id)])
        assert values is not None and values["occurred"] == typed
        await unlock_again(app, pilot)
        back = app.screen
        assert isinstance(back, VisitDialog)
        assert back.query_one("#occurred", Input).value == typed
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.service is not None
        (visit,) = app.service.case(case_id)["visits"]
        assert local_time(visit["occurred"]) == typed

    run_locking(store, scenario)


# ---------------------------------------------------------------- exports


def test_the_visits_export_has_the_time_it_happened_and_the_time_it_was_recorded(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (_supervisor, officer):
        case_id = intake(officer)
        officer.add_visit(case_id, "phone", "刚才电话回访")
        morning = int(datetime.now(UTC).timestamp()) - 8 * 3600
        case = officer.add_visit(case_id, "home", "上午上门走访", occurred=morning)
    for lang, happened_label, recorded_label in (
        ("en", "Visited at", "Recorded at"),
        ("zh", "走访时间", "录入时间"),
    ):
        header, rows = visit_table([case], lang, str, tz=CST)
        happened_col, recorded_col = header.index(happened_label), header.index(recorded_label)
        assert recorded_col == happened_col + 1
        notes = [row[header.index("Note" if lang == "en" else "情况记录")] for row in rows]
        assert notes == ["上午上门走访", "刚才电话回访"]  # in the order they happened
        backdated, plain = case["visits"]
        assert rows[0][happened_col] == datetime.fromtimestamp(morning, CST).replace(tzinfo=None)
        assert rows[0][recorded_col] == datetime.fromisoformat(backdated["at"]).astimezone(CST).replace(
            tzinfo=None
        )
        assert rows[1][happened_col] == rows[1][recorded_col]  # no time given: when it was recorded
        assert rows[1][recorded_col] == datetime.fromisoformat(plain["at"]).astimezone(CST).replace(
            tzinfo=None
        )
