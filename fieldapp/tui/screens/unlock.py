"""The unlock screen: ask for the passphrase, open the store off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input, Static
from textual.worker import get_current_worker

from fieldapp.core.demo import DEMO_PASSPHRASE, is_demo_store
from fieldapp.i18n import error_message, t
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.footer import Footer
from fieldapp.tui.station_mode import ServingLine
from fieldapp.tui.throttle import UnlockThrottle
from storage import FieldDB, StoreError
from storage.errors import WrongPassphrase

#: Opens a store: FieldDB.open, or a test double with the same signature.
Opener = Callable[[Path, str], FieldDB]
#: A monotonic clock in seconds: time.monotonic, or a test double.
Clock = Callable[[], float]


class UnlockScreen(Screen[None]):
    """Passphrase prompt; posts `Unlocked` with the open store on success."""

    BINDINGS = [
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
    ]

    class Unlocked(Message):
        """The store was opened; the receiver now owns it and must close it."""

        def __init__(self, db: FieldDB) -> None:
            super().__init__()
            self.db = db

    class Failed(Message):
        """Opening the store failed with a store or file-system error."""

        def __init__(self, error: StoreError | OSError) -> None:
            super().__init__()
            self.error = error

    def __init__(self, store_dir: Path, open_store: Opener, clock: Clock) -> None:
        super().__init__()
        self.store_dir = store_dir
        self._open_store = open_store
        self._clock = clock
        self._throttle = UnlockThrottle()
        self._error_key: str | None = None
        self._error: StoreError | OSError | None = None
        self._countdown: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="unlock-box"):
            yield Static(id="unlock-prompt")
            with Horizontal(id="unlock-row"):
                yield Input(password=True, id="passphrase")
                yield Button(variant="primary", id="unlock")
            yield Static(id="unlock-error")
            yield Static(id="unlock-store")
            yield Static(id="unlock-demo")
            yield ServingLine(locked=True)  # station mode goes on while locked: say so
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        self.query_one("#passphrase", Input).focus()

    def _relabel(self, _language: str) -> None:
        self.query_one("#unlock-box").border_title = t("unlock.title")
        self.query_one("#unlock-prompt", Static).update(t("unlock.prompt"))
        self.query_one("#passphrase", Input).placeholder = t("unlock.placeholder")
        self.query_one("#unlock", Button).label = t("unlock.button")
        self.query_one("#unlock-store", Static).update(t("unlock.store", path=str(self.store_dir)))
        demo = self.query_one("#unlock-demo", Static)
        demo.display = is_demo_store(self.store_dir)  # only a store `fieldapp demo` built
        demo.update(t("unlock.demo", passphrase=DEMO_PASSPHRASE) if demo.display else "")
        self._show_error()
        translate_bindings(self)

    # ------------------------------------------------------------ attempts

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def attempt(self) -> None:
        """Try the typed passphrase, unless the rate limit says wait."""
        field = self.query_one("#passphrase", Input)
        passphrase = field.value
        if self._throttle.wait_seconds(self._clock()) > 0:
            field.clear()
            self._set_error("unlock.rate_limited")
            return
        if not passphrase:
            self._set_error("unlock.empty")
            return
        field.clear()
        self._set_busy(True)
        self._set_error("unlock.working")
        self._open(passphrase)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def _open(self, passphrase: str) -> None:
        # Argon2id takes a noticeable fraction of a second: keep it off the UI thread.
        try:
            db = self._open_store(self.store_dir, passphrase)
        except (StoreError, OSError) as error:
            self.post_message(self.Failed(error))
            return
        if get_current_worker().is_cancelled:
            db.close()  # nobody is left to receive it
            return
        self.post_message(self.Unlocked(db))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._set_busy(False)
        if isinstance(message.error, WrongPassphrase):
            self._throttle = self._throttle.failed(self._clock())
        self._set_error(None, message.error)
        self.query_one("#passphrase", Input).focus()

    @on(Unlocked)
    def _unlocked(self) -> None:
        self._set_busy(False)
        self._set_error(None)

    # ------------------------------------------------------------ messages

    def _set_busy(self, busy: bool) -> None:
        self.query_one("#passphrase", Input).disabled = busy
        self.query_one("#unlock", Button).disabled = busy

    def _set_error(self, key: str | None, error: StoreError | OSError | None = None) -> None:
        """Show the message `key`, or the message for `error`; both follow the language."""
        self._error_key = key
        self._error = error
        self._show_error()

    def _show_error(self) -> None:
        wait = self._throttle.wait_seconds(self._clock())
        if self._error_key == "unlock.rate_limited":
            text = t("unlock.rate_limited", seconds=wait) if wait > 0 else ""
        elif self._error_key is not None:
            text = t(self._error_key)
        elif self._error is not None:
            text = error_message(self._error)
            if wait > 0:
                text = f"{text} {t('unlock.retry_in', seconds=wait)}"
        else:
            text = ""
        label = self.query_one("#unlock-error", Static)
        label.update(text)
        label.set_class(self._error_key != "unlock.working", "-error")
        label.display = bool(text)
        self._keep_countdown(wait > 0)

    def _keep_countdown(self, running: bool) -> None:
        # A once-a-second refresh so "try again in N s" counts down while the user waits.
        if running and self._countdown is None:
            self._countdown = self.set_interval(1.0, self._show_error)
        elif not running and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None
