"""The case detail screen: a case's facts, its timeline, and what can be done next.

The header says where the case stands (risk, status, tier, who has it, deadline,
parties, open conflicts); the timeline below it tells, in the UI language, what
happened, who did it and when. Actions open dialogs (`case_dialogs`); after one
records, the screen redraws from the case the service returns.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain.documents import ShownCase
from fieldapp.domain.model import is_overdue
from fieldapp.i18n import agreement as _agreement_strings  # noqa: F401  (the agreement's messages)
from fieldapp.i18n import case as _strings  # noqa: F401  (registers the case strings)
from fieldapp.i18n import persons as _person_strings  # noqa: F401  (the persons' strings)
from fieldapp.i18n import t
from fieldapp.outputs.agreement import agreement_stands, reopened_after_agreement
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.case_timeline import (
    Entry,
    field_label,
    local_time,
    outcome_text,
    timeline,
    value_text,
    vocab,
)
from fieldapp.tui.footer import Footer
from fieldapp.tui.resume import Place
from fieldapp.tui.screens.case_dialogs import CaseDialog, ClaimDialog, ReopenDialog, UpdateDialog, VisitDialog
from fieldapp.tui.screens.case_edit import EditDialog
from fieldapp.tui.screens.person import PersonScreen
from fieldapp.tui.screens.person_dialogs import PartiesDialog
from fieldapp.tui.screens.supervisor_dialogs import ApproveDialog, AssignDialog, DeadlineDialog

#: Actions (and their dialogs) for a supervisor's certificate only; the merge checks again.
SUPERVISOR_ACTIONS = frozenset({"assign", "deadline", "approve"})
SUPERVISOR_DIALOGS = (AssignDialog, DeadlineDialog, ApproveDialog)

#: The dialogs the case screen opens, by the action that opens them.
DIALOG_ACTIONS: dict[type, str] = {
    VisitDialog: "visit",
    UpdateDialog: "update",
    EditDialog: "edit",
    ClaimDialog: "claim",
    ReopenDialog: "reopen",
    AssignDialog: "assign",
    DeadlineDialog: "deadline",
    ApproveDialog: "approve",
}

#: The action buttons: (button id, label key, action).
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("action-visit", "case.button.visit", "visit"),
    ("action-update", "case.button.update", "update"),
    ("action-claim", "case.button.claim", "claim"),
    ("action-reopen", "case.button.reopen", "reopen"),
    ("action-back", "case.button.back", "back"),
)


class CaseScreen(Screen[None]):
    """One case: header, timeline, and the actions v (visit), u (update), m (edit the case's
    village, risk, summary and parties), c (claim), r (reopen), p (the parties' person files)."""

    # The keys of the buttons (each labelled with its key) stay out of the footer, which at
    # 80 columns then holds the keys without a button; F1 lists them all.
    BINDINGS = [
        Binding("escape", "back", "binding.back", show=False),
        Binding("v", "visit", "binding.case_visit", show=False),
        Binding("u", "update", "binding.case_update", show=False),
        Binding("m", "edit", "binding.case_edit"),
        Binding("c", "claim", "binding.case_claim", show=False),
        Binding("r", "reopen", "binding.case_reopen", show=False),
        Binding("a", "assign", "binding.case_assign"),
        Binding("t", "deadline", "binding.case_deadline"),
        Binding("e", "approve", "binding.case_approve"),
        Binding("g", "agreement", "binding.case_agreement"),
        Binding("p", "persons", "binding.case_persons"),
        Binding("f2", "app.switch_language", "binding.language"),
        Binding("ctrl+l", "app.switch_language", "binding.language", show=False),
    ]

    def __init__(
        self,
        service: CaseService,
        case_id: str,
        today: Callable[[], date] = date.today,
        agreement_folder: Path | None = None,
        then: str | None = None,
    ) -> None:
        super().__init__()
        #: The action whose dialog opens over the case at once (coming back after a lock).
        self._then = then
        #: Where `g` writes the printable mediation agreement.
        self.agreement_folder = agreement_folder or Path.home()
        self.service = service
        self.case_id = case_id
        self._today = today
        #: The case as last read (None if this device does not hold it).
        self.case: ShownCase | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="case-title")
        with VerticalScroll(id="case-body"):
            yield Static(id="case-facts")
            yield Static(id="case-alerts")
            yield Static(id="case-summary")
            yield Static(id="case-timeline-title")
            yield Vertical(id="case-timeline")
        with Horizontal(id="case-actions"):
            for button_id, _key, _action in ACTIONS:
                yield Button(id=button_id, compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self._load()
        self.watch(self.app, "language", self._relabel)
        self.query_one("#case-body").focus()
        then = self._then
        if then is not None and then in DIALOG_ACTIONS.values() and self.check_action(then, ()):
            getattr(self, f"action_{then}")()

    def resume_place(self) -> Place:
        """This case, to come back to after a lock."""
        return Place("case", self.case_id)

    def resumed_dialog(self, screen: object) -> tuple[str, str] | None:
        """The action reopening `screen` over this case after a lock (None: not one of its dialogs)."""
        action = DIALOG_ACTIONS.get(type(screen))
        return (action, self.case_id) if action else None

    def _load(self) -> None:
        try:
            self.case = self.service.case(self.case_id)
        except CaseError:
            self.case = None

    def officer_name(self, device_id: str | None) -> str:
        """The officer of a device, as the station's devices announced it; the id if unknown."""
        if not device_id:
            return t("case.nobody")
        record = self.service.replica.device(device_id)
        return str((record.get("officer") if record else None) or device_id)

    # ------------------------------------------------------------ drawing

    def _relabel(self, _language: str) -> None:
        for button_id, key, _action in ACTIONS:
            self.query_one(f"#{button_id}", Button).label = t(key)
        for button_id, _key, _action in ACTIONS[:-1]:
            self.query_one(f"#{button_id}", Button).disabled = self.case is None
        self._draw()
        translate_bindings(self)

    def _draw(self) -> None:
        case = self.case
        title = self.query_one("#case-title", Static)
        if case is None:
            title.update(t("case.title", id=self.case_id))
            self.query_one("#case-facts", Static).update(t("case.missing", id=self.case_id))
            for selector in ("#case-alerts", "#case-summary", "#case-timeline-title", "#case-timeline"):
                self.query_one(selector).display = False
            return
        title.update(self._title_text(case))
        self.query_one("#case-facts", Static).update(self._facts_text(case))
        alerts = self._alerts(case)
        alert_box = self.query_one("#case-alerts", Static)
        alert_box.update("\n".join(alerts))
        alert_box.display = bool(alerts)
        self.query_one("#case-summary", Static).update(t("case.summary", summary=case["summary"]))
        self.query_one("#case-timeline-title", Static).update(t("case.timeline"))
        self._draw_timeline(timeline(case, self.officer_name))

    def _title_text(self, case: ShownCase) -> Text:
        title = Text(t("case.title", id=case["id"]), style="bold")
        for part in (case["village"], vocab("category", case["category"])):
            title.append(f"  ·  {part}")
        title.append("  ")
        title.append_text(risk_cell(case["risk"]))
        title.append(f"  {vocab('status', case['status'])}")
        return title

    def _facts_text(self, case: ShownCase) -> Text:
        status = t("case.status", status=vocab("status", case["status"]))
        if case["tier"] is not None:
            tier = value_text("tier", case["tier"])
            if case["status"] == "escalated" and case["escalation_approved"] is False:
                tier += f" ({t('case.escalation_pending')})"
            status += "   " + t("case.tier", tier=tier)
        lines = [
            Text(status),
            Text(
                t("case.assignee", name=self.officer_name(case["assignee"]))
                + "   "
                + t("case.claimed_by", name=self.officer_name(case["claimed_by"]))
            ),
            self._deadline_text(case),
            Text(
                t("case.source", source=value_text("source", case["source"]))
                + "   "
                + t("case.flags", flags=value_text("flags", case["flags"]))
            ),
            self._parties_text(case),
        ]
        referral = case.get("referral")
        if referral:
            lines.append(Text(t("case.referral", **referral)))
        if case.get("outcome"):
            lines.append(Text(t("case.outcome", outcome=outcome_text(case["outcome"]))))
        if case.get("followups"):
            dates = [
                t(
                    "case.followup_done"
                    if f["done"]
                    else "case.followup_cancelled"
                    if f.get("cancelled")
                    else "case.followup_due",
                    due=f["due"],
                )
                for f in case["followups"]
            ]
            lines.append(Text(t("case.followups", dates=", ".join(dates))))
        reopened = case.get("reopened")
        if reopened and case["status"] != "resolved":
            at = local_time(reopened["at"])
            by = self.officer_name(reopened["by"])
            lines.append(Text(t("case.reopened", name=by, at=at, reason=reopened["reason"])))
            if reopened.get("outcome"):
                lines.append(Text(t("case.reopened_outcome", outcome=outcome_text(reopened["outcome"]))))
        return Text("\n").join(lines)

    @staticmethod
    def _parties_text(case: ShownCase) -> Text:
        # With parties, the label names the key that opens their person files (p).
        key = "person.parties.line" if case["parties"] else "case.parties"
        return Text(t(key, parties=value_text("parties", case["parties"])))

    def _deadline_text(self, case: ShownCase) -> Text:
        text = Text(t("case.deadline", date=case["deadline"] or t("case.none")))
        if is_overdue(case, self._today()):
            text.append("  ")
            # Marked in words as well as colour; the badge reads on dark and light themes.
            text.append(f" {t('case.overdue')} ", style="bold #ffffff on #c62828")
        return text

    def _alerts(self, case: ShownCase) -> list[str]:
        alerts = []
        if is_overdue(case, self._today()):
            alerts.append(t("case.alert.overdue", date=case["deadline"]))
        open_conflicts = [c for c in case["conflicts"] if c.get("open")]
        if open_conflicts:
            fields = ", ".join(sorted({field_label(c["field"]) for c in open_conflicts}))
            alerts.append(t("case.alert.conflicts", count=len(open_conflicts), fields=fields))
        return alerts

    def _draw_timeline(self, entries: list[Entry]) -> None:
        box = self.query_one("#case-timeline", Vertical)
        box.remove_children()
        if not entries:
            box.mount(Static(t("case.timeline_empty"), classes="timeline-entry"))
            return
        box.mount_all(
            Static(
                self._entry_text(entry),
                classes=f"timeline-entry -{entry.tone}" if entry.tone else "timeline-entry",
            )
            for entry in entries
        )

    @staticmethod
    def _entry_text(entry: Entry) -> Text:
        text = Text()
        text.append(entry.at, style="dim")
        text.append("  ")
        text.append(entry.author, style="bold")
        text.append("  ")
        text.append(entry.text)
        return text

    def timeline_texts(self) -> list[str]:
        """The timeline as shown, one string per entry (for tests and screen readers)."""
        return [str(s.render()) for s in self.query("#case-timeline .timeline-entry").results(Static)]

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        """Back to where the case was opened from."""
        self.dismiss()

    def action_visit(self) -> None:
        """Log a visit."""
        self._open(VisitDialog, "case.visit.done")

    def action_update(self) -> None:
        """Change the status (escalate, refer, resolve, close) or add a note."""
        self._open(UpdateDialog, "case.update.done")

    def action_edit(self) -> None:
        """Change the village, risk, summary or parties."""
        self._open(EditDialog, "case.edit.done")

    def action_claim(self) -> None:
        """Claim the case."""
        self._open(ClaimDialog, "case.claim.done")

    def action_reopen(self) -> None:
        """Reopen a resolved or closed case."""
        self._open(ReopenDialog, "case.reopen.done")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Supervisors' actions are not shown on an officer's device; the others when they apply."""
        case = self.case
        if action in SUPERVISOR_ACTIONS and not self.service.is_supervisor:
            return False
        if action == "approve":
            return case is not None and case["status"] == "escalated" and case["escalation_approved"] is False
        if action == "agreement":
            return agreement_stands(case)
        return True

    def on_key(self, event: events.Key) -> None:
        """`g` where there is no agreement to print: say why instead of doing nothing."""
        if event.key == "g" and self.case is not None and not agreement_stands(self.case):
            event.stop()
            event.prevent_default()
            self._no_agreement(self.case)

    def _no_agreement(self, case: ShownCase) -> None:
        """Why there is no agreement to print, naming the keys that record one (the command
        line's refusal, `AgreementError`, names the commands instead)."""
        key = "agreement.tui.reopened" if reopened_after_agreement(case) else "agreement.tui.none"
        self.notify(t(key, id=self.case_id), severity="warning", timeout=15)

    def action_persons(self) -> None:
        """The case's parties, each a person: the one chosen opens their file (一人一档)."""
        if self.case is None:
            return
        if not self.case["parties"]:
            self.notify(t("person.parties.none", id=self.case_id), severity="warning")
            return

        def chosen(person_id: str | None) -> None:
            if person_id:
                self.app.push_screen(PersonScreen(person_id))

        self.app.push_screen(PartiesDialog(self.service, self.case), chosen)

    def action_assign(self) -> None:
        """Supervisor: assign the case to an officer, with a deadline."""
        self._open(AssignDialog, "assign.done")

    def action_deadline(self) -> None:
        """Supervisor: set or change the deadline."""
        self._open(DeadlineDialog, "deadline.done")

    def action_approve(self) -> None:
        """Supervisor: approve the pending escalation."""
        self._open(ApproveDialog, "approve.done")

    def action_agreement(self) -> None:
        """Write the printable mediation agreement (HTML) next to the station's exports."""
        if self.case is None:
            return
        from fieldapp.core.station import mediation_org
        from fieldapp.outputs.agreement import AgreementError, agreement_html, free_path
        from fieldapp.outputs.exports import ExportError, write_new

        # A second `g` writes a new file (NAME-2.html, ...): one printed and signed is never replaced.
        target = free_path(self.agreement_folder / f"fieldapp-agreement-{self.case_id}.html")
        try:
            org = mediation_org(self.service)
            html = agreement_html(self.case, self.officer_name, org, lang=self.app.language)  # type: ignore[attr-defined]
            write_new({str(target): html})
        except AgreementError:
            self._no_agreement(self.case)
            return
        except ExportError as exc:
            self.notify(t("agreement.failed", reason=str(exc)), severity="warning", timeout=15)
            return
        self.last_agreement = target
        self.notify(t("agreement.done", name=target.name, folder=target.parent), timeout=15)

    def _open(self, dialog: type[CaseDialog[Any, ShownCase]], done_key: str) -> None:
        if self.case is None:
            return
        if dialog in SUPERVISOR_DIALOGS and not self.service.is_supervisor:
            self.notify(t("sup.only_supervisor"), severity="warning")
            return

        def recorded(case: ShownCase | None) -> None:
            if case is None:
                return
            self.case = case
            self._draw()
            self.refresh_bindings()
            self.notify(t(done_key, id=self.case_id))

        self.app.push_screen(dialog(self.service, self.case), recorded)

    @on(Button.Pressed, "#case-actions Button")
    def _button_pressed(self, event: Button.Pressed) -> None:
        actions = {button_id: action for button_id, _key, action in ACTIONS}
        getattr(self, f"action_{actions[event.button.id or '']}")()
