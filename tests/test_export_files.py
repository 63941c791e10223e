"""The files a supervisor hands on: numbers stay numbers, percentages round half up, the
workbooks print on A4, parties are unambiguous, and a misspelt village writes nothing.

A station officer's store holds March 2024 (16 disputes, 4 resolved: 25.0 %) and March
2025 (32 disputes, 2 resolved: 2/32 = 6.25 %, which a reader rounds to 6.3 %, and
Python's `round()` to 6.2). Some parties have names holding a comma or "、".
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fieldapp.core.service import CaseService
from fieldapp.outputs import reports
from fieldapp.outputs.dashboard import build_dashboard
from fieldapp.outputs.exports import build_export, close_villages, sheet_cell
from harness import PASSPHRASE
from harness.replicas import ManualWall, station_devices
from tests.cli import fieldapp as run_cli

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=BEIJING)
VILLAGES = ("东岭村", "西岭村", "南河村")
#: Names a comma-or-"、" join would run together: `李某, 某、张某某` is two, three or four people.
ODD_PARTIES = [
    {"name": "李某, 某", "phone": "13800000001", "role": "applicant"},
    {"name": "张某某、王某", "phone": "", "role": "respondent"},
    {"name": "Smith, J.", "phone": "+8613900000002", "role": "witness"},
]
ROLES_ZH = {"applicant": "申请人", "respondent": "被申请人", "witness": "证人", "party": "当事人"}


def at(year: int, month: int, day: int, hour: int = 10) -> int:
    return int(datetime(year, month, day, hour, tzinfo=BEIJING).timestamp() * 1000)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An officer's store: March 2024 (16 found, 4 resolved), March 2025 (32 found, 2 resolved)."""
    root = tmp_path_factory.mktemp("station")
    wall = ManualWall()
    wall.now = at(2024, 3, 1)
    with station_devices(root, 1, wall=wall) as (_authority, officer):
        for year, found, resolved in ((2024, 16, 4), (2025, 32, 2)):
            for i in range(found):
                wall.now = at(year, 3, 1 + i % 28) + i
                parties = (
                    ODD_PARTIES
                    if i % 5 == 0
                    else [{"name": f"测试人{year}{i}", "phone": f"139{i:08d}", "role": "party"}]
                )
                case = officer.new_case(
                    village=VILLAGES[i % 3],
                    category="land",
                    risk="yellow",
                    summary="田界纠纷，双方争执",
                    parties=parties,
                )
                if i < resolved:
                    officer.add_visit(case["id"], "home", "上门调解")
                    officer.update(
                        case["id"], status="resolved", outcome={"kind": "agreement", "terms": "赔偿1000元"}
                    )
    return root / "officer0"


@pytest.fixture(scope="module")
def cases(store: Path) -> list[dict[str, Any]]:
    service = CaseService.open(store, PASSPHRASE)
    try:
        return service.cases()
    finally:
        service.close()


def fieldapp(*args: str | Path) -> Any:
    """The command line in Beijing time, no locale (English unless --lang)."""
    return run_cli(*args, env={"TZ": "CST-8"}, without=("LC_ALL", "LANG"))


def march_report(cases: list[dict[str, Any]]) -> dict[str, Any]:
    return reports.build_report(cases, reports.period_of("month", "2025-03"), tz=BEIJING, now=NOW)


def rows_by_item(sheet: Any) -> dict[str, tuple[Any, ...]]:
    return {row[1].value: row for row in sheet.iter_rows(min_row=2)}


# ---------------------------------------------------------------- half up


def half_up_by_hand(part: int, whole: int) -> float:
    """Integers only: floor(1000 * part / whole + 1/2) / 10, for part, whole >= 0."""
    return (2000 * part + whole) // (2 * whole) / 10


@pytest.mark.parametrize(
    ("part", "whole", "shown"),
    [
        (2, 32, 6.3),  # 6.25: round() gives 6.2
        (1, 16, 6.3),
        (5, 80, 6.3),
        (1, 80, 1.3),  # 1.25
        (3, 8, 37.5),
        (1, 40, 2.5),
        (1, 2000, 0.1),  # 0.05
        (7, 16, 43.8),  # 43.75
        (1, 3, 33.3),
        (2, 3, 66.7),
        (0, 5, 0.0),
        (7, 7, 100.0),
    ],
)
def test_percentages_round_half_up(part: int, whole: int, shown: float) -> None:
    assert reports.percent(part, whole) == shown == half_up_by_hand(part, whole)


def test_changes_round_half_up_away_from_zero() -> None:
    assert reports.percent(3, 0) is None
    # +1 on 16 is +6.25 %; -1 on 16 is -6.25 %: both shown with the half rounded away from zero.
    assert reports._change(17, 16) == {"diff": 1, "pct": 6.3}
    assert reports._change(15, 16) == {"diff": -1, "pct": -6.3}
    # Rates are differences of one-decimal figures, exact (no 2.1999999999999997).
    assert reports._change(6.3, 4.1) == {"diff": 2.2, "pct": None}
    assert reports._change(6.3, 25.0) == {"diff": -18.7, "pct": None}


