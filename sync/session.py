"""One sync session between two enrolled devices, over an authenticated stream.

The transport (TLS, `sync.lan`) has already told each side who the other is.
The session is symmetric: both sides run `run_session`, and each both sends
what the other lacks and receives what it lacks, at the same time::

    both  -> Hello  {t, proto, station, device, digest, yours, version, app}
    (another major version: both refuse; equal digests: both hold the same logs, the end)
    both  -> Vector {t, v: {chain: seq}}
    both  -> Ops    {t, e: [[body, sig], ...]}   (batches, in sequence order per chain)
             Ack    {t, n, applied, refused}     (after the batch is durably applied)
    both  -> Done   {t, batches}                 (after the last of its batches was acked)
    either-> Error  {t, reason[, code, version, app]}  (then closes)

The messages and their checks are `sync/messages.py`; `docs/sync.md` describes
every message, field and limit, and what happens when the two sides' versions
differ. A receiver applies a batch durably (`Replica.apply`, one transaction)
before it acknowledges, and the vector it sends next time is computed from what
it holds durably, so a cut connection resumes where it stopped and a repeated
batch is a no-op.

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
from typing import Any, TypeVar, TypeVarTuple

import msgpack

from sync import ledger
from sync.frames import FrameError, FrameLimits, encode_frame, read_frame_sized
from sync.messages import (
    BATCH_ENTRIES,
    MAX_CHAINS,
    MAX_YOURS,
    OLDEST_VERSION,
    PROTOCOL_MAJOR,
    PROTOCOL_VERSION,
    UNKNOWN_APP,
    Ack,
    Done,
    Error,
    Hello,
    Message,
    MessageError,
    Ops,
    Vector,
    app_version,
    decode,
    entries_of,
    protocol_major_reason,
    shown,
    vector_of,
    version_text,
)
from sync.ops import MAX_BODY_BYTES, chain_key, op_key
from sync.replica import ApplyReport, Entry, Replica
from sync.verify import signed_batches

#: The major sync protocol version, as advertised in discovery (docs/sync.md, "Discovery").
PROTOCOL = PROTOCOL_MAJOR
#: The bytes a sender aims to keep an `ops` batch under.
BATCH_BYTES = 192 * 1024
#: Limits of a frame read from a peer.
LIMITS = FrameLimits(max_bytes=BATCH_BYTES + 2 * MAX_BODY_BYTES + 4096, max_items=MAX_CHAINS, max_depth=4)
IO_TIMEOUT = 30.0

Progress = Callable[["SessionReport"], None]


class SessionError(Exception):
    """The session ended early; `reason` says why in plain words, `code` in a stable word
    (docs/sync.md, "Error codes"), `params` the values a translation shows."""

    def __init__(
        self,
        reason: str,
        *,
        code: str = "session",
        by_peer: bool = False,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.by_peer = by_peer
        self.params = params or {}
        #: With `protocol_major`: the peer's sync protocol version.
        self.peer_version: tuple[int, int] | None = None

    @classmethod
    def of(cls, error: MessageError) -> SessionError:
        return cls(error.reason, code=error.code, params=dict(error.params))


@dataclass
class SessionReport:
    """What one session did, from this side."""

    peer: str
    to_send: int = 0
    #: What the peer's vector says it holds that this side lacks (the receiving side's progress:
    #: an estimate, entries refused or held back on the way still count).
    to_receive: int = 0
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
    #: Why the session ended early as a stable code (docs/sync.md, "Error codes"), and its values.
    error_code: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)
    #: The peer's sync protocol (major, minor) and fieldapp version, from its hello (a hello
    #: of protocol 1.0 says no app version: None).
    peer_version: tuple[int, int] | None = None
    peer_app: str | None = None
    #: Set when the session completed: this device's own log up to this seq is held by the peer.
    completed: int | None = None
    #: What the batches merged, by author and kind, for the sync ledger (`sync.ledger`).
    tally: ledger.Tally = field(default_factory=ledger.Tally, repr=False)
    #: Set when the session completed: the vector the peer held at its end (its own vector and
    #: what this side sent it), kept per peer to say how far behind it falls (`behind`).
    peer_holds: dict[str, int] | None = field(default=None, repr=False)

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
            "error_code": self.error_code,
            "peer_version": version_text(self.peer_version) if self.peer_version else None,
            "peer_app": self.peer_app,
        }


SYNC_STATE = "sync_state"
#: Local documents (never synced) "held_by.<device>": what each peer held at the end of its last
#: completed session with this device, {"v": vector, "at": time}.
HELD_BY = "held_by."


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


def behind(replica: Replica) -> dict[str, int]:
    """Device id -> operations held here that the device did not hold at the end of its last
    completed session with this device, not counting its own logs (a device always holds
    those). Devices that never completed one are not listed. docs/sync.md, "Behind"."""
    now = replica.vector()
    found: dict[str, int] = {}
    for key, doc in replica.local.raw().items():
        if not key.startswith(HELD_BY):
            continue
        peer = key[len(HELD_BY) :]
        held = doc.get("v") or {}
        own = f"{peer}."
        found[peer] = sum(
            max(0, seq - int(held.get(chain, 0))) for chain, seq in now.items() if not chain.startswith(own)
        )
    return found


def heads_digest(heads: dict[str, tuple[int, bytes]]) -> bytes:
    """SHA-256 of every log's head (seq and entry hash) in canonical form: equal digests, the
    same entries held (a log cut short and written again differently gives another digest)."""
    rows = [[chain, seq, digest] for chain, (seq, digest) in sorted(heads.items())]
    return hashlib.sha256(msgpack.packb(rows, use_bin_type=True)).digest()


def _check_yours(hello: Hello, peer_is: str) -> dict[str, tuple[int, bytes]]:
    """What the peer holds of this device's logs, from its hello (optional; unknown: nothing)."""
    claims = dict(hello.yours or {})
    if any(not chain.startswith(f"{peer_is}.") for chain in claims):
        raise SessionError("the peer sent a malformed hello", code="malformed_hello")
    return claims


