"""One source of field checks: the intake form, the command line and the reducer agree.

`fieldapp.domain.fields` holds the checks. What a person types (the form, `--party`) is checked
as strictly as the form always was; the reducer, at merge time, stays as lenient as earlier
versions were (a phone of any text up to 32 characters), so that no store's state changes on
upgrade; every value a person may enter is one the reducer takes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from fieldapp.cli.cases import _party
from fieldapp.core.service import CaseError
from fieldapp.domain import fields, model
from fieldapp.domain.intake_form import IntakeValues, PartyValues, validate
from tests.cli import fieldapp

#: (name, phone as typed, the code every entry check gives or None, whether the reducer takes it)
PARTIES = [
    ("张三", "13800000001", None, True),
    ("张三", "", None, True),
    ("张三", "+8613800000001", None, True),
    ("张三", "１３８０００００００１", None, True),  # full-width digits, as Chinese input methods type
    ("张三", " 13800000001 ", None, True),
    ("张三", "abc", "phone_invalid", True),  # earlier versions stored such phones: still merged
    ("张三", "138abc", "phone_invalid", True),
    ("张三", "1234", "phone_invalid", True),
    ("张三", "1" * 21, "phone_invalid", True),
    ("张三", "138-0000-0001", "phone_invalid", True),
    ("", "13800000001", "text_required", False),
    ("张" * (model.MAX_SHORT + 1), "13800000001", "text_required", False),
]

_FORM_CODES = {"intake.error.phone": "phone_invalid", "intake.error.party_name_required": "text_required"}
_FORM_CODES["intake.error.too_long"] = "text_required"


def _form(name: str, phone: str) -> str | None:
    """The code of the form's first problem with a party row, or None."""
    values = IntakeValues(
        village="东岭村",
        category="land",
        risk="yellow",
        summary="地界争议",
        parties=(PartyValues(name, phone),),
    )
    problems = [p for p in validate(values) if p.field.startswith("party")]
    return _FORM_CODES[problems[0].key] if problems else None


def _command_line(name: str, phone: str) -> str | None:
    """The code `--party NAME:PHONE` is refused with, or None."""
    try:
        _party(f"{name}:{phone}")
    except CaseError as exc:
        assert exc.refusal is not None
        return exc.refusal.code
    return None


def _reducer(name: str, phone: str) -> bool:
    """Whether the merge takes the party as the form or the command line would store it."""
    stored = {"name": name.strip(), "phone": fields.normalise_phone(phone), "role": "party"}
    return fields.FIELD_CHECKS["parties"]([stored]) is None


@pytest.mark.parametrize(("name", "phone", "code", "merged"), PARTIES)
def test_the_form_the_command_line_and_the_reducer_agree_on_a_party(
    name: str, phone: str, code: str | None, merged: bool
) -> None:
    assert _form(name, phone) == code
    assert _command_line(name, phone) == code
    found = fields.party_problem(name, phone)
    assert (None if found is None else found.code) == code
    assert _reducer(name, phone) is merged
    if code is None:
        assert merged  # whatever a person may enter, the merge takes


@pytest.mark.parametrize(
    ("name", "value", "good"),
    [
        ("village", "东岭村", True),
        ("village", "   ", False),
        ("village", "村" * (model.MAX_SHORT + 1), False),
        ("summary", "地界争议", True),
        ("summary", "", False),
        ("summary", "争" * (model.MAX_TEXT + 1), False),
        ("deadline", "2026-12-31", True),
        ("deadline", "2026-13-01", False),
        ("deadline", "20261231", False),
    ],
)
def test_the_form_and_the_reducer_agree_on_the_case_fields(name: str, value: str, good: bool) -> None:
    values = IntakeValues(village="东岭村", category="land", risk="yellow", summary="地界争议")
    changed: dict[str, Any] = {name: value}
    problems = validate(dataclasses.replace(values, **changed))
    assert (not [p for p in problems if p.field == name]) is good
    assert (fields.FIELD_CHECKS[name](value.strip() if name != "deadline" else value) is None) is good


