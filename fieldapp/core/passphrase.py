"""Where a command gets the passphrase (a file, the environment, or a prompt), and which
new passphrases are refused: shorter than `MIN_LENGTH`, or one of the commonest passwords
(`fieldapp.core.common_passwords`), with the reason in the user's language."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from fieldapp.core.common_passwords import weakness
from fieldapp.i18n import Translator, get_language
from fieldapp.i18n import passphrase as _strings  # noqa: F401  (registers the refusals' strings)

ENV_VAR = "FIELDAPP_PASSPHRASE"
MIN_LENGTH = 8


class PassphraseError(Exception):
    """No usable passphrase could be obtained; the message says how to give one."""

    code = "passphrase_error"

    def __init__(
        self,
        message: str,
        code: str | None = None,
        key: str | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        #: The catalogue key of the message (`fieldapp/i18n/cli.py`) and its parameters.
        self.key = key
        self.params = params or {}


def read_passphrase(file: Path | None, *, confirm: bool = False, prompt: str = "Passphrase: ") -> str:
    """Return the passphrase from `file`, then $FIELDAPP_PASSPHRASE, then a prompt."""
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PassphraseError(
                f"Cannot read the passphrase file {file}: {exc.strerror}.",
                key="cli.error.read_file",
                params={"file": str(file), "why": str(exc.strerror)},
            ) from None
        passphrase = text.splitlines()[0] if text else ""
    elif os.environ.get(ENV_VAR):
        passphrase = os.environ[ENV_VAR]
    elif sys.stdin is not None and sys.stdin.isatty():
        passphrase = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat the passphrase: ") != passphrase:
            raise PassphraseError("The two passphrases differ; nothing was created. Try again.")
    else:
        raise PassphraseError(
            f"No passphrase given. Use --passphrase-file FILE, set {ENV_VAR}, "
            "or run in a terminal to be prompted.",
            key="cli.error.no_passphrase",
        )
    if not passphrase:
        raise PassphraseError("The passphrase is empty.")
    return passphrase


def new_passphrase_problem(passphrase: str) -> str | None:
    """Why `passphrase` may not protect a store ("too_short" or a `weakness` kind), or None."""
    if len(passphrase) < MIN_LENGTH:
        return "too_short"
    return weakness(passphrase)


def problem_text(problem: str, language: str | None = None) -> str:
    """A refusal of `new_passphrase_problem` in `language` (default: the UI's)."""
    tr = Translator(language or get_language())
    if problem == "too_short":
        return tr.t("passphrase.too_short", min=MIN_LENGTH)
    return tr.t("passphrase.weak", what=tr.t(f"passphrase.kind.{problem}"), min=MIN_LENGTH)


def check_new_passphrase(passphrase: str, language: str | None = None) -> None:
    """Refuse a passphrase too short or too common to protect a lost device, saying why."""
    problem = new_passphrase_problem(passphrase)
    if problem is not None:
        raise PassphraseError(problem_text(problem, language), code=f"passphrase_{problem}")
