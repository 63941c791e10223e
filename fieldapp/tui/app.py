"""The Textual application: owns the language and the unlocked store, nothing else."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.align import Align
from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, Hit, Hits
from textual.reactive import reactive
from textual.screen import Screen
from textual.system_commands import SystemCommandsProvider
from textual.widgets.option_list import Option

from fieldapp import i18n
from fieldapp.core.service import CaseError, CaseService
from fieldapp.core.serving import ServeStatus
from fieldapp.core.settings import remember_language, remembered_language
from fieldapp.domain.search import pinyin_forms
from fieldapp.i18n import supervisor as _supervisor_strings  # noqa: F401  (palette and footer texts)
from fieldapp.i18n import t
from fieldapp.tui.bindings import translate_bindings, translate_textual_labels
from fieldapp.tui.resume import Place, places_of
from fieldapp.tui.screens.caseload import CaseloadScreen
from fieldapp.tui.screens.home import HomeScreen
from fieldapp.tui.screens.keys_help import KeysHelp, key_lines
from fieldapp.tui.screens.unlock import Clock, Opener, UnlockScreen
from fieldapp.tui.station_mode import StationMode
from fieldapp.tui.toasts import install as fit_toasts
from fieldapp.tui.wide_chars import install as keep_wide_chars_whole
from storage import FieldDB, StoreError

#: Auto-lock after five idle minutes unless `fieldapp --lock-after` says otherwise.
DEFAULT_LOCK_AFTER = 300.0
IDLE_CHECK_SECONDS = 5.0
#: A terminal with fewer rows is short (80x24): forms draw each field on one line (app.tcss, "-short").
SHORT_ROWS = 30

# Chinese text in toasts and dialogs over other widgets keeps every character (Textual #6357).
keep_wide_chars_whole()
fit_toasts()


class PinyinCommands(SystemCommandsProvider):
    """The app's commands, matched by their title or its pinyin: ``tb`` or ``tongbu`` finds 同步."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
                continue
            # The title itself did not match: its full pinyin or initials (a lesser score).
            score = max(matcher.match(form) for form in pinyin_forms(name))
            if score > 0:
                yield Hit(score * 0.9, name, callback, help=help_text)


