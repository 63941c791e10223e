"""Verify a batch of entries from another device before anything is applied.

Per (author, epoch) chain, entries are taken in sequence order from the head this
device already holds. Each entry's `prev` must name the previous body's hash, so one
valid author signature on an entry authenticates every entry chained before it.

**Signatures kept.** Every author signs every entry it makes, but a receiver does not
check 30,000 signatures at ~80-170 us each (docs/replication.md): it checks the
signature of the last signed entry of each run, of each log's first entry (the
announcement that introduces the log to devices that lack it), and of one entry at
least every `SEGMENT_ENTRIES` entries and `SEGMENT_BYTES` bytes of body (its *checkpoints*). Only
the signatures it checked are kept; every other entry is stored with an empty
signature, authenticated by the chain up to the next kept one. So no device stores or
relays a signature that does not verify, and a sender cuts its batches only after an
entry with a signature (`signed_batches`): each part of a chain it sends ends on a
signature the receiver can check.

What is refused, and why, is returned as `Rejection`s; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sync.certs import Anchor
from sync.hlc import ClockSkewError
from sync.ops import SIG_LEN, MalformedOperation, Operation, decode
from sync.refusals import Refusal, refusal
from sync.trust import ANNOUNCE, DeviceRecord, record_from_announce

Entry = tuple[bytes, bytes]

#: A chain's entries between two kept signatures: at most this many...
SEGMENT_ENTRIES = 64
#: ... and fewer bytes of body than this before the last of them.
SEGMENT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Rejection:
    """An entry that was not applied, with a reason a person can read."""

    code: str
    #: In English, for logs and the session's report; what a person reads is rendered from
    #: `code` and `params` in their language (`fieldapp.i18n.rules.rejection_text`).
    reason: str
    author: str = "?"
    epoch: int = 0
    seq: int = 0
    #: What the text needs besides the code (kept with the rejection: data, not prose).
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Fork:
    """Two different entries at one (author, epoch, seq), each signed by the author's key.

    `held` is the entry this device holds (or accepted first) and `proof` the entries
    from it up to the first with a signature, `[[body, sig], ...]`: its own signature
    when it has one, else the chain to a signed later entry. `other` carries its own.
    """

    author: str
    epoch: int
    seq: int
    held: bytes
    other: Operation
    proof: list[Entry]


@dataclass
class Verified:
    """Outcome of verifying a batch."""

    accepted: list[Operation] = field(default_factory=list)
    #: Keys of the accepted operations whose signature was checked: the only ones kept.
    signed: set[str] = field(default_factory=set)
    rejections: list[Rejection] = field(default_factory=list)
    forks: list[Fork] = field(default_factory=list)
    new_devices: list[DeviceRecord] = field(default_factory=list)
    #: Entries of this device's own log that differ from what it holds at their position: if
    #: authentic, its store was rolled back and it wrote into the gap (replication.md,
    #: "Rollback"); `Replica.apply` checks them with the entries that follow.
    rollbacks: list[Operation] = field(default_factory=list)
    duplicates: int = 0
    #: Entries not yet applicable because earlier ones of their chain are missing.
    held_back: int = 0


@dataclass(frozen=True)
class VerifyContext:
    """What the verifier needs to know about this device's state."""

    station: str
    head: Callable[[str], tuple[int, bytes]]
    stored_body: Callable[[str], bytes | None]
    public_key: Callable[[str], bytes | None]
    check_clock: Callable[[int, str], None]
    #: The station's anchor once enrolled (certificates are then required), else None.
    anchor: Anchor | None = None
    #: Why (author, epoch, seq) is refused by a revocation, or None.
    revoked: Callable[[str, int, int], Refusal | None] = lambda author, epoch, seq: None
    #: The stored entries from an op key up to the first with a signature (a fork's proof).
    proof: Callable[[str], list[Entry]] = lambda key: []
    #: This device's id: another signed body at a position of its own log is a rollback of
    #: this device's store (it lost the entries it had made there), not a fork.
    own: str = ""
    #: seq -> the hash of the entry a supervisor kept there, for the settled forks of a chain.
    settled: Callable[[str], dict[int, bytes]] = lambda chain: {}


