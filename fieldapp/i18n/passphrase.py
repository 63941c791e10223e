"""Strings of the passphrase policy (`fieldapp.core.passphrase`), in English and Simplified Chinese."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_ADVICE_EN = (
    "Nothing was created or changed. Choose another: e.g. four unrelated words, at least {min} characters."
)
_ADVICE_ZH = "未创建或更改任何内容。请另选一个口令，例如四个互不相关的词，至少 {min} 个字符。"

_STRINGS: dict[str, tuple[str, str]] = {
    "passphrase.too_short": (
        "The passphrase must have at least {min} characters; a lost device is only as safe as "
        "its passphrase. " + _ADVICE_EN,
        "口令至少需要 {min} 个字符；设备丢失时，数据是否安全全看口令。" + _ADVICE_ZH,
    ),
    "passphrase.weak": (
        "The passphrase is {what}: among the first passwords a thief tries on a lost device. " + _ADVICE_EN,
        "该口令{what}，是盗取设备者最先尝试的密码之一。" + _ADVICE_ZH,
    ),
    "passphrase.kind.one_character": (
        "one character repeated (like 11111111)",
        "是同一个字符的重复（如 11111111）",
    ),
    "passphrase.kind.sequence": (
        "a run of consecutive digits or letters (like 12345678 or abcdefgh)",
        "是连续的数字或字母（如 12345678、abcdefgh）",
    ),
    "passphrase.kind.repeated": (
        "a short group repeated (like 12121212 or woaiwoai)",
        "是一小段字符的重复（如 12121212、woaiwoai）",
    ),
    "passphrase.kind.date": (
        "a date (like 19900101), easy to guess from a birthday",
        "是一个日期（如 19900101），容易从生日等信息猜到",
    ),
    "passphrase.kind.keyboard": (
        "a walk along the keyboard (like qwertyui or 1qaz2wsx)",
        "是沿键盘顺序敲出的字符（如 qwertyui、1qaz2wsx）",
    ),
    "passphrase.kind.common": (
        "one of the commonest passwords, perhaps with digits or symbols added "
        "(like password1, p@ssw0rd or woaini1314)",
        "是最常见的密码之一，或只在其前后加了数字或符号（如 password1、p@ssw0rd、woaini1314）",
    ),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
