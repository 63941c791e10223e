"""The shift summary: what each device's syncs with this computer brought since a time.

Read from this device's sync ledger (`sync.ledger`: one entry per session, file import and
refused connection) and the cases view; no operation is decoded. `shift_report` is what
`fieldapp shift-report` prints and what the app's shift board can call; the rendering is
`fieldapp/outputs/shift_text.py`. docs/sync.md, "The sync ledger" and "The shift report",
says what each figure means.

The rows count by **author**: a device's row is the work it recorded that merged here in
the window, whichever device or file carried it (gossip brings one officer's work through
another). What each device's own sessions carried, of all authors, is its `carried`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fieldapp.core.service import CaseService
from fieldapp.domain import cases as case_ops
from fieldapp.domain.documents import CaseDoc
from fieldapp.domain.model import is_overdue
from fieldapp.outputs.dashboard import officer_of
from sync import ledger
from sync.merge import OPS, WRITERS
from sync.session import behind, last_synced_with

#: What a device brought, in the order shown.
BROUGHT = ("intakes", "visits", "updates", "resolutions", "other")
_KIND_GROUP = {case_ops.CREATE: "intakes", case_ops.VISIT: "visits"}
_UPDATES = frozenset(case_ops.KINDS) - {case_ops.CREATE, case_ops.VISIT}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hm])\s*$", re.IGNORECASE)


class ShiftError(ValueError):
    """A shift report that cannot be made as asked; the message says what to do (its `key`)."""

    code = "shift_error"

    def __init__(self, key: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.key, self.params = key, params


def parse_since(text: str | None, now: datetime) -> datetime:
    """The start of the window: `YYYY-MM-DD HH:MM`, `HH:MM` (today), `12h` or `30m` back from
    `now`; None: the start of today. Local time (`now`'s zone)."""
    if text is None:
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    value = text.strip()
    found = _DURATION.match(value)
    since: datetime | None = None
    if found:
        amount = float(found.group(1))
        since = now - (
            timedelta(hours=amount) if found.group(2).lower() == "h" else timedelta(minutes=amount)
        )
    else:
        for fmt in ("%Y-%m-%d %H:%M", "%H:%M"):
            try:
                parsed = datetime.strptime(value, fmt)
            except ValueError:
                continue
            if fmt == "%H:%M":
                parsed = datetime.combine(now.date(), parsed.time())
            since = parsed.replace(tzinfo=now.tzinfo)
            break
    if since is None:
        raise ShiftError(
            "shift.error.since",
            f"--since {text!r} is not a time: write YYYY-MM-DD HH:MM, HH:MM (today) or a "
            "duration such as 12h or 30m.",
            value=text,
        )
    if since > now:
        raise ShiftError(
            "shift.error.since_future",
            f"--since {text!r} is in the future; give a time before now.",
            value=text,
        )
    return since


@dataclass(frozen=True)
class _Carried:
    """Which ledger entry (of the window) carried each operation: chain -> sorted spans."""

    spans: dict[str, list[tuple[int, int, int]]]

    @classmethod
    def of(cls, entries: list[dict[str, Any]]) -> _Carried:
        spans: dict[str, list[tuple[int, int, int]]] = {}
        for index, doc in enumerate(entries):
            for chain, ranges in (doc.get("ranges") or {}).items():
                spans.setdefault(chain, []).extend((int(lo), int(hi), index) for lo, hi in ranges)
        return cls({chain: sorted(found) for chain, found in spans.items()})

    def entry(self, author: str, epoch: int, seq: int) -> int | None:
        """The index of the entry that carried (author, epoch, seq), or None."""
        found = self.spans.get(f"{author}.{epoch:016x}")
        if not found:
            return None
        at = bisect_right(found, (seq, 1 << 62, 0)) - 1
        if at >= 0 and found[at][0] <= seq <= found[at][1]:
            return found[at][2]
        return None

    def entry_of_key(self, key: str) -> int | None:
        """The same, for an op key ("author.epoch.seq")."""
        author, epoch, seq = key.rsplit(".", 2)
        return self.entry(author, int(epoch, 16), int(seq))


def _iso(stamp: float | None, tz: Any) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, tz).isoformat(timespec="seconds")


