"""Command-line exports and reports for supervisors: `fieldapp export`, `fieldapp report`,
`fieldapp shift-report`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.cli.cases import RISK_FILTER_HELP, STATUS_FILTER_HELP, AddCommon, service_for
from fieldapp.core.service import officer_names
from fieldapp.domain import model
from fieldapp.i18n import Translator, detect_language
from fieldapp.i18n import cli as _cli_strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n import reports as _strings  # noqa: F401  (registers the export strings)
from fieldapp.outputs.exports import (
    FORMATS,
    CaseFilter,
    ExportError,
    ExportResult,
    PersonsRefused,
    UnknownVillage,
    build_export,
    check_writable,
    close_villages,
    filter_cases,
    parse_date,
    write_new,
)
from fieldapp.outputs.persons_export import exported_persons, person_table
from fieldapp.outputs.reports import (
    PERIODS,
    ReportError,
    build_report,
    period_of,
    report_file,
    report_text,
    state_facts,
)
from fieldapp.outputs.shift import parse_since, shift_report
from fieldapp.outputs.shift_text import shift_csv, shift_text

#: `--category` of an export (a case's own: `fieldapp.cli.cases.CATEGORY_HELP`).
CATEGORY_FILTER_HELP = (
    "only cases of this category: family, marriage, neighbor, land (field boundaries), homestead, "
    "irrigation, debt, wages, housing, injury, hazard (a safety hazard), other"
)


def _lang(args: argparse.Namespace) -> str:
    return str(args.lang or detect_language())


def unknown_village(village: str, known: list[str], lang: str) -> UnknownVillage:
    """The refusal of a `--village` no case has, naming the close names (or all, if few)."""
    tr = Translator(lang)

    def quoted(names: list[str]) -> str:
        return tr.t("export.names_sep").join(tr.t("export.quoted", name=n) for n in names)

    close = close_villages(village, known)
    lines = [tr.t("export.unknown_village", village=quoted([village]))]
    if close:
        lines.append(tr.t("export.village_close", names=quoted(close)))
    elif known:
        lines.append(tr.t("export.village_known", names=quoted(sorted(known)[:12])))
    else:
        lines.append(tr.t("export.village_none"))
    return UnknownVillage(village, close, sorted(known), "\n".join(lines))


def export_message(result: ExportResult, fmt: str, lang: str) -> str:
    """What an export wrote, naming every file, and that it is not encrypted."""
    tr = Translator(lang)
    paths = list(result.files)
    if fmt == "csv":
        counts = {
            "cases": result.cases,
            "visits": result.visits,
            "parties": result.parties,
            "persons": result.persons or 0,
        }
        parts = [
            tr.t(f"export.wrote.{table}", count=counts[table], path=path)
            for table, path in zip(result.tables, paths, strict=True)
        ]
        text = tr.t("export.wrote.csv", files=tr.t("export.wrote.sep").join(parts))
    else:
        with_persons = fmt == "xlsx" and result.persons is not None
        text = tr.t(
            "export.wrote.xlsx_persons" if with_persons else f"export.wrote.{fmt}",
            cases=result.cases,
            visits=result.visits,
            parties=result.parties,
            persons=result.persons,
            path=paths[0],
        )
    if fmt == "xlsx" and result.persons is None:
        text += "\n" + tr.t("export.persons_left_out")
    return f"{text}\n{tr.t('export.not_encrypted')}"


def cmd_export(args: argparse.Namespace) -> int:
    """Write the filtered cases (and visits) as CSV, XLSX or JSON."""
    created_from = parse_date(args.date_from, "--from") if args.date_from else None
    created_to = parse_date(args.date_to, "--to") if args.date_to else None
    if created_from and created_to and created_from > created_to:
        raise ExportError(
            Translator(_lang(args)).t("cli.export.from_after_to", start=created_from, end=created_to)
        )
    wanted = CaseFilter(
        status=args.status,
        risk=args.risk,
        village=args.village,
        category=args.category,
        officer=args.officer,
        created_from=created_from,
        created_to=created_to,
        overdue=args.overdue,
    )
    targets = [p for p in (args.out, args.visits_out, args.parties_out, args.persons_out) if p]
    check_writable(targets, args.force)  # before unlocking: a refusal costs no passphrase
    with service_for(args) as service:
        lang = _lang(args)  # once the store is open: the device's remembered language too
        every = service.cases()
        known = {c["village"] for c in every}
        if args.village is not None and args.village not in known:
            raise unknown_village(args.village, sorted(known), lang)  # a misspelling writes nothing
        cases = filter_cases(every, wanted)
        names = officer_names(service)
        wants_persons = args.format == "xlsx" or args.persons_out is not None
        persons = exported_persons(service, cases) if wants_persons else None
        if args.persons_out is not None and persons is None and args.format == "csv":
            raise PersonsRefused(lang)  # before anything is written
        result = build_export(
            cases,
            args.format,
            lang,
            names,
            args.out,
            args.visits_out,
            parties_out=args.parties_out,
            persons=None if persons is None else person_table(persons, lang, names),
            persons_out=args.persons_out,
        )
    write_new(result.files, args.force)
    summary: dict[str, Any] = {
        "format": args.format,
        "cases": result.cases,
        "visits": result.visits,
        "parties": result.parties,
        "out": str(args.out),
        "visits_out": str(args.visits_out) if args.visits_out else None,
        "parties_out": str(args.parties_out) if args.parties_out else None,
        # Persons written (None: none); `persons_left_out`: a workbook without them (an officer's device).
        "persons": result.persons,
        "persons_out": str(args.persons_out) if args.persons_out else None,
        "persons_left_out": args.format == "xlsx" and result.persons is None,
        "files": list(result.files),
        "lang": lang,
    }
    print(json.dumps(summary, ensure_ascii=False) if args.json else export_message(result, args.format, lang))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The period report: this period beside the same period last year."""
    period = period_of(args.period, args.of)
    if (args.format is None) != (args.out is None):
        raise ReportError(Translator(_lang(args)).t("cli.report.format_and_out"))
    if args.out is not None:
        check_writable([args.out], args.force)
    with service_for(args) as service:
        lang = _lang(args)  # once the store is open: the device's remembered language too
        states = [s for s in service.cases_view().values() if s["exists"]]
        report = build_report(
            states, period, officer_names(service), facts_of=state_facts, persons=service.person_index()
        )
    if args.out is not None:
        write_new({str(args.out): report_file(report, args.format, lang)}, args.force)
        if args.json:
            print(
                json.dumps(
                    {"out": str(args.out), "format": args.format, "report": report}, ensure_ascii=False
                )
            )
        else:
            print(Translator(lang).t("report.wrote", period=period.code, path=args.out))
        return 0
    print(json.dumps(report, ensure_ascii=False) if args.json else report_text(report, lang))
    return 0


