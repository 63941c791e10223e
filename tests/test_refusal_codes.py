"""A refusal is a code with parameters: stored as data, rendered in Chinese or English when shown.

Every code is in one registry (`fieldapp.domain.refusals.CODES`); each renders in both
languages; the reducers and the checks return only registered codes, with the parameters the
registry names; and rewording a message changes what is shown, never a state hash.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import cases as kinds
from fieldapp.domain.refusals import CODES, FIELD_NAMES
from fieldapp.i18n import CATALOGUES
from fieldapp.i18n.rules import refused_text, rejection_text, render
from harness import PASSPHRASE
from harness.replicas import converge, station_devices
from sync import refusals as sync_refusals
from sync.merge import field_base
from sync.replica import VIEW_FORMAT_KEY

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Where refusals are made: every call of `refusal("code", ...)` in these is checked.
SOURCES = [
    "fieldapp/domain/cases.py",
    "fieldapp/domain/areas.py",
    "fieldapp/domain/persons.py",
    "fieldapp/domain/fields.py",
    "sync/devices.py",
    "sync/trust.py",
    "sync/verify.py",
    "sync/replica.py",
]
#: A value for each parameter a code may carry.
SAMPLE: dict[str, Any] = {
    "field": "village",
    "limit": 80,
    "from": "open",
    "to": "closed",
    "status": "in_progress",
    "device": "abcdefgh23456789",
    "reason": "巡逻中遗失",
    "role": "boss",
    "min": 5,
    "max": 20,
    "kind": "case.set",
    "date": "2026-13-45",
    "month": 13,
    "day": 30,
    "days": 28,
    "today": "2026-12-07",
    "latest": "2028-12-06",
    "time": "2026-12-06 25:00",
    "now": "2026-12-06 19:30",
    "earliest": "2026-11-22 19:31",
}


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_refusal_code_reads_in_english_and_chinese(code: str) -> None:
    params = {name: SAMPLE[name] for name in CODES[code]}
    english, chinese = render(code, params, "en"), render(code, params, "zh")
    unknown = render("no_such_code", {}, "en")
    assert english != unknown.replace("no_such_code", code), code  # a text of its own
    assert "{" not in english and "{" not in chinese
    assert CJK.search(chinese) and not CJK.search(english.replace("巡逻中遗失", "")), (english, chinese)
    for name in ("device", "limit", "min", "max"):
        if name in params:
            assert str(params[name]) in english and str(params[name]) in chinese


def test_fields_and_statuses_in_parameters_are_shown_in_the_readers_words() -> None:
    moved = {"from": "in_progress", "to": "closed"}
    assert render("status_not_allowed", moved, "en") == "the case is in progress and cannot become closed"
    assert render("status_not_allowed", moved, "zh") == "案件当前为“处理中”，不能变为“已结案”"
    for name in FIELD_NAMES:
        english = render("text_invalid", {"field": name, "limit": 80}, "en")
        chinese = render("text_invalid", {"field": name, "limit": 80}, "zh")
        assert name not in chinese and CJK.search(chinese.split("须")[0]), chinese
        assert english.startswith(("the ", "a ")), english


def test_a_code_from_a_newer_version_says_so_instead_of_failing() -> None:
    assert "newer version" in render("rule_of_2030", {"x": 1}, "en")
    assert "较新版本" in render("rule_of_2030", {}, "zh")


def _refusal_calls(path: Path) -> Iterator[tuple[int, str | None, set[str]]]:
    """(line, code or None if not a literal, keyword names) of every `refusal(...)` call."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "refusal":
            first = node.args[0] if node.args else None
            code = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
            names = {k.arg for k in node.keywords if k.arg is not None}
            for k in node.keywords:  # refusal("status_not_allowed", **{"from": ..., "to": ...})
                if k.arg is None and isinstance(k.value, ast.Dict):
                    names |= {str(key.value) for key in k.value.keys if isinstance(key, ast.Constant)}
            yield node.lineno, code, names


def test_the_rules_return_only_registered_codes_with_their_parameters() -> None:
    seen = set()
    for name in SOURCES:
        for line, code, params in _refusal_calls(ROOT / name):
            assert code is not None, f"{name}:{line}: a refusal's code is a literal, to be found here"
            assert code in CODES, f"{name}:{line}: {code!r} is not in fieldapp.domain.refusals.CODES"
            assert params == set(CODES[code]), f"{name}:{line}: {code} takes {CODES[code]}, not {params}"
            seen.add(code)
    assert seen == set(CODES), f"registered but never returned: {sorted(set(CODES) - seen)}"


def test_no_rule_returns_a_sentence_any_more() -> None:
    """The reducers' and checks' `return "..."` of prose (what the view used to store) is gone."""
    for name in SOURCES[:5]:
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Return):
                continue
            parts = node.value.values if isinstance(node.value, ast.JoinedStr) else [node.value]
            for part in parts:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    assert " " not in part.value, f"{name}:{node.lineno}: {part.value}"


