"""The store's person index (`fieldapp.core.person_cache`) brought current without holding up the
UI: the intake form's early warning, home's plan dates, the person screen, the supervisor's key
persons and report ask it (docs/persons.md, "Cost")."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from fieldapp.core.person_cache import KeptPersonIndex
from fieldapp.core.service import CaseService
from fieldapp.domain.person_index import PersonIndex

#: Documents copied per slice on the UI thread, between which keys are handled.
COPY_SLICE = 2000
#: Up to this many changed documents, the index is brought current on the UI thread (12 ms after
#: 10 changed cases at 17,000: `bench.py persons`, `person_index_update_ms_k10`); more (the first
#: build) in a thread.
INLINE_CHANGES = 50

#: One bringing-current at a time per kept index: a screen asking meanwhile waits for it, then
#: reads only what changed after it (none at all, mostly).
_busy: WeakKeyDictionary[KeptPersonIndex, asyncio.Lock] = WeakKeyDictionary()


async def person_index_off_thread(service: CaseService) -> PersonIndex:
    """The store's person index, current: what changed since it was last brought current is
    copied here, on the UI thread, in slices between which keys are handled (a merge writing into
    the live views meanwhile changes none of the copies), then applied, in a thread when it is
    more than a few documents (the first time: the whole index, 0.3 s at 17,000 cases)."""
    kept = service.kept_persons
    lock = _busy.setdefault(kept, asyncio.Lock())
    async with lock:
        reading = kept.changed()
        for table, ids in reading.ids.items():
            for start in range(0, len(ids), COPY_SLICE):
                kept.copy(reading, table, ids[start : start + COPY_SLICE])
                if len(ids) > COPY_SLICE:
                    await asyncio.sleep(0)
        if reading.count <= INLINE_CHANGES:
            return kept.apply(reading)
        return await asyncio.to_thread(kept.apply, reading)


def person_index_if_cheap(service: CaseService) -> PersonIndex | None:
    """The store's person index brought current here, on the UI thread, if that is cheap (it
    was built, and few documents changed since); else None (ask `person_index_off_thread`)."""
    kept = service.kept_persons
    if kept.index is None:
        return None
    reading = kept.changed()
    if reading.base is None or reading.count > INLINE_CHANGES:
        return None
    for table, ids in reading.ids.items():
        kept.copy(reading, table, ids)
    return kept.apply(reading)
