"""Deterministic merge: each entity's state is a fold of its operations in total order.

Total order is (HLC, author, epoch, seq). Folding in that order makes the view a
function of the *set* of operations held, whatever order they arrived in. New
operations that sort after everything already folded into an entity are applied
incrementally; one that sorts earlier triggers a re-fold of that entity alone.

Field registers are last-writer-wins in that order. Each write names the write
it replaces (its *base*: the op that set the value its author saw). A write whose
base is not the current winner was made without seeing it: both values are kept
in the entity's conflict list for a person to review, and the later one is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Final, Protocol, TypeVar

from sync.certs import Anchor
from sync.documents import Conflict, Refused
from sync.ops import Operation, op_key
from sync.refusals import Refusal
from sync.trust import ALWAYS_FOLDED

#: Keys the engine keeps in every entity state.
OPS: Final = "_ops"  # sorted [hlc, author, epoch, seq] of every operation folded in
#: field -> the index in OPS of the operation whose write is the current value. (An index,
#: not the op's key, hlc and author: those are in OPS already, and a case has ten fields.)
WRITERS: Final = "_w"
CONFLICTS: Final = "conflicts"
REFUSED: Final = "refused"
_ORDER = attrgetter("order")


@dataclass(frozen=True)
class MergeEnv:
    """What a reducer may ask while folding: facts fixed by the operation set."""

    #: The role of the author of (author, epoch, seq): fixed by that epoch's announcement,
    #: None if unknown or cut off by a revocation.
    role: Callable[[str, int, int], str | None]
    #: Why (author, epoch, seq) is refused by a revocation, or None.
    revoked: Callable[[str, int, int], Refusal | None]
    #: The station anchor (certificates and revocations are checked against it), or None.
    anchor: Anchor | None = None
    #: Logs held out of the view after a fork, until a supervisor settles it: chain -> the
    #: first seq held out. Only the station's decisions about devices (`ALWAYS_FOLDED`)
    #: are folded from there on. Empty almost always (kept by the replica, updated in place).
    held_out: dict[str, int] = field(default_factory=dict)


#: What a reducer reads of each kind's payload: field name -> None (any value), or the keys that
#: field's map may hold (a nested map). A payload with a field, or a nested key, not named here
#: carries data from a newer version: the reducer ignores it, and the replica counts the
#: operation as waiting for a newer version (`Replica.waiting`).
PayloadFields = Mapping[str, Mapping[str, frozenset[str] | None]]
#: A kind's `PayloadFields` made quick to ask (`payload_checks`): (the fields, (field, its keys)
#: for the nested maps).
PayloadCheck = tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]


#: The document type of a reducer's view (a TypedDict: `sync/documents.py` names the engine's keys
#: every document has, the reducer's module the rest, e.g. `fieldapp/domain/documents.py`).
DocT = TypeVar("DocT")


class Reducer(Protocol[DocT]):
    """Folds operations of some kinds into entities of one view table, documents of type DocT.

    The engine holds every view's documents alike (`Reducer[Any]`): plain dicts, stored and
    hashed as they are.
    """

    table: str
    kinds: frozenset[str]
    #: Raised whenever the reducer folds differently or reads more of a payload (new kinds, new
    #: fields, new rules): a replica re-folds its table once when it is opened with another one.
    version: int
    #: The payload fields it reads, by kind (see `PayloadFields`).
    payload_fields: PayloadFields

    def initial(self, op: Operation) -> DocT:
        """The empty state of the entity `op` names."""
        ...

    def apply(self, state: DocT, op: Operation, env: MergeEnv) -> Refusal | None:
        """Fold `op` into `state` in place; return why it is refused (a coded `Refusal`) or None."""
        ...

    def finish(self, state: DocT, last: Operation) -> None:
        """After a fold that accepted operations: `last` is the latest of them in total order.

        For what depends only on the newest accepted operation (a case's `updated_at`): once
        per fold instead of once per operation.
        """
        ...


def payload_checks(fields: PayloadFields) -> dict[str, PayloadCheck]:
    """Per kind: (the payload fields known, (field, the keys its map may hold) for nested maps)."""
    return {
        kind: (frozenset(known), tuple((name, keys) for name, keys in known.items() if keys is not None))
        for kind, known in fields.items()
    }


def carries_unknown(payload: Mapping[str, Any], check: PayloadCheck) -> bool:
    """Whether a payload holds a field, or a key of a nested map, that `check` does not name."""
    known, nested = check
    if not known.issuperset(payload):
        return True
    for name, keys in nested:
        value = payload.get(name)
        if type(value) is dict and not keys.issuperset(value):
            return True
    return False


def writer(state: Mapping[str, Any] | None, name: str) -> tuple[str, int, str] | None:
    """(op key, hlc, author) of the write that set the field's current value, or None."""
    if state is None:
        return None
    index = state.get(WRITERS, {}).get(name)
    if index is None:
        return None
    hlc, author, epoch, seq = state[OPS][index]
    return op_key(author, epoch, seq), hlc, author


def set_field(state: dict[str, Any], name: str, value: Any, op: Operation, base: str | None) -> None:
    """Write a register; keep and flag a concurrent write instead of losing it.

    Called while `op` is folded: it is then appended to the state's OPS, at the index
    recorded as the field's writer.
    """
    writers = state.setdefault(WRITERS, {})
    index = writers.get(name)  # as `writer` finds it, without building what a match does not need
    current = None
    if index is not None and name in state:
        hlc, author, epoch, seq = state[OPS][index]
        current = op_key(author, epoch, seq)
    if current is not None and current != base:
        conflict: Conflict = {
            "field": name,
            "open": True,
            "values": [
                {"value": state[name], "op": current, "hlc": hlc, "author": author},
                {"value": value, "op": op.key, "hlc": op.hlc, "author": op.author},
            ],
        }
        state.setdefault(CONFLICTS, []).append(conflict)
    elif base is not None:
        # A write that saw the current value settles any open conflict on the field.
        for conflict in state.get(CONFLICTS, []):
            if conflict["field"] == name and conflict["open"]:
                conflict["open"] = False
                conflict["resolved_by"] = op.key
    state[name] = value
    writers[name] = len(state.get(OPS, ()))


def set_new_fields(state: dict[str, Any], values: dict[str, Any], op: Operation) -> None:
    """Write registers no operation has written yet (an entity's creation), all at once.

    The same as `set_field` for each with no base, without asking each field for a
    conflict that cannot be there; a field already written takes the general path.
    """
    writers = state.setdefault(WRITERS, {})
    if not writers.keys().isdisjoint(values):
        for name, value in values.items():
            set_field(state, name, value, op, None)
        return
    state.update(values)
    writers.update(dict.fromkeys(values, len(state.get(OPS, ()))))


def field_base(state: Mapping[str, Any] | None, name: str) -> str | None:
    """The base a new local write of `name` should name (the current winner's op)."""
    current = writer(state, name)
    return None if current is None else current[0]


def refuse(state: dict[str, Any], op: Operation, reason: Refusal) -> None:
    """Record that an operation had no effect, and why: its code and parameters, as data
    (shown for review, rendered in the reader's language: `sync.refusals`)."""
    entry: Refused = {
        "op": op.key,
        "kind": op.kind,
        "author": op.author,
        "hlc": op.hlc,
        "code": reason.code,
        "params": dict(reason.params),
    }
    state.setdefault(REFUSED, []).append(entry)


def fold_into(
    state: dict[str, Any] | None,
    new_ops: list[Operation],
    reducer: Reducer[Any],
    env: MergeEnv,
    load_ops: Callable[[Iterable[list[Any]]], list[Operation]],
    *,
    force: bool = False,
) -> dict[str, Any]:
    """Fold `new_ops` (all for one entity) into `state`, re-folding if any sorts early.

    With `force`, the entity is re-folded from all its operations even if none is
    new (after a revocation changed what its author was allowed).
    """
    new_ops = sorted(new_ops, key=_ORDER)
    late = (
        bool(new_ops) and state is not None and bool(state[OPS]) and tuple(state[OPS][-1]) >= new_ops[0].order
    )
    if state is not None and state[OPS] and (force or late):
        known = {tuple(o) for o in state[OPS]}
        old = load_ops(o for o in state[OPS])
        merged = {o.order: o for o in old}
        merged.update({o.order: o for o in new_ops if o.order not in known})
        new_ops = [merged[k] for k in sorted(merged)]
        state = None
    if state is None:
        state = reducer.initial(new_ops[0])
        state[OPS] = []
    revoked, apply, folded, held = env.revoked, reducer.apply, state[OPS], env.held_out
    last = None
    for op in new_ops:
        if revoked(op.author, op.epoch, op.seq) is not None:
            # Past a revocation's cut-off: never counts, on any device, whether it arrived
            # before the revocation (kept in the log as evidence) or was refused after it.
            continue
        if held and op.seq >= held.get(op.chain, op.seq + 1) and op.kind not in ALWAYS_FOLDED:
            continue  # a forked log, from the fork on: kept, shown once a supervisor settles it
        reason = apply(state, op, env)
        if reason is None:
            last = op
        else:
            refuse(state, op, reason)
        folded.append(list(op.order))
    if last is not None:
        reducer.finish(state, last)
    return state
