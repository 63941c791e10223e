"""Persons across cases: their ids, and the operations that link them and mark key persons.

A party is free text inside a case; a person is derived (`fieldapp.domain.person_index`). What is
stored are decisions about persons, as operations on two views (docs/persons.md):

- `person_links`: per pair of person ids (entity: the two ids sorted, joined by ``+``), whether
  they are one person (`person.link`) or not (`person.unlink`): a last-writer-wins register with
  a base, so a concurrent link and unlink is kept as a conflict for a supervisor.
- `persons`: per person id, the key-person mark (重点人员) and its plan (一策: what is done next,
  by which officer's device, by when), registers as case fields are.

Who may do what is decided here, at merge time, from the author's role.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

from fieldapp.domain import model
from sync.documents import Conflict, Refused
from sync.merge import OPS, WRITERS, MergeEnv, PayloadFields, field_base, set_field
from sync.ops import Operation, op_key
from sync.refusals import Refusal, refusal

LINK = "person.link"
UNLINK = "person.unlink"
KEY = "person.key"
LINKS_TABLE = "person_links"
PERSONS_TABLE = "persons"
PLAN_MAX = 500
#: The fields a `person.key` writes.
KEY_FIELDS = ("key", "plan", "officer", "due")

#: Characters written between the digits of a phone number.
_PHONE_NOISE = re.compile(r"[\s\-.()（）—－]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PERSON_ID = re.compile(r"p[a-z2-7]{10}(?:[a-z2-7]{6})?")
ID_CHARS = 10
LONG_ID_CHARS = 16


class PairDoc(TypedDict):
    """A pair of person ids in the `person_links` view."""

    pair: str
    #: None until a link or unlink counts.
    linked: bool | None
    conflicts: list[Conflict]
    _ops: NotRequired[list[list[Any]]]
    _w: NotRequired[dict[str, int]]
    refused: NotRequired[list[Refused]]


class PersonDoc(TypedDict):
    """A person id's key-person mark and plan in the `persons` view."""

    id: str
    key: bool
    plan: str | None
    officer: str | None
    due: str | None
    conflicts: list[Conflict]
    _ops: NotRequired[list[list[Any]]]
    _w: NotRequired[dict[str, int]]
    refused: NotRequired[list[Refused]]


def identity_phone(phone: Any) -> str | None:
    """The mainland mobile number a written phone is, or None (a landline, a short number,
    anything else does not identify a person): ``+86 138-0000-1111`` -> ``13800001111``."""
    if not isinstance(phone, str):
        return None
    if _MOBILE.fullmatch(phone):  # as the intake form and `--party` write it
        return phone
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", phone))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return digits if _MOBILE.fullmatch(digits) else None


