"""The shift report (`fieldapp.outputs.shift`) as text and as a CSV file, in Chinese or English.

Columns are aligned by display width (a Chinese character takes two cells), as the period
report's are; the CSV is UTF-8 with a BOM like every CSV export (docs/exports.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fieldapp.i18n import Translator
from fieldapp.i18n import reports as _columns  # noqa: F401  (registers the case fields' names)
from fieldapp.i18n import shift as _strings  # noqa: F401  (registers the shift report's strings)
from fieldapp.i18n import supervisor as _roles  # noqa: F401  (registers the role names)
from fieldapp.i18n.sync_errors import sync_error_text
from fieldapp.outputs.exports import Table, csv_bytes
from fieldapp.outputs.reports import _pad, _width
from fieldapp.outputs.shift import BROUGHT, days_ago

#: The device table's count columns, in order (the key of each row, or of its `brought`).
#: "refusals" are connections refused, "refused_ops" operations the rules did not count;
#: "behind" is None for a device that never completed a sync here (shown as "unknown").
COUNTS = (
    "sessions",
    "carried",
    *BROUGHT,
    "conflicts",
    "new_red",
    "refusals",
    "refused_ops",
    "errors",
    "overdue",
    "behind",
)
_COUNT_COLUMN = {"resolutions": "shift.col.resolutions"}


def _minute(stamp: str | None) -> str:
    return "" if stamp is None else datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")


def ago(stamp: str | None, now: datetime, tr: Translator) -> str:
    """ "3 days ago", "never"."""
    found = days_ago(stamp, now)
    if found is None:
        return tr.t("shift.ago.never")
    unit, n = found
    return tr.t(f"shift.ago.{unit}", n=n)


def merged_line(report: dict[str, Any], lang: str, now: datetime | None = None) -> str:
    """ "12 of 14 devices merged this shift; missing: 王警官 (last synced 3 days ago)"."""
    tr = Translator(lang)
    now = now or datetime.fromisoformat(report["until"])
    line = tr.t("shift.merged", merged=report["merged"], total=report["expected"])
    if report["missing"]:
        names = [
            tr.t("shift.missing_one", officer=m["officer"] or m["device"], ago=ago(m["last_sync"], now, tr))
            for m in report["missing"]
        ]
        line += tr.t("shift.missing", names=tr.t("shift.names_sep").join(names))
    return line


def device_table(report: dict[str, Any], lang: str) -> Table:
    """One row per device: who, last sync, whether it synced this shift, and the counts."""
    tr = Translator(lang)
    header = [
        tr.t("shift.col.officer"),
        tr.t("shift.col.device"),
        tr.t("shift.col.role"),
        tr.t("shift.col.last_sync"),
        tr.t("shift.col.synced"),
        *(tr.t(_COUNT_COLUMN.get(name, f"shift.col.{name}")) for name in COUNTS),
    ]
    rows: list[list[Any]] = []
    for row in report["devices"]:
        role = tr.t(f"devices.role.{row['role']}") if row["role"] in ("officer", "supervisor") else ""
        if row["revoked"]:
            role = tr.t("shift.revoked", role=role)
        counts = {**row, **row["brought"]}
        rows.append(
            [
                row["officer"] or "",
                row["device"],
                role,
                _minute(row["last_sync"]) or tr.t("shift.ago.never"),
                tr.t("shift.yes" if row["synced"] else "shift.no"),
                *(_count(counts[name], tr) for name in COUNTS),
            ]
        )
    unknown = [e for e in report["refused"] if not e["device"]]
    if unknown:
        rows.append(
            [
                tr.t("shift.unknown_devices"),
                "",
                "",
                "",
                "",
                *(len(unknown) if n == "refusals" else "" if n == "behind" else 0 for n in COUNTS),
            ]
        )
    return header, rows


def _count(value: int | None, tr: Translator) -> int | str:
    """A count cell; None (how far behind a device that never completed a sync here) as "unknown"."""
    return tr.t("shift.unknown") if value is None else int(value)


def event_line(event: dict[str, Any], lang: str) -> str:
    """A refused connection or a cut session of the report, as one line (the shift board's)."""
    tr = Translator(lang)
    who = str(event["officer"] or event["device"] or event["address"] or "")
    at, why = _minute(event["at"]), _why(event, lang)
    if not event["applied"]:
        return tr.t("shift.event", at=at, who=who, why=why)
    return tr.t("shift.event_applied", at=at, who=who, why=why, applied=event["applied"])


def _why(event: dict[str, Any], lang: str) -> str:
    tr = Translator(lang)
    key = f"shift.refused.{event['code']}"
    if event["side"] == "server" and event["device"] is None and tr.has(key):
        return tr.t(key)
    return sync_error_text(event["error"] or event["code"] or "", event["code"], event["params"], lang)


def shift_text(report: dict[str, Any], lang: str, now: datetime | None = None) -> str:
    """The whole report as text: title, the merged line, the device table, then the lists."""
    tr = Translator(lang)
    lines = [
        tr.t("shift.title", since=_minute(report["since"]), until=_minute(report["until"])),
        merged_line(report, lang, now),
        "",
    ]
    header, rows = device_table(report, lang)
    cells = [header, *([str(c) for c in row] for row in rows)]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        lines.append(
            "  ".join(
                _pad(c, w, right=i >= 5) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )

    def who(event: dict[str, Any]) -> str:
        return str(event["officer"] or event["device"] or event["address"] or "")

    def section(title: str, items: list[str]) -> None:
        lines.extend(["", tr.t(title, count=len(items))])
        lines.extend(f"  {item}" for item in items or [tr.t("shift.none")])

    section(
        "shift.section.refused",
        [tr.t("shift.event", at=_minute(e["at"]), who=who(e), why=_why(e, lang)) for e in report["refused"]],
    )
    section(
        "shift.section.errors",
        [
            tr.t(
                "shift.event_applied",
                at=_minute(e["at"]),
                who=who(e),
                why=_why(e, lang),
                applied=e["applied"],
            )
            for e in report["errors"]
        ],
    )
    section(
        "shift.section.new_red",
        [
            tr.t("shift.red_row", case=r["case"], village=r["village"], by=r["officer"] or r["by"])
            for r in report["new_red"]
        ],
    )
    sep = tr.t("shift.names_sep")
    section(
        "shift.section.new_conflicts",
        [
            tr.t(
                "shift.conflict_row",
                case=c["case"],
                field=tr.t(f"export.col.{c['field']}") if tr.has(f"export.col.{c['field']}") else c["field"],
                authors=sep.join(c["officers"]),
            )
            for c in report["new_conflicts"]
        ],
    )
    section(
        "shift.section.overdue",
        [
            tr.t(
                "shift.overdue_row",
                officer=o["officer"] or o["device"] or tr.t("shift.none"),
                count=o["count"],
                cases=sep.join(o["cases"][:10]) + ("…" if o["count"] > 10 else ""),
            )
            for o in report["overdue"]
        ],
    )
    if report["imports"]:
        lines.extend(["", tr.t("shift.imports", count=report["imports"])])
    return "\n".join(lines)


def shift_csv(report: dict[str, Any], lang: str) -> bytes:
    """The device table as CSV (UTF-8 with a BOM, CRLF): one row per device."""
    return csv_bytes(device_table(report, lang))
