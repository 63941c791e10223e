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
from functools import lru_cache
from typing import cast

import textual
from rich.cells import get_character_cell_size
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

#: The Textual release whose `Compositor._render_chops` this module restates (pyproject pins it).
TEXTUAL_VERSION = "8.2.8"

_EMPTY = Strip([], 0)

#: Textual's own `Compositor._render_chops` (before `install()`; the draw bench and the tests
#: compare ours with it).
TEXTUAL_RENDER_CHOPS = Compositor._render_chops


@lru_cache(maxsize=8192)
def _measure(text: str) -> tuple[int, frozenset[int]]:
    """A segment's text: its cells (each character's, as `split_offsets_per_cell` counts them) and
    the offsets within it that fall inside a double-width character (its second cell). Segments
    are drawn again frame after frame, so this is computed once per text."""
    x = 0
    inside: set[int] = set()
    for char in text:
        width = get_character_cell_size(char)
        if width == 2:
            inside.add(x + 1)
        x += width
    return x, frozenset(inside)


def split_offsets(strip: Strip, offsets: Iterable[int]) -> set[int]:
    """Which of `offsets` (cells from the strip's left) fall inside a double-width character.

    Segment by segment (each one's measure cached by its text); only a segment that an offset falls
    strictly inside is looked at more closely. The same answer as `split_offsets_per_cell`."""
    wanted = sorted(set(offsets))
    found: set[int] = set()
    count = len(wanted)
    if not count:
        return found
    i = x = 0
    for text, _style, control in strip:
        if control:
            continue
        width, inside = _measure(text)
        end = x + width
        while i < count and wanted[i] <= x:
            i += 1
        if i == count:
            break
        if inside:
            j = i
            while j < count and wanted[j] < end:
                if wanted[j] - x in inside:
                    found.add(wanted[j])
                j += 1
        x = end
    return found


def split_offsets_per_cell(strip: Strip, offsets: Iterable[int]) -> set[int]:
    """`split_offsets` as first written, character by character (kept for the tests and the
    draw bench: the slow path the fast one must agree with)."""
    wanted = set(offsets)
    found: set[int] = set()
    if not wanted or strip.cell_length == len(strip.text):
        return found  # no double-width character at all
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
    between two pieces the same widget paints.

    A widget's line with no other widget's edge inside it, or only edges where a widget above
    already claimed the piece to the right (most lines), is cut as Textual cuts it, without
    looking at its characters."""
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
            get_chops_line = chops_line.get
            final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
            kept = final_cuts
            joined: list[int] = []
            if len(final_cuts) > 2:  # an edge inside the widget's line
                # A piece is joined to the one on its left only if no widget above claimed it
                # (as a container's line under its children is): only such edges are looked at.
                open_cuts = [
                    cut - render_x for cut in final_cuts[1:-1] if get_chops_line(cut, _EMPTY) is None
                ]
                split = split_offsets(strip, open_cuts) if open_cuts else None
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
            for cut, cut_strip in zip(kept, cut_strips, strict=False):
                if get_chops_line(cut) is None:
                    chops_line[cut] = cut_strip
            for cut in joined:
                chops_line[cut] = _EMPTY  # painted by the piece to its left
    return cast("Sequence[Mapping[int, Strip]]", chops)


def _render_chops_per_cell(
    self: Compositor, crop: Region, is_rendered_line: Callable[[int], bool]
) -> Sequence[Mapping[int, Strip]]:
    """`_render_chops` as first written (every line searched character by character; kept for the
    tests and the draw bench, which compare the fast path with it)."""
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
            split = split_offsets_per_cell(strip, [cut - render_x for cut in inner])
            kept = final_cuts
            joined: list[int] = []
            if split:
                kept = final_cuts[:1]
                for cut in final_cuts[1:]:
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
                chops_line[cut] = _EMPTY
    return cast("Sequence[Mapping[int, Strip]]", chops)


def install() -> bool:
    """Use the whole-character chopping in every screen (once; only on the Textual it restates)."""
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    Compositor._render_chops = _render_chops  # type: ignore[method-assign]
    return True
