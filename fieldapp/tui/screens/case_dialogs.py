"""The case detail screen's actions as dialogs: log a visit, update, claim, reopen.

Each dialog checks its own fields first (the message appears beside the field), then
records through `CaseService`; a refusal by the rules is shown in the dialog and
nothing is recorded. On success the dialog dismisses with the case as it now stands.

A dialog that takes typed text keeps it as a draft (`fieldapp.domain.dialog_drafts`,
encrypted in the store) when the app locks or quits with it open, and shows it again
the next time it opens on the same subject; saving or cancelling removes the draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime
from typing import Any, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, RadioSet, Select, Static, TextArea
from textual.widgets._select import SelectCurrent  # the chosen option's label (no public handle)

from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import fields as checks
from fieldapp.domain import model
from fieldapp.domain.cases import Step, next_steps
from fieldapp.domain.dialog_drafts import DialogDraftKeeper, DialogValues
from fieldapp.domain.documents import ShownCase
from fieldapp.i18n import app_key, get_language, t
from fieldapp.i18n import case as _strings  # noqa: F401  (registers the case strings)
from fieldapp.i18n.rules import render
from fieldapp.tui.bindings import translate_bindings
from fieldapp.tui.case_timeline import vocab
from fieldapp.tui.dialog_fields import focus_last_typed, read_fields, write_fields
from fieldapp.tui.footer import Footer
from storage import StoreError

#: The widgets of a field that take its problem's mark and the focus.
FIELD_WIDGETS = "Input, TextArea, Select, RadioSet"

#: A message to show: an i18n key and its placeholders (kept so a language switch retranslates it).
Problem = tuple[str, dict[str, Any]]

_REFUSAL_PREFIX = "Not recorded: "

#: What a dialog is about: a case (`ShownCase`) for the case dialogs; a device, a village or a
#: fork for the supervisor's other dialogs, standing in with an "id" and a "status".
Subject = TypeVar("Subject", bound=Mapping[str, Any])
#: What a dialog dismisses with once it has recorded (the case as it now stands, for a case).
Result = TypeVar("Result")


def refusal_text(error: CaseError) -> str:
    """A refusal for a person: the translated "Refused:" and why, rendered from the rules' code
    in the UI language (in the app's wording where it has one), an error with a catalogue key
    that has an app wording (`fieldapp.i18n.app_key`) from it, any other by its English message."""
    found = error.refusal
    if found:
        reason = render(found.code, found.params, app=True)
    elif error.key and app_key(error.key) != error.key:
        reason = t(app_key(error.key), **error.params).rstrip(".。")
    else:
        reason = str(error).removeprefix(_REFUSAL_PREFIX).rstrip(".")
    end = "。" if get_language() == "zh" else "."
    return t("case.refused", reason=reason[:1].upper() + reason[1:] + end)


def field(name: str, widget: Widget) -> Vertical:
    """A labelled form field: label, input, and the line its problem is shown on."""
    return Vertical(
        Static(id=f"{name}-label", classes="case-field-label"),
        widget,
        Static(id=f"{name}-error", classes="case-field-error"),
        id=f"{name}-field",
        classes="case-field",
    )


def text_of(widget: Input | TextArea) -> str:
    """What was typed, without surrounding blanks."""
    return (widget.value if isinstance(widget, Input) else widget.text).strip()


class CaseDialog(ModalScreen[Result | None], Generic[Subject, Result]):
    """A form about one case (or another `Subject`); subclasses give its fields, checks and the
    call that records it, which returns what the dialog dismisses with."""

    BINDINGS = [
        Binding("escape", "cancel", "binding.case_cancel"),
        Binding("ctrl+s", "save", "binding.case_save", priority=True),
        Binding("f2", "app.switch_language", "binding.language"),
        # A dialog is modal: the app's F1 does not reach it, so it binds its own.
        Binding("f1", "app.keys_help", "binding.keys_help"),
    ]

    #: i18n key of the title (placeholders: id, status).
    TITLE_KEY = ""
    #: i18n key of the button that records.
    SAVE_KEY = "case.dialog.save"
    #: Field name -> i18n key of its label.
    LABELS: dict[str, str] = {}
    #: Input/TextArea id -> i18n key of its placeholder.
    PLACEHOLDERS: dict[str, str] = {}
    #: The draft's name (the case screen's action that opens the dialog); "" for a dialog
    #: that takes no typed text, which keeps no draft.
    DRAFT_KIND = ""

    def __init__(self, service: CaseService, case: Subject) -> None:
        super().__init__()
        self.service = service
        self.case = case
        self._problems: dict[str, Problem] = {}
        self._refusal: CaseError | None = None
        self._drafts: DialogDraftKeeper | None = None
        #: The fields as the dialog opened (a draft is kept only if they changed).
        self._opened_with: DialogValues = {}
        #: The fields as last changed: kept if the dialog goes away with its widgets (the app quits).
        self._values: DialogValues = {}
        #: Saved, cancelled, or its draft kept: nothing left to keep.
        self._finished = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="case-dialog"):
            yield Static(classes="case-dialog-title")
            # Not focusable itself: Tab goes field to field, and the focused field scrolls into view.
            with VerticalScroll(classes="case-dialog-body", can_focus=False):
                yield from self.fields()
            yield Static(id="case-dialog-error")
            with Horizontal(classes="case-dialog-buttons"):
                yield Button(id="case-dialog-save", variant="primary", compact=True)
                yield Button(id="case-dialog-cancel", compact=True)
                yield Static(classes="case-dialog-hint")
        yield Footer()

    def fields(self) -> ComposeResult:
        """The form's fields (see `field`)."""
        yield from ()

    def check(self) -> dict[str, Problem]:
        """Problems with what was typed, by field name ("" for the form as a whole)."""
        return {}

    def record(self) -> Result:
        """Record through the service; returns the case, or raises CaseError."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._relabel)
        if self.DRAFT_KIND:
            self._opened_with = self.opened_values()
            self._values = self.field_values()
            local = self.service.replica.local
            self._drafts = DialogDraftKeeper(local, self.DRAFT_KIND, self.draft_subject())
            if self._drafts.restored:
                write_fields(self._draft_fields(), self._drafts.restored)
                self._values = self.field_values()
                focus_last_typed(self._draft_fields(), self._opened_with, self._values)
                self.notify(t("case.dialog.draft_restored"), timeout=15)

    # ------------------------------------------------------------ drafts

    def draft_subject(self) -> str:
        """What the draft is about (the case's id unless a dialog says more)."""
        return str(self.case["id"])

    def _draft_fields(self) -> list[Widget]:
        return [w for w in self.query_one(".case-dialog-body").query(FIELD_WIDGETS) if w.id]

    def field_values(self) -> DialogValues:
        """The dialog's fields as they stand, by widget id (what a draft keeps)."""
        return read_fields(self._draft_fields())

    def opened_values(self) -> DialogValues:
        """The fields as the dialog opens, before a draft is written back: a draft is kept only
        if what stands at the lock differs (a dialog whose fields a draft shapes says otherwise)."""
        return self.field_values()

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(RadioSet.Changed)
    def _field_changed(self) -> None:
        if self._drafts is not None:
            self._values = self.field_values()

    def keep_draft(self) -> None:
        """Keep what was typed as the draft (the app is locking): nothing typed is lost, and
        nothing of it is written outside the encrypted store. Raises StoreError or OSError."""
        if self._drafts is None or self._finished:
            return
        with suppress(NoMatches):  # the widgets are gone already (the app is quitting)
            self._values = self.field_values()
        values = self._values
        if values != self._opened_with:
            self._drafts.keep(values)
        else:
            self._drafts.drop()
        self._finished = True

    def _drop_draft(self) -> None:
        """Forget the draft (the dialog is saved or cancelled)."""
        self._finished = True
        if self._drafts is not None:
            self._drafts.drop()

    def on_unmount(self) -> None:
        """Closed without saving or cancelling (the app quit): keep the draft while the store is open."""
        with suppress(StoreError, OSError):  # a closed store: the lock kept it already
            self.keep_draft()

    def _relabel(self, _language: str) -> None:
        self.query_one(".case-dialog-title", Static).update(t(self.TITLE_KEY, **self.title_args()))
        for name, key in self.LABELS.items():
            self.query_one(f"#{name}-label", Static).update(t(key))
        for widget_id, key in self.PLACEHOLDERS.items():
            typed = self.query_one(f"#{widget_id}")
            assert isinstance(typed, Input | TextArea)
            typed.placeholder = t(key)
        self.query_one("#case-dialog-save", Button).label = t(self.SAVE_KEY)
        self.query_one("#case-dialog-cancel", Button).label = t("case.dialog.cancel")
        self.query_one(".case-dialog-hint", Static).update(t("case.dialog.hint"))
        self.relabel()
        self._show_problems()
        translate_bindings(self)

    def title_args(self) -> dict[str, Any]:
        """The placeholders of the title (the case's id and status unless a dialog says more)."""
        return {"id": self.case["id"], "status": vocab("status", self.case["status"])}

    def relabel(self) -> None:
        """Retranslate what the base class does not know of (select options, texts)."""

    def _show_problems(self) -> None:
        for error in self.query(".case-field-error").results(Static):
            name = (error.id or "").removesuffix("-error")
            problem = self._problems.get(name)
            error.update(t(problem[0], **problem[1]) if problem else "")
            error.display = problem is not None
            for widget in self.query_one(f"#{name}-field").query(FIELD_WIDGETS):
                widget.set_class(problem is not None, "-invalid")
        whole = self.query_one("#case-dialog-error", Static)
        texts = []
        if "" in self._problems:
            texts.append(t(self._problems[""][0], **self._problems[""][1]))
        if self._refusal is not None:
            texts.append(refusal_text(self._refusal))
        whole.update("\n".join(texts))
        whole.display = bool(texts)

    def action_save(self) -> None:
        """Check the fields, then record; stay open with the reason if anything is wrong."""
        self._problems = self.check()
        self._refusal = None
        if not self._problems:
            try:
                # One transaction: recorded and the draft gone, or neither.
                with self.service.db.transaction():
                    case = self.record()
                    self._drop_draft()
            except CaseError as refused:
                self._finished = False
                self._refusal = refused
            else:
                self.dismiss(case)
                return
        self._show_problems()
        named = [name for name in self._problems if name]
        if named:
            first = self.query_one(f"#{named[0]}-field")
            # A field with no input left (the edit dialog's parties, all removed): its button.
            first.query(f"{FIELD_WIDGETS}, Button").first().focus()
            # The whole field, its message under it included, in view on a short terminal.
            self.call_after_refresh(first.scroll_visible, animate=False)

    def action_cancel(self) -> None:
        """Close without recording anything; what was typed is discarded."""
        # A store failing to remove it leaves the (encrypted) draft to come back next time.
        with suppress(StoreError, OSError):
            self._drop_draft()
        self._finished = True
        self.dismiss(None)

    @on(Button.Pressed, "#case-dialog-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#case-dialog-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _input_submitted(self) -> None:
        self.action_save()


def relabel_select(select: Select[Any], options: list[tuple[str, Any]], prompt: str | None = None) -> None:
    """Replace a Select's option labels (a language switch), keeping what was chosen."""
    value = select.value
    if prompt is not None:
        select.prompt = prompt
    select.set_options(options)
    if value != Select.NULL and any(v == value for _, v in options):
        select.value = value
        # A Select that cannot be blank keeps its value through set_options, so Textual does
        # not redraw the chosen option's label: draw it in the new language here.
        label = next(label for label, v in options if v == value)
        select.query_one(SelectCurrent).update(label)


class VisitDialog(CaseDialog[ShownCase, ShownCase]):
    """Log a home visit, phone call, mediation session, follow-up or field visit."""

    TITLE_KEY = "case.visit.title"
    DRAFT_KIND = "visit"
    LABELS = {
        "kind": "case.visit.kind",
        "note": "case.visit.note",
        "place": "case.visit.place",
        "participants": "case.visit.participants",
        "occurred": "case.visit.occurred",
    }
    PLACEHOLDERS = {
        "place": "case.visit.place_placeholder",
        "participants": "case.visit.participants_placeholder",
        "occurred": "case.visit.occurred_placeholder",
    }
    #: The moment the time field was last checked against (`check`), and read for `record`.
    _now: datetime

    def fields(self) -> ComposeResult:
        yield field("kind", Select(self._kinds(), allow_blank=False, value=model.VISIT_KINDS[0], id="kind"))
        yield field("note", TextArea(id="note"))
        yield field("place", Input(id="place", max_length=model.MAX_SHORT))
        yield field("participants", Input(id="participants", max_length=model.MAX_TEXT))
        yield field("occurred", Input(id="occurred", max_length=32))

    @staticmethod
    def _kinds() -> list[tuple[str, str]]:
        return [(vocab("visit", kind), kind) for kind in model.VISIT_KINDS]

    def relabel(self) -> None:
        relabel_select(self.query_one("#kind", Select), self._kinds())

    def check(self) -> dict[str, Problem]:
        problems: dict[str, Problem] = {}
        note = text_of(self.query_one("#note", TextArea))
        if checks.text(note, "visit_note", model.MAX_TEXT, required=True) is not None:  # the reducer's check
            problems["note"] = (
                ("case.too_long", {"limit": model.MAX_TEXT}) if note else ("case.visit.note_required", {})
            )
        self._now = datetime.now().astimezone()  # one moment for the check and the value recorded
        found = checks.visit_time_problem(text_of(self.query_one("#occurred", Input)), self._now)
        if found is not None:
            problems["occurred"] = (f"rule.{found.code}.sentence", dict(found.params))
        return problems

    def record(self) -> ShownCase:
        return self.service.add_visit(
            self.case["id"],
            str(self.query_one("#kind", Select).value),
            text_of(self.query_one("#note", TextArea)),
            place=text_of(self.query_one("#place", Input)),
            participants=text_of(self.query_one("#participants", Input)),
            occurred=checks.visit_time(text_of(self.query_one("#occurred", Input)), self._now),
        )


class UpdateDialog(CaseDialog[ShownCase, ShownCase]):
    """Move the case on: a new status (with its tier, referral or outcome), a reason, a note."""

    TITLE_KEY = "case.update.title"
    DRAFT_KIND = "update"
    LABELS = {
        "status": "case.update.status",
        "tier": "case.update.tier",
        "department": "case.update.department",
        "notified": "case.update.notified",
        "outcome": "case.update.outcome",
        "terms": "case.update.terms",
        "reason": "case.update.reason",
        "note": "case.update.note",
    }
    PLACEHOLDERS = {
        "department": "case.update.department_placeholder",
        "notified": "case.update.notified_placeholder",
    }
    #: Fields shown only for one target status.
    FOR_STATUS = {
        "tier": "escalated",
        "department": "referred",
        "notified": "referred",
        "outcome": "resolved",
        "terms": "resolved",
    }

    def steps(self) -> list[Step]:
        """The moves this case may make, in workflow order, as the rules say (reopening is its
        own action): `fieldapp.domain.cases.next_steps`, the reducer's own checks."""
        return next_steps(self.case, self.service.device_role)

    def _step(self) -> Step | None:
        chosen = self._chosen("status")
        return next((step for step in self.steps() if step.status == chosen), None)

    def fields(self) -> ComposeResult:
        yield field("status", Select(self._statuses(), id="status"))
        yield Static(id="status-hint", classes="case-field-hint")
        yield field("tier", Select(self._tiers(), id="tier"))
        yield field("department", Input(id="department", max_length=model.MAX_SHORT))
        yield field("notified", Input(id="notified", max_length=model.MAX_TEXT))
        yield field("outcome", Select(self._outcomes(), id="outcome"))
        yield field("terms", TextArea(id="terms"))
        yield field("reason", Input(id="reason", max_length=model.MAX_TEXT))
        yield field("note", TextArea(id="note"))

    def _statuses(self) -> list[tuple[str, str]]:
        return [
            (t("case.update.raise_tier") if step.tier_raise else vocab("status", step.status), step.status)
            for step in self.steps()
        ]

    def _tiers(self) -> list[tuple[str, int]]:
        tiers = next((step.tiers for step in self.steps() if step.tiers), ())
        return [(vocab("case.tier", tier), tier) for tier in tiers]

    @staticmethod
    def _outcomes() -> list[tuple[str, str]]:
        return [(vocab("case.outcome", kind), kind) for kind in model.OUTCOMES]

    def on_mount(self) -> None:
        # Textual runs CaseDialog.on_mount as well (handlers run along the class hierarchy).
        self._show_for(None)

    def relabel(self) -> None:
        relabel_select(self.query_one("#status", Select), self._statuses(), t("case.update.no_status"))
        relabel_select(self.query_one("#tier", Select), self._tiers(), t("case.update.tier"))
        relabel_select(self.query_one("#outcome", Select), self._outcomes(), t("case.update.outcome"))
        hint = self.query_one("#status-hint", Static)
        hint.update(t("case.update.no_targets", status=vocab("status", self.case["status"])))
        hint.display = not self.steps()

    @on(Select.Changed, "#status")
    def _status_changed(self, event: Select.Changed) -> None:
        self._show_for(None if event.value == Select.NULL else str(event.value))

    def _show_for(self, status: str | None) -> None:
        for name, wanted in self.FOR_STATUS.items():
            self.query_one(f"#{name}-field").display = status == wanted
        # A higher tier on an escalated case is an edit of the tier, which carries no reason.
        step = self._step() if status is not None else None
        self.query_one("#reason-field").display = step is not None and not step.tier_raise

    def _chosen(self, select_id: str) -> Any:
        value = self.query_one(f"#{select_id}", Select).value
        return None if value == Select.NULL else value

    def check(self) -> dict[str, Problem]:
        status = self._chosen("status")
        note = text_of(self.query_one("#note", TextArea))
        problems: dict[str, Problem] = {}
        if status is None and not note:
            problems[""] = ("case.update.nothing", {})
        if status == "escalated" and self._chosen("tier") is None:
            tiers = ", ".join(vocab("case.tier", tier) for tier in self._step_tiers())
            problems["tier"] = ("case.update.tier_required", {"tiers": tiers})
        if status == "referred":
            if not text_of(self.query_one("#department", Input)):
                problems["department"] = ("case.update.department_required", {})
            if not text_of(self.query_one("#notified", Input)):
                problems["notified"] = ("case.update.notified_required", {})
        if status == "resolved":
            if self._chosen("outcome") is None:
                problems["outcome"] = ("case.update.outcome_required", {})
            elif self._chosen("outcome") == "agreement" and not text_of(self.query_one("#terms", TextArea)):
                problems["terms"] = ("case.update.terms_required", {})
        for name in ("terms", "note"):
            if checks.text(text_of(self.query_one(f"#{name}", TextArea)), name, model.MAX_TEXT):
                problems[name] = ("case.too_long", {"limit": model.MAX_TEXT})
        return problems

    def _step_tiers(self) -> tuple[int, ...]:
        step = self._step()
        return step.tiers if step is not None else ()

    def record(self) -> ShownCase:
        status = self._chosen("status")
        note = text_of(self.query_one("#note", TextArea))
        step = self._step()
        if step is not None and step.tier_raise:  # as `fieldapp case update --tier` writes it
            return self.service.update(
                self.case["id"], fields={"tier": self._chosen("tier")}, note=note or None
            )
        return self.service.update(
            self.case["id"],
            status=status,
            reason=text_of(self.query_one("#reason", Input)) if status else "",
            tier=self._chosen("tier") if status == "escalated" else None,
            referral={
                "department": text_of(self.query_one("#department", Input)),
                "notified": text_of(self.query_one("#notified", Input)),
            }
            if status == "referred"
            else None,
            outcome={"kind": self._chosen("outcome"), "terms": text_of(self.query_one("#terms", TextArea))}
            if status == "resolved"
            else None,
            note=note or None,
        )


class ClaimDialog(CaseDialog[ShownCase, ShownCase]):
    """Confirm taking the case on (face-to-face claim)."""

    TITLE_KEY = "case.claim.title"
    SAVE_KEY = "case.claim.confirm"

    def fields(self) -> ComposeResult:
        yield Static(id="claim-body")

    def relabel(self) -> None:
        body = t("case.claim.body", name=self.service.officer)
        if self.case.get("claimed_by") == self.service.identity.device_id:
            body += "\n" + t("case.claim.already")
        self.query_one("#claim-body", Static).update(body)

    def on_mount(self) -> None:
        # Textual runs CaseDialog.on_mount as well (handlers run along the class hierarchy).
        self.query_one("#case-dialog-save", Button).focus()

    def record(self) -> ShownCase:
        return self.service.claim(self.case["id"])


class ReopenDialog(CaseDialog[ShownCase, ShownCase]):
    """Reopen a resolved or closed case that flared up again; the reason is required."""

    TITLE_KEY = "case.reopen.title"
    DRAFT_KIND = "reopen"
    SAVE_KEY = "case.reopen.confirm"
    LABELS = {"reason": "case.reopen.reason"}

    def fields(self) -> ComposeResult:
        yield field("reason", TextArea(id="reason"))

    def check(self) -> dict[str, Problem]:
        reason = text_of(self.query_one("#reason", TextArea))
        if checks.text(reason, "reopen_reason", model.MAX_TEXT, required=True) is None:  # the reducer's check
            return {}
        if not reason:
            return {"reason": ("case.reopen.reason_required", {})}
        return {"reason": ("case.too_long", {"limit": model.MAX_TEXT})}

    def record(self) -> ShownCase:
        return self.service.reopen(self.case["id"], text_of(self.query_one("#reason", TextArea)))
