"""Versions mix: operations from a newer version are stored, relayed and folded once upgraded.

A simulated newer version of the app is today's reducers plus what a later release might add: a
kind on a new table (`note.x`, a pinned note on a place), a case field (`dialect`: the language
the parties speak) written by a case's intake and by `case.set`, and a device kind
(`device.label`). Today's devices receive its operations through real sync sessions (TLS on
loopback), relay them, count them as waiting, and refuse none; opened by the newer version,
every store hashes like the newer device's, whatever its history.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseError, CaseService, app_reducers
from fieldapp.domain import model
from fieldapp.domain.areas import VillageReducer
from fieldapp.domain.cases import CREATE, FIELD_CHECKS, NOT_SET, PAYLOAD_FIELDS, SET, CaseReducer
from harness import PASSPHRASE
from harness.replicas import converge, exchange, station_devices
from sync.devices import DeviceReducer
from sync.merge import MergeEnv, PayloadFields, Reducer, set_field
from sync.ops import Operation, decode_trusted
from sync.refusals import Refusal, refusal
from sync.replica import FOLDED_WITH_KEY, VIEW_FORMAT, VIEW_FORMAT_KEY, Replica
from tests.test_sync_session import sync

pytestmark = pytest.mark.timeout(120)

PIN = "note.x"
LABEL = "device.label"
PROMOTE = "device.promote"


class PinReducer:
    """Newer version: notes pinned on a place (a kind and a table today's version lacks)."""

    table = "pins"
    kinds = frozenset({PIN})
    version = 1
    payload_fields: PayloadFields = {PIN: {"text": None}}

    def initial(self, op: Operation) -> dict[str, Any]:
        return {"place": op.entity, "texts": []}

    def apply(self, state: dict[str, Any], op: Operation, env: MergeEnv) -> Refusal | None:
        if env.role(op.author, op.epoch, op.seq) is None:
            return refusal("author_unknown")
        text = op.payload.get("text")
        if not isinstance(text, str) or not text.strip():
            return refusal("pin_needs_text")
        state["texts"].append({"op": op.key, "text": text})
        return None

    def finish(self, state: dict[str, Any], last: Operation) -> None:
        """Nothing depends on the newest note alone."""


class NewerCaseReducer(CaseReducer):
    """Newer version: a case records the parties' dialect, at intake or by `case.set`."""

    version = CaseReducer.version + 1
    payload_fields: PayloadFields = {
        **PAYLOAD_FIELDS,
        CREATE: {**PAYLOAD_FIELDS[CREATE], "dialect": None},
        SET: {"fields": frozenset({*NOT_SET, *FIELD_CHECKS, "dialect"}), "base": None},
    }

    def _case_create(
        self, state: dict[str, Any], op: Operation, p: dict[str, Any], role: str
    ) -> Refusal | None:
        reason = super()._case_create(state, op, p, role)
        if reason is None and isinstance(p.get("dialect"), str):
            set_field(state, "dialect", p["dialect"], op, None)
        return reason

    def _case_set(self, state: dict[str, Any], op: Operation, p: dict[str, Any], role: str) -> Refusal | None:
        fields = p.get("fields")
        if not isinstance(fields, dict) or "dialect" not in fields:
            return super()._case_set(state, op, p, role)
        if not isinstance(fields["dialect"], str):
            return refusal("dialect_not_text")
        rest = {name: value for name, value in fields.items() if name != "dialect"}
        reason = super()._case_set(state, op, {**p, "fields": rest}, role) if rest else None
        if reason is None:
            bases = p.get("base")
            set_field(state, "dialect", fields["dialect"], op, bases.get("dialect") if bases else None)
        return reason


class NewerDeviceReducer(DeviceReducer):
    """Newer version: a supervisor labels a device (which patrol car it rides in), or makes an
    officer's device a supervisor's for one of its log epochs (a role today's version takes
    from the announcement alone)."""

    kinds = DeviceReducer.kinds | {LABEL, PROMOTE}
    version = DeviceReducer.version + 1
    payload_fields: PayloadFields = {
        **DeviceReducer.payload_fields,
        LABEL: {"label": None},
        PROMOTE: {"epoch": None},
    }

    def apply(self, state: dict[str, Any], op: Operation, env: MergeEnv) -> Refusal | None:
        if op.kind not in (LABEL, PROMOTE):
            return super().apply(state, op, env)
        if env.role(op.author, op.epoch, op.seq) != "supervisor":
            return refusal("label_needs_supervisor")
        if "public_key" not in state:
            return refusal("label_device_unknown")
        if op.kind == LABEL:
            state["label"] = str(op.payload.get("label", ""))
        else:
            state["roles"][f"{int(op.payload['epoch']):016x}"] = "supervisor"
        return None


def today() -> list[Reducer]:
    return app_reducers()


def newer() -> list[Reducer]:
    return [NewerDeviceReducer(), NewerCaseReducer(), VillageReducer(), PinReducer()]


def newer_cases() -> list[Reducer]:
    """A newer version whose only change is the case field: no kind is new."""
    return [NewerCaseReducer(), VillageReducer()]


def newer_devices() -> list[Reducer]:
    """A newer version whose only change is the devices view: its new kinds."""
    return [NewerDeviceReducer(), CaseReducer(), VillageReducer()]


def before_areas() -> list[Reducer]:
    """A version from before police areas (80c593f): it knows cases only."""
    return [CaseReducer()]


@contextmanager
def app_version(reducers: Callable[[], list[Reducer]]) -> Iterator[None]:
    """Stores opened inside are opened by the app version whose reducers these are."""
    module = sys.modules[CaseService.__module__]
    real = getattr(module, "Replica")  # noqa: B009 (what CaseService builds its replica with)

    def replica(db: Any, identity: Any, station: str, _reducers: Any, **options: Any) -> Replica:
        opened: Replica = real(db, identity, station, reducers(), **options)
        return opened

    setattr(module, "Replica", replica)  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "Replica", real)  # noqa: B010