class Endpoint:
    """This device's replica as seen by sync sessions: one at a time touches it.

    Applying runs in a worker thread so the event loop (and a UI on it) stays
    responsive; a lock keeps sessions served at once from touching the store
    together. While any session is open the replica is in a merge session:
    every batch is stored durably as it arrives and the view is folded once,
    when the last session ends.
    """

    def __init__(
        self, replica: Replica, app: str | None = None, protocol: tuple[int, int] = PROTOCOL_VERSION
    ) -> None:
        self.replica = replica
        #: This device's fieldapp version, told to peers in its hello (default: the installed one).
        self.app = app or app_version()
        #: The sync protocol this side speaks; only tests set another, to act as another version.
        #: (1, 0) sends a hello without versions, as devices of protocol 1.0 did.
        self.protocol = protocol
        self.lock = asyncio.Lock()
        self._open = 0
        self._merge: contextlib.ExitStack | None = None

    @property
    def station(self) -> str:
        return self.replica.station

    def hello(self, digest: bytes, yours: dict[str, tuple[int, bytes]]) -> Hello:
        """This side's hello; a side acting as protocol 1.0 sends it without versions."""
        versions = self.protocol != OLDEST_VERSION
        return Hello(
            self.station,
            self.device_id,
            digest,
            yours,
            proto=self.protocol[0],
            version=self.protocol if versions else None,
            app=self.app if versions else None,
        )

    def other_major(self, theirs: tuple[int, int], peer_app: str) -> SessionError:
        """The error of a peer speaking another major version than this side: both refuse."""
        error = SessionError(
            protocol_major_reason(self.protocol, self.app, theirs, peer_app),
            code="protocol_major",
            params={
                "ours": version_text(self.protocol),
                "theirs": version_text(theirs),
                "app": self.app,
                "peer_app": peer_app,
            },
        )
        error.peer_version = theirs
        return error

    def error_for(self, error: SessionError) -> Error:
        """The `error` message that tells the peer why this side ends the session.

        Only `protocol_major` carries a code and this side's versions, so that the peer
        reports it too even if it did not see it itself; every other `error` is as in 1.0.
        """
        if error.code != "protocol_major":
            return Error(error.reason)
        params = error.params
        return Error(
            f"sync protocol {params['ours']} (fieldapp {params['app']}) here, {params['theirs']} "
            f"(fieldapp {params['peer_app']}) on your device: update the older one; "
            "`fieldapp --version` shows each device's version",
            code="protocol_major",
            version=self.protocol,
            app=self.app,
        )

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

    def _synced(self, peer: str, own_seq: int) -> None:
        """Remember a successful session: when, with whom, how much of this device's log it took."""
        me = self.replica.identity
        chain = chain_key(me.device_id, me.epoch)
        doc = self.replica.local.get_copy(SYNC_STATE) or {}
        seq = max(own_seq, int(doc.get("seq", 0)) if doc.get("chain") == chain else 0)
        now = time.time()
        peers = dict(doc.get("peers") or {})
        peers[peer] = now  # when this device last synced with each peer (the devices screen)
        self.replica.local.put(
            SYNC_STATE, {"at": now, "peer": peer, "chain": chain, "seq": seq, "peers": peers}
        )

    async def remember(self, report: SessionReport, side: str, start: float, end: float) -> None:
        """Keep the session in the sync ledger (`sync.ledger`), after its merge has committed, and
        a completed one in the sync state (`sync_status`): one transaction, one write."""
        known = self.replica.device(report.peer)
        counts = {
            "sent": report.sent,
            "received": report.received,
            "duplicates": report.duplicates,
            "held_back": report.held_back,
            "refused": report.refused,
            "forks": report.forks,
        }
        entry = ledger.entry(
            side,
            report.peer,
            start,
            end,
            officer=known.get("officer") if known else None,
            tally=report.tally,
            counts=counts,
            error=report.error,
            error_code=report.error_code,
            error_params=report.error_params,
        )
        async with self.lock:
            with self.replica.db.transaction():
                if report.completed is not None and report.error is None:
                    self._synced(report.peer, report.completed)
                    if report.peer_holds is not None:
                        self.replica.local.put(HELD_BY + report.peer, {"v": report.peer_holds, "at": end})
                ledger.record(self.replica.db, entry)

    async def remember_refusal(self, address: str, code: str, reason: str) -> None:
        """Keep a connection refused before any session (the server's "refused" events): a stable
        code and the sentence the server reported (technical, no names)."""
        now = time.time()
        entry = ledger.entry(
            "server", None, now, now, error=reason, error_code=code, address=address, refused=True
        )
        async with self.lock:
            ledger.record(self.replica.db, entry)

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