def cmd_shift_report(args: argparse.Namespace) -> int:
    """What each device's syncs with this computer brought since a time (docs/sync.md)."""
    now = datetime.now().astimezone()
    since = parse_since(args.since, now)  # before unlocking: a typo costs no passphrase
    if args.csv is not None:
        check_writable([args.csv], args.force)
    with service_for(args) as service:
        lang = _lang(args)
        report = shift_report(service, since, now)
    if args.csv is not None:
        write_new({str(args.csv): shift_csv(report, lang)}, args.force)
        if args.json:
            print(json.dumps({"out": str(args.csv), "report": report}, ensure_ascii=False))
        else:
            print(Translator(lang).t("shift.wrote", rows=len(report["devices"]), path=args.csv))
        return 0
    print(json.dumps(report, ensure_ascii=False) if args.json else shift_text(report, lang, now))
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add the export and report commands to the parser."""
    p = sub.add_parser("export", help="write cases and visits to a CSV, XLSX or JSON file")
    common(p)
    p.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="csv: one row per case (visits, parties and persons with --visits-out, --parties-out, "
        "--persons-out); xlsx: one workbook with sheets of cases, visits and parties, and persons on the "
        "supervisor's device; json: the cases as `fieldapp case show --json` prints them",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="the file to write (with --format csv: the cases' file); an existing one is replaced only "
        "with --force",
    )
    p.add_argument("--visits-out", type=Path, metavar="FILE", help="with --format csv: the visits' file")
    p.add_argument(
        "--parties-out", type=Path, metavar="FILE", help="with --format csv: the parties' file (one row each)"
    )
    p.add_argument(
        "--persons-out",
        type=Path,
        metavar="FILE",
        help="with --format csv, on the supervisor's device: the persons' file (one row per person of "
        "the exported cases)",
    )
    p.add_argument("--status", choices=model.STATUSES, metavar="STATUS", help=STATUS_FILTER_HELP)
    p.add_argument("--risk", choices=model.RISKS, help=RISK_FILTER_HELP)
    p.add_argument(
        "--village",
        help="only cases of this village (its exact name; a name no case has writes nothing and names the "
        "close ones)",
    )
    p.add_argument("--category", choices=model.CATEGORIES, metavar="CATEGORY", help=CATEGORY_FILTER_HELP)
    p.add_argument("--officer", metavar="DEVICE_ID", help="cases assigned to or recorded by this device")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="recorded on or after (local date)")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="recorded on or before (local date)")
    p.add_argument("--overdue", action="store_true", help="past the deadline and not resolved")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("report", help="the month's, quarter's or half-year's figures, against last year")
    common(p)
    p.add_argument("--period", default="month", metavar="|".join(PERIODS), help="default: month")
    p.add_argument("--of", metavar="YYYY-MM", help="a month inside the period (default: this month)")
    p.add_argument("--format", choices=("csv", "xlsx"), help="write the report's table to --out")
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="with --format: the file to write (an existing one is replaced only with --force)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser(
        "shift-report", help="what each device's syncs brought this shift, red cases, conflicts"
    )
    common(p)
    p.add_argument(
        "--since",
        metavar="TIME",
        help="start of the shift: YYYY-MM-DD HH:MM, HH:MM (today) or 12h / 30m ago (default: today 00:00)",
    )
    p.add_argument("--csv", type=Path, metavar="FILE", help="write the device table as CSV (UTF-8, BOM)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=cmd_shift_report)
