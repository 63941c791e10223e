"""Length-prefixed msgpack frames over asyncio streams, for talking to untrusted peers.

A frame is a 4-byte big-endian length followed by that many bytes of msgpack
holding one map with string keys. Everything read from a peer is bounded
before it is decoded: the announced length is checked against the limit before
a byte of the body is read, the unpacker gets explicit string/binary/array/map
limits, extension types are refused, and the nesting depth is bounded. Any
violation raises `FrameError` whose `reason` a person can read; the caller
ends that session and carries on serving others.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from dataclasses import dataclass
from typing import Any

import msgpack

HEADER = struct.Struct(">I")
#: Default upper bound of one frame's body.
MAX_FRAME_BYTES = 1024 * 1024
#: Deepest nesting of maps and lists accepted in a frame.
MAX_DEPTH = 16
#: Default timeout of one read or write, in seconds.
DEFAULT_TIMEOUT = 30.0


class FrameError(Exception):
    """A frame that cannot be accepted; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FrameLimits:
    """Bounds applied to one frame read from a peer."""

    max_bytes: int = MAX_FRAME_BYTES
    max_items: int = 100_000
    max_depth: int = MAX_DEPTH


DEFAULT_LIMITS = FrameLimits()


def _refuse_ext(code: int, data: bytes) -> Any:
    raise FrameError("msgpack extension types are not allowed")


def _check_shape(value: Any, max_depth: int) -> None:
    """Refuse nesting deeper than `max_depth` and map keys that are not strings."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise FrameError(f"the frame nests deeper than {max_depth} levels")
            for key, child in item.items():
                if not isinstance(key, str):
                    raise FrameError("map keys must be strings")
                if isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise FrameError(f"the frame nests deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item if isinstance(child, dict | list))


def decode_body(body: bytes, limits: FrameLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """Decode one frame body from a peer into a map, within `limits`."""
    if len(body) > limits.max_bytes:
        raise FrameError(f"frame of {len(body)} bytes exceeds the limit of {limits.max_bytes}")
    try:
        value = msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            ext_hook=_refuse_ext,
            use_list=True,
            max_str_len=limits.max_bytes,
            max_bin_len=limits.max_bytes,
            max_array_len=limits.max_items,
            max_map_len=limits.max_items,
            max_ext_len=limits.max_bytes,  # and ext_hook refuses every one
        )
    except FrameError:
        raise
    except msgpack.StackError:
        raise FrameError(f"the frame nests deeper than {limits.max_depth} levels") from None
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError) as exc:
        if "map key" in str(exc):  # strict_map_key refused an int or other key
            raise FrameError("map keys must be strings") from None
        raise FrameError(f"not valid msgpack ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise FrameError("not a msgpack map")
    _check_shape(value, limits.max_depth)
    return value


def encode_frame(msg: dict[str, Any], max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """The wire bytes of one frame (header and body)."""
    if not isinstance(msg, dict):
        raise FrameError("not a msgpack map")
    body = msgpack.packb(msg, use_bin_type=True)
    if len(body) > max_bytes:
        raise FrameError(f"frame of {len(body)} bytes exceeds the limit of {max_bytes}")
    return HEADER.pack(len(body)) + body


async def _read_exactly(reader: asyncio.StreamReader, n: int, started: bool) -> bytes:
    try:
        return await reader.readexactly(n)
    except asyncio.IncompleteReadError as exc:
        if not started and not exc.partial:
            raise FrameError("the peer closed the connection") from None
        raise FrameError("connection closed mid-frame") from None
    except ssl.SSLError as exc:
        raise FrameError(tls_reason(exc)) from None
    except (ConnectionError, OSError) as exc:
        raise FrameError(f"the connection was lost ({exc.__class__.__name__})") from None


#: What the side that asked for a certificate reports when the peer sent none.
NO_CERTIFICATE = (
    "the peer presented no certificate (only a device enrolled at this station may connect); "
    "this device refused it"
)


def tls_reason(exc: ssl.SSLError) -> str:
    """A TLS failure in words, said from this device's side of the handshake."""
    code = (exc.reason or "").upper()
    if "PEER_DID_NOT_RETURN_A_CERTIFICATE" in code:  # this side asked for one and got none
        return NO_CERTIFICATE
    if "UNKNOWN_CA" in code or "CERTIFICATE" in code or "BAD_CERT" in code:
        return (
            "the peer refused this device's certificate (the devices are not enrolled at the same "
            "station, or this device is not enrolled)"
        )
    return f"the secure connection failed ({exc.reason or type(exc).__name__})"


async def read_frame(
    reader: asyncio.StreamReader, timeout: float = DEFAULT_TIMEOUT, limits: FrameLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Read one frame from a peer within `timeout` seconds; raise FrameError otherwise."""
    return (await read_frame_sized(reader, timeout, limits))[0]


async def read_frame_sized(
    reader: asyncio.StreamReader, timeout: float = DEFAULT_TIMEOUT, limits: FrameLimits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], int]:
    """`read_frame`, with the frame's size on the wire (header included)."""

    async def read() -> tuple[dict[str, Any], int]:
        header = await _read_exactly(reader, HEADER.size, started=False)
        (length,) = HEADER.unpack(header)
        if length > limits.max_bytes:
            raise FrameError(f"frame of {length} bytes exceeds the limit of {limits.max_bytes}")
        body = await _read_exactly(reader, length, started=True)
        return decode_body(body, limits), HEADER.size + length

    try:
        async with asyncio.timeout(timeout):  # not wait_for: 3.11's can swallow a cancellation
            return await read()
    except TimeoutError:
        raise FrameError("timed out waiting for the peer") from None


async def write_frame(
    writer: asyncio.StreamWriter,
    msg: dict[str, Any],
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = MAX_FRAME_BYTES,
) -> None:
    """Send one frame and wait until it is handed to the network (or `timeout`)."""
    data = encode_frame(msg, max_bytes)
    try:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), timeout)
    except TimeoutError:
        raise FrameError("timed out waiting for the peer") from None
    except (ConnectionError, OSError) as exc:
        raise FrameError(f"the connection was lost ({exc.__class__.__name__})") from None
