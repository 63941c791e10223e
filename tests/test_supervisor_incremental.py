"""The supervisor's screen refreshes from what changed (issue 16; docs/sync.md, "The shift board").

The replica's change feed (`sync.changes`) names the cases each fold wrote; the screen reads
again only those, keeps a copy, the facts and the review items of every case, and computes the
figures and the queue again from them. After random merged changes the figures and the queue
must equal a fresh build over the whole caseload, exactly.
"""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseError, CaseService
from fieldapp.core.station import fork_rows
from fieldapp.domain import model
from fieldapp.domain.review import review_queue
from fieldapp.outputs import shift
from fieldapp.outputs.dashboard import build_dashboard
from fieldapp.outputs.reports import state_facts
from fieldapp.tui.app import FieldApp
from fieldapp.tui.screens import supervisor
from fieldapp.tui.screens.supervisor import SupervisorScreen
from fieldapp.tui.shift_board import ShiftBoard
from harness.replicas import converge, exchange, station_devices
from sync.changes import ChangeFeed
from sync.replica import OperationRefused
from tests.test_station_mode import supervisor_loaded, unlock

VILLAGES = ("东岭村", "西河村", "南坡村")


def test_the_feed_names_what_changed_after_a_token() -> None:
    feed = ChangeFeed()
    assert feed.changed_since("cases", None) == (0, None)  # nothing read yet: read everything
    feed.note("cases", ["a", "b"])
    token, changed = feed.changed_since("cases", 0)
    assert (token, changed) == (1, {"a", "b"})
    feed.note("devices", ["d"])
    feed.note("cases", ["b", "c"])
    assert feed.changed_since("cases", token) == (3, {"b", "c"})
    assert feed.changed_since("cases", 3) == (3, set())


@pytest.mark.timeout(60)
def test_a_merge_names_exactly_the_cases_it_folded(tmp_path: Path) -> None:
    with station_devices(tmp_path, 1) as (station, officer):
        kept = officer.new_case("东岭村", "land", "yellow", "田界纠纷")["id"]
        exchange(station, officer)
        token, _ = station.replica.changes.changed_since("cases", None)
        changed = officer.new_case("西河村", "debt", "yellow", "欠款")["id"]
        officer.add_visit(kept, "home", "走访记录")
        exchange(station, officer)
        station.cases_view()
        _, named = station.replica.changes.changed_since("cases", token)
        assert named == {kept, changed}
        token, _ = station.replica.changes.changed_since("cases", token)
        station.update(changed, fields={"risk": "red"})  # a write on this device too
        assert station.replica.changes.changed_since("cases", token)[1] == {changed}


def full_build(service: CaseService, screen: SupervisorScreen) -> tuple[Any, Any]:
    """The figures and the queue built afresh from every case of the view (no cache)."""
    states = [s for s in service.cases_view().values() if s.get("exists")]
    board = build_dashboard(states, today=screen._today(), areas=service.areas(), facts_of=state_facts)
    queue = review_queue(
        service.cases_view().values(),
        fork_rows(service),
        service.replica.rejections.all(),
        service.devices_view().values(),
    )
    return board, queue


def random_changes(rng: random.Random, officers: list[CaseService], changes: int) -> None:
    """Intakes, edits, visits, escalations, resolutions and concurrent edits (conflicts)."""
    for _ in range(changes):
        officer = rng.choice(officers)
        cases = [c for c, s in officer.cases_view().items() if s.get("exists")]
        action = rng.choice(("new", "new", "risk", "visit", "escalate", "resolve", "overdue", "conflict"))
        try:
            if action == "new" or not cases:
                officer.new_case(
                    rng.choice(VILLAGES), rng.choice(model.CATEGORIES), rng.choice(model.RISKS), "纠纷"
                )
            elif action == "risk":
                officer.update(rng.choice(cases), fields={"risk": rng.choice(model.RISKS)})
            elif action == "visit":
                officer.add_visit(rng.choice(cases), "home", "走访记录")
            elif action == "escalate":
                officer.update(rng.choice(cases), status="escalated", tier=2, reason="需上级协调")
            elif action == "resolve":
                officer.update(
                    rng.choice(cases), status="resolved", outcome={"kind": "agreement", "terms": "双方和解"}
                )
            elif action == "overdue":
                officer.update(rng.choice(cases), fields={"deadline": "2020-01-31"})
            else:  # the same field edited on two devices before they meet
                shared = [c for c in cases if all(c in o.cases_view() for o in officers)]
                if shared:
                    case_id = rng.choice(shared)
                    for other in officers:
                        other.update(case_id, fields={"village": rng.choice(VILLAGES)})
        except (CaseError, OperationRefused):
            continue  # a change the rules refuse in the case's state: none made