def opened_by(stack: ExitStack, service: CaseService, reducers: Callable[[], list[Reducer]]) -> CaseService:
    """Close `service` and open its store again with another version of the app."""
    directory = service.db.store.directory
    service.close()
    with app_version(reducers):
        again = CaseService.open(directory, PASSPHRASE)
    stack.callback(again.close)
    return again


def newer_work(device: CaseService, officer: str) -> list[str]:
    """What the newer version records that today's does not fully know; the case ids."""
    replica = device.replica
    seq = replica.head(f"{device.identity.device_id}.{device.identity.epoch:016x}")[0] + 1
    case_id = model.case_id_for(device.identity.device_id, device.identity.epoch, seq)
    intake = {
        "village": "石门村",
        "category": "land",
        "risk": "yellow",
        "summary": "宅基地边界纠纷",
        "source": "patrol",
        "flags": [],
        "deadline": None,
        "parties": [{"name": "测试甲", "phone": "", "role": "applicant"}],
        "dialect": "苗语",
    }
    replica.record(CREATE, case_id, intake)
    replica.record(SET, case_id, {"fields": {"dialect": "彝语"}, "base": {"dialect": None}})
    replica.record(PIN, "石门村村口", {"text": "调解员周二在村委会"})
    replica.record(LABEL, officer, {"label": "二号巡逻车"})
    return [case_id]


def assert_none_refused(*devices: CaseService) -> None:
    for device in devices:
        assert device.replica.rejections.all() == []
        for table in device.replica.view_tables:
            for doc in device.replica.view(table).values():
                assert not doc.get("refused"), doc["refused"]


