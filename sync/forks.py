"""Forks: two entries at one position of a log, each signed by its key (docs/replication.md).

A fork is recorded only on that proof (`sync.verify`). From its position on, the log is held
out of the view (`MergeEnv.held_out`: its entries are still stored and relayed; the station's
decisions about devices are folded anyway) until a supervisor settles it with `device.settle`.
A mixin of `sync.replica.Replica`: it works on the replica's tables.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sync.ops import chain_key, decode_trusted, op_key

if TYPE_CHECKING:
    from sync.replica import Replica

Entry = tuple[bytes, bytes]


class ForkQuarantine:
    """What a replica does about forks: which logs are held out, and letting them back in."""

    # Each method runs on a `Replica` (`self: Replica`, checked against all of Replica). Ignored
    # [misc] on each: mypy takes as self-type only a supertype of the class, and Replica is
    # this mixin's subclass.

    def quarantined(self: Replica, author: str) -> bool:  # type: ignore[misc]
        """True while a fork of one of `author`'s logs holds its work out of the view."""
        prefix = f"{author}."
        return any(chain.startswith(prefix) for chain in self.held_out)

    def fork_standing(self: Replica, fork: dict[str, Any]) -> str:  # type: ignore[misc]
        """ "open" (not settled); "kept" (settled for the entry this device holds there);
        "other" (settled for the other entry: this device holds the branch not kept, until it
        sets it aside); "awaiting" (set aside: the kept entry comes with the next sync)."""
        author, epoch, seq = str(fork["author"]), int(fork["epoch"]), int(fork["seq"])
        decision = self.settled(chain_key(author, epoch)).get(seq)
        if decision is None:
            return "open"
        stored = self.ops.raw().get(op_key(author, epoch, seq))
        if stored is None:
            return "awaiting"
        return "kept" if decision == hashlib.sha256(bytes(stored["b"])).digest() else "other"

    def settled(self: Replica, chain: str) -> dict[int, bytes]:  # type: ignore[misc]
        """seq -> the SHA-256 of the entry a supervisor kept there, for the forks of `chain`."""
        author, _, epoch_hex = chain.rpartition(".")
        record = self.device(author)
        decisions = (record.get("settled") if record is not None else None) or {}
        prefix = f"{epoch_hex}."
        return {
            int(key[len(prefix) :]): bytes(d["keep"])
            for key, d in decisions.items()
            if key.startswith(prefix)
        }

    def _set_aside_branches(self: Replica) -> None:  # type: ignore[misc]
        """Where a supervisor kept the other entry, take this device's branch out of its log
        (kept in the fork's record as `set_aside`): the kept one comes with the next sync."""
        for key, fork in list(self.forks.raw().items()):
            if self.fork_standing(fork) == "other":
                chain = chain_key(str(fork["author"]), int(fork["epoch"]))
                cut = self._cut_log(chain, int(fork["seq"]))
                aside = [*fork.get("set_aside", []), *([op.body, op.sig] for op in cut)]
                self.forks.put(key, {**fork, "set_aside": aside})

    def _held_out_changed(self: Replica) -> set[str]:  # type: ignore[misc]
        """Recompute `held_out` from the forks seen and the settlements; the chains whose
        held-out part changed."""
        held: dict[str, int] = {}
        for fork in self.forks.raw().values():
            if self.fork_standing(fork) in ("open", "other"):
                chain = chain_key(str(fork["author"]), int(fork["epoch"]))
                held[chain] = min(held.get(chain, int(fork["seq"])), int(fork["seq"]))
        changed = {c for c in held.keys() | self.held_out.keys() if held.get(c) != self.held_out.get(c)}
        if changed:
            self.held_out.clear()
            self.held_out.update(held)
        return changed

    def _refold_chains(self: Replica, chains: set[str]) -> dict[str, Any]:  # type: ignore[misc]
        """Dirty markers re-folding every entity with operations of `chains` (a fork's log was
        held out of the view, or let back in): their operations go back into `_pending`."""
        markers: dict[str, Any] = {}
        ops = self.ops.raw()
        for chain in chains:
            author, epoch_hex = chain.rsplit(".", 1)
            epoch = int(epoch_hex, 16)
            for seq in range(1, self.head(chain)[0] + 1):
                entry = ops[op_key(author, epoch, seq)]
                op = decode_trusted(bytes(entry["b"]), bytes(entry["s"]))
                reducer = self._reducers.get(op.kind)
                if reducer is None or reducer.table == "devices":
                    continue
                markers[f"{reducer.table}/{op.entity}"] = {"refold": True}
                self._pending[(reducer.table, op.entity)].append(op)
        return markers

    def _proof(self: Replica, key: str) -> list[Entry]:  # type: ignore[misc]
        """The stored entries from `key` on, up to the first that keeps its signature."""
        ops = self.ops.raw()
        author, epoch_hex, seq = key.split(".")
        epoch, proof = int(epoch_hex, 16), []
        for at in range(int(seq), self.head(chain_key(author, epoch))[0] + 1):
            entry = ops[op_key(author, epoch, at)]
            proof.append((bytes(entry["b"]), bytes(entry["s"])))
            if entry["s"]:
                return proof
        return []  # no checked signature after it: not proof (a store damaged by hand)

    def _mark_refold(self: Replica, chains: set[str]) -> None:  # type: ignore[misc]
        markers = self._refold_chains(chains)
        if markers:
            self.dirty.put_many(markers)
            if not self._session:
                self._fold()
