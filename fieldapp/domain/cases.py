"""The case reducer: how intakes, updates, visits and resolutions fold into a case.

Every rule here runs at merge time on every device, in the same total order, so
an operation the rules refuse is refused everywhere, with the same reason. The
same reducer is tried on a copy before a local operation is recorded, so the
person typing gets the refusal at once and nothing is written.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypedDict, cast

from fieldapp.domain import model
from fieldapp.domain.documents import CaseDoc, FollowUp, HistoryEntry, Outcome, Referral, Visit
from fieldapp.domain.fields import FIELD_CHECKS
from fieldapp.domain.fields import choice as _choice
from fieldapp.domain.fields import deadline as _deadline
from fieldapp.domain.fields import text as _text
from fieldapp.domain.fields import visit_occurred as _visit_occurred
from sync.merge import OPS, WRITERS, MergeEnv, PayloadFields, field_base, set_field, set_new_fields
from sync.ops import Operation
from sync.refusals import Refusal, refusal

CREATE, SET, STATUS, REOPEN = "case.create", "case.set", "case.status", "case.reopen"
ASSIGN, CLAIM, APPROVE = "case.assign", "case.claim", "case.approve"
#: A supervisor's review of a conflict: the value shown stays, the conflict is settled.
REVIEW = "case.review"
VISIT, NOTE = "visit.add", "note.add"
#: Every accepted status change as [hlc, new status, 1 if a reopening else 0], in merge order:
#: what period figures need of a case's history, kept so that dashboards need not decode its
#: operations (the same facts `history` gives; `tests/test_exports_reports.py` checks both).
STATUS_LOG: Final = "_statuses"
KINDS = frozenset({CREATE, SET, STATUS, REOPEN, ASSIGN, CLAIM, APPROVE, REVIEW, VISIT, NOTE})
#: Whether the case has been red at any moment since it was last opened, in the fold's order: a
#: rule about history, so an officer cannot close a red case by reassessing its risk first. A
#: case is opened by its intake, and again by a reopening *of a closed case*; reopening a resolved
#: case continues the same period (else reopen, resolve, close would wash the red out).
RED_SINCE_OPENED: Final = "red_since_opened"


#: What a case holds that `case.set` does not write (other operations do): refused there. Any
#: other name in a `case.set` that is not in FIELD_CHECKS is a field from a newer version: it is
#: ignored (never a refusal) until an upgraded reducer folds it.
NOT_SET = frozenset(
    {
        "id",
        "exists",
        "status",
        "assignee",
        "claimed_by",
        "escalation_approved",
        RED_SINCE_OPENED,
        "referral",
        "outcome",
        "followups",
        "visits",
        "notes",
        "conflicts",
        "created_at",
        "created_by",
        "updated_at",
        "reopened",
        "refused",
        STATUS_LOG,
        OPS,
        WRITERS,
    }
)


#: Tiers an escalation may name: above the station's own workstation (tier 1).
ESCALATION_TIERS: Final = tuple(tier for tier in model.TIERS if tier > 1)


def _tier_rank(tier: Any) -> int:
    """How high a tier is: no tier is the station's own (tier 1)."""
    return tier if isinstance(tier, int) else 1


def status_refusal(current: str, new: Any) -> Refusal | None:
    """Why a case may not go from status `current` to `new` (None: the workflow allows it;
    reopening is its own operation)."""
    if new not in model.STATUSES or new == "open":
        return refusal("choice_invalid", field="status")
    if new not in model.TRANSITIONS[current]:
        return refusal("status_not_allowed", **{"from": current, "to": new})
    return None


def tier_raise_refusal(state: Mapping[str, Any], tier: Any, role: str) -> Refusal | None:
    """Why `role` may not set the case's tier to `tier` with an edit (`case.set`); None if it may.

    A higher tier is an escalation: an officer moves a case that is not escalated up by escalating
    it (a status change, for a supervisor to approve); once it is escalated, anyone may name a
    higher tier, an officer's again awaiting approval."""
    raised = _tier_rank(tier) > _tier_rank(state["tier"])
    if raised and role != "supervisor" and state["status"] != "escalated":
        return refusal("tier_raise_needs_escalation")
    return None


