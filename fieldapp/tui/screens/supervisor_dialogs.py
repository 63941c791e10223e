"""The supervisor's decisions as dialogs: assign, set a deadline, approve an escalation,
close a red case, settle a conflict, revoke a device, settle a fork.

Case dialogs reuse `CaseDialog` (fields checked first, the rules' refusal shown in the
dialog, nothing recorded then). The merge checks the supervisor's certificate again on
every device, so these dialogs are a convenience, not the permission.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, RadioButton, RadioSet, Select, Static, TextArea

from fieldapp.core.service import CaseError, CaseService
from fieldapp.core.station import DeviceRow, ForkRow, StationError, device_rows, revoke_device, settle_fork
from fieldapp.domain import fields, model
from fieldapp.domain.documents import CaseDoc, PublicCase, ShownCase
from fieldapp.domain.forks import SIDES
from fieldapp.domain.review import escalated_by
from fieldapp.i18n import app_key, has_key, t
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n.rules import render
from fieldapp.tui.case_timeline import field_label, local_time, outcome_text, value_text, vocab
from fieldapp.tui.screens.case_dialogs import CaseDialog, Problem, field, relabel_select, text_of
from sync.documents import ConflictValue
from sync.merge import writer

#: Fields whose conflicting value may be replaced by a value typed in the dialog.
WRITABLE = frozenset({"village", "summary", "deadline"})


def _name(service: CaseService, device_id: str | None) -> str:
    record = service.replica.device(device_id or "")
    return str((record.get("officer") if record else None) or device_id or t("case.nobody"))


def _deadline_problem(text: str, key: str) -> Problem | None:
    """A typed deadline's problem (`fields.deadline_problem`): a malformed one said with `key`,
    a nonexistent, past or far-off one by its rule."""
    if not text.strip():
        return (key, {})
    found = fields.deadline_problem(text)
    if found is None:
        return None
    return (
        (key, {}) if found.code == "deadline_invalid" else (f"rule.{found.code}.sentence", dict(found.params))
    )


def _written_problem(field_name: str, text: str) -> Problem | None:
    """A value typed in the conflict dialog, checked as its usual field checks it: a deadline as
    the deadline dialog (`t`) does, a summary and a village as the case's edit dialog does."""
    if field_name == "deadline":
        return _deadline_problem(text, "deadline.required")
    if field_name == "summary":
        found = fields.summary_problem(text)
    else:
        found = fields.text(text, field_name, model.MAX_SHORT, required=True)
    if found is None:
        return None
    if found.code == "summary_too_short":
        return (f"rule.{found.code}.sentence", dict(found.params))
    return ("case.too_long", {"limit": found.params.get("limit", model.MAX_TEXT)})


class AssignDialog(CaseDialog[PublicCase, ShownCase]):
    """Hand the case to an officer (点对点交办), optionally with a deadline; shows the claim."""

    TITLE_KEY = "assign.title"
    DRAFT_KIND = "assign"
    SAVE_KEY = "assign.confirm"
    LABELS = {"officer": "assign.officer", "deadline": "assign.deadline"}

    def _officers(self) -> list[tuple[str, str]]:
        rows = [r for r in device_rows(self.service) if r["revoked"] is None]
        rows.sort(key=lambda r: (r["role"] != "officer", r["officer"], r["device_id"]))
        return [(f"{r['officer']} · {vocab('devices.role', r['role'])}", r["device_id"]) for r in rows]

    def fields(self) -> ComposeResult:
        current = self.case.get("assignee")
        options = self._officers()
        chosen = current if any(v == current for _, v in options) else Select.NULL
        yield Static(id="claim-state")
        yield field("officer", Select(options, id="officer", value=chosen))
        yield field("deadline", Input(self.case.get("deadline") or "", id="deadline", max_length=10))

    def relabel(self) -> None:
        relabel_select(self.query_one("#officer", Select), self._officers(), t("assign.officer"))
        claimed = self.case.get("claimed_by")
        text = t("assign.claimed", name=_name(self.service, claimed)) if claimed else t("assign.not_claimed")
        self.query_one("#claim-state", Static).update(
            t("case.assignee", name=_name(self.service, self.case.get("assignee"))) + "   " + text
        )

    def check(self) -> dict[str, Problem]:
        problems: dict[str, Problem] = {}
        if self.query_one("#officer", Select).value == Select.NULL:
            problems["officer"] = ("assign.officer_required", {})
        deadline = text_of(self.query_one("#deadline", Input))
        if deadline and (problem := _deadline_problem(deadline, "assign.deadline_bad")):
            problems["deadline"] = problem
        return problems

    def record(self) -> ShownCase:
        deadline = text_of(self.query_one("#deadline", Input))
        officer = str(self.query_one("#officer", Select).value)
        changed = deadline if deadline and deadline != self.case.get("deadline") else None
        return self.service.assign(self.case["id"], officer, deadline=changed)


