"""The report's repeat disputes defined on persons, and persons in the exports, only from a
supervisor's device (issue 17, items 4 and 6).

A station (the supervisor's device and one officer's) holds disputes placed by hand at Beijing
times on the edges that decide: 365 and 366 local days apart, a midnight where Beijing's date is
not UTC's, a mobile written three ways, two name-only parties an officer linked, two never
linked (same name, same village: only proposed), a household landline. The figures are checked
against the count in `tests/persons_truth.py` (its own reading of phones and links, every pair
of cases compared, no person index) and against the numbers worked out by hand below.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fieldapp.core.service import CaseService
from fieldapp.outputs import reports
from harness import PASSPHRASE
from harness.replicas import ManualWall, converge, station_devices
from tests.cli import fieldapp as run_cli
from tests.persons_truth import Key, party_key, repeat_truth

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=BEIJING)
MARCH = reports.period_of("month", "2025-03")
PLAN = "每月走访一次，防止矛盾升级"

#: (label, Beijing time, village, parties as (name, phone), flags), in the order recorded.
DISPUTES: list[tuple[str, datetime, str, list[tuple[str, str]], list[str]]] = [
    ("z1", datetime(2023, 12, 1, 10), "东岭村", [("周某", "13700003333"), ("测试甲", "")], []),
    # 23:30 in Beijing is 15:30 UTC, the same date; b2 below is 00:30 Beijing, the day before in UTC.
    ("b1", datetime(2024, 3, 9, 23, 30), "东岭村", [("李某", "13500002222")], []),
    ("a1", datetime(2024, 3, 10, 10), "东岭村", [("王某", "13800001111"), ("测试乙", "")], []),
    ("z2", datetime(2024, 3, 20, 10), "东岭村", [("周某", "137-0000-3333")], []),
    ("s1", datetime(2025, 1, 20, 10), "东岭村", [("孙某", "")], []),
    ("n1", datetime(2025, 3, 5, 10), "南河村", [("赵某", "")], ["repeat_calls"]),
    ("b2", datetime(2025, 3, 10, 0, 30), "东岭村", [("李某", "+86 135 0000 2222")], []),
    ("a2", datetime(2025, 3, 10, 9), "西岭村", [("王某", "138-0000-1111")], []),
    ("s2", datetime(2025, 3, 15, 10), "南河村", [("孙某", "")], []),
    ("l1", datetime(2025, 3, 16, 10), "东岭村", [("钱某", "0931-8562277"), ("钱某某", "0931-8562277")], []),
    ("l2", datetime(2025, 3, 18, 10), "东岭村", [("钱某", "0931-8562277")], []),
    ("a3", datetime(2025, 3, 20, 10), "东岭村", [("王某", "+86 138 0000 1111"), ("周某", "13700003333")], []),
    ("n2", datetime(2025, 3, 21, 10), "南河村", [("赵某", "")], []),
    ("a4", datetime(2025, 4, 2, 10), "东岭村", [("王某", "13800001111")], []),
]


def at(moment: datetime) -> int:
    return int(moment.replace(tzinfo=BEIJING).timestamp() * 1000)


@dataclass
class Station:
    """The two stores and what the test knows of them."""

    authority: Path
    officer: Path
    officer_id: str
    ids: dict[str, str]  # label -> case id
    #: The March 2025 report's figures before the officer linked s1 and s2.
    before_link: dict[str, Any]


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Station:
    root = tmp_path_factory.mktemp("station")
    wall = ManualWall()
    wall.now = at(datetime(2023, 11, 30, 9))
    with station_devices(root, 1, wall=wall) as (authority, officer):
        ids = {}
        for label, moment, village, parties, flags in DISPUTES:
            wall.now = at(moment)
            ids[label] = officer.new_case(
                village=village,
                category="neighbor",
                risk="yellow",
                summary="邻里纠纷测试记录",
                parties=[{"name": n, "phone": p, "role": "party"} for n, p in parties],
                flags=flags,
            )["id"]
        converge([authority, officer])
        before = reports.build_report(
            authority.cases(), MARCH, tz=BEIJING, now=NOW, persons=authority.person_index()
        )["current"]
        wall.now = at(datetime(2025, 4, 5, 10))
        by_case = _persons_by_case(officer)
        officer.link_persons(by_case[ids["s1"]]["孙某"], by_case[ids["s2"]]["孙某"])
        wang = by_case[ids["a1"]]["王某"]
        authority.mark_key_person(wang, PLAN, officer=officer.identity.device_id, due="2025-04-30")
        converge([authority, officer])
        officer_id = officer.identity.device_id
    return Station(root / "authority", root / "officer0", officer_id, ids, before)


def _persons_by_case(service: CaseService) -> dict[str, dict[str, str]]:
    """Case id -> party name -> the person id shown for them."""
    found: dict[str, dict[str, str]] = {}
    for person in service.person_index().persons():
        for brief in person.cases:
            for name in person.names:
                found.setdefault(brief.id, {})[name] = person.id
    return found


@pytest.fixture
def authority(station: Station) -> Any:
    service = CaseService.open(station.authority, PASSPHRASE)
    try:
        yield service
    finally:
        service.close()


def fieldapp(*args: str | Path) -> Any:
    """The command line in Beijing time, no locale (English unless --lang)."""
    return run_cli(*args, env={"TZ": "CST-8"}, without=("LC_ALL", "LANG"))


def links(station: Station) -> list[tuple[Key, Key]]:
    """The one link the officer made, as the test's own keys."""
    s1, s2 = station.ids["s1"], station.ids["s2"]
    return [(("party", s1, "孙某"), ("party", s2, "孙某"))]


