"""Police areas (警务区): which area each village belongs to, set by the station's supervisor.

A station divides its villages among a few police areas; supervisors look at the load
per area as well as per village and officer. The placement is an operation like any
other (`village.area`, entity = the village's name), folded into the `villages` view:
last writer wins by the merge's total order, a concurrent change is kept as a conflict,
and only a supervisor's certificate may make it (checked at merge time on every device).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from fieldapp.domain import model
from fieldapp.domain.documents import VillageDoc
from sync.merge import MergeEnv, PayloadFields, field_base, set_field
from sync.ops import Operation
from sync.refusals import Refusal, refusal

AREA_SET = "village.area"
TABLE = "villages"


def area_problem(village: Any, area: Any) -> Refusal | None:
    """Why a placement is invalid, or None."""
    if not isinstance(village, str) or not village.strip() or len(village) > model.MAX_SHORT:
        return refusal("text_required", field="village", limit=model.MAX_SHORT)
    if area is not None and (not isinstance(area, str) or len(area) > model.MAX_SHORT or not area.strip()):
        return refusal("area_invalid", limit=model.MAX_SHORT)
    return None


class VillageReducer:
    """Folds `village.area` operations into the `villages` view."""

    table = TABLE
    kinds = frozenset({AREA_SET})
    #: Raise it with every change to how villages fold (`version` in `sync.merge.Reducer`).
    version = 1
    payload_fields: PayloadFields = {AREA_SET: dict.fromkeys(("area", "base"))}

    def initial(self, op: Operation) -> VillageDoc:
        """A village no area holds yet."""
        return {"village": op.entity, "area": None, "conflicts": []}

    def apply(self, state: VillageDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """Only a supervisor places a village; the rest of the merge's rules as for cases."""
        role = env.role(op.author, op.epoch, op.seq)
        if role is None:
            return refusal("author_unknown")
        if role != "supervisor":
            return refusal("area_supervisor_only")
        area = op.payload.get("area")
        reason = area_problem(op.entity, area)
        if reason:
            return reason
        fields = cast("dict[str, Any]", state)  # the merge engine writes fields by name
        set_field(fields, "area", area.strip() if area else None, op, op.payload.get("base"))
        return None

    def finish(self, state: VillageDoc, last: Operation) -> None:
        """Nothing depends on the newest placement alone."""


def place_payload(view: Mapping[str, VillageDoc], village: str, area: str | None) -> dict[str, Any]:
    """The payload placing `village` in `area` (None: in no area), naming what it replaces."""
    return {"area": area, "base": field_base(view.get(village), "area")}


def areas_of(view: Mapping[str, VillageDoc]) -> dict[str, str]:
    """Village -> its police area, for the villages placed in one."""
    return {village: area for village, doc in view.items() if (area := doc.get("area"))}
