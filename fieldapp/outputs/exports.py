"""Exports of cases and their visits for supervisors: CSV, XLSX and JSON, with filters.

Pure functions over cases as `CaseService.cases()` presents them (the public shape
with history), plus `write_new`, which writes a file atomically and never replaces
an existing one unless asked to. No Textual here; openpyxl loads only for XLSX.

- CSV: one file of cases, UTF-8 with a byte-order mark (`utf-8-sig`) so that Excel
  shows Chinese correctly; the visits go to a second CSV file when one is named
  (`--visits-out`), since a CSV file holds one table.
- XLSX: one workbook, sheet "cases" and sheet "visits"; bold frozen header row.
- JSON: a list of the filtered cases exactly as `fieldapp case show --json` prints them
  (their visits are inside).

Typed text never becomes a formula (`sheet_cell`, for both spreadsheet formats): in XLSX
every text cell is stored as a string (never as `<f>`, whatever it starts with); in CSV a
text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single quote
`'` in front, as OWASP advises against CSV injection, so Excel and LibreOffice show it as
text. Numbers stay numbers and dates stay dates in XLSX (and are written plainly in CSV).

Times are written in the local time of the machine that exports (or `tz`), to the
second; deadlines and follow-up dates are calendar dates as recorded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

from fieldapp.domain.documents import Outcome, PublicCase
from fieldapp.domain.model import is_overdue
from fieldapp.i18n import Translator
from fieldapp.i18n import case as _case_strings  # noqa: F401  (registers outcome names)
from fieldapp.i18n import reports as _strings  # noqa: F401  (registers the export strings)
from storage.files import atomic_write

FORMATS = ("csv", "xlsx", "json")
CASE_COLUMNS = (
    "id",
    "village",
    "category",
    "risk",
    "status",
    "summary",
    "parties",
    "source",
    "flags",
    "deadline",
    "assignee",
    "created_by",
    "created_at",
    "updated_at",
    "visits",
    "outcome",
    "terms",
)
VISIT_COLUMNS = (
    "id",
    "village",
    "visit_at",
    "visit_kind",
    "visit_author",
    "visit_place",
    "visit_participants",
    "visit_note",
)
#: Column widths in XLSX are capped at this many characters (long texts wrap in the cell).
MAX_WIDTH = 60

Names = Callable[[str], str]
Cell = str | int | date | datetime | None
Table = tuple[list[str], list[list[Cell]]]


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says what to do."""

    code = "export_error"


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to export; every given condition must hold.

    `officer` matches the device id of the officer in charge (assignee) or of the one
    who recorded the case. `created_from` / `created_to` are local calendar dates,
    both included. `overdue`: past the deadline on `today` and not resolved or closed.
    """

    status: str | None = None
    risk: str | None = None
    village: str | None = None
    category: str | None = None
    officer: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    overdue: bool = False
    today: date | None = None


def local_time(stamp: str | None, tz: tzinfo | None = None) -> datetime | None:
    """An ISO timestamp (as cases store them, UTC) in local time (or `tz`), without the zone."""
    if not stamp:
        return None
    return datetime.fromisoformat(stamp).astimezone(tz).replace(tzinfo=None)


def parse_date(text: str, option: str) -> date:
    """A date written exactly YYYY-MM-DD, or an ExportError naming the option."""
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != text:
        raise ExportError(f"{option} takes a date like 2026-03-31 (year-month-day); got {text!r}.")
    return parsed


#: A case as the caller of `filter_cases` has it (presented, or as the view holds it).
Case = TypeVar("Case", bound=PublicCase)


def filter_cases(cases: Iterable[Case], wanted: CaseFilter, tz: tzinfo | None = None) -> list[Case]:
    """The cases matching every condition of `wanted`, in the order given."""
    today = wanted.today or date.today()
    found = []
    for case in cases:
        shown: PublicCase = case  # (the checker reads a TypedDict's keys through its bound poorly)
        created = local_time(shown.get("created_at"), tz)
        if (
            (wanted.status is None or case["status"] == wanted.status)
            and (wanted.risk is None or case["risk"] == wanted.risk)
            and (wanted.village is None or case["village"] == wanted.village)
            and (wanted.category is None or case["category"] == wanted.category)
            and (wanted.officer is None or wanted.officer in (case.get("assignee"), case.get("created_by")))
            and (
                wanted.created_from is None or (created is not None and created.date() >= wanted.created_from)
            )
            and (wanted.created_to is None or (created is not None and created.date() <= wanted.created_to))
            and (not wanted.overdue or is_overdue(case, today))
        ):
            found.append(case)
    return found


def _term(tr: Translator, prefix: str, value: str | None) -> str:
    if not value:
        return ""
    key = f"{prefix}.{value}"
    return tr.t(key) if tr.has(key) else value


def case_table(cases: Sequence[PublicCase], lang: str, names: Names, tz: tzinfo | None = None) -> Table:
    """Header and one row per case, with vocabulary and officers named in `lang`."""
    tr = Translator(lang)
    sep = tr.t("export.list_sep")
    rows: list[list[Cell]] = []
    for case in cases:
        outcome: Outcome | dict[str, str] = case.get("outcome") or {}
        deadline = case.get("deadline")
        rows.append(
            [
                case["id"],
                case["village"],
                _term(tr, "category", case["category"]),
                _term(tr, "risk", case["risk"]),
                _term(tr, "status", case["status"]),
                case["summary"],
                sep.join(p["name"] for p in case["parties"]),
                _term(tr, "source", case.get("source")),
                sep.join(_term(tr, "flag", f) for f in case.get("flags", [])),
                date.fromisoformat(deadline) if deadline else None,
                names(assignee) if (assignee := case.get("assignee")) else "",
                names(created_by) if (created_by := case.get("created_by")) else "",
                local_time(case.get("created_at"), tz),
                local_time(case.get("updated_at"), tz),
                len(case["visits"]),
                _term(tr, "case.outcome", outcome.get("kind")),
                outcome.get("terms", ""),
            ]
        )
    return [tr.t(f"export.col.{c}") for c in CASE_COLUMNS], rows


def visit_table(cases: Sequence[PublicCase], lang: str, names: Names, tz: tzinfo | None = None) -> Table:
    """Header and one row per visit of the given cases, oldest first within each case."""
    tr = Translator(lang)
    rows: list[list[Cell]] = []
    for case in cases:
        for visit in sorted(case["visits"], key=lambda v: (v.get("hlc", 0), v["id"])):
            rows.append(
                [
                    case["id"],
                    case["village"],
                    local_time(visit["at"], tz),
                    _term(tr, "visit", visit["kind"]),
                    names(visit["author"]),
                    visit.get("place", ""),
                    visit.get("participants", ""),
                    visit["note"],
                ]
            )
    return [tr.t(f"export.col.{c}") for c in VISIT_COLUMNS], rows


def _text(cell: Cell) -> str | int:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


# ------------------------------------------------------------------ cells: typed text stays text

#: A spreadsheet reads a text cell starting with one of these as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Figure(str):
    """Text the program composed from numbers alone (a report's change, "+3 (+50.0%)").

    It holds no typed text, so a CSV writes it as it is; everything else that is text
    is treated as typed.
    """


def sheet_cell(cell: Cell, fmt: str) -> Cell:
    """A table's cell as the spreadsheet `fmt` ("csv" or "xlsx") must receive it.

    CSV: text starting with a `FORMULA_STARTS` character gets a leading `'` (Excel and
    LibreOffice then show the rest as text; the quote is visible in the cell); dates are
    written YYYY-MM-DD [hh:mm:ss]; numbers as they are. XLSX: unchanged; `xlsx_bytes`
    stores every str as a string cell, so here a leading `=` needs no quote.
    """
    if fmt == "xlsx":
        return cell
    value = _text(cell)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not isinstance(cell, Figure):
        return "'" + value
    return value


def _put_row(sheet: Any, row_number: int, row: Sequence[Cell]) -> None:
    """Write one XLSX row: text as string cells (never formulas), numbers and dates typed."""
    for column, value in enumerate(row, start=1):
        cell = sheet.cell(row=row_number, column=column)
        cell.value = sheet_cell(value, "xlsx")
        if isinstance(value, str):
            # openpyxl makes any str starting with "=" a formula; a string cell it stays.
            cell.data_type = "s"


def csv_bytes(table: Table) -> bytes:
    """A CSV file of one table: UTF-8 with a BOM, CRLF line ends (what Excel expects)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    header, rows = table
    writer.writerow([sheet_cell(c, "csv") for c in header])
    writer.writerows([sheet_cell(c, "csv") for c in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def _width(value: Cell) -> int:
    """Display width of a cell's text: CJK characters count double."""
    text = str(_text(value))
    longest = max((line for line in text.splitlines() or [""]), key=len)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in longest)


def xlsx_bytes(sheets: Sequence[tuple[str, Table]]) -> bytes:
    """A workbook with one sheet per (title, table): bold frozen header, fitted widths."""
    from openpyxl import Workbook  # loaded only when a workbook is written
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])  # a new workbook's one sheet
    for title, (header, rows) in sheets:
        sheet = book.create_sheet(title)
        _put_row(sheet, 1, header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row_number, row in enumerate(rows, start=2):
            _put_row(sheet, row_number, row)
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            column = [name, *(row[index - 1] for row in rows)]
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(_width(v) for v in column) + 2)
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, str) and _width(cell.value) > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        if rows:
            sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def json_bytes(cases: Sequence[PublicCase]) -> bytes:
    """The cases as a JSON list, each exactly as `case show --json` prints it."""
    return (json.dumps(list(cases), ensure_ascii=False, indent=1, default=_bytes_hex) + "\n").encode()


