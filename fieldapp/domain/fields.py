"""One source of field checks: the intake form, the case dialogs, the command line and the reducer.

Each check returns a coded `Refusal` (code and parameters, `fieldapp.domain.refusals`) or None;
the reducer stores it in the view when it refuses an operation, the form, the dialogs and the
command line show it translated (`fieldapp.i18n.rules.render`).

Two levels. `FIELD_CHECKS` are what the reducer enforces at merge time, on every device: they
must never refuse what an earlier version accepted and stored, or a store's state would change
on upgrade. Entry checks (`phone_problem`, `party_problem`, `deadline_problem`, `summary_problem`,
`parties_problem`) are what a person may type now: the merge checks plus what earlier versions
did not ask at merge time (a phone made of digits; a deadline that exists on the calendar, not
before today and not more than `DEADLINE_MAX_DAYS` ahead; a summary of at least `SUMMARY_MIN`
characters; at least one party unless the case is a hazard; a visit's time as `visit_time_problem`
reads it). docs/rules.md says which is which.

A visit may say when it happened (`visit.add`'s `occurred`, whole seconds since 1970, UTC): the
reducer checks it against the operation's own stamp, the moment it was recorded (`visit_occurred`),
never against the clock of the device folding it, so every device decides alike.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from typing import Any

from fieldapp.domain import model
from sync.refusals import Refusal, refusal

#: A phone as typed: digits, optionally after a plus, 5 to 20 of them (after `normalise_phone`).
PHONE_MIN, PHONE_MAX = 5, 20
#: What the reducer has always accepted as a phone (any text up to this length).
PHONE_STORED_MAX = 32
_PHONE = re.compile(r"\+?[0-9]+")
# Chinese input methods often type full-width digits; the store keeps ASCII ones.
#: How far ahead a deadline may be typed: two years. A 办理时限 is weeks or months away; a date
#: further off is a typing slip (2062 for 2026) that would keep a case from ever being overdue.
DEADLINE_MAX_DAYS = 730
#: The shortest summary a person may type: four characters, as in 田界纠纷 or 欠款纠纷, the
#: shortest usual summary; fewer (`abc`, `纠纷`) is a slip or says nothing of what happened.
SUMMARY_MIN = 4
#: The category that may be recorded without a party: a safety hazard (安全隐患) is a thing, not
#: a dispute between people (/work/shared/DOMAIN.md, intake).
NO_PARTY_CATEGORY = "hazard"
#: How far back a visit's time may be given: 14 days before the moment it is recorded. An officer
#: writes up in the evening, or after some days on patrol in villages, what happened; two weeks
#: cover a patrol and a leave and keep a slip of the month or year (11-06 for 12-06) from dating a
#: visit into another reporting period. Part of the merge rule (`visit_occurred`): changing it
#: changes what the reducer folds, so it goes with a new `CaseReducer.version`.
VISIT_BACKDATE_DAYS = 14
#: A visit's time as typed: "YYYY-MM-DD HH:MM", or "HH:MM" for today (the hour may have one digit).
_VISIT_TIME_SHAPE = re.compile(r"(?:([0-9]{4})-([0-9]{2})-([0-9]{2})\s+)?([0-9]{1,2}):([0-9]{2})")
# What a Chinese input method may type in a time: full-width digits, colon, hyphen and space.
_TIME_FULL_WIDTH = str.maketrans("０１２３４５６７８９：－　", "0123456789:- ")
_DATE_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def text(value: Any, name: str, limit: int, required: bool = False) -> Refusal | None:
    """Text of at most `limit` characters (and, if `required`, not blank)."""
    if required and (not isinstance(value, str) or len(value) > limit or not value or value.isspace()):
        return refusal("text_required", field=name, limit=limit)
    if not isinstance(value, str) or len(value) > limit:
        return refusal("text_invalid", field=name, limit=limit)
    return None


def choice(value: Any, name: str, choices: tuple[Any, ...]) -> Refusal | None:
    """One of `choices` (a vocabulary: `fieldapp.domain.model`)."""
    return None if value in choices else refusal("choice_invalid", field=name)


def normalise_phone(value: str) -> str:
    """The phone as stored: trimmed, full-width digits and plus made ASCII."""
    return value.strip().translate(_FULL_WIDTH)


def phone_problem(value: str) -> Refusal | None:
    """A phone as typed (empty: none given): digits, optionally after +, 5 to 20 of them."""
    phone = normalise_phone(value)
    if phone and not (_PHONE.fullmatch(phone) and PHONE_MIN <= len(phone) <= PHONE_MAX):
        return refusal("phone_invalid", min=PHONE_MIN, max=PHONE_MAX)
    return None


def party_problem(name: str, phone: str, role: str = "party") -> Refusal | None:
    """A party as typed: a name, a phone (or none) as `phone_problem` wants, a known role."""
    return (
        text(name.strip(), "party_name", model.MAX_SHORT, required=True)
        or phone_problem(phone)
        or choice(role, "party_role", model.PARTY_ROLES)
    )


def summary_problem(value: str) -> Refusal | None:
    """A summary as typed: not blank, at least `SUMMARY_MIN` and at most `model.MAX_TEXT`
    characters (after trimming). The reducer keeps `text` (any non-blank text), as before."""
    summary = value.strip()
    found = text(summary, "summary", model.MAX_TEXT, required=True)
    if found is None and len(summary) < SUMMARY_MIN:
        return refusal("summary_too_short", min=SUMMARY_MIN)
    return found


def parties_problem(category: str | None, parties: list[Any] | tuple[Any, ...]) -> Refusal | None:
    """Parties as typed for a new case: at least one, unless the category is `NO_PARTY_CATEGORY`
    (a hazard). The reducer keeps `parties` (an empty list is taken), as before."""
    if not parties and category != NO_PARTY_CATEGORY:
        return refusal("parties_required")
    return None


def deadline(value: Any) -> Refusal | None:
    """A deadline written exactly as YYYY-MM-DD (or none)."""
    if value is None:
        return None
    try:
        model.parse_deadline(value if isinstance(value, str) else "?")
    except ValueError:
        return refusal("deadline_invalid")
    return None


def station_today() -> date:
    """Today's date at the station (China Standard Time, `model.STATION_TZ`), whatever the
    device's own time zone: the day an entry check compares a typed deadline with."""
    return datetime.now(model.STATION_TZ).date()


