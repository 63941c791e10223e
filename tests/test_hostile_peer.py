"""A hostile enrolled peer written from docs/sync.md and docs/replication.md alone.

The client below uses plain `ssl`, `socket`, `struct`, `msgpack` and Ed25519 from
`cryptography`, none of the project's sync modules: what it sends is what a second
implementation would send. It holds a genuine officer's certificate and key (an insider)
and attacks the station's real server (`SyncServer` on loopback): a look-alike entry with a
random signature, a copy moved to another position, a signature flipped inside a genuine
batch, and a real fork of its own log. The station's store is then read back.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldapp.core.service import CaseService
from fieldapp.core.station import tls_material
from harness.replicas import station_devices
from sync.lan import SyncServer, sync_with
from sync.session import Endpoint

HOST = "127.0.0.1"
Entry = list[bytes]


# ---------------------------------------------------------------- the client, from the docs


def frame(msg: dict[str, Any]) -> bytes:
    """docs/sync.md, Framing: a 4-byte big-endian length, then msgpack."""
    body = msgpack.packb(msg, use_bin_type=True)
    return struct.pack(">I", len(body)) + body


def read_frame(sock: ssl.SSLSocket) -> dict[str, Any]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    (length,) = struct.unpack(">I", exactly(4))
    return msgpack.unpackb(exactly(length), raw=False)


def body_of(fields: list[Any]) -> bytes:
    """docs/replication.md, Operations: canonical msgpack, map keys sorted."""

    def canonical(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: canonical(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [canonical(v) for v in value]
        return value

    return msgpack.packb(canonical(fields), use_bin_type=True)


def fields_of(body: bytes) -> list[Any]:
    return msgpack.unpackb(body, raw=False)


class Insider:
    """An enrolled officer's certificate and key, used by a client of its own."""

    def __init__(self, officer: CaseService, workdir: Path) -> None:
        material = tls_material(officer)
        assert material is not None
        self.key = Ed25519PrivateKey.from_private_bytes(material.private_key)
        cert, key, ca = workdir / "cert.pem", workdir / "key.pem", workdir / "ca.pem"
        cert.write_text(ssl.DER_cert_to_PEM_cert(material.cert_der))
        ca.write_text(ssl.DER_cert_to_PEM_cert(material.ca_der))
        key.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        self.context.check_hostname = False
        self.context.load_verify_locations(str(ca))
        self.context.load_cert_chain(str(cert), str(key))
        self.station = material.station_id
        self.device = officer.identity.device_id

    def sign(self, body: bytes) -> bytes:
        return self.key.sign(body)

    def send_batch(self, port: int, entries: list[Entry], yours: bool = False) -> list[dict[str, Any]]:
        """hello, vector (holding nothing: the station's batches are acknowledged), one `ops`
        batch, done; the frames the station sent."""
        with (
            socket.create_connection((HOST, port), timeout=10) as raw,
            self.context.wrap_socket(raw, server_hostname="fieldapp") as sock,
        ):
            sock.sendall(
                frame(
                    {
                        "t": "hello",
                        "proto": 1,
                        "station": self.station,
                        "device": self.device,
                        "digest": os.urandom(32),
                        **({"yours": {}} if yours else {}),  # a hello without it: an older version
                    }
                )
            )
            replies = [read_frame(sock)]  # its hello
            sock.sendall(frame({"t": "vector", "v": {}}))
            replies.append(read_frame(sock))  # its vector
            sock.sendall(frame({"t": "ops", "e": entries}))
            while True:  # what it sends us (if anything) is acknowledged; wait for our ack
                msg = read_frame(sock)
                replies.append(msg)
                if msg["t"] == "ops":
                    sock.sendall(frame({"t": "ack", "n": len(msg["e"]), "applied": 0, "refused": 0}))
                if msg["t"] in ("ack", "error"):
                    break
            sock.sendall(frame({"t": "done", "batches": 1}))
            try:
                while replies[-1]["t"] not in ("done", "error"):
                    msg = read_frame(sock)
                    replies.append(msg)
                    if msg["t"] == "ops":
                        sock.sendall(frame({"t": "ack", "n": len(msg["e"]), "applied": 0, "refused": 0}))
            except (ConnectionError, ssl.SSLError, OSError):
                pass
            return replies


# ---------------------------------------------------------------- the station's real server


@contextmanager
def serving(service: CaseService) -> Iterator[int]:
    """The station's SyncServer on loopback, in a thread with its own event loop."""
    ready, port = threading.Event(), []
    stop: list[asyncio.Event] = []
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        material = tls_material(service)
        assert material is not None
        server = SyncServer(Endpoint(service.replica), material, HOST)
        stop.append(asyncio.Event())
        loop_box.append(asyncio.get_running_loop())
        async with server:
            port.append(server.port)
            ready.set()
            await stop[0].wait()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(20), "the server did not start"
    try:
        yield port[0]
    finally:
        loop_box[0].call_soon_threadsafe(stop[0].set)
        thread.join(20)
        assert not thread.is_alive()


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[CaseService, CaseService, CaseService, Insider]]:
    with station_devices(tmp_path, 2) as (authority, officer, other):
        case = officer.new_case(
            "东岭村", "land", "orange", "田界纠纷", [{"name": "测试甲", "phone": "", "role": "party"}]
        )
        for n in range(4):
            officer.add_visit(case["id"], "home", f"第{n + 1}次走访")
        yield authority, officer, other, Insider(officer, tmp_path)


