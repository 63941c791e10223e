"""The Textual application: owns the language and the unlocked store, nothing else."""

from __future__ import annotations

import time
from pathlib import Path

from textual.app import App
from textual.reactive import reactive

from fieldapp import i18n
from fieldapp.service import CaseError, CaseService
from fieldapp.tui.screens.caseload import CaseloadScreen
from fieldapp.tui.screens.unlock import Clock, Opener, UnlockScreen
from storage import FieldDB


class FieldApp(App[None]):
    """fieldapp's terminal UI; the store opener and clock are injected for tests."""

    CSS_PATH = "app.tcss"
    # The palette's built-in commands are English-only.
    ENABLE_COMMAND_PALETTE = False

    language: reactive[str] = reactive(i18n.DEFAULT_LANGUAGE, init=False)
    """The UI language ("en" or "zh"); screens watch it to relabel themselves."""

    def __init__(
        self,
        store_dir: Path,
        lang: str | None = None,
        open_store: Opener = FieldDB.open,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        self.store_dir = Path(store_dir)
        self._open_store = open_store
        self._clock = clock
        self.db: FieldDB | None = None
        #: This device's cases once unlocked (None for a store without a device identity).
        self.service: CaseService | None = None
        self.set_reactive(FieldApp.language, i18n.normalise_language(lang or i18n.detect_language()))
        i18n.set_language(self.language)
        self.title = i18n.t("app.title")

    def on_mount(self) -> None:
        """Start locked. (Pushed, not the default screen, so `switch_screen` can replace it.)"""
        self.push_screen(self._unlock_screen())

    def _unlock_screen(self) -> UnlockScreen:
        return UnlockScreen(self.store_dir, self._open_store, self._clock)

    def watch_language(self, language: str) -> None:
        # Runs before the screens' watchers, so they already see the new catalogue.
        i18n.set_language(language)
        self.title = i18n.t("app.title")

    def on_unlock_screen_unlocked(self, message: UnlockScreen.Unlocked) -> None:
        """Keep the opened store and show the caseload."""
        self._close_store()
        self.db = message.db
        try:
            self.service = CaseService(message.db)
        except CaseError:
            self.service = None
        self.switch_screen(CaseloadScreen(message.db))

    def action_lock(self) -> None:
        """Close the store and ask for the passphrase again."""
        self._close_store()
        self.switch_screen(self._unlock_screen())

    def action_switch_language(self) -> None:
        """Cycle to the next UI language."""
        self.language = i18n.next_language(self.language)

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit; say (in the UI language) what does."""
        self.notify(i18n.t("app.quit_hint", key="ctrl+q"), title=i18n.t("app.quit_hint_title"))

    def on_unmount(self) -> None:
        """Lock the store when the app exits, however it exits."""
        self._close_store()

    def _close_store(self) -> None:
        self.service = None
        if self.db is not None:
            self.db.close()
            self.db = None


def run_app(store_dir: Path, lang: str | None = None) -> None:
    """Run the TUI on the store in `store_dir` until the user quits."""
    FieldApp(store_dir, lang).run()
