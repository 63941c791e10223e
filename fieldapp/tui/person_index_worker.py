"""The person index (`fieldapp.domain.person_index`) built without holding up the UI: the intake
form's early warning and home's plan dates ask it (docs/persons.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import PairDoc, PersonDoc
from sync.merge import OPS, WRITERS

#: Cases copied per slice on the UI thread before the index is built in a thread.
COPY_SLICE = 2000


async def person_index_off_thread(
    cases: Mapping[str, Any], links: Mapping[str, PairDoc], persons: Mapping[str, PersonDoc]
) -> PersonIndex:
    """The person index of these views, built in a thread (0.3 s at 17,000 cases).

    The views are live: a merge on the UI thread writes into them. So their documents are first
    copied here, on the UI thread, in slices between which keys are handled (a merge replaces a
    field's value and appends to the operations' list, so a copy of the top level is a stable
    picture); the thread reads only the copies.
    """
    items = list(cases.items())
    copies: dict[str, Any] = {}
    for start in range(0, len(items), COPY_SLICE):
        copies.update((case_id, dict(doc)) for case_id, doc in items[start : start + COPY_SLICE])
        await asyncio.sleep(0)
    link_copies: dict[str, Any] = {
        k: {**v, "conflicts": list(v.get("conflicts", ()))} for k, v in links.items()
    }
    mark_copies: dict[str, Any] = {
        k: {**v, WRITERS: dict(v.get(WRITERS, {})), OPS: list(v.get(OPS, ()))} for k, v in persons.items()
    }
    return await asyncio.to_thread(PersonIndex, copies, link_copies, mark_copies)