def genuine_log(officer: CaseService) -> list[Entry]:
    me = officer.identity.device_id
    return [[b, s] for b, s in officer.replica.entries_missing_from({}) if fields_of(b)[2] == me]


def stored(service: CaseService, author: str) -> dict[int, tuple[bytes, bytes]]:
    found = {}
    for entry in service.replica.ops.raw().values():
        fields = fields_of(bytes(entry["b"]))
        if fields[2] == author:
            found[fields[4]] = (bytes(entry["b"]), bytes(entry["s"]))
    return found


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_look_alike_with_a_random_signature_is_refused_never_a_fork(station, where: str) -> None:
    authority, officer, _, insider = station
    log = genuine_log(officer)
    fields = fields_of(log[2][0])
    fields[9] = {**fields[9], "note": "伪造的走访记录"}
    fake = [body_of(fields), os.urandom(64)]
    entries = [*log[:2], fake, *log[2:]] if where == "before" else [*log, fake]
    with serving(authority) as port:
        replies = insider.send_batch(port, entries)
    ack = next(r for r in replies if r["t"] == "ack")
    assert ack["applied"] == len(log) and ack["refused"] == 1
    assert not authority.replica.forks.raw()
    assert not authority.replica.quarantined(insider.device)
    assert {seq: body for seq, (body, _) in stored(authority, insider.device).items()} == {
        seq: entry[0] for seq, entry in enumerate(log, start=1)
    }


@pytest.mark.timeout(60)
def test_a_copy_moved_to_another_position_is_refused_never_a_fork(station) -> None:
    authority, officer, _, insider = station
    log = genuine_log(officer)
    fields = fields_of(log[3][0])
    fields[4] ^= 1  # one bit of the position
    moved = [body_of(fields), log[3][1]]
    with serving(authority) as port:
        replies = insider.send_batch(port, [*log, moved])
    ack = next(r for r in replies if r["t"] == "ack")
    assert ack["applied"] == len(log) and ack["refused"] == 1
    assert not authority.replica.forks.raw()


@pytest.mark.timeout(60)
def test_a_signature_flipped_inside_a_batch_is_not_stored_and_the_log_relays(station) -> None:
    authority, officer, other, insider = station
    log = genuine_log(officer)
    log[2] = [log[2][0], bytes(b ^ 0x10 for b in log[2][1])]
    with serving(authority) as port:
        insider.send_batch(port, log)
        held = stored(authority, insider.device)
        assert len(held) == len(log)
        assert held[3][1] == b""  # never the altered signature
        # A third device syncs with the station and gets the whole log (no stall).
        report = asyncio.run(sync_with(HOST, port, Endpoint(other.replica), tls_material(other)))
    assert report.error is None and not report.refused
    assert len(stored(other, insider.device)) == len(log)


@pytest.mark.timeout(60)
def test_a_real_fork_needs_two_signatures_and_is_kept_with_its_proof(station) -> None:
    """The insider signs a second body at a position of its own log: a proven fork, kept
    with both entries; its log is held out of the station's view from there."""
    authority, officer, _, insider = station
    log = genuine_log(officer)
    with serving(authority) as port:
        insider.send_batch(port, log)
        fields = fields_of(log[3][0])
        fields[9] = {**fields[9], "note": "另一个版本"}
        second = body_of(fields)
        replies = insider.send_batch(port, [[second, insider.sign(second)]])
    assert any(r["t"] == "ack" for r in replies)
    (fork,) = authority.replica.forks.raw().values()
    assert bytes(fork["other"]) == second and bytes(fork["held"]) == log[3][0]
    assert hashlib.sha256(bytes(fork["proof"][0][0])).digest() == hashlib.sha256(log[3][0]).digest()
    assert authority.replica.quarantined(insider.device)


def sent_by_station(replies: list[dict[str, Any]]) -> list[Entry]:
    return [entry for r in replies if r["t"] == "ops" for entry in r["e"]]


@pytest.mark.timeout(60)
def test_a_peer_of_an_older_version_gets_only_entries_with_their_signature(station) -> None:
    """A hello without `yours` is an older version's, which refuses an entry without its own
    signature: the station sends it its own log whole and, of logs it relays, the entries up to
    the first it keeps without one. A current peer gets them all."""
    authority, officer, other, insider = station
    case = other.new_case("西坡村", "debt", "yellow", "借款纠纷")
    for n in range(5):
        other.add_visit(case["id"], "home", f"第{n + 1}次走访")
    other_log = genuine_log(other)
    authority.replica.apply(other_log)  # the station keeps only the signatures it checked
    held = stored(authority, other.identity.device_id)
    assert any(not sig for _, sig in held.values())
    with serving(authority) as port:
        old = sent_by_station(insider.send_batch(port, genuine_log(officer)))
        new = sent_by_station(insider.send_batch(port, genuine_log(officer), yours=True))
    assert old and all(len(sig) == 64 for _, sig in old)
    relayed_old = [e for e in old if fields_of(e[0])[2] == other.identity.device_id]
    assert len(relayed_old) < len(other_log)  # only the signed prefix of the relayed log
    assert [fields_of(b)[4] for b, _ in relayed_old] == list(range(1, len(relayed_old) + 1))
    own_old = [e for e in old if fields_of(e[0])[2] == authority.identity.device_id]
    assert len(own_old) == len(genuine_log(authority))  # the station's own log whole
    relayed_new = [e for e in new if fields_of(e[0])[2] == other.identity.device_id]
    assert len(relayed_new) == len(other_log) and any(not sig for _, sig in relayed_new)
