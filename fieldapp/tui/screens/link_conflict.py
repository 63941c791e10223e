"""The supervisor settles a person link conflict: a link and an unlink of one pair of person ids
made on two devices without seeing each other (docs/persons.md).

The decision is `CaseService.link_persons` (a `person.link` or `person.unlink` whose base is the
write shown now, so it saw both), the same call as `fieldapp person link` / `unlink`; the fold
then closes the conflict on every device it reaches. On an officer's device the merge refuses it
(`person_link_conflict_open`) and the refusal is shown here, nothing recorded.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet, Static

from fieldapp.core.service import CaseService
from fieldapp.domain import model
from fieldapp.domain.person_index import PersonIndex
from fieldapp.i18n import key_persons as _strings  # noqa: F401  (registers the strings)
from fieldapp.i18n import persons as _person_strings  # noqa: F401  (the separator, "no mobile")
from fieldapp.i18n import t
from fieldapp.tui.case_timeline import local_time
from fieldapp.tui.screens.case_dialogs import CaseDialog, Problem, field


def _name(service: CaseService, device_id: str) -> str:
    record = service.replica.device(device_id)
    return str((record.get("officer") if record else None) or device_id)


class LinkConflictDialog(CaseDialog[dict[str, str], bool]):
    """Both decisions about a pair of person ids, who and when, and who each id is; link or
    unlink. Nothing is chosen beforehand: the settlement is the supervisor's own choice.
    Dismisses with the decision recorded (True: one person)."""

    TITLE_KEY = "linkc.title"
    SAVE_KEY = "linkc.confirm"
    LABELS = {"choice": "linkc.choose"}

    def __init__(
        self, service: CaseService, detail: dict[str, Any], index: PersonIndex | None = None
    ) -> None:
        # CaseDialog's title placeholders are the case's id and status; the pair stands in.
        super().__init__(service, {"id": f"{detail['a']}+{detail['b']}", "status": "open"})
        self.a, self.b = str(detail["a"]), str(detail["b"])
        self.values: list[dict[str, Any]] = list(detail["values"])
        self.shown = detail.get("shown")
        self.index = index

    def draft_subject(self) -> str:
        return f"{self.a}+{self.b}"

    def fields(self) -> ComposeResult:
        yield Static(id="linkc-body")
        yield Static(id="linkc-persons")
        yield Static(id="linkc-writes")
        yield field(
            "choice", RadioSet(RadioButton(id="linkc-link"), RadioButton(id="linkc-unlink"), id="choice")
        )

    def title_args(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b}

    def _person_line(self, person_id: str) -> str:
        names, villages, cases = self.index.own_parties(person_id) if self.index else ((), (), ())
        if not cases:
            return t("linkc.person_unknown", id=person_id)
        sep = t("person.sep")
        mobile = self.index.own_mobile(person_id) if self.index else None
        return t(
            "linkc.person",
            id=person_id,
            names=sep.join(names),
            mobile=mobile or t("person.no_mobile"),
            villages=sep.join(villages),
            cases=len(cases),
        )

    def relabel(self) -> None:
        shown = t("linkc.shown.true" if self.shown else "linkc.shown.false")
        self.query_one("#linkc-body", Static).update(t("linkc.body", shown=shown))
        self.query_one("#linkc-persons", Static).update(
            "\n".join(self._person_line(p) for p in (self.a, self.b))
        )
        writes = [
            t(
                f"linkc.wrote.{'true' if value['value'] else 'false'}",
                who=_name(self.service, str(value["author"])),
                when=local_time(model.stamp_iso(int(value["hlc"]))),
            )
            for value in sorted(self.values, key=lambda v: v["hlc"])
        ]
        self.query_one("#linkc-writes", Static).update("\n".join(writes))
        self.query_one("#linkc-link", RadioButton).label = t("linkc.link")
        self.query_one("#linkc-unlink", RadioButton).label = t("linkc.unlink")

    def check(self) -> dict[str, Problem]:
        if self.query_one("#choice", RadioSet).pressed_index < 0:
            return {"choice": ("linkc.choose_required", {})}
        return {}

    def record(self) -> bool:
        linked = self.query_one("#choice", RadioSet).pressed_index == 0
        self.service.link_persons(self.a, self.b, linked=linked)
        return linked
