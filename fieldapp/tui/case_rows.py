"""Case documents as table cells: pure presentation, no Textual here."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text

from fieldapp.domain import model
from fieldapp.domain.documents import PublicCase
from fieldapp.i18n import has_key, t
from fieldapp.tui.column_fit import fill_width

#: Table columns in display order; each is a case-document field and an i18n key suffix.
COLUMNS: tuple[str, ...] = ("risk", "village", "category", "status", "summary", "deadline")

#: Badge styles (a background, so they read on dark and light themes alike).
RISK_STYLES: dict[str, str] = {
    "red": "bold #ffffff on #c62828",
    "orange": "bold #000000 on #f57c00",
    "yellow": "bold #000000 on #fdd835",
}

SUMMARY_WIDTH = 36
#: Widest village column (cells); longer names end with "…".
VILLAGE_MAX_WIDTH = 16
DEADLINE_WIDTH = 10  # an ISO date
#: Columns whose values are vocabulary codes shown through the translation layer.
TRANSLATED = frozenset({"category", "status"})


def risk_value(level: str | None) -> tuple[str, str]:
    """(text, style) of the risk badge: coloured for "red"/"orange"/"yellow", plain ("") otherwise."""
    if not level:
        return "", ""
    style = RISK_STYLES.get(level)
    if style is None:
        return level, ""
    return f" {t(f'risk.{level}')} ", style


def risk_cell(level: str | None) -> Text:
    """The coloured risk badge for "red"/"orange"/"yellow"; plain text otherwise."""
    text, style = risk_value(level)
    return Text(text, style=style)


def case_values(doc: PublicCase) -> list[tuple[str, str]]:
    """One row for a case document as (text, style) pairs, in `COLUMNS` order; missing fields are blank."""
    cells = [risk_value(doc.get("risk"))]
    for field in COLUMNS[1:]:
        value = doc.get(field)
        text = "" if value is None else str(value)
        if field in TRANSLATED and has_key(f"{field}.{text}"):
            text = t(f"{field}.{text}")
        cells.append((text, ""))
    return cells


def case_cells(doc: PublicCase) -> list[Text]:
    """One table row for a case document; missing fields are blank."""
    (risk, style), *rest = case_values(doc)
    return [Text(risk, style=style)] + [Text(text, no_wrap=True, overflow="ellipsis") for text, _ in rest]


def column_widths(village_width: int) -> list[int]:
    """Widths (cells) of `COLUMNS` in the current language, each at least its label.

    Fixed for a set of cases, not fitted to the rows shown, so the columns keep still
    while the officer types: a badge of any risk, any category and status of the
    vocabulary, `village_width` (the longest village, up to `VILLAGE_MAX_WIDTH`).
    """
    fitted = {
        "risk": max(cell_len(risk_value(level)[0]) for level in model.RISKS),
        "village": min(village_width, VILLAGE_MAX_WIDTH),
        "category": max(cell_len(t(f"category.{c}")) for c in model.CATEGORIES),
        "status": max(cell_len(t(f"status.{s}")) for s in model.STATUSES),
        "summary": SUMMARY_WIDTH,
        "deadline": DEADLINE_WIDTH,
    }
    return [
        fitted[column] if column == "summary" else max(fitted[column], cell_len(t(f"column.{column}")))
        for column in COLUMNS
    ]


# ------------------------------------------------------------ Find's results

#: Find's columns in display order: the id and the parties first (what a search is for),
#: the summary last, taking what the others leave of the screen's width.
FIND_COLUMNS: tuple[str, ...] = (
    "id",
    "risk",
    "parties",
    "village",
    "category",
    "status",
    "deadline",
    "summary",
)
#: Dropped in this order when the screen is too narrow for them (the deadline never is).
FIND_DROP_ORDER: tuple[str, ...] = ("category", "summary", "village")
ID_WIDTH = 12  # `model.case_id_for`
PARTIES_MAX_WIDTH = 16  # when the screen is narrow
PARTIES_WIDE_MAX_WIDTH = 24  # when there is room (a phone's owner and the next name whole)
FIND_VILLAGE_MAX_WIDTH = 10
FIND_SUMMARY_MIN_WIDTH = 8
PARTY_SEPARATOR = "、"  # a name never holds it, unlike ", " (`张某某, 李某, 某`)


def party_names(doc: PublicCase, phone_hits: Sequence[int] = ()) -> str:
    """The parties' names; those whose phone the search matched first, marked (`find.phone_of`)."""
    parties = [p for p in doc.get("parties") or [] if isinstance(p, dict)]
    hits = [i for i in phone_hits if 0 <= i < len(parties)]
    names = [t("find.phone_of", name=str(parties[i].get("name") or "")) for i in hits]
    names += [str(p.get("name") or "") for i, p in enumerate(parties) if i not in hits]
    return PARTY_SEPARATOR.join(name for name in names if name)


def find_values(
    doc: PublicCase, columns: Sequence[str], phone_hits: Sequence[int] = ()
) -> list[tuple[str, str]]:
    """One Find row as (text, style) pairs for `columns` (from `find_columns`)."""
    shown = dict(zip(COLUMNS, case_values(doc), strict=True))
    shown["id"] = (str(doc.get("id") or ""), "")
    shown["parties"] = (party_names(doc, phone_hits), "")
    return [shown[column] for column in columns]


def find_columns(
    room: int, village_width: int, parties_width: int, padding: int
) -> tuple[list[str], list[int]]:
    """Find's columns and their widths (cells) for a table `room` cells wide in the current language.

    Each column is as wide as its widest value (villages and parties capped, the parties less
    so when the room allows) and at least its label; the summary takes the rest. When the room
    is short, columns go in `FIND_DROP_ORDER`, so the id, parties, risk, status and the whole
    deadline always show.
    """
    base = dict(zip(COLUMNS, column_widths(village_width), strict=True))
    natural = {
        "id": ID_WIDTH,
        "risk": base["risk"],
        # Room for the mark of a phone match too (`party_names`), so the names stay whole.
        "parties": max(parties_width, 1) + cell_len(t("find.phone_of", name="")),
        "village": min(max(village_width, 1), FIND_VILLAGE_MAX_WIDTH),
        "category": base["category"],
        "status": base["status"],
        "deadline": base["deadline"],
        "summary": FIND_SUMMARY_MIN_WIDTH,
    }
    parties = natural["parties"]
    columns = list(FIND_COLUMNS)
    drops = list(FIND_DROP_ORDER)
    while True:
        for cap in (PARTIES_WIDE_MAX_WIDTH, PARTIES_MAX_WIDTH):
            natural["parties"] = min(parties, cap)
            widths = [max(natural[column], cell_len(t(f"column.{column}"))) for column in columns]
            if "summary" in columns:
                widths = fill_width(widths, columns.index("summary"), room, padding, FIND_SUMMARY_MIN_WIDTH)
            if sum(widths) + 2 * padding * len(widths) <= room:
                return columns, widths
        if not drops:
            return columns, widths
        columns.remove(drops.pop(0))
