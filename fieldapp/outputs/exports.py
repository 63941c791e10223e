"""Exports of cases and their visits for supervisors: CSV, XLSX and JSON, with filters.

Pure functions over cases as `CaseService.cases()` presents them (the public shape
with history), plus `write_new`, which writes a file atomically and never replaces
an existing one unless asked to. No Textual here; openpyxl loads only for XLSX.

- CSV: one file of cases, UTF-8 with a byte-order mark (`utf-8-sig`) so that Excel
  shows Chinese correctly; the visits, the parties and the persons go to further CSV files
  when they are named (`--visits-out`, `--parties-out`, `--persons-out`), since a CSV file
  holds one table.
- XLSX: one workbook, sheets named in the export's language ("cases", "visits",
  "parties" and, given the persons' table, "persons"; 案件, 走访, 当事人, 人员); bold frozen header row;
  set up to print (`_print_setup`): A4, fitted to the page's width (landscape when a sheet is
  too wide for portrait), the header row repeated on every printed page.
- Parties: the cases' "parties" cell lists the names only, separated by "；" (Chinese)
  or "; " (English), never by a comma or "、", which names may hold; the exact form is
  the parties sheet (or CSV), one row per party: case id, name, phone, role.
- JSON: a list of the filtered cases exactly as `fieldapp case show --json` prints them
  (their visits are inside).
- Persons (`fieldapp.outputs.persons_export`): the caller gives their table, or None on a
  device that may not export them (docs/persons.md, "Privacy"); the workbook then has no
  persons sheet, and a persons CSV file is refused (`PersonsRefused`).

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
import difflib
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

from fieldapp.domain.documents import Outcome, PublicCase
from fieldapp.domain.model import is_overdue, visit_moment, visit_order
from fieldapp.i18n import Translator
from fieldapp.i18n import case as _case_strings  # noqa: F401  (registers outcome names)
from fieldapp.i18n import intake as _intake_strings  # noqa: F401  (registers party role names)
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
    "visit_recorded_at",
    "visit_kind",
    "visit_author",
    "visit_place",
    "visit_participants",
    "visit_note",
)
PARTY_COLUMNS = ("id", "party_name", "party_phone", "party_role")
#: Column widths in XLSX are capped at this many characters (long texts wrap in the cell).
MAX_WIDTH = 60

Names = Callable[[str], str]


@dataclass(frozen=True)
class Number:
    """A figure a spreadsheet stores as a number shown through a number format.

    `value` is what an XLSX cell holds (a rate of 6.3 % is 0.063, format "0.0%"); `text`
    is how the plain-text report and a CSV show it ("6.3%", "+32"): composed by the
    program from numbers alone, so a CSV writes it without the formula guard's quote.
    """

    value: int | float
    number_format: str
    text: str


Cell = str | int | float | date | datetime | Number | None
Table = tuple[list[str], list[list[Cell]]]


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says what to do."""

    code = "export_error"


class PersonsRefused(ExportError):
    """Persons asked for (`--persons-out`) on a device that is not a supervisor's: nothing is written."""

    code = "persons_supervisor_only"

    def __init__(self, lang: str) -> None:
        super().__init__(Translator(lang).t("export.persons_supervisor_only"))


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
    """Header and one row per case, with vocabulary and officers named in `lang`.

    The parties' names are separated by `export.party_sep` ("；" or "; "); each party's
    phone and role are in `party_table`.
    """
    tr = Translator(lang)
    sep = tr.t("export.list_sep")
    party_sep = tr.t("export.party_sep")
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
                party_sep.join(p["name"] for p in case["parties"]),
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
    """Header and one row per visit of the given cases, in the order they happened within each
    case: when it happened (the time its officer gave, else when it was recorded) and when it was
    recorded (`model.visit_moment`)."""
    tr = Translator(lang)
    rows: list[list[Cell]] = []
    for case in cases:
        for visit in sorted(case["visits"], key=visit_order):
            rows.append(
                [
                    case["id"],
                    case["village"],
                    local_time(visit_moment(visit), tz),
                    local_time(visit["at"], tz),
                    _term(tr, "visit", visit["kind"]),
                    names(visit["author"]),
                    visit.get("place", ""),
                    visit.get("participants", ""),
                    visit["note"],
                ]
            )
    return [tr.t(f"export.col.{c}") for c in VISIT_COLUMNS], rows


