"""The sync ledger: this device's own record of what each sync session brought.

One entry per session this device took part in (listening or connecting), per `ops import`
of a file, and per connection refused before any session (a device of another station, a
certificate off the profile: `SyncServer`'s "refused" events). Kept in the encrypted store,
in its own table, never sent to a peer and never part of the view or its state hash. Bounded:
every write drops entries that started more than KEEP_DAYS days ago, and the oldest beyond
MAX_ENTRIES. docs/sync.md, "The sync ledger", describes the entry.

An entry is written after the session's merge has committed (each batch is its own
transaction, `Replica.apply`), in a transaction of its own: a crash in between loses the
entry, never merged operations, and never leaves half an entry.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sync.ops import Operation
from sync.verify import Rejection

#: The store's table of ledger entries (local to this device).
LEDGER_TABLE = "sync_ledger"
#: Entries that ended longer ago than this are dropped at the next write.
KEEP_DAYS = 90
#: At most this many entries are kept (the oldest go first): 30 devices syncing a few times a
#: shift for 90 days stay well under it.
MAX_ENTRIES = 20_000
#: An entry's `side`: listening, connecting, or an operations file imported.
SIDES = ("server", "client", "file")
#: Session error codes that refuse the peer before anything is exchanged (docs/sync.md).
REFUSAL_CODES = frozenset({"revoked", "wrong_station", "wrong_device", "protocol_major", "refused"})


@dataclass
class Tally:
    """What the batches of one session (or file) merged: counted as they are applied."""

    #: (author device, operation kind) -> operations applied.
    applied: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: chain ("author.epoch") -> [[first seq, last seq], ...] of the operations applied, so that a
    #: report can tell which session carried any operation (ranges stay short: logs go in order).
    ranges: dict[str, list[list[int]]] = field(default_factory=dict)
    #: Refusal code -> entries refused.
    refusals: Counter[str] = field(default_factory=Counter)

    def add(self, accepted: Iterable[Operation], rejections: Iterable[Rejection] = ()) -> None:
        """Count a batch's applied operations and refusals."""
        applied, ranges = self.applied, self.ranges
        for op in accepted:
            applied[(op.author, op.kind)] += 1
            spans = ranges.setdefault(op.chain, [])
            if spans and spans[-1][1] + 1 == op.seq:
                spans[-1][1] = op.seq
            else:
                spans.append([op.seq, op.seq])
        for rejection in rejections:
            self.refusals[rejection.code] += 1


def entry(
    side: str,
    peer: str | None,
    start: float,
    end: float,
    *,
    officer: str | None = None,
    tally: Tally | None = None,
    counts: dict[str, int] | None = None,
    error: str | None = None,
    error_code: str | None = None,
    error_params: dict[str, Any] | None = None,
    address: str | None = None,
    refused: bool = False,
) -> dict[str, Any]:
    """A ledger document (plain data, as stored)."""
    tally = tally or Tally()
    applied: dict[str, dict[str, int]] = {}
    for (author, kind), n in sorted(tally.applied.items()):
        applied.setdefault(author, {})[kind] = n
    return {
        "kind": "refused" if refused else ("import" if side == "file" else "session"),
        "side": side,
        "peer": peer,
        "officer": officer,
        "address": address,
        "start": start,
        "end": end,
        "applied": applied,
        "ranges": tally.ranges,
        "refusals": dict(sorted(tally.refusals.items())),
        **{
            name: int((counts or {}).get(name, 0))
            for name in ("sent", "received", "duplicates", "held_back", "refused", "forks")
        },
        "error": error,
        "error_code": error_code,
        "error_params": dict(error_params or {}),
    }


def _key(start: float) -> str:
    """Entries sort by their start time (then at random: two sessions may start together)."""
    return f"{start:017.6f}-{os.urandom(4).hex()}"


def record(db: Any, doc: dict[str, Any], now: float | None = None) -> str:
    """Keep one entry, dropping those that started more than KEEP_DAYS days ago and the oldest
    beyond MAX_ENTRIES, in one transaction. `db` is the store (`storage.FieldDB`).

    Keys sort by start time, so only the oldest key is looked at unless something is due to go.
    """
    table = db.keyed(LEDGER_TABLE)
    now = time.time() if now is None else now
    key = _key(float(doc["start"]))
    held = table.raw()
    stale: list[str] = []
    if held:
        cutoff = _key(now - KEEP_DAYS * 86400)
        over = len(held) + 1 - MAX_ENTRIES
        if over > 0 or min(held) < cutoff:
            ordered = sorted(held)
            stale = [k for k in ordered if k < cutoff]
            stale += ordered[len(stale) : len(stale) + max(0, over - len(stale))]
    with db.transaction():
        table.put(key, doc)
        if stale:
            table.remove_keys(stale)
    return key


def entries(db: Any, since: float | None = None) -> list[dict[str, Any]]:
    """The ledger's entries (copies), oldest first; with `since`, those that ended at or after it."""
    held = db.keyed(LEDGER_TABLE).raw()
    found = [dict(held[k]) for k in sorted(held) if since is None or float(held[k].get("end", 0)) >= since]
    return found