def test_the_rate_of_2_in_32_is_6_3_in_the_text_the_csv_and_the_dashboard(
    cases: list[dict[str, Any]],
) -> None:
    report = march_report(cases)
    assert report["current"]["found"] == 32 and report["current"]["found_resolved"] == 2
    assert report["current"]["resolution_rate"] == 6.3
    assert report["change"]["resolution_rate"]["diff"] == -18.7
    rate_line = next(
        line for line in reports.report_text(report, "zh").splitlines() if line.strip().startswith("化解率 ")
    )
    assert rate_line.split() == ["化解率", "6.3%", "25.0%", "-18.7个百分点"]
    rows = list(csv.reader(io.StringIO(reports.report_file(report, "csv", "en").decode("utf-8-sig"))))
    assert next(r for r in rows if r[1] == "Resolution rate")[2:5] == ["6.3%", "25.0%", "-18.7 pp"]
    board = build_dashboard(cases, today=date(2025, 3, 31), tz=BEIJING, now=NOW)
    assert board.periods["month"][1]["resolution_rate"] == 6.3


# ---------------------------------------------------------------- numbers in the report's workbook


def test_the_report_workbook_stores_rates_and_changes_as_numbers_with_formats(
    cases: list[dict[str, Any]],
) -> None:
    for lang, sheet_name, rate_item, found_item, unit in (
        ("zh", "报表", "化解率", "排查发现纠纷", '"个百分点"'),
        ("en", "report", "Resolution rate", "Disputes found", '" pp"'),
    ):
        book = openpyxl.load_workbook(io.BytesIO(reports.report_file(march_report(cases), "xlsx", lang)))
        assert book.sheetnames == [sheet_name]  # named in the report's language
        sheet = book[sheet_name]
        rows = rows_by_item(sheet)
        _section, _item, now, then, change, change_pct = rows[rate_item]
        assert (now.data_type, now.value, now.number_format) == ("n", 0.063, "0.0%")
        assert (then.data_type, then.value, then.number_format) == ("n", 0.25, "0.0%")
        assert change.data_type == "n" and change.value == -18.7
        assert change.number_format.startswith("+0.0" + unit) and unit in change.number_format
        assert change_pct.value is None  # a rate's change is in points only
        _section, _item, now, then, change, change_pct = rows[found_item]
        assert (now.value, then.value, now.data_type) == (32, 16, "n")
        assert (change.data_type, change.value, change.number_format) == ("n", 16, "+0;-0;0")
        assert (change_pct.data_type, change_pct.value) == ("n", 1.0)
        assert change_pct.number_format == "+0.0%;-0.0%;0.0%"
        # No cell of the figures' columns holds a number as text ("6.2%", "+32").
        for row in sheet.iter_rows(min_row=2, min_col=3):
            assert all(c.data_type == "n" or c.value in (None, "—") for c in row), [c.value for c in row]


def assert_prints_on_a4(sheet: Any, orientation: str, one_page: bool) -> None:
    setup = sheet.page_setup
    assert int(setup.paperSize) == 9  # A4
    assert setup.orientation == orientation
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(setup.fitToWidth) == 1
    assert int(setup.fitToHeight) == (1 if one_page else 0)  # 0: as many pages tall as needed
    assert sheet.print_title_rows == "$1:$1"  # the header row on every printed page


