"""Why a sync failed reads in Chinese on a Chinese screen (`fieldapp.i18n.sync_errors`).

(The rules' refusals are codes rendered from a catalogue: tests/test_refusal_codes.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


SYNC_REASONS = [
    "nothing is listening at 127.0.0.1:9 (is `fieldapp serve` running there?)",
    "cannot reach 10.0.0.9:7000 (No route to host)",
    "the secure connection failed (WRONG_VERSION_NUMBER)",
    "the peer refused this device's certificate (the devices are not enrolled at the same "
    "station, or this device is not enrolled)",
    "the peer presented no certificate (only a device enrolled at this station may connect); "
    "this device refused it",
    "the connection was lost (ConnectionResetError)",
    "timed out waiting for the peer",
    "timed out sending to the peer",
    "the secure handshake timed out",
    "the peer closed the connection",
    "connection closed mid-frame",
    "the peer belongs to another station",
    "the peer is not the device that was advertised",
    "refused: the device is already revoked",
    "refused: device abcdefgh23456789 was revoked by the station (巡逻中遗失)",
    "the peer ended the session: the peer belongs to another station",
    "the peer speaks fieldapp-sync/1, this device fieldapp-sync/2; update fieldapp on both",
    "the peer sent a malformed version vector",
]


@pytest.mark.parametrize("reason", SYNC_REASONS)
def test_sync_errors_read_in_chinese(reason: str) -> None:
    from fieldapp.i18n.sync_errors import sync_reason_text

    chinese = sync_reason_text(reason, "zh")
    assert chinese != reason and CJK.search(chinese), reason
    assert "revoked" not in chinese and "another station" not in chinese
    assert "巡逻中遗失" in chinese or "巡逻中遗失" not in reason
    assert sync_reason_text(reason, "en") == reason


def test_the_sync_reasons_listed_are_the_ones_the_code_gives() -> None:
    sources = "".join(
        (ROOT / "sync" / name).read_text(encoding="utf-8") for name in ("lan.py", "session.py", "frames.py")
    )
    for fixed in (
        "timed out waiting for the peer",
        "the peer belongs to another station",
        "connection closed mid-frame",
    ):
        assert fixed in sources
    assert "is `fieldapp serve` running there?" in sources


@pytest.mark.parametrize(
    ("reason", "detail"),
    [
        ("cannot reach 10.0.0.9:7000 (No route to host)", "没有通往该主机的路由"),
        ("cannot reach 10.0.0.9:7000 (Network is unreachable)", "网络不可达"),
        ("the connection was lost (ConnectionResetError)", "连接被对方重置"),
        ("the connection was lost during the handshake (BrokenPipeError)", "连接已断开"),
        ("cannot reach 10.0.0.9:7000 (Some new errno text)", "系统信息：Some new errno text"),
    ],
)
def test_the_systems_own_words_in_a_sync_error_are_translated_or_led_in_chinese(
    reason: str, detail: str
) -> None:
    from fieldapp.i18n.sync_errors import sync_reason_text

    chinese = sync_reason_text(reason, "zh")
    assert detail in chinese, chinese
    if "Some new" not in reason:  # a known detail: no English word left
        assert not re.search(r"[A-Za-z]{2,}", chinese.replace("fieldapp", "")), chinese


def test_an_error_without_a_code_says_in_chinese_that_the_systems_text_follows() -> None:
    from fieldapp import i18n

    error = OSError(28, "No space left on device")
    i18n.set_language("zh")
    assert i18n.error_message(error).startswith("系统错误")
    assert str(error) in i18n.error_message(error)
    i18n.set_language("en")
    assert i18n.error_message(error) == str(error)  # English: the system's text, as it is
