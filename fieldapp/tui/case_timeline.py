"""A case in words: its timeline and facts, pure presentation with no Textual here.

The timeline is one entry per accepted operation of the case's history (a visit or
note is joined with its text), one per conflicting pair of edits and one per
operation the rules did not count, in the operations' total order; a visit given the
time it happened (`occurred`) is shown at that time, and placed by it, with the moment it
was recorded beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.domain import model
from fieldapp.domain.documents import HistoryEntry, Note, Outcome, Party, ShownCase, Visit
from fieldapp.i18n import case as _strings  # noqa: F401  (registers the case strings)
from fieldapp.i18n import has_key, t
from fieldapp.i18n.rules import refused_text
from sync.documents import Conflict

#: Officer name of a device id (the id itself when the device is not known).
NameOf = Callable[[str], str]

#: Status-change details that get their own wording.
_DETAILED = frozenset({"escalated", "referred", "resolved"})


@dataclass(frozen=True)
class Entry:
    """One timeline entry: when (local, short), who, what happened, and how to show it."""

    hlc: int
    at: str
    author: str
    text: str
    #: "" for an ordinary entry, else "conflict", "open-conflict" or "refused".
    tone: str = ""
    #: When a visit given its time happened (ms since 1970): placed there, not at `hlc`.
    happened_ms: int | None = None
    #: The operation's kind for an entry of the history (`case.create`, `visit.add`, ...), else "".
    kind: str = ""

    def order(self) -> tuple[int, int]:
        """Where the entry goes in the timeline: when it happened, then its stamp."""
        return (self.hlc >> 16 if self.happened_ms is None else self.happened_ms), self.hlc


def local_time(iso: str | None) -> str:
    """An ISO-8601 time as local "YYYY-MM-DD HH:MM" ("" when missing)."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def vocab(group: str, code: Any) -> str:
    """The display name of a vocabulary code (`vocab("status", "open")`); the code if unknown."""
    key = f"{group}.{code}"
    return t(key) if has_key(key) else str(code)


def field_label(name: str) -> str:
    """A case field's name, as the caseload's columns call it where they have it."""
    for key in (f"column.{name}", f"case.field.{name}"):
        if has_key(key):
            return t(key)
    return name


def party_text(party: Party | Mapping[str, Any]) -> str:
    """A party as "Name (role, phone)", the phone only when known (a `Party`, or a party among the
    values a conflict kept: as its operation carried it)."""
    extra = [vocab("case.role", party.get("role", "party"))]
    if party.get("phone"):
        extra.append(str(party["phone"]))
    return f"{party.get('name', '')} ({', '.join(extra)})"


def value_text(field: str, value: Any) -> str:
    """A field's value in words (vocabulary translated, lists joined)."""
    if value is None or value == "" or value == []:
        return t("case.none")
    if field in ("risk", "category", "status", "source"):
        return vocab(field, value)
    if field == "flags" and isinstance(value, list):
        return ", ".join(vocab("flag", flag) for flag in value)
    if field == "parties" and isinstance(value, list):
        return "; ".join(party_text(p) for p in value if isinstance(p, Mapping))
    if field == "tier":
        return vocab("case.tier", value)
    return str(value)


def outcome_text(outcome: Outcome | None) -> str:
    """A resolution's outcome, with the agreement's terms when it has them."""
    if not outcome:
        return t("case.none")
    label = vocab("case.outcome", outcome.get("kind"))
    terms = str(outcome.get("terms") or "").strip()
    return f"{label} — {terms}" if terms else label


def timeline(case: ShownCase, name_of: NameOf) -> list[Entry]:
    """The case's timeline, oldest first."""
    visits = {v["id"]: v for v in case.get("visits", [])}
    notes = {n["id"]: n for n in case.get("notes", [])}
    entries: list[Entry] = []
    status = "open"
    for item in case.get("history", []):
        text, status = _describe(item, status, visits, notes, name_of)
        at, happened = local_time(item["at"]), None
        occurred = visits[item["op"]].get("occurred") if item["op"] in visits else None
        if occurred:
            at, happened = local_time(occurred), int(datetime.fromisoformat(occurred).timestamp() * 1000)
        entries.append(
            Entry(item["hlc"], at, name_of(item["author"]), text, happened_ms=happened, kind=item["kind"])
        )
    entries.extend(_conflict(c, case, name_of) for c in case.get("conflicts", []))
    for refused in case.get("refused", []):
        reason = t("case.tl.refused", kind=vocab("case.op", refused["kind"]), reason=refused_text(refused))
        at = local_time(model.stamp_iso(refused["hlc"]))
        entries.append(Entry(refused["hlc"], at, name_of(refused["author"]), reason, "refused"))
    entries.sort(key=Entry.order)  # stable: a conflict follows the write that made it
    return entries