def deadline_problem(value: str, today: date | None = None) -> Refusal | None:
    """A deadline as typed now (empty: none given): YYYY-MM-DD, a day that exists, not before
    `today` (default: `station_today`) and at most `DEADLINE_MAX_DAYS` after it.

    Only for new input (the intake form, the dialogs, the command line): the reducer keeps
    `deadline`, which accepts any well-formed date, so a deadline typed offline yesterday that
    arrives today is still folded (docs/rules.md).
    """
    text = value.strip()
    if not text:
        return None
    shape = _DATE_SHAPE.fullmatch(text)
    if shape is None:
        return refusal("deadline_invalid")
    year, month, day = (int(part) for part in shape.groups())
    if not 1 <= month <= 12:
        return refusal("deadline_no_month", date=text, month=month)
    days = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= days:
        return refusal("deadline_no_day", date=text, day=day, days=days)
    if deadline(text) is not None:  # year 0000
        return refusal("deadline_invalid")
    today = today or station_today()
    if text < today.isoformat():
        return refusal("deadline_past", date=text, today=today.isoformat())
    latest = (today + timedelta(days=DEADLINE_MAX_DAYS)).isoformat()
    if text > latest:
        return refusal("deadline_too_far", date=text, latest=latest)
    return None


def visit_occurred(value: Any, recorded: int) -> Refusal | None:
    """The reducer's check of a visit's `occurred` (None: not given) against `recorded`, the HLC
    stamp of the operation that logs it: whole seconds since 1970 (UTC), not after the recording
    (no tolerance: a device stamps its own operation at or after its wall clock, so a time that
    was not in the future when typed never is) and at most `VISIT_BACKDATE_DAYS` before it."""
    if value is None:
        return None
    if type(value) is not int:  # not a bool, nor a float: what every device reads alike
        return refusal("visit_time_invalid")
    recorded_ms = recorded >> 16  # the stamp's wall-clock part (`sync.hlc.wall_ms`)
    if value * 1000 > recorded_ms:
        return refusal("visit_time_after_recorded")
    if value * 1000 < recorded_ms - VISIT_BACKDATE_DAYS * 86_400_000:
        return refusal("visit_time_too_early", days=VISIT_BACKDATE_DAYS)
    return None


