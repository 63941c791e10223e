"""Persons across cases (issue 17, docs/persons.md): matching by mobile, proposals by name and
village, links and key-person marks as operations that merge like any other, the early warning at
intake, and the `fieldapp person` commands. Fake people only."""

from __future__ import annotations

import contextlib
import json
import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from fieldapp.core.service import CaseError, CaseService, init_device
from fieldapp.domain import person_index
from fieldapp.domain.areas import VillageReducer
from fieldapp.domain.cases import CaseReducer
from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import KEY, key_payload, pair_entity, person_id_for
from harness import FAST_KDF, PASSPHRASE
from harness.replicas import ManualWall, converge, devices, exchange, station_devices
from sync.merge import Reducer
from sync.ops import decode
from sync.replica import Replica
from tests.cli import fieldapp

DUE = (date.today() + timedelta(days=30)).isoformat()
SPELLINGS = [
    "13800001111",
    "138-0000-1111",
    "+86 138 0000 1111",
    "0086 13800001111",
    "１３８００００１１１１",
]


def party(name: str, phone: str = "") -> dict[str, str]:
    return {"name": name, "phone": phone, "role": "party"}


def intake(svc: CaseService, village: str, *parties: dict[str, str], category: str = "neighbor") -> str:
    case = svc.new_case(village, category, "yellow", "邻里纠纷测试记录", list(parties))
    return case["id"]


def index_of(svc: CaseService) -> list[dict[str, Any]]:
    return [p.as_dict() for p in svc.person_index().persons()]


# ---------------------------------------------------------------- matching


