"""The shapes of the case and village documents that the domain, the UI, the exports and the
reports share.

Types for the checker only (`typing.TypedDict`): at run time a case is the plain dict the
reducer builds (`fieldapp/domain/cases.py: CaseReducer`), stored and hashed key for key as it
is, so reading one costs what reading a dict costs (the supervisor's dashboard reads 17,000).
The merge engine's own keys and the `devices` view's documents are typed in `sync/documents.py`.

Key names are the stored ones. `NotRequired` marks a key that a document may lack; a value that
another version of the app may write differently (a payload kept as it came) says so.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from sync.documents import Conflict, OpOrder, Refused


class Party(TypedDict):
    """A party of a case, as the intake or an edit wrote it (`cases._parties` checks these keys).

    Open-ended: the dict is stored as the operation carried it, so a newer version's extra keys
    are kept as they came.
    """

    name: str
    #: Absent: none given ("" when shown).
    phone: NotRequired[str]
    #: One of `model.PARTY_ROLES`; absent: "party".
    role: NotRequired[str]


class Visit(TypedDict):
    """A visit or mediation session logged on a case (`visit.add`)."""

    #: The key of the operation that logged it.
    id: str
    #: One of `model.VISIT_KINDS`.
    kind: str
    note: str
    place: str
    participants: str
    #: The device that logged it.
    author: str
    #: When it was recorded: ISO-8601 time, UTC, to the second (`model.stamp_iso`).
    at: str
    #: When it happened, as its officer gave it (`visit.add`'s `occurred`, written as `at` is);
    #: absent: when it was recorded (`model.visit_moment`). Up to `fields.VISIT_BACKDATE_DAYS`
    #: before `at`, never after it (`CaseReducer.version` 3).
    occurred: NotRequired[str]
    hlc: int


class Note(TypedDict):
    """A note added to a case (`note.add`)."""

    id: str
    text: str
    author: str
    at: str


class FollowUp(TypedDict):
    """A follow-up visit due after a resolution (`model.FOLLOW_UP_DAYS`)."""

    #: ISO date (YYYY-MM-DD), station time.
    due: str
    done: bool
    #: The key of the reopening that cancelled it while pending (view format 6); absent: not
    #: cancelled. A cancelled follow-up is neither due nor done (`model.followup_pending`).
    cancelled: NotRequired[str]


class Referral(TypedDict):
    """Where a referred case went."""

    department: str
    notified: str


class Outcome(TypedDict):
    """How a resolved case ended."""

    #: One of `model.OUTCOMES`.
    kind: str
    #: The agreement's terms ("" unless kind is "agreement").
    terms: str


class Reopened(TypedDict):
    """The latest reopening of a case."""

    reason: str
    by: str
    at: str
    #: The outcome the reopening ended (None: the case had none, e.g. closed after a referral);
    #: every earlier one is in the history, with the resolution that recorded it.
    outcome: Outcome | None


#: A status change of a case's `_statuses` log: [hlc, new status, 1 if a reopening else 0]
#: (a list, as stored; `cases.STATUS_LOG`).
StatusChange = list[Any]


class PublicCase(TypedDict):
    """A case as shown to people and `--json` (`service.public`): the view's document without the
    merge's bookkeeping. Every `CaseDoc` is one too, so a reader of these keys takes either."""

    #: 12 base32 characters (`model.case_id_for`).
    id: str
    village: str
    #: One of `model.CATEGORIES`.
    category: str
    #: One of `model.RISKS`.
    risk: str
    #: One of `model.STATUSES`.
    status: str
    summary: str
    #: One of `model.SOURCES`.
    source: str
    #: Drawn from `model.FLAGS`.
    flags: list[str]
    #: YYYY-MM-DD or None.
    deadline: str | None
    parties: list[Party]
    #: The device the case is assigned to.
    assignee: str | None
    claimed_by: str | None
    #: One of `model.TIERS`, None: the station's own.
    tier: int | None
    escalation_approved: bool | None
    #: `cases.RED_SINCE_OPENED`.
    red_since_opened: bool
    referral: Referral | None
    outcome: Outcome | None
    followups: list[FollowUp]
    visits: list[Visit]
    notes: list[Note]
    conflicts: list[Conflict]
    #: ISO-8601 times (`model.stamp_iso`); None before the intake is folded.
    created_at: str | None
    created_by: str | None
    updated_at: str | None
    #: Absent until the case is first reopened.
    reopened: NotRequired[Reopened]
    #: Absent until an operation on the case is refused.
    refused: NotRequired[list[Refused]]


class CaseDoc(PublicCase):
    """A document of the `cases` view, as stored (`CaseReducer.initial`, then its handlers)."""

    #: False until the intake is folded (operations may arrive before it).
    exists: bool
    #: `merge.OPS`: added by `merge.fold_into` after `initial`, so always there once folded.
    _ops: NotRequired[list[OpOrder]]
    #: `merge.WRITERS`: field -> the index in `_ops` of its current value's write.
    _w: NotRequired[dict[str, int]]
    #: `cases.STATUS_LOG`: absent until the first status change.
    _statuses: NotRequired[list[StatusChange]]


class HistoryEntry(TypedDict):
    """A line of a case's timeline (`cases.history`), derived from its operations when shown."""

    op: str
    kind: str
    author: str
    at: str
    hlc: int
    #: What the entry shows of its operation (`cases._summary_of`): keys depend on the kind, and
    #: values are as the payload carried them (open-ended).
    what: dict[str, Any]


class ShownCase(PublicCase):
    """A case as `CaseService.case()` and `cases()` return it: public, with its history."""

    history: list[HistoryEntry]


class VillageDoc(TypedDict):
    """A document of the `villages` view (`fieldapp/domain/areas.py`), keyed by the village."""

    village: str
    #: The police area the supervisor placed the village in, None: in none.
    area: str | None
    conflicts: list[Conflict]
    _ops: NotRequired[list[OpOrder]]
    _w: NotRequired[dict[str, int]]
    refused: NotRequired[list[Refused]]