@dataclass(frozen=True)
class Step:
    """A way a case may move on from where it stands, as the rules allow."""

    #: The status it goes to.
    status: str
    #: The tiers it may name (an escalation), else ().
    tiers: tuple[int, ...] = ()
    #: Already escalated: a higher tier only, written as an edit of the tier (`case.set`, as
    #: `fieldapp case update --tier` writes it); the status stays.
    tier_raise: bool = False


def next_steps(state: Mapping[str, Any], role: str) -> list[Step]:
    """Every move the rules allow `role` from the case's status now, in workflow order: the
    status changes (`status_refusal`) and, on an escalated case, a higher tier
    (`tier_raise_refusal`). The same checks the reducer makes, so what is offered is what folds."""
    current = state["status"]
    steps = [
        Step(status, ESCALATION_TIERS if status == "escalated" else ())
        for status in model.STATUSES
        if status_refusal(current, status) is None
    ]
    if current == "escalated":
        higher = tuple(
            tier
            for tier in ESCALATION_TIERS
            if _tier_rank(tier) > _tier_rank(state["tier"]) and tier_raise_refusal(state, tier, role) is None
        )
        if higher:
            steps.append(Step("escalated", higher, tier_raise=True))
    steps.sort(key=lambda step: model.STATUSES.index(step.status))
    return steps


def check_fields(values: Any, allowed: tuple[str, ...]) -> Refusal | None:
    """The first problem with a dict of case fields, or None."""
    if not isinstance(values, dict) or not values:
        return refusal("no_fields")
    for name, value in values.items():
        if name not in allowed:
            return refusal("field_not_editable", field=str(name)[:40])
        reason = FIELD_CHECKS[name](value)
        if reason:
            return reason
    return None


#: What the case reducer reads of each kind's payload (`sync.merge.PayloadFields`): an operation
#: carrying more was made by a newer version; it is folded without the rest until the upgrade.
PAYLOAD_FIELDS: PayloadFields = {
    CREATE: dict.fromkeys(
        ("village", "category", "risk", "summary", "source", "flags", "deadline", "parties")
    ),
    SET: {"fields": NOT_SET | frozenset(FIELD_CHECKS), "base": None},  # what it writes or refuses
    STATUS: {
        "status": None,
        "reason": None,
        "base": None,
        "tier": None,
        "referral": frozenset({"department", "notified"}),
        "outcome": frozenset({"kind", "terms"}),
    },
    REOPEN: dict.fromkeys(("reason", "base")),
    ASSIGN: dict.fromkeys(("assignee", "base", "deadline", "deadline_base")),
    CLAIM: {},
    APPROVE: {"tier": None},
    REVIEW: dict.fromkeys(("field", "base")),
    VISIT: dict.fromkeys(("kind", "note", "place", "participants", "occurred")),
    NOTE: {"text": None},
}


class _StatusDetail(TypedDict, total=False):
    """What a status change sets besides the status, by new status."""

    tier: int | None
    escalation_approved: bool | None
    referral: Referral | None
    outcome: Outcome | None
    followups: list[FollowUp]


def _fields(state: CaseDoc) -> dict[str, Any]:
    """A case as the merge engine writes its fields: by name (`sync/merge.py`); the same dict."""
    return cast("dict[str, Any]", state)