def truth_of(cases: list[dict[str, Any]]) -> dict[str, tuple[datetime, list[dict[str, Any]]]]:
    return {c["id"]: (datetime.fromisoformat(c["created_at"]), c["parties"]) for c in cases}


# ---------------------------------------------------------------- the figure


def test_repeat_disputes_count_a_persons_dispute_within_365_local_days_by_mobile_or_link(
    station: Station, authority: CaseService
) -> None:
    cases = authority.cases()
    truth = truth_of(cases)
    index = authority.person_index()
    ids = {v: k for k, v in station.ids.items()}
    for period in (MARCH, reports.period_of("quarter", "2025-02"), reports.period_of("month", "2024-03")):
        report = reports.build_report(cases, period, tz=BEIJING, now=NOW, persons=index)
        for column, shown in (("current", period), ("previous", period.last_year())):
            disputes, persons = repeat_truth(
                truth, shown.start(BEIJING), shown.end(BEIJING), BEIJING, links(station)
            )
            labels = sorted(ids[d] for d in disputes)
            assert report[column]["repeat_disputes"] == len(disputes), (shown.code, labels)
            assert report[column]["repeat_persons"] == len(persons), shown.code
    # By hand, March 2025: a2 (王, a1 exactly 365 days before), s2 (孙, linked to s1), a3 (王
    # after a2; 周 after z2, exactly 365 days): 3 disputes of 3 persons. Not b2: 李's b1 is 366
    # Beijing days before. Not n1/n2 (赵 twice in one village: proposed, never linked), not
    # l1/l2 (a landline is nobody's). March 2024: z2 (周 after z1).
    march = reports.build_report(cases, MARCH, tz=BEIJING, now=NOW, persons=index)
    assert (march["current"]["repeat_disputes"], march["current"]["repeat_persons"]) == (3, 3)
    assert (march["previous"]["repeat_disputes"], march["previous"]["repeat_persons"]) == (1, 1)
    assert march["change"]["repeat_disputes"] == {"diff": 2, "pct": 200.0}
    drill = reports.figure_cases(
        [reports.case_facts(c) for c in cases],
        MARCH,
        BEIJING,
        NOW,
        reports.repeats([reports.case_facts(c) for c in cases], index.case_persons(), BEIJING),
    )
    assert {ids[f.id] for f in drill["repeat_disputes"]} == {"a2", "s2", "a3"}
    # The name-only pair is proposed as one person, and still not counted.
    zhao = _persons_by_case(authority)[station.ids["n1"]]["赵某"]
    assert [p.cases[0].id for p in index.proposals(zhao)] == [station.ids["n2"]]
    # Before the officer's link, s2 was nobody's repeat.
    assert (station.before_link["repeat_disputes"], station.before_link["repeat_persons"]) == (2, 2)
    # The flag-based figure keeps its meaning: n1 flagged by the officer, no reopenings.
    assert march["current"]["repeat_incidents"] == march["current"]["repeat_calls"] == 1
    # Local dates decide: in UTC, b2 (16:30 on 9 March) is 365 days after b1 and counts.
    utc = reports.build_report(cases, MARCH, tz=UTC, now=NOW, persons=index)["current"]
    disputes, persons = repeat_truth(truth, MARCH.start(UTC), MARCH.end(UTC), UTC, links(station))
    assert (utc["repeat_disputes"], utc["repeat_persons"]) == (len(disputes), len(persons)) == (4, 4)
    # Without the index the report does not guess: none, shown "—".
    blind = reports.build_report(cases, MARCH, tz=BEIJING, now=NOW)
    assert blind["current"]["repeat_disputes"] is None and blind["current"]["repeat_persons"] is None
    assert blind["change"]["repeat_disputes"] == {"diff": None, "pct": None}


