"""One sync session between two enrolled devices, over an authenticated stream.

The transport (TLS, `sync.lan`) has already told each side who the other is.
The session is symmetric: both sides run `run_session`, and each both sends
what the other lacks and receives what it lacks, at the same time::

    both  -> hello  {t, proto, station, device, digest}
    (equal digests: both hold the same logs; the session ends here)
    both  -> vector {t, v: {chain: seq}}
    both  -> ops    {t, e: [[body, sig], ...]}   (batches, in sequence order per chain)
             ack    {t, n, applied, refused}     (after the batch is durably applied)
    both  -> done   {t, batches}                 (after the last of its batches was acked)
    either-> error  {t, reason}                  (then closes)

`docs/sync.md` describes every message, field and limit. A receiver applies
a batch durably (`Replica.apply`, one transaction) before it acknowledges, and
the vector it sends next time is computed from what it holds durably, so a cut
connection resumes where it stopped and a repeated batch is a no-op.

A frame that is malformed, oversized or out of place ends the session with a
readable reason, and nothing of that batch is applied. Entries of a
well-formed batch that fail verification (bad signature, broken chain, unknown
author, another station...) are refused one by one as in `Replica.apply`,
recorded with their reasons, counted in the report, and the session goes on:
a relayed log may be damaged without the relaying peer being hostile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack

from sync.frames import FrameError, FrameLimits, encode_frame, read_frame_sized
from sync.ops import MAX_BODY_BYTES, chain_key, op_key
from sync.replica import ApplyReport, Entry, Replica
from sync.verify import signed_batches

PROTOCOL = 1
#: Most entries in one `ops` frame, and the bytes a sender aims to stay under.
BATCH_ENTRIES = 200
BATCH_BYTES = 192 * 1024
#: Most chains (author, epoch) a vector may name.
MAX_CHAINS = 20_000
SIGNATURE_BYTES = 64
#: Limits of a frame read from a peer.
LIMITS = FrameLimits(max_bytes=BATCH_BYTES + 2 * MAX_BODY_BYTES + 4096, max_items=MAX_CHAINS, max_depth=4)
IO_TIMEOUT = 30.0

Progress = Callable[["SessionReport"], None]


class SessionError(Exception):
    """The session ended early; `reason` says why in plain words."""

    def __init__(self, reason: str, *, by_peer: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.by_peer = by_peer


@dataclass
class SessionReport:
    """What one session did, from this side."""

    peer: str
    to_send: int = 0
    sent: int = 0
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    held_back: int = 0
    refused: int = 0
    forks: int = 0
    #: This device's own operations made again under a new epoch (its store had been rolled back).
    reissued: int = 0
    refusals: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The report as printed by `fieldapp sync --json`."""
        return {
            "peer": self.peer,
            "sent": self.sent,
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "held_back": self.held_back,
            "refused": self.refused,
            "refusals": self.refusals[:20],
            "forks": self.forks,
            "reissued": self.reissued,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


SYNC_STATE = "sync_state"


def sync_status(replica: Replica) -> tuple[float | None, int]:
    """(time of the last successful session, or None; this device's operations no peer has yet)."""
    me = replica.identity
    chain = chain_key(me.device_id, me.epoch)
    head = replica.head(chain)[0]
    doc = replica.local.get_copy(SYNC_STATE) or {}
    synced = int(doc.get("seq", 0)) if doc.get("chain") == chain else 0
    at = doc.get("at")
    return (float(at) if at is not None else None), max(0, head - synced)


def last_synced_with(replica: Replica) -> dict[str, float]:
    """Device id -> time of this device's last successful session with it."""
    doc = replica.local.get_copy(SYNC_STATE) or {}
    return {str(peer): float(at) for peer, at in (doc.get("peers") or {}).items()}


def shown(text: str, limit: int = 200) -> str:
    """Text from a peer as it may be shown to a person: printable characters only, bounded."""
    cut = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return cut + ("…" if len(text) > limit else "")


def heads_digest(heads: dict[str, tuple[int, bytes]]) -> bytes:
    """SHA-256 of every log's head (seq and entry hash) in canonical form: equal digests, the
    same entries held (a log cut short and written again differently gives another digest)."""
    rows = [[chain, seq, digest] for chain, (seq, digest) in sorted(heads.items())]
    return hashlib.sha256(msgpack.packb(rows, use_bin_type=True)).digest()


#: Most of the peer's own logs a hello reports on (`yours`).
MAX_YOURS = 64


def _check_yours(value: Any, peer_is: str) -> dict[str, tuple[int, bytes]]:
    """What the peer holds of this device's logs, from its hello (optional; unknown: nothing)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_YOURS:
        raise SessionError("the peer sent a malformed hello")
    claims = {}
    for chain, pair in value.items():
        if not (
            isinstance(chain, str)
            and chain.startswith(f"{peer_is}.")
            and len(chain) <= 64
            and isinstance(pair, list)
            and len(pair) == 2
            and type(pair[0]) is int
            and 0 <= pair[0] < 2**40
            and isinstance(pair[1], bytes)
            and len(pair[1]) == 32
        ):
            raise SessionError("the peer sent a malformed hello")
        claims[chain] = (pair[0], pair[1])
    return claims


class Endpoint:
    """This device's replica as seen by sync sessions: one at a time touches it.

    Applying runs in a worker thread so the event loop (and a UI on it) stays
    responsive; a lock keeps sessions served at once from touching the store
    together. While any session is open the replica is in a merge session:
    every batch is stored durably as it arrives and the view is folded once,
    when the last session ends.
    """

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.lock = asyncio.Lock()
        self._open = 0
        self._merge: contextlib.ExitStack | None = None

    @property
    def station(self) -> str:
        return self.replica.station

    @property
    def device_id(self) -> str:
        return self.replica.identity.device_id

    @contextlib.asynccontextmanager
    async def session(self) -> Any:
        """Hold the replica in a merge session while any sync session is open."""
        async with self.lock:
            if self._open == 0:
                self._merge = contextlib.ExitStack()
                self._merge.enter_context(self.replica.merge_session())
            self._open += 1
        try:
            yield
        finally:
            async with self.lock:
                self._open -= 1
                if self._open == 0 and self._merge is not None:
                    merge, self._merge = self._merge, None
                    await _to_thread_to_the_end(merge.close)  # folds what the sessions stored

    async def synced(self, peer: str, own_seq: int) -> None:
        """Remember a successful session: when, with whom, how much of this device's log it took."""
        me = self.replica.identity
        chain = chain_key(me.device_id, me.epoch)
        async with self.lock:
            doc = self.replica.local.get_copy(SYNC_STATE) or {}
            seq = max(own_seq, int(doc.get("seq", 0)) if doc.get("chain") == chain else 0)
            now = time.time()
            peers = dict(doc.get("peers") or {})
            peers[peer] = now  # when this device last synced with each peer (the devices screen)
            self.replica.local.put(
                SYNC_STATE, {"at": now, "peer": peer, "chain": chain, "seq": seq, "peers": peers}
            )

    async def vector(self) -> dict[str, int]:
        async with self.lock:
            return self.replica.sync_vector()

    async def heads(self, author: str | None = None) -> dict[str, tuple[int, bytes]]:
        async with self.lock:
            return self.replica.heads(author)

    async def own_log_behind(self, claims: dict[str, tuple[int, bytes]]) -> list[str]:
        """Mark this device's logs the peer holds more of (a rollback here) to be taken back."""
        if not claims:
            return []
        async with self.lock:
            return await _to_thread_to_the_end(self.replica.own_log_behind, claims)

    async def recovered(self, claims: dict[str, tuple[int, bytes]]) -> None:
        """After a session: the logs the peer held more of are taken back, if they now agree."""
        async with self.lock:
            if self.replica.recovering():
                behind = set(self.replica.behind(claims))
                await _to_thread_to_the_end(self.replica.recovered, [c for c in claims if c not in behind])

    async def revoked(self, device_id: str) -> str | None:
        """Why a device is shut out of this station, or None."""
        async with self.lock:
            doc = self.replica.device(device_id)
        if doc and doc.get("revoked"):
            reason = doc["revoked"].get("reason") if isinstance(doc["revoked"], dict) else None
            return f"device {device_id} was revoked by the station" + (f" ({reason})" if reason else "")
        return None

    async def missing(self, vector: dict[str, int], signed_only: bool = False) -> list[tuple[str, int, int]]:
        """(author, epoch, seq) of every entry held here that `vector` lacks, in send order.

        `signed_only`: for a peer of a version before signatures were kept only where
        checked, which refuses an entry without one: of each log, only the entries up to the
        first kept without a signature (this device's own log is whole).
        """
        async with self.lock:
            wanted = []
            recovering = self.replica.recovering()  # this device's own logs it is taking back
            ops = self.replica.ops.raw()
            for chain, seq in sorted(self.replica.vector().items()):
                if chain in recovering:
                    continue
                author, epoch_hex = chain.rsplit(".", 1)
                epoch = int(epoch_hex, 16)
                for at in range(vector.get(chain, 0) + 1, seq + 1):
                    if signed_only and not ops[op_key(author, epoch, at)]["s"]:
                        break
                    wanted.append((author, epoch, at))
            return wanted

    async def fetch(self, keys: list[tuple[str, int, int]]) -> list[Entry]:
        async with self.lock:
            ops = self.replica.ops.raw()
            return [(bytes(e["b"]), bytes(e["s"])) for e in (ops[op_key(*k)] for k in keys)]

    async def apply(self, entries: list[Entry]) -> ApplyReport:
        async with self.lock:
            return await _to_thread_to_the_end(self.replica.apply, entries)


async def _to_thread_to_the_end(function: Callable[..., Any], *args: Any) -> Any:
    """Run `function` in a worker thread; if cancelled meanwhile, wait for the thread before giving up.

    A thread cannot be stopped: returning at once would release the endpoint's lock
    while the thread still writes the store, and the next holder would write it too.
    """
    work = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await work
        raise


#: Keys fetched from the store at a time while sending.
FETCH_ENTRIES = 1000


async def _outgoing(endpoint: Endpoint, keys: list[tuple[str, int, int]]) -> AsyncIterator[list[Entry]]:
    """The entries of `keys` as `ops` batches: at most BATCH_ENTRIES, stopping once past
    BATCH_BYTES (every frame fits LIMITS: 200 entries of long notes would not), and each
    chain's part ending on an entry with a signature (`sync.verify.signed_batches`)."""
    carry: list[Entry] = []
    for start in range(0, len(keys), FETCH_ENTRIES):
        last = start + FETCH_ENTRIES >= len(keys)
        batches = list(
            signed_batches(
                carry + await endpoint.fetch(keys[start : start + FETCH_ENTRIES]), BATCH_ENTRIES, BATCH_BYTES
            )
        )
        carry = [] if last or not batches else batches.pop()  # may grow with what follows
        for batch in batches:
            yield batch


def _check_vector(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or len(value) > MAX_CHAINS:
        raise SessionError("the peer sent a malformed version vector")
    for chain, seq in value.items():
        if not isinstance(chain, str) or len(chain) > 64 or "." not in chain:
            raise SessionError("the peer sent a malformed version vector")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**40:
            raise SessionError("the peer sent a malformed version vector")
        author, _, epoch = chain.rpartition(".")
        try:
            int(epoch, 16)
        except ValueError:
            raise SessionError("the peer sent a malformed version vector") from None
    return value


def _check_batch(value: Any) -> list[Entry]:
    """The entries of an `ops` frame, or SessionError: nothing of a malformed batch is applied."""
    if not isinstance(value, list) or not 0 < len(value) <= BATCH_ENTRIES:
        raise SessionError(f"the peer sent a malformed batch (1 to {BATCH_ENTRIES} entries expected)")
    entries = []
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], bytes)
            and isinstance(item[1], bytes)
            and 0 < len(item[0]) <= MAX_BODY_BYTES
            and len(item[1]) in (0, SIGNATURE_BYTES)
        ):
            raise SessionError("the peer sent a malformed batch entry; nothing of that batch was applied")
        entries.append((item[0], item[1]))
    return entries