class DeadlineDialog(CaseDialog[PublicCase, ShownCase]):
    """Set or change the deadline (明确办理时限)."""

    TITLE_KEY = "deadline.title"
    DRAFT_KIND = "deadline"
    LABELS = {"deadline": "deadline.date"}

    def fields(self) -> ComposeResult:
        yield field("deadline", Input(self.case.get("deadline") or "", id="deadline", max_length=10))

    def check(self) -> dict[str, Problem]:
        problem = _deadline_problem(text_of(self.query_one("#deadline", Input)), "deadline.required")
        return {"deadline": problem} if problem else {}

    def record(self) -> ShownCase:
        return self.service.update(
            self.case["id"], fields={"deadline": text_of(self.query_one("#deadline", Input))}
        )


class ApproveDialog(CaseDialog[PublicCase, ShownCase]):
    """Approve an officer's escalation to the joint team or the mediation room."""

    TITLE_KEY = "approve.title"
    SAVE_KEY = "approve.confirm"

    def fields(self) -> ComposeResult:
        yield Static(id="approve-body")

    def relabel(self) -> None:
        # Who asked is in the writers of the view's document (the case screen opens this
        # dialog with the case as shown, which has none).
        state = self.service.cases_view().get(self.case["id"])
        officer = _name(self.service, (escalated_by(state) if state else "") or self.case.get("assignee"))
        tier = vocab("case.tier", self.case.get("tier"))
        self.query_one("#approve-body", Static).update(t("approve.body", officer=officer, tier=tier))

    def on_mount(self) -> None:
        self.query_one("#case-dialog-save", Button).focus()

    def record(self) -> ShownCase:
        return self.service.approve_escalation(self.case["id"], tier=self.case.get("tier"))


class CloseDialog(CaseDialog[PublicCase, ShownCase]):
    """Close a resolved red case (only a supervisor may); the reason is required."""

    TITLE_KEY = "close.title"
    DRAFT_KIND = "close"
    SAVE_KEY = "close.confirm"
    LABELS = {"reason": "close.reason"}

    def fields(self) -> ComposeResult:
        yield Static(id="close-body")
        yield field("reason", Input(id="reason", max_length=model.MAX_TEXT))

    def relabel(self) -> None:
        outcome = outcome_text(self.case["outcome"]) if self.case.get("outcome") else t("case.none")
        self.query_one("#close-body", Static).update(t("close.body", outcome=outcome))

    def check(self) -> dict[str, Problem]:
        return {} if text_of(self.query_one("#reason", Input)) else {"reason": ("close.reason_required", {})}

    def record(self) -> ShownCase:
        reason = text_of(self.query_one("#reason", Input))
        return self.service.update(self.case["id"], status="closed", reason=reason)