def _describe(
    item: HistoryEntry,
    status: str,
    visits: Mapping[str, Visit],
    notes: Mapping[str, Note],
    name_of: NameOf,
) -> tuple[str, str]:
    """What one history item did, in words, and the status after it."""
    kind, what = item["kind"], item.get("what", {})
    if kind == "case.create":
        return t("case.tl.create"), status
    if kind == "case.set":
        return t("case.tl.set", fields=", ".join(field_label(f) for f in what.get("fields", []))), status
    if kind == "case.status":
        new = str(what.get("status"))
        text = _status_text(status, new, what)
        if what.get("reason"):
            text += t("case.tl.reason", reason=what["reason"])
        return text, new
    if kind == "case.reopen":
        new = "in_progress"
        old_name, new_name = vocab("status", status), vocab("status", new)
        return t("case.tl.reopen", old=old_name, new=new_name, reason=what.get("reason", "")), new
    if kind == "case.assign":
        name = name_of(str(what.get("assignee")))
        if what.get("deadline"):
            return t("case.tl.assign_deadline", name=name, date=what["deadline"]), status
        return t("case.tl.assign", name=name), status
    if kind == "case.review":
        return t("case.tl.review", field=field_label(str(what.get("field")))), status
    if kind == "case.claim":
        return t("case.tl.claim", name=name_of(item["author"])), status
    if kind == "case.approve":
        return t("case.tl.approve"), status
    if kind == "visit.add" and item["op"] in visits:
        return _visit_text(visits[item["op"]]), status
    if kind == "note.add" and item["op"] in notes:
        return t("case.tl.note", text=notes[item["op"]]["text"]), status
    return t("case.tl.other", kind=vocab("case.op", kind)), status


def _status_text(old: str, new: str, what: Mapping[str, Any]) -> str:
    names = {"old": vocab("status", old), "new": vocab("status", new)}
    if new not in _DETAILED:
        return t("case.tl.status", **names)
    if new == "escalated":
        return t("case.tl.escalated", tier=vocab("case.tier", what.get("tier")), **names)
    if new == "referred":
        referral = what.get("referral") or {}
        return t(
            "case.tl.referred",
            department=referral.get("department", ""),
            notified=referral.get("notified", ""),
            **names,
        )
    outcome = what.get("outcome") or {}
    label = vocab("case.outcome", outcome.get("kind"))
    terms = str(outcome.get("terms") or "").strip()
    if terms:
        return t("case.tl.resolved_terms", outcome=label, terms=terms)
    return t("case.tl.resolved", outcome=label)


def _visit_text(visit: Visit) -> str:
    text = t("case.tl.visit", kind=vocab("visit", visit["kind"]), note=visit["note"])
    if visit.get("place"):
        text += t("case.tl.place", place=visit["place"])
    if visit.get("participants"):
        text += t("case.tl.participants", participants=visit["participants"])
    recorded = local_time(visit["at"])
    if local_time(model.visit_moment(visit)) != recorded:  # given a time other than its recording's
        text += t("case.tl.recorded", at=recorded)
    return text


def _conflict(conflict: Conflict, case: ShownCase, name_of: NameOf) -> Entry:
    field = conflict["field"]
    first, second = conflict["values"][0], conflict["values"][-1]
    text = t(
        "case.tl.conflict",
        field=field_label(field),
        first=value_text(field, first["value"]),
        first_by=name_of(first["author"]),
        first_at=local_time(model.stamp_iso(first["hlc"])),
        second=value_text(field, second["value"]),
        second_by=name_of(second["author"]),
        second_at=local_time(model.stamp_iso(second["hlc"])),
    )
    if conflict.get("open"):
        text += t("case.tl.conflict_open", shown=value_text(field, case.get(field)))
        tone = "open-conflict"
    else:
        text += t("case.tl.conflict_settled")
        tone = "conflict"
    later = max(first, second, key=lambda v: v["hlc"])
    return Entry(
        later["hlc"], local_time(model.stamp_iso(later["hlc"])), name_of(later["author"]), text, tone
    )
