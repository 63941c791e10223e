"""New passphrases: the commonest passwords are refused, with the reason, in both languages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fieldapp import i18n
from fieldapp.core.demo import DEMO_PASSPHRASE
from fieldapp.core.passphrase import (
    PassphraseError,
    check_new_passphrase,
    new_passphrase_problem,
    problem_text,
)
from harness import PASSPHRASE
from tests.cli import fieldapp as run_cli

ROOT = Path(__file__).resolve().parent.parent

REFUSED = {
    "12345678": "sequence",
    "87654321": "sequence",
    "abcdefghij": "sequence",
    "qq123456": "sequence",
    "a123456789": "sequence",
    "11111111": "one_character",
    "aaaaaaaaaaaa": "one_character",
    "12121212": "repeated",
    "woaiwoai": "repeated",
    "520520520": "repeated",
    "19900101": "date",
    "01011990": "date",
    "zl19900101": "date",
    "qwertyuiop": "keyboard",
    "1qaz2wsx": "keyboard",
    "zaq12wsx": "keyboard",
    "1q2w3e4r": "keyboard",
    "!@#$%^&*": "keyboard",
    "password": "common",
    "Passw0rd": "common",
    "p@ssw0rd!": "common",
    "password123": "common",
    "iloveyou": "common",
    "woaini1314": "common",
    "5201314520": "common",
    "zhang1990": "common",
    "147258369": "common",
    "jingcha110": "common",
}
ACCEPTED = (
    DEMO_PASSPHRASE,  # `fieldapp demo` and scripts/run-demo
    PASSPHRASE,
    "station pass 1",
    "the new passphrase",
    "bench passphrase, not a secret",
    "horse-battery-staple",
    "tr7#kLp2q9",
    "abc83746251",
    "蓝色的门后面有三棵树",
)


@pytest.mark.parametrize(("passphrase", "kind"), REFUSED.items())
def test_the_commonest_passwords_are_refused_with_their_reason(passphrase: str, kind: str) -> None:
    assert new_passphrase_problem(passphrase) == kind
    with pytest.raises(PassphraseError) as refused:
        check_new_passphrase(passphrase, "en")
    assert refused.value.code == f"passphrase_{kind}"
    assert str(refused.value) == problem_text(kind, "en")
    assert "thief" in str(refused.value) and "Choose another" in str(refused.value)


@pytest.mark.parametrize("passphrase", ACCEPTED)
def test_good_passphrases_pass(passphrase: str) -> None:
    assert new_passphrase_problem(passphrase) is None
    check_new_passphrase(passphrase)


def test_every_reason_reads_in_english_and_chinese() -> None:
    assert i18n.missing_keys() == set() and i18n.mismatched_placeholders() == set()
    for kind in ("too_short", *sorted(set(REFUSED.values()))):
        english, chinese = problem_text(kind, "en"), problem_text(kind, "zh")
        assert "Choose another" in english and "请另选一个口令" in chinese
        assert english != chinese and "{" not in english + chinese
    assert "like 12345678" in problem_text("sequence", "en") and "连续的数字或字母" in problem_text(
        "sequence", "zh"
    )


def fieldapp(*args: str, passphrase: str, lang: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(
        *args,
        env={"FIELDAPP_PASSPHRASE": passphrase, **({"LANG": lang} if lang else {})},
        without=("LC_ALL", "LANG"),
    )


@pytest.mark.timeout(120)
def test_init_and_passphrase_change_refuse_12345678(tmp_path: Path) -> None:
    store = tmp_path / "store"
    refused = fieldapp("init", "--officer", "测试辅警", "--store", str(store), passphrase="12345678")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "consecutive digits" in refused.stderr and "Nothing was created" in refused.stderr
    assert not store.exists() or not any(store.iterdir())
    chinese = fieldapp(
        "init", "--officer", "测试辅警", "--store", str(store), passphrase="woaini1314", lang="zh_CN.UTF-8"
    )
    assert chinese.returncode == 1 and "最常见的密码之一" in chinese.stderr
    as_json = fieldapp("init", "--officer", "x", "--store", str(store), "--json", passphrase="qwertyuiop")
    assert json.loads(as_json.stderr)["error"] == "passphrase_keyboard"

    assert (
        fieldapp("init", "--officer", "测试辅警", "--store", str(store), passphrase=PASSPHRASE).returncode
        == 0
    )
    new = tmp_path / "new.txt"
    new.write_text("19900101\n", encoding="utf-8")
    change = ["store", "passphrase", "--store", str(store), "--new-passphrase-file", str(new)]
    not_changed = fieldapp(*change, "--lang", "zh", passphrase=PASSPHRASE)
    assert not_changed.returncode == 1 and "是一个日期" in not_changed.stderr
    assert fieldapp("store", "check", "--store", str(store), passphrase=PASSPHRASE).returncode == 0
    new.write_text("a long walk to the river\n", encoding="utf-8")
    assert fieldapp(*change, passphrase=PASSPHRASE).returncode == 0