def _reject(op: Operation, code: str, reason: str, /, **params: Any) -> Rejection:
    return Rejection(code, reason, op.author, op.epoch, op.seq, params)


def _refused(op: Operation, code: str, found: Refusal) -> Rejection:
    """A rejection because of a rule's refusal: its code and parameters, as the view keeps them."""
    return _reject(op, code, str(found), rule=found.code, **found.params)


def verify_batch(entries: Iterable[Entry], ctx: VerifyContext) -> Verified:
    """Split `entries` into authentic new operations and refusals."""
    out = Verified()
    chains: dict[str, dict[int, Operation]] = defaultdict(dict)
    #: Other bodies at a position another entry of the batch already took (rare: a fork or a forgery).
    rivals: dict[str, list[Operation]] = defaultdict(list)
    for body, sig in entries:
        try:
            op = decode(body, sig)
        except MalformedOperation as exc:
            out.rejections.append(Rejection("malformed", f"malformed operation: {exc}"))
            continue
        if op.station != ctx.station:
            out.rejections.append(
                _reject(op, "wrong_station", "operation belongs to another station; not applied")
            )
            continue
        chain = chains[op.chain]
        same = chain.get(op.seq)
        if same is None:
            chain[op.seq] = op
        elif same.body != op.body:
            rivals[op.chain].append(op)
        elif op.sig and not same.sig:
            chain[op.seq] = op  # the same entry, once with its signature: keep that copy
    for name in sorted(chains):
        ops = chains[name]
        _verify_chain([ops[s] for s in sorted(ops)], rivals.get(name, []), ctx, out)
    return out


def _fork_or_tamper(
    held: bytes, proof: list[Entry], op: Operation, ctx: VerifyContext, out: Verified
) -> None:
    """`op` differs from the authentic entry `held` at its position: a fork only on proof."""
    key = ctx.public_key(op.author)
    if key is not None and op.sig and proof and op.verify_signature(key):
        out.forks.append(Fork(op.author, op.epoch, op.seq, held, op, proof))
        out.rejections.append(
            _reject(
                op,
                "fork",
                f"device {op.author} signed two different operations at one place in its log; "
                "its new work waits until a supervisor settles it",
                device=op.author,
            )
        )
    else:
        out.rejections.append(
            _reject(
                op,
                "bad_signature",
                "a different copy of an operation this device holds, not signed by its author "
                "(altered or forged)",
                why="altered_copy",
            )
        )


def authentic_from(ops: list[Operation], prev: bytes, key: bytes | None) -> bool:
    """True if `ops` (one log, from some seq on) continue an entry whose hash is `prev`, one
    after another, and the last of them with a signature carries its author's."""
    if key is None or not ops:
        return False
    expected = ops[0].seq
    for op in ops:
        if op.seq != expected or op.prev != prev:
            return False
        expected, prev = expected + 1, op.digest
    signed = [op for op in ops if op.sig]
    return bool(signed) and signed[-1].verify_signature(key)


