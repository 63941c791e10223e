"""The command line's own words in the user's language: every command's `--help` and argparse's
usage errors in Chinese with `--lang zh` (or a Chinese locale), in English otherwise; a usage
error names the command's `--help` and exits with status 2 (fieldapp/cli/parser.py).
"""

from __future__ import annotations

import argparse
import gettext
import re
from collections.abc import Iterator

import pytest
from rich.cells import cell_len

from fieldapp.cli.main import build_parser, main
from fieldapp.cli.parser import CommandParser, language_given, wrap_cells
from tests.cli import fieldapp

#: Latin words a Chinese help or error may hold besides the command line's own names: the
#: program's name and the file formats and protocol it names.
ALLOWED = {"fieldapp", "JSON", "CSV", "XLSX", "HTML", "TCP"}


@pytest.fixture(autouse=True)
def _locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """An English locale (a test that wants Chinese says so) and an 80-column terminal."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    monkeypatch.setenv("COLUMNS", "80")


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command of the grammar, the root's () first, as the words typed to reach it."""
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def parser_of(path: tuple[str, ...], language: str = "en") -> CommandParser:
    parser: CommandParser = build_parser(language)
    for name in path:
        [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = action.choices[name]
    return parser


def names_of(parser: argparse.ArgumentParser) -> set[str]:
    """The Latin words a command may show in any language: its name, options, placeholders
    (metavars) and choices, and its subcommands' names."""
    words = set(parser.prog.split())
    for action in parser._actions:
        words |= set(action.option_strings)
        metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
        words |= set(re.findall(r"[A-Za-z]{2,}", str(metavar)))
        words |= {str(choice) for choice in action.choices or ()}
    return {word for name in words for word in re.findall(r"[A-Za-z]{2,}", name)}


def english_words(text: str, known: set[str]) -> list[str]:
    """Latin words of `text` that are not names of the command line, once commands to type
    (in backticks) and paths are taken out."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"/\S+", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in known | ALLOWED]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`fieldapp ARGV` in this process: its exit status, stdout and stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_every_commands_help_is_chinese_with_lang_zh(capsys: pytest.CaptureFixture[str]) -> None:
    walked = list(commands(build_parser("en")))
    assert len(walked) > 30 and ("case", "new") in walked and ("store", "passphrase") in walked
    untranslated, leftovers = [], []
    for path in walked:
        parser, zh = parser_of(path), parser_of(path, "zh")
        actions = [*zh._actions]
        for action in zh._actions:
            if isinstance(action, argparse._SubParsersAction):
                actions += action._get_subactions()  # the commands' own help lines
        untranslated += [
            (path, action.help)
            for action in actions
            if action.help and not re.search("[\u4e00-\u9fff]", zh.speak(action.help))
        ]
        status, shown, err = run([*path, "--help", "--lang", "zh"], capsys)
        assert status == 0 and err == ""
        assert shown.startswith(f"用法：{parser.prog} ") and "\n选项：\n" in shown
        assert "显示本帮助并退出" in shown
        words = english_words(shown, names_of(parser))
        leftovers += [f"{' '.join(path)}: {words}"] if words else []
    assert untranslated == []
    assert leftovers == []


def test_every_option_and_argument_of_every_command_explains_itself() -> None:
    """A new option without help fails here; an option whose placeholder hides its choices
    (`--category CATEGORY`) names every one of them in its help, in both languages."""
    silent, hidden = [], []
    for path in commands(build_parser("en")):
        parser, zh = parser_of(path), parser_of(path, "zh")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                silent += [(path, sub.dest) for sub in action._get_subactions() if not sub.help]
                continue
            name = "/".join(action.option_strings) or action.dest
            if not action.help or action.help is argparse.SUPPRESS:
                silent.append((path, name))
            elif action.choices and action.metavar:
                for text in (action.help, zh.speak(action.help)):
                    missing = [c for c in action.choices if not re.search(rf"\b{c}\b", str(text))]
                    hidden += [(path, name, missing)] if missing else []
    assert silent == []
    assert hidden == []


def test_the_help_stays_english_with_lang_en_and_says_the_real_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    status, shown, _ = run(["case", "list", "--lang", "en", "--help"], capsys)
    assert status == 0 and shown.startswith("usage: fieldapp case list ")
    assert "\noptions:\n" in shown and "show this help message and exit" in shown
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in shown)
    _, root, _ = run(["--help", "--lang=en"], capsys)
    assert "Dispute case records for rural police stations." in root
    assert "positional arguments:" in root and "(default 5; 0: never)" in " ".join(root.split())
    # --lang says what counts without it: the device's remembered choice, then the locale.
    assert "the one this device remembers, from a --lang given before or F2 in the app" in " ".join(
        root.split()
    )
    _, root_zh, _ = run(["--help", "--lang=zh"], capsys)
    assert "（默认 5；0 表示不自动锁定）" in root_zh and "位置参数：" in root_zh
    assert "用本设备记住的语言" in "".join(root_zh.split())
    assert "default" not in root_zh


def test_chinese_help_lines_fit_80_columns_and_the_usage_lines_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Chinese characters take two cells: lines are wrapped by cells, not by characters."""
    for path in (("station", "set"), ("agreement",), ("case", "new"), ()):
        _, shown, _ = run([*path, "--lang", "zh", "--help"], capsys)
        wide = [line for line in shown.splitlines() if cell_len(line) != len(line)]
        assert wide and all(cell_len(line) <= 80 for line in wide), wide
        assert not any(line.lstrip().startswith(("，", "。", "）", "、", ")")) for line in shown.splitlines())
        usage = shown.split("\n\n")[0].splitlines()
        if len(usage) > 1:  # continuation lines start under the first option
            first = cell_len(f"用法：{parser_of(path).prog} ")
            assert all(len(line) - len(line.lstrip()) == first for line in usage[1:]), usage


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_commands_help_fits_80_columns(
    language: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long vocabulary shows a placeholder (`--category CATEGORY`) with its values in the help,
    not `{family,marriage,...}` running past the edge of the terminal."""
    monkeypatch.setenv("XDG_DATA_HOME", "/home/officer/.local/share")  # the store's default in --help
    too_wide = []
    for path in commands(build_parser("en")):
        _, shown, _ = run([*path, "--help", "--lang", language], capsys)
        too_wide += [f"{' '.join(path)}: {line}" for line in shown.splitlines() if cell_len(line) > 80]
    assert too_wide == []


#: A usage error of each kind: the arguments, the command that says it, its message in English
#: and in Chinese.
USAGE_ERRORS = {
    "required": (
        ["case", "new", "--village", "东岭村"],
        "fieldapp case new",
        "the following arguments are required: --category, --risk, --summary",
        "缺少必需的参数：--category, --risk, --summary",
    ),
    "no_action": (
        ["case"],
        "fieldapp case",
        "the following arguments are required: ACTION",
        "缺少必需的参数：ACTION",
    ),
    "invalid_choice": (
        ["case", "list", "--risk", "purple"],
        "fieldapp case list",
        "argument --risk: invalid choice: 'purple' (choose from 'red', 'orange', 'yellow')",
        "参数 --risk：无效的选择：'purple'（可选：'red', 'orange', 'yellow'）",
    ),
    "unknown_command": (
        ["cse"],
        "fieldapp",
        "argument COMMAND: invalid choice: 'cse' (choose from 'init', 'demo',",
        "参数 COMMAND：无效的选择：'cse'（可选：'init', 'demo',",
    ),
    "unrecognized": (
        ["case", "list", "--bogus", "x"],
        "fieldapp case list",
        "unrecognized arguments: --bogus x",
        "无法识别的参数：--bogus x",
    ),
    "expected_one": (
        ["case", "new", "--village"],
        "fieldapp case new",
        "argument --village: expected one argument",
        "参数 --village：后面须跟一个值",
    ),
    "invalid_int": (
        ["enrol", "open", "--count", "two"],
        "fieldapp enrol open",
        "argument --count: invalid int value: 'two'",
        "参数 --count：'two' 不是整数",
    ),
    "invalid_float": (
        ["--lock-after", "soon"],
        "fieldapp",
        "argument --lock-after: invalid float value: 'soon'",
        "参数 --lock-after：'soon' 不是数字",
    ),
    "ambiguous": (
        ["--l", "5"],
        "fieldapp",
        "ambiguous option: --l could match --lang, --lock-after",
        "选项 --l 不明确，可能是：--lang, --lock-after",
    ),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("kind", USAGE_ERRORS)
def test_a_usage_error_is_said_in_the_language_and_names_the_commands_help(
    kind: str, language: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv, prog, english, chinese = USAGE_ERRORS[kind]
    monkeypatch.setenv("LANG", "en_GB.UTF-8" if language == "zh" else "zh_CN.UTF-8")  # --lang wins
    status, out, err = run(["--lang", language, *argv], capsys)
    assert status == 2 and out == ""
    said, hint = err.rstrip("\n").split("\n")[-2:]
    assert err.startswith(("usage: " if language == "en" else "用法：") + prog + " ")
    if language == "en":
        assert said.startswith(f"{prog}: error: {english}"), err
        assert hint == f"Run `{prog} --help` to see what it takes."
    else:
        assert said.startswith(f"{prog}：错误：{chinese}"), err
        assert hint == f"请运行 `{prog} --help` 查看该命令的用法。"
        typed = {word for arg in argv for word in re.findall(r"[A-Za-z]{2,}", arg)}
        parser = parser_of(tuple(a for a in argv if not a.startswith("-"))[: prog.count(" ")])
        assert english_words(err, names_of(parser) | typed) == []


@pytest.mark.timeout(60)
def test_a_chinese_locale_makes_help_and_usage_errors_chinese() -> None:
    """As a person runs it: no --lang, LANG=zh_CN.UTF-8; --lang=en after the command still wins."""
    locale = {"LANG": "zh_CN.UTF-8"}
    helped = fieldapp("case", "list", "--help", env=locale, without=("LC_",))
    assert helped.returncode == 0 and helped.stdout.startswith("用法：fieldapp case list ")
    assert "已过期限且未化解" in helped.stdout
    wrong = fieldapp("case", "update", env=locale, without=("LC_",))
    assert wrong.returncode == 2 and "fieldapp case update：错误：缺少必需的参数：CASE_ID" in wrong.stderr
    assert "请运行 `fieldapp case update --help` 查看该命令的用法。" in wrong.stderr
    english = fieldapp("case", "list", "--risk", "purple", "--lang=en", env=locale, without=("LC_",))
    assert english.returncode == 2 and "argument --risk: invalid choice: 'purple'" in english.stderr


def test_the_language_is_read_from_argv_before_parsing() -> None:
    assert language_given(["case", "list", "--lang", "zh"]) == "zh"
    assert language_given(["--lang=en", "case", "list"]) == "en"
    assert language_given(["--la", "zh", "case", "list", "--lang", "en"]) == "en"  # the last counts
    assert language_given(["case", "list", "--lang", "fr"]) is None  # parsing refuses it
    assert language_given(["visit", "add", "x", "--note", "--", "--lang", "zh"]) is None
    assert language_given(["case", "list", "--lang"]) is None


def test_argparse_is_left_as_it_was_after_a_chinese_parse(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's gettext functions are Chinese only while a Chinese parser parses."""
    parser: CommandParser = build_parser("zh")
    assert parser.parse_args(["case", "list", "--risk", "red"]).risk == "red"
    with pytest.raises(SystemExit):
        parser.parse_args(["case", "list", "--risk", "purple"])
    assert "无效的选择" in capsys.readouterr().err
    assert vars(argparse)["_"] is gettext.gettext and vars(argparse)["ngettext"] is gettext.ngettext
    other = argparse.ArgumentParser(prog="other")
    with pytest.raises(SystemExit):
        other.parse_args(["--bogus"])
    assert "other: error: unrecognized arguments: --bogus" in capsys.readouterr().err


def test_chinese_text_wraps_between_characters_and_keeps_punctuation_with_its_word() -> None:
    lines = wrap_cells("协议书上印的人民调解委员会名称，例如 城关镇人民调解委员会；写 `--x` 即清除", 20)
    assert all(cell_len(line) <= 20 for line in lines)
    assert (
        "".join(lines).replace(" ", "")
        == "协议书上印的人民调解委员会名称，例如城关镇人民调解委员会；写`--x`即清除"
    )
    assert not any(line.startswith(("，", "；")) for line in lines)
    assert wrap_cells("write the agreement (人民调解协议书) of a case", 14) == [
        "write the",
        "agreement (人",  # an opening parenthesis stays with what it opens
        "民调解协议书)",  # a closing one with what it closes
        "of a case",
    ]