def test_both_workbooks_print_on_a4_one_page_wide_with_the_header_on_every_page(
    cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = openpyxl.load_workbook(io.BytesIO(reports.report_file(march_report(cases), "xlsx", "zh")))
    assert_prints_on_a4(report["报表"], "portrait", one_page=True)
    files = build_export(cases, "xlsx", "zh", lambda d: d, tmp_path / "cases.xlsx", tz=BEIJING).files
    book = openpyxl.load_workbook(io.BytesIO(files[str(tmp_path / "cases.xlsx")]))
    assert book.sheetnames == ["案件", "走访", "当事人"]  # a Chinese export's sheets are named in Chinese
    assert_prints_on_a4(book["案件"], "landscape", one_page=False)  # 17 columns: too wide upright
    assert_prints_on_a4(book["走访"], "portrait", one_page=False)
    assert_prints_on_a4(book["当事人"], "portrait", one_page=False)


# ---------------------------------------------------------------- parties


def split_names(cell: str, lang: str) -> list[str]:
    return cell.split("；" if lang == "zh" else "; ")


def test_parties_round_trip_through_the_workbook(cases: list[dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "cases.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(build_export(cases, "xlsx", "zh", str, out).files[str(out)]))
    header = [c.value for c in book["当事人"][1]]
    assert header == ["案件编号", "姓名", "联系电话", "身份"]
    rows = [tuple(r) for r in book["当事人"].iter_rows(min_row=2, values_only=True)]
    want = [
        (c["id"], p["name"], p["phone"] or None, ROLES_ZH[p["role"]]) for c in cases for p in c["parties"]
    ]
    assert rows == want
    assert sum(1 for r in rows if r[1] == "李某, 某") == 4 + 7  # every fifth case of 16 and of 32
    by_id = {c["id"]: c for c in cases}
    cases_sheet = book["案件"]
    names = [c.value for c in cases_sheet[1]].index("当事人")
    for row in cases_sheet.iter_rows(min_row=2, values_only=True):
        assert split_names(str(row[names]), "zh") == [p["name"] for p in by_id[row[0]]["parties"]]


def test_parties_round_trip_through_the_csv_files(
    store: Path, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    for lang in ("zh", "en"):
        out, visits, parties = (tmp_path / f"{name}-{lang}.csv" for name in ("cases", "visits", "parties"))
        result = fieldapp(
            "export", "--store", store, "--format", "csv", "--lang", lang,
            "--out", out, "--visits-out", visits, "--parties-out", parties,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        # The message names every file written.
        for path in (out, visits, parties):
            assert str(path) in result.stdout
        with parties.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        roles = ROLES_ZH if lang == "zh" else {r: r.capitalize() for r in ROLES_ZH}
        # A phone starting with "+" gets the formula guard's quote, as any typed text does.
        want = [
            [c["id"], p["name"], sheet_cell(p["phone"], "csv"), roles[p["role"]]]
            for c in cases
            for p in c["parties"]
        ]
        assert rows[1:] == want
        assert {"'+8613900000002", "李某, 某"} <= {r[2] for r in want} | {r[1] for r in want}
        with out.open(encoding="utf-8-sig", newline="") as fh:
            table = list(csv.DictReader(fh))
        column = "当事人" if lang == "zh" else "Parties"
        by_id = {c["id"]: c for c in cases}
        key = "案件编号" if lang == "zh" else "Case id"
        for row in table:
            assert split_names(row[column], lang) == [p["name"] for p in by_id[row[key]]["parties"]]
        assert any("李某, 某" in row[column] for row in table)


# ---------------------------------------------------------------- a misspelt village


def test_close_villages_by_characters_and_pinyin() -> None:
    known = ["东岭村", "西岭村", "南河村", "北山村"]
    assert close_villages("东陵村", known)[0] == "东岭村"  # a homophone
    assert close_villages("dongling", known) == ["东岭村"]  # typed in pinyin
    assert close_villages("dlc", known) == ["东岭村"]  # initials
    assert close_villages("南河", known)[0] == "南河村"  # the suffix left out
    assert close_villages("上海", known) == []


@pytest.mark.timeout(120)
def test_a_misspelt_village_writes_nothing_and_names_the_close_villages(store: Path, tmp_path: Path) -> None:
    out, visits = tmp_path / "c.csv", tmp_path / "v.csv"
    zh = fieldapp(
        "export", "--store", store, "--format", "csv", "--out", out, "--visits-out", visits,
        "--village", "东陵村", "--lang", "zh",
    )  # fmt: skip
    assert zh.returncode == 1 and zh.stdout == ""
    assert "没有村（社区）为“东陵村”的案件，未写入任何文件。" in zh.stderr
    assert "是否要找：“东岭村”" in zh.stderr and "--village" in zh.stderr
    en = fieldapp("export", "--store", store, "--format", "xlsx", "--out", tmp_path / "c.xlsx",
                  "--village", "dongling", "--lang", "en")  # fmt: skip
    assert en.returncode == 1 and en.stdout == ""
    assert 'No case has the village "dongling"; nothing was written.' in en.stderr
    assert 'Did you mean: "东岭村"?' in en.stderr and "--village" in en.stderr
    far = fieldapp("export", "--store", store, "--format", "csv", "--out", out, "--village", "上海", "--json")
    assert far.returncode == 1
    error = json.loads(far.stderr)
    assert error["error"] == "unknown_village"
    assert 'Villages with cases: "东岭村", "南河村", "西岭村"' in error["message"]
    assert list(tmp_path.iterdir()) == []
    # Spelt right, the same command writes both files and says so.
    right = fieldapp(
        "export", "--store", store, "--format", "csv", "--out", out, "--visits-out", visits,
        "--village", "东岭村", "--lang", "zh",
    )  # fmt: skip
    assert right.returncode == 0, right.stderr
    assert f"件案件写入 {out}" in right.stdout and f"次走访写入 {visits}" in right.stdout
    assert "文件未加密" in right.stdout
