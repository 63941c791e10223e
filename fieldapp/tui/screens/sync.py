"""The sync screen: the station's devices on the LAN, a progress bar each, results in words.

Peers come from zeroconf discovery on the address remembered by `fieldapp sync
--interface` (live: they appear and leave as they come and go) and from
HOST:PORT typed in. A listed device is focused with Tab and removed with Delete.
Each row is the device's name and bar on one line and what happened below them,
wrapped to the screen's width, so a long error is read whole at 80 columns.
Syncing runs in a worker on the app's event loop; applying batches runs in a
thread (`sync.session.Endpoint`), so the screen stays responsive and each bar
moves as batches are acknowledged; a failed session's bar never reads 100 %.
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, ProgressBar, Static

from fieldapp.core.net import human_size, peer_arg, remembered_interface
from fieldapp.core.service import CaseService
from fieldapp.core.station import tls_material
from fieldapp.i18n import t
from fieldapp.i18n.sync_errors import sync_error_text
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.footer import Footer
from fieldapp.tui.resume import Place
from fieldapp.tui.station_mode import ServingLine
from sync.discovery import PeerBrowser
from sync.lan import SERVICE_TYPE, sync_with, wanted_by
from sync.session import Endpoint, SessionReport


class PeerRow(Vertical, can_focus=True):
    """One device: its name and a progress bar, what happened on the line(s) below."""

    BINDINGS = [Binding("delete", "remove_peer", "binding.remove_peer")]

    def __init__(self, key: str, label: str, host: str, port: int, device_id: str | None) -> None:
        super().__init__(classes="peer-row")
        self.key, self.label, self.host, self.port, self.device_id = key, label, host, port, device_id
        self.report: SessionReport | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="peer-line"):
            yield Static(self.label, classes="peer-name")
            yield ProgressBar(total=None, show_eta=False, classes="peer-bar")
        yield Static(classes="peer-status")

    def on_mount(self) -> None:
        self.relabel()
        translate_bindings(self)

    def progress(self, report: SessionReport) -> None:
        bar = self.query_one(ProgressBar)
        total = max(report.to_send, 1)
        if report.error:
            # A failed session is never drawn complete: what was acknowledged, short of the end.
            bar.update(total=total, progress=min(report.sent, total - 1))
        else:
            bar.update(total=total, progress=report.sent if report.to_send else 1)
        bar.set_class(bool(report.error), "-failed")
        self.report = report
        self.relabel()

    def action_remove_peer(self) -> None:
        screen = self.screen
        if isinstance(screen, SyncScreen):
            screen.remove_peer(self.key)

    def relabel(self) -> None:
        status = self.query_one(".peer-status", Static)
        report = self.report
        if self.running and report is None:
            status.update(t("sync.running"))
        elif report is None:
            status.update(t("sync.waiting"))
        elif report.error:
            reason = sync_error_text(report.error, report.error_code, report.error_params)
            status.update(t("sync.failed", reason=reason))
        else:
            text = t(
                "sync.done",
                sent=report.sent,
                received=report.received,
                applied=report.applied,
                size=human_size(report.bytes_sent + report.bytes_received),
            )
            status.update(text + (t("sync.refused", refused=report.refused) if report.refused else ""))
        status.set_class(bool(report and report.error), "-error")
        translate_bindings(self)


class SyncScreen(Screen[None]):
    """Sync this device with the station's devices found on the LAN or typed in."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "binding.back"),
        Binding("ctrl+s", "sync_now", "binding.sync_now", priority=True),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("f6", "app.toggle_serving", "binding.serve"),
    ]

    def __init__(self, service: CaseService) -> None:
        super().__init__()
        # The app's own service: a second one on the same store would keep its own clock and
        # replica, and the app's would stamp an edit before what this sync received.
        self._service = service
        self._material = tls_material(self._service)
        self._interface = remembered_interface(self._service.replica)
        self._rows: dict[str, PeerRow] = {}
        self.running = False
        #: (succeeded, tried) of the last round, drawn in the UI language (F2 redraws it).
        self._finished: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="sync-title")
        yield Static(id="sync-identity")
        yield Static(id="sync-discovery")
        yield Input(id="peer-input")
        yield Static(id="peer-input-error")
        rows = VerticalScroll(id="peer-rows")
        rows.can_focus = False  # Tab goes from the input straight to the devices listed
        yield rows
        yield Static(id="sync-summary")
        yield ServingLine()
        yield Footer()

    def resume_place(self) -> Place:
        """The sync screen, to come back to after a lock."""
        return Place("sync")

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        enrolled = self._material is not None
        self.query_one("#peer-input", Input).disabled = not enrolled
        if enrolled and self._interface:
            self._discover()
        self.query_one("#peer-input", Input).focus()

    def _relabel(self, _language: str) -> None:
        self.query_one("#sync-title", Static).update(t("sync.title"))
        identity = self.query_one("#sync-identity", Static)
        discovery = self.query_one("#sync-discovery", Static)
        if self._material is None:
            identity.update(t("sync.not_enrolled"))
            discovery.update("")
        else:
            identity.update(
                t(
                    "sync.identity",
                    station=self._material.station_id,
                    device_id=self._service.identity.device_id,
                )
            )
            discovery.update(
                t("sync.searching", interface=self._interface) if self._interface else t("sync.no_interface")
            )
        enrolled = self._material is not None
        self.query_one("#peer-input", Input).placeholder = t(
            "sync.peer_placeholder" if enrolled else "sync.peer_placeholder_unenrolled"
        )
        summary = self.query_one("#sync-summary", Static)
        if summary.has_class("-finished"):
            summary.update(self._finished_text())
        else:
            summary.update(t("sync.hint") if self._rows else self._no_peers_text())
        for row in self._rows.values():
            row.relabel()
        translate_bindings(self)

    def _no_peers_text(self) -> str:
        """What to do with no device listed: type one, or (not enrolled) enrol first."""
        return t("sync.no_peers") if self._material is not None else t("sync.no_peers_unenrolled")

    def add_peer(self, key: str, label: str, host: str, port: int, device_id: str | None = None) -> None:
        """List a device to sync with (once)."""
        if key in self._rows:
            return
        row = PeerRow(key, label, host, port, device_id)
        self._rows[key] = row
        self.query_one("#peer-rows", VerticalScroll).mount(row)
        summary = self.query_one("#sync-summary", Static)
        if not summary.has_class("-finished"):
            summary.update(t("sync.hint"))

    def remove_peer(self, key: str) -> None:
        """Take a device off the list (not while a sync round runs; discovery may list it again)."""
        if self.running or key not in self._rows:
            return
        row = self._rows.pop(key)
        row.remove()
        self.query_one("#peer-input", Input).focus()
        summary = self.query_one("#sync-summary", Static)
        if not self._rows:  # the last round's count no longer describes the (empty) list
            summary.remove_class("-finished")
            self._finished = None
        if summary.has_class("-finished"):
            summary.update(self._finished_text())
        else:
            summary.update(t("sync.hint") if self._rows else self._no_peers_text())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#peer-input-error", Static)
        try:
            host, port = peer_arg(event.value.strip(), ValueError)
        except ValueError:
            error.update(t("sync.bad_peer"))
            return
        error.update("")
        event.input.value = ""
        self.add_peer(f"{host}:{port}", f"{host}:{port}", host, port)

    @work(group="discover", exclusive=True)
    async def _discover(self) -> None:
        assert self._material is not None and self._interface is not None
        browser = PeerBrowser(
            SERVICE_TYPE,
            self._interface,
            wanted_by(self._material.station_id, self._service.identity.device_id),
        )
        try:
            await browser.start()
            while True:
                await browser.changed.wait()
                browser.changed.clear()
                for (host, port), props in list(browser.peers.values()):
                    device_id = str(props.get("id"))
                    self.add_peer(device_id, self._peer_label(device_id), host, port, device_id)
        finally:
            with contextlib.suppress(Exception):
                await browser.close()

    def _peer_label(self, device_id: str) -> str:
        known = self._service.replica.device(device_id)
        officer = known.get("officer") if known is not None else None
        return f"{officer} ({device_id})" if officer else device_id

    def action_sync_now(self) -> None:
        if self._material is None or self.running or not self._rows:
            return
        self._sync_all()

    @work(group="sync", exclusive=True)
    async def _sync_all(self) -> None:
        assert self._material is not None
        self.running = True
        summary = self.query_one("#sync-summary", Static)
        summary.remove_class("-finished")
        endpoint = Endpoint(self._service.replica)
        ok = 0
        rows = list(self._rows.values())
        try:
            for row in rows:
                row.report, row.running = None, True
                row.query_one(ProgressBar).update(total=None, progress=0)
                row.relabel()
                report = await sync_with(
                    row.host,
                    row.port,
                    endpoint,
                    self._material,
                    progress=row.progress,
                    expected_device=row.device_id,
                )
                row.running = False
                row.progress(report)
                ok += report.error is None
        finally:
            self.running = False
        summary.add_class("-finished")
        self._finished = (ok, len(rows))
        summary.update(self._finished_text())
        self.post_message(self.Finished(ok, len(rows)))

    def _finished_text(self) -> str:
        if self._finished is None:
            return ""
        ok, total = self._finished
        notice = self._service.waiting_notice()
        hint = f"\n{t('sync.hint')}" if self._rows else ""
        return t("sync.finished", ok=ok, total=total) + (f"\n{notice}" if notice else "") + hint

    class Finished(Message):
        """A sync round ended (other screens reload what they show)."""

        def __init__(self, ok: int, total: int) -> None:
            super().__init__()
            self.ok, self.total = ok, total

    def session_reports(self) -> dict[str, Any]:
        """What each listed device's last session did (for tests and the status line)."""
        return {key: row.report for key, row in self._rows.items()}