def _verify_chain(ops: list[Operation], rivals: list[Operation], ctx: VerifyContext, out: Verified) -> None:
    first = ops[0]
    head_seq, head_hash = ctx.head(first.chain)
    new: list[Operation] = []
    for op in [*ops, *rivals] if rivals else ops:
        if op.seq > head_seq:
            new.append(op)
            continue
        held = ctx.stored_body(op.key)
        if held == op.body:
            out.duplicates += 1
        elif held is not None and op.author == ctx.own:
            out.rollbacks.append(op)  # judged by the caller, with the entries that follow it
        elif held is not None and op.seq in (decided := ctx.settled(op.chain)):
            out.rejections.append(_reject(op, "settled", _NOT_KEPT))  # the fork is settled already
        elif held is not None:
            _fork_or_tamper(held, ctx.proof(op.key), op, ctx, out)
    if out.rollbacks and out.rollbacks[-1].chain == first.chain:
        return  # judged again once this device has taken the log back (Replica.apply)
    if not new:
        return
    hint = None  # the key rival bodies are judged by: known, or from a valid announcement here
    if rivals:
        new.sort(key=lambda op: op.seq)
        hint = ctx.public_key(first.author)
        for op in new if hint is None else ():
            record = _announced(op, ctx.anchor) if op.seq == 1 else None
            if isinstance(record, DeviceRecord) and op.verify_signature(record.public_key):
                hint = record.public_key
                break
    run, broken, others = _contiguous_run(new, head_seq, head_hash, hint, out)
    decided = ctx.settled(first.chain)
    for index, op in enumerate(run if decided else ()):
        if op.seq in decided and op.digest != decided[op.seq]:  # the branch a supervisor did not keep
            out.rejections.append(_reject(op, "settled", _NOT_KEPT))
            out.held_back += len(run) - index - 1
            run, broken = run[:index], None
            break
    if not run:
        if broken is not None:
            out.rejections.append(broken)
        return
    key = ctx.public_key(first.author)
    verified = set()
    if key is None:
        record = _announced(run[0], ctx.anchor)
        if isinstance(record, Refusal):
            out.rejections.append(_refused(run[0], "unknown_author", record))
            return
        key = record.public_key
        if not run[0].verify_signature(key):
            out.rejections.append(
                _reject(
                    run[0],
                    "bad_signature",
                    "the device announcement is not signed by its key",
                    why="announcement",
                )
            )
            return
        verified.add(0)
        out.new_devices.append(record)
    elif run[0].seq == 1:  # a log's first entry keeps its own signature: it introduces the log
        if not run[0].verify_signature(key):
            out.rejections.append(_reject(run[0], "bad_signature", _FORGED, why="forged"))
            out.held_back += len(run) - 1
            return
        verified.add(0)
    end = _authentic_end(run, key, verified, out)
    if broken is not None:
        if end == len(run):
            out.rejections.append(broken)
        else:  # the link broke because an entry before it was altered: one cause, one refusal
            out.held_back += 1
    admissible = end if _all_admissible(run[:end], ctx) else _admissible_end(run, end, ctx, out)
    if admissible < end:  # the part kept must still end on a signature
        admissible = _end_on_signature(run, admissible, key, verified)
        out.held_back += end - admissible - 1  # one of them was refused, with its reason
    end = _checkpoints(run, admissible, key, verified, out)
    run = run[:end]
    out.accepted.extend(run)
    out.signed.update(run[i].key for i in verified if i < end)
    for op in others:
        index = op.seq - head_seq - 1
        if index < end:
            _fork_or_tamper(run[index].body, _proof(run, index, verified), op, ctx, out)
        else:
            out.held_back += 1


def _proof(run: list[Operation], index: int, verified: set[int]) -> list[Entry]:
    """The accepted entries from `index` to the first whose signature was checked."""
    end = min(i for i in verified if i >= index)
    return [(run[i].body, run[i].sig if i == end else b"") for i in range(index, end + 1)]


def _authentic_end(run: list[Operation], key: bytes, verified: set[int], out: Verified) -> int:
    """How many entries of `run` its last valid signature authenticates (0 if none)."""
    signed = [i for i in range(len(run)) if run[i].sig]
    for position in range(len(signed) - 1, -1, -1):
        index = signed[position]
        if index in verified or run[index].verify_signature(key):
            verified.add(index)
            if position + 1 < len(signed):  # a later signature failed: that entry is refused
                bad = signed[position + 1]
                out.rejections.append(_reject(run[bad], "bad_signature", _FORGED, why="forged"))
                out.held_back += len(run) - index - 2
            else:  # entries after the last signature wait for the signed entry that covers them
                out.held_back += len(run) - index - 1
            return index + 1
    if signed:
        out.rejections.append(_reject(run[signed[0]], "bad_signature", _FORGED, why="forged"))
        out.held_back += len(run) - 1
    else:
        out.held_back += len(run)
    return 0


_FORGED = "the signature does not match the content (altered in transit or forged)"
_NOT_KEPT = "a supervisor settled the fork at this place of the device's log for another entry"