def _who(doc: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(officer, role) of a device: its announcement's, else its enrolment's (never synced)."""
    known = doc or {}
    named = known if "public_key" in known else (known.get("enrolled") or {})
    return named.get("officer"), named.get("role")


def _failed(doc: Mapping[str, Any]) -> bool:
    return doc.get("kind") == "refused" or doc.get("error_code") is not None or doc.get("error") is not None


def _refusal(doc: Mapping[str, Any]) -> bool:
    return doc.get("kind") == "refused" or doc.get("error_code") in ledger.REFUSAL_CODES


def build_shift(
    everything: list[dict[str, Any]],
    devices: Mapping[str, Mapping[str, Any]],
    cases: Mapping[str, CaseDoc],
    own: str,
    since: datetime,
    now: datetime,
    last_synced: Mapping[str, float] | None = None,
    behind: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The shift report as plain data (what `--json` prints).

    `everything`: the whole ledger, oldest first; `devices`: the devices view; `cases`: the
    cases view; `own`: this device's id; `last_synced`: device id -> its last successful
    session before the ledger existed (`sync.session.last_synced_with`); `behind`: device id ->
    operations held here that it lacked at its last completed session (`sync.session.behind`).
    """
    tz, start = now.tzinfo, since.timestamp()
    window = [doc for doc in everything if float(doc["end"]) >= start]
    carried = _Carried.of(window)
    last = {str(k): float(v) for k, v in (last_synced or {}).items()}
    for doc in everything:
        if doc.get("peer") and doc["kind"] == "session" and not _failed(doc):
            last[doc["peer"]] = max(last.get(doc["peer"], 0.0), float(doc["end"]))
    ids = {k for k, d in devices.items() if "public_key" in d or "enrolled" in d} | {
        str(d["peer"]) for d in everything if d.get("peer")
    }
    ids.discard(own)
    rows: dict[str, dict[str, Any]] = {}
    for device in sorted(ids):
        known = devices.get(device) or {}
        officer, role = _who(known)
        rows[device] = {
            "device": device,
            "officer": officer,
            "role": role,
            "revoked": bool(known.get("revoked")),
            "last_sync": _iso(last.get(device), tz),
            "synced": False,
            "sessions": 0,
            "carried": 0,
            "brought": dict.fromkeys(BROUGHT, 0),
            "conflicts": 0,
            "new_red": 0,
            "refusals": 0,
            "refused_ops": 0,
            "errors": 0,
            "overdue": 0,
            "behind": (behind or {}).get(device),
        }
    for doc in window:
        row = rows.get(str(doc.get("peer")))
        for author, kinds in (doc.get("applied") or {}).items():
            for kind, n in kinds.items():
                group = _KIND_GROUP.get(kind) or ("updates" if kind in _UPDATES else "other")
                if author in rows:
                    rows[author]["brought"][group] += n
                if row is not None:
                    row["carried"] += n
        if row is None:
            continue
        row["refused_ops"] += int(doc.get("refused") or 0)
        if _refusal(doc):
            row["refusals"] += 1
        elif _failed(doc):
            row["errors"] += 1
        if doc["kind"] == "session" and not _refusal(doc):
            row["sessions"] += 1
            row["synced"] = row["synced"] or not _failed(doc)

    names = {k: _who(d)[0] for k, d in devices.items()}
    red: list[dict[str, Any]] = []
    conflicts: list[dict[str, Any]] = []
    overdue: dict[str, list[str]] = {}
    today = now.date()
    for case_id, case in sorted(cases.items()):
        if not case["exists"]:
            continue
        order = case[OPS]
        for hlc, status, _reopen in case.get(case_ops.STATUS_LOG, ()):
            if status != "resolved":
                continue
            for o_hlc, author, epoch, seq in order:
                if o_hlc == hlc:
                    if carried.entry(author, epoch, seq) is not None and author in rows:
                        rows[author]["brought"]["resolutions"] += 1
                        rows[author]["brought"]["updates"] -= 1
                    break
        if case["risk"] == "red":
            index = case.get(WRITERS, {}).get("risk")
            if index is not None:
                _hlc, author, epoch, seq = order[index]
                at = carried.entry(author, epoch, seq)
                if at is not None:
                    red.append(_case_row(case_id, case, author, names.get(author), window[at]))
                    if author in rows:
                        rows[author]["new_red"] += 1
        for conflict in case["conflicts"]:
            found = [carried.entry_of_key(v["op"]) for v in conflict["values"]]
            hits = [i for i in found if i is not None]
            if conflict["open"] and hits:
                carrier = window[max(hits, key=lambda i: float(window[i]["end"]))]
                conflicts.append(
                    {
                        "case": case_id,
                        "field": conflict["field"],
                        "authors": sorted({v["author"] for v in conflict["values"]}),
                        "officers": [
                            names.get(a) or a for a in sorted({v["author"] for v in conflict["values"]})
                        ],
                        "carried_by": carrier.get("peer"),
                        "at": _iso(float(carrier["end"]), tz),
                    }
                )
                if carrier.get("peer") in rows:
                    rows[carrier["peer"]]["conflicts"] += 1
        if is_overdue(case, today):
            officer = officer_of(case)
            overdue.setdefault(officer, []).append(case_id)
            if officer in rows:
                rows[officer]["overdue"] += 1

    expected = [r for r in rows.values() if not r["revoked"]]
    merged = [r for r in expected if r["synced"]]
    # Longest without a sync first (never synced before all).
    missing = sorted(
        (
            {"device": r["device"], "officer": r["officer"], "last_sync": r["last_sync"]}
            for r in expected
            if not r["synced"]
        ),
        key=lambda m: (last.get(m["device"], 0.0), m["officer"] or "", m["device"]),
    )
    return {
        "since": _iso(start, tz),
        "until": _iso(now.timestamp(), tz),
        "device": own,
        "merged": len(merged),
        "expected": len(expected),
        "missing": missing,
        "devices": sorted(rows.values(), key=lambda r: (r["officer"] or "", r["device"])),
        "refused": [_event(doc, names, tz) for doc in window if _refusal(doc)],
        "errors": [_event(doc, names, tz) for doc in window if _failed(doc) and not _refusal(doc)],
        "imports": sum(1 for doc in window if doc["kind"] == "import"),
        "new_red": red,
        "new_conflicts": conflicts,
        "overdue": [
            {"device": k, "officer": names.get(k), "count": len(v), "cases": v}
            for k, v in sorted(overdue.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
    }


def _case_row(
    case_id: str, case: CaseDoc, author: str, officer: str | None, doc: Mapping[str, Any]
) -> dict[str, Any]:
    """A new red case: made red by `author` (the write of its risk), carried by `doc`'s session."""
    return {
        "case": case_id,
        "village": case["village"],
        "status": case["status"],
        "by": author,
        "officer": officer,
        "carried_by": doc.get("peer"),
    }


def _event(doc: Mapping[str, Any], names: Mapping[str, str | None], tz: Any) -> dict[str, Any]:
    """A refused connection or a failed session, as the report lists it."""
    return {
        "at": _iso(float(doc["end"]), tz),
        "device": doc.get("peer"),
        "officer": doc.get("officer") or names.get(str(doc.get("peer"))),
        "address": doc.get("address"),
        "side": doc.get("side"),
        "code": doc.get("error_code"),
        "error": doc.get("error"),
        "params": doc.get("error_params") or {},
        "applied": sum(sum(k.values()) for k in (doc.get("applied") or {}).values()),
    }


@dataclass(frozen=True)
class ShiftSources:
    """What the shift report reads from a store, taken at one moment (`shift_sources`)."""

    everything: list[dict[str, Any]]
    devices: Mapping[str, Mapping[str, Any]]
    cases: Mapping[str, CaseDoc]
    own: str
    last_synced: Mapping[str, float]
    behind: Mapping[str, int]

    def report(self, since: datetime, now: datetime) -> dict[str, Any]:
        """The shift report (`build_shift`) from these sources: safe in a thread."""
        return build_shift(
            self.everything, self.devices, self.cases, self.own, since, now, self.last_synced, self.behind
        )


def shift_sources(service: CaseService) -> ShiftSources:
    """What `shift_report` reads, copied on the caller's thread: the ledger's entries (copies),
    the views' maps (shallow copies: a fold replaces a case's or a device's document whole, never
    changes it in place) and the sync state. A merge folding afterwards changes none of them."""
    return ShiftSources(
        ledger.entries(service.db),
        dict(service.devices_view()),
        dict(service.cases_view()),
        service.identity.device_id,
        last_synced_with(service.replica),
        behind(service.replica),
    )


def shift_report(service: CaseService, since: datetime, now: datetime | None = None) -> dict[str, Any]:
    """The shift report of this device's store (`build_shift`)."""
    return shift_sources(service).report(since, now or datetime.now().astimezone())


def days_ago(stamp: str | None, now: datetime) -> tuple[str, int] | None:
    """How long ago an ISO time was, as ("minutes"|"hours"|"days", n); None for never."""
    if stamp is None:
        return None
    seconds = max(0.0, (now - datetime.fromisoformat(stamp)).total_seconds())
    if seconds < 3600:
        return "minutes", int(seconds // 60)
    if seconds < 86400:
        return "hours", int(seconds // 3600)
    return "days", int(seconds // 86400)