@pytest.mark.timeout(240)
@pytest.mark.parametrize("seed", [1, 2])
def test_an_incremental_refresh_equals_a_full_build(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with station_devices(tmp_path, 2) as (authority, first, second):
        officers = [first, second]
        random_changes(rng, officers, 30)
        converge([authority, first, second])
        station_dir = authority.db.store.directory
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                service = app.service
                assert service is not None
                read: list[str] = []
                reader = screen._read_case

                def counted(case_id: str, state: Any) -> None:
                    read.append(case_id)
                    reader(case_id, state)

                screen._read_case = counted  # type: ignore[method-assign]
                for round_ in range(4):
                    random_changes(rng, officers, 12)
                    if round_ % 2:
                        exchange(first, second)
                    for officer in officers:
                        exchange(service, officer)
                    if round_ == 2:  # the supervisor's own decisions count too
                        waiting = [i for i in screen.queue.items if i.kind == "escalation"]
                        if waiting:
                            service.approve_escalation(waiting[0].case_id)
                    read.clear()
                    loads = screen.loads
                    screen.action_refresh()
                    await screen.workers.wait_for_complete()
                    await pilot.pause()
                    assert screen.loads == loads + 1
                    board, queue = full_build(service, screen)
                    assert screen.board == board
                    assert screen.queue == queue
                    total = sum(1 for s in service.cases_view().values() if s.get("exists"))
                    assert 0 < len(read) < total  # only what changed was read again
                assert sum(screen.queue.counts.values()) > 0

        asyncio.run(main())


@pytest.mark.timeout(60)
def test_the_queue_and_the_shift_report_are_built_off_the_apps_thread(
    tmp_path: Path, monkeypatch: Any
) -> None:
    threads: dict[str, set[str]] = {"queue": set(), "shift": set()}
    queue_of, report_of = supervisor.assemble_queue, shift.build_shift

    def queue(*args: Any, **kwargs: Any) -> Any:
        threads["queue"].add(threading.current_thread().name)
        return queue_of(*args, **kwargs)

    def report(*args: Any, **kwargs: Any) -> Any:
        threads["shift"].add(threading.current_thread().name)
        return report_of(*args, **kwargs)

    monkeypatch.setattr(supervisor, "assemble_queue", queue)
    monkeypatch.setattr(shift, "build_shift", report)
    with station_devices(tmp_path, 1) as (authority, officer):
        officer.new_case("东岭村", "land", "red", "田界纠纷")
        exchange(authority, officer)
        station_dir, device = authority.db.store.directory, officer.identity.device_id
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                await pilot.press("5")
                await screen.workers.wait_for_complete()
                await pilot.pause()
                board = screen.query_one(ShiftBoard)
                assert board.builds == 1 and board.report is not None
                assert [row["device"] for row in board.report["devices"]] == [device]

        asyncio.run(main())
    main_thread = threading.main_thread().name
    assert threads["queue"] and main_thread not in threads["queue"]
    assert threads["shift"] and main_thread not in threads["shift"]


@pytest.mark.timeout(120)
def test_a_refresh_draws_again_only_the_tabs_whose_data_changed(tmp_path: Path) -> None:
    """Every tab built: a refresh with nothing changed draws none of them again (the dashboard's
    hint no longer says it is gathering); an escalation merged draws the review tab (its row
    shown), not the reports, shift or key persons tabs; a language switch draws them all."""
    with station_devices(tmp_path, 1) as (authority, officer):
        case = officer.new_case("东岭村", "land", "red", "田界纠纷")["id"]
        exchange(authority, officer)
        station_dir = authority.db.store.directory
        authority.close()

        async def main() -> None:
            app = FieldApp(station_dir, lang="en")
            async with app.run_test(size=(120, 36)) as pilot:
                await unlock(app, pilot)
                await pilot.press("d")
                screen = await supervisor_loaded(app, pilot)
                service = app.service
                assert service is not None
                for key in "234561":
                    await pilot.press(key)
                    await screen.workers.wait_for_complete()
                    await pilot.pause()
                drawn: list[str] = []
                draw_tab = screen._draw_tab

                def counted(tab: str) -> None:
                    drawn.append(tab)
                    draw_tab(tab)

                screen._draw_tab = counted  # type: ignore[method-assign]

                async def refreshed() -> None:
                    drawn.clear()
                    loads = screen.loads
                    screen.action_refresh()
                    await screen.workers.wait_for_complete()
                    await pilot.pause()
                    assert screen.loads == loads + 1

                await refreshed()
                assert drawn == []
                hint = str(screen.query_one("#dash-hint", supervisor.Static).render())
                assert hint == str(supervisor.Static(supervisor.t("dash.hint")).render())
                officer.update(case, status="escalated", tier=2, reason="需要村调委会")
                exchange(service, officer)
                await refreshed()
                assert "review" in drawn
                assert not {"reports", "shift", "persons"} & set(drawn)
                queue = screen.query_one("#queue", supervisor.DataTable)
                assert any(i.kind == "escalation" for i in screen.queue.items)
                assert [i.key for i in screen.queue.items if i.kind == "escalation"][0] in {
                    str(row.value) for row in queue.rows
                }
                drawn.clear()
                await pilot.press("f2")
                await pilot.pause()
                assert set(drawn) == set(supervisor.TABS)

        asyncio.run(main())
