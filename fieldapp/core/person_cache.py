"""One person index per unlocked store, kept current from what changed (docs/persons.md, "Cost").

The index (`fieldapp.domain.person_index`) is built once from the `cases`, `person_links` and
`persons` views, then brought current from the replica's change feed (`sync.changes`): the
documents changed since the token of its last reading are copied and `PersonIndex.updated`
makes a new index from them, equal to a fresh build. A reading is taken where the views may be
read (the app's thread: `changed`, then `copy`), and applied anywhere (`apply`, in a thread for
a whole build); `current` does both at once (the command line, a dialog's record).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import LINKS_TABLE, PERSONS_TABLE
from sync.merge import OPS, WRITERS
from sync.replica import Replica

CASES_TABLE = "cases"
TABLES = (CASES_TABLE, LINKS_TABLE, PERSONS_TABLE)


def copy_doc(table: str, doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a view's document that a merge folding meanwhile does not change (a merge
    replaces a case field's value; a pair's conflicts and a mark's registers grow in place)."""
    if doc is None:
        return None
    if table == LINKS_TABLE:
        return {**doc, "conflicts": list(doc.get("conflicts", ()))}
    if table == PERSONS_TABLE:
        return {**doc, WRITERS: dict(doc.get(WRITERS, {})), OPS: list(doc.get(OPS, ()))}
    return dict(doc)


@dataclass
class Reading:
    """What changed since the index kept: the ids per view (all of them for a whole build), and
    the copies of their documents once read (None: gone)."""

    #: The index the changes apply to (None: build from the copies).
    base: PersonIndex | None
    #: The change feed's token before the views were read.
    token: int
    #: View table -> the ids to read.
    ids: dict[str, list[str]]
    #: View table -> id -> its document's copy (None: gone).
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many documents are to be read."""
        return sum(len(ids) for ids in self.ids.values())


class KeptPersonIndex:
    """The person index of one replica, and the change-feed token it is current to."""

    def __init__(self, replica: Replica) -> None:
        self._replica = replica
        self._lock = threading.Lock()
        #: The latest index made, and the token it is current to (None: none built yet).
        self.index: PersonIndex | None = None
        self.token: int | None = None

    def views(self) -> dict[str, dict[str, Any]]:
        """The three views, live and folded up to date (read them on the app's thread)."""
        return {table: self._replica.view(table) for table in TABLES}

    def changed(self) -> Reading:
        """What to read to bring the index current: the views folded, the token, the ids."""
        views = self.views()  # (folds what a merge left pending: named in the feed)
        with self._lock:
            base, since = self.index, self.token
        feed = self._replica.changes
        # The token before the ids: a fold after it is named again next time, never missed.
        token = feed.token()
        if base is None:
            return Reading(None, token, {table: list(views[table]) for table in TABLES})
        ids = {}
        for table in TABLES:
            _now, changed = feed.changed_since(table, since)
            ids[table] = sorted(changed if changed is not None else views[table])
        return Reading(base, token, ids)

    def copy(self, reading: Reading, table: str, ids: list[str]) -> None:
        """Copy these documents of `table` into the reading (on the app's thread)."""
        view = self._replica.db.keyed(table).raw()
        docs = reading.docs.setdefault(table, {})
        for key in ids:
            docs[key] = copy_doc(table, view.get(key))

    def apply(self, reading: Reading) -> PersonIndex:
        """The index the reading makes (in any thread); kept if it is newer than the one kept."""
        cases, links, persons = (reading.docs.get(table, {}) for table in TABLES)
        if reading.base is None:
            index = PersonIndex(
                {k: v for k, v in cases.items() if v is not None},
                {k: v for k, v in links.items() if v is not None},
                {k: v for k, v in persons.items() if v is not None},
            )
        elif reading.count:
            index = reading.base.updated(cases, links, persons)
        else:
            index = reading.base
        with self._lock:
            if self.token is None or reading.token > self.token:
                self.index, self.token = index, reading.token
        return index

    def current(self) -> PersonIndex:
        """The index as the views stand now, brought current here (on the calling thread)."""
        reading = self.changed()
        for table, ids in reading.ids.items():
            self.copy(reading, table, ids)
        return self.apply(reading)