class ConflictDialog(CaseDialog[CaseDoc, ShownCase]):
    """Both values of a concurrent edit, who and when; keep one, or write the value.

    No value is chosen beforehand: saving with none chosen (and none written) says to
    choose one, so a settlement is always the supervisor's own choice.
    """

    TITLE_KEY = "conflict.title"
    DRAFT_KIND = "conflict"
    LABELS = {"choice": "conflict.choose"}

    def __init__(self, service: CaseService, case: CaseDoc, field_name: str) -> None:
        super().__init__(service, case)
        self.field_name = field_name
        conflicts = [c for c in case["conflicts"] if c["field"] == field_name and c["open"]]
        # Every value any open conflict on the field holds, each once, oldest first.
        seen: dict[str, ConflictValue] = {}
        for conflict in conflicts:
            for value in conflict["values"]:
                seen.setdefault(value["op"], value)
        self.values = sorted(seen.values(), key=lambda v: v["hlc"])

    def fields(self) -> ComposeResult:
        yield Static(id="conflict-body")
        buttons = [RadioButton(id=f"value-{index}") for index in range(len(self.values))]
        yield field("choice", RadioSet(*buttons, id="choice"))
        if self.field_name in WRITABLE:
            yield field("write", Input(id="write", max_length=model.MAX_TEXT))

    def draft_subject(self) -> str:
        return f"{self.case['id']}:{self.field_name}"

    def is_shown(self, value: ConflictValue) -> bool:
        """Whether `value` is the one the case shows now (the merge's deterministic winner)."""
        current = writer(self.case, self.field_name)
        return current is not None and current[0] == value["op"]

    def title_args(self) -> dict[str, Any]:
        return {"field": field_label(self.field_name), "id": self.case["id"]}

    def relabel(self) -> None:
        name = field_label(self.field_name)
        shown = value_text(self.field_name, self.case.get(self.field_name))
        self.query_one("#conflict-body", Static).update(t("conflict.body", field=name, shown=shown))
        for index, value in enumerate(self.values):
            label = t(
                "conflict.value",
                value=value_text(self.field_name, value["value"]),
                who=_name(self.service, value["author"]),
                when=local_time(model.stamp_iso(int(value["hlc"]))),
            )
            if self.is_shown(value):
                label += f"  ({t('conflict.shown')})"
            self.query_one(f"#value-{index}", RadioButton).label = label
        if self.field_name in WRITABLE:
            self.query_one("#write-label", Static).update(t("conflict.write"))

    def _written(self) -> str:
        return text_of(self.query_one("#write", Input)) if self.field_name in WRITABLE else ""

    def check(self) -> dict[str, Problem]:
        written = self._written()
        if self.query_one("#choice", RadioSet).pressed_index < 0 and not written:
            key = "conflict.choose_or_write" if self.field_name in WRITABLE else "conflict.choose_required"
            return {"choice": (key, {})}
        # A value typed here is checked as where it is usually typed: a deadline as `t` checks it.
        problem = _written_problem(self.field_name, written) if written else None
        return {"write": problem} if problem else {}

    def record(self) -> ShownCase:
        case_id = self.case["id"]
        if self.field_name in WRITABLE:
            typed = text_of(self.query_one("#write", Input))
            if typed:
                return self.service.settle_conflict(case_id, self.field_name, typed, keep=False)
        pressed = self.query_one("#choice", RadioSet).pressed_index
        chosen = self.values[pressed] if 0 <= pressed < len(self.values) else None
        if chosen is None or self.is_shown(chosen):
            return self.service.settle_conflict(case_id, self.field_name)
        return self.service.settle_conflict(case_id, self.field_name, chosen["value"], keep=False)


