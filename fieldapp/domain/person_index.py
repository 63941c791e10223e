"""The person index: every party of every case, grouped into persons (docs/persons.md).

Derived, never stored: a pure function of the `cases`, `person_links` and `persons` views, so
every device holding the same operations builds the same index. Built once per unlocked store
(`fieldapp.core.person_cache`), then kept current from what changed (`PersonIndex.updated`: a new
index equal to a fresh build, from the documents changed since), and asked many times: the early
warning at intake (`related_cases`) is a few dictionary reads.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from fieldapp.domain.documents import CaseDoc
from fieldapp.domain.persons import (
    KEY_FIELDS,
    LONG_ID_CHARS,
    PairDoc,
    PersonDoc,
    identity_phone,
    key_of,
    normalise_name,
    pair_ids,
    person_id_for,
    person_key,
)
from fieldapp.domain.search import pinyin_forms
from sync.merge import OPS, WRITERS

#: A case counts as recent for the early warning if created this many days ago or less.
RECENT_DAYS = 365
CLOSED = frozenset({"resolved", "closed"})


def local_date(iso: str, tz: tzinfo | None = None) -> date | None:
    """The local calendar date of an ISO time (the machine's time zone, or `tz`); None if it is
    empty or not a time."""
    try:
        return datetime.fromisoformat(iso).astimezone(tz).date()
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class CaseBrief:
    """What the early warning and a person's file show of a case."""

    id: str
    village: str
    category: str
    risk: str
    status: str
    #: The device responsible: the assignee's, else the one that recorded the case.
    officer: str | None
    #: When it was recorded (ISO UTC).
    created_at: str

    @property
    def is_open(self) -> bool:
        """Not resolved or closed."""
        return self.status not in CLOSED

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "village": self.village,
            "category": self.category,
            "risk": self.risk,
            "status": self.status,
            "officer": self.officer,
            "when": self.created_at,
        }


@dataclass(frozen=True)
class Person:
    """One person: the parties of all cases that are them, and their key-person mark and plan."""

    id: str
    #: The other ids that resolve to this one (linked to it), sorted.
    aliases: tuple[str, ...]
    #: Names as written in the cases, most used first.
    names: tuple[str, ...]
    #: Mobile numbers (identity form), sorted.
    phones: tuple[str, ...]
    #: The villages of their cases, sorted.
    villages: tuple[str, ...]
    #: Their cases, newest first.
    cases: tuple[CaseBrief, ...]
    key: bool = False
    plan: str | None = None
    officer: str | None = None
    due: str | None = None
    #: Open conflicts on the mark or plan (concurrent writes), as the `persons` view keeps them.
    conflicts: tuple[Mapping[str, Any], ...] = field(default=())
    #: The device that wrote the plan as shown (the latest write of `officer` among the ids).
    plan_by: str | None = None

    @property
    def open_cases(self) -> int:
        """How many of their cases are not resolved or closed."""
        return sum(1 for c in self.cases if c.is_open)

    def responsible(self) -> str | None:
        """The device responsible for the person, one rule for every screen and output: the plan's
        officer; a key person's plan naming none is its writer's (as home lists it); else the
        officer of their newest open case (its assignee, else who recorded it); None if none."""
        if self.officer:
            return self.officer
        if self.key and self.plan_by:
            return self.plan_by
        return next((c.officer for c in self.cases if c.is_open and c.officer), None)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "names": list(self.names),
            "phones": list(self.phones),
            "villages": list(self.villages),
            "key": self.key,
            "plan": self.plan,
            "officer": self.officer,
            "due": self.due,
            "plan_by": self.plan_by,
            "responsible": self.responsible(),
            "open_cases": self.open_cases,
            "cases": [c.as_dict() for c in self.cases],
            "conflicts": [dict(c) for c in self.conflicts],
        }


@dataclass
class _Ref:
    """A party of a case, by the key that identifies it."""

    case_id: str
    name: str
    village: str
    mobile: str | None
    #: The name as compared (`persons.normalise_name`).
    key: str