def _bytes_hex(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot export {type(value).__name__}")


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    cases: int
    visits: int
    files: dict[str, bytes]


def build_export(
    cases: Sequence[PublicCase],
    fmt: str,
    lang: str,
    names: Names,
    out: Path,
    visits_out: Path | None = None,
    tz: tzinfo | None = None,
) -> ExportResult:
    """The files (path → bytes) of an export of `cases` (already filtered)."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of: {', '.join(FORMATS)}; got {fmt!r}.")
    if visits_out is not None and fmt != "csv":
        raise ExportError(
            "--visits-out is for --format csv only: an xlsx workbook has a visits sheet, "
            "and json holds the visits inside each case."
        )
    if visits_out is not None and Path(visits_out).resolve() == Path(out).resolve():
        raise ExportError("--out and --visits-out name the same file; give the visits their own file.")
    visits = sum(len(c["visits"]) for c in cases)
    files: dict[str, bytes] = {}
    if fmt == "csv":
        files[str(out)] = csv_bytes(case_table(cases, lang, names, tz))
        if visits_out is not None:
            files[str(visits_out)] = csv_bytes(visit_table(cases, lang, names, tz))
    elif fmt == "xlsx":
        files[str(out)] = xlsx_bytes(
            [("cases", case_table(cases, lang, names, tz)), ("visits", visit_table(cases, lang, names, tz))]
        )
    else:
        files[str(out)] = json_bytes(cases)
    return ExportResult(len(cases), visits, files)


def check_writable(paths: Iterable[Path], force: bool) -> None:
    """Refuse before writing anything if a target exists (without `force`) or has no folder."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise ExportError(f"{path} is a folder; give a file name, e.g. {path / 'cases.csv'}.")
        if path.exists() and not force:
            raise ExportError(
                f"{path} already exists; nothing was written. Choose another name or add --force."
            )
        if not path.parent.is_dir():
            raise ExportError(f"The folder {path.parent} does not exist; nothing was written.")


def write_new(files: dict[str, bytes], force: bool = False) -> None:
    """Write each file atomically (a temporary file renamed into place), after checking all."""
    check_writable([Path(p) for p in files], force)
    for path, data in files.items():
        try:
            atomic_write(Path(path), data)
        except OSError as exc:
            raise ExportError(f"Cannot write {path}: {exc.strerror or exc}.") from None