def _end_on_signature(run: list[Operation], end: int, key: bytes, verified: set[int]) -> int:
    """The longest prefix of `run[:end]` that ends on an entry whose signature verifies."""
    for index in range(end - 1, -1, -1):
        if index in verified or (run[index].sig and run[index].verify_signature(key)):
            verified.add(index)
            return index + 1
    return 0


def _checkpoints(run: list[Operation], end: int, key: bytes, verified: set[int], out: Verified) -> int:
    """Check a signature at least every SEGMENT_ENTRIES entries and SEGMENT_BYTES bytes.

    Each time the entries since the last kept signature reach either bound, the latest
    signature among them that verifies is kept (tried from the latest back, so one bad
    signature costs one more check). A conforming sender's parts always have one there
    (they end on a signature and respect the same bounds); when none verifies, the run is
    accepted only up to the last kept signature. Returns how many entries are accepted.
    """
    last_kept, count, size = -1, 0, 0
    candidates: list[int] = []  # entries with a signature since the last kept one
    index = 0
    while index < end:
        if count >= SEGMENT_ENTRIES or size >= SEGMENT_BYTES:
            kept = next(
                (c for c in reversed(candidates) if c in verified or run[c].verify_signature(key)), -1
            )
            if kept < 0:
                if candidates:
                    out.rejections.append(
                        _reject(run[candidates[-1]], "bad_signature", _FORGED, why="forged")
                    )
                else:
                    out.rejections.append(
                        _reject(
                            run[index],
                            "unsigned",
                            _UNSIGNED,
                            entries=SEGMENT_ENTRIES,
                            kib=SEGMENT_BYTES // 1024,
                        )
                    )
                out.held_back += max(0, end - last_kept - 2)
                return last_kept + 1
            verified.add(kept)
            last_kept, candidates = kept, []
            count = index - kept - 1
            size = sum(len(run[i].body) for i in range(kept + 1, index))
            continue
        if index in verified:  # checked already (a run's end, the announcement)
            last_kept, candidates, count, size = index, [], 0, 0
        else:
            count += 1
            size += len(run[index].body)
            if run[index].sig:
                candidates.append(index)
        index += 1
    return end


_UNSIGNED = (
    f"more than {SEGMENT_ENTRIES} entries or {SEGMENT_BYTES // 1024} KiB of a log without a signature "
    "of its author; the sending device must send them again"
)


def kept_signatures(run: list[Operation], key: bytes | None) -> set[int]:
    """Indices of a stored log (`run`, from its first entry) whose signatures to keep.

    For a store written before only checked signatures were kept: a signature that
    verifies at the head and at least every SEGMENT_ENTRIES entries and SEGMENT_BYTES bytes,
    as a receiver keeps them (where none verifies in a stretch, the stretch stays longer).
    """
    kept: set[int] = set()
    if key is None or not run:
        return kept

    def first_valid(start: int, stop: int) -> int:
        for index in range(start, stop - 1, -1):
            if run[index].sig and run[index].verify_signature(key):
                return index
        return -1

    since, count, size = -1, 0, 0
    for index, op in enumerate(run):
        if count >= SEGMENT_ENTRIES or size >= SEGMENT_BYTES:
            found = first_valid(index - 1, since + 1)
            if found >= 0:
                kept.add(found)
            since = found if found >= 0 else index - 1
            count = index - since - 1
            size = sum(len(run[i].body) for i in range(since + 1, index))
        count += 1
        size += len(op.body)
    head = first_valid(len(run) - 1, since + 1)
    if head >= 0:
        kept.add(head)
    if first_valid(0, 0) == 0:  # the log's announcement introduces it to devices that lack it
        kept.add(0)
    return kept


def _all_admissible(run: list[Operation], ctx: VerifyContext) -> bool:
    """True if no entry of one chain's run is cut off by a revocation or stamped too far ahead.

    Asked of the last entry and the latest stamp instead of every entry (a revocation cuts a
    chain off after a sequence number; the clock bound is a bound): when it says no, the
    caller looks for the first entry refused, and why.
    """
    if not run:
        return True
    last = run[-1]
    if ctx.revoked(last.author, last.epoch, last.seq) is not None:
        return False
    try:
        ctx.check_clock(max(op.hlc for op in run), last.author)
    except ClockSkewError:
        return False
    return True


