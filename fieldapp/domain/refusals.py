"""Every refusal code the rules return, and the parameters each carries: the one registry.

A refusal is stored as a code with parameters (`sync.refusals`), never as a sentence; its text
is the catalogue entry ``rule.<code>`` in English and Chinese (`fieldapp.i18n.rules`). Codes are
stable: renaming one would change the state hash of every store that holds it. docs/rules.md
says what each means. `tests/test_refusal_codes.py` renders each in both languages and checks
that the reducers return only codes listed here.
"""

from __future__ import annotations

from string import Formatter

from sync.refusals import CODES as SYNC_CODES


def placeholders(template: str) -> set[str]:
    """The `{names}` in a text."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


#: The rules' own codes (fieldapp.domain: cases, areas and the field checks).
DOMAIN_CODES: dict[str, tuple[str, ...]] = {
    # any case operation
    "case_not_found": (),
    "case_exists": (),
    "case_id_mismatch": (),
    # fields (fieldapp.domain.fields); `field` names a field: `rule.field.<field>` says which
    "no_fields": (),
    "field_not_editable": ("field",),
    "text_invalid": ("field", "limit"),
    "text_required": ("field", "limit"),
    "choice_invalid": ("field",),
    "parties_invalid": ("limit",),
    "party_incomplete": (),
    "phone_invalid": ("min", "max"),
    "flags_invalid": (),
    "deadline_invalid": (),
    "deadline_supervisor_only": (),
    # entry checks of a typed deadline (fields.deadline_problem; never returned by a reducer)
    "deadline_no_month": ("date", "month"),
    "deadline_no_day": ("date", "day", "days"),
    "deadline_past": ("date", "today"),
    "deadline_too_far": ("date", "latest"),
    # entry checks of a new case's summary and parties (fields.summary_problem, parties_problem)
    "summary_too_short": ("min",),
    "parties_required": (),
    # status changes
    "status_not_allowed": ("from", "to"),
    "tier_raise_needs_escalation": (),
    "escalation_tier": (),
    "referral_department": (),
    "referral_notified": (),
    "resolve_needs_visit": (),
    "resolution_outcome": (),
    "agreement_terms": (),
    "red_close_needs_supervisor": (),
    "red_since_opened_close_needs_supervisor": (),
    "reopen_not_allowed": ("status",),
    "reopen_needs_reason": (),
    # assignment, approval, review, notes
    "assign_supervisor_only": (),
    "assign_invalid": (),
    "assigned_to_other": (),
    "approve_supervisor_only": (),
    "approve_nothing_pending": (),
    "escalation_tier_changed": (),
    "review_supervisor_only": (),
    "review_no_conflict": (),
    "review_field_changed": (),
    "note_empty": (),
    # a visit's time (fields.visit_occurred: against the operation's own stamp)
    "visit_time_invalid": (),
    "visit_time_after_recorded": (),
    "visit_time_too_early": ("days",),
    # entry checks of a typed visit time (fields.visit_time_problem; never returned by a reducer)
    "visit_time_format": ("time",),
    "visit_time_future": ("time", "now"),
    "visit_time_too_old": ("time", "days", "earliest"),
    # police areas (fieldapp.domain.areas)
    "area_supervisor_only": (),
    "area_invalid": ("limit",),
    # persons (fieldapp.domain.persons)
    "person_pair_invalid": (),
    "person_link_conflict_open": (),
    "person_plan_invalid": ("limit",),
    "person_plan_required": (),
    "person_unmark_supervisor_only": (),
    "person_plan_assign_supervisor_only": (),
    "person_plan_not_yours": (),
}

#: Every refusal code (sync's and the rules') -> the names of its parameters.
CODES: dict[str, tuple[str, ...]] = {
    **{code: tuple(sorted(placeholders(text))) for code, text in SYNC_CODES.items()},
    **DOMAIN_CODES,
}

#: The field names a refusal's `field` parameter may hold (each has `rule.field.<name>`).
FIELD_NAMES = (
    "village",
    "category",
    "risk",
    "summary",
    "source",
    "flags",
    "deadline",
    "parties",
    "tier",
    "status",
    "party_name",
    "party_phone",
    "party_role",
    "reason",
    "department",
    "notification",
    "terms",
    "reopen_reason",
    "assignee",
    "visit_kind",
    "visit_note",
    "place",
    "participants",
    "note",
)
