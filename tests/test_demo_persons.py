"""The demo station shows issue 17 to a newcomer (`fieldapp demo`, fieldapp/core/demo.py): a
person met on several officers' devices under a mobile written several ways, key persons whose
plans are due on the home screen the demo opens, a possible match and a link conflict for the
supervisor. Generated people only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from fieldapp import i18n
from fieldapp.core.demo import (
    DEMO_OFFICER,
    DEMO_PASSPHRASE,
    DISPUTED_MOBILE,
    KEY_MOBILE,
    KEY_OLD_MOBILE,
    REPEAT_MOBILE,
    build_demo_store,
)
from fieldapp.core.service import CaseService
from fieldapp.domain.person_plans import plans_due
from fieldapp.domain.persons import PERSONS_TABLE, person_id_for
from fieldapp.domain.review import review_queue
from fieldapp.tui.app import FieldApp
from fieldapp.tui.early_warning import case_lines, group_matches, summary_line
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.person import PersonScreen

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store, _ = build_demo_store(tmp_path_factory.mktemp("demo") / "store")
    return store


@pytest.fixture
def service(demo: Path) -> Iterator[CaseService]:
    svc = CaseService.open(demo, DEMO_PASSPHRASE)
    try:
        yield svc
    finally:
        svc.close()


def test_a_repeat_party_is_one_person_across_officers_villages_and_spellings(service: CaseService) -> None:
    index = service.person_index()
    person = index.get(person_id_for(f"mobile:{REPEAT_MOBILE}"))
    assert person is not None and len(person.cases) >= 3
    assert len(person.villages) >= 2
    authors = {service.case(c.id)["created_by"] for c in person.cases}
    assert len(authors) >= 2, "recorded on two or more officers' devices"
    spellings = {
        party["phone"]
        for c in person.cases
        for party in service.case(c.id)["parties"]
        if party["phone"].replace("-", "").replace(" ", "").endswith(REPEAT_MOBILE)
    }
    assert {"138-0000-1111", "+86 13800001111", REPEAT_MOBILE} <= spellings
    # The early warning a new intake with that mobile gets: the open and recent cases.
    warned = service.related_cases([{"name": "张某某", "phone": REPEAT_MOBILE, "role": "party"}])
    assert {c["id"] for c in warned} == {c.id for c in person.cases}
    # The warning's panel says they are a key person (the supervisor marked them), in both languages.
    matches = group_matches(warned, index)
    assert summary_line(matches, expanded=False).startswith(
        "Early warning: 3 open/recent case(s) of 张某某, a key person (same mobile)."
    )
    i18n.set_language("zh")  # conftest sets English again for the next test
    assert case_lines(matches, str)[0] == "重点人员张某某，同一手机号：3 起"


def test_the_opened_device_has_key_persons_plans_due_one_overdue(service: CaseService) -> None:
    index = service.person_index()
    persons = service.replica.view(PERSONS_TABLE)
    today = date.today().isoformat()
    due = plans_due(index, persons, service.identity.device_id, today)
    key = index.resolve(person_id_for(f"mobile:{KEY_MOBILE}"))
    assert {p.person for p in due} == {key, index.resolve(person_id_for(f"mobile:{REPEAT_MOBILE}"))}
    assert any(p.due < today for p in due) and any(p.due == today for p in due)
    # The key person's old number was linked to the new one: an alias to try `x` on.
    assert key is not None and index.resolve(person_id_for(f"mobile:{KEY_OLD_MOBILE}")) == key
    person = index.get(key)
    assert person is not None and person.key and len(person.cases) == 2 and len(person.aliases) == 1


def test_a_possible_match_and_a_link_conflict_await_the_supervisor(service: CaseService) -> None:
    index = service.person_index()
    proposed = {(p.names[0], q.names[0]) for p in index.persons() for q in index.proposals(p.id)}
    assert ("赵桂兰", "赵贵兰") in proposed  # the same pinyin in 青石社区, neither with a mobile
    links = service.replica.view("person_links")
    queue = review_queue(service.cases_view().values(), links=links)
    assert queue.counts["link_conflict"] == 1
    [pair] = [entity for entity, doc in links.items() if any(c["open"] for c in doc["conflicts"])]
    assert person_id_for(f"mobile:{DISPUTED_MOBILE}") in pair.split("+")  # 周德明 with and without it


def test_the_demo_opens_on_home_with_the_plans_due(demo: Path) -> None:
    async def main() -> None:
        app = FieldApp(demo, lang="en")
        async with app.run_test(size=(120, 36)) as pilot:
            app.screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
            await pilot.press("enter")
            await app.workers.wait_for_complete()  # the unlock, then the plans' index
            await pilot.pause()
            home = app.screen
            assert isinstance(home, HomeScreen)
            table = home.query_one("#due", DataTable)
            plans = [str(row.value) for row in table.rows if str(row.value).startswith("plan|")]
            assert len(plans) == 2
            overdue = [row for row in table.rows if "overdue" in str(table.get_row(row)[2])]
            [row] = [row for row in overdue if str(row.value).startswith("plan|")]
            table.focus()
            table.move_cursor(row=table.get_row_index(row))
            await pilot.press("enter")  # the key person's file
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PersonScreen) and screen.person is not None
            assert screen.person.names[0] == "马永福"
            plan = str(screen.query_one("#person-plan", Static).render())
            # The supervisor's plan names no officer: it is the writer's, as home says, not "none".
            assert f"Responsible: {DEMO_OFFICER}, who wrote it (no officer named)" in plan

    asyncio.run(main())