@pytest.mark.timeout(120)
def test_the_command_line_refuses_a_phone_the_form_refuses(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert fieldapp("init", "--officer", "测试辅警", "--store", store).returncode == 0
    refused = fieldapp(
        "case", "new", "--store", store, "--village", "东岭村", "--category", "land",
        "--risk", "yellow", "--summary", "地界争议", "--party", "张三:abc",
        env={"LANG": "zh_CN.UTF-8"},
    )  # fmt: skip
    assert refused.returncode == 1 and refused.stdout == ""
    assert "未记录：当事人电话须为 5 至 20 位数字（开头可有 +）。" in refused.stderr
    assert "Not recorded: a party's phone is 5 to 20 digits (a + may come first)." in refused.stderr
    listed = fieldapp("case", "list", "--store", store, "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    accepted = fieldapp(
        "case", "new", "--store", store, "--village", "东岭村", "--category", "land",
        "--risk", "yellow", "--summary", "地界争议", "--party", "张三:１３８０００００００１", "--json",
    )  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["parties"][0]["phone"] == "13800000001"


#: (category, parties, summary, the code the form and the command line refuse with, or None)
CASES = [
    ("land", [("张某某", "")], "田界纠纷", None),
    ("land", [], "田界纠纷", "parties_required"),
    ("hazard", [], "村口桥栏杆断裂", None),  # a safety hazard has no party
    ("land", [("张某某", "")], "abc", "summary_too_short"),
    ("land", [("张某某", "")], " 纠纷 ", "summary_too_short"),
    ("land", [("张某某", "")], "欠款纠纷", None),
]


def _form_case(category: str, rows: list[tuple[str, str]], summary: str) -> str | None:
    """The code of the form's problem with the parties or the summary, or None."""
    values = IntakeValues(
        village="东岭村",
        category=category,
        risk="yellow",
        summary=summary,
        parties=tuple(PartyValues(n, p) for n, p in rows) or (PartyValues(),),  # a blank row: no party
    )
    found = [p.key for p in validate(values) if p.field in ("parties", "summary")]
    return found[0].removeprefix("rule.").removesuffix(".sentence") if found else None


@pytest.mark.parametrize(("category", "rows", "summary", "code"), CASES)
def test_the_form_and_the_command_line_agree_on_a_cases_parties_and_summary(
    category: str, rows: list[tuple[str, str]], summary: str, code: str | None
) -> None:
    assert _form_case(category, rows, summary) == code
    parties = [_party(f"{n}:{p}") for n, p in rows]
    found = fields.summary_problem(summary) or fields.parties_problem(category, parties)
    assert (None if found is None else found.code) == code
    # The reducer stays as lenient as before: what an earlier version stored is still folded.
    assert fields.FIELD_CHECKS["parties"]([]) is None
    assert fields.FIELD_CHECKS["summary"](summary.strip()) is None


@pytest.mark.timeout(120)
def test_the_command_line_refuses_a_dispute_without_a_party_and_a_short_summary(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert fieldapp("init", "--officer", "测试辅警", "--store", store).returncode == 0
    common = ("case", "new", "--store", store, "--village", "东岭村", "--risk", "yellow")
    no_party = fieldapp(*common, "--category", "land", "--summary", "地界争议", env={"LANG": "zh_CN.UTF-8"})
    assert no_party.returncode == 1 and no_party.stdout == ""
    assert no_party.stderr.index("未记录：纠纷须至少填写一名当事人") < no_party.stderr.index("Not recorded")
    assert "请用 --party 姓名[:电话] 填写" in no_party.stderr
    assert "Not recorded: a dispute needs at least one party (only a safety hazard may have none): " \
        "give --party NAME[:PHONE]." in no_party.stderr  # fmt: skip
    short = fieldapp(*common, "--category", "land", "--summary", "abc", "--party", "张某某", "--lang", "en")
    assert short.returncode == 1 and short.stdout == ""
    assert short.stderr.index("Not recorded: the summary needs at least 4 characters") < short.stderr.index(
        "未记录：情况摘要至少 4 个字"
    )
    listed = fieldapp("case", "list", "--store", store, "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    hazard = fieldapp(*common, "--category", "hazard", "--summary", "村口桥栏杆断裂", "--json")
    assert hazard.returncode == 0, hazard.stderr
    assert json.loads(hazard.stdout)["parties"] == []