def party_table(cases: Sequence[PublicCase], lang: str) -> Table:
    """Header and one row per party of the given cases, in the order recorded: case id, name, phone, role."""
    tr = Translator(lang)
    rows: list[list[Cell]] = [
        [
            case["id"],
            party["name"],
            party.get("phone", ""),
            _term(tr, "intake.role", party.get("role", "party")),
        ]
        for case in cases
        for party in case["parties"]
    ]
    return [tr.t(f"export.col.{c}") for c in PARTY_COLUMNS], rows


def _text(cell: Cell) -> str | int | float:
    if cell is None:
        return ""
    if isinstance(cell, Number):
        return cell.text
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


# ------------------------------------------------------------------ cells: typed text stays text

#: A spreadsheet reads a text cell starting with one of these as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sheet_cell(cell: Cell, fmt: str) -> Cell:
    """A table's cell as the spreadsheet `fmt` ("csv" or "xlsx") must receive it.

    CSV: text starting with a `FORMULA_STARTS` character gets a leading `'` (Excel and
    LibreOffice then show the rest as text; the quote is visible in the cell); dates are
    written YYYY-MM-DD [hh:mm:ss]; numbers as they are; a `Number` as its text ("+32",
    "6.3%"), composed from numbers alone, so without the quote. XLSX: unchanged;
    `xlsx_bytes` stores every str as a string cell, so here a leading `=` needs no quote.
    """
    if fmt == "xlsx":
        return cell
    value = _text(cell)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not isinstance(cell, Number):
        return "'" + value
    return value


def _put_row(sheet: Any, row_number: int, row: Sequence[Cell]) -> None:
    """Write one XLSX row: text as string cells (never formulas), numbers and dates typed."""
    for column, value in enumerate(row, start=1):
        cell = sheet.cell(row=row_number, column=column)
        if isinstance(value, Number):
            cell.value = value.value
            cell.number_format = value.number_format
            continue
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


#: A4's paper size code in a workbook's page setup (ECMA-376's ST_PaperSize).
A4 = 9
#: Characters of column width (Excel's unit) that fit across portrait A4 at full size, within
#: the margins `xlsx_bytes` sets (1.3 cm each side).
PORTRAIT_WIDTH = 95
#: A sheet wider than this (in the same unit) prints landscape: fitted to portrait A4 it
#: would shrink below about two thirds of full size.
LANDSCAPE_OVER = 140


def _print_setup(sheet: Any, widths: Sequence[float], one_page: bool) -> None:
    """A4, fitted to one page wide (landscape if wide), the header row on every page, gridlines."""
    from openpyxl.worksheet.properties import PageSetupProperties

    setup = sheet.page_setup
    setup.paperSize = A4
    setup.orientation = "landscape" if sum(widths) > LANDSCAPE_OVER else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 1 if one_page else 0  # 0: as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.print_options.horizontalCentered = True
    margins = sheet.page_margins
    margins.left = margins.right = 0.5  # inches
    margins.top = margins.bottom = 0.6


def xlsx_bytes(sheets: Sequence[tuple[str, Table]], one_page: bool = False) -> bytes:
    """A workbook with one sheet per (title, table): bold frozen header, fitted widths, set up to print.

    Every sheet prints on A4, one page wide, the header row repeated on each page
    (`_print_setup`); `one_page` also fits it to one page tall (a report).
    """
    from openpyxl import Workbook  # loaded only when a workbook is written
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.worksheets[0])  # the empty sheet a new workbook starts with
    for title, (header, rows) in sheets:
        sheet = book.create_sheet(title)
        _put_row(sheet, 1, header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row_number, row in enumerate(rows, start=2):
            _put_row(sheet, row_number, row)
        sheet.freeze_panes = "A2"
        widths = []
        for index, name in enumerate(header, start=1):
            column = [name, *(row[index - 1] for row in rows)]
            letter = get_column_letter(index)
            widths.append(min(MAX_WIDTH, max(_width(v) for v in column) + 2))
            sheet.column_dimensions[letter].width = widths[-1]
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, str) and _width(cell.value) > MAX_WIDTH:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        if rows:
            sheet.auto_filter.ref = sheet.dimensions
        _print_setup(sheet, widths, one_page)
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
    parties: int = 0
    #: What each file holds, in the order of `files`: "cases", "visits", "parties" or "persons"
    #: (a workbook or a JSON file holds them all and is named "cases").
    tables: tuple[str, ...] = ()
    #: Persons written (a sheet or a CSV file); None if the export holds none.
    persons: int | None = None