def _typed_visit_time(value: str, now: datetime) -> datetime | Refusal | None:
    """A visit's time as typed, in the zone of `now` (None: none typed), or what is wrong with it."""
    typed = " ".join(value.translate(_TIME_FULL_WIDTH).split())
    if not typed:
        return None
    shape = _VISIT_TIME_SHAPE.fullmatch(typed)
    if shape is None:
        return refusal("visit_time_format", time=typed)
    year, month, day, hour, minute = shape.groups()
    try:
        on = date(int(year), int(month), int(day)) if year else now.date()
        when = datetime(on.year, on.month, on.day, int(hour), int(minute), tzinfo=now.tzinfo)
    except ValueError:  # no such day or time (2026-02-30, 24:10, year 0)
        return refusal("visit_time_format", time=typed)
    shown = when.strftime("%Y-%m-%d %H:%M")
    if when > now:
        return refusal("visit_time_future", time=shown, now=now.strftime("%Y-%m-%d %H:%M"))
    # The earliest whole minute: what passes here passes the reducer's check when recorded at once.
    earliest = now - timedelta(days=VISIT_BACKDATE_DAYS)
    if earliest.second or earliest.microsecond:
        earliest = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if when < earliest:
        return refusal(
            "visit_time_too_old",
            time=shown,
            days=VISIT_BACKDATE_DAYS,
            earliest=earliest.strftime("%Y-%m-%d %H:%M"),
        )
    return when


def _local_now() -> datetime:
    """Now, in the device's own time zone: the zone the app shows times in."""
    return datetime.now().astimezone()


def visit_time_problem(value: str, now: datetime | None = None) -> Refusal | None:
    """A visit's time as typed (empty: now): "YYYY-MM-DD HH:MM" or "HH:MM" (today), a time that
    exists, not after `now` (default: the device's clock, in its own time zone, as the app shows
    times) and not more than `VISIT_BACKDATE_DAYS` before it. For the dialog and the command line;
    the reducer's check is `visit_occurred`."""
    found = _typed_visit_time(value, now or _local_now())
    return found if isinstance(found, Refusal) else None


def visit_time(value: str, now: datetime | None = None) -> int | None:
    """A visit's time as typed, as `visit.add` carries it (whole seconds since 1970, UTC; None:
    none typed). Raises ValueError for a time `visit_time_problem` refuses."""
    found = _typed_visit_time(value, now or _local_now())
    if isinstance(found, Refusal):
        raise ValueError(found.code)
    return None if found is None else int(found.timestamp())


def parties(value: Any) -> Refusal | None:
    """The parties as the reducer takes them (lenient on phones: see the module's docstring)."""
    if not isinstance(value, list) or len(value) > model.MAX_PARTIES:
        return refusal("parties_invalid", limit=model.MAX_PARTIES)
    for party in value:
        if not isinstance(party, dict):
            return refusal("party_incomplete")
        found = (
            text(party.get("name"), "party_name", model.MAX_SHORT, required=True)
            or text(party.get("phone", ""), "party_phone", PHONE_STORED_MAX)
            or choice(party.get("role", "party"), "party_role", model.PARTY_ROLES)
        )
        if found:
            return found
    return None


def flags(value: Any) -> Refusal | None:
    """Risk flags drawn from the vocabulary."""
    if not isinstance(value, list) or any(f not in model.FLAGS for f in value):
        return refusal("flags_invalid")
    return None


#: What the reducer checks of each case field, at merge time.
FIELD_CHECKS = {
    "village": lambda v: text(v, "village", model.MAX_SHORT, required=True),
    "category": lambda v: choice(v, "category", model.CATEGORIES),
    "risk": lambda v: choice(v, "risk", model.RISKS),
    "summary": lambda v: text(v, "summary", model.MAX_TEXT, required=True),
    "source": lambda v: choice(v, "source", model.SOURCES),
    "flags": flags,
    "deadline": deadline,
    "parties": parties,
    "tier": lambda v: None if v is None else choice(v, "tier", model.TIERS),
}
