"""The person index kept current from what changed (issues 16/17, docs/persons.md "Cost"): after
every step of seeded random work merged in random order, the index each device keeps
(`CaseService.person_index`, `fieldapp.core.person_cache`) equals one built afresh from its views.
Fake people only."""

from __future__ import annotations

import contextlib
import random
import tempfile
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.person_cache import TABLES, copy_doc
from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import person_index
from fieldapp.domain.person_index import PersonIndex
from harness.replicas import ManualWall, converge, devices
from sync.ops import decode

NAMES = ["测试王", "测试汪", "测试甲", "测试 甲", "测试乙"]
PHONES = ["", "", "13800001111", "+86 138-0000-1111", "13900002222", "0931-8562277", "13700003333"]
VILLAGES = ["东岭村", "西河村"]
SEEDS = [3, 17, 2026]


def fresh(svc: CaseService) -> PersonIndex:
    """The index built from nothing, from copies of the views as they stand."""
    views = {table: svc.replica.view(table) for table in TABLES}
    copies = [{k: copy_doc(table, v) for k, v in views[table].items()} for table in TABLES]
    return PersonIndex(*copies)  # type: ignore[arg-type]


def dump(index: PersonIndex) -> dict[str, Any]:
    """Everything an index answers (and the tables it answers from), in a canonical form."""
    persons = index.persons()
    ids = sorted(index._id_refs)
    asked = [{"name": n, "phone": p} for n in NAMES for p in PHONES]
    return {
        "persons": [p.as_dict() for p in persons],
        "resolve": sorted(index._resolve.items()),
        "members": sorted(index._members.items()),
        "by_mobile": sorted(index._by_mobile.items()),
        "by_name": sorted((k, sorted(v.items())) for k, v in index._by_name.items()),
        "proposals": {p.id: [q.id for q in index.proposals(p.id)] for p in persons},
        "disputed": {p.id: index.disputed_links(p.id) for p in persons},
        "own": {i: index.own_parties(i) for i in ids},
        "case_persons": sorted(index.case_persons().items()),
        "candidates": [p.id for p in index.key_candidates(2)],
        "person_of": sorted(
            (case_id, party["name"], party["phone"], index.person_of(case_id, party))
            for case_id, doc in index.documents.items()
            for party in doc.get("parties") or ()
        ),
        "related": [index.related_cases([party], village) for party in asked for village in VILLAGES],
        "len": len(index),
    }


def parties(rng: random.Random) -> list[dict[str, str]]:
    return [
        {"name": rng.choice(NAMES), "phone": rng.choice(PHONES), "role": "party"}
        for _ in range(rng.randint(1, 3))
    ]


def deliver(src: CaseService, dst: CaseService, rng: random.Random) -> None:
    """A random prefix of each of src's logs, shuffled."""
    by_chain: dict[str, list[tuple[bytes, bytes]]] = {}
    for entry in src.replica.entries_missing_from({}):
        by_chain.setdefault(decode(*entry).chain, []).append(entry)
    chosen = [e for chain in by_chain.values() for e in chain[: rng.randint(0, len(chain))]]
    rng.shuffle(chosen)
    dst.replica.apply(chosen)


def work(svc: CaseService, rng: random.Random) -> None:
    """One thing an officer or supervisor does: an intake, a party edit, a status change, a link,
    an unlink, a key mark or its removal (the rules' refusals are part of the game)."""
    cases = sorted(svc.cases_view())
    ids = sorted(svc.person_index()._id_refs)
    roll = rng.random()
    with contextlib.suppress(CaseError):
        if roll < 0.3 or not cases:
            svc.new_case(rng.choice(VILLAGES), "neighbor", "yellow", "邻里纠纷测试记录", parties(rng))
        elif roll < 0.5:
            svc.update(rng.choice(cases), fields={"parties": parties(rng)})
        elif roll < 0.58:
            svc.update(rng.choice(cases), fields={"village": rng.choice(VILLAGES)})
        elif roll < 0.65:
            svc.update(rng.choice(cases), status="in_mediation")
        elif len(ids) >= 2:
            a, b = rng.sample(ids, 2)
            if roll < 0.8:
                svc.link_persons(a, b)
            elif roll < 0.9:
                svc.link_persons(a, b, linked=False)
            elif roll < 0.96:
                svc.mark_key_person(a, "每周走访")
            else:
                svc.mark_key_person(a, None, key=False)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed", SEEDS)
def test_the_kept_index_equals_a_fresh_build_after_every_step(seed: int) -> None:
    rng, wall = random.Random(seed), ManualWall()
    with (
        tempfile.TemporaryDirectory() as tmp,
        devices(Path(tmp), ["officer", "officer", "supervisor"], wall) as svcs,
    ):
        for svc in svcs:
            svc.person_index()  # kept from the start: every later step is an update
        for step in range(60):
            roll = rng.random()
            if roll < 0.6:
                work(rng.choice(svcs), random.Random(rng.random()))
            elif roll < 0.95:
                src, dst = rng.sample(svcs, 2)
                deliver(src, dst, random.Random(rng.random()))
            else:
                wall.now += rng.randint(1, 120_000)
            for number, svc in enumerate(svcs):
                assert dump(svc.person_index()) == dump(fresh(svc)), (seed, step, number)
        converge(svcs)
        assert all(dump(s.person_index()) == dump(fresh(s)) for s in svcs)
        assert len(svcs[2].person_index()) > 3


def test_an_update_with_two_keys_sharing_a_short_id_gives_both_the_long_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = person_index.person_id_for
    monkeypatch.setattr(
        person_index, "person_id_for", lambda key, chars=10: real(key, chars) if chars > 10 else "paaaaaaaaaa"
    )
    with devices(tmp_path, ["officer"]) as (svc,):
        case = svc.new_case(
            "东岭村", "neighbor", "yellow", "邻里纠纷测试记录", [{"name": "测试甲", "phone": "13800001111"}]
        )
        assert [p.id for p in svc.person_index().persons()] == ["paaaaaaaaaa"]
        svc.update(
            case["id"], fields={"parties": [*case["parties"], {"name": "测试乙", "phone": "13900002222"}]}
        )
        assert dump(svc.person_index()) == dump(fresh(svc))
        assert len(svc.person_index().persons()[0].id) == 17
        svc.update(case["id"], fields={"parties": case["parties"]})
        assert dump(svc.person_index()) == dump(fresh(svc))
        assert [p.id for p in svc.person_index().persons()] == ["paaaaaaaaaa"]