@pytest.mark.timeout(120)
def test_the_report_command_shows_the_repeat_figures_in_text_json_csv_and_xlsx(
    station: Station, tmp_path: Path
) -> None:
    shown = fieldapp("report", "--store", station.authority, "--of", "2025-03", "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert (report["current"]["repeat_disputes"], report["current"]["repeat_persons"]) == (3, 3)
    assert (report["previous"]["repeat_disputes"], report["previous"]["repeat_persons"]) == (1, 1)
    assert report["current"]["repeat_incidents"] == 1  # the old key, as before

    zh = fieldapp("report", "--store", station.authority, "--of", "2025-03", "--lang", "zh")
    assert zh.returncode == 0, zh.stderr
    rows = {line.split()[0]: line.split()[1:] for line in zh.stdout.splitlines() if line.startswith("  ")}
    assert rows["重复纠纷"][:3] == ["3", "1", "+2"]
    assert rows["重复纠纷当事人"][:3] == ["3", "1", "+2"]
    assert rows["重复警情或反弹"][:2] == ["1", "0"]
    assert "重复纠纷 = 本期发现的纠纷中，有当事人在此前365天内" in zh.stdout
    assert "仅同名不算" in zh.stdout
    en = fieldapp("report", "--store", station.authority, "--of", "2025-03", "--lang", "en")
    assert "Repeat disputes " in en.stdout
    assert "never by a name alone" in en.stdout

    book, table = tmp_path / "r.xlsx", tmp_path / "r.csv"
    for fmt, out in (("xlsx", book), ("csv", table)):
        made = fieldapp("report", "--store", station.authority, "--of", "2025-03", "--format", fmt,
                        "--out", out, "--lang", "en")  # fmt: skip
        assert made.returncode == 0, made.stderr
    sheet = openpyxl.load_workbook(book)["report"]
    cells = {r[1]: r[2:5] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells["Repeat disputes"] == (3, 1, 2)
    assert cells["Persons in repeat disputes"] == (3, 1, 2)
    lines = {r[1]: r[2:5] for r in csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig")))}
    assert lines["Persons in repeat disputes"] == ["3", "1", "+2"]


# ---------------------------------------------------------------- persons in the exports

PERSON_HEADER = [
    "人员编号", "姓名", "其他编号", "手机号码", "村（社区）", "重点人员", "工作措施",
    "责任民警", "期限", "纠纷数", "未办结", "案件编号",
]  # fmt: skip


@pytest.mark.timeout(120)
def test_the_supervisors_export_has_one_row_per_person_with_the_plan(
    station: Station, tmp_path: Path
) -> None:
    book = tmp_path / "cases.xlsx"
    done = fieldapp("export", "--store", station.authority, "--format", "xlsx", "--out", book,
                    "--lang", "zh", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames == ["案件", "走访", "当事人", "人员"]
    sheet = workbook["人员"]
    assert [c.value for c in sheet[1]] == PERSON_HEADER and sheet.freeze_panes == "A2"
    rows = [dict(zip(PERSON_HEADER, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    # One row per person, counted the test's way: mobiles, the one link, name-only parties apart.
    label = {v: k for k, v in station.ids.items()}
    keys: dict[Key, set[str]] = {}
    linked = dict(links(station))
    for case_id, (_, parties) in truth_of(_cases(station.authority)).items():
        for party in parties:
            key = party_key(case_id, party)
            keys.setdefault(linked.get(key, key), set()).add(label[case_id])
    assert len(rows) == len(keys) == summary["persons"] == 11
    assert summary["persons_left_out"] is False
    wang = next(r for r in rows if r["手机号码"] == "13800001111")
    assert rows[0] == wang  # the key person first
    assert (wang["姓名"], wang["村（社区）"], wang["重点人员"]) == ("王某", "东岭村；西岭村", "是")
    assert wang["工作措施"] == PLAN
    assert wang["责任民警"] == "测试辅警0" and wang["期限"] == datetime(2025, 4, 30)
    assert (wang["纠纷数"], wang["未办结"]) == (4, 4)
    wang_cases = {label[i] for i in wang["案件编号"].split("、")}
    assert wang_cases == keys[("mobile", "13800001111")] == {"a1", "a2", "a3", "a4"}
    sun = next(r for r in rows if r["姓名"] == "孙某")
    assert sun["纠纷数"] == 2 and sun["其他编号"] and sun["重点人员"] is None
    assert {label[i] for i in sun["案件编号"].split("、")} == {"s1", "s2"}
    zhou = next(r for r in rows if r["手机号码"] == "13700003333")
    assert {label[i] for i in zhou["案件编号"].split("、")} == {"z1", "z2", "a3"}
    assert sum(1 for r in rows if r["姓名"] == "钱某") == 2  # a shared landline joins nobody

    # The same table as a CSV file; a filtered export lists the persons of its cases only.
    cases_csv, persons_csv = tmp_path / "c.csv", tmp_path / "p.csv"
    done = fieldapp("export", "--store", station.authority, "--format", "csv", "--out", cases_csv,
                    "--persons-out", persons_csv, "--village", "西岭村", "--lang", "zh")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"1名人员写入 {persons_csv}" in done.stdout
    [header, only] = list(csv.reader(io.StringIO(persons_csv.read_text(encoding="utf-8-sig"))))
    assert header == PERSON_HEADER
    assert only[:6] == [wang["人员编号"], "王某", "", "13800001111", "东岭村；西岭村", "是"]
    assert only[8:11] == ["2025-04-30", "4", "4"]


def _cases(store: Path) -> list[dict[str, Any]]:
    service = CaseService.open(store, PASSPHRASE)
    try:
        return service.cases()
    finally:
        service.close()


@pytest.mark.timeout(120)
def test_an_officers_export_leaves_persons_out_and_refuses_a_persons_file(
    station: Station, tmp_path: Path
) -> None:
    book = tmp_path / "cases.xlsx"
    zh = fieldapp("export", "--store", station.officer, "--format", "xlsx", "--out", book, "--lang", "zh")
    assert zh.returncode == 0, zh.stderr
    assert openpyxl.load_workbook(book).sheetnames == ["案件", "走访", "当事人"]
    assert "未含人员工作表：人员信息（含重点人员及工作措施）只能在所长的设备上导出" in zh.stdout
    assert "`fieldapp sync`" in zh.stdout and "`fieldapp export`" in zh.stdout
    en = fieldapp("export", "--store", station.officer, "--format", "xlsx", "--out", tmp_path / "e.xlsx",
                  "--lang", "en", "--json")  # fmt: skip
    summary = json.loads(en.stdout)
    assert summary["persons"] is None and summary["persons_left_out"] is True
    text = fieldapp("export", "--store", station.officer, "--format", "xlsx", "--out", tmp_path / "t.xlsx",
                    "--lang", "en")  # fmt: skip
    assert "No persons sheet: persons (key persons and their plans) are exported only on the" in text.stdout

    written = set(tmp_path.iterdir())
    refused = fieldapp("export", "--store", station.officer, "--format", "csv", "--out", tmp_path / "c.csv",
                       "--persons-out", tmp_path / "p.csv", "--lang", "zh")  # fmt: skip
    assert refused.returncode == 1 and refused.stdout == ""
    assert "人员信息只能在所长的设备上导出，本设备是民警的设备；未写入任何文件。" in refused.stderr
    assert "--persons-out" in refused.stderr
    as_json = fieldapp("export", "--store", station.officer, "--format", "csv", "--out", tmp_path / "c.csv",
                       "--persons-out", tmp_path / "p.csv", "--json")  # fmt: skip
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr)["error"] == "persons_supervisor_only"
    assert set(tmp_path.iterdir()) == written  # nothing written
    # The officer's own device still lists its persons (`person list` reads this device only).
    listed = fieldapp("person", "list", "--store", station.officer, "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 11
