"""A device's replica: its own log, everything it learned from others, and the view.

Tables (all inside the encrypted store):

- ``ops``: every accepted entry by op key, ``{"b": body, "s": signature}``; the signature
  is the author's and was checked here, or empty: the entry is then authenticated by the
  hash chain up to a later entry of its log that keeps one (`sync.verify`);
- ``chains``: per (author, epoch) the head seq and the hash of its body;
- ``forks``, ``rejections``: evidence kept for the supervisor's review;
- ``local``: this device's clock, and what the views were folded with (their format, and the
  kinds and version of every reducer: `FOLDED_WITH_KEY`);
- ``waiting``: the op keys of operations this version cannot fold in full (a kind, or payload
  fields, from a newer version): stored and relayed like any other, folded once understood;
- view tables: ``devices`` and one per reducer (``cases``), folded from ops.

Applying a batch verifies it, then stores the new entries, folds them into the
view and advances the chain heads in one transaction: one journal record (synced, with
its seal), all or nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from storage import FieldDB, KeyedTable
from storage.store import no_gc, pack
from sync.certs import Anchor
from sync.changes import ChangeFeed
from sync.devices import DeviceReducer
from sync.documents import DeviceDoc
from sync.forks import ForkQuarantine
from sync.hlc import HybridClock
from sync.identity import DeviceIdentity
from sync.merge import OPS, MergeEnv, Reducer, carries_unknown, fold_into, payload_checks
from sync.ops import (
    GENESIS,
    Operation,
    canonical,
    chain_key,
    decode,
    decode_trusted,
    encode_body,
    op_key,
    sign,
)
from sync.refusals import Refusal, refusal
from sync.rollback import RollbackRecovery
from sync.trust import (
    ANNOUNCE,
    REVOKE,
    SETTLE,
    DeviceRecord,
    announce_payload,
)
from sync.verify import Rejection, VerifyContext, kept_signatures, verify_batch

Entry = tuple[bytes, bytes]
#: How the views are folded; a store folded by another version is re-folded once on open.
#: 2: a field's writer is the index of its operation in the entity's `_ops`.
#: 3: a case keeps the log of its status changes (`fieldapp.domain.cases.STATUS_LOG`).
#: 4: a case keeps whether it was red since last opened (`fieldapp.domain.cases.RED_SINCE_OPENED`), so an
#:    officer's closure of such a case, or raise of an escalated case's tier, folds differently.
#: 5: a refusal is stored as a code with parameters (`sync.refusals`), not an English sentence.
#: 6: a reopening ends the case's outcome (kept in `reopened`) and cancels its pending follow-ups
#:    (`cancelled`: the reopening's op key), so follow-up visits and re-resolutions fold differently.
VIEW_FORMAT = 6
VIEW_FORMAT_KEY = "view_format"
#: How the log keeps signatures. 2: only signatures checked here (`sync.verify`); a store of
#: format 1 kept every received signature, checked or not, and is brought to 2 once on open.
LOG_FORMAT = 2
LOG_FORMAT_KEY = "log_format"
#: What the views were folded with: {"kinds": every kind a reducer knew, "versions": {table:
#: its reducer's version}}. Opened with reducers that know more kinds or have another version,
#: a replica re-folds what they change (`Replica._upgrade_views`). A store without it was
#: folded by a version from before it: what its fold left out is found in the log.
FOLDED_WITH_KEY = "folded_with"


class OperationRefused(Exception):
    """A local operation the rules do not allow; nothing was recorded.

    Carries the rules' coded `Refusal` (`code`, `params`): the app renders it in the user's language.
    """

    def __init__(self, refused: Refusal) -> None:
        super().__init__(str(refused))
        self.refusal = refused


@dataclass
class ApplyReport:
    """What applying a batch did."""

    applied: int = 0
    duplicates: int = 0
    held_back: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    forks: int = 0
    #: This device's own operations made again under a new epoch after a rollback of its store.
    reissued: int = 0
    #: The operations applied (what the sync ledger counts by author and kind: `sync.ledger`).
    accepted: list[Operation] = field(default_factory=list, repr=False)


class Replica(ForkQuarantine, RollbackRecovery):
    """Operations in, view out; deterministic whatever the arrival order.

    Forks and the quarantine they bring are in `sync.forks`; a rollback of this device's
    store is repaired by `sync.rollback`.
    """

    def __init__(
        self,
        db: FieldDB,
        identity: DeviceIdentity,
        station: str,
        reducers: Iterable[Reducer[Any]],
        clock: HybridClock | None = None,
        anchor: Anchor | None = None,
        on_epoch: Callable[[DeviceIdentity], None] | None = None,
    ) -> None:
        self.db = db
        #: Keeps this device's identity with a new epoch wherever its owner keeps it (in the
        #: same transaction); None: nowhere but here (tests).
        self.on_epoch = on_epoch
        self._encrypted = db.store  # looked up for every operation folded
        self.anchor = anchor
        self.identity: DeviceIdentity = identity
        self.station = station
        self._reducers: dict[str, Reducer[Any]] = {}
        for reducer in [DeviceReducer(), *reducers]:
            for kind in reducer.kinds:
                self._reducers[kind] = reducer
        self.view_tables = sorted({r.table for r in self._reducers.values()})
        #: kind -> how to tell a payload carrying fields its reducer does not read.
        self._payload_checks = payload_checks(
            {kind: r.payload_fields[kind] for kind, r in self._reducers.items() if kind in r.payload_fields}
        )
        self._folded_with: dict[str, Any] = {
            "kinds": sorted(self._reducers),
            "versions": {r.table: r.version for r in self._reducers.values()},
        }
        self.ops: KeyedTable = db.keyed("ops")
        self.chains = db.keyed("chains")
        self.forks = db.keyed("forks")
        self.local = db.keyed("local")
        self.rejections = db.table("rejections")
        #: This device's own operations taken out of its log after a rollback of its store, and
        #: the operation each was made again as (`as`), by op key (replication.md, "Rollback").
        self.reissued = db.keyed("reissued")
        #: Cases with stored operations not yet folded into the view ("table/entity").
        self.dirty = db.keyed("dirty")
        #: Operations this version cannot fold in full, by op key: {"kind"} (see `waiting`).
        self.waiting_ops = db.keyed("waiting")
        #: Which entities each fold of a view changed (`sync.changes`; in memory only).
        self.changes = ChangeFeed()
        self._pending: dict[tuple[str, str], list[Operation]] = defaultdict(list)
        self._session = False
        self._standings: dict[tuple[str, int], tuple[str | None, int | None, Refusal | None]] = {}
        saved = self.local.get_copy("clock")
        self.clock = clock or HybridClock()
        self.clock.last = max(self.clock.last, saved["last"] if saved else 0)
        #: chain -> first seq held out of the view (a fork not settled in favour of what is held).
        self.held_out: dict[str, int] = {}
        self.env = MergeEnv(
            role=self.role, revoked=self.revoked_reason, anchor=anchor, held_out=self.held_out
        )
        self._held_out_changed()
        self._upgrade_log()
        self._upgrade_views()
        self.reissue_pending()  # a process that died between taking its log back and this

    def _upgrade_log(self) -> None:
        """Keep only signatures this device has checked (a store from before log format 2).

        Format 1 stored every received entry's signature although only the last of each run
        was checked; relaying an unchecked one could stall a peer. Each other device's log
        keeps a checked signature at its head and at least every SEGMENT_ENTRIES entries and
        SEGMENT_BYTES bytes, as a receiver does now; the rest are emptied.
        """
        stored = self.local.get_copy(LOG_FORMAT_KEY)
        if stored is not None and stored.get("version") == LOG_FORMAT:
            return
        ops, me = self.ops.raw(), chain_key(self.identity.device_id, self.identity.epoch)
        stripped: dict[str, Any] = {}
        for chain, doc in self.chains.raw().items():
            if chain == me:
                continue  # this device's own signatures: made here
            author, epoch_hex = chain.rsplit(".", 1)
            key = self.public_key(author)
            keys = [op_key(author, int(epoch_hex, 16), seq) for seq in range(1, int(doc["seq"]) + 1)]
            run = [decode_trusted(bytes(ops[k]["b"]), bytes(ops[k]["s"])) for k in keys]
            kept = kept_signatures(run, key)
            stripped.update(
                {k: {"b": run[i].body, "s": b""} for i, k in enumerate(keys) if i not in kept and run[i].sig}
            )
        with self.db.transaction():
            if stripped:
                self.ops.put_many(stripped)
            self.local.put(LOG_FORMAT_KEY, {"version": LOG_FORMAT})

    def _upgrade_views(self) -> None:
        """Re-fold what an earlier version folded differently, or could not fold, once on open.

        A view format change marks every entity for a re-fold (the same path as a revocation's,
        done at the next read). Reducers that know kinds the stored fold did not, or whose
        version changed, re-fold what they change: the entities with stored operations of the new
        kinds, and every entity of a table whose reducer changed (`_to_refold`: one scan of the
        log). The devices view is re-folded here and now (verification reads it); if that changes
        it, every other entity is re-folded too (roles, revocations and fork settlements). All of
        it, with the new format and reducers recorded, in one transaction.
        """
        stored = self.local.get_copy(VIEW_FORMAT_KEY)
        same_format = stored is not None and stored.get("version") == VIEW_FORMAT
        folded_with = self.local.get_copy(FOLDED_WITH_KEY)
        if same_format and folded_with == self._folded_with:
            return
        everything = {
            f"{table}/{key}": {"refold": True}
            for table in self.view_tables
            if table != "devices"
            for key in self.db.keyed(table).raw()
        }
        markers = {} if same_format else dict(everything)
        found: dict[tuple[str, str], list[Operation]] = {}
        waiting: dict[str, Any] | None = None
        if folded_with != self._folded_with:
            found, waiting = self._to_refold(folded_with)
        with self.db.transaction():
            if not same_format:  # the devices view is not re-folded through markers: now
                self._refold_devices()
            devices, changed = self.db.keyed("devices"), False
            self._standings.clear()
            for (table, entity), ops in found.items():
                if table == "devices":
                    before = devices.get_copy(entity)
                    changed = self.fold_device(entity, None, ops) != before or changed
                else:
                    markers[f"{table}/{entity}"] = {"refold": True}
                    self._pending[(table, entity)] = ops
            self._standings.clear()
            if changed:  # roles, revocations, settlements: every entity may fold differently
                markers.update({k: v for k, v in everything.items() if k not in markers})
                self._set_aside_branches()
                markers.update(self._refold_chains(self._held_out_changed()))
            if markers:
                dirty = self.dirty.raw()
                self.dirty.put_many({key: {**dirty.get(key, {}), **doc} for key, doc in markers.items()})
            if waiting is not None:
                self.waiting_ops.remove_keys([k for k in self.waiting_ops.raw() if k not in waiting])
                self.waiting_ops.put_many(waiting)
            self.local.put(VIEW_FORMAT_KEY, {"version": VIEW_FORMAT})
            self.local.put(FOLDED_WITH_KEY, self._folded_with)

    def _to_refold(
        self, folded_with: dict[str, Any] | None
    ) -> tuple[dict[tuple[str, str], list[Operation]], dict[str, Any]]:
        """(every operation of each entity to re-fold, the operations still waiting) for reducers
        other than those the views were folded with (`folded_with`; None: not recorded).

        One pass over the log. An entity is re-folded if it has an operation of a kind the
        stored fold did not know, or belongs to a table whose reducer's version changed; with
        no record, if it has an operation its view does not list (a kind that fold skipped; or
        one cut off by a revocation or held out after a fork, which a re-fold leaves out again).
        """
        new_kinds: set[str] = set()
        changed: set[str] = set()
        if folded_with is not None:
            new_kinds = set(self._reducers) - set(folded_with.get("kinds", ()))
            versions = folded_with.get("versions", {})
            changed = {t for t, v in self._folded_with["versions"].items() if versions.get(t) != v}
        orders: dict[tuple[str, str], list[list[Any]]] = defaultdict(list)
        wanted: set[tuple[str, str]] = set()
        waiting: dict[str, Any] = {}
        reducers, checks = self._reducers, self._payload_checks
        for entry in self.ops.raw().values():
            op = decode_trusted(bytes(entry["b"]), bytes(entry["s"]))
            reducer = reducers.get(op.kind)
            if reducer is None:
                waiting[op.key] = {"kind": op.kind}
                continue
            check = checks.get(op.kind)
            if check is not None and carries_unknown(op.payload, check):
                waiting[op.key] = {"kind": op.kind, "fields": True}
            key = (reducer.table, op.entity)
            orders[key].append(list(op.order))
            if op.kind in new_kinds or reducer.table in changed:
                wanted.add(key)
        if folded_with is None:
            for (table, entity), held in orders.items():
                state = self.db.keyed(table).raw().get(entity)
                folded = set() if state is None else {tuple(o) for o in state[OPS]}
                if not folded.issuperset(tuple(o) for o in held):
                    wanted.add((table, entity))
        return {key: self.load_ops(orders[key]) for key in sorted(wanted)}, waiting

    def _refold_devices(self) -> None:
        """Fold the devices view again from the log, each device at once (as a cut log does in
        `sync.rollback`): it is folded as operations arrive, not through dirty markers, and its
        refusals too are kept as codes since view format 5."""
        devices = self.db.keyed("devices")
        found = self._scan_log({("devices", key) for key in devices.raw()})
        for (_, entity), ops in sorted(found.items()):
            self.fold_device(entity, None, ops)
        self._standings.clear()

    def fold_device(self, entity: str, state: dict[str, Any] | None, ops: list[Operation]) -> dict[str, Any]:
        """Fold `ops` into a device's entry (None: from scratch), store it and return it.

        Which of the device's own operations count (its announcement included) depends on its
        revocation, and the fold reads that from the entry as stored before it. When the fold
        changes the revocation (one arrived, or a re-fold found another), the entry is folded
        again from its operations with the new one: the same entry whatever the order in which
        the enrolment, the announcement and the revocation arrived.
        """
        devices, reducer = self.db.keyed("devices"), self._reducers[ANNOUNCE]
        self._standings.clear()
        self.changes.note("devices", (entity,))
        folded = fold_into(state, ops, reducer, self.env, self.load_ops)
        for _ in range(3):  # a revocation is not undone by skipping its device's operations: 2 at most
            read = devices.raw().get(entity)
            devices.put(entity, folded)
            self._standings.clear()
            if (read or {}).get("revoked") == folded.get("revoked"):
                break
            known = [*(self.load_ops(state[OPS]) if state else ()), *self.load_ops(folded[OPS]), *ops]
            every = {op.order: op for op in known}
            folded = fold_into(None, [every[k] for k in sorted(every)], reducer, self.env, self.load_ops)
        return folded

    # ------------------------------------------------------------ queries

    def view(self, table: str) -> dict[str, Any]:
        """Live documents of a view table (read-only), folded up to date."""
        if not self._session and table != "devices":
            self.fold_pending()
        return self.db.keyed(table).raw()

    def device(self, device_id: str) -> DeviceDoc | None:
        """The `devices` view entry of a device (read-only)."""
        devices = self._encrypted.tables.get("devices")
        return None if devices is None else devices.get(device_id)

    def _standing(self, author: str, epoch: int) -> tuple[str | None, int | None, Refusal | None]:
        """(role in that epoch, revocation cut-off or None, the revocation's refusal) of a log.

        Memoised until the devices view changes: merge asks for every operation it folds.
        """
        cached = self._standings.get((author, epoch))
        if cached is None:
            record = self.device(author)
            role = None if record is None else record["roles"].get(f"{epoch:016x}")
            revoked = None if record is None else record.get("revoked")
            if revoked is None:
                cached = (role, None, None)
            else:  # seq 0 as cut-off when the station never saw this log: all of it is refused
                cutoff = revoked["cutoff"].get(chain_key(author, epoch), 0)
                why = refusal("device_revoked", device=author, reason=revoked["reason"])
                cached = (role, cutoff, why)
            self._standings[(author, epoch)] = cached
        return cached

    def role(self, author: str, epoch: int, seq: int) -> str | None:
        """The role of (author, epoch, seq): from that epoch's announcement, None if revoked."""
        role, cutoff, _ = self._standings.get((author, epoch)) or self._standing(author, epoch)
        return None if cutoff is not None and seq > cutoff else role

    def revoked_reason(self, author: str, epoch: int, seq: int) -> Refusal | None:
        """Why (author, epoch, seq) is cut off by a revocation, or None (made before it: stays)."""
        _, cutoff, reason = self._standings.get((author, epoch)) or self._standing(author, epoch)
        return reason if cutoff is not None and seq > cutoff else None

    def public_key(self, author: str) -> bytes | None:
        """The author's public key if known."""
        record = self.device(author)
        # A device's entry may hold no key yet: an operation about it (a revocation, or a kind
        # from a newer version) can arrive before its announcement.
        key = None if record is None else record.get("public_key")
        return None if key is None else bytes(key)

    def head(self, chain: str) -> tuple[int, bytes]:
        """(seq, body hash) of the last entry held of a chain."""
        doc = self.chains.raw().get(chain)
        return (0, GENESIS) if doc is None else (int(doc["seq"]), bytes(doc["hash"]))

    def vector(self) -> dict[str, int]:
        """Version vector: chain -> highest contiguous seq held."""
        return {chain: int(doc["seq"]) for chain, doc in self.chains.raw().items()}

    def entries_missing_from(self, vector: dict[str, int]) -> Iterator[Entry]:
        """Entries a peer with `vector` lacks, chain by chain in sequence order."""
        ops = self.ops.raw()
        for chain, doc in sorted(self.chains.raw().items()):
            author, epoch_hex = chain.rsplit(".", 1)
            for seq in range(vector.get(chain, 0) + 1, int(doc["seq"]) + 1):
                entry = ops[op_key(author, int(epoch_hex, 16), seq)]
                yield bytes(entry["b"]), bytes(entry["s"])

    def waiting(self) -> int:
        """How many operations held here wait for a newer version of the app to be folded in full.

        Their kind, or a field of their payload, is one this version's reducers do not know
        (an operation made by a newer version). They are stored and relayed like any other, and
        folded once an upgraded app opens the store; none is refused or counted as refused.
        """
        ops, count = self.ops.raw(), 0
        for key in self.waiting_ops.raw():
            entry = ops.get(key)
            if entry is not None and self._not_understood(
                decode_trusted(bytes(entry["b"]), bytes(entry["s"]))
            ):
                count += 1  # (an entry cut from the log since, or replaced there, no longer counts)
        return count

    def _not_understood(self, op: Operation) -> bool:
        """Whether this version cannot fold `op` in full: its kind, or a payload field, is unknown."""
        if op.kind not in self._reducers:
            return True
        check = self._payload_checks.get(op.kind)
        return check is not None and carries_unknown(op.payload, check)

    def state_hash(self) -> str:
        """SHA-256 over the canonical encoding of every view table that holds a document.

        An empty table adds nothing: a version that adds a view (a reducer of new kinds) hashes as
        the version before over the same operations while none of them reach the new view.
        """
        digest = hashlib.sha256()
        for table in self.view_tables:
            docs = self.view(table)
            if not docs:
                continue
            digest.update(pack([table, len(docs)]))
            for key in sorted(docs):
                digest.update(pack([key, canonical(docs[key])]))
        return digest.hexdigest()

    # ------------------------------------------------------------ writing

    def ensure_announced(self, role: str, officer: str, cert: list[bytes] | None = None) -> None:
        """Start this device's log with its announcement (once per epoch)."""
        if self.head(chain_key(self.identity.device_id, self.identity.epoch))[0] == 0:
            payload = announce_payload(self.identity.public_key, role, officer, cert)
            self.record(ANNOUNCE, self.identity.device_id, payload)

    def make(self, kind: str, entity: str, payload: dict[str, Any]) -> Operation:
        """Build and sign the next operation of this device's log (not yet applied).

        Its stamp is past the clock as last stored (whatever received it) and past every
        operation this device holds for the entity, folded or pending: it sorts after them,
        so the merge folds it where `record`'s check did (a peer's fast clock cannot put a
        case's creation after an edit of it).
        """
        me = self.identity
        saved = self.local.raw().get("clock")
        if saved is not None:
            self.clock.observe(int(saved["last"]))
        reducer = self._reducers.get(kind)
        if reducer is not None:
            folded = (self.db.keyed(reducer.table).raw().get(entity) or {}).get("_ops")
            if folded:
                self.clock.observe(int(folded[-1][0]))  # `_ops` is sorted: the last is the latest
            for op in self._pending.get((reducer.table, entity), ()):
                self.clock.observe(op.hlc)
        seq, prev = self.head(chain_key(me.device_id, me.epoch))
        body = encode_body(
            self.station, me.device_id, me.epoch, seq + 1, prev, self.clock.now(), kind, entity, payload
        )
        return decode(body, sign(me.signing_key, body))

    def record(self, kind: str, entity: str, payload: dict[str, Any]) -> Operation:
        """Append a local operation and fold it in, durably; refused ones are not recorded."""
        while True:
            self.fold_pending()  # the rules must see everything already received
            # From the check to the write, no batch another thread applies can land in between.
            with self.db.transaction():
                if self._pending or self.dirty.raw():
                    continue  # one landed since the fold above: fold it too
                self._standings.clear()  # memoised per call: a rolled-back transaction may have left it stale
                op = self.make(kind, entity, payload)
                if self._not_understood(op):  # a misspelt field: every device would ignore it
                    raise OperationRefused(refusal("fields_not_read", kind=kind))
                revoked = self.revoked_reason(op.author, op.epoch, op.seq)
                if revoked is not None:  # the merge skips such operations before any reducer sees them
                    raise OperationRefused(revoked)
                reducer = self._reducers[kind]
                probe = self.db.keyed(reducer.table).get_copy(entity)
                probe = probe if probe is not None else reducer.initial(op)
                reason = reducer.apply(probe, op, self.env)
                if reason is not None:
                    raise OperationRefused(reason)
                self._store([op])
                self._fold()
                # What the merge made of it must be what the check said: otherwise undo it all.
                folded = self.db.keyed(reducer.table).raw().get(entity) or {}
                for refused in folded.get("refused", ()):
                    if refused["op"] == op.key:
                        raise OperationRefused(Refusal(refused["code"], refused["params"]))
                return op

    def apply(self, entries: list[Entry]) -> ApplyReport:
        """Verify a batch from another device and merge what is authentic, in one transaction."""
        if not self._session:
            self.fold_pending()  # what a killed process left unfolded first (see merge_session)
        ctx = VerifyContext(
            station=self.station,
            head=self.head,
            stored_body=self._stored_body,
            public_key=self.public_key,
            check_clock=self.clock.check,
            anchor=self.anchor,
            revoked=self.revoked_reason,
            proof=self._proof,
            own=self.identity.device_id,
            settled=self.settled,
        )
        self._standings.clear()
        with no_gc():  # decoding allocates per entry; collections over a big store cost seconds
            result = verify_batch(entries, ctx)
        taken_back: list[Operation] = []
        rollbacks = self._authentic_rollbacks(result.rollbacks, entries) if result.rollbacks else []
        if rollbacks:  # this device's own entries it had lost: take its log back first
            with self.db.transaction(), no_gc():
                taken_back = self._take_back(rollbacks)
                result = verify_batch(entries, ctx)
        for op in result.rollbacks if not rollbacks else ():
            result.rejections.append(
                Rejection(
                    "bad_signature",
                    "a different copy of an operation this device holds, not signed by its author "
                    "(altered or forged)",
                    op.author,
                    op.epoch,
                    op.seq,
                    {"why": "altered_copy"},
                )
            )
        report = ApplyReport(
            applied=len(result.accepted),
            duplicates=result.duplicates,
            held_back=result.held_back,
            rejections=result.rejections,
            forks=len(result.forks),
            reissued=len(taken_back),
            accepted=result.accepted,
        )
        with self.db.transaction(), no_gc():  # millions of small objects, none cyclic
            if result.accepted:
                self._store(result.accepted, result.signed)
                if not self._session:
                    self._fold()
            for fork in result.forks:
                self.forks.put(
                    fork.other.key,
                    {
                        "author": fork.author,
                        "epoch": fork.epoch,
                        "seq": fork.seq,
                        "held": fork.held,
                        "other": fork.other.body,
                        "other_sig": fork.other.sig,
                        "proof": [[body, sig] for body, sig in fork.proof],
                        "seen_at": time.time(),
                    },
                )
            if result.forks:
                self._mark_refold(self._held_out_changed())
            now = time.time()
            for rejection in result.rejections:
                self.rejections.insert(
                    {
                        "at": now,
                        "code": rejection.code,
                        "reason": rejection.reason,
                        "params": rejection.params,
                        "author": rejection.author,
                        "epoch": rejection.epoch,
                        "seq": rejection.seq,
                    }
                )
        if taken_back:
            self.reissue_pending()
        return report

    def _stored_body(self, key: str) -> bytes | None:
        entry = self.ops.raw().get(key)
        return None if entry is None else bytes(entry["b"])

    def load_ops(self, orders: Iterable[list[Any]]) -> list[Operation]:
        """Stored operations by their order tuples ([hlc, author, epoch, seq])."""
        ops = self.ops.raw()
        loaded = []
        for _hlc, author, epoch, seq in orders:
            entry = ops[op_key(author, epoch, seq)]
            loaded.append(decode_trusted(bytes(entry["b"]), bytes(entry["s"])))
        return loaded

    @contextmanager
    def merge_session(self) -> Iterator[None]:
        """Apply many batches (a sync round, several files), folding each case once at the end.

        Every batch is still verified and stored durably as it arrives; the cases it
        touches are marked dirty in the same transaction, so a crash before the fold
        is repaired when the store is next opened.

        The cyclic garbage collector is paused for the session: the operations waiting to
        be folded are tens of thousands of live, acyclic objects, and every collection
        between two batches walked them again (0.10-0.18 s of a 30-batch merge, measured
        with gc callbacks). What the session leaves cyclic is collected once it ends.
        """
        if self._session:
            yield
            return
        # A case a killed process stored but never folded is rebuilt from the log only if none of
        # its operations waits in memory: fold such cases before this session's operations do.
        self.fold_pending()
        self._session = True
        with no_gc():
            try:
                yield
            finally:
                self._session = False
                self.fold_pending()

    def fold_pending(self) -> None:
        """Bring the view up to date with every operation stored (one transaction)."""
        if self._pending or self.dirty.raw():
            with self.db.transaction(), no_gc():
                self._fold()

    def _store(self, accepted: list[Operation], signed: Container[str] | None = None) -> None:
        """Durably keep verified operations, advance heads, fold devices, mark cases dirty.

        `signed`: the keys whose signature was checked; the others are kept without one.
        None: all of them (this device's own).
        """
        if signed is None:
            self.ops.put_many({op.key: {"b": op.body, "s": op.sig} for op in accepted})
        else:
            self.ops.put_many(
                {op.key: {"b": op.body, "s": op.sig if op.key in signed else b""} for op in accepted}
            )
        heads: dict[str, Operation] = {}
        device_ops: list[Operation] = []
        touched: dict[tuple[str, str], None] = {}
        waiting: dict[str, Any] = {}
        reducers, pending, checks = self._reducers, self._pending, self._payload_checks
        for op in accepted:
            head = heads.get(op.chain)
            if head is None or op.seq > head.seq:
                heads[op.chain] = op
            reducer = reducers.get(op.kind)
            if reducer is None:
                # A kind from a newer version: kept in the log and relayed, never refused; folded
                # once an upgraded reducer knows it (`_upgrade_views`).
                waiting[op.key] = {"kind": op.kind}
                continue
            check = checks.get(op.kind)
            if check is not None and carries_unknown(op.payload, check):
                waiting[op.key] = {"kind": op.kind, "fields": True}  # folded without them until then
            if reducer.table == "devices":
                device_ops.append(op)
            else:
                entity = (reducer.table, op.entity)
                pending[entity].append(op)
                touched[entity] = None
        if accepted:
            self.clock.observe(max(op.hlc for op in accepted))
        dirty: dict[str, Any] = {f"{table}/{entity}": {} for table, entity in touched}
        self.chains.put_many(
            {chain: {"seq": op.seq, "hash": op.digest, "hlc": op.hlc} for chain, op in heads.items()}
        )
        # Devices at once, one operation at a time in total order: verification needs
        # their keys, and a revocation or role check must see the announcements before it.
        devices = self.db.keyed("devices")
        for op in sorted(device_ops, key=lambda o: o.order):
            self.fold_device(op.entity, devices.get_copy(op.entity), [op])
        self._standings.clear()  # the devices view changed: roles and revocations may have too
        if any(op.kind == REVOKE for op in device_ops):
            dirty.update(self._cut_off_by_revocations())
        if any(op.kind == SETTLE for op in device_ops):
            self._set_aside_branches()
            dirty.update(self._refold_chains(self._held_out_changed()))
        self.dirty.put_many({key: doc for key, doc in dirty.items() if not self.dirty.has(key)})
        if waiting:
            self.waiting_ops.put_many(waiting)
        self.local.put("clock", {"last": self.clock.last})

    def _cut_off_by_revocations(self) -> dict[str, Any]:
        """Dirty markers for every case holding operations a revocation now cuts off."""
        stale: dict[str, Any] = {}
        for table in self.view_tables:
            if table == "devices":
                continue
            for key, state in self.view(table).items():
                if any(self.revoked_reason(author, epoch, seq) for _hlc, author, epoch, seq in state["_ops"]):
                    stale[f"{table}/{key}"] = {"refold": True}
        return stale

    def _fold(self) -> None:
        """Fold every dirty entity with its pending operations; clear the markers."""
        self._standings.clear()
        markers = dict(self.dirty.raw())
        pending, self._pending = self._pending, defaultdict(list)
        # Markers with no operations in memory (a crash came between store and fold), and
        # entities whose operations left the log (a rollback taken back): rebuilt from the log.
        lost = {tuple(m.split("/", 1)) for m in markers} - set(pending)
        lost |= {tuple(m.split("/", 1)) for m, doc in markers.items() if doc.get("rebuild")}
        recovered = self._scan_log(lost) if lost else {}
        by_table: dict[str, dict[str, Any]] = defaultdict(dict)
        for marker, doc in markers.items():
            table, entity = marker.split("/", 1)
            state = self.db.keyed(table).get_copy(entity)
            ops = pending.pop((table, entity), [])
            if (table, entity) in lost or doc.get("refold"):
                # Rebuild from the log: after a crash, or when a revocation cut operations off.
                known = [] if state is None or doc.get("rebuild") else self.load_ops(state["_ops"])
                every = {op.order: op for op in (*known, *recovered.get((table, entity), ()), *ops)}
                ops, state = list(every.values()), None
            if ops:
                reducer = self._reducers[ops[0].kind]
                by_table[table][entity] = fold_into(state, ops, reducer, self.env, self.load_ops)
            elif doc.get("rebuild") and self.db.keyed(table).has(entity):
                by_table[table][entity] = {OPS: []}  # none of its operations is left: not shown
        for table, updated in by_table.items():
            self.changes.note(table, updated)  # before the writes: named again rather than missed
            # An entity none of whose operations counts (all held out or cut off) is not shown.
            gone = [key for key, state in updated.items() if not state[OPS]]
            for key in gone:
                del updated[key]
            self.db.keyed(table).put_many(updated)
            if gone:
                self.db.keyed(table).remove_keys([k for k in gone if self.db.keyed(table).has(k)])
        self.dirty.remove_keys(markers)

    def _scan_log(self, wanted: Container[tuple[str, ...]]) -> dict[tuple[str, ...], list[Operation]]:
        """Stored operations of the `wanted` (table, entity) pairs: one pass over the log."""
        found: dict[tuple[str, ...], list[Operation]] = defaultdict(list)
        for entry in self.ops.raw().values():
            op = decode_trusted(bytes(entry["b"]), bytes(entry["s"]))
            reducer = self._reducers.get(op.kind)
            if reducer is not None and (reducer.table, op.entity) in wanted:
                found[(reducer.table, op.entity)].append(op)
        return found

    def known_devices(self) -> list[DeviceRecord]:
        """Every device announced to this replica."""
        return [
            DeviceRecord(key, bytes(d["public_key"]), str(d["role"]), str(d["officer"]))
            for key, d in sorted(self.view("devices").items())
            if "public_key" in d
        ]