_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


async def _to_thread_to_the_end(function: Callable[[*_Ts], _T], *args: *_Ts) -> _T:
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
    """The `v` of a vector (`sync.messages.vector_of`), or SessionError."""
    try:
        return vector_of(value)
    except MessageError as exc:
        raise SessionError.of(exc) from None


def _check_batch(value: Any) -> list[Entry]:
    """The entries of an `ops` frame (`sync.messages.entries_of`), or SessionError: nothing of
    a malformed batch is applied."""
    try:
        return entries_of(value)
    except MessageError as exc:
        raise SessionError.of(exc) from None


class _Channel:
    """Messages over a stream as frames, counting bytes, one writer at a time."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float, endpoint: Endpoint
    ) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.endpoint = endpoint
        self.sent = self.received = 0

    async def send(self, message: Message) -> None:
        try:
            data = encode_frame(message.encode(), LIMITS.max_bytes)
        except FrameError as exc:  # a bug here, not the peer's doing: end the session, say why
            raise SessionError(
                f"this device could not send a frame: {exc.reason}", code="send_failed"
            ) from None
        self.sent += len(data)
        try:
            self.writer.write(data)
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except TimeoutError:
            raise SessionError("timed out sending to the peer", code="timeout") from None
        except (ConnectionError, OSError) as exc:
            raise SessionError(
                f"the connection was lost ({type(exc).__name__})", code="connection_lost"
            ) from None

    async def receive(self) -> Message:
        """The peer's next message, checked (`sync.messages.decode`); an `Error` ends the session."""
        try:
            frame, size = await read_frame_sized(self.reader, self.timeout, LIMITS)
        except FrameError as exc:
            raise SessionError(exc.reason, code="frame") from None
        self.received += size
        try:
            msg = decode(frame, major=self.endpoint.protocol[0])
        except MessageError as exc:
            if exc.code == "protocol_major":
                raise self.endpoint.other_major(exc.params["theirs"], exc.params["peer_app"]) from None
            raise SessionError.of(exc) from None
        if isinstance(msg, Error):
            if msg.code == "protocol_major" and msg.version and msg.version[0] != self.endpoint.protocol[0]:
                # The peer found it first: this side reports it the same way (docs/sync.md, "Versions").
                error = self.endpoint.other_major(msg.version, msg.app or UNKNOWN_APP)
                error.by_peer = True
                raise error
            given = shown(msg.reason) if msg.reason and msg.reason.strip() else "no reason given"
            raise SessionError(
                f"the peer ended the session: {given}",
                code="peer_error",
                by_peer=True,
                params={"reason": given, "code": msg.code},
            )
        return msg


async def run_session(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    endpoint: Endpoint,
    peer_device: str,
    timeout: float = IO_TIMEOUT,
    progress: Progress | None = None,
    side: str = "client",
) -> SessionReport:
    """Sync with an authenticated peer; the report's `error` says why it ended early, if it did.

    `side`: "server" on the listening device, "client" on the connecting one (the sync ledger).
    """
    report = SessionReport(peer=peer_device)
    channel = _Channel(reader, writer, timeout, endpoint)
    started = time.monotonic()
    wall = time.time()
    try:
        async with endpoint.session():
            await _exchange(channel, endpoint, peer_device, report, progress)
    except SessionError as exc:
        report.error, report.error_code, report.error_params = exc.reason, exc.code, exc.params
        if exc.code == "protocol_major":
            report.peer_version, report.peer_app = exc.peer_version, exc.params["peer_app"]
        if not exc.by_peer:
            with contextlib.suppress(Exception):
                writer.write(encode_frame(endpoint.error_for(exc).encode()))
                await asyncio.wait_for(writer.drain(), 2)
    finally:
        report.bytes_sent, report.bytes_received = channel.sent, channel.received
        report.seconds = time.monotonic() - started
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2)
    # After the merge committed and (for the last session open) the view was folded.
    await endpoint.remember(report, side, wall, time.time())
    return report


