"""The app at 80x24 and in Chinese: every action reachable, every character of a message shown,
and messages that name the app's keys rather than command lines."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from string import Formatter

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

# Every screen's strings registered, so the scans below see the whole catalogue.
import fieldapp.tui.screens.intake  # noqa: F401
import fieldapp.tui.screens.supervisor  # noqa: F401
import fieldapp.tui.screens.sync  # noqa: F401
from fieldapp import i18n
from fieldapp.i18n import sync_errors
from fieldapp.tui.app import FieldApp  # (importing it installs the whole-character compositor)
from fieldapp.tui.footer import Footer
from fieldapp.tui.screens.case_detail import ACTIONS, CaseScreen
from fieldapp.tui.screens.keys_help import KeysHelp
from harness import PASSPHRASE
from harness.replicas import exchange, station_devices

pytestmark = pytest.mark.timeout(300)

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def filled(template: str) -> str:
    """A catalogue text with every placeholder filled by a short stand-in."""
    fields = {name: spec for _, name, spec, _ in Formatter().parse(template) if name}
    return template.format(**{name: 1.5 if spec else "X1" for name, spec in fields.items()})


class Ruled(App[None]):
    """A screen ruled into one-column widgets, so a widget edge lies under every cell of a toast;
    its toasts are drawn as the app draws them (importing the app fits them: `fieldapp.tui.toasts`)."""

    CSS = "Static { width: 1; height: 100%; } #left { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(" ", id="left")
            for _ in range(44):  # toasts lie in the right half
                yield Static(" ")


def shown_text(app: App[None], toast: Toast) -> str:
    """What the screen shows where `toast` lies, with line breaks and spaces removed."""
    lines = app.screen._compositor.render_strips()
    region = toast.region
    # The lowest toast's bottom padding may lie a row below the screen; its text never does (if it
    # did, the text would be missing from what is read here and the test would say so).
    rows = range(region.y, min(region.bottom, len(lines)))
    text = "".join(lines[y].crop(region.x, region.right).text for y in rows)
    return "".join(text.replace("▌", "").split())


def test_every_chinese_message_shows_every_character_in_a_toast() -> None:
    """'草稿已丢弃。' over the intake form showed as '草稿  丢弃。': a character that straddled the
    edge of a widget below became two spaces; and at 80 columns a toast lost its last line
    ('已锁定，但已输入的内容未能保存：X1。' without '请解锁后重新输入。': Textual reckons a toast's
    height at 60 columns, then narrows it to half the screen). Every Chinese text, as a toast
    over a screen with an edge under every column, shows all its characters."""
    texts = sorted({filled(text) for text in i18n.ZH.values() if CJK.search(text)})
    lost: list[tuple[str, str]] = []

    async def main() -> None:
        app = Ruled()
        # Twelve toasts of the longest texts stand over 100 rows high: all on screen at 200.
        async with app.run_test(size=(80, 200), notifications=True) as pilot:
            for start in range(0, len(texts), 12):
                app.clear_notifications()
                batch = texts[start : start + 12]
                for text in batch:
                    app.notify(text, markup=False, timeout=60)
                await pilot.pause()
                await pilot.pause()
                toasts = list(app.screen.query(Toast))
                assert len(toasts) == len(batch)
                for toast, text in zip(toasts, batch, strict=True):
                    want = "".join(Content(text).plain.split())
                    got = shown_text(app, toast)
                    if want not in got:
                        lost.append((text, got))

    asyncio.run(main())
    assert not lost, lost[:5]


# ------------------------------------------------------------------ 80x24: every action in sight


async def unlock(app: FieldApp, pilot: Pilot[None]) -> None:
    app.screen.query_one("#passphrase", Input).value = PASSPHRASE
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


def screen_lines(app: FieldApp) -> list[str]:
    """The screen as text, one string per line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def whole_footer_keys(app: FieldApp) -> dict[str, str]:
    """The footer's keys shown whole (action -> "key description"); fails on a key shown cut."""
    lines = screen_lines(app)
    footer = app.screen.query_one(Footer)
    palette = [key for key in footer.query(FooterKey) if key.has_class("-command-palette")]
    right = palette[0].region.x if palette else app.size.width
    shown: dict[str, str] = {}
    for key in footer.query(FooterKey):
        if not key.display or key in palette:
            continue
        label = f"{key.key_display} {key.description}"
        region = key.region
        assert region.x >= 0 and region.x + cell_len(label) <= right, (label, region, lines[region.y])
        assert label in lines[region.y], (label, lines[region.y])
        shown[key.action.removeprefix("app.")] = label
    return shown