class _Channel:
    """Frames over a stream, counting bytes, one writer at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.sent = self.received = 0

    async def send(self, msg: dict[str, Any]) -> None:
        try:
            data = encode_frame(msg, LIMITS.max_bytes)
        except FrameError as exc:  # a bug here, not the peer's doing: end the session, say why
            raise SessionError(f"this device could not send a frame: {exc.reason}") from None
        self.sent += len(data)
        try:
            self.writer.write(data)
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except TimeoutError:
            raise SessionError("timed out sending to the peer") from None
        except (ConnectionError, OSError) as exc:
            raise SessionError(f"the connection was lost ({type(exc).__name__})") from None

    async def receive(self) -> dict[str, Any]:
        try:
            msg, size = await read_frame_sized(self.reader, self.timeout, LIMITS)
        except FrameError as exc:
            raise SessionError(exc.reason) from None
        self.received += size
        kind = msg.get("t")
        if kind == "error":
            reason = msg.get("reason")
            given = shown(reason) if isinstance(reason, str) and reason.strip() else "no reason given"
            raise SessionError(f"the peer ended the session: {given}", by_peer=True)
        if not isinstance(kind, str):
            raise SessionError("the peer sent a frame without a type")
        return msg


async def run_session(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    endpoint: Endpoint,
    peer_device: str,
    timeout: float = IO_TIMEOUT,
    progress: Progress | None = None,
) -> SessionReport:
    """Sync with an authenticated peer; the report's `error` says why it ended early, if it did."""
    report = SessionReport(peer=peer_device)
    channel = _Channel(reader, writer, timeout)
    started = time.monotonic()
    try:
        async with endpoint.session():
            await _exchange(channel, endpoint, peer_device, report, progress)
    except SessionError as exc:
        report.error = exc.reason
        if not exc.by_peer:
            with contextlib.suppress(Exception):
                writer.write(encode_frame({"t": "error", "reason": exc.reason[:200]}))
                await asyncio.wait_for(writer.drain(), 2)
    finally:
        report.bytes_sent, report.bytes_received = channel.sent, channel.received
        report.seconds = time.monotonic() - started
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)
    return report