def test_a_newer_versions_operations_are_relayed_counted_as_waiting_and_folded_after_the_upgrade(
    tmp_path: Path,
) -> None:
    with station_devices(tmp_path, 3) as (authority, a, b, c), ExitStack() as stack:
        officer = a.identity.device_id
        a.new_case("石门村", "family", "red", "赡养纠纷")  # today's work, for the newer device
        exchange(authority, a)
        newest = opened_by(stack, authority, newer)
        case_ids = newer_work(newest, officer)
        assert newest.replica.waiting() == 0

        report, events = sync(newest, a)  # a (today's) meets the newer station device
        assert report.error is None and report.refused == 0, report
        assert dict(events)["session"]["error"] is None
        assert a.replica.waiting() == 4  # two kinds unknown, two payloads with a field unknown
        assert a.case(case_ids[0])["summary"] == "宅基地边界纠纷"  # what it knows is folded
        assert "dialect" not in a.case(case_ids[0])

        report, _ = sync(a, b)  # a relays it to b; the newer device is not there
        assert report.error is None and report.refused == 0, report
        assert b.replica.waiting() == 4
        assert b.state_hash() == a.state_hash()
        assert_none_refused(a, b)

        # c is upgraded first, then gets the same operations relayed by today's b.
        c = opened_by(stack, c, newer)
        report, _ = sync(b, c)
        assert report.error is None and report.refused == 0
        assert c.replica.waiting() == 0

        a, b = opened_by(stack, a, newer), opened_by(stack, b, newer)
        for device in (a, b):  # the devices view is re-folded on opening, before any read
            assert (device.replica.device(officer) or {})["label"] == "二号巡逻车"
        converge([newest, a, b, c])  # the devices' own announcements: nothing of the newer version
        for device in (a, b, c):
            assert device.replica.vector() == newest.replica.vector()
            assert device.replica.waiting() == 0
            assert device.case(case_ids[0])["dialect"] == "彝语"
            assert device.replica.view("pins")["石门村村口"]["texts"][0]["text"] == "调解员周二在村委会"
            assert (device.replica.device(officer) or {})["label"] == "二号巡逻车"
            assert device.state_hash() == newest.state_hash()
        assert_none_refused(newest, a, b, c)


def test_an_upgrade_folds_what_the_store_held_in_any_arrival_order(tmp_path: Path) -> None:
    """The newer device's entries reach two of today's devices in opposite orders of logs."""
    with station_devices(tmp_path, 2) as (authority, a, b), ExitStack() as stack:
        a.new_case("下坝村", "debt", "yellow", "借款纠纷")
        exchange(authority, a)
        newest = opened_by(stack, authority, newer)
        newer_work(newest, a.identity.device_id)
        exchange(newest, a)
        entries = list(newest.replica.entries_missing_from({}))
        by_chain: dict[str, list[tuple[bytes, bytes]]] = {}
        for body, sig in entries:
            by_chain.setdefault(decode_trusted(body, sig).chain, []).append((body, sig))
        for chain in reversed(sorted(by_chain)):
            report = b.replica.apply(by_chain[chain])
            assert report.rejections == [] and report.held_back == 0
        a.replica.apply(list(b.replica.entries_missing_from(a.replica.vector())))  # b's own log
        assert a.replica.vector() == b.replica.vector()
        assert b.replica.waiting() == a.replica.waiting() == 4
        assert b.state_hash() == a.state_hash()
        a, b = opened_by(stack, a, newer), opened_by(stack, b, newer)
        exchange(newest, a)  # b's own log, for the newer device
        assert newest.replica.vector() == a.replica.vector()
        assert a.state_hash() == b.state_hash() == newest.state_hash()


