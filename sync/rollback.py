"""Rollback of a device's store, repaired at sync (docs/replication.md, "Rollback of a device's store").

An older copy of a store put back cannot be told apart offline. When a peer holds more of
this device's own log than this device, or another entry at a position it holds, this device
goes on in a new epoch (it never signs a second entry at a position it signed), takes its log
back from the peer, and makes what it wrote into the gap again in the new epoch.
A mixin of `sync.replica.Replica`: it works on the replica's tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sync.ops import GENESIS, MalformedOperation, Operation, chain_key, decode, decode_trusted, op_key
from sync.trust import ALWAYS_FOLDED, ANNOUNCE
from sync.verify import authentic_from

if TYPE_CHECKING:
    from sync.replica import Replica

Entry = tuple[bytes, bytes]

#: The `local` document naming this device's logs being taken back after a rollback.
RECOVERING = "recovering"


def _renamed(value: Any, renamed: dict[str, str]) -> Any:
    """`value` with every text that names a renamed case or operation renamed."""
    if isinstance(value, str):
        return renamed.get(value, value)
    if isinstance(value, dict):
        return {k: _renamed(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, renamed) for v in value]
    return value


class RollbackRecovery:
    """What a replica does when it finds its own store was rolled back."""

    # Each method runs on a `Replica` (`self: Replica`, checked against all of Replica). Ignored
    # [misc] on each: mypy takes as self-type only a supertype of the class, and Replica is
    # this mixin's subclass.

    def start_epoch(self: Replica) -> None:  # type: ignore[misc]
        """Go on writing in a new log epoch of this device (announced like the first).

        After a rollback of this store its current log may hold entries other devices hold
        differently; a new epoch means this device never signs a second entry at a position
        it signed before, so it never forks its own log.
        """
        old = self.identity
        first = self.ops.raw().get(op_key(old.device_id, old.epoch, 1))
        if first is None:
            return  # nothing written in this epoch yet
        payload = decode_trusted(bytes(first["b"]), bytes(first["s"])).payload
        new = dataclasses.replace(old, epoch=int.from_bytes(os.urandom(8), "big") >> 1)
        with self.db.transaction():
            if self.on_epoch is not None:
                self.on_epoch(new)
            self.identity = new
            try:
                self.record(ANNOUNCE, new.device_id, payload)
            except BaseException:
                self.identity = old
                raise

    def own_log_behind(self: Replica, claims: dict[str, tuple[int, bytes]]) -> list[str]:  # type: ignore[misc]
        """This device's logs that a peer holds more of, or differently, than this device.

        `claims`: chain -> (seq, hash of the entry there) as the peer holds them. Such a log
        was rolled back here (an older copy of the store): it is marked to be taken back
        from the peer (`recovering`), and if it is the log this device writes in, it goes on
        in a new epoch at once.
        """
        me = self.identity
        behind = self.behind(claims)
        if behind:
            marks = dict(self.local.get_copy(RECOVERING) or {})
            marks.update(dict.fromkeys(behind, True))
            self.local.put(RECOVERING, marks)
            if chain_key(me.device_id, me.epoch) in behind:
                self.start_epoch()
        return behind

    def behind(self: Replica, claims: dict[str, tuple[int, bytes]]) -> list[str]:  # type: ignore[misc]
        """Of `claims` (chain -> (seq, entry hash) a peer holds), this device's own logs the peer
        holds more of, or differently, than this device does."""
        me, ops = self.identity, self.ops.raw()
        found = []
        for chain, (seq, digest) in sorted(claims.items()):
            author, _, epoch_hex = chain.rpartition(".")
            if author != me.device_id or seq <= 0:
                continue
            if seq <= self.head(chain)[0]:
                entry = ops.get(op_key(author, int(epoch_hex, 16), seq))
                if entry is not None and hashlib.sha256(bytes(entry["b"])).digest() == digest:
                    continue  # the peer holds a prefix of what is held here
            found.append(chain)
        return found

    def heads(self: Replica, author: str | None = None) -> dict[str, tuple[int, bytes]]:  # type: ignore[misc]
        """chain -> (head seq, hash of the head entry), of one author's logs or of all."""
        prefix = None if author is None else f"{author}."
        return {
            chain: (int(doc["seq"]), bytes(doc["hash"]))
            for chain, doc in self.chains.raw().items()
            if prefix is None or chain.startswith(prefix)
        }

    def recovering(self: Replica) -> set[str]:  # type: ignore[misc]
        """This device's logs being taken back from peers after a rollback."""
        return set(self.local.get_copy(RECOVERING) or {})

    def recovered(self: Replica, chains: Iterable[str]) -> None:  # type: ignore[misc]
        """These logs were taken back (a session with a peer holding them ended)."""
        marks = dict(self.local.get_copy(RECOVERING) or {})
        if any(marks.pop(chain, None) for chain in list(chains)):
            self.local.put(RECOVERING, marks)

    def sync_vector(self: Replica) -> dict[str, int]:  # type: ignore[misc]
        """The vector a sync sends: logs being taken back are asked for from their start."""
        vector = self.vector()
        for chain in self.recovering():
            if chain in vector:
                vector[chain] = 0
        return vector

    def _authentic_rollbacks(  # type: ignore[misc]
        self: Replica, candidates: list[Operation], entries: list[Entry]
    ) -> list[Operation]:
        """Of entries of this device's own log that differ from what it holds, those that are
        authentic: with the batch's entries after them, chained to the entry held before them
        and ending on this device's signature."""
        found = []
        for chain in {op.chain for op in candidates}:
            start = min(op.seq for op in candidates if op.chain == chain)
            ours = []
            for body, sig in entries:
                try:
                    op = decode(body, sig)
                except MalformedOperation:
                    continue
                if op.chain == chain and op.seq >= start:
                    ours.append(op)
            ours.sort(key=lambda op: op.seq)
            author, epoch = ours[0].author, ours[0].epoch
            before = self.ops.raw().get(op_key(author, epoch, start - 1))
            prev = GENESIS if before is None else hashlib.sha256(bytes(before["b"])).digest()
            if authentic_from(ours, prev, self.public_key(author)):
                found.append(ours[0])
        return found

    def _take_back(self: Replica, rollbacks: list[Operation]) -> list[Operation]:  # type: ignore[misc]
        """Put a peer's entries of this device's own log in place of the ones held here.

        The held entries from the first position that differs on are this device's writes
        into a gap a rollback of its store left: they are taken out of the log (kept in
        `reissued`) to be made again under a new epoch (`reissue_pending`), and the cases
        they touched are rebuilt from the log.
        """
        taken: list[Operation] = []
        first: dict[str, int] = {}
        for op in rollbacks:
            first[op.chain] = min(first.get(op.chain, op.seq), op.seq)
        for chain, seq in first.items():
            cut = self._cut_log(chain, seq)
            self.reissued.put_many({op.key: {"b": op.body, "s": op.sig, "as": None} for op in cut})
            taken += cut
        return taken

    def _cut_log(self: Replica, chain: str, seq: int) -> list[Operation]:  # type: ignore[misc]
        """Take the entries of `chain` from `seq` on out of the log (returned, for the caller to
        keep) and out of what waits to be folded; rebuild what they touched from the log."""
        author, _, epoch_hex = chain.rpartition(".")
        epoch, ops = int(epoch_hex, 16), self.ops.raw()
        keys = [op_key(author, epoch, at) for at in range(seq, self.head(chain)[0] + 1)]
        cut = [decode_trusted(bytes(ops[k]["b"]), bytes(ops[k]["s"])) for k in keys]
        before = ops.get(op_key(author, epoch, seq - 1))
        digest = GENESIS if before is None else hashlib.sha256(bytes(before["b"])).digest()
        self.ops.remove_keys(keys)
        self.chains.put(chain, {"seq": seq - 1, "hash": digest, "hlc": 0})
        for entity, waiting in list(self._pending.items()):
            self._pending[entity] = [op for op in waiting if op.chain != chain or op.seq < seq]
        markers: dict[str, Any] = {}
        for op in cut:
            reducer = self._reducers.get(op.kind)
            if reducer is not None and reducer.table != "devices":
                markers[f"{reducer.table}/{op.entity}"] = {"rebuild": True}
        self.dirty.put_many(markers)
        wanted = {("devices", op.entity) for op in cut if op.kind in ALWAYS_FOLDED}
        if wanted:  # the devices view is folded at once, not through dirty markers
            found, devices = self._scan_log(wanted), self.db.keyed("devices")
            for key in wanted:
                if not found.get(key):  # none of its device operations is left
                    self.changes.note("devices", (key[1],))
                    devices.remove_keys([key[1]])
                    continue
                self.fold_device(key[1], None, found[key])
            self._standings.clear()
        return cut

    def reissue_pending(self: Replica) -> None:  # type: ignore[misc]
        """Make again, in this device's current epoch, the operations a rollback took out.

        Each keeps its kind and payload; a case it created gets the id of its new creation,
        and later ones of those operations follow it there. Made as ordinary local operations,
        they are folded like any other: nothing recorded is lost (one the rules now refuse is
        kept, with the reason, like every refused operation).
        """
        waiting = [d for d in self.reissued.raw().values() if d["as"] is None]
        pending = sorted(
            (decode_trusted(bytes(d["b"]), bytes(d["s"])) for d in waiting), key=lambda op: (op.epoch, op.seq)
        )
        if not pending:
            return
        me = self.identity
        if any(op.chain == chain_key(me.device_id, me.epoch) for op in pending):
            self.start_epoch()
        renamed: dict[str, str] = {}
        self.fold_pending()
        for old in pending:
            me = self.identity
            seq = self.head(chain_key(me.device_id, me.epoch))[0] + 1
            reducer = self._reducers.get(old.kind)
            rename = getattr(reducer, "reissued_entity", None)
            entity = renamed.get(old.entity, old.entity)
            if rename is not None:
                fresh = rename(old, me.device_id, me.epoch, seq)
                if fresh is not None:
                    renamed[old.entity], entity = fresh, fresh
            op = self.make(old.kind, entity, _renamed(old.payload, renamed))
            renamed[old.key] = op.key
            with self.db.transaction():
                self._store([op])
                self.reissued.put(old.key, {"b": old.body, "s": old.sig, "as": op.key})
                if not self._session:
                    self._fold()
