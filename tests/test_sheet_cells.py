"""Spreadsheets never turn typed text into a formula; numbers and dates stay typed.

Cases whose summary, village, party names, visit notes and officer name are formulas
(or start like one) go through the same code as `fieldapp export`, `fieldapp report`
and the supervisor's reports tab (`build_export`, `report_file`); the files are read
back with openpyxl, as raw XML from inside the XLSX zip, and as CSV text.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from fieldapp.core.service import CaseService, init_device, officer_names
from fieldapp.outputs.exports import build_export, csv_bytes, xlsx_bytes
from fieldapp.outputs.reports import build_report, period_of, report_file, state_facts
from harness import FAST_KDF, PASSPHRASE

#: What a hostile or careless hand types: each starts a formula in Excel or LibreOffice.
TYPED = (
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
)
OFFICER = '=HYPERLINK("http://x/?who","officer")'
#: OWASP's list of characters that make a CSV cell a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def in_xlsx(text: str) -> str:
    """`text` as an XLSX gives it back: XML reads a carriage return as a line feed."""
    return text.replace("\r", "\n")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CaseService]:
    """A supervisor's device with one case per typed text in every free-text field."""
    root = tmp_path / "device"
    init_device(root, PASSPHRASE, OFFICER, FAST_KDF, role="supervisor")
    svc = CaseService.open(root, PASSPHRASE)
    try:
        for text in TYPED:
            case = svc.new_case(
                "东村",
                "neighbor",
                "yellow",
                "placeholder",
                parties=[{"name": text, "phone": "", "role": "applicant"}],
                deadline="2026-12-31",
            )
            # An update keeps the text exactly as typed (an intake strips the ends).
            svc.update(case["id"], fields={"village": text, "summary": text})
            svc.add_visit(case["id"], "home", text, place=text, participants=text)
        yield svc
    finally:
        svc.close()


def export(service: CaseService, fmt: str, tmp_path: Path) -> dict[str, bytes]:
    out, visits = tmp_path / f"cases.{fmt}", tmp_path / "visits.csv"
    made = build_export(
        service.cases(), fmt, "en", officer_names(service), out, visits if fmt == "csv" else None
    )
    return made.files


def report(service: CaseService, fmt: str) -> bytes:
    states = [s for s in service.cases_view().values() if s["exists"]]
    report = build_report(states, period_of("month"), officer_names(service), facts_of=state_facts)
    return report_file(report, fmt, "en")


def assert_no_formula(book_bytes: bytes) -> list[openpyxl.cell.cell.Cell]:
    """No cell of any sheet is a formula, read by openpyxl and in the raw sheet XML."""
    with zipfile.ZipFile(io.BytesIO(book_bytes)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sheets
        for name in sheets:
            xml = archive.read(name).decode()
            assert re.search(r"<f[\s>/]", xml) is None, f"{name} holds a formula"
    book = openpyxl.load_workbook(io.BytesIO(book_bytes))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return cells


def test_typed_formulas_are_text_cells_in_the_xlsx_export(service: CaseService, tmp_path: Path) -> None:
    (book_bytes,) = export(service, "xlsx", tmp_path).values()
    assert_no_formula(book_bytes)
    book = openpyxl.load_workbook(io.BytesIO(book_bytes))
    cases, visits = book["cases"], book["visits"]
    header = [c.value for c in cases[1]]
    rows = [dict(zip(header, row, strict=True)) for row in cases.iter_rows(min_row=2)]
    assert len(rows) == len(TYPED)
    for column in ("Summary", "Village", "Parties"):
        assert sorted(r[column].value for r in rows) == sorted(map(in_xlsx, TYPED)), column
        assert {r[column].data_type for r in rows} == {"s"}
    assert {r["Recorded by"].value for r in rows} == {OFFICER}
    visit_header = [c.value for c in visits[1]]
    visit_rows = [dict(zip(visit_header, row, strict=True)) for row in visits.iter_rows(min_row=2)]
    for column in ("Note", "Place", "Participants", "Village"):
        assert sorted(r[column].value for r in visit_rows) == sorted(map(in_xlsx, TYPED)), column
    assert {r["Officer"].value for r in visit_rows} == {OFFICER}


def test_numbers_and_dates_stay_typed_in_the_xlsx(service: CaseService, tmp_path: Path) -> None:
    (book_bytes,) = export(service, "xlsx", tmp_path).values()
    sheet = openpyxl.load_workbook(io.BytesIO(book_bytes))["cases"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2], strict=True))
    assert row["Visits"].value == 1 and row["Visits"].data_type == "n"
    assert row["Deadline"].is_date and row["Deadline"].value == datetime(2026, 12, 31)
    assert row["Recorded at"].is_date and isinstance(row["Recorded at"].value, datetime)
    # Directly: negative numbers stay numbers, text that looks like one stays text.
    table = (["n", "d", "t"], [[-3, date(2026, 1, 2), "-3"]])
    (n, d, t) = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([("s", table)])))["s"][2]
    assert (n.value, n.data_type) == (-3, "n")
    assert d.is_date and d.value == datetime(2026, 1, 2)
    assert (t.value, t.data_type) == ("-3", "s")
    assert csv_bytes(table).decode("utf-8-sig").splitlines()[1] == "-3,2026-01-02,'-3"


def test_typed_formulas_get_a_leading_quote_in_the_csv_export(service: CaseService, tmp_path: Path) -> None:
    files = export(service, "csv", tmp_path)
    tables = {
        Path(path).name: list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        for path, data in files.items()
    }
    cases, visits = tables["cases.csv"], tables["visits.csv"]
    quoted = sorted("'" + text for text in TYPED)
    for column in ("Summary", "Village", "Parties"):
        assert sorted(r[column] for r in cases) == quoted, column
    for column in ("Note", "Place", "Participants", "Village"):
        assert sorted(r[column] for r in visits) == quoted, column
    assert {r["Recorded by"] for r in cases} == {"'" + OFFICER}
    assert {r["Officer"] for r in visits} == {"'" + OFFICER}
    for table in (cases, visits):
        for row in table:
            assert not any(value.startswith(FORMULA_STARTS) for value in row.values()), row
    assert {r["Visits"] for r in cases} == {"1"} and {r["Deadline"] for r in cases} == {"2026-12-31"}


def test_the_report_files_keep_typed_village_and_officer_names_as_text(service: CaseService) -> None:
    cells = assert_no_formula(report(service, "xlsx"))
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(map(in_xlsx, TYPED)) <= texts and OFFICER in texts
    counts = [c.value for c in cells if c.column == 3 and c.row > 1]
    assert counts and all(isinstance(v, int) or v == "—" or v.endswith("%") for v in counts)

    rows = list(csv.reader(io.StringIO(report(service, "csv").decode("utf-8-sig"), newline="")))
    items = {row[1] for row in rows}
    assert {"'" + text for text in TYPED} | {"'" + OFFICER} <= items
    # The only cells starting with a sign are the changes the report composed from numbers.
    signed = [(i, value) for row in rows for i, value in enumerate(row) if value.startswith(FORMULA_STARTS)]
    assert signed and all(i == 4 and re.fullmatch(r"[+-]\d+( \([+-][\d.]+%\))?", v) for i, v in signed)
