"""The messages of a sync session, one named type each, and the one decoder that checks them.

A frame (`sync.frames`) carries one msgpack map whose string `t` names its message type. Each
type here builds the map it is sent as (`encode`), and `decode` turns a map read from a peer
into one of them, or raises `MessageError`, whose `code` is stable (for programs and
translations) and whose `reason` a person can read. Every field check of the protocol is
here: types, lengths and bounds. Keys a message does not know are ignored, so a newer minor
version of the protocol may add fields (docs/sync.md, "Versions" and "Messages").

Checks that need the session's context (is this the receiver's station, the device of the
peer's certificate, the receiver's own logs, the number of entries in flight) stay in
`sync/session.py`.

The maps are built key by key in the order the session sent them before this module
existed, so the bytes of a message of protocol 1.0 are unchanged
(`tests/test_sync_messages.py::test_each_message_encodes_to_the_bytes_sent_before`).
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeGuard

from sync.ops import MAX_BODY_BYTES

#: The sync protocol spoken here, (major, minor). A peer of another major is refused; one of
#: another minor is synced with, each side sending only what both understand.
PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1
PROTOCOL_VERSION = (PROTOCOL_MAJOR, PROTOCOL_MINOR)
#: What a hello without `version` (a device of protocol 1.0) speaks.
OLDEST_VERSION = (1, 0)

#: Most entries in one `ops` message.
BATCH_ENTRIES = 200
#: Most chains (author, epoch) a vector may name.
MAX_CHAINS = 20_000
#: Most of the peer's own logs a hello reports on (`yours`).
MAX_YOURS = 64
SIGNATURE_BYTES = 64
DIGEST_BYTES = 32
#: Longest chain name: `<device id>.<epoch in hex>`.
MAX_CHAIN_CHARS = 64
MAX_SEQ = 2**40
#: Longest station or device id in a hello.
MAX_ID_CHARS = 128
#: Longest `reason` an `error` carries.
MAX_REASON_CHARS = 200
#: An application version: semantic versioning's characters, bounded.
APP_VERSION = re.compile(r"[0-9A-Za-z.+-]{1,32}")
#: What a device reports as its application version when the installed package says nothing.
UNKNOWN_APP = "unknown"

Entry = tuple[bytes, bytes]


@functools.cache
def app_version() -> str:
    """This installation's fieldapp version (pyproject.toml), or `unknown` if not installed."""
    try:
        found = importlib.metadata.version("fieldapp")
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN_APP
    return found if APP_VERSION.fullmatch(found) else UNKNOWN_APP


def version_text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


class MessageError(Exception):
    """A message from a peer that cannot be accepted.

    `code` is stable (docs/sync.md lists every one), `reason` is a sentence for a person,
    `params` the values a translation may show.
    """

    def __init__(self, code: str, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.params = params


# ---------------------------------------------------------------- the messages


@dataclass(frozen=True)
class Hello:
    """First message of each side: who it is, which protocol and app, a digest of what it holds.

    `yours` is None when the peer did not send it (a version before the rollback repair:
    it refuses entries without their own signature). `version` and `app` are None in a hello
    of protocol 1.0, which had neither.
    """

    #: Its `t` on the wire.
    kind: ClassVar[str] = "hello"

    station: str
    device: str
    digest: bytes
    yours: Mapping[str, tuple[int, bytes]] | None = None
    proto: int = PROTOCOL_MAJOR
    version: tuple[int, int] | None = None
    app: str | None = None

    @property
    def speaks(self) -> tuple[int, int]:
        """The protocol version of the sender (a hello without one: 1.0)."""
        return self.version if self.version is not None else (self.proto, 0)

    def encode(self) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "t": self.kind,
            "proto": self.proto,
            "station": self.station,
            "device": self.device,
            "digest": self.digest,
        }
        if self.yours is not None:
            msg["yours"] = {chain: [seq, head] for chain, (seq, head) in self.yours.items()}
        if self.version is not None:
            msg["version"] = list(self.version)
        if self.app is not None:
            msg["app"] = self.app
        return msg


@dataclass(frozen=True)
class Vector:
    """Every chain the sender holds, to the head held with every earlier entry."""

    #: Its `t` on the wire.
    kind: ClassVar[str] = "vector"

    v: Mapping[str, int]

    def encode(self) -> dict[str, Any]:
        return {"t": self.kind, "v": self.v}