def normalise_name(name: Any) -> str:
    """A name as compared: NFKC (full-width letters made plain), lower case, no spaces."""
    if not isinstance(name, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", name).lower().split())


def person_key(case_id: str, party: Mapping[str, Any]) -> str:
    """What identifies a party as a person: its mobile, else its case and its name."""
    return key_of(case_id, normalise_name(party.get("name")), identity_phone(party.get("phone")))


def key_of(case_id: str, name: str, mobile: str | None) -> str:
    """`person_key` from the party's compared name and its mobile (or None)."""
    return f"mobile:{mobile}" if mobile else f"party:{case_id}:{name}"


def person_id_for(key: str, chars: int = ID_CHARS) -> str:
    """The person id of a `person_key`: ``p`` and `chars` (at most 16) lower-case base32
    characters of its SHA-256."""
    return "p" + base64.b32encode(hashlib.sha256(key.encode()).digest()[:10]).decode().lower()[:chars]


def is_person_id(value: Any) -> bool:
    """Whether `value` has the shape of a person id."""
    return isinstance(value, str) and _PERSON_ID.fullmatch(value) is not None


def pair_entity(a: str, b: str) -> str:
    """The entity of a link between two person ids: both, sorted, joined by ``+``."""
    first, second = sorted((a, b))
    return f"{first}+{second}"


def pair_ids(entity: str) -> tuple[str, str] | None:
    """The two ids of a pair entity, or None if it is not two sorted, different person ids."""
    first, sep, second = entity.partition("+")
    if sep and is_person_id(first) and is_person_id(second) and first < second:
        return first, second
    return None


def _current(state: Mapping[str, Any], name: str) -> str | None:
    index = state.get(WRITERS, {}).get(name)
    if index is None:
        return None
    _, author, epoch, seq = state[OPS][index]
    return op_key(author, epoch, seq)


def has_open_conflict(state: Mapping[str, Any], name: str) -> bool:
    """Whether the register `name` has an open conflict."""
    return any(c["field"] == name and c["open"] for c in state.get("conflicts", ()))


class PersonLinkReducer:
    """Folds `person.link` and `person.unlink` into the `person_links` view."""

    table = LINKS_TABLE
    kinds = frozenset({LINK, UNLINK})
    #: Raise it with every change to how pairs fold (`version` in `sync.merge.Reducer`).
    version = 1
    payload_fields: PayloadFields = {LINK: {"base": None}, UNLINK: {"base": None}}

    def initial(self, op: Operation) -> PairDoc:
        """A pair nobody has linked or unlinked yet."""
        return {"pair": op.entity, "linked": None, "conflicts": []}

    def apply(self, state: PairDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """Anyone links or unlinks; an open conflict is a supervisor's to settle."""
        role = env.role(op.author, op.epoch, op.seq)
        if role is None:
            return refusal("author_unknown")
        if pair_ids(op.entity) is None:
            return refusal("person_pair_invalid")
        base = op.payload.get("base")
        if base is not None and not isinstance(base, str):
            return refusal("person_pair_invalid")
        doc = cast("dict[str, Any]", state)
        value = op.kind == LINK
        current = _current(doc, "linked")
        if (
            role != "supervisor"
            and current is not None
            and current == base
            and has_open_conflict(doc, "linked")
        ):
            return refusal("person_link_conflict_open")
        if current is not None and current != base and doc["linked"] == value:
            # Made without seeing the current write, but saying the same: agreement, no conflict.
            doc[WRITERS]["linked"] = len(doc[OPS])
            return None
        set_field(doc, "linked", value, op, base)
        return None

    def finish(self, state: PairDoc, last: Operation) -> None:
        """Nothing depends on the newest write alone."""


def _plan_problem(payload: Mapping[str, Any]) -> Refusal | None:
    key, plan, officer, due = (payload.get(name) for name in KEY_FIELDS)
    if not isinstance(key, bool):
        return refusal("person_plan_invalid", limit=PLAN_MAX)
    if plan is not None and (not isinstance(plan, str) or len(plan) > PLAN_MAX):
        return refusal("person_plan_invalid", limit=PLAN_MAX)
    if officer is not None and (
        not isinstance(officer, str) or not officer or len(officer) > model.MAX_SHORT
    ):
        return refusal("person_plan_invalid", limit=PLAN_MAX)
    if due is not None:
        try:
            model.parse_deadline(due if isinstance(due, str) else "?")
        except ValueError:
            return refusal("person_plan_invalid", limit=PLAN_MAX)
    base = payload.get("base", {})
    if not isinstance(base, dict) or not all(v is None or isinstance(v, str) for v in base.values()):
        return refusal("person_plan_invalid", limit=PLAN_MAX)
    if key and not (plan or "").strip():
        return refusal("person_plan_required")
    return None


class PersonKeyReducer:
    """Folds `person.key` (the key-person mark and its plan) into the `persons` view."""

    table = PERSONS_TABLE
    kinds = frozenset({KEY})
    #: Raise it with every change to how persons fold (`version` in `sync.merge.Reducer`).
    version = 1
    payload_fields: PayloadFields = {KEY: {**dict.fromkeys(KEY_FIELDS), "base": frozenset(KEY_FIELDS)}}

    def initial(self, op: Operation) -> PersonDoc:
        """A person id no mark or plan holds yet."""
        return {"id": op.entity, "key": False, "plan": None, "officer": None, "due": None, "conflicts": []}

    def apply(self, state: PersonDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """An officer marks and plans for themselves; handing a plan to another officer,
        unmarking, and changing a plan given to another officer are a supervisor's."""
        role = env.role(op.author, op.epoch, op.seq)
        if role is None:
            return refusal("author_unknown")
        if not is_person_id(op.entity):
            return refusal("person_pair_invalid")
        payload = op.payload
        problem = _plan_problem(payload)
        if problem is not None:
            return problem
        if role != "supervisor":
            if not payload["key"]:
                return refusal("person_unmark_supervisor_only")
            if payload.get("officer") not in (None, op.author):
                return refusal("person_plan_assign_supervisor_only")
            if state["officer"] not in (None, op.author):
                return refusal("person_plan_not_yours")
        doc = cast("dict[str, Any]", state)
        base = payload.get("base", {})
        for name in KEY_FIELDS:
            value = payload.get(name)
            if name == "plan" and isinstance(value, str):
                value = value.strip() or None
            set_field(doc, name, value, op, base.get(name))
        return None

    def finish(self, state: PersonDoc, last: Operation) -> None:
        """Nothing depends on the newest write alone."""


def link_payload(links: Mapping[str, PairDoc], a: str, b: str) -> dict[str, Any]:
    """The payload of a link or unlink of `a` and `b`, naming the write its author saw."""
    return {"base": field_base(links.get(pair_entity(a, b)), "linked")}


def key_payload(
    persons: Mapping[str, PersonDoc],
    person_id: str,
    key: bool,
    plan: str | None,
    officer: str | None,
    due: str | None,
) -> dict[str, Any]:
    """The payload of a `person.key` on `person_id`, naming the writes its author saw."""
    state = persons.get(person_id)
    return {
        "key": key,
        "plan": plan,
        "officer": officer,
        "due": due,
        "base": {name: field_base(state, name) for name in KEY_FIELDS},
    }


def link_conflicts(links: Mapping[str, PairDoc]) -> list[tuple[str, str, Conflict]]:
    """(id, id, the open conflict) of every pair whose link and unlink were concurrent."""
    found: list[tuple[str, str, Conflict]] = []
    for entity, doc in sorted(links.items()):
        ids = pair_ids(entity)
        if ids is None:
            continue
        found.extend((ids[0], ids[1], c) for c in doc.get("conflicts", ()) if c["open"])
    return found
