"""The options every command takes work before the command as well as after it.

`fieldapp --store DIR init` once wrote the default store (the command's parser put its own
default back over DIR), and `fieldapp --json case list` printed text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldapp.core.device import default_store_dir
from tests.cli import fieldapp

pytestmark = pytest.mark.timeout(120)


def test_options_before_the_command_are_kept_and_after_it_win(tmp_path: Path) -> None:
    store, other = tmp_path / "store", tmp_path / "other"
    home = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data")}
    made = fieldapp("--store", store, "init", "--officer", "测试警官", env=home)
    assert made.returncode == 0, made.stderr
    assert (store / "meta.json").exists() or any(store.iterdir())
    assert not (tmp_path / "data").exists()  # nothing went to the default store

    new = fieldapp(
        "--store",
        store,
        "--json",
        "case",
        "new",
        "--village",
        "东岭村",
        "--category",
        "land",
        "--risk",
        "yellow",
        "--summary",
        "田界纠纷，双方争执",
        "--party",
        "测试甲:13800001111",
        env=home,
    )
    assert new.returncode == 0, new.stderr
    case = json.loads(new.stdout)

    listed = fieldapp("--json", "case", "list", "--store", store, env=home)
    assert listed.returncode == 0, listed.stderr
    assert [c["id"] for c in json.loads(listed.stdout)] == [case["id"]]

    # After the command wins over before it.
    missing = fieldapp("--store", other, "case", "list", "--store", store, env=home)
    assert missing.returncode == 0, missing.stderr
    assert case["id"] in missing.stdout

    # The language before the command is the command's language.
    zh = fieldapp("--lang", "zh", "--store", tmp_path / "nothing", "case", "list", env=home)
    assert zh.returncode == 1
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.stderr), zh.stderr


def test_the_store_option_names_its_real_default() -> None:
    for argv in (["--help"], ["case", "list", "--help"]):
        helped = fieldapp(*argv)
        assert helped.returncode == 0
        flat = "".join(helped.stdout.split())
        assert "default:None" not in flat
    assert f"(default:{default_store_dir()})" in "".join(fieldapp("--help").stdout.split())
