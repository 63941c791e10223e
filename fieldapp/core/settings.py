"""This device's own settings, kept in the encrypted store's `local` table (never synced).

The interface language a person chose (`--lang` on the command line, F2 in the app) is
remembered here, as `fieldapp.core.net.remembered_interface` remembers the sync address. What
language a command speaks: `--lang`, else the device's remembered choice, else the locale
(LC_ALL, LC_MESSAGES, LANG), else English (README.md, "Language"). Before the store is
unlocked only `--lang` and the locale are known.
"""

from __future__ import annotations

from fieldapp import i18n
from storage import KeyedTable

#: The `local` document holding this device's interface language.
LANGUAGE_DOC = "interface"


def remember_language(local: KeyedTable, language: str) -> None:
    """Keep `language` as this device's choice in its `local` table (written only when it
    changes)."""
    doc = local.get_copy(LANGUAGE_DOC) or {}
    chosen = i18n.normalise_language(language)
    if doc.get("language") != chosen:
        local.put(LANGUAGE_DOC, {**doc, "language": chosen})


def remembered_language(local: KeyedTable) -> str | None:
    """The language this device's user last chose (its `local` table), or None."""
    doc = local.get_copy(LANGUAGE_DOC) or {}
    language = doc.get("language")
    return language if language in i18n.LANGUAGES else None


def device_language(local: KeyedTable, given: str | None) -> str:
    """The language a command speaks once the store is open: `given`, else the remembered
    choice, else the locale's. (The caller remembers `given` once its work is done, so that a
    refused command writes nothing.)"""
    if given is not None:
        return i18n.normalise_language(given)
    return remembered_language(local) or i18n.detect_language()
