"""Strings of the key help (F1): every key of the screen in use, for narrow terminals whose
footer cannot hold them all. Registered with `fieldapp.i18n.add_catalogue` on import."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "binding.keys_help": ("Keys", "按键"),
    "keys.title": ("Keys on this screen", "本界面按键"),
    "keys.close": ("Esc or F1 closes this list.", "按 Esc 或 F1 关闭此列表。"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