@dataclass(frozen=True)
class Ops:
    """A batch of entries (operation body, signature) the peer lacks."""

    #: Its `t` on the wire.
    kind: ClassVar[str] = "ops"

    entries: tuple[Entry, ...]

    def encode(self) -> dict[str, Any]:
        return {"t": self.kind, "e": [[body, sig] for body, sig in self.entries]}


@dataclass(frozen=True)
class Ack:
    """An `ops` batch was durably applied: `n` entries, `applied` new, `refused` refused."""

    #: Its `t` on the wire.
    kind: ClassVar[str] = "ack"

    n: int
    applied: int = 0
    refused: int = 0

    def encode(self) -> dict[str, Any]:
        return {"t": self.kind, "n": self.n, "applied": self.applied, "refused": self.refused}


@dataclass(frozen=True)
class Done:
    """The sender's last batch was acknowledged; `batches` it sent (None: not said)."""

    #: Its `t` on the wire.
    kind: ClassVar[str] = "done"

    batches: int | None = None

    def encode(self) -> dict[str, Any]:
        return {"t": self.kind} if self.batches is None else {"t": self.kind, "batches": self.batches}


@dataclass(frozen=True)
class Error:
    """The sender ends the session: why, for a person (`reason`), and, since 1.1, why for a
    program (`code`) with the sender's versions when the code is `protocol_major`."""

    #: Its `t` on the wire.
    kind: ClassVar[str] = "error"

    reason: str | None
    code: str | None = None
    version: tuple[int, int] | None = None
    app: str | None = None

    def encode(self) -> dict[str, Any]:
        msg: dict[str, Any] = {"t": self.kind, "reason": (self.reason or "")[:MAX_REASON_CHARS]}
        if self.code is not None:
            msg["code"] = self.code
        if self.version is not None:
            msg["version"] = list(self.version)
        if self.app is not None:
            msg["app"] = self.app
        return msg


Message = Hello | Vector | Ops | Ack | Done | Error


# ---------------------------------------------------------------- the decoder


def _int(value: Any, low: int, high: int) -> TypeGuard[int]:
    """An integer (not a boolean) with low <= value < high."""
    return type(value) is int and low <= value < high


def _chain(value: Any) -> bool:
    """`<author>.<epoch in hex>`, at most MAX_CHAIN_CHARS characters."""
    if not isinstance(value, str) or len(value) > MAX_CHAIN_CHARS or "." not in value:
        return False
    try:
        int(value.rpartition(".")[2], 16)
    except ValueError:
        return False
    return True


