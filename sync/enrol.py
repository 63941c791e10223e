"""Enrolment of a new device over the LAN with a one-time code (SPAKE2).

The supervisor's device runs an `EnrolServer`; it shows a code such as
``7-river-lantern`` (`sync.enrol_codes`). The number (the *nameplate*, 1-99) is
public: it names the enrolment slot and is all the zeroconf advertisement
(`sync.discovery`) carries. The two words come from `sync.enrol_codes.WORDS`
(256 short, distinct, easy-to-say English nouns), so a code holds 16 bits of
secret. The whole code string is the SPAKE2 password:

- a recorded transcript allows no offline guessing (SPAKE2), so each guess
  costs an online attempt;
- key confirmation runs both ways (HMAC-SHA256 over the transcript, keys from
  HKDF over the SPAKE2 key): the joiner proves first, the station answers only
  then, so neither side can be made to trust a peer that lacks the code;
- what counts as a guess is a proof (a `confirm` frame) that is wrong, and each
  slot allows `MAX_FAILURES` (3) of them; the count is taken before the station
  answers, and a proof that arrives once the code is burned, used or expired is
  refused without being checked. An attacker's chance per code is therefore 3 in
  65,536, however many exchanges it runs; the public nameplate changes nothing in
  that. A burned code is never replaced automatically; codes expire and work once;
- an exchange that ends before a proof (closed, silent, garbage) tests no guess:
  until its proof the station has sent only its SPAKE2 message, Y = y*G + w*N
  with a fresh random y, a uniformly random group element whatever the code w
  is, so nothing in it can be checked against a candidate code offline. Such an
  exchange does not count. Exchanges run side by side (several per slot), each
  step (one frame) has `IO_TIMEOUT` seconds, and `sync.enrol_gate` bounds the
  connections per source address and pre-empts the oldest unproven one when
  the station is full, so neither abandoning nor holding a connection keeps the
  real joiner out;
- the joiner's key and officer name, and the station's certificate and trust
  anchor, travel sealed with AES-256-GCM under HKDF keys bound to the transcript.

Frames (`sync.frames`, at most 64 KiB here), joiner = SPAKE2_A, station = SPAKE2_B::

    joiner  -> hello {v, nameplate, spake}     station -> spake {spake} | error {message}
    joiner  -> confirm {mac}                   station -> confirm {mac} | error {message}
    joiner  -> request {box}                   station -> certificate {box} | error {message}

This module knows nothing of stores: the server calls `issue(device_key,
officer, role)` and the joiner's caller adopts what `enrol_join` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from spake2 import SPAKE2_A, SPAKE2_B
from spake2.spake2 import SPAKEError

from sync.discovery import Advertiser, browse
from sync.enrol_codes import EnrolError, make_code, parse_code
from sync.enrol_gate import Gate
from sync.frames import FrameError, FrameLimits, decode_body, read_frame, write_frame
from sync.identity import device_id_for

PROTOCOL_VERSION = 1
SERVICE_TYPE = "_fieldapp-enrol._tcp.local."
MAX_FAILURES = 3
#: Seconds one step (one frame read or written) may take; a silent peer is dropped after it.
IO_TIMEOUT = 5.0
LIMITS = FrameLimits(max_bytes=64 * 1024, max_items=64, max_depth=4)
ID_JOINER, ID_STATION = b"fieldapp-enrol-joiner", b"fieldapp-enrol-station"
THROTTLED = (
    "one address is opening too many enrolment connections; they are refused for a while "
    "(someone may be probing the station; the code is still valid)"
)


class IssueRefused(Exception):
    """Raised by an `issue` callback: the station will not certify; the message is shown to the joiner."""


Issue = Callable[[bytes, str, str], tuple[list[bytes], dict[str, Any]]]
OnEvent = Callable[[str, dict[str, Any]], None]


@dataclass
class _Keys:
    transcript: bytes
    joiner_mac: bytes
    station_mac: bytes
    joiner_box: bytes
    station_box: bytes


def _keys(spake_key: bytes, nameplate: int, msg_a: bytes, msg_b: bytes) -> _Keys:
    """Confirmation and sealing keys bound to everything both sides sent."""
    transcript = hashlib.sha256(
        b"fieldapp-enrol\x00%d\x00%d\x00" % (PROTOCOL_VERSION, nameplate) + msg_a + msg_b
    ).digest()

    def derive(label: bytes) -> bytes:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=transcript, info=b"fieldapp-enrol " + label)
        return hkdf.derive(spake_key)

    mac_a, mac_b = derive(b"confirm joiner"), derive(b"confirm station")
    return _Keys(
        transcript,
        hmac.new(mac_a, b"joiner" + transcript, hashlib.sha256).digest(),
        hmac.new(mac_b, b"station" + transcript, hashlib.sha256).digest(),
        derive(b"box joiner"),
        derive(b"box station"),
    )


def _seal(key: bytes, transcript: bytes, obj: dict[str, Any]) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, msgpack.packb(obj, use_bin_type=True), transcript)


def _unseal(key: bytes, transcript: bytes, box: object) -> dict[str, Any]:
    if not isinstance(box, bytes) or len(box) < 28:
        raise FrameError("the sealed part of the message is missing")
    try:
        plain = AESGCM(key).decrypt(box[:12], box[12:], transcript)
    except InvalidTag:
        raise FrameError("the sealed part of the message does not open (tampered or wrong key)") from None
    return decode_body(plain, LIMITS)


def _clean(message: object) -> str:
    """A peer's error message, made safe to print."""
    text = message if isinstance(message, str) else "no reason given"
    return "".join(ch for ch in text[:300] if ch.isprintable())


