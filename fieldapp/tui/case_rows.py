"""Case documents as table cells: pure presentation, no Textual here."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from fieldapp.domain import model
from fieldapp.domain.documents import PublicCase
from fieldapp.i18n import has_key, t

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