async def refuse(writer: asyncio.StreamWriter, reason: str) -> None:
    """Tell a peer why it is refused, then hang up."""
    with contextlib.suppress(Exception):
        writer.write(encode_frame({"t": "error", "reason": reason[:200]}))
        await asyncio.wait_for(writer.drain(), 2)
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 2)


async def _exchange(
    channel: _Channel,
    endpoint: Endpoint,
    peer_device: str,
    report: SessionReport,
    progress: Progress | None,
) -> None:
    revoked = await endpoint.revoked(peer_device)
    if revoked:
        raise SessionError(f"refused: {revoked}")
    me = endpoint.replica.identity
    own_seq = (await endpoint.heads(me.device_id)).get(chain_key(me.device_id, me.epoch), (0, b""))[0]
    digest = heads_digest(await endpoint.heads())
    yours = dict(sorted((await endpoint.heads(peer_device)).items())[-MAX_YOURS:])
    await channel.send(
        {
            "t": "hello",
            "proto": PROTOCOL,
            "station": endpoint.station,
            "device": endpoint.device_id,
            "digest": digest,
            "yours": {chain: [seq, head] for chain, (seq, head) in yours.items()},
        }
    )
    hello = await channel.receive()
    if hello.get("t") != "hello":
        raise SessionError("the peer did not start with a hello")
    proto = hello.get("proto")
    if proto != PROTOCOL:
        theirs = f"sync protocol {proto}" if type(proto) is int else "an unknown sync protocol"
        raise SessionError(f"the peer speaks {theirs}, this device {PROTOCOL}; update fieldapp on both")
    if hello.get("station") != endpoint.station:
        raise SessionError("the peer belongs to another station")
    if hello.get("device") != peer_device:
        raise SessionError("the peer's hello names another device than its certificate")
    claims = _check_yours(hello.get("yours"), endpoint.device_id)
    if hello.get("digest") == digest:
        await endpoint.synced(peer_device, own_seq)
        return  # both hold the same logs: nothing to send either way
    # The peer holds more of this device's own log than this device: its store was rolled back.
    await endpoint.own_log_behind(claims)
    mine = await endpoint.vector()
    await channel.send({"t": "vector", "v": mine})
    theirs = await channel.receive()
    if theirs.get("t") != "vector":
        raise SessionError("the peer did not send its version vector")
    # A hello without `yours` comes from a version that refuses entries without a signature.
    keys = await endpoint.missing(_check_vector(theirs.get("v")), signed_only="yours" not in hello)
    report.to_send = len(keys)
    if progress:
        progress(report)

    acked = asyncio.Queue[int]()
    peer_done = False

    async def send_all() -> None:
        batches = 0
        async for entries in _outgoing(endpoint, keys):
            await channel.send({"t": "ops", "e": [[body, sig] for body, sig in entries]})
            batches += 1
            n = await acked.get()  # one batch in flight: the peer applies it durably first
            if n != len(entries):
                raise SessionError("the peer acknowledged another number of entries than were sent")
            report.sent += n
            if progress:
                progress(report)
        await channel.send({"t": "done", "batches": batches})

    sender = asyncio.create_task(send_all())
    receive: asyncio.Future[dict[str, Any]] | None = None
    try:
        while not (peer_done and sender.done()):
            receive = asyncio.ensure_future(channel.receive())
            done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and sender.exception() is not None:
                receive.cancel()
                raise sender.exception()  # type: ignore[misc]
            if receive not in done:
                if peer_done:  # our side finished too: the session is complete
                    receive.cancel()
                    break
                msg = await receive
            else:
                msg = receive.result()
            kind = msg["t"]
            if kind == "ops":
                if peer_done:
                    raise SessionError("the peer sent operations after saying it was done")
                entries = _check_batch(msg.get("e"))
                result = await endpoint.apply(entries)
                report.received += len(entries)
                report.applied += result.applied
                report.duplicates += result.duplicates
                report.held_back += result.held_back
                report.forks += result.forks
                report.reissued += result.reissued
                report.refused += len(result.rejections)
                report.refusals.extend(f"{r.code}: {r.reason}" for r in result.rejections[:5])
                await channel.send(
                    {
                        "t": "ack",
                        "n": len(entries),
                        "applied": result.applied,
                        "refused": len(result.rejections),
                    }
                )
                if progress:
                    progress(report)
            elif kind == "ack":
                n = msg.get("n")
                if not isinstance(n, int) or isinstance(n, bool):
                    raise SessionError("the peer sent a malformed acknowledgement")
                acked.put_nowait(n)
            elif kind == "done":
                if peer_done:
                    raise SessionError("the peer said it was done twice")
                peer_done = True
            else:
                raise SessionError(f"the peer sent an unexpected frame of type “{shown(kind, 20)}”")
        await endpoint.recovered(claims)
        await endpoint.synced(peer_device, own_seq)  # the peer now holds all of this device's log
    finally:
        for task in (sender, receive):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=5)
