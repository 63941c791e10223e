"""The sync session's messages (sync/messages.py): the bytes they encode to, and the one decoder.

The maps below are the ones `sync/session.py` built inline before the messages had names (commit
4e00e91): a message of protocol 1.0 keeps its bytes, so devices of earlier versions read the
new ones as before. Golden bytes pin the msgpack encoding itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync.frames import decode_body, encode_frame
from sync.messages import (
    BATCH_ENTRIES,
    MAX_YOURS,
    PROTOCOL_VERSION,
    Ack,
    Done,
    Error,
    Hello,
    Message,
    MessageError,
    Ops,
    Vector,
    decode,
)

STATION = "st-aaaaaaaaaaaaaaaa"
DEVICE = "bbbbbbbbbbbbbbbb"
PEER = "cccccccccccccccc"
DIGEST = bytes(range(32))
HEAD = bytes(range(32, 64))
CHAIN = f"{PEER}.{7:016x}"
BODY, SIG = b"\x95body", b"s" * 64


def old_maps() -> list[tuple[Message, dict[str, Any]]]:
    """Each message, and the map the session sent for it before sync/messages.py."""
    yours = {CHAIN: (3, HEAD)}
    return [
        (
            Hello(STATION, DEVICE, DIGEST, yours),
            {
                "t": "hello",
                "proto": 1,
                "station": STATION,
                "device": DEVICE,
                "digest": DIGEST,
                "yours": {chain: [seq, head] for chain, (seq, head) in yours.items()},
            },
        ),
        (
            Hello(STATION, DEVICE, DIGEST, {}),
            {"t": "hello", "proto": 1, "station": STATION, "device": DEVICE, "digest": DIGEST, "yours": {}},
        ),  # fmt: skip
        (
            Vector({CHAIN: 12, f"{DEVICE}.{1:016x}": 3}),
            {"t": "vector", "v": {CHAIN: 12, f"{DEVICE}.{1:016x}": 3}},
        ),
        (Ops(((BODY, SIG), (BODY, b""))), {"t": "ops", "e": [[BODY, SIG], [BODY, b""]]}),
        (Ack(200, 198, 2), {"t": "ack", "n": 200, "applied": 198, "refused": 2}),
        (Done(3), {"t": "done", "batches": 3}),
        (
            Error("the peer belongs to another station"),
            {"t": "error", "reason": "the peer belongs to another station"},
        ),
        (Error("x" * 300), {"t": "error", "reason": "x" * 200}),
    ]


def test_each_message_encodes_to_the_bytes_sent_before() -> None:
    for message, old in old_maps():
        assert encode_frame(message.encode()) == encode_frame(old), message


def test_golden_bytes_of_the_small_messages() -> None:
    golden: list[tuple[Message, str]] = [
        (Ack(2, 1, 1), "0000001c84a174a361636ba16e02a76170706c69656401a77265667573656401"),
        (Done(1), "0000001182a174a4646f6e65a76261746368657301"),
        (Error("no"), "0000001382a174a56572726f72a6726561736f6ea26e6f"),
        (Vector({"a.1": 2}), "0000001282a174a6766563746f72a17681a3612e3102"),
    ]
    for message, wire in golden:
        assert encode_frame(message.encode()).hex() == wire, message


def test_a_hello_of_this_version_adds_only_version_and_app_at_the_end() -> None:
    hello = Hello(STATION, DEVICE, DIGEST, {}, version=PROTOCOL_VERSION, app="0.2.0")
    old = encode_frame(
        {"t": "hello", "proto": 1, "station": STATION, "device": DEVICE, "digest": DIGEST, "yours": {}}
    )
    new = encode_frame(hello.encode())
    # The map gains two keys (its size byte counts them), appended after the 1.0 ones.
    assert new[5:].startswith(old[5:]) and new[4] == old[4] + 2
    assert new[len(old) :] == b"\xa7version\x92\x01\x01\xa3app\xa50.2.0"
    assert len(new) - len(old) == 21


def test_every_message_decodes_back_to_itself() -> None:
    messages = [m for m, _ in old_maps()][:-1]  # the cut reason decodes cut
    messages += [Hello(STATION, DEVICE, DIGEST, None, version=(1, 4), app="1.9.0-rc.1+b7"), Done(None)]
    messages += [Error("why", code="protocol_major", version=(2, 0), app="2.0.0"), Error(None)]
    for message in messages:
        wire = decode_body(encode_frame(message.encode())[4:])
        back = decode(wire)
        if isinstance(message, Error) and message.reason is None:
            assert back == Error("")
        else:
            assert back == message


def test_unknown_keys_are_tolerated_for_forward_compatibility() -> None:
    extra = {"later": [1, {"x": b""}], "flags": 3}
    assert decode(Hello(STATION, DEVICE, DIGEST, {}).encode() | extra) == Hello(STATION, DEVICE, DIGEST, {})
    assert decode(Ack(1).encode() | extra) == Ack(1)
    assert decode(Vector({}).encode() | extra) == Vector({})


def test_a_hello_without_versions_is_protocol_1_0() -> None:
    hello = decode({"t": "hello", "proto": 1, "station": STATION, "device": DEVICE, "digest": DIGEST})
    assert isinstance(hello, Hello)
    assert hello.version is None and hello.speaks == (1, 0) and hello.app is None and hello.yours is None


def _hello(**fields: Any) -> dict[str, Any]:
    return Hello(STATION, DEVICE, DIGEST, {CHAIN: (1, HEAD)}, version=(1, 1), app="0.2.0").encode() | fields


def _entries(n: int) -> list[list[bytes]]:
    return [[BODY, SIG]] * n


MALFORMED: dict[str, list[dict[str, Any]]] = {
    "no_type": [{}, {"t": 1}, {"t": None, "v": {}}],
    "unknown_type": [{"t": "gimme"}, {"t": "HELLO"}],
    "malformed_hello": [
        _hello(proto="1"),
        _hello(proto=True),
        _hello(version=[1]),
        _hello(version=[1, -1]),
        _hello(version=[1, True]),
        _hello(version="1.1"),
        _hello(version=[2, 0]),  # says another major than `proto`
        _hello(app=""),
        _hello(app="0.2.0 evil\n"),
        _hello(app="9" * 33),
        _hello(app=2),
        _hello(station=None),
        _hello(station=""),
        _hello(device=b"x"),
        _hello(digest=b"x" * 31),
        _hello(digest="x" * 32),
        _hello(yours=[]),
        _hello(yours={CHAIN: [1]}),
        _hello(yours={CHAIN: [-1, HEAD]}),
        _hello(yours={CHAIN: [2**40, HEAD]}),
        _hello(yours={CHAIN: [1, HEAD[:31]]}),
        _hello(yours={"nodot": [1, HEAD]}),
        _hello(yours={f"{PEER}.{n:016x}": [1, HEAD] for n in range(MAX_YOURS + 1)}),
    ],
    "malformed_vector": [
        {"t": "vector"},
        {"t": "vector", "v": []},
        {"t": "vector", "v": {"x": 1}},
        {"t": "vector", "v": {"a.zz": 1}},
        {"t": "vector", "v": {"a." + "1" * 64: 1}},
        {"t": "vector", "v": {"a.1": True}},
        {"t": "vector", "v": {"a.1": -1}},
        {"t": "vector", "v": {"a.1": 2**40}},
        {"t": "vector", "v": {"a.1": "1"}},
    ],
    "malformed_ops": [
        {"t": "ops"},
        {"t": "ops", "e": []},
        {"t": "ops", "e": _entries(BATCH_ENTRIES + 1)},
        {"t": "ops", "e": [[BODY]]},
        {"t": "ops", "e": [[BODY, b"short"]]},
        {"t": "ops", "e": [[b"", SIG]]},
        {"t": "ops", "e": [[b"x" * 65_537, SIG]]},
        {"t": "ops", "e": [["text", SIG]]},
        {"t": "ops", "e": [(BODY, SIG), 1]},
    ],
    "malformed_ack": [
        {"t": "ack"},
        {"t": "ack", "n": True},
        {"t": "ack", "n": -1},
        {"t": "ack", "n": BATCH_ENTRIES + 1},
        {"t": "ack", "n": 1, "applied": "1"},
        {"t": "ack", "n": 1, "refused": -1},
    ],
    "malformed_done": [
        {"t": "done", "batches": -1},
        {"t": "done", "batches": "3"},
        {"t": "done", "batches": False},
    ],
}


@pytest.mark.parametrize("code", sorted(MALFORMED))
def test_the_decoder_refuses_a_malformed_message_of_each_type_with_its_code(code: str) -> None:
    assert all(decode(good) for good in (_hello(), {"t": "ack", "n": 0}, {"t": "done"}))
    for msg in MALFORMED[code]:
        with pytest.raises(MessageError) as raised:
            decode(msg)
        assert raised.value.code == code, msg
        reason = raised.value.reason
        assert reason.startswith("the peer ") and reason.isprintable() and len(reason) < 120


def test_a_hello_of_another_major_is_refused_before_its_other_fields_are_read() -> None:
    future = {"t": "hello", "proto": 2, "version": [2, 3], "app": "2.1.0", "station": 5}  # reshaped
    with pytest.raises(MessageError) as raised:
        decode(future)
    assert raised.value.code == "protocol_major"
    assert raised.value.params == {"theirs": (2, 3), "peer_app": "2.1.0"}
    with pytest.raises(MessageError) as raised:  # a 2.0 device that does not say its app
        decode({"t": "hello", "proto": 2})
    assert raised.value.params == {"theirs": (2, 0), "peer_app": "unknown"}
    # A receiver of major 2 refuses today's hello the same way.
    with pytest.raises(MessageError) as raised:
        decode(_hello(), major=2)
    assert raised.value.params == {"theirs": (1, 1), "peer_app": "0.2.0"}


def test_an_error_is_never_refused_whatever_its_fields() -> None:
    assert decode({"t": "error"}) == Error(None)
    assert decode({"t": "error", "reason": 5, "code": b"x", "version": [2], "app": "a b"}) == Error(None)
    assert decode({"t": "error", "reason": "why", "code": "c" * 65}) == Error("why")
