"""Station mode in the app: accept the devices' syncs while the supervisor works.

`StationMode` (one per app) starts and stops `fieldapp.core.serving.Serving` on the app's own
service and event loop (batches are applied in a thread by `sync.session.Endpoint`, as on the
sync screen), publishes its `ServeStatus` in the app's `serving` reactive, and hands each finished
session's `SessionReport` to the screens open (`session_landed(report)`) and to the app as a
`SessionLanded` message. F6 on the sync and supervisor screens switches it; the first time it
asks for the address (`ServeDialog`), then remembers address and port for this device.

While serving, a lock (by hand or after idle minutes) keeps the store open for the server, as a
headless `fieldapp serve` does: the locked screen says so, and the passphrase is checked against
the key file to unlock again. Stopping takes an unlocked screen (or quitting fieldapp).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from fieldapp.core.net import NetCliError, remembered_interface
from fieldapp.core.service import CaseService
from fieldapp.core.serving import (
    ServeError,
    ServeStatus,
    Serving,
    local_interface,
    port_arg,
    remember_serving,
    remembered_serving,
    report_of,
)
from fieldapp.i18n import station_mode as _strings  # noqa: F401  (registers station mode's strings)
from fieldapp.i18n import t
from fieldapp.i18n.sync_errors import sync_error_text
from storage import FieldDB
from sync.session import SessionReport

if TYPE_CHECKING:
    from fieldapp.tui.app import FieldApp


def error_text(exc: NetCliError) -> str:
    """A serving error in the UI language (its catalogue key), else as it was written."""
    return t(exc.key, **exc.params) if exc.key else str(exc)


def _is_local(address: str) -> bool:
    try:
        local_interface(address)
    except ServeError:
        return False
    return True


def status_text(status: ServeStatus | None, locked: bool = False) -> str:
    """The serving line of a screen (or of the locked screen), in the UI language."""
    if status is None:
        return "" if locked else t("serve.off")
    where = status.host if status.advertised or status.host != "0.0.0.0" else t("serve.all_addresses")
    if locked:
        return t("serve.locked", where=where, port=status.port, done=status.done)
    refused = ""
    if status.refused:
        refused = t("serve.refused", count=status.refused, reason=sync_error_text(status.last_refusal))
    return t(
        "serve.on",
        where=where,
        port=status.port,
        advertised=t("serve.advertised") if status.advertised else "",
        running=status.running,
        done=status.done,
        failed=t("serve.failed", count=status.failed) if status.failed else "",
        refused=refused,
    )


class ServingLine(Static):
    """Whether this computer accepts syncs, where, and what came (drawn from `app.serving`)."""

    DEFAULT_CSS = """
    ServingLine { height: auto; padding: 0 1; color: $text-muted; }
    ServingLine.-on { color: $text; background: $success-muted; }
    """

    def __init__(self, locked: bool = False) -> None:
        super().__init__(classes="serving-line")
        self._locked = locked

    def on_mount(self) -> None:
        self.watch(self.app, "serving", self._draw)
        self.watch(self.app, "language", self._draw)

    def _draw(self, _value: object = None) -> None:
        status: ServeStatus | None = getattr(self.app, "serving", None)
        self.set_class(status is not None, "-on")
        text = status_text(status, self._locked)
        self.display = bool(text)
        self.update(text)


class SessionLanded(Message):
    """A device's sync session with this computer finished (the shift board listens for these)."""

    def __init__(self, report: SessionReport) -> None:
        super().__init__()
        self.report = report


