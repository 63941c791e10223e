"""Find cases by text, with names and villages also matched by pinyin and pinyin initials.

An officer types ``zs`` for 张三, ``dongling`` for 东岭村, or any part of a summary,
id or phone number. Each case gets a search key once (lower-cased text, then the
full pinyin and the initials of its village and party names); a query matches
when every space-separated word of it occurs in the key. Pinyin is looked up per
character (`pypinyin`, first reading) and cached, so building the keys of 100,000
cases costs a dictionary lookup per character, not a pypinyin call per name.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pypinyin import Style, pinyin


@lru_cache(maxsize=65536)
def _char_pinyin(char: str) -> tuple[str, str]:
    """(full pinyin, initial) of one character; the character itself if it has none."""
    if char < "\u3400":  # ASCII, digits, punctuation: as they are
        return char, char
    reading = pinyin(char, style=Style.NORMAL, errors="ignore")
    if not reading or not reading[0]:
        return char, char
    full = reading[0][0]
    return full, full[:1]


def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials) of `text`: 张三 -> ("zhangsan", "zs")."""
    full, initials = [], []
    for char in text.lower():
        if char.isspace():
            continue
        f, i = _char_pinyin(char)
        full.append(f)
        initials.append(i)
    return "".join(full), "".join(initials)


def search_key(case: dict[str, Any]) -> str:
    """Everything a query may match in a case, in one lower-case string (fields separated by \\n)."""
    parties = case.get("parties") or []
    names = [str(p.get("name", "")) for p in parties if isinstance(p, dict)]
    phones = [str(p.get("phone", "")) for p in parties if isinstance(p, dict)]
    village = str(case.get("village", ""))
    parts = [str(case.get("id", "")), village, str(case.get("summary", "")), *names, *phones]
    for text in (village, *names):
        parts.extend(pinyin_forms(text))
    return "\n".join(parts).lower()


class CaseIndex:
    """Search keys of a set of cases, built once, queried on every keystroke."""

    def __init__(self, cases: Iterable[dict[str, Any]]) -> None:
        self._entries = [(search_key(case), case) for case in cases]

    def __len__(self) -> int:
        return len(self._entries)

    def find(
        self,
        query: str = "",
        status: str | None = None,
        risk: str | None = None,
    ) -> list[dict[str, Any]]:
        """Cases matching every word of `query` (and the status and risk, if given), in index order."""
        words = query.lower().split()
        found = []
        for key, case in self._entries:
            if status is not None and case.get("status") != status:
                continue
            if risk is not None and case.get("risk") != risk:
                continue
            if all(word in key for word in words):
                found.append(case)
        return found