async def refuse(writer: asyncio.StreamWriter, reason: str) -> None:
    """Tell a peer why it is refused, then hang up."""
    with contextlib.suppress(Exception):
        writer.write(encode_frame(Error(reason).encode()))
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
        raise SessionError(f"refused: {revoked}", code="revoked")
    me = endpoint.replica.identity
    own_seq = (await endpoint.heads(me.device_id)).get(chain_key(me.device_id, me.epoch), (0, b""))[0]
    digest = heads_digest(await endpoint.heads())
    yours = dict(sorted((await endpoint.heads(peer_device)).items())[-MAX_YOURS:])
    await channel.send(endpoint.hello(digest, yours))
    hello = await channel.receive()
    if not isinstance(hello, Hello):
        raise SessionError("the peer did not start with a hello", code="out_of_order")
    report.peer_version, report.peer_app = hello.speaks, hello.app
    # Another minor version: carry on. Both speak 1.0 and 1.1 alike (docs/sync.md, "Versions").
    if hello.station != endpoint.station:
        raise SessionError("the peer belongs to another station", code="wrong_station")
    if hello.device != peer_device:
        raise SessionError("the peer's hello names another device than its certificate", code="wrong_device")
    claims = _check_yours(hello, endpoint.device_id)
    if hello.digest == digest:
        report.completed = own_seq  # kept with the ledger entry once the session ends
        report.peer_holds = await endpoint.vector()
        return  # both hold the same logs: nothing to send either way
    # The peer holds more of this device's own log than this device: its store was rolled back.
    await endpoint.own_log_behind(claims)
    mine = await endpoint.vector()
    await channel.send(Vector(mine))
    theirs = await channel.receive()
    if not isinstance(theirs, Vector):
        raise SessionError("the peer did not send its version vector", code="out_of_order")
    # A hello without `yours` comes from a version that refuses entries without a signature.
    keys = await endpoint.missing(dict(theirs.v), signed_only=hello.yours is None)
    report.to_send = len(keys)
    report.to_receive = sum(max(0, seq - mine.get(chain, 0)) for chain, seq in theirs.v.items())
    holds = dict(theirs.v)  # once all is sent: what the peer had and what it was sent
    for author, epoch, seq in keys:
        chain = chain_key(author, epoch)
        holds[chain] = max(holds.get(chain, 0), seq)
    if progress:
        progress(report)

    acked = asyncio.Queue[int]()
    peer_done = False

    async def send_all() -> None:
        batches = 0
        async for entries in _outgoing(endpoint, keys):
            await channel.send(Ops(tuple(entries)))
            batches += 1
            n = await acked.get()  # one batch in flight: the peer applies it durably first
            if n != len(entries):
                raise SessionError(
                    "the peer acknowledged another number of entries than were sent", code="ack_mismatch"
                )
            report.sent += n
            if progress:
                progress(report)
        await channel.send(Done(batches))

    sender = asyncio.create_task(send_all())
    receive: asyncio.Future[Message] | None = None
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
            if isinstance(msg, Ops):
                if peer_done:
                    raise SessionError(
                        "the peer sent operations after saying it was done", code="out_of_order"
                    )
                entries = list(msg.entries)
                result = await endpoint.apply(entries)
                report.received += len(entries)
                report.applied += result.applied
                report.duplicates += result.duplicates
                report.held_back += result.held_back
                report.forks += result.forks
                report.reissued += result.reissued
                report.refused += len(result.rejections)
                report.refusals.extend(f"{r.code}: {r.reason}" for r in result.rejections[:5])
                report.tally.add(result.accepted, result.rejections)
                await channel.send(Ack(len(entries), result.applied, len(result.rejections)))
                if progress:
                    progress(report)
            elif isinstance(msg, Ack):
                acked.put_nowait(msg.n)
            elif isinstance(msg, Done):
                if peer_done:
                    raise SessionError("the peer said it was done twice", code="out_of_order")
                peer_done = True
            else:
                raise SessionError(
                    f"the peer sent an unexpected frame of type “{msg.kind}”", code="out_of_order"
                )
        await endpoint.recovered(claims)
        report.completed = own_seq  # the peer now holds all of this device's log (kept at the end)
        report.peer_holds = holds
    finally:
        for task in (sender, receive):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=5)
