"""The intake form's values, their checks and their draft: plain data, no Textual.

The screen (`fieldapp.tui.screens.intake`) reads its widgets into `IntakeValues`,
asks `validate` what is wrong (i18n keys, in form order), and keeps half-filled
forms through a `DraftKeeper`, as a `draft_doc` in the store's `local` table.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fieldapp.domain import fields, model
from storage import KeyedTable

DRAFT_KEY = "intake_draft"
DRAFT_VERSION = 1
DEFAULT_SOURCE = "patrol"
DEFAULT_ROLE = "party"
PHONE_MIN, PHONE_MAX = fields.PHONE_MIN, fields.PHONE_MAX
normalise_phone = fields.normalise_phone


@dataclass(frozen=True)
class PartyValues:
    """One party row as typed."""

    name: str = ""
    phone: str = ""
    role: str = DEFAULT_ROLE

    def is_blank(self) -> bool:
        """No name and no phone: the row is ignored when saving."""
        return not (self.name.strip() or self.phone.strip())


@dataclass(frozen=True)
class IntakeValues:
    """Everything the intake form holds, as typed (None: nothing chosen)."""

    village: str = ""
    category: str | None = None
    source: str | None = DEFAULT_SOURCE
    parties: tuple[PartyValues, ...] = (PartyValues(),)
    summary: str = ""
    risk: str | None = None
    flags: tuple[str, ...] = ()
    deadline: str = ""

    def is_blank(self) -> bool:
        """Nothing typed or chosen beyond the defaults: not worth keeping as a draft."""
        return (
            self.village.strip() == ""
            and self.summary.strip() == ""
            and self.deadline.strip() == ""
            and (
                self.category is None
                and self.risk is None
                and not self.flags
                and self.source in (None, DEFAULT_SOURCE)
                and all(p.is_blank() for p in self.parties)
            )
        )


@dataclass(frozen=True)
class Problem:
    """Something to fix: which field (and party row), the message's i18n key and fields."""

    field: str
    key: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    index: int | None = None


def _text_problem(
    name: str, value: str, limit: int, required_key: str, index: int | None = None
) -> Problem | None:
    """The shared text check (`fields.text`), said as the form says it: required, or too long."""
    if fields.text(value.strip(), name, limit, required=True) is None:
        return None
    if not value.strip():
        return Problem(name, required_key, index=index)
    return Problem(name, "intake.error.too_long", {"limit": limit}, index)


def village_problem(village: str) -> Problem | None:
    """The village as typed: required, at most `model.MAX_SHORT` characters."""
    return _text_problem("village", village, model.MAX_SHORT, "intake.error.village_required")


def parties_problems(category: str | None, parties: Sequence[PartyValues]) -> list[Problem]:
    """The party rows as typed (blank rows ignored): at most `model.MAX_PARTIES`, each with a
    name and a phone as `fields.phone_problem` wants; at least one unless the category (once
    chosen) is a hazard (`fields.parties_problem`). Row problems carry the row's index."""
    problems: list[Problem | None] = []
    filled = [(i, p) for i, p in enumerate(parties) if not p.is_blank()]
    if len(filled) > model.MAX_PARTIES:
        problems.append(Problem("parties", "intake.error.too_many_parties", {"limit": model.MAX_PARTIES}))
    for index, party in filled:
        problems.append(
            _text_problem(
                "party_name", party.name, model.MAX_SHORT, "intake.error.party_name_required", index
            )
        )
        phone = fields.phone_problem(party.phone)
        if phone is not None:
            problems.append(Problem("party_phone", "intake.error.phone", phone.params, index))
    if category is not None and not filled:
        found = fields.parties_problem(category, [])
        if found is not None:  # a dispute without a party: only a hazard may have none
            problems.append(Problem("parties", f"rule.{found.code}.sentence", found.params))
    return [p for p in problems if p is not None]


def summary_problem(value: str) -> Problem | None:
    """The summary as typed (`fields.summary_problem`): required, at least `fields.SUMMARY_MIN`
    and at most `model.MAX_TEXT` characters."""
    summary = value.strip()
    short = fields.summary_problem(summary)
    if not summary:
        return Problem("summary", "intake.error.summary_required")
    if short is not None and short.code == "summary_too_short":
        return Problem("summary", f"rule.{short.code}.sentence", short.params)
    if short is not None:
        return Problem(
            "summary", "intake.error.summary_too_long", {"count": len(summary), "limit": model.MAX_TEXT}
        )
    return None


def party_records(parties: Sequence[PartyValues]) -> list[dict[str, str]]:
    """The filled party rows as a case stores them (name trimmed, phone as `normalise_phone`)."""
    return [
        {"name": p.name.strip(), "phone": normalise_phone(p.phone), "role": p.role}
        for p in parties
        if not p.is_blank()
    ]