def test_a_mobile_written_many_ways_is_one_person(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer", "officer"]) as (first, second):
        cases = [
            intake(first if i % 2 else second, "东岭村", party("测试甲", p)) for i, p in enumerate(SPELLINGS)
        ]
        # In another village, under another spelling of the name, still the same mobile.
        cases.append(intake(first, "西河村", party("测试 甲", "138 0000 1111")))
        converge([first, second])
        for device in (first, second):
            [person] = device.person_index().persons()
            assert person.id == person_id_for("mobile:13800001111")
            assert person.phones == ("13800001111",)
            assert {c.id for c in person.cases} == set(cases)
            assert person.villages == ("东岭村", "西河村")
        assert index_of(first) == index_of(second)


def test_a_landline_or_short_number_is_not_an_identity(tmp_path: Path) -> None:
    """A household's landline is shared (both sides of a family dispute may give it)."""
    with devices(tmp_path, ["officer"]) as (svc,):
        intake(
            svc, "东岭村", party("测试甲", "0931-8562277"), party("测试乙", "0931-8562277"), category="family"
        )
        intake(svc, "东岭村", party("测试丙", "12345"))
        index = svc.person_index()
        assert len(index) == 3
        assert all(p.phones == () for p in index.persons())


def test_the_same_name_in_two_villages_is_kept_apart_and_proposed_only_within_one(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer", "officer"]) as (first, second):
        east = intake(first, "东岭村", party("测试王"))
        west = intake(second, "西河村", party("测试王"))
        # The same name by pinyin (测试汪 reads ceshiwang too), same village, another device.
        east_again = intake(second, "东岭村", party("测试汪"))
        converge([first, second])
        index = first.person_index()
        assert len(index) == 3  # never merged by name alone
        by_case = {p.cases[0].id: p for p in index.persons()}
        a, b, c = by_case[east], by_case[west], by_case[east_again]
        assert [p.id for p in index.proposals(a.id)] == [c.id]  # same village: proposed
        assert index.proposals(b.id) == []  # another village: not even proposed
        # An officer confirms; every device then shows one person, under the older id.
        shown = second.link_persons(a.id, c.id)
        converge([first, second])
        for device in (first, second):
            index = device.person_index()
            assert len(index) == 2
            assert shown == a.id and index.resolve(c.id) == a.id
            assert index.get(c.id) == index.get(a.id)
            assert {x.id for x in index.get(a.id).cases} == {east, east_again}  # type: ignore[union-attr]
            assert index.get(b.id).aliases == ()  # type: ignore[union-attr]
        # Unlinked: two persons again, and no longer proposed.
        first.link_persons(a.id, c.id, linked=False)
        converge([first, second])
        index = second.person_index()
        assert len(index) == 3 and index.proposals(a.id) == []


def test_an_unrelated_case_does_not_change_a_persons_id(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer"]) as (svc,):
        intake(svc, "东岭村", party("测试甲", "13800001111"), party("测试乙"))
        before = {p.id for p in svc.person_index().persons()}
        intake(svc, "西河村", party("测试丙", "13900002222"))
        after = {p.id for p in svc.person_index().persons()}
        assert before < after


def test_two_keys_with_one_short_id_both_take_the_long_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with devices(tmp_path, ["officer"]) as (svc,):
        intake(svc, "东岭村", party("测试甲", "13800001111"), party("测试乙", "13900002222"))
        real = person_index.person_id_for
        monkeypatch.setattr(
            person_index,
            "person_id_for",
            lambda key, chars=10: real(key, chars) if chars > 10 else "paaaaaaaaaa",
        )
        ids = sorted(p.id for p in svc.person_index().persons())
        assert ids == sorted(real(f"mobile:{m}", 16) for m in ("13800001111", "13900002222"))


# ---------------------------------------------------------------- links and marks converge


def deliver(src: CaseService, dst: CaseService, rng: random.Random) -> None:
    """A random prefix of each of src's logs, shuffled, some twice (tests/test_merge_property.py)."""
    by_chain: dict[str, list[tuple[bytes, bytes]]] = {}
    for entry in src.replica.entries_missing_from({}):
        by_chain.setdefault(decode(*entry).chain, []).append(entry)
    chosen = [e for chain in by_chain.values() for e in chain[: rng.randint(0, len(chain))]]
    chosen += rng.sample(chosen, len(chosen) // 3)
    rng.shuffle(chosen)
    dst.replica.apply(chosen)


def person_work(svc: CaseService, ids: list[str], rng: random.Random) -> None:
    """A link, unlink or mark on what this device knows; the rules' refusals are part of the game."""
    a, b = rng.sample(ids, 2)
    roll = rng.random()
    with contextlib.suppress(CaseError):
        if roll < 0.35:
            svc.link_persons(a, b)
        elif roll < 0.6:
            svc.link_persons(a, b, linked=False)
        elif roll < 0.8:
            svc.mark_key_person(a, rng.choice(["每周走访", "联系村干部"]), due=rng.choice([None, DUE]))
        else:
            svc.mark_key_person(a, None, key=False)


@pytest.mark.timeout(600)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    roles=st.lists(st.sampled_from(["officer", "officer", "supervisor"]), min_size=3, max_size=4),
    steps=st.integers(10, 40),
    seed=st.integers(0, 2**32),
)
def test_links_unlinks_and_key_marks_converge_in_any_delivery_order(
    roles: list[str], steps: int, seed: int
) -> None:
    rng, wall = random.Random(seed), ManualWall()
    with tempfile.TemporaryDirectory() as tmp, devices(Path(tmp), roles, wall) as services:
        for index, svc in enumerate(services):
            intake(svc, "东岭村", party("测试王"), party("测试甲", f"1380000111{index % 2}"))
        converge(services)
        ids = [p.id for p in services[0].person_index().persons()]
        for _ in range(steps):
            roll = rng.random()
            if roll < 0.5:
                person_work(rng.choice(services), ids, random.Random(rng.random()))
            elif roll < 0.9:
                src, dst = rng.sample(services, 2)
                deliver(src, dst, random.Random(rng.random()))
            else:
                wall.now += rng.randint(1, 120_000)
        converge(services)
        assert len({s.state_hash() for s in services}) == 1
        first, *rest = [index_of(s) for s in services]
        assert all(r == first for r in rest)
        everything = list(services[0].replica.entries_missing_from({}))
        rng.shuffle(everything)
        with devices(Path(tmp) / "fresh", ["officer"], wall) as (fresh,):
            fresh.replica.apply(everything)
            assert index_of(fresh) == first


# ---------------------------------------------------------------- conflicts and who may


def test_a_concurrent_link_and_unlink_is_kept_as_a_conflict_for_the_supervisor(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as station:
        boss, first, second = station
        for _ in range(3):
            intake(first, "东岭村", party("测试王"))
        converge(station)
        pa, pb, pc = (p.id for p in boss.person_index().persons())
        # Neither officer saw the other's decision: one links, the other says they are not one.
        first.link_persons(pa, pb)
        second.link_persons(pa, pb, linked=False)
        # Two links made apart agree: no conflict.
        first.link_persons(pa, pc)
        second.link_persons(pa, pc)
        converge(station)
        assert len({s.state_hash() for s in station}) == 1
        for device in station:
            links = device.replica.view("person_links")
            [conflict] = [c for c in links[pair_entity(pa, pb)]["conflicts"] if c["open"]]
            assert {v["value"] for v in conflict["values"]} == {True, False}
            assert {v["author"] for v in conflict["values"]} == {
                first.identity.device_id,
                second.identity.device_id,
            }
            assert not any(c["open"] for c in links[pair_entity(pa, pc)]["conflicts"])
        assert boss.person_index().disputed_links(pb) == [tuple(sorted((pa, pb)))]  # `person show` names it
        # Kept for the supervisor: an officer who has seen it cannot settle it.
        shown = boss.replica.view("person_links")[pair_entity(pa, pb)]["linked"]
        with pytest.raises(CaseError) as caught:
            first.link_persons(pa, pb, linked=not shown) if not shown else first.link_persons(
                pa, pb, linked=False
            )
        assert caught.value.refusal is not None and caught.value.refusal.code == "person_link_conflict_open"
        boss.link_persons(pa, pb, linked=False)  # the supervisor decides: not the same person
        converge(station)
        for device in station:
            pair = device.replica.view("person_links")[pair_entity(pa, pb)]
            assert pair["linked"] is False and not any(c["open"] for c in pair["conflicts"])
            index = device.person_index()
            assert index.resolve(pb) == pb and index.resolve(pc) == index.resolve(pa)
            assert index.disputed_links(pa) == index.disputed_links(pb) == []


def test_who_may_mark_key_persons_and_write_plans_is_decided_at_merge_time(tmp_path: Path) -> None:
    with station_devices(tmp_path, 2) as station:
        boss, first, second = station
        intake(first, "东岭村", party("测试甲", "13800001111"))
        converge(station)
        pid = person_id_for("mobile:13800001111")
        me, other = first.identity.device_id, second.identity.device_id

        def refused_locally(code: str, action: Callable[[], object]) -> None:
            before = first.state_hash()
            with pytest.raises(CaseError) as caught:
                action()
            assert caught.value.refusal is not None and caught.value.refusal.code == code
            assert first.state_hash() == before

        refused_locally(
            "person_plan_assign_supervisor_only", lambda: first.mark_key_person(pid, "走访", other)
        )
        first.mark_key_person(pid, "每周走访一次", due=DUE)  # an officer, for themselves
        converge(station)
        person = boss.person_index().get(pid)
        assert person is not None and person.key and person.officer == me and person.due == DUE
        refused_locally("person_unmark_supervisor_only", lambda: first.mark_key_person(pid, None, key=False))
        # A modified app records the unmarking anyway: refused on every device, with its code.
        persons = first.replica.view("persons")
        op = first.replica.make(KEY, pid, key_payload(persons, pid, False, None, None, None))
        assert first.replica.apply([(op.body, op.sig)]).applied == 1
        converge(station)
        for device in station:
            doc = device.replica.view("persons")[pid]
            assert doc["key"] is True and doc["refused"][-1]["code"] == "person_unmark_supervisor_only"
        # The supervisor hands the plan to the other officer; the first may no longer rewrite it.
        boss.mark_key_person(pid, "由二号辅警负责，联系村干部", officer=other)
        converge(station)
        refused_locally("person_plan_not_yours", lambda: first.mark_key_person(pid, "我来"))
        second.mark_key_person(pid, "已联系村干部，下周回访")  # the responsible officer may
        converge(station)
        assert boss.person_index().get(pid).plan == "已联系村干部，下周回访"  # type: ignore[union-attr]
        boss.mark_key_person(pid, None, key=False)  # and a supervisor takes them off
        converge(station)
        assert len({s.state_hash() for s in station}) == 1
        assert boss.person_index().get(pid).key is False  # type: ignore[union-attr]


# ---------------------------------------------------------------- versions


@contextmanager
def app_version(reducers: Callable[[], list[Reducer[Any]]]) -> Iterator[None]:
    """Stores opened inside are opened by an app version with these reducers
    (tests/test_forward_compat.py)."""
    module = sys.modules[CaseService.__module__]
    real = getattr(module, "Replica")  # noqa: B009

    def replica(db: Any, identity: Any, station: str, _reducers: Any, **options: Any) -> Replica:
        opened: Replica = real(db, identity, station, reducers(), **options)
        return opened

    setattr(module, "Replica", replica)  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "Replica", real)  # noqa: B010


def test_a_device_without_the_person_reducers_relays_them_and_converges_once_upgraded(tmp_path: Path) -> None:
    """0.2.0's reducers (cases, villages) on one device between two of this version."""
    with ExitStack() as stack:
        paths = [tmp_path / name for name in ("new1", "old", "new2")]
        for path in paths:
            init_device(path, PASSPHRASE, "测试辅警", FAST_KDF)
        new1 = stack.enter_context(contextlib.closing(CaseService.open(paths[0], PASSPHRASE)))
        with app_version(lambda: [CaseReducer(), VillageReducer()]):
            old = CaseService.open(paths[1], PASSPHRASE)
        new2 = stack.enter_context(contextlib.closing(CaseService.open(paths[2], PASSPHRASE)))
        converge([new1, old, new2])  # the devices' announcements
        intake(new1, "东岭村", party("测试王"))
        intake(new1, "东岭村", party("测试王"))
        ids = [p.id for p in new1.person_index().persons()]
        new1.link_persons(*ids)
        new1.mark_key_person(ids[0], "每周走访一次")
        exchange(new1, old)
        assert old.replica.waiting() == 2  # stored, not folded
        exchange(old, new2)  # relayed by the old device alone
        assert new2.state_hash() == new1.state_hash()
        assert index_of(new2) == index_of(new1)
        old.close()
        upgraded = stack.enter_context(contextlib.closing(CaseService.open(paths[1], PASSPHRASE)))
        assert upgraded.replica.waiting() == 0
        assert upgraded.state_hash() == new1.state_hash()
        assert index_of(upgraded) == index_of(new1)


# ---------------------------------------------------------------- early warning and command line


def test_related_cases_match_by_mobile_and_by_name_in_the_village(tmp_path: Path) -> None:
    with devices(tmp_path, ["officer"]) as (svc,):
        known = intake(svc, "东岭村", party("测试甲", "13800001111"))
        named = intake(svc, "东岭村", party("测试王"))
        intake(svc, "西河村", party("测试王"))  # another village: not a match by name
        index: PersonIndex = svc.person_index()
        found = index.related_cases([party("测试甲", "+86 138-0000-1111")], "西河村")
        assert [(c["id"], c["match"]) for c in found] == [(known, "phone")]
        found = index.related_cases([party("测试王")], "东岭村")
        assert [(c["id"], c["match"]) for c in found] == [(named, "name")]
        assert index.related_cases([party("测试新", "13900009999")], "东岭村") == []


def test_a_recent_case_is_counted_on_its_local_date_at_the_midnight_edge() -> None:
    """The early warning's 12 months are read on the local date, as the key persons' and the
    report's are: 16:00 UTC on 15 March 2025 is 16 March in Beijing, within the 365 days before 16
    March 2026 there; one second earlier is 15 March, outside (closed cases: only recency counts)."""
    beijing = timezone(timedelta(hours=8))
    mobile = "13800001111"

    def closed(case_id: str, created_at: str) -> dict[str, Any]:
        return {
            "exists": True, "village": "东岭村", "category": "neighbor", "risk": "yellow", "status": "closed",
            "created_at": created_at, "parties": [party("测试甲", mobile)], "_ops": [[1, "d", 0, 1]],
        }  # fmt: skip

    index = PersonIndex(
        {"edge": closed("edge", "2025-03-15T16:00:00Z"), "before": closed("before", "2025-03-15T15:59:59Z")}  # type: ignore[dict-item]
    )
    today = date(2026, 3, 16)
    found = index.related_cases([party("测试乙", mobile)], "西河村", today, tz=beijing)
    assert [c["id"] for c in found] == ["edge"]
    assert index.related_cases([party("测试乙", mobile)], "西河村", today, tz=UTC) == []


@pytest.mark.timeout(120)
def test_case_new_json_returns_the_related_cases_of_a_known_person(tmp_path: Path) -> None:
    store = tmp_path / "store"
    init_device(store, PASSPHRASE, "测试辅警", FAST_KDF)
    common = ["--store", str(store)]
    first = fieldapp(
        "case", "new", *common, "--json", "--village", "东岭村", "--category", "land", "--risk", "red",
        "--summary", "田界纠纷测试", "--party", "测试甲:13800001111",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["related_cases"] == []
    earlier = json.loads(first.stdout)["id"]
    second = fieldapp(
        "case", "new", *common, "--json", "--village", "西河村", "--category", "debt", "--risk", "yellow",
        "--summary", "借款纠纷测试", "--party", "测试甲:+8613800001111",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    [related] = json.loads(second.stdout)["related_cases"]
    assert related["id"] == earlier and related["match"] == "phone"
    assert (related["village"], related["category"], related["risk"], related["status"]) == (
        "东岭村",
        "land",
        "red",
        "open",
    )
    assert related["officer"] and related["when"] and related["person"] == person_id_for("mobile:13800001111")


@pytest.mark.timeout(180)
def test_person_commands_in_both_languages(tmp_path: Path) -> None:
    store = tmp_path / "store"
    init_device(store, PASSPHRASE, "测试所长", FAST_KDF, role="supervisor")
    common = ["--store", str(store)]
    for village, phone in (("东岭村", "13800001111"), ("东岭村", ""), ("西河村", "")):
        party_arg = "测试王" + (f":{phone}" if phone else "")
        result = fieldapp(
            "case", "new", *common, "--village", village, "--category", "neighbor", "--risk", "yellow",
            "--summary", "邻里纠纷测试", "--party", party_arg, "--lang", "zh",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        # The second intake's party has the first's name in its village: the early warning names it.
        assert ("预警" in result.stdout) is ((village, phone) == ("东岭村", "")), result.stdout
    listed = json.loads(fieldapp("person", "list", *common, "--json").stdout)
    assert len(listed) == 3
    east = sorted(p["id"] for p in listed if p["villages"] == ["东岭村"])
    zh = fieldapp("person", "list", *common, "--lang", "zh", "--village", "东岭村")
    assert zh.returncode == 0, zh.stderr
    lines = zh.stdout.splitlines()
    assert lines[0].startswith("人员编号") and lines[-1] == "共 2 人。"

    name_col = [cell_len(line[: line.index("测试王")]) for line in lines[1:-1]]
    assert len(set(name_col)) == 1  # aligned by screen cells
    link = fieldapp("person", "link", *common, "--lang", "en", *east)
    assert link.returncode == 0 and link.stdout.startswith("Linked"), link.stderr
    shown = fieldapp("person", "show", *common, "--lang", "zh", east[1])
    assert shown.returncode == 0 and "其他编号" in shown.stdout, shown.stderr
    assert "待处理" in shown.stdout and "测试所长" in shown.stdout  # status in Chinese, officer by name
    key = fieldapp("person", "key", *common, "--lang", "zh", east[0], "--plan", "每周走访一次", "--due", DUE)
    assert key.returncode == 0 and "重点人员" in key.stdout, key.stderr
    en = fieldapp("person", "list", *common, "--lang", "en", "--key")
    assert en.stdout.splitlines()[0].startswith("Person") and en.stdout.splitlines()[-1] == "1 person(s)."
    unknown = fieldapp("person", "show", *common, "--lang", "zh", "pzzzzzzzzzz")
    assert unknown.returncode == 1 and "person list" in unknown.stderr and "没有人员" in unknown.stderr
    unknown = fieldapp("person", "show", *common, "--lang", "en", "pzzzzzzzzzz")
    assert "No person pzzzzzzzzzz" in unknown.stderr
    shown_en = fieldapp("person", "show", *common, "--lang", "en", east[0])
    assert "Key person: 每周走访一次" in shown_en.stdout