def _version(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(_int(n, 0, 2**16) for n in value):
        return (value[0], value[1])
    return None


def _app(value: Any) -> str | None:
    return value if isinstance(value, str) and APP_VERSION.fullmatch(value) else None


def protocol_major_reason(ours: tuple[int, int], app: str, theirs: tuple[int, int], peer_app: str) -> str:
    """Why a session with a peer of another major protocol version is refused, from this side."""
    return (
        f"this device speaks sync protocol {version_text(ours)} (fieldapp {app}), the peer "
        f"{version_text(theirs)} (fieldapp {peer_app}): update the older one; "
        "`fieldapp --version` shows each device's version"
    )


def _hello(msg: Mapping[str, Any], major: int) -> Hello:
    bad = MessageError("malformed_hello", "the peer sent a malformed hello")
    proto, version = msg.get("proto"), msg.get("version")
    if not _int(proto, 0, 2**16):
        raise bad
    speaks = _version(version) if version is not None else (proto, 0)
    if speaks is None or speaks[0] != proto:
        raise bad
    # The version first: a hello of another major may be shaped otherwise in every other field.
    if proto != major:  # the session says it with both sides' versions (sync/session.py)
        peer_app = _app(msg.get("app")) or UNKNOWN_APP
        raise MessageError(
            "protocol_major",
            f"the peer speaks sync protocol {version_text(speaks)} (fieldapp {peer_app})",
            theirs=speaks,
            peer_app=peer_app,
        )
    app = msg.get("app")
    if app is not None and _app(app) is None:
        raise bad
    station, device, digest = msg.get("station"), msg.get("device"), msg.get("digest")
    if not (
        isinstance(station, str)
        and 0 < len(station) <= MAX_ID_CHARS
        and isinstance(device, str)
        and 0 < len(device) <= MAX_ID_CHARS
        and isinstance(digest, bytes)
        and len(digest) == DIGEST_BYTES
    ):
        raise bad
    raw = msg.get("yours")
    yours: dict[str, tuple[int, bytes]] | None = None
    if raw is not None:
        if not isinstance(raw, dict) or len(raw) > MAX_YOURS:
            raise bad
        yours = {}
        for chain, pair in raw.items():
            if not (
                _chain(chain)
                and isinstance(pair, list)
                and len(pair) == 2
                and _int(pair[0], 0, MAX_SEQ)
                and isinstance(pair[1], bytes)
                and len(pair[1]) == DIGEST_BYTES
            ):
                raise bad
            yours[chain] = (pair[0], pair[1])
    return Hello(station, device, digest, yours, proto, None if version is None else speaks, app)


def vector_of(value: Any) -> dict[str, int]:
    """The `v` of a `vector` message, checked."""
    bad = MessageError("malformed_vector", "the peer sent a malformed version vector")
    if not isinstance(value, dict) or len(value) > MAX_CHAINS:
        raise bad
    for chain, seq in value.items():
        if not _chain(chain) or not _int(seq, 0, MAX_SEQ):
            raise bad
    return value


def entries_of(value: Any) -> list[Entry]:
    """The `e` of an `ops` message, checked: nothing of a malformed batch is applied."""
    if not isinstance(value, list) or not 0 < len(value) <= BATCH_ENTRIES:
        raise MessageError(
            "malformed_ops", f"the peer sent a malformed batch (1 to {BATCH_ENTRIES} entries expected)"
        )
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
            raise MessageError(
                "malformed_ops", "the peer sent a malformed batch entry; nothing of that batch was applied"
            )
        entries.append((item[0], item[1]))
    return entries


def _ack(msg: Mapping[str, Any]) -> Ack:
    n, applied, refused = msg.get("n"), msg.get("applied", 0), msg.get("refused", 0)
    if not (_int(n, 0, BATCH_ENTRIES + 1) and _int(applied, 0, 2**32) and _int(refused, 0, 2**32)):
        raise MessageError("malformed_ack", "the peer sent a malformed acknowledgement")
    return Ack(n, applied, refused)


def _done(msg: Mapping[str, Any]) -> Done:
    batches = msg.get("batches")
    if batches is not None and not _int(batches, 0, 2**32):
        raise MessageError("malformed_done", "the peer sent a malformed done")
    return Done(batches)


def _error(msg: Mapping[str, Any]) -> Error:
    """An `error` is never refused: whatever its fields, the peer has ended the session."""
    reason, code = msg.get("reason"), msg.get("code")
    return Error(
        reason if isinstance(reason, str) else None,
        code if isinstance(code, str) and 0 < len(code) <= 64 and code.isascii() else None,
        _version(msg.get("version")),
        _app(msg.get("app")),
    )


_READERS: dict[str, Callable[[Mapping[str, Any]], Message]] = {
    Vector.kind: lambda msg: Vector(vector_of(msg.get("v"))),
    Ops.kind: lambda msg: Ops(tuple(entries_of(msg.get("e")))),
    Ack.kind: _ack,
    Done.kind: _done,
    Error.kind: _error,
}


def decode(msg: Mapping[str, Any], *, major: int = PROTOCOL_MAJOR) -> Message:
    """The message a frame's map holds, every field checked, or MessageError.

    `major` is the protocol major version the receiver speaks (tests simulate another).
    """
    kind = msg.get("t")
    if not isinstance(kind, str):
        raise MessageError("no_type", "the peer sent a frame without a type")
    if kind == Hello.kind:
        return _hello(msg, major)
    read = _READERS.get(kind)
    if read is not None:
        return read(msg)
    raise MessageError(
        "unknown_type", f"the peer sent an unexpected frame of type “{shown(kind, 20)}”", type=shown(kind, 20)
    )


def shown(text: str, limit: int = 200) -> str:
    """Text from a peer as it may be shown to a person: printable characters only, bounded."""
    cut = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return cut + ("…" if len(text) > limit else "")
