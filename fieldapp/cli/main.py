"""The `fieldapp` command line: the scriptable contract (README.md, "Using it").

Every command takes --store DIR and reads the passphrase from --passphrase-file,
$FIELDAPP_PASSPHRASE or a prompt. --json makes output machine-readable. Errors go
to stderr with a non-zero exit code: 1 for a problem the user can fix, 2 for
wrong usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fieldapp import __version__, i18n
from fieldapp.cli import agreement as cli_agreement
from fieldapp.cli import cases as cli_cases
from fieldapp.cli import enrol as cli_enrol
from fieldapp.cli import persons as cli_persons
from fieldapp.cli import reports as cli_reports
from fieldapp.cli import station as cli_station
from fieldapp.cli import sync as cli_sync
from fieldapp.cli.cases import language, tr
from fieldapp.cli.parser import PARSERS, CommandParser, language_given
from fieldapp.core import net as cli_net
from fieldapp.core.device import default_store_dir, device_info
from fieldapp.core.passphrase import PassphraseError, check_new_passphrase, read_passphrase
from fieldapp.core.service import CaseError, init_device
from fieldapp.core.settings import device_language
from fieldapp.core.station import StationError
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n.rules import refusal_message, render
from storage import EncryptedStore, FieldDB, StoreError
from storage.files import set_lock_label

EXIT_ERROR = 1


class CommandError(Exception):
    """A user-facing failure of a command (message says what to do)."""

    code = "command_error"


def _options(parser: argparse.ArgumentParser, store_help: str, defaults: bool) -> None:
    """The options every command takes. Given before the command they are the defaults; given
    after it (`fieldapp case list --json`) they win. A command's parser leaves an option it was
    not given unset (SUPPRESS) instead of putting back the default over what came before it."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--store", type=Path, default=default(None), help=store_help)
    parser.add_argument(
        "--passphrase-file", type=Path, default=default(None), help="read the passphrase from FILE"
    )
    parser.add_argument("--json", action="store_true", default=default(False), help="machine-readable output")
    parser.add_argument(
        "--lang",
        choices=["zh", "en"],
        default=default(None),
        help="interface language (default: the one this device remembers, from a --lang given before or "
        "F2 in the app, once the store is unlocked; else the locale's, e.g. LANG=zh_CN.UTF-8 is Chinese)",
    )


def _store_dir(args: argparse.Namespace) -> Path:
    return args.store if args.store is not None else default_store_dir()


def _emit(args: argparse.Namespace, data: dict[str, object], text: str) -> None:
    print(json.dumps(data, ensure_ascii=False) if args.json else text)


def cmd_init(args: argparse.Namespace) -> int:
    """Create this device's store and identity."""
    officer = args.officer.strip()
    if not officer:
        raise CommandError(tr(args).t("cli.init.officer_required"))
    passphrase = read_passphrase(args.passphrase_file, confirm=True)
    check_new_passphrase(passphrase, language(args))
    store_dir = _store_dir(args)
    info = init_device(store_dir, passphrase, officer, role=args.role, language=args.lang)
    _emit(
        args,
        {"device_id": info.device_id, "store": str(store_dir)},
        tr(args).t("cli.init.created", store=store_dir, device_id=info.device_id),
    )
    return 0


def cmd_store_check(args: argparse.Namespace) -> int:
    """Unlock the store, verify every file, report its shape (no content)."""
    passphrase = read_passphrase(args.passphrase_file)
    db = FieldDB.open(_store_dir(args), passphrase)
    try:
        args.lang = device_language(db.keyed("local"), args.lang)  # the device's, once unlocked
        store = db.store
        info = device_info(db)
        data: dict[str, Any] = {
            "ok": True,
            "device_id": info.device_id if info else None,
            "generation": store.generation,
            "tables": {name: len(docs) for name, docs in sorted(store.tables.items())},
            "snapshot_bytes": store.snapshot_bytes,
            "journal_bytes": store.journal_bytes,
        }
    finally:
        db.close()
    t = tr(args).t
    counts = t("cli.store.table_sep").join(
        t("cli.store.table", name=name, count=n) for name, n in data["tables"].items()
    )
    _emit(
        args,
        data,
        t("cli.store.intact", generation=data["generation"], counts=counts or t("cli.store.empty")),
    )
    return 0


