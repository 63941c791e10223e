"""Which entities of each view changed, and since when (in memory only).

`Replica.changes` is a `ChangeFeed`: every fold of a view (`Replica._fold`, `fold_device`)
names the entities it wrote or removed, under one counter that only grows. A reader keeps the
token `changed_since` gave it and asks again with it: the answer names every entity written
since, at least (one written while it read may be named again next time; never one missed).
Nothing is persisted: after unlock the first read of a view is a whole read (a token of None).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class ChangeFeed:
    """A counter of folds and, per view table, the fold in which each entity last changed."""

    def __init__(self) -> None:
        # Folds run in a merge's thread while the app reads: one lock over both.
        self._lock = threading.Lock()
        self._folds = 0
        self._changed: dict[str, dict[str, int]] = {}

    def note(self, table: str, entities: Iterable[str]) -> None:
        """A fold wrote (or removed) `entities` of `table`."""
        with self._lock:
            self._folds += 1
            changed = self._changed.setdefault(table, {})
            for entity in entities:
                changed[entity] = self._folds

    def token(self) -> int:
        """The folds so far: what `changed_since` compares against."""
        with self._lock:
            return self._folds

    def changed_since(self, table: str, token: int | None) -> tuple[int, set[str] | None]:
        """(the token now, the entities of `table` changed after `token`); None for a token of
        None (nothing read yet: read every entity)."""
        with self._lock:
            if token is None:
                return self._folds, None
            changed = self._changed.get(table, {})
            return self._folds, {entity for entity, fold in changed.items() if fold > token}