class Palette(CommandPalette):
    """Textual's command palette, saying "no matches" in the UI language (Textual writes it in English)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual 8's countdown with the text from the catalogue; the option keeps Textual's id,
        # so the palette removes it as it removes its own when the query changes.
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                no_matches = Text(t("palette.no_matches"), style="not bold")
                self.query_one(CommandList).add_option(
                    Option(Align.center(no_matches), disabled=True, id=self._NO_MATCHES)
                )
            self._list_visible = bool(search_value)

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


class FieldApp(App[None]):
    """fieldapp's terminal UI; the store opener and clock are injected for tests."""

    CSS_PATH = "app.tcss"
    # The palette lists fieldapp's own commands, translated (get_system_commands), not Textual's.
    ENABLE_COMMAND_PALETTE = True
    # Declared here (Textual would add one labelled "palette") so the footer label is translated.
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "binding.palette", show=False, priority=True),
        # Every key of the screen, for a footer too narrow to hold them (80 columns).
        Binding("f1", "keys_help", "binding.keys_help"),
    ]
    COMMANDS = {PinyinCommands}

    language: reactive[str] = reactive(i18n.DEFAULT_LANGUAGE, init=False)
    """The UI language ("en" or "zh"); screens watch it to relabel themselves."""
    serving: reactive[ServeStatus | None] = reactive(None, init=False)
    """What station mode is doing (None: not serving); the serving lines watch it."""

    def __init__(
        self,
        store_dir: Path,
        lang: str | None = None,
        open_store: Opener = FieldDB.open,
        clock: Clock = time.monotonic,
        lock_after: float | None = DEFAULT_LOCK_AFTER,
        serve: tuple[str, int] | None = None,
    ) -> None:
        super().__init__()
        #: Station mode: this app's server, if serving (`fieldapp.tui.station_mode`).
        self.station_mode = StationMode(self)
        #: (address, port) to serve on once unlocked (`fieldapp station open`).
        self._serve_on_unlock = serve
        self.store_dir = Path(store_dir)
        self._open_store = open_store
        self._clock = clock
        #: Seconds without a key or mouse event before the store is locked (None: never).
        self.lock_after = lock_after
        self._last_input = clock()
        self.db: FieldDB | None = None
        #: This device's cases once unlocked (None for a store without a device identity).
        self.service: CaseService | None = None
        #: Where the officer was when the app locked: opened again after unlock.
        self._places: list[Place] = []
        #: The idle minutes after which the app locked itself ("" for a lock by hand).
        self._idle_minutes = ""
        # No decorative animation (tab underlines, smooth scrolling): officers' devices are
        # low-powered and on battery; a screen is drawn once, at once. TEXTUAL_ANIMATIONS overrides.
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"
        #: A language was chosen here (--lang or F2): remembered for the device once unlocked;
        #: otherwise the device's remembered choice is taken on unlock (`fieldapp.core.settings`).
        self._language_chosen = lang is not None
        self.set_reactive(FieldApp.language, i18n.normalise_language(lang or i18n.detect_language()))
        i18n.set_language(self.language)
        self.title = i18n.t("app.title")
        translate_bindings(self)

    def on_mount(self) -> None:
        """Start locked. (Pushed, not the default screen, so `switch_screen` can replace it.)"""
        self.push_screen(self._unlock_screen())
        if self.lock_after is not None:
            self.set_interval(min(IDLE_CHECK_SECONDS, self.lock_after), self.lock_if_idle)

    def on_resize(self, event: events.Resize) -> None:
        """A short terminal gets the compact forms (the `-short` class, app.tcss)."""
        self.set_class(event.size.height < SHORT_ROWS, "-short")

    async def on_event(self, event: events.Event) -> None:
        """Any key or mouse action counts as use (for auto-lock)."""
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self._last_input = self._clock()
        await super().on_event(event)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A focused widget's footer keys in the UI language, Textual's own widgets' included
        (an open Select's menu labels Escape in English otherwise)."""
        translate_textual_labels(event.widget)

    def lock_if_idle(self) -> None:
        """Lock when unlocked and idle too long, unless a sync is still running."""
        if self.db is None or self.lock_after is None:
            return
        if self._clock() - self._last_input < self.lock_after:
            return
        if any(worker.group == "sync" and worker.is_running for worker in self.workers):
            return
        minutes = f"{self.lock_after / 60:g}"
        self.action_lock()
        self._idle_minutes = minutes
        self.notify(t("app.auto_locked", minutes=minutes), timeout=30)

    def _unlock_screen(self) -> UnlockScreen:
        if self.station_mode.serving is not None:  # the store stays open for the server
            return UnlockScreen(self.store_dir, self.station_mode.unlock_with_key_file, self._clock)
        return UnlockScreen(self.store_dir, self._open_store, self._clock)

    def watch_language(self, language: str) -> None:
        # Runs before the screens' watchers, so they already see the new catalogue.
        i18n.set_language(language)
        self.title = i18n.t("app.title")
        translate_bindings(self)
        if self.service is not None and self._language_chosen:
            remember_language(self.service.replica.local, language)

    def on_unlock_screen_unlocked(self, message: UnlockScreen.Unlocked) -> None:
        """Keep the opened store and show the caseload."""
        self._close_store()
        self.db = message.db
        if self.station_mode.holds(message.db):  # unlocked again while serving: its one service
            self.service = self.station_mode.service
        else:
            try:
                self.service = CaseService(message.db)
            except CaseError:
                self.service = None
        if self.service is not None:
            remembered = remembered_language(self.service.replica.local)
            if self._language_chosen:
                remember_language(self.service.replica.local, self.language)
            elif remembered is not None:
                self.language = remembered
        self._last_input = self._clock()
        # Screens pushed over home (a case, the sync screen) go with the unlock screen.
        self.switch_screen(HomeScreen(message.db))
        self.clear_notifications()  # "locked, enter the passphrase" is done with
        places, minutes = self._places, self._idle_minutes
        self._places, self._idle_minutes = [], ""
        self._return_to(places)
        if minutes:
            self.notify(t("app.resumed_after_lock", minutes=minutes), timeout=30)
        notice = self.service.waiting_notice() if self.service is not None else None
        if notice:
            self.notify(notice, severity="warning", timeout=30)
        serve, self._serve_on_unlock = self._serve_on_unlock, None
        if serve is not None and self.service is not None:
            self.run_worker(self.station_mode.start(*serve), group="station-mode", exclusive=True)

    def action_lock(self) -> None:
        """Keep what was typed in open forms and dialogs (encrypted, as drafts), note where the
        officer was, close the store and ask for the passphrase again."""
        failed: StoreError | OSError | None = None
        if self.db is not None:
            above_home = self.screen_stack[2:]
            self._places = places_of(above_home)
            for screen in reversed(above_home):
                keep = getattr(screen, "keep_draft", None)
                try:
                    if keep is not None:
                        keep()
                except (StoreError, OSError) as exc:  # lock all the same: the device may be left alone
                    failed = exc
        self._idle_minutes = ""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self._close_store()
        self.switch_screen(self._unlock_screen())
        # Nothing said before the lock stays on the locked screen (it may name a case).
        self.clear_notifications()
        if failed is not None:
            reason = i18n.error_message(failed)
            self.notify(t("app.draft_failed", reason=reason), severity="error", timeout=30)

    def _return_to(self, places: list[Place]) -> None:
        """Open again the screens the officer was on when the app locked (home if a case is gone)."""
        service = self.service
        if service is None:
            return
        for place in places:
            if place.screen != "case":
                continue
            try:
                service.case(place.case_id)
            except CaseError:
                self.notify(t("app.resume_case_gone", id=place.case_id), severity="warning", timeout=30)
                return
        for place in places:
            if place.screen == "case":
                self.open_case(place.case_id, then=place.dialog or None)
            elif place.screen == "find":
                self.action_find()
            elif place.screen == "sync":
                self.action_sync()
            elif place.screen == "intake":
                self.action_new_intake()
            elif place.screen == "supervisor":
                then = (place.dialog, place.subject) if place.dialog else None
                self.action_supervise(tab=place.tab, then=then)
            elif place.screen == "person":
                self.open_person(place.subject, then=place.dialog or None)

    # ------------------------------------------------------------ navigation

    def _need_service(self) -> CaseService | None:
        if self.service is None:
            self.notify(t("app.not_available", reason=t("caseload.not_enrolled")), severity="warning")
        return self.service

    def action_find(self) -> None:
        """All cases, with the filter."""
        if self.db is not None:
            self.push_screen(CaseloadScreen(self.db))

    def action_sync(self) -> None:
        """The sync screen."""
        from fieldapp.tui.screens.sync import SyncScreen

        if self.db is None:
            return
        service = self._need_service()
        if service is not None:
            self.push_screen(SyncScreen(service))

    def action_new_intake(self) -> None:
        """The intake form; a saved intake opens as a case."""
        from fieldapp.tui.screens.intake import IntakeScreen

        service = self._need_service()
        if service is not None:

            def saved(case_id: str | None) -> None:
                if case_id:
                    self.open_case(case_id)

            self.push_screen(IntakeScreen(service), saved)

    def open_case(self, case_id: str, then: str | None = None) -> None:
        """A case's detail and actions (with `then`, the dialog of that action open over it)."""
        from fieldapp.tui.screens.case_detail import CaseScreen

        service = self._need_service()
        if service is not None:
            self.push_screen(CaseScreen(service, case_id, then=then))

    def open_person(self, person_id: str, then: str | None = None) -> None:
        """A person's file and plan (with `then`, the dialog of that action open over it)."""
        from fieldapp.tui.screens.person import PersonScreen

        if self._need_service() is not None:
            self.push_screen(PersonScreen(person_id, then=then))

    def is_supervisor(self) -> bool:
        """Whether the unlocked device holds a supervisor's certificate."""
        return self.service is not None and self.service.is_supervisor

    def action_supervise(self, tab: str = "", then: tuple[str, str] | None = None) -> None:
        """The supervisor's screen (dashboard, review, devices, reports); refused on an officer's device."""
        from fieldapp.tui.screens.supervisor import SupervisorScreen

        service = self._need_service()
        if service is None:
            return
        if not service.is_supervisor:
            self.notify(t("sup.only_supervisor"), severity="warning")
            return
        self.push_screen(SupervisorScreen(service, then=then, tab=tab))

    def action_toggle_serving(self) -> None:
        """F6 (sync and supervisor screens): accept the devices' syncs here, or stop."""
        self.station_mode.toggle()

    def action_switch_language(self) -> None:
        """Cycle to the next UI language (remembered as this device's choice)."""
        self._language_chosen = True
        self.language = i18n.next_language(self.language)

    def action_command_palette(self) -> None:
        """The command palette (ctrl+p), with a placeholder in the UI language."""
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(Palette(id="--command-palette", placeholder=t("palette.placeholder")))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The main actions, in the UI language; those needing an unlocked store only when it is."""
        if self.db is not None:
            yield SystemCommand(t("palette.new_intake"), t("palette.new_intake_help"), self.action_new_intake)
            yield SystemCommand(t("palette.find"), t("palette.find_help"), self.action_find)
            yield SystemCommand(t("palette.sync"), t("palette.sync_help"), self.action_sync)
            if self.is_supervisor():
                yield SystemCommand(
                    t("palette.supervise"), t("palette.supervise_help"), self.action_supervise
                )
            if _serves_here(screen):  # where F6 works: the sync and supervisor screens
                stop = "_stop" if self.station_mode.serving is not None else ""
                yield SystemCommand(
                    t(f"palette.serve{stop}"), t(f"palette.serve{stop}_help"), self.action_toggle_serving
                )
            yield SystemCommand(t("palette.lock"), t("palette.lock_help"), self.action_lock)
        yield SystemCommand(t("palette.language"), t("palette.language_help"), self.action_switch_language)
        yield SystemCommand(t("palette.theme"), t("palette.theme_help"), self.action_toggle_theme)
        yield SystemCommand(t("palette.quit"), t("palette.quit_help"), self.exit)

    def action_keys_help(self) -> None:
        """List every key of the screen in use (F1), in the UI language."""
        if not isinstance(self.screen, KeysHelp):
            self.push_screen(KeysHelp(key_lines(self.screen)))

    def action_toggle_theme(self) -> None:
        """Switch between the dark and the light theme (both are kept readable)."""
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit; say (in the UI language) what does."""
        self.notify(i18n.t("app.quit_hint", key="ctrl+q"), title=i18n.t("app.quit_hint_title"))

    async def on_unmount(self) -> None:
        """Stop serving (zeroconf's goodbye) and lock the store when the app exits, however it exits."""
        service = self.station_mode.service
        await self.station_mode.stop()
        self._close_store()
        if service is not None and service.db.store.is_open:  # locked while serving: still open
            service.db.close()

    def _close_store(self) -> None:
        self.service = None
        if self.db is not None:
            if not self.station_mode.holds(self.db):  # the server keeps its store open while locked
                self.db.close()
            self.db = None


def _serves_here(screen: Screen[Any]) -> bool:
    """True on a screen where F6 switches station mode (its bindings name the action)."""
    return any(
        isinstance(binding, Binding) and binding.action == "app.toggle_serving"
        for binding in type(screen).BINDINGS
    )


def run_app(
    store_dir: Path,
    lang: str | None = None,
    lock_after: float | None = DEFAULT_LOCK_AFTER,
    serve: tuple[str, int] | None = None,
) -> None:
    """Run the TUI on the store in `store_dir` until the user quits (serving from the first
    unlock on when `serve` gives the address and port: `fieldapp station open`)."""
    FieldApp(store_dir, lang, lock_after=lock_after, serve=serve).run()