def cmd_store_salvage(args: argparse.Namespace) -> int:
    """Recover the last good state of a damaged store."""
    passphrase = read_passphrase(args.passphrase_file)
    store, report = EncryptedStore.salvage(_store_dir(args), passphrase)
    store.close()
    data = {
        "rebuilt_from_previous": report.rebuilt_from_previous,
        "journal_records_recovered": report.journal_records_recovered,
        "damage": report.damage,
        "moved_aside": report.moved_aside,
    }
    t = tr(args).t
    lines = [t("cli.salvage.done")]
    lines += [t("cli.salvage.damage", what=d) for d in report.damage] or [t("cli.salvage.no_damage")]
    if report.moved_aside:
        lines.append(t("cli.salvage.moved", files=", ".join(report.moved_aside)))
    _emit(args, data, "\n".join(lines))
    return 0


def cmd_store_passphrase(args: argparse.Namespace) -> int:
    """Change the passphrase; only the small key file is rewritten."""
    t = tr(args).t
    old = read_passphrase(args.passphrase_file, prompt=t("cli.passphrase.current"))
    new = read_passphrase(args.new_passphrase_file, confirm=True, prompt=t("cli.passphrase.new"))
    check_new_passphrase(new, language(args))
    store = EncryptedStore.open(_store_dir(args), old)
    try:
        store.change_passphrase(old, new)
    finally:
        store.close()
    _emit(args, {"ok": True}, t("cli.passphrase.changed"))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Build a demo station store and open the app on it."""
    from fieldapp.core.demo import build_demo_store

    store_dir, passphrase = build_demo_store(args.store)
    _emit(
        args,
        {"store": str(store_dir), "passphrase": passphrase},
        tr(args).t("cli.demo.built", store=store_dir, passphrase=passphrase),
    )
    if args.no_open:
        return 0
    return _run_tui(store_dir, args.lang, args.lock_after)


def cmd_tui(args: argparse.Namespace) -> int:
    """Open the terminal app."""
    return _run_tui(_store_dir(args), args.lang, args.lock_after)


def _run_tui(
    store_dir: Path, lang: str | None, lock_after: float, serve: tuple[str, int] | None = None
) -> int:
    from fieldapp.tui.app import run_app  # Textual loads only for the TUI

    if lock_after < 0:
        raise CommandError(i18n.Translator(lang or i18n.detect_language()).t("cli.lock_after"))
    run_app(store_dir, lang, lock_after * 60 or None, serve)
    return 0


def _lock_after(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lock-after",
        type=float,
        default=5.0,
        metavar="MINUTES",
        help="lock the app after this many idle minutes (default 5; 0: never)",
    )


def build_parser(language: str | None = None) -> CommandParser:
    """The whole command-line grammar, its help and usage errors in `language` (default: the
    locale's)."""
    parser = PARSERS[i18n.normalise_language(language or i18n.detect_language())](
        prog="fieldapp", description="Dispute case records for rural police stations."
    )
    # The store's default is known only when running, so its help is put in the language now.
    store = str(default_store_dir()).replace("%", "%%")  # argparse fills in %(...)s in help
    store_help = parser.speak("store directory (default: {store})").format(store=store)

    def _common(command: argparse.ArgumentParser) -> None:
        """A command's own copy of the common options (they may come before or after it)."""
        _options(command, store_help, defaults=False)

    parser.add_argument("--version", action="version", version=f"fieldapp {__version__}")
    _options(parser, store_help, defaults=True)
    _lock_after(parser)
    parser.set_defaults(handler=cmd_tui)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="create this device's encrypted store")
    _common(p)
    p.add_argument("--officer", required=True, help="the officer who carries this device")
    p.add_argument(
        "--role",
        choices=["officer", "supervisor"],
        default="officer",
        help="this device's role until it is enrolled at a station",
    )
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("demo", help="build a demo station store and open the app")
    _common(p)
    _lock_after(p)
    p.add_argument("--no-open", action="store_true", help="build the store, do not open the app")
    p.set_defaults(handler=cmd_demo)

    store = sub.add_parser("store", help="check, salvage or re-key the store").add_subparsers(
        dest="store_command", metavar="ACTION", required=True
    )
    p = store.add_parser("check", help="verify every file of the store")
    _common(p)
    p.set_defaults(handler=cmd_store_check)
    p = store.add_parser("salvage", help="recover the last good state of a damaged store")
    _common(p)
    p.set_defaults(handler=cmd_store_salvage)
    p = store.add_parser("passphrase", help="change the passphrase")
    _common(p)
    p.add_argument("--new-passphrase-file", type=Path, default=None, help="read the new passphrase from FILE")
    p.set_defaults(handler=cmd_store_passphrase)
    cli_cases.register(sub, _common)
    cli_persons.register(sub, _common)
    cli_station.register(sub, _common, _run_tui)
    cli_enrol.register(sub, _common)
    cli_sync.register(sub, _common)
    cli_reports.register(sub, _common)
    cli_agreement.register(sub, _common)
    return parser


