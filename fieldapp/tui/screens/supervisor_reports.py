"""The supervisor's reports tab: exports of the filtered cases and the period report,
written as new files into a folder (what `fieldapp export` and `fieldapp report` do)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from fieldapp.core.service import CaseError, CaseService, officer_names
from fieldapp.domain import model
from fieldapp.domain.documents import CaseDoc, ShownCase
from fieldapp.domain.person_index import PersonIndex
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n import t
from fieldapp.outputs.exports import CaseFilter, ExportError, build_export, filter_cases, write_new
from fieldapp.outputs.persons_export import exported_persons, person_table
from fieldapp.outputs.reports import (
    PERIODS,
    CaseFacts,
    ReportError,
    build_report,
    period_of,
    report_file,
    report_text,
)
from fieldapp.tui.case_timeline import vocab
from fieldapp.tui.person_index_worker import person_index_if_cheap, person_index_off_thread
from fieldapp.tui.screens.case_dialogs import relabel_select

EXPORT_FORMATS = ("xlsx", "csv", "json")
REPORT_FORMATS = ("xlsx", "csv")


class ReportsPane(VerticalScroll):
    """The export form, the report form and the report's preview."""

    def __init__(
        self,
        service: CaseService,
        folder: Path,
        today: date,
        cases: Callable[[], list[ShownCase]],
        states: Callable[[], list[CaseDoc]],
        facts_of: Callable[[CaseDoc], CaseFacts],
    ) -> None:
        super().__init__(id="reports-body")
        self.service = service
        self._folder, self._today = folder, today
        #: The cases with their history (exports), the view's states and their facts (reports).
        self._cases, self._states, self._facts_of = cases, states, facts_of
        self.last_export: Path | None = None
        self.last_report: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="exp-title", classes="section-title")
        with Horizontal(classes="sup-form-row"):
            yield Select([(f, f) for f in EXPORT_FORMATS], id="exp-format", allow_blank=False)
            yield Select([], id="exp-status")
            yield Select([], id="exp-risk")
            yield Input(id="exp-village")
        with Horizontal(classes="sup-form-row"):
            yield Static(id="folder-label")
            yield Input(str(self._folder), id="folder")
            yield Button(id="exp-button", variant="primary", compact=True)
        yield Static(id="exp-result")
        yield Static(id="rep-title", classes="section-title")
        with Horizontal(classes="sup-form-row"):
            yield Select([(p, p) for p in PERIODS], id="rep-period", allow_blank=False)
            yield Input(self._today.strftime("%Y-%m"), id="rep-of", max_length=7)
            yield Select([(f, f) for f in REPORT_FORMATS], id="rep-format", allow_blank=False)
            yield Button(id="rep-show", compact=True)
            yield Button(id="rep-button", variant="primary", compact=True)
        yield Static(id="rep-result")
        yield Static(id="rep-preview")

    def relabel(self) -> None:
        """Labels and choices in the UI language."""
        any_ = t("exp.any")
        self.query_one("#exp-title", Static).update(t("exp.title"))
        self._set_options("#exp-format", [(f.upper(), f) for f in EXPORT_FORMATS])
        self._set_options(
            "#exp-status", [(vocab("status", s), s) for s in model.STATUSES], f"{t('exp.status')}: {any_}"
        )
        self._set_options("#exp-risk", [(t(f"risk.{r}"), r) for r in model.RISKS], f"{t('exp.risk')}: {any_}")
        self.query_one("#exp-village", Input).placeholder = t("exp.village")
        self.query_one("#folder-label", Static).update(t("exp.folder"))
        self.query_one("#exp-button", Button).label = t("exp.button")
        self.query_one("#rep-title", Static).update(t("rep.title"))
        self._set_options("#rep-period", [(t(f"rep.period.{p}"), p) for p in PERIODS])
        self.query_one("#rep-of", Input).placeholder = t("rep.of")
        self._set_options("#rep-format", [(f.upper(), f) for f in REPORT_FORMATS])
        self.query_one("#rep-show", Button).label = t("rep.show")
        self.query_one("#rep-button", Button).label = t("rep.button")

    def _set_options(self, selector: str, options: list[tuple[str, str]], prompt: str | None = None) -> None:
        relabel_select(self.query_one(selector, Select), options, prompt)

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return None if value == Select.NULL else str(value)

    def _target(self, name: str) -> Path | None:
        folder = Path(self.query_one("#folder", Input).value.strip() or ".").expanduser()
        if not folder.is_dir():
            return None
        return folder / name

    @on(Button.Pressed, "#exp-button")
    def export(self) -> None:
        """Write the filtered cases (and visits) to a new file in the folder."""
        result = self.query_one("#exp-result", Static)
        fmt = self._chosen("#exp-format") or EXPORT_FORMATS[0]
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self._target(f"fieldapp-cases-{stamp}.{fmt}")
        if target is None:
            result.update(t("exp.no_folder", folder=self.query_one("#folder", Input).value))
            return
        wanted = CaseFilter(
            status=self._chosen("#exp-status"),
            risk=self._chosen("#exp-risk"),
            village=self.query_one("#exp-village", Input).value.strip() or None,
        )
        visits_out = target.with_name(f"fieldapp-visits-{stamp}.csv") if fmt == "csv" else None
        try:
            cases = filter_cases(self._cases(), wanted)
            lang, names = self.app.language, officer_names(self.service)  # type: ignore[attr-defined]
            persons = exported_persons(self.service, cases) if fmt == "xlsx" else None
            made = build_export(
                cases,
                fmt,
                lang,
                names,
                target,
                visits_out,
                persons=None if persons is None else person_table(persons, lang, names),
            )
            write_new(made.files)
        except (ExportError, CaseError) as exc:
            result.update(t("exp.failed", reason=str(exc)))
            return
        self.last_export = target
        result.update(t("exp.done", cases=made.cases, visits=made.visits, path=target))

    def _with_persons(self, then: Callable[[PersonIndex], None]) -> None:
        """Run `then` with the store's person index (the report's repeat figures) current: at
        once if that is cheap (few documents changed since it was last brought current), else
        once it is brought current off the UI thread."""
        index = person_index_if_cheap(self.service)
        if index is not None:
            then(index)
            return

        async def when_current() -> None:
            then(await person_index_off_thread(self.service))

        self.run_worker(when_current, group="report-persons", exclusive=True)  # type: ignore[arg-type]

    def _report(self, persons: PersonIndex) -> dict[str, Any] | None:
        """The report of the period asked for; None, with the preview cleared and the reason
        shown, if the month is not one. Writes no result line otherwise: the caller does."""
        typed = self.query_one("#rep-of", Input).value.strip()
        try:
            period = period_of(self._chosen("#rep-period") or "month", typed)
        except ReportError:
            # An old preview under a refused month would read as that month's report.
            self.query_one("#rep-preview", Static).update("")
            key = "rep.of_bad" if typed else "rep.of_missing"
            self.query_one("#rep-result", Static).update(
                t(key, typed=typed, show=t("rep.show"), write=t("rep.button"))
            )
            self.query_one("#rep-of", Input).focus()
            return None
        return build_report(
            self._states(), period, officer_names(self.service), facts_of=self._facts_of, persons=persons
        )

    def _preview(self, report: dict[str, Any]) -> None:
        preview = self.query_one("#rep-preview", Static)
        preview.update(report_text(report, self.app.language))  # type: ignore[attr-defined]
        self.call_after_refresh(self._bring_preview_into_view)

    def _bring_preview_into_view(self) -> None:
        """A report longer than the room under the form fills the pane from the report's own
        row of the form (its buttons, the line saying where it was written, then the report):
        at 80x24 only the report's title showed."""
        preview = self.query_one("#rep-preview", Static)
        if preview.virtual_region.bottom <= self.scroll_offset.y + self.scrollable_content_region.height:
            return
        row = self.query_one("#rep-show", Button).parent
        if isinstance(row, Widget):
            self.scroll_to_widget(row, top=True, animate=False)

    @on(Button.Pressed, "#rep-show")
    def show_report(self) -> None:
        """The report as text, below the form."""
        self._with_persons(self._show_report)

    def _show_report(self, persons: PersonIndex) -> None:
        report = self._report(persons)
        if report is not None:
            self.query_one("#rep-result", Static).update("")
            self._preview(report)

    @on(Button.Pressed, "#rep-button")
    def write_report(self) -> None:
        """Write the report's table (XLSX or CSV) to a new file in the folder; say where, and
        show the report below."""
        self._with_persons(self._write_report)

    def _write_report(self, persons: PersonIndex) -> None:
        report = self._report(persons)
        if report is None:
            return
        result = self.query_one("#rep-result", Static)
        fmt = self._chosen("#rep-format") or REPORT_FORMATS[0]
        code = report["period"]["code"]
        target = self._target(f"fieldapp-report-{code}-{datetime.now():%Y%m%d-%H%M%S}.{fmt}")
        if target is None:
            result.update(t("exp.no_folder", folder=self.query_one("#folder", Input).value))
            return
        try:
            write_new({str(target): report_file(report, fmt, self.app.language)})  # type: ignore[attr-defined]
        except ExportError as exc:
            result.update(t("exp.failed", reason=str(exc)))
            return
        self.last_report = target
        result.update(t("rep.done", period=code, path=target))
        self._preview(report)