def whole_buttons(app: FieldApp) -> dict[str, str]:
    """The case screen's buttons shown whole (action -> label)."""
    lines = screen_lines(app)
    actions = {button_id: action for button_id, _key, action in ACTIONS}
    shown: dict[str, str] = {}
    for button in app.screen.query("#case-actions Button").results(Button):
        label = str(button.label)
        region = button.region
        if region.right <= app.size.width and label in lines[region.y]:
            shown[actions[button.id or ""]] = label
    return shown


def offered(screen: CaseScreen) -> set[str]:
    """The case screen's own actions that apply now (the language switch is the app's)."""
    return {
        b.action
        for b in CaseScreen.BINDINGS
        if not b.action.startswith("app.") and screen.check_action(b.action, ()) is not False
    }


@pytest.fixture
def pending_escalation(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    """The supervisor's and the officer's stores, holding a case whose escalation awaits approval."""
    with station_devices(tmp_path, 1) as (supervisor, officer):
        case = officer.new_case(
            "东岭村",
            "land",
            "red",
            "两户因田界石移位发生争执",
            parties=[{"name": "张某某", "phone": "13800001111", "role": "applicant"}],
        )
        exchange(officer, supervisor)
        officer.update(case["id"], status="escalated", tier=2, reason="需要村调委会")
        exchange(officer, supervisor)
        stores = supervisor.db.store.directory, officer.db.store.directory
    yield stores[0], stores[1], str(case["id"])


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("who", ["supervisor", "officer"])
def test_every_case_action_is_visible_whole_at_80x24(
    pending_escalation: tuple[Path, Path, str], who: str, lang: str
) -> None:
    """At 80x24 the buttons ran past the edge ("Bac") and the footer cut the supervisor's keys
    ("t De"). Every action the case screen offers is now a whole button or a whole footer key,
    F1 is in the footer, and F1 lists every action with its key."""
    supervisor_store, officer_store, case_id = pending_escalation
    store = supervisor_store if who == "supervisor" else officer_store

    async def main() -> None:
        app = FieldApp(store, lang=lang, lock_after=None)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(app, pilot)
            app.open_case(case_id)
            await pilot.pause()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, CaseScreen)
            actions = offered(screen)
            if who == "supervisor":
                assert {"assign", "deadline", "approve"} <= actions
            buttons, keys = whole_buttons(app), whole_footer_keys(app)
            assert actions <= set(buttons) | set(keys), (actions, buttons, keys)
            assert "keys_help" in keys

            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, KeysHelp)
            listed = "\n".join(app.screen.texts())
            for binding in CaseScreen.BINDINGS:
                if binding.action in actions:
                    assert i18n.t(binding.description) in listed, (binding.description, listed)
            assert all(line in "\n".join(screen_lines(app)) for line in app.screen.texts())
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen

    asyncio.run(main())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_footer_key_is_cut_at_80x24_on_any_screen(
    pending_escalation: tuple[Path, Path, str], lang: str
) -> None:
    """Home, find, sync, intake, the supervisor's tabs and a case dialog at 80x24: each footer
    key is shown whole or not at all, and F1 (every key) is always shown."""
    supervisor_store, _officer_store, case_id = pending_escalation

    async def main() -> None:
        app = FieldApp(supervisor_store, lang=lang, lock_after=None)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "keys_help" in whole_footer_keys(app)  # the unlock screen
            await unlock(app, pilot)
            seen = {type(app.screen).__name__: whole_footer_keys(app)}
            for action in ("find", "sync", "new_intake", "supervise"):
                getattr(app, f"action_{action}")()
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
                seen[type(app.screen).__name__] = whole_footer_keys(app)
                if action == "supervise":
                    for tab in "234":
                        await pilot.press(tab)
                        await pilot.pause()
                        await app.workers.wait_for_complete()
                        await pilot.pause()
                        seen[f"SupervisorScreen tab {tab}"] = whole_footer_keys(app)
                app.pop_screen()
                await pilot.pause()
            app.open_case(case_id)
            await pilot.pause()
            await pilot.press("u")
            await pilot.pause()
            seen[type(app.screen).__name__] = whole_footer_keys(app)
            assert len(seen) == 9, seen.keys()
            for name, keys in seen.items():
                assert "keys_help" in keys, (name, keys)

    asyncio.run(main())