class RevokeDialog(CaseDialog[dict[str, str], DeviceRow]):
    """Revoke an enrolled device (station authority only), with the reason."""

    TITLE_KEY = "revoke.title"
    DRAFT_KIND = "revoke"
    SAVE_KEY = "revoke.confirm"
    LABELS = {"reason": "revoke.reason"}

    def __init__(self, service: CaseService, device: DeviceRow) -> None:
        # CaseDialog's title placeholders are the case's id and status; a device stands in.
        super().__init__(service, {"id": device["device_id"], "status": "open"})
        self.device = device

    def fields(self) -> ComposeResult:
        yield Static(id="revoke-body")
        yield field("reason", TextArea(id="reason"))

    def title_args(self) -> dict[str, Any]:
        return {"officer": self.device["officer"]}

    def relabel(self) -> None:
        self.query_one("#revoke-body", Static).update(t("revoke.body", device=self.device["device_id"]))

    def check(self) -> dict[str, Problem]:
        return (
            {} if text_of(self.query_one("#reason", TextArea)) else {"reason": ("revoke.reason_required", {})}
        )

    def record(self) -> DeviceRow:
        try:
            revoke_device(
                self.service, self.device["device_id"], text_of(self.query_one("#reason", TextArea))
            )
        except StationError as exc:
            raise station_refusal(exc) from None
        return self.device


class PlaceDialog(CaseDialog[dict[str, str], dict[str, str | None]]):
    """Place a village in a police area (警务区), or take it out (an empty name)."""

    TITLE_KEY = "area.title"
    DRAFT_KIND = "place"
    LABELS = {"area": "area.area"}

    def __init__(self, service: CaseService, village: str) -> None:
        # CaseDialog's title placeholders are the case's id and status; the village stands in.
        super().__init__(service, {"id": village, "status": "open"})
        self.village = village

    def title_args(self) -> dict[str, Any]:
        return {"village": self.village}

    def fields(self) -> ComposeResult:
        yield field(
            "area", Input(self.service.areas().get(self.village, ""), id="area", max_length=model.MAX_SHORT)
        )
        yield Static(id="area-known", classes="case-field-hint")

    def relabel(self) -> None:
        known = sorted(set(self.service.areas().values()))
        self.query_one("#area-known", Static).update(
            t("area.known", names="、".join(known)) if known else t("area.none_yet")
        )

    def record(self) -> dict[str, str | None]:
        area = text_of(self.query_one("#area", Input)) or None
        areas = self.service.place_village(self.village, area)
        return {"village": self.village, "area": areas.get(self.village)}


#: Payload fields whose values are vocabulary codes (shown translated).
_CODED = frozenset({"risk", "category", "status", "source", "tier"})


def station_refusal(exc: StationError) -> CaseError:
    """A coded station refusal as the dialogs show refusals (`refusal_text`), in the UI language."""
    if not has_key(f"error.{exc.code}"):
        return CaseError(f"Not recorded: {exc}")
    params = dict(exc.params)
    if exc.refusal is not None:
        params["reason"] = render(exc.refusal.code, exc.refusal.params)
    return CaseError("Not recorded: " + t(app_key(f"error.{exc.code}"), **params).rstrip(".。"))


class Comparison(Static, can_focus=True):
    """A fork's two entries side by side; focusable, so that the keyboard scrolls it into view
    (and up/down scroll the form on a short terminal)."""

    BINDINGS = [
        Binding("up", "scroll_form(-1)", show=False),
        Binding("down", "scroll_form(1)", show=False),
    ]

    def action_scroll_form(self, lines: int) -> None:
        """Scroll the dialog's body by `lines`."""
        if isinstance(self.parent, Widget):
            self.parent.scroll_relative(y=lines, animate=False)


