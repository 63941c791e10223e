"""Table column widths counted in terminal cells: each column as wide as its widest cell,
one column taking what the others leave of the table's width.

A Chinese character takes two cells (`rich.cells.cell_len`), so widths are never counted
in characters. Given to a table as fixed widths, they hold from the first frame (a width
measured by the table before its first layout can come out as narrow as the header).
Pure: no Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text

Cell = Text | str


def cell_width(cell: Cell) -> int:
    """Cells taken by the widest line of `cell`."""
    plain = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in plain.splitlines()), default=0)


def natural_widths(labels: Sequence[Cell], rows: Iterable[Sequence[Cell]]) -> list[int]:
    """Per column, the width of its widest cell, its label included."""
    widths = [cell_width(label) for label in labels]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], cell_width(cell))
    return widths


def fill_width(widths: Sequence[int], flexible: int, room: int, padding: int, minimum: int) -> list[int]:
    """`widths` with column `flexible` widened or narrowed to what the others leave of
    `room` cells (each column padded by `padding` on both sides), never below `minimum`.

    The other columns keep their widths: what they hold is shown whole, and only the
    flexible column (a free text) ends with "…" when the table is narrow.
    """
    others = sum(width for index, width in enumerate(widths) if index != flexible)
    fitted = list(widths)
    fitted[flexible] = max(minimum, room - others - 2 * padding * len(widths))
    return fitted


def drop_to_fit(
    keys: Sequence[str],
    widths: Sequence[int],
    flexible: str,
    room: int,
    padding: int,
    minimum: int,
    drop: Sequence[str],
) -> tuple[list[str], list[int]]:
    """The columns kept and their widths (`fill_width`, the `flexible` one taking the rest): when
    the others leave it less than `minimum`, columns go in the order of `drop` (as Find's do)."""
    kept, natural, dropping = list(keys), list(widths), list(drop)
    while True:
        fitted = fill_width(natural, kept.index(flexible), room, padding, minimum)
        if sum(fitted) + 2 * padding * len(fitted) <= room or not dropping:
            return kept, fitted
        gone = kept.index(dropping.pop(0))
        del kept[gone], natural[gone]


def ellipsize(text: str, width: int) -> str:
    """`text` cut to at most `width` cells, whole characters only, ending with "…" if cut.

    The "…" follows the last character that fits: where a Chinese character would straddle
    the edge, Rich's own cut ("…" after `set_cell_size`) leaves a blank before it ("双方 …").
    """
    if cell_len(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + "…" if width > 0 else ""


def fit_row(cells: Sequence[Cell], widths: Sequence[int]) -> list[Cell]:
    """A table row with each cell cut (`ellipsize`) to its column's width, styles kept, so the
    table never cuts one itself."""
    fitted: list[Cell] = []
    for cell, width in zip(cells, widths, strict=True):
        plain = cell.plain if isinstance(cell, Text) else cell
        if cell_len(plain) <= width or "\n" in plain:
            fitted.append(cell)
        elif isinstance(cell, Text):
            cut = cell.copy()
            cut.plain = ellipsize(plain, width)
            fitted.append(cut)
        else:
            fitted.append(ellipsize(plain, width))
    return fitted