@pytest.mark.parametrize("view_format", [VIEW_FORMAT, VIEW_FORMAT - 1], ids=["same-format", "older-format"])
def test_a_store_folded_before_the_record_folds_the_kinds_its_version_skipped(
    tmp_path: Path, view_format: int
) -> None:
    """The issue's rolling upgrade: a device from before police areas held `village.area`
    operations it could not fold, in a store with no record of what its fold knew (and, in
    one run, views of the format before this one)."""
    with station_devices(tmp_path, 1) as (authority, officer), ExitStack() as stack:
        authority.place_village("石门村", "城关警务区")
        case = authority.new_case("石门村", "land", "red", "宅基地边界纠纷")
        old = opened_by(stack, officer, before_areas)
        report, _ = sync(authority, old)
        assert report.error is None and report.refused == 0
        assert old.replica.waiting() == 1
        assert "villages" not in old.replica.view_tables
        with old.db.transaction():  # what a version from before the record left
            old.replica.local.remove_keys([FOLDED_WITH_KEY])
            old.replica.local.put(VIEW_FORMAT_KEY, {"version": view_format})
            old.replica.waiting_ops.remove_keys(list(old.replica.waiting_ops.raw()))

        upgraded = opened_by(stack, old, today)
        assert upgraded.areas() == {"石门村": "城关警务区"}
        assert upgraded.case(case["id"])["risk"] == "red"
        assert upgraded.state_hash() == authority.state_hash()
        assert upgraded.replica.waiting() == 0
        assert upgraded.replica.local.get_copy(FOLDED_WITH_KEY) == upgraded.replica._folded_with


def test_a_local_operation_with_a_field_this_version_does_not_read_is_refused(tmp_path: Path) -> None:
    """A device makes only what every device of its version folds in full (a misspelt field
    would be stored, relayed, and ignored everywhere)."""
    with station_devices(tmp_path, 1) as (_, officer):
        case = officer.new_case("石门村", "land", "yellow", "宅基地边界纠纷")
        before = officer.replica.vector()
        with pytest.raises(CaseError, match="does not read every field"):
            officer.update(case["id"], fields={"dialekt": "苗语"})
        assert officer.replica.vector() == before


def test_a_newer_device_kind_can_arrive_before_the_device_it_is_about(tmp_path: Path) -> None:
    """Gossip may bring an operation about a device before that device's own log: the log still
    verifies when it comes (its entry holds no key yet), and the operation is folded then."""
    with station_devices(tmp_path, 2) as (authority, a, b), ExitStack() as stack:
        exchange(authority, a)
        newest = opened_by(stack, authority, newer)
        newest.replica.record(LABEL, a.identity.device_id, {"label": "二号巡逻车"})
        b = opened_by(stack, b, newer)
        entries = list(newest.replica.entries_missing_from(b.replica.vector()))
        stations = [e for e in entries if decode_trusted(*e).author == newest.identity.device_id]
        assert b.replica.apply(stations).rejections == []
        assert b.replica.public_key(a.identity.device_id) is None  # the label came, a's key did not
        report = b.replica.apply([e for e in entries if e not in stations])
        assert report.rejections == [] and report.held_back == 0
        assert (b.replica.device(a.identity.device_id) or {})["label"] == "二号巡逻车"
        exchange(newest, b)
        assert b.state_hash() == newest.state_hash()


def test_a_reducer_whose_version_changed_refolds_its_table(tmp_path: Path) -> None:
    """No kind is new, only what the case reducer reads of a known one: every case is re-folded."""
    with station_devices(tmp_path, 1) as (authority, officer), ExitStack() as stack:
        newest = opened_by(stack, authority, newer_cases)
        seq = newest.replica.head(f"{newest.identity.device_id}.{newest.identity.epoch:016x}")[0] + 1
        case_id = model.case_id_for(newest.identity.device_id, newest.identity.epoch, seq)
        intake = {"village": "石门村", "category": "land", "risk": "yellow", "summary": "宅基地边界纠纷"}
        newest.replica.record(CREATE, case_id, {**intake, "dialect": "苗语"})
        exchange(newest, officer)
        assert officer.replica.waiting() == 1 and "dialect" not in officer.case(case_id)
        officer = opened_by(stack, officer, newer_cases)
        assert officer.case(case_id)["dialect"] == "苗语"
        assert officer.replica.waiting() == 0
        assert officer.state_hash() == newest.state_hash()