# ---------------------------------------------------------------- what the view stores


@pytest.fixture
def station(tmp_path: Path) -> Iterator[list[CaseService]]:
    """The station authority (supervisor) and two officers, enrolled."""
    with station_devices(tmp_path, 2) as services:
        yield services


def _refused_closure(station: list[CaseService]) -> tuple[str, dict[str, Any]]:
    """An officer's closure of a red case, made by a modified app: refused by the merge everywhere."""
    _, first, _ = station
    case_id = str(
        first.new_case(village="测试村", category="land", risk="red", summary="地界争议", parties=[])["id"]
    )
    first.add_visit(case_id, "mediation", "组织调解")
    first.update(case_id, status="resolved", outcome={"kind": "withdrawn"})
    state = first.replica.view("cases")[case_id]
    op = first.replica.make(
        kinds.STATUS, case_id, {"status": "closed", "reason": "x", "base": field_base(state, "status")}
    )
    assert first.replica.apply([(op.body, op.sig)]).applied == 1
    converge(station)
    refused = station[0].replica.view("cases")[case_id]["refused"]
    assert len(refused) == 1
    return case_id, refused[0]


def test_a_refusal_is_stored_as_a_code_and_shown_in_the_readers_language(station: list[CaseService]) -> None:
    _, entry = _refused_closure(station)
    assert set(entry) == {"op", "kind", "author", "hlc", "code", "params"}
    assert (entry["code"], entry["params"]) == ("red_close_needs_supervisor", {})
    assert refused_text(entry, "en") == "a red case can only be closed by a supervisor"
    assert refused_text(entry, "zh") == "红色案件只能由所长结案"


def test_rewording_a_message_never_changes_a_state_hash(
    station: list[CaseService], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, entry = _refused_closure(station)
    boss = station[0]
    before = boss.state_hash()
    assert len({s.state_hash() for s in station}) == 1
    for language in ("en", "zh"):
        monkeypatch.setitem(CATALOGUES[language], "rule.red_close_needs_supervisor", f"reworded ({language})")
    monkeypatch.setitem(sync_refusals.CODES, "author_unknown", "reworded too")
    # Folded again from the log with the new wording: the view is the same, only the text differs.
    boss.db.keyed("local").put(VIEW_FORMAT_KEY, {"version": 0})
    store = boss.db.store.directory
    boss.close()
    reopened = CaseService.open(store, PASSPHRASE)
    try:
        assert reopened.state_hash() == before
        assert refused_text(entry, "zh") == "reworded (zh)"
    finally:
        reopened.close()


def test_a_refusal_at_once_carries_its_code_to_the_screen(station: list[CaseService]) -> None:
    _, first, _ = station
    case_id = str(
        first.new_case(village="测试村", category="land", risk="red", summary="地界争议", parties=[])["id"]
    )
    with pytest.raises(CaseError) as caught:
        first.update(case_id, status="closed")
    assert caught.value.refusal is not None
    assert caught.value.refusal.code == "status_not_allowed"
    assert caught.value.refusal.params == {"from": "open", "to": "closed"}
    assert str(caught.value) == "Not recorded: the case is open and cannot become closed."


def test_a_rejection_reads_from_its_code_and_parameters() -> None:
    stored = {"code": "unsigned", "params": {"entries": 256, "kib": 64}, "reason": "English"}
    assert (
        rejection_text(stored, "zh")
        == "日志中连续 256 条以上（或 64 KiB 以上）没有作者签名；须由发送设备重新发送"
    )
    revoked = {"code": "revoked", "params": {"rule": "device_revoked", "device": "d1", "reason": "遗失"}}
    assert rejection_text(revoked, "zh") == "设备 d1 已被派出所吊销（遗失）"
    assert rejection_text({"code": "fork", "reason": "as stored by an earlier version"}) == (
        "as stored by an earlier version"
    )


def test_every_code_is_in_the_table_of_docs_rules_md() -> None:
    table = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"| `{code}` |" not in table] == []


def test_the_case_timeline_and_the_review_queue_render_a_stored_refusal(station: list[CaseService]) -> None:
    from fieldapp import i18n
    from fieldapp.domain.review import review_queue
    from fieldapp.tui.case_timeline import timeline

    case_id, _ = _refused_closure(station)
    boss = station[0]
    case = boss.case(case_id)
    i18n.set_language("zh")
    try:
        shown = [e.text for e in timeline(case, str) if e.tone == "refused"]
        assert len(shown) == 1 and "红色案件只能由所长结案" in shown[0]
    finally:
        i18n.set_language("en")
    shown = [e.text for e in timeline(case, str) if e.tone == "refused"]
    assert "a red case can only be closed by a supervisor" in shown[0]
    queue = review_queue(boss.replica.view("cases").values())
    [item] = [i for i in queue.items if i.kind == "refused"]
    assert refused_text(item.detail, "zh") == "红色案件只能由所长结案"