class CaseReducer:
    """Folds case operations into the `cases` view."""

    table = "cases"
    kinds = KINDS
    #: Raise it with every change to how cases fold (`version` in `sync.merge.Reducer`).
    #: 2: a reopening ends the outcome and cancels the pending follow-ups (view format 6).
    #: 3: a visit may say when it happened (`visit.add`'s `occurred`; visits in that order).
    version = 3
    payload_fields = PAYLOAD_FIELDS

    def __init__(self) -> None:
        self._handlers = {
            CREATE: self._case_create,
            SET: self._case_set,
            STATUS: self._case_status,
            REOPEN: self._case_reopen,
            ASSIGN: self._case_assign,
            CLAIM: self._case_claim,
            APPROVE: self._case_approve,
            REVIEW: self._case_review,
            VISIT: self._visit_add,
            NOTE: self._note_add,
        }

    @staticmethod
    def reissued_entity(op: Operation, author: str, epoch: int, seq: int) -> str | None:
        """The id a case creation made again at (author, epoch, seq) gets (Replica.reissue_pending)."""
        return model.case_id_for(author, epoch, seq) if op.kind == CREATE else None

    def initial(self, op: Operation) -> CaseDoc:
        """A case not yet created (operations may arrive before the intake)."""
        return {
            "id": op.entity,
            "exists": False,
            "village": "",
            "category": "other",
            "risk": "yellow",
            "status": "open",
            "summary": "",
            "source": "patrol",
            "flags": [],
            "deadline": None,
            "parties": [],
            "assignee": None,
            "claimed_by": None,
            "tier": None,
            "escalation_approved": None,
            RED_SINCE_OPENED: False,
            "referral": None,
            "outcome": None,
            "followups": [],
            "visits": [],
            "notes": [],
            "conflicts": [],
            "created_at": None,
            "created_by": None,
            "updated_at": None,
        }

    def apply(self, state: CaseDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """Check the rules, then fold; a refusal leaves `state` as it was.

        Operations past a revocation's cut-off never reach a reducer (`fold_into` and
        `Replica.record` leave them out), so the author's role is all that is asked here.
        """
        role = env.role(op.author, op.epoch, op.seq)
        if role is None:
            return refusal("author_unknown")
        if op.kind != CREATE and not state["exists"]:
            return refusal("case_not_found")
        return self._handlers[op.kind](state, op, op.payload, role)

    def finish(self, state: CaseDoc, last: Operation) -> None:
        """A case was last updated by the latest operation accepted into it."""
        state["updated_at"] = model.stamp_iso(last.hlc)

    # Each handler validates first and mutates only when everything is valid.

    def _case_create(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if state["exists"]:
            return refusal("case_exists")
        if op.entity != model.case_id_for(op.author, op.epoch, op.seq):
            return refusal("case_id_mismatch")
        fields = {
            k: p.get(k)
            for k in ("village", "category", "risk", "summary", "source", "flags", "deadline", "parties")
        }
        fields["source"] = fields["source"] or "patrol"
        fields["flags"] = fields["flags"] or []
        fields["parties"] = fields["parties"] or []
        reason = check_fields(fields, tuple(fields))
        if reason:
            return reason
        set_new_fields(_fields(state), fields, op)
        state.update({"exists": True, "created_at": model.stamp_iso(op.hlc), "created_by": op.author})
        state[RED_SINCE_OPENED] = fields["risk"] == "red"
        return None

    def _case_set(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        given: Any = p.get("fields")
        bases = p.get("base", {})
        if isinstance(given, dict) and given:
            given = {name: value for name, value in given.items() if name in FIELD_CHECKS or name in NOT_SET}
            if not given:
                return None  # only fields from a newer version: folded once this device is upgraded
        reason = check_fields(given, model.EDITABLE)
        if reason:
            return reason
        fields: dict[str, Any] = given  # a map: `check_fields` refused anything else
        if role != "supervisor" and model.SUPERVISOR_FIELDS & set(fields):
            return refusal("deadline_supervisor_only")
        # A higher tier is an escalation: an officer's awaits a supervisor's approval, as the
        # first one does, and a case that is not escalated is moved up by escalating it.
        raised = "tier" in fields and _tier_rank(fields["tier"]) > _tier_rank(state["tier"])
        found = tier_raise_refusal(state, fields["tier"], role) if raised else None
        if found:
            return found
        doc = _fields(state)
        for name, value in fields.items():
            set_field(doc, name, value, op, bases.get(name) if isinstance(bases, dict) else None)
        if raised and state["status"] == "escalated":
            state["escalation_approved"] = role == "supervisor"
        if fields.get("risk") == "red":
            state[RED_SINCE_OPENED] = True
        return None

    def _case_status(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        new = p.get("status")
        found = status_refusal(state["status"], new)
        if found:
            return found
        reason = _text(p.get("reason", ""), "reason", model.MAX_TEXT)
        if reason:
            return reason
        extra: _StatusDetail = {}
        if new == "escalated":
            if p.get("tier") not in ESCALATION_TIERS:
                return refusal("escalation_tier")
            extra = {"tier": p["tier"], "escalation_approved": role == "supervisor"}
        elif new == "referred":
            referral = p.get("referral")
            if not isinstance(referral, dict) or _text(
                referral.get("department"), "department", model.MAX_SHORT, required=True
            ):
                return refusal("referral_department")
            if _text(referral.get("notified", ""), "notification", model.MAX_TEXT, required=True):
                return refusal("referral_notified")
            extra = {"referral": {"department": referral["department"], "notified": referral["notified"]}}
        elif new == "resolved":
            if not state["visits"]:
                return refusal("resolve_needs_visit")
            outcome = p.get("outcome")
            if not isinstance(outcome, dict) or outcome.get("kind") not in model.OUTCOMES:
                return refusal("resolution_outcome")
            if outcome["kind"] == "agreement" and _text(
                outcome.get("terms"), "terms", model.MAX_TEXT, required=True
            ):
                return refusal("agreement_terms")
            # Follow-ups of an earlier resolution (done, or cancelled by the reopening) are kept.
            extra = {
                "outcome": {"kind": outcome["kind"], "terms": outcome.get("terms", "")},
                "followups": state["followups"]
                + [{"due": d, "done": False} for d in model.follow_up_dates(model.stamp_date(op.hlc))],
            }
        elif new == "closed" and role != "supervisor":
            if state["risk"] == "red":
                return refusal("red_close_needs_supervisor")
            if state.get(RED_SINCE_OPENED):
                return refusal("red_since_opened_close_needs_supervisor")
        set_field(_fields(state), "status", new, op, p.get("base"))
        state.setdefault(STATUS_LOG, []).append([op.hlc, new, 0])
        state.update(extra)
        return None

    def _case_reopen(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if state["status"] not in model.REOPENABLE:
            return refusal("reopen_not_allowed", status=state["status"])
        if _text(p.get("reason"), "reopen_reason", model.MAX_TEXT, required=True):
            return refusal("reopen_needs_reason")
        # Reopening a closed case opens a new period; a resolved one never closed continues its own.
        was_red = state["status"] != "closed" and state.get(RED_SINCE_OPENED, False)
        state[RED_SINCE_OPENED] = was_red or state["risk"] == "red"
        set_field(_fields(state), "status", "in_progress", op, p.get("base"))
        state.setdefault(STATUS_LOG, []).append([op.hlc, "in_progress", 1])
        # The reopening ends the outcome (kept here and in the history: the resolution's entry)
        # and cancels the follow-ups still pending, marked with the reopening's operation.
        for followup in state["followups"]:
            if model.followup_pending(followup):
                followup["cancelled"] = op.key
        state["reopened"] = {
            "reason": p["reason"],
            "by": op.author,
            "at": model.stamp_iso(op.hlc),
            "outcome": state["outcome"],
        }
        state["outcome"] = None
        return None

    def _case_assign(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if role != "supervisor":
            return refusal("assign_supervisor_only")
        if _text(p.get("assignee"), "assignee", 64, required=True) or _deadline(p.get("deadline")):
            return refusal("assign_invalid")
        set_field(_fields(state), "assignee", p["assignee"], op, p.get("base"))
        state["claimed_by"] = None
        if p.get("deadline"):
            set_field(_fields(state), "deadline", p["deadline"], op, p.get("deadline_base"))
        return None

    def _case_claim(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if state["assignee"] not in (None, op.author):
            return refusal("assigned_to_other")
        state["claimed_by"] = op.author
        if state["assignee"] is None:
            set_field(_fields(state), "assignee", op.author, op, None)
        return None

    def _case_approve(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if role != "supervisor":
            return refusal("approve_supervisor_only")
        if state["status"] != "escalated" or state["escalation_approved"]:
            return refusal("approve_nothing_pending")
        # The tier the supervisor saw (absent in approvals by earlier versions): an officer's
        # raise sorted before the approval is not approved by it.
        if "tier" in p and p["tier"] != state["tier"]:
            return refusal("escalation_tier_changed")
        state["escalation_approved"] = True
        return None

    def _case_review(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        """Keep the value shown and settle the field's open conflicts (choosing another value is
        an ordinary write naming the shown one as its base, which settles them too)."""
        if role != "supervisor":
            return refusal("review_supervisor_only")
        name = p.get("field")
        open_ = [c for c in state["conflicts"] if c["field"] == name and c["open"]]
        if not open_:
            return refusal("review_no_conflict")
        if field_base(state, str(name)) != p.get("base"):
            return refusal("review_field_changed")
        for conflict in open_:
            conflict["open"] = False
            conflict["resolved_by"] = op.key
        return None

    def _visit_add(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        reason = (
            _choice(p.get("kind"), "visit_kind", model.VISIT_KINDS)
            or _text(p.get("note"), "visit_note", model.MAX_TEXT, required=True)
            or _text(p.get("place", ""), "place", model.MAX_SHORT)
            or _text(p.get("participants", ""), "participants", model.MAX_TEXT)
            # Against the operation's own stamp: every device decides alike, whatever its clock.
            or _visit_occurred(p.get("occurred"), op.hlc)
        )
        if reason:
            return reason
        visit: Visit = {
            "id": op.key,
            "kind": p["kind"],
            "note": p["note"],
            "place": p.get("place", ""),
            "participants": p.get("participants", ""),
            "author": op.author,
            "at": model.stamp_iso(op.hlc),
            "hlc": op.hlc,
        }
        if p.get("occurred") is not None:
            visit["occurred"] = model.stamp_iso((p["occurred"] * 1000) << 16)
        # In the order they happened. A visit without `occurred` sorts by when it was recorded,
        # after every visit folded before it: appended, as before (the same bytes as before).
        insort(state["visits"], visit, key=model.visit_order)
        if p["kind"] == "follow_up":
            for followup in state["followups"]:
                if model.followup_pending(followup):
                    followup["done"] = True
                    break
        return None

    def _note_add(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        if _text(p.get("text"), "note", model.MAX_TEXT, required=True):
            return refusal("note_empty")
        state["notes"].append(
            {"id": op.key, "text": p["text"], "author": op.author, "at": model.stamp_iso(op.hlc)}
        )
        return None


def history(state: CaseDoc, ops: list[Operation]) -> list[HistoryEntry]:
    """The timeline of a case: each accepted operation, with its author and time.

    Derived when a case is shown rather than stored in it, so that a merge does not
    rewrite an ever-growing document; `ops` are the case's operations (its `_ops`).
    """
    refused = {r["op"] for r in state.get("refused", [])}
    return [
        {
            "op": op.key,
            "kind": op.kind,
            "author": op.author,
            "at": model.stamp_iso(op.hlc),
            "hlc": op.hlc,
            "what": _summary_of(op),
        }
        for op in ops
        if op.key not in refused
    ]


#: The payload field a status change carries to its history entry, by new status.
_STATUS_DETAIL = {"escalated": "tier", "referred": "referral", "resolved": "outcome"}


def _summary_of(op: Operation) -> dict[str, Any]:
    """What a history entry shows of its operation."""
    p = op.payload
    if op.kind == SET:
        return {"fields": sorted(p.get("fields", {}))}
    if op.kind == STATUS:
        what: dict[str, Any] = {"status": p.get("status"), "reason": p.get("reason", "")}
        # The detail the status needed, so a timeline can say where it went and how it ended.
        detail = _STATUS_DETAIL.get(str(p.get("status")))
        if detail is not None and detail in p:
            what[detail] = p[detail]
        return what
    if op.kind in (REOPEN,):
        return {"reason": p.get("reason", "")}
    if op.kind == ASSIGN:
        what = {"assignee": p.get("assignee")}
        if p.get("deadline"):
            what["deadline"] = p["deadline"]
        return what
    if op.kind == REVIEW:
        return {"field": p.get("field")}
    return {}
