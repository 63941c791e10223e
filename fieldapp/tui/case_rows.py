"""Case documents as table cells: pure presentation, no Textual here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text

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
#: Columns whose values are vocabulary codes shown through the translation layer.
TRANSLATED = frozenset({"category", "status"})


def risk_cell(level: str | None) -> Text:
    """The coloured risk badge for "red"/"orange"/"yellow"; plain text otherwise."""
    if not level:
        return Text("")
    style = RISK_STYLES.get(level)
    if style is None:
        return Text(level)
    return Text(f" {t(f'risk.{level}')} ", style=style)


def case_cells(doc: Mapping[str, Any]) -> list[Text]:
    """One table row for a case document; missing fields are blank."""
    cells = [risk_cell(doc.get("risk"))]
    for field in COLUMNS[1:]:
        value = doc.get(field)
        text = "" if value is None else str(value)
        if field in TRANSLATED and has_key(f"{field}.{text}"):
            text = t(f"{field}.{text}")
        cells.append(Text(text, no_wrap=True, overflow="ellipsis"))
    return cells
