"""Where a command gets the passphrase: a file, the environment, or a prompt."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

ENV_VAR = "FIELDAPP_PASSPHRASE"
MIN_LENGTH = 8


class PassphraseError(Exception):
    """No usable passphrase could be obtained; the message says how to give one."""


def read_passphrase(file: Path | None, *, confirm: bool = False, prompt: str = "Passphrase: ") -> str:
    """Return the passphrase from `file`, then $FIELDAPP_PASSPHRASE, then a prompt."""
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise PassphraseError(f"Cannot read the passphrase file {file}: {exc.strerror}.") from None
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
            "or run in a terminal to be prompted."
        )
    if not passphrase:
        raise PassphraseError("The passphrase is empty.")
    return passphrase


def check_new_passphrase(passphrase: str) -> None:
    """Refuse passphrases too short to protect a lost device."""
    if len(passphrase) < MIN_LENGTH:
        raise PassphraseError(
            f"The passphrase must have at least {MIN_LENGTH} characters; "
            "a lost device is only as safe as its passphrase."
        )
