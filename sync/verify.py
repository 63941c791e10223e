"""Verify a batch of entries from another device before anything is applied.

Per (author, epoch) chain, entries are taken in sequence order from the head this
device already holds. Each entry's `prev` must name the previous body's hash, so
one valid author signature on the last entry of a contiguous run authenticates the
whole run: 30 devices x 1,000 operations cost 30 signature checks, not 30,000
(an Ed25519 verify costs ~166 us here; see docs/replication.md). Only when that
signature fails are earlier entries checked one by one, to accept the longest
authentic prefix.

What is refused, and why, is returned as `Rejection`s; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sync.certs import Anchor
from sync.hlc import ClockSkewError
from sync.ops import MalformedOperation, Operation, decode
from sync.trust import ANNOUNCE, DeviceRecord, record_from_announce


@dataclass(frozen=True)
class Rejection:
    """An entry that was not applied, with a reason a person can read."""

    code: str
    reason: str
    author: str = "?"
    epoch: int = 0
    seq: int = 0


@dataclass(frozen=True)
class Fork:
    """Two authentic, different entries at one (author, epoch, seq)."""

    author: str
    epoch: int
    seq: int
    held: bytes
    other: Operation


@dataclass
class Verified:
    """Outcome of verifying a batch."""

    accepted: list[Operation] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    forks: list[Fork] = field(default_factory=list)
    new_devices: list[DeviceRecord] = field(default_factory=list)
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
    quarantined: Callable[[str], bool]
    check_clock: Callable[[int, str], None]
    #: The station's anchor once enrolled (certificates are then required), else None.
    anchor: Anchor | None = None
    #: Why (author, epoch, seq) is refused by a revocation, or None.
    revoked: Callable[[str, int, int], str | None] = lambda author, epoch, seq: None


def _reject(op: Operation, code: str, reason: str) -> Rejection:
    return Rejection(code, reason, op.author, op.epoch, op.seq)


def verify_batch(entries: list[tuple[bytes, bytes]], ctx: VerifyContext) -> Verified:
    """Split `entries` into authentic new operations and refusals."""
    out = Verified()
    chains: dict[str, dict[int, Operation]] = defaultdict(dict)
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
        same = chains[op.chain].get(op.seq)
        if same is not None and same.body != op.body:
            _fork_or_tamper(same.body, op, ctx, out)
            continue
        chains[op.chain][op.seq] = op
    for chain in sorted(chains):
        _verify_chain([chains[chain][s] for s in sorted(chains[chain])], ctx, out)
    return out


def _fork_or_tamper(held: bytes, op: Operation, ctx: VerifyContext, out: Verified) -> None:
    key = ctx.public_key(op.author)
    if key is not None and op.verify_signature(key):
        out.forks.append(Fork(op.author, op.epoch, op.seq, held, op))
        out.rejections.append(
            _reject(op, "fork", "two different signed operations at one position: device quarantined")
        )
    else:
        out.rejections.append(
            _reject(op, "bad_signature", "an altered copy of an operation this device holds")
        )


def _verify_chain(ops: list[Operation], ctx: VerifyContext, out: Verified) -> None:
    first = ops[0]
    head_seq, head_hash = ctx.head(first.chain)
    new: list[Operation] = []
    for op in ops:
        if op.seq > head_seq:
            new.append(op)
            continue
        held = ctx.stored_body(op.key)
        if held == op.body:
            out.duplicates += 1
        elif held is not None:
            _fork_or_tamper(held, op, ctx, out)
    if not new:
        return
    if ctx.quarantined(first.author):
        out.rejections.append(
            _reject(
                new[0],
                "quarantined",
                f"device {first.author} is quarantined after a fork; a supervisor must review it",
            )
        )
        return
    run, broken = _contiguous_run(new, head_seq, head_hash, out)
    if not run:
        if broken is not None:
            out.rejections.append(broken)
        return
    key = ctx.public_key(first.author)
    if key is None:
        record = _announced(run[0], ctx.anchor)
        if isinstance(record, str):
            out.rejections.append(_reject(run[0], "unknown_author", record))
            return
        key = record.public_key
        if not run[0].verify_signature(key):
            out.rejections.append(
                _reject(run[0], "bad_signature", "the device announcement is not signed by its key")
            )
            return
        out.new_devices.append(record)
    authentic = _authentic_prefix(run, key, out)
    if broken is not None:
        if len(authentic) == len(run):
            out.rejections.append(broken)
        else:  # the link broke because an entry before it was altered: one cause, one refusal
            out.held_back += 1
    run = authentic
    if run and _all_admissible(run, ctx):
        out.accepted.extend(run)
        return
    for index, op in enumerate(run):
        refusal = ctx.revoked(op.author, op.epoch, op.seq)
        if refusal is not None:
            out.rejections.append(_reject(op, "revoked", refusal))
            out.held_back += len(run) - index - 1
            run = run[:index]
            break
        try:
            ctx.check_clock(op.hlc, op.author)
        except ClockSkewError as exc:
            out.rejections.append(_reject(op, "future_stamp", str(exc)))
            out.held_back += len(run) - index - 1
            run = run[:index]
            break
    out.accepted.extend(run)


def _all_admissible(run: list[Operation], ctx: VerifyContext) -> bool:
    """True if no entry of one chain's run is cut off by a revocation or stamped too far ahead.

    Asked of the last entry and the latest stamp instead of every entry (a revocation cuts a
    chain off after a sequence number; the clock bound is a bound): when it says no, the
    caller looks for the first entry refused, and why.
    """
    last = run[-1]
    if ctx.revoked(last.author, last.epoch, last.seq) is not None:
        return False
    try:
        ctx.check_clock(max(op.hlc for op in run), last.author)
    except ClockSkewError:
        return False
    return True


def _contiguous_run(
    new: list[Operation], head_seq: int, head_hash: bytes, out: Verified
) -> tuple[list[Operation], Rejection | None]:
    """The entries that continue the held chain, and the broken link that ended them."""
    run: list[Operation] = []
    expected, prev = head_seq + 1, head_hash
    for index, op in enumerate(new):
        if op.seq != expected:
            out.held_back += len(new) - index
            break
        if op.prev != prev:
            out.held_back += len(new) - index - 1
            reason = (
                f"operation {op.seq} does not follow {op.seq - 1} of its device's log "
                "(altered or out of place)"
            )
            return run, _reject(op, "broken_chain", reason)
        run.append(op)
        expected, prev = expected + 1, op.digest
    return run, None


def _announced(op: Operation, anchor: Anchor | None) -> DeviceRecord | str:
    if op.seq != 1 or op.kind != ANNOUNCE or op.entity != op.author:
        return f"device {op.author} is not known here and did not announce itself"
    return record_from_announce(op.author, op.payload, anchor)


def _authentic_prefix(run: list[Operation], key: bytes, out: Verified) -> list[Operation]:
    if run[-1].verify_signature(key):
        return run
    # Rare (an attack or damage): find the last entry whose signature holds.
    for index in range(len(run) - 2, -1, -1):
        if run[index].verify_signature(key):
            break
    else:
        index = -1
    bad = run[index + 1]
    out.rejections.append(
        _reject(
            bad, "bad_signature", "the signature does not match the content (altered in transit or forged)"
        )
    )
    out.held_back += len(run) - index - 2
    return run[: index + 1]