class ForkDialog(CaseDialog[dict[str, str], dict[str, Any]]):
    """A fork's two entries side by side; the supervisor keeps one, with the reason.

    `settle_fork` records the decision (a `device.settle` operation that spreads); on an
    officer's device it is refused and the refusal is shown here, nothing recorded. The
    comparison has the focus first: read, then Tab to the choice and the reason.
    """

    TITLE_KEY = "fork.title"
    DRAFT_KIND = "fork"
    SAVE_KEY = "fork.confirm"
    LABELS = {"keep": "fork.keep", "reason": "fork.reason"}
    DEFAULT_CSS = """
    ForkDialog #fork-entries { height: auto; margin-bottom: 1; }
    ForkDialog #fork-entries:focus { background: $boost; }
    ForkDialog #keep { width: 100%; }
    """

    def __init__(self, service: CaseService, row: ForkRow) -> None:
        # CaseDialog's title placeholders are the case's id and status; the fork stands in.
        super().__init__(service, {"id": row["fork"], "status": "open"})
        self.row = row

    def fields(self) -> ComposeResult:
        yield Static(id="fork-body")
        yield Comparison(id="fork-entries")
        yield field("keep", RadioSet(RadioButton(id="keep-held"), RadioButton(id="keep-other"), id="keep"))
        yield field("reason", Input(id="reason", max_length=model.MAX_TEXT))

    def on_mount(self) -> None:
        self.query_one("#fork-entries", Comparison).focus()
        # Back to the top once laid out: the explanation above the entries stays in view.
        body = self.query_one(".case-dialog-body", Widget)
        self.call_after_refresh(body.scroll_home, animate=False)

    def title_args(self) -> dict[str, Any]:
        return {"officer": self.row["officer"] or self.row["device_id"]}

    def comparison(self) -> Table:
        """Both entries in two columns: kind, entity, stamp, then the payload's fields, those
        that differ first and in bold, those alike dimmed."""
        held, other = self.row["held"], self.row["other"]
        seen = local_time(self.row["seen_at"]) or "—"
        table = Table(box=None, expand=True, padding=(0, 1), show_edge=False)
        table.add_column("", style="bold", no_wrap=True, ratio=1)
        table.add_column(t("fork.side.held"), ratio=3)
        table.add_column(t("fork.side.other", seen=seen), ratio=3)
        table.add_row(t("fork.row.kind"), vocab("case.op", held["kind"]), vocab("case.op", other["kind"]))
        table.add_row(t("fork.row.entity"), held["entity"], other["entity"])
        table.add_row(t("fork.row.at"), local_time(held["at"]), local_time(other["at"]))
        names = list(dict.fromkeys([*held["fields"], *other["fields"]]))
        names.sort(key=lambda name: held["fields"].get(name) == other["fields"].get(name))
        for name in names:
            alike = held["fields"].get(name) == other["fields"].get(name)
            values = [_shown(name, entry["fields"].get(name)) for entry in (held, other)]
            style = "dim" if alike else "bold"
            table.add_row(field_label(name), *(Text(v, style=style) for v in values))
        return table

    def relabel(self) -> None:
        officer = self.row["officer"] or self.row["device_id"]
        self.query_one("#fork-body", Static).update(t("fork.body", officer=officer, seq=self.row["seq"]))
        self.query_one("#fork-entries", Comparison).update(self.comparison())
        for side in SIDES:
            self.query_one(f"#keep-{side}", RadioButton).label = t(f"fork.keep.{side}")

    def check(self) -> dict[str, Problem]:
        problems: dict[str, Problem] = {}
        if self.query_one("#keep", RadioSet).pressed_index < 0:
            problems["keep"] = ("fork.keep_required", {})
        if not text_of(self.query_one("#reason", Input)):
            problems["reason"] = ("fork.reason_required", {})
        return problems

    def record(self) -> dict[str, Any]:
        keep = SIDES[self.query_one("#keep", RadioSet).pressed_index]
        try:
            settle_fork(self.service, self.row["fork"], keep, text_of(self.query_one("#reason", Input)))
        except StationError as exc:
            raise station_refusal(exc) from None
        return {**self.row, "keep": keep}


def _shown(name: str, value: str | None) -> str:
    """A payload field's value in brief, vocabulary codes translated ("—" if the entry lacks it)."""
    if value is None:
        return "—"
    return value_text(name, value) if name in _CODED else value
