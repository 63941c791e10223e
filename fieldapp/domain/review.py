"""The supervisor's review queue: what the merged caseload asks a supervisor to decide or see.

Pure functions over the `cases` view and the replica's evidence tables; no Textual.

- **conflict**: an open conflict from concurrent edits (both values, who, when); settled by
  choosing a value or keeping the one shown (`CaseService.settle_conflict`).
- **link_conflict**: a link and an unlink of one pair of person ids made without seeing each
  other (`persons.link_conflicts`); settled by a supervisor's link or unlink that saw both
  (`CaseService.link_persons`), after which the fold closes it and it leaves the queue.
- **escalation**: an officer's escalation to tier 2 or 3, or an officer's raise of an escalated
  case's tier (2 -> 3), awaiting approval.
- **red_closure**: a resolved case that has been red since it was last opened (whatever its risk
  now), awaiting closure, which only a supervisor may do.
- **refused**: an operation the rules did not count (e.g. an officer closing a red case),
  with the rules' reason; kept for the record, nothing to decide. Refused operations about a
  device (an enrolment or revocation not made by the station authority) are listed too, with
  no case.
- **fork**: a device that signed two different entries at one place in its log (a copied
  store written in two places, or a stolen key); its work from there on is held out of the
  view until a supervisor chooses the entry to keep (`fieldapp.core.station.settle_fork`). Forks
  come first among the decisions: a held-out device hides all its later work.
- **fork_settled**: a fork a supervisor settled, kept for the record (whether the entry held
  here was kept, or the other one, in which case this device set its branch aside and takes
  the kept one at its next sync).
- **rejected**: an entry a sync or import refused before merging (bad signature, broken
  chain, unknown author, clock far in the future), with the reason.

Items needing a decision come first (by risk, then oldest first), evidence after (newest first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fieldapp.domain import model
from fieldapp.domain.cases import RED_SINCE_OPENED
from fieldapp.domain.documents import CaseDoc
from fieldapp.domain.persons import PairDoc, link_conflicts
from sync.documents import DeviceDoc
from sync.merge import OPS, WRITERS, writer

DECISIONS = ("fork", "conflict", "link_conflict", "escalation", "red_closure")
EVIDENCE = ("refused", "fork_settled", "rejected")
KINDS = DECISIONS + EVIDENCE
#: Evidence items listed at most (newest first); the count says how many there are.
MAX_EVIDENCE = 300
_RISK_RANK = {risk: rank for rank, risk in enumerate(model.RISKS)}


@dataclass(frozen=True)
class Item:
    """One thing in the queue."""

    kind: str
    #: The case it concerns ("" for device-level evidence).
    case_id: str
    #: When it happened, as an ISO UTC time ("" if unknown).
    at: str
    #: The device that caused it ("" if none).
    author: str
    #: Kind-specific details: field and values, tier, reason, ...
    detail: Mapping[str, Any] = field(default_factory=dict)
    risk: str = ""

    @property
    def key(self) -> str:
        """Stable identity of the item (for table rows)."""
        return f"{self.kind}|{self.case_id}|{self.detail.get('ref', '')}"


@dataclass
class Queue:
    """The queue and how many items of each kind exist (evidence lists are capped)."""

    items: list[Item]
    counts: dict[str, int]


def review_queue(
    cases: Iterable[CaseDoc],
    forks: Iterable[Mapping[str, Any]] = (),
    rejections: Iterable[Mapping[str, Any]] = (),
    devices: Iterable[DeviceDoc] = (),
    links: Mapping[str, PairDoc] | None = None,
) -> Queue:
    """The queue from the `cases` view (internal states), the forks (`fieldapp.core.station.fork_rows`),
    the replica's rejections, the `devices` view (its refused operations) and the `person_links`
    view (its open conflicts)."""
    return assemble_queue((case_items(case) for case in cases), forks, rejections, devices, links)


def case_items(case: CaseDoc) -> list[Item]:
    """The items of one case (none for a case that does not exist), in the order `assemble_queue`
    takes them: what a screen keeps per case and derives again only for the cases that changed."""
    items: list[Item] = []
    if not case.get("exists"):
        return items
    case_id, risk = str(case["id"]), str(case["risk"])
    for conflict in case.get("conflicts", []):
        if conflict.get("open"):
            first, last = conflict["values"][0], conflict["values"][-1]
            items.append(
                Item(
                    "conflict",
                    case_id,
                    model.stamp_iso(int(last["hlc"])),
                    str(last["author"]),
                    {
                        "field": conflict["field"],
                        "values": conflict["values"],
                        "ref": f"{conflict['field']}|{first['op']}|{last['op']}",
                        "shown": case.get(conflict["field"]),
                    },
                    risk,
                )
            )
    if case["status"] == "escalated" and case.get("escalation_approved") is False:
        items.append(
            Item(
                "escalation",
                case_id,
                str(case.get("updated_at") or ""),
                escalated_by(case),
                {"tier": case.get("tier")},
                risk,
            )
        )
    if case["status"] == "resolved" and (risk == "red" or case.get(RED_SINCE_OPENED)):
        items.append(
            Item(
                "red_closure",
                case_id,
                str(case.get("updated_at") or ""),
                _writer(case, "status"),
                {},
                risk,
            )
        )
    for refused in case.get("refused", []):
        items.append(
            Item(
                "refused",
                case_id,
                model.stamp_iso(int(refused["hlc"])),
                str(refused["author"]),
                {
                    "op_kind": refused["kind"],
                    "code": refused["code"],
                    "params": refused["params"],
                    "ref": refused["op"],
                },
                risk,
            )
        )
    return items


def assemble_queue(
    per_case: Iterable[list[Item]],
    forks: Iterable[Mapping[str, Any]] = (),
    rejections: Iterable[Mapping[str, Any]] = (),
    devices: Iterable[DeviceDoc] = (),
    links: Mapping[str, PairDoc] | None = None,
) -> Queue:
    """The queue from the cases' items (`case_items`, in the view's order), the forks, the
    rejections, the devices' refused operations and the open person link conflicts: sorted and
    counted."""
    decisions: list[Item] = link_conflict_items(links or {})
    evidence: list[Item] = []
    for items in per_case:
        for item in items:
            (decisions if item.kind in DECISIONS else evidence).append(item)
    for device in devices:
        for refused in device.get("refused", []):
            evidence.append(
                Item(
                    "refused",
                    "",
                    model.stamp_iso(int(refused["hlc"])),
                    str(refused["author"]),
                    {
                        "op_kind": refused["kind"],
                        "code": refused["code"],
                        "params": refused["params"],
                        "ref": refused["op"],
                        "device": device["device_id"],
                    },
                )
            )
    for fork in forks:
        item = Item(
            "fork" if fork["standing"] == "open" else "fork_settled",
            "",
            str(fork.get("seen_at") or ""),
            str(fork["device_id"]),
            {
                "fork": fork["fork"],
                "epoch": fork["epoch"],
                "seq": fork["seq"],
                "standing": fork["standing"],
                "ref": fork["fork"],
            },
        )
        (decisions if item.kind == "fork" else evidence).append(item)
    for index, rejection in enumerate(rejections):
        if rejection.get("code") == "fork":
            continue  # listed once, as the fork itself (a decision until settled)
        evidence.append(
            Item(
                "rejected",
                "",
                _seconds_iso(rejection.get("at")),
                str(rejection.get("author") or ""),
                {
                    "code": rejection.get("code"),
                    "params": rejection.get("params"),
                    "reason": rejection.get("reason"),
                    "ref": str(index),
                },
            )
        )
    decisions.sort(key=lambda i: (-1 if i.kind == "fork" else _RISK_RANK.get(i.risk, 9), i.at, i.key))
    evidence.sort(key=lambda i: (i.at, i.key), reverse=True)
    counts = dict.fromkeys(KINDS, 0)
    for item in decisions + evidence:
        counts[item.kind] += 1
    return Queue(decisions + evidence[:MAX_EVIDENCE], counts)


def _writer(case: CaseDoc, name: str) -> str:
    """The device whose write set the field's current value."""
    current = writer(case, name)
    return current[2] if current else ""


def escalated_by(case: CaseDoc) -> str:
    """The device that asked for the escalation awaiting approval: the later writer of the
    status (the escalation) and the tier (a raise of an escalated case's tier)."""
    writers = case.get(WRITERS, {})
    indices = [writers[name] for name in ("status", "tier") if writers.get(name) is not None]
    if not indices:
        return ""
    return str(case[OPS][max(indices)][1])


def _seconds_iso(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return ""
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def link_conflict_items(links: Mapping[str, PairDoc]) -> list[Item]:
    """The open link conflicts of the `person_links` view, one item per conflict: the pair's two
    ids, both writes (value true: linked), and which is shown now."""
    items = []
    for a, b, conflict in link_conflicts(links):
        first, last = conflict["values"][0], conflict["values"][-1]
        items.append(
            Item(
                "link_conflict",
                "",
                model.stamp_iso(int(last["hlc"])),
                str(last["author"]),
                {
                    "a": a,
                    "b": b,
                    "values": conflict["values"],
                    "ref": f"{a}+{b}|{first['op']}|{last['op']}",
                    "shown": links[f"{a}+{b}"].get("linked"),
                },
            )
        )
    return items
