"""The early warning at intake (早预警, docs/persons.md): the panel under the intake form naming the
open and recent cases of the parties being typed (the index it asks is built by
`fieldapp.tui.person_index_worker`).

The panel is one line (a summary naming the key that expands it) or the summary and every case,
grouped by person; expanded by default on a tall terminal, folded on a short one (80x24), where
the form needs the rows. It is hidden when there is nothing to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from fieldapp.domain.person_index import PersonIndex
from fieldapp.i18n import intake as _strings  # noqa: F401  (registers the warning's strings)
from fieldapp.i18n import t
from fieldapp.tui.case_timeline import NameOf, local_time, vocab

#: The key showing and hiding the cases (named on the panel and in F1).
TOGGLE_KEY = "F3"


@dataclass(frozen=True)
class Match:
    """One matched person and their open or recent cases, as the panel shows them."""

    person: str
    name: str
    #: "phone" (the same mobile) or "name" (possibly: the same name in this village).
    match: str
    cases: tuple[Mapping[str, Any], ...]
    #: Marked a key person (重点人员): said with the name, so the officer knows before saving.
    key: bool = False

    @property
    def label(self) -> str:
        """The name, with the key-person mark when there is one."""
        return t("intake.warn.key_name", name=self.name) if self.key else self.name


def group_matches(related: Sequence[Mapping[str, Any]], index: PersonIndex) -> list[Match]:
    """`PersonIndex.related_cases` grouped by person: same-mobile matches first, then by their
    newest case (the list comes newest first)."""
    order: dict[str, list[Mapping[str, Any]]] = {}
    for case in related:
        order.setdefault(case["person"], []).append(case)
    found = []
    for pid, cases in order.items():
        person = index.get(pid)
        name = person.names[0] if person is not None and person.names else pid
        found.append(Match(pid, name, cases[0]["match"], tuple(cases), person is not None and person.key))
    return sorted(found, key=lambda m: m.match != "phone")


def summary_line(matches: Sequence[Match], expanded: bool) -> str:
    """The panel's first line: how many cases, whose, and the key showing or hiding them."""
    count = sum(len(m.cases) for m in matches)
    people = t("intake.warn.sep").join(t(f"intake.warn.who_{m.match}", name=m.label) for m in matches)
    action = t("intake.warn.hide" if expanded else "intake.warn.show")
    return t("intake.warn.summary", count=count, people=people, key=TOGGLE_KEY, action=action)


def case_lines(matches: Sequence[Match], name_of: NameOf) -> list[str]:
    """Each matched person, then their cases (village, category, risk, officer, status, when)."""
    lines = []
    for m in matches:
        lines.append(t(f"intake.warn.person_{m.match}", name=m.label, count=len(m.cases)))
        for c in m.cases:
            officer = name_of(c["officer"]) if c["officer"] else t("intake.warn.nobody")
            parts = [
                c["id"],
                c["village"],
                vocab("category", c["category"]),
                vocab("risk", c["risk"]),
                officer,
                vocab("status", c["status"]),
                local_time(c["when"])[:10],
            ]
            lines.append("  " + " · ".join(parts))
    return lines


class EarlyWarning(VerticalScroll):
    """Under the intake form: the parties' open and recent cases, or that they are being looked up."""

    def __init__(self, name_of: NameOf, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._name_of = name_of
        self._matches: list[Match] = []
        self._checking = False
        self._summary = Static(id="warn-summary")
        self._cases = Static(id="warn-cases")
        #: Shown or hidden by the officer (F3); None: as the terminal's height suggests.
        self.expanded: bool | None = None

    def compose(self) -> ComposeResult:
        yield self._summary
        yield self._cases

    def on_mount(self) -> None:
        self.redraw()

    @property
    def has_matches(self) -> bool:
        """Whether some case is named (F3 then shows or hides them)."""
        return bool(self._matches)

    def is_expanded(self) -> bool:
        """The cases are listed: as toggled, else on a tall terminal only."""
        return self.expanded if self.expanded is not None else not self.app.has_class("-short")

    def show(self, related: Sequence[Mapping[str, Any]], index: PersonIndex) -> None:
        """Name these cases (from `PersonIndex.related_cases`); none: hide the panel."""
        self._checking = False
        self._matches = group_matches(related, index)
        self.redraw()

    def checking(self, waiting: bool) -> None:
        """Say that the cases are still being read (`waiting`), or say nothing yet."""
        self._checking = waiting
        self._matches = []
        self.redraw()

    def redraw(self) -> None:
        """Draw the panel in the current language and height (nothing once the form is gone)."""
        if not self.is_attached:
            return
        summary, cases = self._summary, self._cases
        if self._matches:
            expanded = self.is_expanded()
            summary.update(Text(summary_line(self._matches, expanded), style="bold"))
            cases.update("\n".join(case_lines(self._matches, self._name_of)))
            cases.display = expanded
        else:
            summary.update(t("intake.warn.checking") if self._checking else "")
            cases.display = False
        self.display = bool(self._matches) or self._checking
