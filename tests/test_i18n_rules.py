"""Every refusal reason the rules can give reads in Chinese on a Chinese screen.

The reasons are found in the sources (every string a reducer returns), and the formatted
ones are produced by the checks themselves, so a new rule without a translation fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from fieldapp.domain import areas, cases, model
from fieldapp.i18n.rules import reason_text

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT / "fieldapp" / "domain" / "cases.py",
    ROOT / "fieldapp" / "domain" / "areas.py",
    ROOT / "sync" / "devices.py",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


def returned_literals(path: Path) -> list[str]:
    """The plain string literals `return`ed in a module (the fixed reasons)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found.append(node.value.value)
    return found


FIXED = sorted({text for path in SOURCES for text in returned_literals(path) if " " in text})


def formatted_reasons() -> list[str]:
    """Reasons with values in them, made by the checks the reducers use."""
    reasons = [
        check(bad) for check, bad in ((cases.FIELD_CHECKS[name], 12345) for name in cases.FIELD_CHECKS)
    ]
    reasons += [
        cases.FIELD_CHECKS["summary"](""),
        cases.FIELD_CHECKS["parties"]([{"name": "x"}] * (model.MAX_PARTIES + 1)),
        cases.FIELD_CHECKS["deadline"]("2026-13-01"),
        cases.check_fields({"status": "open"}, model.EDITABLE),
        areas.area_problem("", None),
        areas.area_problem("东岭村", "x" * 200),
        f"status must be one of: {', '.join(model.STATUSES[1:])}",
        "the case is in progress and cannot become closed",
        "only a resolved or closed case can be reopened (this one is in_progress)",
        f"a resolution records its outcome: {', '.join(model.OUTCOMES)}",
    ]
    return [r for r in reasons if r]


def test_the_sources_hold_the_reasons_we_expect() -> None:
    assert "a red case can only be closed by a supervisor" in FIXED
    assert "only a supervisor may place a village in a police area" in FIXED
    assert "the revocation is not signed by the station" in FIXED
    assert len(FIXED) >= 30


@pytest.mark.parametrize("reason", FIXED + formatted_reasons())
def test_every_reason_reads_in_chinese(reason: str) -> None:
    chinese = reason_text(reason, "zh")
    assert chinese != reason and CJK.search(chinese), reason
    assert reason_text(reason, "en") == reason


def test_values_inside_reasons_are_translated_too() -> None:
    from fieldapp import i18n

    i18n.set_language("zh")
    try:
        text = reason_text("the case is in progress and cannot become closed")
        assert "处理中" in text and "已结案" in text
        assert reason_text("unknown reason stays as it is") == "unknown reason stays as it is"
    finally:
        i18n.set_language("en")


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
    from fieldapp.i18n.rules import sync_reason_text

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