class ServeDialog(ModalScreen[tuple[str, int] | None]):
    """Ask for the address (an address of this computer) and the port to serve on."""

    DEFAULT_CSS = """
    ServeDialog { align: center middle; }
    ServeDialog #serve-box { width: 72; height: auto; border: round $primary; padding: 0 1; }
    ServeDialog #serve-row { height: auto; }
    ServeDialog #serve-interface { width: 1fr; }
    ServeDialog #serve-port { width: 22; }
    ServeDialog #serve-error { color: $error; height: auto; }
    ServeDialog #serve-buttons { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "binding.back")]

    def __init__(self, interface: str, port: int) -> None:
        super().__init__()
        self._interface, self._port = interface, port

    def compose(self) -> ComposeResult:
        with Vertical(id="serve-box"):
            yield Static(t("serve.ask_prompt"))
            with Horizontal(id="serve-row"):
                yield Input(
                    self._interface, placeholder=t("serve.interface_placeholder"), id="serve-interface"
                )
                yield Input(str(self._port or ""), placeholder=t("serve.port_placeholder"), id="serve-port")
            yield Static(id="serve-error")
            with Horizontal(id="serve-buttons"):
                yield Button(t("serve.start"), variant="primary", id="serve-start")
                yield Button(t("serve.cancel"), id="serve-cancel")

    def on_mount(self) -> None:
        self.query_one("#serve-box").border_title = t("serve.ask_title")
        self.query_one("#serve-interface", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#serve-start")
    def submit(self) -> None:
        """Validate both fields; close with (address, port) or say what is wrong."""
        try:
            interface = local_interface(self.query_one("#serve-interface", Input).value, ServeError)
            port = port_arg(self.query_one("#serve-port", Input).value, ServeError)
        except ServeError as exc:
            self.query_one("#serve-error", Static).update(error_text(exc))
            return
        self.dismiss((interface, port))

    @on(Button.Pressed, "#serve-cancel")
    def action_cancel(self) -> None:
        """Close without serving."""
        self.dismiss(None)


class StationMode:
    """The app's one server, if any: started, stopped and reported here."""

    def __init__(self, app: FieldApp) -> None:
        self._app = app
        self.serving: Serving | None = None

    @property
    def service(self) -> CaseService | None:
        """The service the server runs on (the app's, kept open while the screen is locked)."""
        return self.serving.service if self.serving is not None else None

    def holds(self, db: FieldDB) -> bool:
        """Whether `db` must stay open for the server."""
        return self.serving is not None and self.serving.service.db is db

    def unlock_with_key_file(self, _directory: object, passphrase: str) -> FieldDB:
        """The unlock screen's opener while serving: the store is open already (this process
        holds its lock), so the passphrase is checked against its key file."""
        assert self.serving is not None
        db = self.serving.service.db
        db.store.check_passphrase(passphrase)
        return db

    def toggle(self) -> None:
        """F6: stop serving, or start where this device served last (asking the first time)."""
        service = self._app.service
        if service is None:
            return
        if self.serving is not None:
            self._app.run_worker(self.stop(notify=True), group="station-mode", exclusive=True)
            return
        remembered = remembered_serving(service.replica.local)
        if remembered is not None and _is_local(remembered[0]):
            self._app.run_worker(self.start(*remembered), group="station-mode", exclusive=True)
            return
        # The first time, or the remembered address is no longer this computer's (another
        # network): ask, with what is known filled in.
        guess, port = remembered or (remembered_interface(service.replica) or "", 0)

        def chosen(answer: tuple[str, int] | None) -> None:
            if answer is not None:
                self._app.run_worker(self.start(*answer), group="station-mode", exclusive=True)

        self._app.push_screen(ServeDialog(guess, port), chosen)

    async def start(self, interface: str, port: int) -> bool:
        """Serve on `interface`:`port` with the app's service; remembered once listening."""
        service = self._app.service
        if service is None or self.serving is not None:
            return False
        try:
            serving = Serving(service, local_interface(interface), port, self._event)
            self.serving = serving
            status = await serving.start()
        except ServeError as exc:
            self.serving = None
            self._app.notify(t("serve.cannot_start", why=error_text(exc)), severity="error", timeout=30)
            return False
        remember_serving(service.replica.local, interface, port)
        self._app.serving = status
        where = status.host
        self._app.notify(t("serve.started", where=where, port=status.port), timeout=10)
        return True

    async def stop(self, notify: bool = False) -> None:
        """Stop serving: zeroconf's goodbye, sessions in flight ended (what they applied is kept)."""
        serving, self.serving = self.serving, None
        if serving is None:
            return
        await serving.close()
        self._app.serving = None
        if notify:
            self._app.notify(t("serve.stopped"), timeout=10)

    def _event(self, kind: str, data: dict[str, Any]) -> None:
        # Called by the server, inside a session's task: the screens are told through the app's
        # message queue, so that nothing they do can stall or end a device's session.
        if self.serving is None:
            return
        report = report_of(data) if kind == "session" else None
        self._app.call_later(self._publish, self.serving.status, report)

    def _publish(self, status: ServeStatus, report: SessionReport | None) -> None:
        if self.serving is None:  # stopped meanwhile
            return
        self._app.serving = status
        if report is None:
            return
        self._app.post_message(SessionLanded(report))
        if self._app.service is None:  # locked: no screen shows the caseload
            return
        for screen in self._app.screen_stack:
            landed = getattr(screen, "session_landed", None)
            if landed is not None:
                landed(report)
