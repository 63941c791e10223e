"""Table column widths counted in terminal cells: each column as wide as its widest cell,
one column taking what the others leave of the table's width.

A Chinese character takes two cells (`rich.cells.cell_len`), so widths are never counted
in characters. Given to a table as fixed widths, they hold from the first frame (a width
measured by the table before its first layout can come out as narrow as the header).
Pure: no Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.cells import cell_len
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