def _localised(exc: BaseException, args: argparse.Namespace) -> str:
    """A store error in the user's language (the catalogue's text), with the English detail after it;
    a coded station refusal (`StationError.code`) in the user's language."""
    language = i18n.normalise_language(getattr(args, "lang", None) or i18n.detect_language())
    refusal = getattr(exc, "refusal", None)
    key = getattr(exc, "key", None)
    message = getattr(exc, "message", None)
    if refusal is None and callable(message):  # renders its own parameters (AgreementError)
        return str(message(language))
    if refusal is None and isinstance(key, str) and i18n.has_key(key):  # written in English, keyed
        return i18n.Translator(language).t(key, **getattr(exc, "params", {}))
    if isinstance(exc, StationError) and i18n.has_key(f"error.{exc.code}"):
        params = dict(exc.params)
        if refusal is not None:
            params["reason"] = render(refusal.code, refusal.params, language)
        return i18n.Translator(language).t(f"error.{exc.code}", **params)
    if refusal is not None:  # a refusal of the rules (CaseError, StationError): in both languages
        return refusal_message(refusal.code, refusal.params, language)
    if not isinstance(exc, StoreError) or language == "en":
        return str(exc)
    i18n.set_language(language)
    translated = i18n.error_message(exc)
    return str(exc) if translated == str(exc) else f"{translated}\n({exc})"


def _runs(args: argparse.Namespace) -> str:
    """What this process runs, as the lock file of the store records it ("app", "serve",
    "station open"...): a second process is told which one holds the store."""
    if args.handler is cmd_tui:
        return "app"
    words = [args.command] + [
        value for name, value in vars(args).items() if name.endswith("_command") and isinstance(value, str)
    ]
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    # Help and usage errors come before the store is unlocked: --lang, else the locale.
    args = build_parser(language_given(argv)).parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    label = set_lock_label(_runs(args))  # put back afterwards: main() also runs inside tests
    try:
        return handler(args)
    except (
        StoreError,
        PassphraseError,
        CommandError,
        CaseError,
        StationError,
        cli_net.NetCliError,
        ValueError,
    ) as exc:
        code = getattr(exc, "code", "error")
        if args.json:
            error: dict[str, Any] = {"error": code, "message": str(exc)}
            refusal = getattr(exc, "refusal", None)
            if refusal is not None:  # the rule's code and parameters, for a program to act on
                error |= {"rule": refusal.code, "params": refusal.params}
            print(json.dumps(error, ensure_ascii=False), file=sys.stderr)
        else:
            print(f"fieldapp: {_localised(exc, args)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # output piped into `head` and the like
        return 0
    except KeyboardInterrupt:
        print(f"fieldapp: {tr(args).t('cli.interrupted')}", file=sys.stderr)
        return 130
    finally:
        set_lock_label(label)
