"""Operations: the signed, hash-chained entries of each device's log.

An operation's *body* is canonical msgpack::

    [1, station, author, epoch, seq, prev, hlc, kind, entity, payload]

`prev` is the SHA-256 of the previous body in the same (author, epoch) chain
(32 zero bytes for seq 1). The *signature* is Ed25519 by the author over the body.
The body bytes that were signed are the bytes stored and sent; they are never
re-serialised before verifying. A stored or relayed entry may carry no signature (empty
bytes): it is then authenticated by the hash chain up to a later entry whose signature
the receiver checks (`sync.verify`).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

import msgpack
import ormsgpack
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

BODY_VERSION = 1
GENESIS = bytes(32)
SIG_LEN = 64

#: The largest operation body taken from a peer (ormsgpack then checks what is inside it).
MAX_BODY_BYTES = 64 * 1024


class _Limits(TypedDict):
    """The size limits `msgpack.unpackb` takes, by name."""

    max_str_len: int
    max_bin_len: int
    max_array_len: int
    max_map_len: int


#: Limits for other msgpack from peers (`unpack_untrusted`: certificate bodies).
_LIMITS: _Limits = {
    "max_str_len": 16 * 1024,
    "max_bin_len": 16 * 1024,
    "max_array_len": 1024,
    "max_map_len": 256,
}


class MalformedOperation(ValueError):
    """Bytes that are not a well-formed operation body."""


def _refuse_ext(code: int, data: bytes) -> Any:
    raise MalformedOperation(f"msgpack extension type {code} is not allowed")


def canonical(value: Any) -> Any:
    """The value with every map's keys sorted, so equal values encode to equal bytes."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def unpack_untrusted(data: bytes) -> Any:
    """Decode msgpack from a peer: size limits, no extension types, str map keys only."""
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True, ext_hook=_refuse_ext, **_LIMITS)
    except MalformedOperation:
        raise
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise MalformedOperation(f"not valid msgpack: {type(exc).__name__}") from None


#: Operation bodies are decoded by ormsgpack (Rust): it refuses every extension type and
#: every map key that is not text, checks declared lengths against the bytes there are, and
#: bounds nesting. Re-encoding the value with sorted keys must give the body back: then every
#: map's keys were sorted and unique, every value had its shortest encoding, and nothing
#: followed. That is what `encode_body` makes (msgpack with sorted keys; the two libraries
#: agree byte for byte, tests/test_canonical_bodies.py). 113 ms for 30,030 bodies against
#: 178 ms for msgpack with a sorted-map hook.
_body_unpack = ormsgpack.unpackb
_body_pack = ormsgpack.packb
_SORTED = ormsgpack.OPT_SORT_KEYS


def op_key(author: str, epoch: int, seq: int) -> str:
    """The identity of an operation as a string key."""
    return f"{author}.{epoch:016x}.{seq:010d}"


def chain_key(author: str, epoch: int) -> str:
    """The identity of one (author, epoch) log."""
    return f"{author}.{epoch:016x}"


class _OperationFields(NamedTuple):
    station: str
    author: str
    epoch: int
    seq: int
    prev: bytes
    hlc: int
    kind: str
    entity: str
    payload: dict[str, Any]
    body: bytes
    sig: bytes
    #: (author, epoch, seq) as a string.
    key: str
    #: (author, epoch) as a string.
    chain: str
    #: SHA-256 of the body: what the next entry's `prev` names.
    digest: bytes
    #: Total merge order: HLC, then author, epoch and seq.
    order: tuple[int, str, int, int]


_tuple_new = tuple.__new__
_sha256 = hashlib.sha256
_2_40, _2_63 = 2**40, 2**63


def _build(
    cls: type[Operation],
    station: str,
    author: str,
    epoch: int,
    seq: int,
    prev: bytes,
    hlc: int,
    kind: str,
    entity: str,
    payload: dict[str, Any],
    body: bytes,
    sig: bytes,
) -> Operation:
    """An Operation from its eleven fields, the derived ones derived (what `Operation(...)`
    does; the decoders call it directly, which saves the class call: 0.8 µs of ~5)."""
    chain = f"{author}.{epoch:016x}"  # chain_key
    return _tuple_new(
        cls,
        (
            station,
            author,
            epoch,
            seq,
            prev,
            hlc,
            kind,
            entity,
            payload,
            body,
            sig,
            f"{chain}.{seq:010d}",  # op_key
            chain,
            _sha256(body).digest(),
            (hlc, author, epoch, seq),
        ),
    )