def _admissible_end(run: list[Operation], end: int, ctx: VerifyContext, out: Verified) -> int:
    """Index of the first entry a revocation or the clock bound refuses (recorded), or `end`."""
    for index in range(end):
        op = run[index]
        refusal = ctx.revoked(op.author, op.epoch, op.seq)
        if refusal is not None:
            out.rejections.append(_refused(op, "revoked", refusal))
            return index
        try:
            ctx.check_clock(op.hlc, op.author)
        except ClockSkewError as exc:
            out.rejections.append(_reject(op, "future_stamp", str(exc), device=op.author))
            return index
    return end


def _contiguous_run(
    new: list[Operation], head_seq: int, head_hash: bytes, key: bytes | None, out: Verified
) -> tuple[list[Operation], Rejection | None, list[Operation]]:
    """The entries that continue the held chain, the broken link that ended them, and the
    other bodies offered at a position of the run (forks or forgeries, judged once the run is)."""
    run: list[Operation] = []
    others: list[Operation] = []
    expected, prev = head_seq + 1, head_hash
    index = 0
    while index < len(new):
        op = new[index]
        if op.seq != expected:
            out.held_back += len(new) - index
            break
        same = [op]
        while index + len(same) < len(new) and new[index + len(same)].seq == expected:
            same.append(new[index + len(same)])
        if len(same) > 1:
            op = _pick(same, prev, new[index + len(same)] if index + len(same) < len(new) else None, key)
            others.extend(o for o in same if o is not op)
        index += len(same)
        if op.prev != prev:
            out.held_back += len(new) - index
            reason = (
                f"operation {op.seq} does not follow {op.seq - 1} of its device's log "
                "(altered or out of place)"
            )
            return run, _reject(op, "broken_chain", reason, seq=op.seq), others
        run.append(op)
        expected, prev = expected + 1, op.digest
    return run, None, others


def _pick(same: list[Operation], prev: bytes, following: Operation | None, key: bytes | None) -> Operation:
    """Of several bodies at one position, the one that continues the chain on both sides,
    else the first whose signature verifies (checked only here: a rare, hostile case)."""
    linked = [op for op in same if op.prev == prev] or same
    if following is not None:
        for op in linked:
            if following.prev == op.digest:
                return op
    if key is not None:
        for op in linked:
            if op.sig and op.verify_signature(key):
                return op
    return linked[0]


def _announced(op: Operation, anchor: Anchor | None) -> DeviceRecord | Refusal:
    if op.seq != 1 or op.kind != ANNOUNCE or op.entity != op.author:
        return refusal("author_not_announced", device=op.author)
    return record_from_announce(op.author, op.payload, anchor)


def signed_batches(entries: Iterable[Entry], max_entries: int, max_bytes: int) -> Iterator[list[Entry]]:
    """`entries` (chains in sequence order) cut into batches that end on a signed entry.

    A batch holds at most `max_entries` entries and stops growing once past `max_bytes`,
    except that it never ends on an entry without a signature while more of its chain
    follows: the receiver could not authenticate that part, so it is carried into the next
    batch. A chain part between two signatures is bounded (SEGMENT_ENTRIES, SEGMENT_BYTES),
    so `max_entries` must be at least SEGMENT_ENTRIES; a batch with no signature at all (a
    damaged store) is cut anyway, and its receiver holds it back.
    """
    batch: list[Entry] = []
    size = 0
    cut = 0  # entries of `batch` up to and including its last signed one
    cut_size = 0
    for body, sig in entries:
        if batch and (len(batch) >= max_entries or size >= max_bytes):
            if not cut:  # no signature in a whole batch (a damaged store): never an oversized frame
                cut, cut_size = len(batch), size
            yield batch[:cut]
            batch, size = batch[cut:], size - cut_size
            cut = cut_size = 0
        batch.append((body, sig))
        size += len(body) + len(sig) + 8  # and msgpack's headers of the pair
        if len(sig) == SIG_LEN:
            cut, cut_size = len(batch), size
    if batch:
        yield batch