@dataclass(eq=False)
class Connection:
    """One connection being served; the gate may close it early to make room (pre-emption)."""

    writer: asyncio.StreamWriter
    preempted: bool = False

    def preempt(self) -> None:
        """Close it; its session ends without a word to the peer or the supervisor."""
        self.preempted = True
        self.writer.close()


@dataclass
class Slot:
    """One enrolment code on offer."""

    nameplate: int
    code: str
    expires_at: float
    failures: int = 0
    used: bool = False

    def problem(self, now: float) -> str | None:
        """Why this slot cannot be used now, or None."""
        if self.used:
            return "this code was already used; ask the supervisor for a new one"
        if self.failures >= MAX_FAILURES:
            return "too many wrong attempts; this code is no longer valid; ask the supervisor for a new one"
        if now >= self.expires_at:
            return "this code has expired; ask the supervisor for a new one"
        return None


class EnrolServer:
    """The station side: offers codes, checks them with SPAKE2, issues certificates."""

    def __init__(
        self,
        issue: Issue,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        role: str = "officer",
        officer: str | None = None,
        count: int = 1,
        code_ttl: float = 600.0,
        advertise: bool = False,
        io_timeout: float = IO_TIMEOUT,
        on_event: OnEvent | None = None,
        stop_when_burned: bool = True,
        gate: Gate[Connection] | None = None,
    ) -> None:
        self._issue, self.host, self._port, self.role, self.officer = issue, host, port, role, officer
        self.count, self.code_ttl, self.advertise, self.io_timeout = count, code_ttl, advertise, io_timeout
        self._on_event, self.stop_when_burned = on_event, stop_when_burned
        self.slots: dict[int, Slot] = {}
        self.current: Slot | None = None
        self.enrolled: list[dict[str, Any]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._done = asyncio.Event()
        self._error: str | None = None
        self._advertiser: Advertiser | None = None
        self._zc_nameplate: int | None = None
        self._zc_lock = asyncio.Lock()
        self._timers: list[asyncio.TimerHandle] = []
        self.gate: Gate[Connection] = Gate() if gate is None else gate  # who may connect (sync.enrol_gate)

    @property
    def connections(self) -> int:
        """Connections being served now."""
        return len(self.gate)

    @property
    def port(self) -> int:
        """The TCP port actually listened on."""
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen, open the first slot (announced with an "open" event), advertise if asked."""
        self._server = await asyncio.start_server(self._accept, self.host, self._port, reuse_address=True)
        if self.advertise:
            self._advertiser = Advertiser(SERVICE_TYPE, self.host)
        await self._open_slot()

    async def wait(self, timeout: float) -> list[dict[str, Any]]:
        """Until `count` devices enrolled; EnrolError on timeout or when no code is left to use."""
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except TimeoutError:
            got = len(self.enrolled)
            raise EnrolError(
                f"no device enrolled within {timeout:g} s; the code is no longer valid. "
                "Start a new enrolment when the new device is ready."
                if not got
                else f"only {got} of {self.count} devices enrolled within {timeout:g} s."
            ) from None
        if self._error:
            raise EnrolError(self._error)
        return self.enrolled

    async def close(self) -> None:
        """Stop listening and advertising; close unproven exchanges, let proven ones finish briefly."""
        if self._server is not None:
            self._server.close()
        for timer in self._timers:
            timer.cancel()
        for connection in self.gate.unproven():
            connection.preempt()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=2.0)
            for task in pending:
                task.cancel()
        if self._advertiser is not None:
            await self._advertiser.close()
            self._advertiser = None

    async def run(self, timeout: float) -> list[dict[str, Any]]:
        """start, wait, close."""
        await self.start()
        try:
            return await self.wait(timeout)
        finally:
            await self.close()

    # ----------------------------------------------------------- slots

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        if self._on_event is not None:
            self._on_event(kind, data)

    def _finish(self, error: str | None = None) -> None:
        if not self._done.is_set():
            self._error = error
            self._done.set()

    async def _open_slot(self) -> None:
        free = [n for n in range(1, 100) if n not in self.slots]
        if not free:
            self._finish("no enrolment numbers are left; start a new enrolment")
            return
        nameplate = secrets.choice(free)
        loop = asyncio.get_running_loop()
        slot = Slot(nameplate, make_code(nameplate), loop.time() + self.code_ttl)
        self.slots[nameplate] = slot
        self.current = slot
        self._timers.append(loop.call_at(slot.expires_at, self._expire, slot))
        self._emit("open", {"code": slot.code, "nameplate": nameplate, "port": self.port})
        await self._readvertise()

    async def _readvertise(self) -> None:
        """Make the zeroconf advertisement match the current slot (none when no code is open)."""
        async with self._zc_lock:
            slot = self.current
            if self._advertiser is None or (slot is not None and self._zc_nameplate == slot.nameplate):
                return
            self._zc_nameplate = None
            await self._advertiser.withdraw()
            if slot is None:
                return
            self._zc_nameplate = slot.nameplate
            properties = {"v": str(PROTOCOL_VERSION), "np": str(slot.nameplate)}
            await self._advertiser.publish(f"enrol-{slot.nameplate}", self.port, properties)

    def _spent(self, slot: Slot, event: str, message: str) -> None:
        """`slot` can no longer succeed: report it, stop advertising, maybe stop."""
        self._emit(event, {"nameplate": slot.nameplate, "message": message})
        if slot is self.current:
            self.current = None
            self._spawn(self._readvertise())
            if event == "burned" and self.stop_when_burned:
                self._finish(f"enrolment stopped: {message}; someone may be guessing. Start a new enrolment.")

    def _expire(self, slot: Slot) -> None:
        if not slot.used and slot.failures < MAX_FAILURES:
            self._spent(slot, "expired", f"code {slot.code} expired before a device used it")

    def _fail(self, slot: Slot) -> str:
        """Count a failed attempt; the message for the joiner."""
        slot.failures += 1
        left = MAX_FAILURES - slot.failures
        if left > 0:
            message = (
                f"wrong code; check it with the supervisor ({left} attempt{'s' if left > 1 else ''} left)"
            )
            self._emit("refused", {"nameplate": slot.nameplate, "message": message})
            return message
        self._spent(slot, "burned", f"{MAX_FAILURES} wrong attempts; code {slot.code} is no longer valid")
        return "wrong code; too many wrong attempts; this code is no longer valid; ask for a new one"

    # ----------------------------------------------------------- sessions

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        connection = Connection(writer)
        try:
            if self._done.is_set():
                return
            peer = writer.get_extra_info("peername")
            admission = self.gate.admit(connection, str(peer[0]) if peer else "")
            if admission.refusal is not None:
                if admission.warn:  # once per episode, not once per connection
                    self._emit("throttled", {"message": THROTTLED})
                with contextlib.suppress(Exception):
                    await _send(writer, {"t": "error", "message": admission.refusal}, 1.0)
                return
            if admission.evicted is not None:
                admission.evicted.preempt()
                reason = "too many enrolment connections at once: the oldest unfinished one was closed"
                self._emit("dropped", {"reason": reason})
            try:
                await self._session(reader, writer, connection)
            finally:
                self.gate.release(connection)
        except FrameError as exc:
            if connection.preempted:
                return
            self._emit("dropped", {"reason": exc.reason})
            with contextlib.suppress(Exception):  # tell the peer why, if it still listens
                await _send(writer, {"t": "error", "message": exc.reason}, 1.0)
        except Exception as exc:  # one bad connection never stops the server
            if connection.preempted:
                return
            self._emit("dropped", {"reason": f"internal error ({type(exc).__name__})"})
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _error_reply(self, writer: asyncio.StreamWriter, message: str) -> None:
        await _send(writer, {"t": "error", "message": message}, self.io_timeout)

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: Connection
    ) -> None:
        hello = await read_frame(reader, self.io_timeout, LIMITS)
        if hello.get("t") != "hello" or hello.get("v") != PROTOCOL_VERSION:
            raise FrameError(
                f"not an enrolment request of protocol version {PROTOCOL_VERSION}; "
                "update fieldapp on both devices"
            )
        nameplate, msg_a = hello.get("nameplate"), hello.get("spake")
        if not isinstance(msg_a, bytes) or len(msg_a) != 33:
            raise FrameError("the enrolment request is malformed")
        slot = self.slots.get(nameplate) if isinstance(nameplate, int) else None
        if slot is None:
            await self._error_reply(writer, "no enrolment is open under that code (check the number)")
            return
        loop = asyncio.get_running_loop()
        problem = slot.problem(loop.time())
        if problem:
            await self._error_reply(writer, problem)
            return
        spake = SPAKE2_B(slot.code.encode(), idA=ID_JOINER, idB=ID_STATION)
        msg_b = spake.start()
        try:
            keys = _keys(spake.finish(msg_a), slot.nameplate, msg_a, msg_b)
        except (SPAKEError, ValueError):
            raise FrameError("the enrolment request is malformed") from None
        # Until the proof, the peer has seen only msg_b, which tells nothing about the code:
        # leaving, staying silent or sending something else is no guess and is not counted.
        await _send(writer, {"t": "spake", "spake": msg_b}, self.io_timeout)
        try:
            confirm = await read_frame(reader, self.io_timeout, LIMITS)
        except FrameError as exc:
            raise FrameError(
                f"{exc.reason} before the device proved the code (not counted as an attempt)"
            ) from None
        if confirm.get("t") != "confirm":
            raise FrameError("expected the device's proof of the code (not counted as an attempt)")
        # From here to the verdict nothing awaits, so concurrent proofs are counted one at a time,
        # and a proof arriving after the code is burned, used or expired is not even checked.
        problem = slot.problem(loop.time())
        if problem:
            await self._error_reply(writer, problem)
            return
        mac = confirm.get("mac")
        if not isinstance(mac, bytes) or not hmac.compare_digest(mac, keys.joiner_mac):
            await self._error_reply(writer, self._fail(slot))
            return
        slot.used = True
        self.gate.prove(connection)
        if slot is self.current:
            self.current = None
            self._spawn(self._readvertise())
        await _send(writer, {"t": "confirm", "mac": keys.station_mac}, self.io_timeout)
        await self._certify(reader, writer, keys)

    async def _certify(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keys: _Keys) -> None:
        request = await read_frame(reader, self.io_timeout, LIMITS)
        asked = _unseal(keys.joiner_box, keys.transcript, request.get("box"))
        device_key, officer = asked.get("device_key"), asked.get("officer")
        if not isinstance(device_key, bytes) or len(device_key) != 32 or not isinstance(officer, str):
            raise FrameError("the device's request is malformed")
        officer = "".join(ch for ch in (self.officer or officer) if ch.isprintable()).strip()[:64]
        if not officer:
            raise FrameError("the device sent no officer name")
        try:
            cert, anchor = self._issue(device_key, officer, self.role)
        except IssueRefused as exc:
            raise FrameError(f"not certified: {exc}") from None
        except Exception as exc:
            self._emit("dropped", {"reason": f"could not issue a certificate ({type(exc).__name__}: {exc})"})
            raise FrameError("the station could not issue a certificate; tell the supervisor") from None
        box = _seal(keys.station_box, keys.transcript, {"cert": list(cert), "anchor": anchor})
        await _send(writer, {"t": "certificate", "box": box}, self.io_timeout)
        record = {"enrolled": device_id_for(device_key), "officer": officer, "role": self.role}
        self.enrolled.append(record)
        self._emit("enrolled", record)
        if len(self.enrolled) >= self.count:
            self._finish()
        else:
            await self._open_slot()


async def enrol_join(
    host: str, port: int, code: str, device_key: bytes, officer: str, timeout: float = 60.0
) -> tuple[list[bytes], dict[str, Any]]:
    """The new device's side: (certificate wire, anchor document), or EnrolError."""
    nameplate, password = parse_code(code)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def left() -> float:
        return max(0.1, deadline - loop.time())

    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), left())
    except TimeoutError:
        raise EnrolError(f"no answer from {host}:{port} within {timeout:g} s; check the address.") from None
    except OSError as exc:
        raise EnrolError(
            f"cannot reach the station at {host}:{port} ({exc.strerror or exc}); check the address and "
            "that the supervisor's device is still showing the code."
        ) from None
    try:
        spake = SPAKE2_A(password.encode(), idA=ID_JOINER, idB=ID_STATION)
        msg_a = spake.start()
        hello = {"t": "hello", "v": PROTOCOL_VERSION, "nameplate": nameplate, "spake": msg_a}
        await _send(writer, hello, left())
        answer = await _expect(reader, "spake", left())
        msg_b = answer.get("spake")
        try:
            # Ignored [arg-type]: msg_b is whatever the peer sent; a wrong type raises TypeError below.
            keys = _keys(spake.finish(msg_b), nameplate, msg_a, msg_b)  # type: ignore[arg-type]
        except (SPAKEError, ValueError, TypeError):
            raise EnrolError("the station's answer is malformed; nothing was enrolled.") from None
        await _send(writer, {"t": "confirm", "mac": keys.joiner_mac}, left())
        confirm = await _expect(reader, "confirm", left())
        mac = confirm.get("mac")
        if not isinstance(mac, bytes) or not hmac.compare_digest(mac, keys.station_mac):
            raise EnrolError(
                "the other side does not know the code: someone on the network may be posing as the "
                "station. Nothing was enrolled; tell the supervisor."
            )
        request = _seal(keys.joiner_box, keys.transcript, {"device_key": device_key, "officer": officer})
        await _send(writer, {"t": "request", "box": request}, left())
        answer = await _expect(reader, "certificate", left())
        given = _unseal(keys.station_box, keys.transcript, answer.get("box"))
    except FrameError as exc:
        raise EnrolError(f"the enrolment exchange failed: {exc.reason}; nothing was enrolled.") from None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)
    cert, anchor = given.get("cert"), given.get("anchor")
    if not (isinstance(cert, list) and len(cert) == 3 and all(isinstance(p, bytes) for p in cert)):
        raise EnrolError("the station's certificate is malformed; nothing was enrolled.")
    if not isinstance(anchor, dict):
        raise EnrolError("the station's trust anchor is malformed; nothing was enrolled.")
    return cert, anchor


async def _send(writer: asyncio.StreamWriter, msg: dict[str, Any], timeout: float) -> None:
    await write_frame(writer, msg, timeout, LIMITS.max_bytes)


async def _expect(reader: asyncio.StreamReader, kind: str, timeout: float) -> dict[str, Any]:
    msg = await read_frame(reader, timeout, LIMITS)
    if msg.get("t") == "error":
        raise EnrolError(f"the station refused: {_clean(msg.get('message'))}.")
    if msg.get("t") != kind:
        raise FrameError(f"expected {kind!r} from the station")
    return msg


async def discover(nameplate: int, interface: str, timeout: float) -> tuple[str, int]:
    """Find the station offering `nameplate` with zeroconf, bound to `interface` only."""

    def wanted(props: dict[str, str | None]) -> bool:
        return props.get("v") == str(PROTOCOL_VERSION) and props.get("np") == str(nameplate)

    try:
        return await browse(SERVICE_TYPE, interface, wanted, timeout)
    except TimeoutError:
        raise EnrolError(
            f"no enrolment number {nameplate} was found on the network within {timeout:g} s; check the "
            "number, that both devices are on the same network, or give --peer HOST:PORT."
        ) from None
