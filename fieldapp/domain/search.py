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

from pypinyin import Style, pinyin

from fieldapp.domain.documents import PublicCase


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


def search_key(case: PublicCase) -> str:
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
    """Search keys of a set of cases, built once, queried on every keystroke.

    Typing narrows: a query that extends one answered moments ago (``z`` then ``zs``)
    is looked for only among that one's matches, and going back (backspace) finds
    the shorter query's answer still kept. Each word is matched by one pass over
    what is left, so the scan gets cheaper with every word.
    """

    KEEP = 32  # recent answers kept for narrowing and for backspace

    def __init__(self, cases: Iterable[PublicCase]) -> None:
        self._entries = [(search_key(case), case) for case in cases]
        self._recent: dict[tuple[str, str | None, str | None], list[tuple[str, PublicCase]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def find(
        self,
        query: str = "",
        status: str | None = None,
        risk: str | None = None,
    ) -> list[PublicCase]:
        """Cases matching every word of `query` (and the status and risk, if given), in index order."""
        text = " ".join(query.lower().split())
        key = (text, status, risk)
        found = self._recent.get(key)
        if found is None:
            found = self._narrow(text, status, risk)
            if len(self._recent) >= self.KEEP:
                self._recent.pop(next(iter(self._recent)))
            self._recent[key] = found
        return [case for _, case in found]

    def _narrow(self, text: str, status: str | None, risk: str | None) -> list[tuple[str, PublicCase]]:
        # Start from the kept answer of the longest query this one extends, with the same
        # filters: every case matching this query matched that one (each of its words is a
        # word of this query, or the start of one).
        start: list[tuple[str, PublicCase]] | None = None
        longest = -1
        for (old, old_status, old_risk), entries in self._recent.items():
            if (old_status, old_risk) == (status, risk) and text.startswith(old) and len(old) > longest:
                start, longest = entries, len(old)
        if start is None:
            start = self._entries
            if status is not None:
                start = [e for e in start if e[1].get("status") == status]
            if risk is not None:
                start = [e for e in start if e[1].get("risk") == risk]
        entries = start
        for word in text.split():
            entries = [e for e in entries if word in e[0]]
        return entries


def phone_matches(case: PublicCase, query: str) -> list[int]:
    """Indices of the parties whose phone holds a word of `query` (which phone a search found).

    Per case shown, not per case searched: the find screen asks this of the rows it lists.
    """
    words = query.lower().split()
    if not words:
        return []
    parties = case.get("parties") or []
    return [
        index
        for index, party in enumerate(parties)
        if isinstance(party, dict)
        and (phone := str(party.get("phone") or "").lower())
        and any(word in phone for word in words)
    ]