class Operation(_OperationFields):
    """A decoded operation with the exact bytes it was signed as (immutable).

    Built from its eleven fields; `key`, `chain`, `digest` and `order` are derived
    once, by `_build`: merge reads them for every operation many times over. A tuple, not a
    frozen dataclass, because a merge builds tens of thousands of them and a frozen
    dataclass's `__init__` sets each field through `object.__setattr__` (measured:
    5.5 µs per operation instead of 2.7 µs).
    """

    __slots__ = ()

    if TYPE_CHECKING:
        # The checker's view of `_build`: the eleven fields, not NamedTuple's fifteen.
        def __new__(
            cls,
            station: str,
            author: str,
            epoch: int,
            seq: int,
            prev: bytes,
            hlc: int,
            kind: str,
            entity: str,
            payload: dict[str, Any],
            body: bytes,
            sig: bytes,
        ) -> Operation: ...

    else:
        #: Built by `_build` (the decoders call it directly, without the class call).
        __new__ = _build

    def __getnewargs__(self) -> tuple[Any, ...]:
        """The eleven fields `__new__` takes (for copy and pickle)."""
        return tuple(self[:11])

    def _replace(self, **changes: Any) -> Operation:
        """A copy with some of the eleven fields changed; the derived ones are derived again."""
        fields = {name: getattr(self, name) for name in _OperationFields._fields[:11]}
        fields.update(changes)
        return Operation(**fields)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _OperationFields._fields[:11])
        return f"Operation({shown})"

    def verify_signature(self, public_key: bytes) -> bool:
        """True if `sig` is the author's signature over `body`."""
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.sig, self.body)
        except (InvalidSignature, ValueError):
            return False
        return True


def encode_body(
    station: str,
    author: str,
    epoch: int,
    seq: int,
    prev: bytes,
    hlc: int,
    kind: str,
    entity: str,
    payload: dict[str, Any],
) -> bytes:
    """Canonical body bytes."""
    return msgpack.packb(
        [BODY_VERSION, station, author, epoch, seq, prev, hlc, kind, entity, canonical(payload)],
        use_bin_type=True,
    )


def sign(signing_key: bytes, body: bytes) -> bytes:
    """Ed25519 signature of `body`."""
    return Ed25519PrivateKey.from_private_bytes(signing_key).sign(body)


def decode_trusted(body: bytes, sig: bytes) -> Operation:
    """Parse an entry this device already verified and stored (no limits or form checks)."""
    _, station, author, epoch, seq, prev, hlc, kind, entity, payload = msgpack.unpackb(body, raw=False)
    return _build(Operation, station, author, epoch, seq, prev, hlc, kind, entity, payload, body, sig)


def decode(body: bytes, sig: bytes) -> Operation:
    """Parse an entry from untrusted bytes; raises MalformedOperation with the reason."""
    if not isinstance(body, bytes) or not isinstance(sig, bytes):
        raise MalformedOperation("an entry must be two byte strings")
    if len(body) > MAX_BODY_BYTES:
        raise MalformedOperation(f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    if len(sig) != SIG_LEN and sig:  # empty: covered by a later signed entry of its chain
        raise MalformedOperation("the signature has the wrong length")
    try:
        fields = _body_unpack(body)
    except ValueError:  # ormsgpack.MsgpackDecodeError
        raise MalformedOperation(
            "not valid msgpack (or a map key that is not text, or an extension type)"
        ) from None
    if type(fields) is not list or len(fields) != 10:
        raise MalformedOperation("the body is not a 10-field list")
    version, station, author, epoch, seq, prev, hlc, kind, entity, payload = fields
    if type(version) is not int or version != BODY_VERSION:
        raise MalformedOperation(f"unknown operation version {repr(version)[:40]}")
    # Exact types: msgpack decodes to no subclasses, and `true` (a bool, an int subclass) is no number.
    if not (
        type(station) is str
        and type(author) is str
        and type(kind) is str
        and type(entity) is str
        and type(epoch) is int
        and type(seq) is int
        and type(hlc) is int
        and type(prev) is bytes
        and type(payload) is dict
        and len(station) <= 64
        and 0 < len(author) <= 64
        and 0 < len(kind) <= 64
        and len(entity) <= 64
        and 0 <= epoch < _2_63
        and 0 < seq < _2_40
        and 0 <= hlc < _2_63
        and len(prev) == 32
    ):
        raise MalformedOperation("a field of the body has the wrong type or size")
    try:
        again = _body_pack(fields, option=_SORTED)
    except TypeError:  # ormsgpack.MsgpackEncodeError: nothing it decodes should fail here
        again = None
    if again != body:
        raise MalformedOperation(
            "the body is not in canonical form (map keys sorted and unique, shortest encodings, "
            "nothing after it)"
        )
    # The signed bytes are kept as sent.
    return _build(Operation, station, author, epoch, seq, prev, hlc, kind, entity, payload, body, sig)