# ------------------------------------------------------------------ keys, not command lines

#: Commands the app's texts may still name, because the app has no key or screen for them.
NO_KEY_IN_THE_APP = {
    "fieldapp enrol ": "enrolment (the code exchange with the supervisor's device) runs only on the "
    "command line; the sync screen says so and names what the officer and the supervisor each run",
    "fieldapp init": "the app opens a store; only the command line makes one",
    "fieldapp store salvage": "the app opens only a sound store; salvage is a command-line repair",
    "fieldapp serve": "names what runs on the other device (a store in use elsewhere, a peer not "
    "listening); the app does not serve",
    "fieldapp sync --interface": "discovery's network address is given only on the command line; "
    "the sync screen offers typing HOST:PORT instead",
    "fieldapp station set": "the mediation organisation is set only on the command line",
    "fieldapp station open": "names how to start the app serving, in the refusal of a store another "
    "process holds: this app cannot open that store to offer F6",
    "fieldapp --version": "the app has no version screen; the texts give both versions as well",
    "fieldapp person link ": "joining again two ids unlinked by x: the person screen's l offers only "
    "possible matches, and an unlinked pair is no longer proposed",
}

COMMAND_LINE = re.compile(r"`(fieldapp [^`]*)`")


def tui_texts() -> dict[str, str]:
    """Every catalogue text the app can show, in both languages ("key lang" -> text).

    The keys named in fieldapp/tui (literally, or as a prefix like f"error.{code}"), the texts
    the app shows from codes rendered elsewhere (sync errors, the version notice); for a key
    with an app wording (`i18n.app_key`), the app wording.
    """

    tui = Path(__file__).resolve().parents[1] / "fieldapp" / "tui"
    source = "\n".join(p.read_text(encoding="utf-8") for p in tui.rglob("*.py"))
    named = set(re.findall(r"\"([a-z0-9_]+(?:\.[a-z0-9_]+)+)\"", source))
    prefixes = tuple(re.findall(r"f\"([a-z0-9_.]+\.)\{", source)) + ("sync.error.",)
    keys = {k for k in i18n.ZH if k in named or k.startswith(prefixes)} | {"version.waiting"}
    keys = {i18n.app_key(k) for k in keys if not k.endswith(i18n.APP_WORDING)}
    assert {"agreement.tui.none", "sync.no_interface"} <= keys  # the scan reaches the screens' texts
    assert any(k.startswith("error.fork_unknown") for k in keys)  # and the refusals from codes
    texts = {f"{k} {lang}": i18n.CATALOGUES[lang][k] for k in keys for lang in i18n.LANGUAGES}
    for english, chinese in sync_errors._SYNC_FIXED.items():
        texts[f"sync reason {english[:30]}"] = english + " " + chinese
    return texts


def test_the_app_names_its_keys_not_command_lines() -> None:
    """`g`'s refusal named `fieldapp visit add`, a supervisor's fork refusals `fieldapp device
    settle` and `device forks`, the sync screen `fieldapp serve`: the app has keys and screens
    for those. A text the app shows names a command only where the app has no key for it."""
    texts = tui_texts()
    assert len(texts) > 400
    named = {
        (where, command)
        for where, text in texts.items()
        for command in COMMAND_LINE.findall(text)
        if not command.startswith(tuple(NO_KEY_IN_THE_APP))
    }
    assert not named, sorted(named)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_fork_refusal_names_the_review_tab_in_the_app_and_the_command_on_the_command_line(
    lang: str,
) -> None:
    """One catalogue, two wordings: the app's (`error.fork_unknown.app`) names the Review tab, the
    command line's names `fieldapp device forks`."""
    from fieldapp.core.station import StationError
    from fieldapp.tui.screens.supervisor_dialogs import station_refusal

    i18n.set_language(lang)
    english = i18n.Translator("en").t("error.fork_unknown", fork="f1")
    shown = str(station_refusal(StationError(english, "fork_unknown", {"fork": "f1"})))
    assert "fieldapp" not in shown and "f1" in shown
    assert ("Review tab (2)" if lang == "en" else "待审核页（2）") in shown
    assert "`fieldapp device forks`" in i18n.Translator(lang).t("error.fork_unknown", fork="f1")