class _Union:
    """Disjoint sets of ids, joined by links in force."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        parent = self.parent
        root = parent.setdefault(item, item)
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:  # path compression
            parent[item], item = root, parent[item]
        return root

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _latest(docs: list[PersonDoc], name: str) -> PersonDoc | None:
    """Of the member ids' entries, the one whose write of `name` is latest in total order."""
    best, best_order = None, None
    for doc in docs:
        index = doc.get(WRITERS, {}).get(name)
        if index is None:
            continue
        order = doc[OPS][index]
        if best_order is None or order > best_order:
            best, best_order = doc, order
    return best


def _parties(case_id: str, case: Mapping[str, Any]) -> list[tuple[str, _Ref]]:
    """(key, party) of each named party of an existing case."""
    if not case.get("exists"):
        return []
    found = []
    village = str(case.get("village") or "")
    for party in case.get("parties") or ():
        if not isinstance(party, dict):
            continue
        name = normalise_name(party.get("name"))
        if name:
            mobile = identity_phone(party.get("phone"))
            ref = _Ref(case_id, str(party["name"]).strip(), village, mobile, name)
            found.append((key_of(case_id, name, mobile), ref))
    return found


def _ids_of(keys: list[str]) -> dict[str, str]:
    """Key -> id, for the keys sharing one short id: short, unless two share it (then long)."""
    if len(keys) == 1:
        return {keys[0]: person_id_for(keys[0])}
    return {key: person_id_for(key, LONG_ID_CHARS) for key in keys}