def validate(values: IntakeValues, today: date | None = None) -> list[Problem]:
    """What must be fixed before the intake can be saved, in the order of the form (`today`: the
    station's date a deadline may not be before, default `fields.station_today`).

    The checks are the shared ones (`fieldapp.domain.fields`, as the command line and the
    reducer use them); the form says them in its own words, next to the field.
    """
    problems: list[Problem | None] = [village_problem(values.village)]
    for name in ("category", "source"):
        if getattr(values, name) is None:
            problems.append(Problem(name, f"intake.error.{name}_required"))
    problems.extend(parties_problems(values.category, values.parties))
    problems.append(summary_problem(values.summary))
    if values.risk is None:
        problems.append(Problem("risk", "intake.error.risk_required"))
    deadline = fields.deadline_problem(values.deadline, today)
    if deadline is not None:  # a malformed one as the form always said it; the others by their rule
        key = (
            "intake.error.deadline"
            if deadline.code == "deadline_invalid"
            else f"rule.{deadline.code}.sentence"
        )
        problems.append(Problem("deadline", key, deadline.params))
    return [p for p in problems if p is not None]


def case_fields(values: IntakeValues) -> dict[str, Any]:
    """Keyword arguments for `CaseService.new_case` (call only when `validate` found nothing)."""
    return {
        "village": values.village.strip(),
        "category": values.category,
        "risk": values.risk,
        "summary": values.summary.strip(),
        "parties": party_records(values.parties),
        "source": values.source,
        "flags": list(values.flags),
        "deadline": values.deadline.strip() or None,
    }


# ------------------------------------------------------------ drafts


def draft_doc(values: IntakeValues, saved_at: str) -> dict[str, Any]:
    """The draft as stored: plain dicts, lists and strings (msgpack-able)."""
    return {
        "version": DRAFT_VERSION,
        "saved_at": saved_at,
        "village": values.village,
        "category": values.category,
        "source": values.source,
        "parties": [{"name": p.name, "phone": p.phone, "role": p.role} for p in values.parties],
        "summary": values.summary,
        "risk": values.risk,
        "flags": list(values.flags),
        "deadline": values.deadline,
    }


def _text(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    return value if isinstance(value, str) else ""


def _choice(doc: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    value = doc.get(name)
    return value if value in choices else None


def read_draft(doc: Any) -> tuple[IntakeValues, str] | None:
    """The values and save time of a stored draft; anything unreadable is left blank."""
    if not isinstance(doc, dict) or doc.get("version") != DRAFT_VERSION:
        return None
    rows = doc.get("parties")
    parties = tuple(
        PartyValues(
            _text(row, "name"), _text(row, "phone"), _choice(row, "role", model.PARTY_ROLES) or DEFAULT_ROLE
        )
        for row in (rows if isinstance(rows, list) else [])[: model.MAX_PARTIES]
        if isinstance(row, dict)
    )
    flags = doc.get("flags")
    values = IntakeValues(
        village=_text(doc, "village"),
        category=_choice(doc, "category", model.CATEGORIES),
        source=_choice(doc, "source", model.SOURCES),
        parties=parties,
        summary=_text(doc, "summary"),
        risk=_choice(doc, "risk", model.RISKS),
        flags=tuple(f for f in model.FLAGS if isinstance(flags, list) and f in flags),
        deadline=_text(doc, "deadline"),
    )
    return values, _text(doc, "saved_at")


def _local_minute() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


class DraftKeeper:
    """The intake draft in a keyed table (the store's `local`, encrypted with the rest)."""

    def __init__(self, table: KeyedTable, clock: Callable[[], str] = _local_minute) -> None:
        self._table = table
        self._clock = clock
        found = read_draft(table.get_copy(DRAFT_KEY))
        #: The draft found when the form opened, and when it was kept (None: there was none).
        self.restored: IntakeValues | None = found[0] if found else None
        self.kept_at: str | None = found[1] if found else None
        self._stored = self.restored

    def keep(self, values: IntakeValues) -> None:
        """Store `values` as the draft (a blank form removes it); an unchanged draft is not rewritten."""
        if values.is_blank():
            self.drop()
        elif values != self._stored:
            self._table.put(DRAFT_KEY, draft_doc(values, self._clock()))
            self._stored = values

    def drop(self) -> None:
        """Remove the draft (inside the caller's transaction, if one is open)."""
        if self._table.has(DRAFT_KEY):
            self._table.remove(doc_ids=[DRAFT_KEY])  # type: ignore[list-item]  # keyed tables use str ids
        self._stored = None


# ------------------------------------------------------------ villages


def known_villages(cases: Iterable[Mapping[str, Any]]) -> list[str]:
    """Villages of existing cases, the most used first (then by name)."""
    counts = Counter(
        c["village"].strip() for c in cases if c.get("exists", True) and isinstance(c.get("village"), str)
    )
    counts.pop("", None)
    return sorted(counts, key=lambda v: (-counts[v], v))


def matching_villages(known: Iterable[str], query: str, limit: int = 5) -> list[str]:
    """Known villages containing `query` (case-insensitive), those starting with it first."""
    needle = query.strip().casefold()
    if not needle:
        return list(known)[:limit]
    starts = [v for v in known if v.casefold().startswith(needle)]
    inside = [v for v in known if needle in v.casefold() and v not in starts]
    return (starts + inside)[:limit]
