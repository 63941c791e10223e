"""Keep Chinese characters whole where a toast, dialog or menu lies over other widgets.

Textual's compositor cuts every screen line at the left and right edge of every widget on
it, covered or not, and paints each piece from the topmost widget there. A double-width
character of the top widget that straddles an edge of a widget below is split, and a split
character becomes two spaces: "草稿已丢弃。" over the intake form showed as "草稿  丢弃。"
(Textual issue #6357, open in 8.2.8). The widths of the messages are right; the loss is in
the compositor.

`install()` replaces the compositor's chopping with one that leaves such a character whole:
where one widget paints both pieces either side of the edge, the edge is not cut, and the
piece to its right is marked painted (empty) so no widget below shows through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

import textual
from rich.cells import get_character_cell_size
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

#: The Textual release whose `Compositor._render_chops` this module restates (pyproject pins it).
TEXTUAL_VERSION = "8.2.8"

_EMPTY = Strip([], 0)


def split_offsets(strip: Strip, offsets: Iterable[int]) -> set[int]:
    """Which of `offsets` (cells from the strip's left) fall inside a double-width character."""
    wanted = set(offsets)
    found: set[int] = set()
    if not wanted or strip.cell_length == len(strip.text):
        return found  # no double-width character at all (the common, fast case)
    x = 0
    for segment in strip:
        if segment.control:
            continue
        for char in segment.text:
            width = get_character_cell_size(char)
            if width == 2 and x + 1 in wanted:
                found.add(x + 1)
            x += width
    return found


def _render_chops(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    """Textual 8.2.8's `Compositor._render_chops`, except that a character is never cut in two
    between two pieces the same widget paints."""
    cuts = self.cuts
    chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
    intersection = Region.intersection
    for region, clip, strips in self._get_renders(crop):
        render_region = intersection(region, clip)
        render_x = render_region.x
        first_cut, last_cut = render_region.column_span
        for y, strip in zip(render_region.line_range, strips, strict=False):
            if not is_rendered_line(y):
                continue
            chops_line = chops[y]
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            inner = final_cuts[1:-1]
            split = split_offsets(strip, [cut - render_x for cut in inner])
            kept = final_cuts
            joined: list[int] = []
            if split:
                kept = final_cuts[:1]
                for cut in final_cuts[1:]:
                    # Painted front to back: a None piece is not yet claimed by a widget above.
                    if (
                        cut - render_x in split
                        and cut in chops_line
                        and chops_line[cut] is None
                        and chops_line.get(kept[-1]) is None
                    ):
                        joined.append(cut)
                    else:
                        kept.append(cut)
            cut_strips = strip.divide([cut - render_x for cut in kept[1:]])
            get_chops_line = chops_line.get
            for cut, cut_strip in zip(kept, cut_strips, strict=False):
                if get_chops_line(cut) is None:
                    chops_line[cut] = cut_strip
            for cut in joined:
                chops_line[cut] = _EMPTY  # painted by the piece to its left
    return cast("Sequence[Mapping[int, Strip]]", chops)


def install() -> bool:
    """Use the whole-character chopping in every screen (once; only on the Textual it restates)."""
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    return True
