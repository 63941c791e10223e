"""The command line's parser in the user's language: `--help`, usage and usage errors.

The language is known before parsing (`language_given`: `--lang` anywhere in argv, else the
locale; the device's remembered choice needs the store unlocked, which parsing never does).
`CommandParser` speaks English, `ChineseCommandParser` Chinese; argparse makes a command's
parser with the class of its parent, so the whole grammar speaks one language.

Help texts are translated when they are formatted (`UsageFormatter`), by their English text
(`fieldapp.i18n.usage`). argparse forms its usage errors with its module-global gettext
functions, which no parser can choose; while a Chinese parser parses, they are the Chinese
translation, and they are put back when it returns or exits (`_argparse_speaks`).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NoReturn

from rich.cells import cell_len

from fieldapp.i18n import DEFAULT_LANGUAGE, Translator
from fieldapp.i18n.usage import TRANSLATIONS, CatalogueTranslations

#: The option that chooses the language.
LANG_OPTION = "--lang"

#: Characters a line must not start with (they close what comes before) and must not end with.
_CLOSING = frozenset("，。、；：！？）」』”’》),.;:!?]")
_OPENING = frozenset("（「『“‘《([")
#: A Chinese help text in units a line may break between: spaces, runs of ASCII, single characters.
_UNITS = re.compile(r"\s+|[!-~]+|.")
#: Stands for a usage prefix of wide characters while argparse lays the usage out by len().
_PREFIX_CELL = "\x00"


def language_given(argv: Sequence[str]) -> str | None:
    """The language `--lang` gives in `argv` ("zh" or "en"), read before parsing: `--lang zh`,
    `--lang=zh` or an abbreviation argparse takes (`--la zh`); the last one counts, as for
    argparse. None if none is given (a value that is not a language is left to parsing to refuse)."""
    chosen = None
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        name, equals, value = arg.partition("=")
        if len(name) < len("--la") or not LANG_OPTION.startswith(name):
            continue
        if not equals:
            value = argv[index + 1] if index + 1 < len(argv) else ""
        chosen = value if value in TRANSLATIONS else chosen
    return chosen


@contextmanager
def _argparse_speaks(translation: CatalogueTranslations) -> Iterator[None]:
    """argparse forms its messages with `argparse._` and `argparse.ngettext`: during the block,
    they are `translation`'s (English: left alone); put back afterwards, exits included."""
    if translation.language == DEFAULT_LANGUAGE:
        yield
        return
    saved = argparse.__dict__["_"], argparse.__dict__["ngettext"]
    setattr(argparse, "_", translation.gettext)  # noqa: B010  (argparse's stub does not declare it)
    setattr(argparse, "ngettext", translation.ngettext)  # noqa: B010
    try:
        yield
    finally:
        setattr(argparse, "_", saved[0])  # noqa: B010
        setattr(argparse, "ngettext", saved[1])  # noqa: B010


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` screen cells (a Chinese character takes two), broken
    between characters or at spaces, never inside a run of ASCII (an option, a path) and never
    before closing punctuation or after opening punctuation."""
    units: list[str] = []
    glue = False
    for unit in _UNITS.findall(text):
        if units and not unit.isspace() and (glue or unit[0] in _CLOSING):
            units[-1] += unit
        else:
            units.append(unit)
        glue = unit[-1] in _OPENING
    lines: list[str] = []
    line, space = "", False
    for unit in units:
        if unit.isspace():
            space = bool(line)
            continue
        candidate = f"{line} {unit}" if space else line + unit
        if line and cell_len(candidate) > width:
            lines.append(line)
            candidate = unit
        line, space = candidate, False
    return [*lines, line] if line else lines


class UsageFormatter(argparse.HelpFormatter):
    """argparse's help layout in a language: headings, descriptions and help texts translated
    (`translation`), Chinese lines wrapped by screen cells."""

    def __init__(self, prog: str, translation: CatalogueTranslations) -> None:
        super().__init__(prog)
        self._translation = translation
        self._wide_prefix = ""
        self._headings: list[str] = []

    def _speak(self, text: str) -> str:
        return self._translation.gettext(text)

    def start_section(self, heading: str | None) -> None:
        if heading:
            heading = self._speak(heading)
            self._headings.append(heading)
        super().start_section(heading)

    def add_text(self, text: str | None) -> None:
        super().add_text(self._speak(text) if text and text is not argparse.SUPPRESS else text)

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        if prefix is None:
            prefix = self._speak("usage: ")
            if cell_len(prefix) != len(prefix):  # laid out with stand-ins as wide as it is
                self._wide_prefix = prefix
                prefix = _PREFIX_CELL * cell_len(prefix)
        super().add_usage(usage, actions, groups, prefix)

    def format_help(self) -> str:
        text = super().format_help()
        if self._wide_prefix:
            text = text.replace(_PREFIX_CELL * cell_len(self._wide_prefix), self._wide_prefix, 1)
        for heading in self._headings:  # argparse puts ":" after a heading; Chinese takes "："
            if cell_len(heading) != len(heading):
                text = text.replace(f"{heading}:\n", f"{heading}：\n")
        return text

    def _get_help_string(self, action: argparse.Action) -> str:
        return self._speak(action.help or "")

    def _split_lines(self, text: str, width: int) -> list[str]:
        if cell_len(text) == len(text):
            return super()._split_lines(text, width)
        return wrap_cells(" ".join(text.split()), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in self._split_lines(text, width - len(indent)))


class CommandParser(argparse.ArgumentParser):
    """argparse's parser speaking English (`language`). A usage error names the command's
    `--help` (`cli.usage.error`) and exits with status 2, as argparse does."""

    language = DEFAULT_LANGUAGE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", partial(UsageFormatter, translation=self.translation))
        super().__init__(*args, **kwargs)
        self._commands: argparse._SubParsersAction[CommandParser] | None = None

    @property
    def translation(self) -> CatalogueTranslations:
        """The translation of this parser's words (help texts and argparse's messages)."""
        return TRANSLATIONS[self.language]

    def speak(self, text: str) -> str:
        """`text` (an English help text or argparse message) in this parser's language."""
        return self.translation.gettext(text)

    def add_subparsers(self, **kwargs: Any) -> Any:
        self._commands = super().add_subparsers(**kwargs)
        return self._commands

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        with _argparse_speaks(self.translation):
            return super().parse_known_args(args, namespace)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:  # said by the command they were given to, which names its own --help
            self.innermost(parsed).error(self.speak("unrecognized arguments: %s") % " ".join(extras))
        return parsed

    def innermost(self, parsed: argparse.Namespace) -> CommandParser:
        """The parser of the innermost command `parsed` chose (`fieldapp case list`'s for
        `case list`), this one if it has no command."""
        commands = self._commands
        name = getattr(parsed, commands.dest, None) if commands and commands.dest else None
        chosen = commands.choices.get(name) if commands and isinstance(name, str) else None
        return chosen.innermost(parsed) if isinstance(chosen, CommandParser) else self

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        text = Translator(self.language).t("cli.usage.error", prog=self.prog, message=message)
        self.exit(2, f"{text}\n")


class ChineseCommandParser(CommandParser):
    """The command line's parser speaking Simplified Chinese."""

    language = "zh"


#: The parser class of each language.
PARSERS: dict[str, type[CommandParser]] = {"en": CommandParser, "zh": ChineseCommandParser}