def build_export(
    cases: Sequence[PublicCase],
    fmt: str,
    lang: str,
    names: Names,
    out: Path,
    visits_out: Path | None = None,
    tz: tzinfo | None = None,
    parties_out: Path | None = None,
    persons: Table | None = None,
    persons_out: Path | None = None,
) -> ExportResult:
    """The files (path → bytes) of an export of `cases` (already filtered), in the order written:
    the cases, then the visits, the parties and the persons (CSV, when named).

    `persons`: the persons' table (`persons_export.person_table`), or None where persons may not
    be exported: the workbook then has no persons sheet, and `persons_out` is refused.
    """
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of: {', '.join(FORMATS)}; got {fmt!r}.")
    for option, path, sheet in (
        ("--visits-out", visits_out, "visits"),
        ("--parties-out", parties_out, "parties"),
    ):
        if path is not None and fmt != "csv":
            raise ExportError(
                f"{option} is for --format csv only: an xlsx workbook has a {sheet} sheet, "
                f"and json holds the {sheet} inside each case."
            )
    if persons_out is not None and fmt != "csv":
        raise ExportError(Translator(lang).t("export.persons_out_csv_only"))
    if persons_out is not None and persons is None:
        raise PersonsRefused(lang)
    targets = [Path(p).resolve() for p in (out, visits_out, parties_out, persons_out) if p is not None]
    if len(set(targets)) < len(targets):
        raise ExportError(
            "--out, --visits-out, --parties-out and --persons-out name the same file; give each table "
            "its own file."
        )
    visits = sum(len(c["visits"]) for c in cases)
    parties = sum(len(c["parties"]) for c in cases)
    files: dict[str, bytes] = {}
    tables = ["cases"]
    if fmt == "csv":
        files[str(out)] = csv_bytes(case_table(cases, lang, names, tz))
        if visits_out is not None:
            files[str(visits_out)] = csv_bytes(visit_table(cases, lang, names, tz))
            tables.append("visits")
        if parties_out is not None:
            files[str(parties_out)] = csv_bytes(party_table(cases, lang))
            tables.append("parties")
        if persons_out is not None and persons is not None:
            files[str(persons_out)] = csv_bytes(persons)
            tables.append("persons")
        else:
            persons = None  # not written
    elif fmt == "xlsx":
        tr = Translator(lang)
        sheets = [
            (tr.t("export.sheet.cases"), case_table(cases, lang, names, tz)),
            (tr.t("export.sheet.visits"), visit_table(cases, lang, names, tz)),
            (tr.t("export.sheet.parties"), party_table(cases, lang)),
        ]
        if persons is not None:
            sheets.append((tr.t("export.sheet.persons"), persons))
        files[str(out)] = xlsx_bytes(sheets)
    else:
        files[str(out)] = json_bytes(cases)
        persons = None  # a JSON export is the cases (`fieldapp person list --json` lists persons)
    written = None if persons is None else len(persons[1])
    return ExportResult(len(cases), visits, files, parties, tuple(tables), written)


# ------------------------------------------------------------------ a village that no case has


class UnknownVillage(ExportError):
    """`--village` names a village no case of the store has (most likely a misspelling).

    `close` holds the store's village names nearest to it, best first; `known` all of them.
    The message is composed in the user's language by the command line (`message`).
    """

    code = "unknown_village"

    def __init__(self, village: str, close: list[str], known: list[str], message: str) -> None:
        super().__init__(message)
        self.village, self.close, self.known = village, close, known


def close_villages(wanted: str, known: Iterable[str], limit: int = 5) -> list[str]:
    """The names in `known` nearest to `wanted`, best first: by the characters and by their pinyin.

    A name typed with a homophone (东陵村 for 东岭村), in pinyin (dongling, dlc), or
    without its suffix (东岭) finds the village; at most `limit` names, none far off.
    """
    from fieldapp.domain.search import pinyin_forms  # pypinyin loads only for this

    typed = wanted.strip().lower()
    typed_full, typed_initials = pinyin_forms(typed)
    scored = []
    for name in set(known):
        full, initials = pinyin_forms(name)
        score = max(
            difflib.SequenceMatcher(None, typed, name.lower()).ratio(),
            difflib.SequenceMatcher(None, typed_full, full).ratio(),
            1.0 if typed and typed in (initials, full) else 0.0,
            0.9 if typed and (typed in name.lower() or typed_full in full) else 0.0,
        )
        if score >= 0.6:
            scored.append((-score, name))
    return [name for _score, name in sorted(scored)[:limit]]


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
