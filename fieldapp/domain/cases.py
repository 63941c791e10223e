"""The case reducer: how intakes, updates, visits and resolutions fold into a case.

Every rule here runs at merge time on every device, in the same total order, so
an operation the rules refuse is refused everywhere, with the same reason. The
same reducer is tried on a copy before a local operation is recorded, so the
person typing gets the refusal at once and nothing is written.
"""

from __future__ import annotations

from typing import Any, Final, TypedDict, cast

from fieldapp.domain import model
from fieldapp.domain.documents import CaseDoc, FollowUp, HistoryEntry, Outcome, Referral, Visit
from sync.merge import MergeEnv, field_base, set_field, set_new_fields
from sync.ops import Operation

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


def _text(value: Any, name: str, limit: int, required: bool = False) -> str | None:
    if not isinstance(value, str) or len(value) > limit or (required and (not value or value.isspace())):
        return f"{name} must be text of at most {limit} characters" + (", not empty" if required else "")
    return None


def _choice(value: Any, name: str, choices: tuple[Any, ...]) -> str | None:
    if value not in choices:
        return f"{name} must be one of: {', '.join(map(str, choices))}"
    return None


def _parties(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > model.MAX_PARTIES:
        return f"parties must be a list of at most {model.MAX_PARTIES}"
    for party in value:
        if not isinstance(party, dict):
            return "each party must have a name, a phone and a role"
        reason = (
            _text(party.get("name"), "a party's name", model.MAX_SHORT, required=True)
            or _text(party.get("phone", ""), "a party's phone", 32)
            or _choice(party.get("role", "party"), "a party's role", model.PARTY_ROLES)
        )
        if reason:
            return reason
    return None


def _deadline(value: Any) -> str | None:
    if value is None:
        return None
    try:
        model.parse_deadline(value if isinstance(value, str) else "?")
    except ValueError as exc:
        return str(exc)
    return None


def _flags(value: Any) -> str | None:
    if not isinstance(value, list) or any(f not in model.FLAGS for f in value):
        return f"flags must be a list drawn from: {', '.join(model.FLAGS)}"
    return None


FIELD_CHECKS = {
    "village": lambda v: _text(v, "the village", model.MAX_SHORT, required=True),
    "category": lambda v: _choice(v, "the category", model.CATEGORIES),
    "risk": lambda v: _choice(v, "the risk", model.RISKS),
    "summary": lambda v: _text(v, "the summary", model.MAX_TEXT, required=True),
    "source": lambda v: _choice(v, "the source", model.SOURCES),
    "flags": _flags,
    "deadline": _deadline,
    "parties": _parties,
    "tier": lambda v: None if v is None else _choice(v, "the tier", model.TIERS),
}


def _tier_rank(tier: Any) -> int:
    """How high a tier is: no tier is the station's own (tier 1)."""
    return tier if isinstance(tier, int) else 1


def check_fields(fields: Any, allowed: tuple[str, ...]) -> str | None:
    """The first problem with a dict of case fields, or None."""
    if not isinstance(fields, dict) or not fields:
        return "no fields to change"
    for name, value in fields.items():
        if name not in allowed:
            return f"{name!r} cannot be changed this way"
        reason = FIELD_CHECKS[name](value)
        if reason:
            return reason
    return None


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

    def apply(self, state: CaseDoc, op: Operation, env: MergeEnv) -> str | None:
        """Check the rules, then fold; a refusal leaves `state` as it was.

        Operations past a revocation's cut-off never reach a reducer (`fold_into` and
        `Replica.record` leave them out), so the author's role is all that is asked here.
        """
        role = env.role(op.author, op.epoch, op.seq)
        if role is None:
            return "the author's device is not known"
        if op.kind != CREATE and not state["exists"]:
            return "the case does not exist (yet) on this device"
        return self._handlers[op.kind](state, op, op.payload, role)

    def finish(self, state: CaseDoc, last: Operation) -> None:
        """A case was last updated by the latest operation accepted into it."""
        state["updated_at"] = model.stamp_iso(last.hlc)

    # Each handler validates first and mutates only when everything is valid.

    def _case_create(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if state["exists"]:
            return "the case already exists"
        if op.entity != model.case_id_for(op.author, op.epoch, op.seq):
            return "the case id does not belong to the operation that creates it"
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

    def _case_set(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        # Not a dict if the payload is malformed: `check_fields` refuses it then.
        fields: dict[str, Any] = p.get("fields") or {}
        bases = p.get("base", {})
        reason = check_fields(fields, model.EDITABLE)
        if reason:
            return reason
        if role != "supervisor" and model.SUPERVISOR_FIELDS & set(fields):
            return "only a supervisor may change the deadline"
        # A higher tier is an escalation: an officer's awaits a supervisor's approval, as the
        # first one does, and a case that is not escalated is moved up by escalating it.
        raised = "tier" in fields and _tier_rank(fields["tier"]) > _tier_rank(state["tier"])
        if raised and role != "supervisor" and state["status"] != "escalated":
            return "an officer raises a case's tier by escalating it, for a supervisor to approve"
        doc = _fields(state)
        for name, value in fields.items():
            set_field(doc, name, value, op, bases.get(name) if isinstance(bases, dict) else None)
        if raised and state["status"] == "escalated":
            state["escalation_approved"] = role == "supervisor"
        if fields.get("risk") == "red":
            state[RED_SINCE_OPENED] = True
        return None

    def _case_status(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        new, current = p.get("status"), state["status"]
        if new not in model.STATUSES or new == "open":
            return f"status must be one of: {', '.join(model.STATUSES[1:])}"
        if new not in model.TRANSITIONS[current]:
            return f"the case is {current.replace('_', ' ')} and cannot become {new.replace('_', ' ')}"
        reason = _text(p.get("reason", ""), "the reason", model.MAX_TEXT)
        if reason:
            return reason
        extra: _StatusDetail = {}
        if new == "escalated":
            if p.get("tier") not in (2, 3):
                return "an escalation names tier 2 (joint team) or 3 (mediation room)"
            extra = {"tier": p["tier"], "escalation_approved": role == "supervisor"}
        elif new == "referred":
            referral = p.get("referral")
            if not isinstance(referral, dict) or _text(
                referral.get("department"), "the department", model.MAX_SHORT, required=True
            ):
                return "a referral names the department it goes to"
            if _text(referral.get("notified", ""), "the notification", model.MAX_TEXT, required=True):
                return "a referral records how the department was notified"
            extra = {"referral": {"department": referral["department"], "notified": referral["notified"]}}
        elif new == "resolved":
            if not state["visits"]:
                return "a case cannot be resolved before at least one visit or mediation is recorded"
            outcome = p.get("outcome")
            if not isinstance(outcome, dict) or outcome.get("kind") not in model.OUTCOMES:
                return f"a resolution records its outcome: {', '.join(model.OUTCOMES)}"
            if outcome["kind"] == "agreement" and _text(
                outcome.get("terms"), "the agreement's terms", model.MAX_TEXT, required=True
            ):
                return "a mediation agreement records its terms"
            extra = {
                "outcome": {"kind": outcome["kind"], "terms": outcome.get("terms", "")},
                "followups": [
                    {"due": d, "done": False} for d in model.follow_up_dates(model.stamp_date(op.hlc))
                ],
            }
        elif new == "closed" and role != "supervisor":
            if state["risk"] == "red":
                return "a red case can only be closed by a supervisor"
            if state.get(RED_SINCE_OPENED):
                return "a case that has been red since it was last opened can only be closed by a supervisor"
        set_field(_fields(state), "status", new, op, p.get("base"))
        state.setdefault(STATUS_LOG, []).append([op.hlc, new, 0])
        state.update(extra)
        return None

    def _case_reopen(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if state["status"] not in model.REOPENABLE:
            return f"only a resolved or closed case can be reopened (this one is {state['status']})"
        if _text(p.get("reason"), "the reason for reopening", model.MAX_TEXT, required=True):
            return "reopening needs a reason (what flared up again)"
        # Reopening a closed case opens a new period; a resolved one never closed continues its own.
        was_red = state["status"] != "closed" and state.get(RED_SINCE_OPENED, False)
        state[RED_SINCE_OPENED] = was_red or state["risk"] == "red"
        set_field(_fields(state), "status", "in_progress", op, p.get("base"))
        state.setdefault(STATUS_LOG, []).append([op.hlc, "in_progress", 1])
        state["reopened"] = {"reason": p["reason"], "by": op.author, "at": model.stamp_iso(op.hlc)}
        return None

    def _case_assign(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if role != "supervisor":
            return "only a supervisor may assign a case"
        if _text(p.get("assignee"), "the assignee", 64, required=True) or _deadline(p.get("deadline")):
            return "an assignment names the officer's device (and optionally a valid deadline)"
        set_field(_fields(state), "assignee", p["assignee"], op, p.get("base"))
        state["claimed_by"] = None
        if p.get("deadline"):
            set_field(_fields(state), "deadline", p["deadline"], op, p.get("deadline_base"))
        return None

    def _case_claim(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if state["assignee"] not in (None, op.author):
            return "the case is assigned to another officer"
        state["claimed_by"] = op.author
        if state["assignee"] is None:
            set_field(_fields(state), "assignee", op.author, op, None)
        return None

    def _case_approve(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if role != "supervisor":
            return "only a supervisor may approve an escalation"
        if state["status"] != "escalated" or state["escalation_approved"]:
            return "there is no escalation awaiting approval"
        # The tier the supervisor saw (absent in approvals by earlier versions): an officer's
        # raise sorted before the approval is not approved by it.
        if "tier" in p and p["tier"] != state["tier"]:
            return "the escalation's tier changed after the approval began; review it again"
        state["escalation_approved"] = True
        return None

    def _case_review(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        """Keep the value shown and settle the field's open conflicts (choosing another value is
        an ordinary write naming the shown one as its base, which settles them too)."""
        if role != "supervisor":
            return "only a supervisor may settle a conflict"
        name = p.get("field")
        open_ = [c for c in state["conflicts"] if c["field"] == name and c["open"]]
        if not open_:
            return "there is no open conflict on that field"
        if field_base(state, str(name)) != p.get("base"):
            return "the field changed after the review began; review it again"
        for conflict in open_:
            conflict["open"] = False
            conflict["resolved_by"] = op.key
        return None

    def _visit_add(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        reason = (
            _choice(p.get("kind"), "the visit kind", model.VISIT_KINDS)
            or _text(p.get("note"), "the visit note", model.MAX_TEXT, required=True)
            or _text(p.get("place", ""), "the place", model.MAX_SHORT)
            or _text(p.get("participants", ""), "the participants", model.MAX_TEXT)
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
        state["visits"].append(visit)
        if p["kind"] == "follow_up":
            for followup in state["followups"]:
                if not followup["done"]:
                    followup["done"] = True
                    break
        return None

    def _note_add(self, state: CaseDoc, op: Operation, p: dict[str, Any], role: str) -> str | None:
        if _text(p.get("text"), "the note", model.MAX_TEXT, required=True):
            return "a note needs text"
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
