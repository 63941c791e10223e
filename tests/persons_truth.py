"""The report's repeat disputes and persons counted the plain way, for tests: parties grouped by
the test's own reading of a mobile number (not `fieldapp.domain.persons`), name-only parties
joined only by the links the test says it made, every pair of cases compared."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

#: A person, as the test reads one: ("mobile", number) or ("party", case id, name).
Key = tuple[str, ...]


def mobile_of(phone: str | None) -> str | None:
    """A mainland mobile number read from how it was written, or None: digits only (full-width
    made plain), a leading country code 0086 or 86 dropped, then 11 digits starting 13 to 19."""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", phone or ""))
    for code in ("0086", "86"):
        if digits.startswith(code) and len(digits) == len(code) + 11:
            digits = digits[len(code) :]
    return digits if re.fullmatch(r"1[3-9][0-9]{9}", digits) else None


def party_key(case_id: str, party: Mapping[str, Any]) -> Key:
    """Who a party is: their mobile, else the party of that case by that name."""
    mobile = mobile_of(party.get("phone"))
    return ("mobile", mobile) if mobile else ("party", case_id, str(party["name"]).strip())


def repeat_truth(
    cases: Mapping[str, tuple[datetime, Sequence[Mapping[str, Any]]]],
    start: datetime,
    end: datetime,
    tz: tzinfo,
    links: Iterable[tuple[Key, Key]] = (),
) -> tuple[set[str], set[Key]]:
    """(repeat disputes, repeat persons) of [start, end): cases created in it one of whose
    persons has another case created before it (same instant: smaller id first) on or after the
    local date 365 days before its own. `cases`: id -> (created, parties); `links`: pairs of
    party keys an officer said are one person."""
    group: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        while group.get(key, key) != key:
            key = group[key]
        return key

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            group[max(ra, rb)] = min(ra, rb)
    persons = {cid: {root(party_key(cid, p)) for p in parties} for cid, (_, parties) in cases.items()}
    disputes: set[str] = set()
    repeaters: set[Key] = set()
    for cid, (created, _) in cases.items():
        if not start <= created < end:
            continue
        day = created.astimezone(tz).date()
        for other, (earlier, _) in cases.items():
            if other == cid or (earlier, other) >= (created, cid):
                continue
            if earlier.astimezone(tz).date() < day - timedelta(days=365):
                continue
            shared = persons[cid] & persons[other]
            if shared:
                disputes.add(cid)
                repeaters |= shared
    return disputes, repeaters