def _linked(
    links: Mapping[str, PairDoc],
) -> tuple[dict[str, str], set[tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """(id in a link in force -> its component's root, the unlinked pairs, id -> its pairs with
    an open link conflict)."""
    union = _Union()
    unlinked: set[tuple[str, str]] = set()
    disputed: dict[str, list[tuple[str, str]]] = {}
    for entity, pair in links.items():
        ids = pair_ids(entity)
        if ids is None or pair.get("linked") is None:
            continue
        if any(c["open"] for c in pair.get("conflicts", ())):
            for person_id in ids:
                disputed.setdefault(person_id, []).append(ids)
        if pair["linked"]:
            union.join(*ids)
        else:
            unlinked.add(ids)
    return {item: union.find(item) for item in list(union.parent)}, unlinked, disputed


def _first_seen(cases: Mapping[str, CaseDoc], refs: list[_Ref]) -> tuple[tuple[Any, ...], str]:
    # The total order of a case's first operation (its creation) says which was recorded first.
    return min((tuple((cases[r.case_id].get(OPS) or [[]])[0]), r.case_id) for r in refs)


class PersonIndex:
    """Persons of a device's views; build once, then ask (and keep current: `updated`)."""

    def __init__(
        self,
        cases: Mapping[str, CaseDoc],
        links: Mapping[str, PairDoc] | None = None,
        persons: Mapping[str, PersonDoc] | None = None,
    ) -> None:
        links, persons = links or {}, persons or {}
        refs: dict[str, list[_Ref]] = {}
        #: Case id -> the keys of its parties (what an update of the case takes away).
        self._case_keys: dict[str, tuple[str, ...]] = {}
        self._docs = cases
        self._cases: dict[str, CaseBrief] = {}  # built when asked (`_brief`)
        for case_id, case in cases.items():
            found = _parties(case_id, case)
            for key, ref in found:
                refs.setdefault(key, []).append(ref)
            if found:
                self._case_keys[case_id] = tuple(dict.fromkeys(key for key, _ in found))
        self._key_refs = refs
        # Ids: short, unless two keys share one (then both take the long form).
        by_id: dict[str, list[str]] = {}
        for key in refs:
            by_id.setdefault(person_id_for(key), []).append(key)
        self._by_short = by_id
        id_refs: dict[str, list[_Ref]] = {}
        for keys in by_id.values():
            for key, person_id in _ids_of(keys).items():
                id_refs[person_id] = refs[key]
        # Links in force join ids; an unlinked pair keeps them from being proposed.
        self._links = links
        #: Id in a link in force -> its component's root; the unlinked pairs; id -> the pairs it
        #: is in whose link and unlink were concurrent (open conflicts).
        self._root, self._unlinked, self._disputed = _linked(links)
        members: dict[str, list[str]] = {}
        for person_id in id_refs:
            members.setdefault(self._root.get(person_id, person_id), []).append(person_id)

        self._persons: dict[str, Person] = {}  # built when asked (`_person`)
        self._id_refs = id_refs
        self._marks = persons
        self._resolve: dict[str, str] = {}
        self._members: dict[str, tuple[str, ...]] = {}
        self._by_mobile: dict[str, str] = {}
        #: (village, pinyin of the name) -> person id -> whether a party there has no mobile.
        self._by_name: dict[tuple[str, str], dict[str, bool]] = {}
        for group in members.values():
            self._add_group(group, lambda spot_key: self._by_name.setdefault(spot_key, {}))
        self._extras: list[str] = []
        self._resolve_extras()

    def _add_group(self, group: list[str], spot_of: Callable[[tuple[str, str]], dict[str, bool]]) -> None:
        """Show these ids (with parties, joined by links in force) as one person (`spot_of`: the
        `_by_name` entry to write, made if missing)."""
        if len(group) > 1:
            group.sort(key=lambda m: (_first_seen(self._docs, self._id_refs[m]), m))
        pid = group[0]
        self._members[pid] = tuple(group)
        for member in group:
            self._resolve[member] = pid
            for ref in self._id_refs[member]:
                if ref.mobile:
                    self._by_mobile[ref.mobile] = pid
                spot = spot_of((ref.village, pinyin_forms(ref.key)[0]))
                spot[pid] = spot.get(pid, False) or ref.mobile is None

    def _resolve_extras(self) -> None:
        """Ids linked to a person but held by no party resolve to it too."""
        shown: dict[str, str] = {}
        for person_id, root in self._root.items():
            if person_id in self._id_refs:
                shown.setdefault(root, self._resolve[person_id])
        self._extras = [i for i, root in self._root.items() if i not in self._id_refs and root in shown]
        for person_id in self._extras:
            self._resolve[person_id] = shown[self._root[person_id]]

    def updated(
        self,
        cases: Mapping[str, CaseDoc | None],
        links: Mapping[str, PairDoc | None] | None = None,
        persons: Mapping[str, PersonDoc | None] | None = None,
    ) -> PersonIndex:
        """A new index: this one with these documents changed (None: gone), equal to a fresh
        build from the views as they now stand. This index is left as it was (a reader of it on
        another thread sees no change).

        Only the persons the changed documents touch are computed again: the ids of the changed
        cases' parties (before and after), the ids of the changed pairs, and every id grouped
        with them before or after (links are few: the links' components are found again from all
        of them when one changed). A few dictionary copies are the rest of the cost.
        """
        new = copy.copy(self)
        for name in (
            "_docs", "_cases", "_persons", "_key_refs", "_case_keys", "_by_short", "_id_refs",
            "_resolve", "_members", "_by_mobile", "_by_name",
        ):  # fmt: skip
            setattr(new, name, dict(getattr(self, name)))
        touched: set[str] = set()  # the keys of the changed cases' parties, before and after
        for case_id, case in cases.items():
            new._cases.pop(case_id, None)
            for key in new._case_keys.pop(case_id, ()):
                touched.add(key)
                left = [r for r in new._key_refs[key] if r.case_id != case_id]
                if left:
                    new._key_refs[key] = left
                else:
                    del new._key_refs[key]
            found = _parties(case_id, case) if case is not None else []
            if case is None or not case.get("exists"):
                new._docs.pop(case_id, None)  # type: ignore[attr-defined]
                continue
            new._docs[case_id] = case  # type: ignore[index]
            for key, ref in found:
                new._key_refs[key] = [*new._key_refs.get(key, ()), ref]
                touched.add(key)
            if found:
                new._case_keys[case_id] = tuple(dict.fromkeys(key for key, _ in found))
        seeds: set[str] = set()
        shorts: dict[str, list[str]] = {}
        for key in touched:
            shorts.setdefault(person_id_for(key), []).append(key)
        for short, keys_touched in shorts.items():
            before = self._by_short.get(short, [])
            keys = [k for k in before if k in new._key_refs]
            keys += [k for k in keys_touched if k not in before and k in new._key_refs]
            for person_id in _ids_of(before).values() if before else ():
                new._id_refs.pop(person_id, None)
                seeds.add(person_id)
            if keys:
                new._by_short[short] = keys
                for key, person_id in _ids_of(keys).items():
                    new._id_refs[person_id] = new._key_refs[key]
                    seeds.add(person_id)
            else:
                new._by_short.pop(short, None)
        if links:
            new._links = dict(self._links)
            for entity, pair in links.items():
                if pair is None:
                    new._links.pop(entity, None)
                else:
                    new._links[entity] = pair
                seeds.update(pair_ids(entity) or ())
            new._root, new._unlinked, new._disputed = _linked(new._links)
        # Every id grouped with a seed, before or after, and theirs in turn.
        components: dict[str, list[str]] = {}
        for person_id, root in new._root.items():
            components.setdefault(root, []).append(person_id)

        def old_group(person_id: str) -> tuple[str, ...]:
            return self._members[self._resolve[person_id]] if person_id in self._id_refs else ()

        def new_group(person_id: str) -> list[str]:
            if person_id not in new._id_refs:
                return []
            root = new._root.get(person_id)
            return [person_id] if root is None else [m for m in components[root] if m in new._id_refs]

        affected: set[str] = set()
        work = list(seeds)
        while work:
            person_id = work.pop()
            if person_id not in affected:
                affected.add(person_id)
                work.extend(old_group(person_id))
                work.extend(new_group(person_id))
        copied: set[tuple[str, str]] = set()

        def spot_of(spot_key: tuple[str, str]) -> dict[str, bool]:
            spot = new._by_name.get(spot_key)
            if spot is None or spot_key not in copied:
                spot = new._by_name[spot_key] = dict(spot or {})
                copied.add(spot_key)
            return spot

        for pid in {self._resolve[i] for i in affected if i in self._id_refs}:
            del new._members[pid]
            new._persons.pop(pid, None)
            for member in self._members[pid]:
                del new._resolve[member]
                for ref in self._id_refs[member]:
                    if ref.mobile and new._by_mobile.get(ref.mobile) == pid:
                        del new._by_mobile[ref.mobile]
                    spot_key = (ref.village, pinyin_forms(ref.key)[0])
                    spot = spot_of(spot_key)
                    spot.pop(pid, None)
                    if not spot:
                        del new._by_name[spot_key]
        for person_id in self._extras:
            new._resolve.pop(person_id, None)
        groups = {new._root.get(i, i): new_group(i) for i in affected if i in new._id_refs}
        for group in groups.values():
            new._add_group(group, spot_of)
            new._persons.pop(group[0], None)
        new._resolve_extras()
        if persons:
            new._marks = dict(self._marks)
            for person_id, doc in persons.items():
                if doc is None:
                    new._marks.pop(person_id, None)
                else:
                    new._marks[person_id] = doc
                shown = new._resolve.get(person_id)
                if shown is not None:
                    new._persons.pop(shown, None)
        return new

    @property
    def documents(self) -> Mapping[str, CaseDoc]:
        """The case documents the index was built from (their visits, for the key persons)."""
        return self._docs

    def _person(self, pid: str) -> Person:
        """The person shown under `pid`, built on first request."""
        person = self._persons.get(pid)
        if person is None:
            person = self._persons[pid] = self._build(pid, self._members[pid], self._id_refs, self._marks)
        return person

    def _build(
        self, pid: str, group: tuple[str, ...], id_refs: dict[str, list[_Ref]], marks: Mapping[str, PersonDoc]
    ) -> Person:
        refs = [r for member in group for r in id_refs[member]]
        counts: dict[str, int] = {}
        for ref in refs:
            counts[ref.name] = counts.get(ref.name, 0) + 1
        case_ids = {r.case_id for r in refs}
        briefs = sorted((self._brief(c) for c in case_ids), key=lambda c: (c.created_at, c.id), reverse=True)
        docs = [doc for member in group if (doc := marks.get(member)) is not None]
        shown: dict[str, Any] = {}
        for name in KEY_FIELDS:
            latest = _latest(docs, name)
            shown[name] = latest[name] if latest is not None else None  # type: ignore[literal-required]
        conflicts = tuple(c for doc in docs for c in doc.get("conflicts", ()) if c["open"])
        wrote = _latest(docs, "officer")
        plan_by = None if wrote is None else str(wrote[OPS][wrote[WRITERS]["officer"]][-3])
        return Person(
            id=pid,
            aliases=tuple(sorted(group[1:])),
            names=tuple(sorted(counts, key=lambda n: (-counts[n], n))),
            phones=tuple(sorted({r.mobile for r in refs if r.mobile})),
            villages=tuple(sorted({r.village for r in refs})),
            cases=tuple(briefs),
            key=bool(shown["key"]),
            plan=shown["plan"],
            officer=shown["officer"],
            due=shown["due"],
            conflicts=conflicts,
            plan_by=plan_by,
        )

    def _brief(self, case_id: str) -> CaseBrief:
        brief = self._cases.get(case_id)
        if brief is None:
            case = self._docs[case_id]
            brief = self._cases[case_id] = CaseBrief(
                case_id,
                str(case.get("village") or ""),
                str(case.get("category")),
                str(case.get("risk")),
                str(case.get("status")),
                case.get("assignee") or case.get("created_by"),
                str(case.get("created_at") or ""),
            )
        return brief

    def _case_briefs(self, pid: str) -> list[CaseBrief]:
        """The person's cases, without building the rest of the person."""
        found = {r.case_id for member in self._members[pid] for r in self._id_refs[member]}
        return [self._brief(c) for c in found]

    def __len__(self) -> int:
        return len(self._members)

    def persons(self) -> list[Person]:
        """Every person, by id."""
        return [self._person(pid) for pid in sorted(self._members)]

    def own_parties(self, person_id: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[CaseBrief, ...]]:
        """(names, villages, cases newest first) of the parties this one id names, not of the ids
        linked to it: what each side of a disputed link is (empty if no party has the id)."""
        refs = self._id_refs.get(person_id.strip().lower(), [])
        counts: dict[str, int] = {}
        for ref in refs:
            counts[ref.name] = counts.get(ref.name, 0) + 1
        names = tuple(sorted(counts, key=lambda n: (-counts[n], n)))  # most used first, as `Person.names`
        villages = tuple(sorted({r.village for r in refs}))
        briefs = {self._brief(r.case_id) for r in refs}
        newest = sorted(briefs, key=lambda c: (c.created_at, c.id), reverse=True)
        return names, villages, tuple(newest)

    def own_mobile(self, person_id: str) -> str | None:
        """The mobile this one id stands for (identity form), or None for a party without one:
        what tells the two sides of a link apart when the names are the same."""
        refs = self._id_refs.get(person_id.strip().lower(), [])
        return next((r.mobile for r in refs if r.mobile), None)

    def key_candidates(self, min_cases: int) -> list[Person]:
        """Persons with at least `min_cases` cases, or with a key mark written on one of their ids
        (whatever it says now), by id: all a key-person list can hold, without building the
        others (`fieldapp.outputs.key_persons`)."""
        found = []
        for pid in sorted(self._members):
            group = self._members[pid]
            marked = any(member in self._marks for member in group)
            if not marked:
                refs = [r for member in group for r in self._id_refs[member]]
                if len(refs) < min_cases or len({r.case_id for r in refs}) < min_cases:
                    continue
            found.append(self._person(pid))
        return found

    def resolve(self, person_id: str) -> str | None:
        """The id a person is shown under (an alias resolves to it), or None if unknown."""
        return self._resolve.get(person_id.strip().lower())

    def get(self, person_id: str) -> Person | None:
        """The person an id (or alias) names, or None."""
        pid = self.resolve(person_id)
        return None if pid is None else self._person(pid)

    def person_of(self, case_id: str, party: Mapping[str, Any]) -> str | None:
        """The id a party of a case is shown under (None: a party without a name is no one)."""
        key = person_key(case_id, party)
        for pid in (person_id_for(key), person_id_for(key, LONG_ID_CHARS)):
            if pid in self._id_refs and any(r.case_id == case_id for r in self._id_refs[pid]):
                return self._resolve[pid]
        return None

    def members(self, person_id: str) -> tuple[str, ...]:
        """Every id of the person (the id shown first)."""
        pid = self.resolve(person_id)
        return () if pid is None else self._members[pid]

    def case_persons(self) -> dict[str, tuple[str, ...]]:
        """Case id -> the persons its parties are (the ids shown, sorted): by mobile or by links in
        force, as everywhere; a name-only proposal joins nobody. What the report's repeat figures
        count (`fieldapp.outputs.reports.repeats`)."""
        found: dict[str, set[str]] = {}
        for pid, group in self._members.items():
            for member in group:
                for ref in self._id_refs[member]:
                    found.setdefault(ref.case_id, set()).add(pid)
        return {case_id: tuple(sorted(ids)) for case_id, ids in found.items()}

    def disputed_links(self, person_id: str) -> list[tuple[str, str]]:
        """The pairs of this person's ids with an open link conflict (a link and an unlink made
        apart): a supervisor settles each with `person link` or `person unlink`."""
        pid = self.resolve(person_id)
        if pid is None:
            return []
        return sorted({pair for member in self._members[pid] for pair in self._disputed.get(member, ())})

    def _unlinked_between(self, a: str, b: str) -> bool:
        unlinked = self._unlinked
        return any((min(x, y), max(x, y)) in unlinked for x in self._members[a] for y in self._members[b])

    def proposals(self, person_id: str) -> list[Person]:
        """Persons with the same name (or pinyin) in one of this one's villages, where one side
        has no mobile: possibly the same, for an officer to confirm with a link. Not those an
        officer said are not (unlinked)."""
        pid = self.resolve(person_id)
        if pid is None:
            return []
        found: set[str] = set()
        for village in self._person(pid).villages:
            for name in self._person(pid).names:
                spot = self._by_name.get((village, pinyin_forms(normalise_name(name))[0]), {})
                mine = spot.get(pid, False)
                found.update(
                    other for other, no_mobile in spot.items() if other != pid and (mine or no_mobile)
                )
        return [self._person(o) for o in sorted(found) if not self._unlinked_between(pid, o)]

    def related_cases(
        self,
        parties: Iterable[Mapping[str, Any]],
        village: str = "",
        today: date | None = None,
        tz: tzinfo | None = None,
    ) -> list[dict[str, Any]]:
        """The early warning: open or recent cases of the known persons these parties match.

        A party matches by mobile (``match: "phone"``), or, without a mobile, by the same name or
        pinyin in `village` (``match: "name"``: possibly the same person). Newest first. Recent:
        created on `today` minus `RECENT_DAYS` or later, on its local date (the machine's time
        zone, or `tz`), as the key persons and the report count a dispute of the last 12 months.
        """
        since = (today or date.today()) - timedelta(days=RECENT_DAYS)

        def recent(brief: CaseBrief) -> bool:
            day = local_date(brief.created_at, tz)
            return day is not None and day >= since

        matched: dict[str, str] = {}
        for party in parties:
            mobile = identity_phone(party.get("phone"))
            if mobile is not None:
                pid = self._by_mobile.get(mobile)
                if pid is not None:
                    matched[pid] = "phone"
                continue
            name = normalise_name(party.get("name"))
            if name:
                for pid in self._by_name.get((village.strip(), pinyin_forms(name)[0]), {}):
                    matched.setdefault(pid, "name")
        found: dict[str, dict[str, Any]] = {}
        # A case of two matched persons is named under the first: by mobile first, then by id.
        for pid, how in sorted(matched.items(), key=lambda item: (item[1] != "phone", item[0])):
            for brief in self._case_briefs(pid):
                if brief.id not in found and (brief.is_open or recent(brief)):
                    found[brief.id] = brief.as_dict() | {"person": pid, "match": how}
        return sorted(found.values(), key=lambda c: (c["when"], c["id"]), reverse=True)