def test_a_newer_device_kind_that_changes_a_role_refolds_the_cases(tmp_path: Path) -> None:
    """Today's device refuses a promoted officer's supervisor-only edit (it cannot know of the
    promotion); once upgraded, the devices view changes on opening and every case is re-folded."""
    with station_devices(tmp_path, 2) as (authority, a, b), ExitStack() as stack:
        case = a.new_case("石门村", "land", "yellow", "宅基地边界纠纷")
        exchange(authority, a)
        newest = opened_by(stack, authority, newer_devices)
        newest.replica.record(PROMOTE, a.identity.device_id, {"epoch": a.identity.epoch})
        a = opened_by(stack, a, newer_devices)
        exchange(newest, a)
        a.update(case["id"], fields={"deadline": "2031-12-31"})  # a supervisor's edit, made by a
        exchange(a, b)
        assert b.case(case["id"])["deadline"] is None
        assert b.replica.waiting() == 1  # the promotion

        b = opened_by(stack, b, newer_devices)
        assert b.replica.role(a.identity.device_id, a.identity.epoch, 1) == "supervisor"
        assert b.case(case["id"])["deadline"] == "2031-12-31"
        assert_none_refused(b)
        converge([newest, a, b])
        assert a.state_hash() == b.state_hash() == newest.state_hash()


def test_records_waiting_for_a_newer_version_are_said_on_the_command_line_and_in_the_app(
    tmp_path: Path,
) -> None:
    """Where it matters (after a sync, beside a state hash, on unlock) the user learns that this
    device keeps records it cannot show yet, and that updating fieldapp shows them."""
    import asyncio

    from fieldapp import __version__, i18n
    from fieldapp.tui.app import FieldApp
    from tests.cli import fieldapp

    with station_devices(tmp_path, 1) as (authority, a), ExitStack() as stack:
        exchange(authority, a)
        newest = opened_by(stack, authority, newer)
        newer_work(newest, a.identity.device_id)
        exchange(newest, a)
        assert a.replica.waiting() == 4
        store = a.db.store.directory
        a.close()

    for lang, words in (("en", "4 record(s) made by a newer version"), ("zh", "4 条由新版本 fieldapp 记录")):
        result = fieldapp("state-hash", "--store", store, "--lang", lang)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.strip()) == 64  # the hash alone on stdout, for scripts
        assert words in result.stderr and __version__ in result.stderr

    async def unlock() -> list[str]:
        app = FieldApp(store, lang="zh")
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").focus()
            await pilot.press(*PASSPHRASE, "enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            return [n.message for n in app._notifications]

    messages = asyncio.run(unlock())
    assert any(i18n.Translator("zh").t("version.waiting", n=4, version=__version__) == m for m in messages)


def before_persons() -> list[Reducer]:
    """A version from before the person views (issue 17): cases and villages."""
    return [CaseReducer(), VillageReducer()]


def test_a_view_a_version_adds_changes_no_state_hash_until_it_holds_something(tmp_path: Path) -> None:
    """`fieldapp state-hash` is how two devices check they agree: a version that adds a view
    (persons) hashes as the version before over the same operations, while no operation reaches
    the new view; once one does, the hashes differ (the older device counts it as waiting)."""
    with station_devices(tmp_path, 1) as (authority, officer), ExitStack() as stack:
        case = officer.new_case(
            "东岭村", "land", "yellow", "地界争议",
            parties=[{"name": "测试甲", "phone": "13800000001", "role": "party"}],
        )  # fmt: skip
        exchange(officer, authority)
        older = opened_by(stack, authority, before_persons)
        assert not officer.replica.view("persons") and not officer.replica.view("person_links")
        assert older.state_hash() == officer.state_hash()

        person = officer.person_index().persons()[0]
        officer.mark_key_person(person.id, plan="每周回访一次")
        exchange(officer, older)
        assert older.replica.waiting() == 1
        assert older.state_hash() != officer.state_hash()
        assert case["id"] in older.replica.view("cases")
