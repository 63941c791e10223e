"""The vocabulary of a case: categories, risks, statuses, sources, flags, visit kinds.

Plain data, no I/O: the reducer, the command line and the UI all take their
choices from here.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from fieldapp.domain.documents import FollowUp, PublicCase, Visit

CATEGORIES = (
    "family",
    "marriage",
    "neighbor",
    "land",
    "homestead",
    "irrigation",
    "debt",
    "wages",
    "housing",
    "injury",
    "hazard",
    "other",
)
RISKS = ("red", "orange", "yellow")
SOURCES = ("patrol", "grid_report", "call_110", "walk_in", "villagers_meeting")
FLAGS = ("petition_threat", "violence_risk", "vulnerable_person", "repeat_calls")
VISIT_KINDS = ("home", "phone", "mediation", "follow_up", "field")
PARTY_ROLES = ("party", "applicant", "respondent", "relative", "witness")
STATUSES = ("open", "in_progress", "escalated", "referred", "resolved", "closed")
TIERS = (1, 2, 3)  # station workstation, joint team, mediation room
OUTCOMES = ("agreement", "withdrawn", "other")
FOLLOW_UP_DAYS = (7, 30, 90)

#: Which status may follow which (reopening is its own operation).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "escalated", "referred", "resolved"}),
    "in_progress": frozenset({"escalated", "referred", "resolved"}),
    "escalated": frozenset({"in_progress", "referred", "resolved"}),
    "referred": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
}
REOPENABLE = frozenset({"resolved", "closed"})
#: Fields an ordinary update may set (status, assignment and the rest have their own ops).
EDITABLE = ("village", "category", "risk", "summary", "source", "flags", "deadline", "parties", "tier")
SUPERVISOR_FIELDS = frozenset({"deadline"})

MAX_TEXT = 4000
MAX_SHORT = 80
MAX_PARTIES = 30


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648's alphabet, lower case
#: Every pair of base32 characters, by the 10 bits they spell.
_BASE32_PAIRS = [first + second for first in _BASE32 for second in _BASE32]


def case_id_for(author: str, epoch: int, seq: int) -> str:
    """A case's id, derived from the operation that created it (12 base32 chars).

    The first 12 characters of the lower-case base32 of the SHA-256's first 8 bytes,
    that is its top 60 bits, as base64.b32encode spells them; here two characters
    (10 bits) at a time, as merge derives one per intake it folds (2.1 µs, 4.2 µs
    through base64).
    """
    digest = hashlib.sha256(f"{author}.{epoch}.{seq}".encode()).digest()
    bits = int.from_bytes(digest[:8], "big") >> 4
    pairs = _BASE32_PAIRS
    return (
        pairs[bits >> 50]
        + pairs[(bits >> 40) & 1023]
        + pairs[(bits >> 30) & 1023]
        + pairs[(bits >> 20) & 1023]
        + pairs[(bits >> 10) & 1023]
        + pairs[bits & 1023]
    )


#: The stations' clock for calendar dates the rules compute (follow-up visits): China
#: Standard Time, UTC+8 all year. Every device must fold to the same dates, whatever its
#: own time zone setting, so the rules use this one zone, not the device's.
STATION_TZ = timezone(timedelta(hours=8), "CST")


def stamp_date(hlc: int) -> date:
    """The station's calendar date (China Standard Time) of an HLC stamp."""
    return datetime.fromtimestamp((hlc >> 16) / 1000, tz=STATION_TZ).date()


@lru_cache(maxsize=4096)
def _iso_date(day: int) -> str:
    """The ISO date of day `day` since 1970-01-01."""
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


#: "Thh:" of each hour and "mm:ss" of each second of an hour: a stamp's time of day in two lookups.
_HOURS = [f"T{hour:02d}:" for hour in range(24)]
_MINUTES_SECONDS = [f"{minute:02d}:{second:02d}" for minute in range(60) for second in range(60)]


def stamp_iso(hlc: int) -> str:
    """ISO-8601 time of an HLC stamp, to the second, UTC.

    The same text as ``datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")``,
    from integer arithmetic and lookup tables: a merge asks for tens of thousands of different
    stamps (0.5 µs each here, 2.8 µs with format specifications, 5 µs through datetime).
    """
    day, seconds = divmod((hlc >> 16) // 1000, 86400)
    hours, seconds = divmod(seconds, 3600)
    return _iso_date(day) + _HOURS[hours] + _MINUTES_SECONDS[seconds] + "+00:00"


def visit_moment(visit: Visit) -> str:
    """When a visit happened (ISO-8601, UTC, as `stamp_iso` writes it): the time its officer gave
    (`occurred`), else the moment it was recorded (`at`). What a list of visits is ordered by, and
    what any figure about when a case was last visited must read."""
    return visit.get("occurred") or visit["at"]


def visit_order(visit: Visit) -> tuple[str, int]:
    """A visit's place in a list of visits: when it happened, then when it was recorded (both
    texts are written alike, so they compare as times)."""
    return visit_moment(visit), visit["hlc"]


def follow_up_dates(resolved_on: date) -> list[str]:
    """Default follow-up visits after a resolution: +7, +30, +90 days."""
    return [(resolved_on + timedelta(days=d)).isoformat() for d in FOLLOW_UP_DAYS]


def followup_pending(followup: FollowUp) -> bool:
    """Whether a follow-up is still to be made: not done, and not cancelled by a reopening (what
    the home screen, the dashboard and the reports count as due)."""
    return not followup["done"] and not followup.get("cancelled")


def parse_deadline(text: str) -> str:
    """Validate a deadline written exactly as YYYY-MM-DD; raise ValueError saying so.

    Only this one spelling is accepted (not 20261231 or 2026-W53-4, which Python
    also parses), because deadlines are compared as text across devices.
    """
    try:
        parsed = date.fromisoformat(text).isoformat()
    except (ValueError, TypeError):
        parsed = None
    if parsed != text:
        raise ValueError(f"deadline {text!r} is not a date like 2026-12-31 (year-month-day)")
    return parsed


def is_overdue(case: PublicCase, today: date) -> bool:
    """Past its deadline and not yet resolved or closed."""
    deadline = case.get("deadline")
    if not deadline:
        return False
    return case["status"] not in ("resolved", "closed") and deadline < today.isoformat()
