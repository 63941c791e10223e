"""The supervisor's dashboard as rows and charts (`fieldapp.outputs.dashboard` gives the figures)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from fieldapp.domain import model
from fieldapp.i18n import key_persons as _persons_strings  # noqa: F401  (registers the figure's strings)
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the supervisor strings)
from fieldapp.i18n import t
from fieldapp.outputs.dashboard import Dashboard
from fieldapp.tui.case_rows import risk_cell
from fieldapp.tui.case_timeline import vocab

#: Categories drawn in the intake chart (the rest are summed as "other").
CHART_CATEGORIES = 5
#: Colours of the intake chart's series, and the legend's swatches (readable on both themes).
SERIES_COLOURS = ("red", "orange", "blue", "green", "magenta", "cyan")
SWATCH = {
    "red": "#e53935",
    "orange": "#fb8c00",
    "blue": "#1e88e5",
    "green": "#43a047",
    "magenta": "#d81b60",
    "cyan": "#00acc1",
}
#: (row key, label, case ids or None for a heading, (title i18n key, its placeholders)).
FigureRow = tuple[str, Text | str, list[str] | None, tuple[str, dict[str, Any]]]


def figure_rows(
    board: Dashboard,
    name_of: Callable[[str], str],
    language: str,
    key_persons: tuple[int, int] | None = None,
) -> list[FigureRow]:
    """The dashboard's rows: (row key, label, case ids or None for a heading, the title of
    the list those cases make as an i18n key and its placeholders). `key_persons`: (key persons,
    of them flagged), None while they are gathered (`fieldapp.outputs.key_persons`)."""
    rows: list[FigureRow] = []

    def heading(key: str, text: str) -> None:
        rows.append((f"h:{key}", Text(text, style="bold"), None, ("", {})))

    def row(
        key: str, title: tuple[str, dict[str, Any]], ids: list[str], label: Text | str | None = None
    ) -> None:
        rows.append((key, label if label is not None else "  " + t(title[0], **title[1]), ids, title))

    heading("open", t("dash.section.open"))
    for risk in model.RISKS:
        row(
            f"risk:{risk}",
            ("dash.open_risk", {"risk": t(f"risk.{risk}")}),
            board.open_by_risk[risk],
            Text("  ").append_text(risk_cell(risk)),
        )
    for status, ids in board.open_by_status.items():
        name = vocab("status", status)
        row(f"status:{status}", ("dash.open_status", {"status": name}), ids, "  " + name)
    heading("attention", t("dash.section.attention"))
    for name in ("overdue", "followups_due", "unassigned", "unclaimed"):
        row(name, (f"dash.{name}", {}), getattr(board, name))
    # Persons, not cases: the numbers are in the label, Enter shows the Persons tab.
    if key_persons is None:
        persons = t("dash.key_persons_loading")
    else:
        persons = t("dash.key_persons", count=key_persons[0], flagged=key_persons[1])
    rows.append(("key_persons", "  " + persons, None, ("", {})))
    for kind, (period, figures, behind) in board.periods.items():
        heading(kind, period.label(language))
        for name in (
            "found",
            "resolved",
            "found_resolved",
            "hazards_found",
            "hazards_fixed",
            "repeat_incidents",
        ):
            row(f"{kind}:{name}", (f"dash.period.{name}", {}), behind[name])
        rate = figures["resolution_rate"]
        rate_text = t("dash.no_rate") if rate is None else f"{rate:.1f}%"
        rows.append((f"{kind}:rate", "  " + t("dash.period.rate", rate=rate_text), None, ("", {})))
    heading("area", t("dash.section.area"))
    for area, ids in sorted(board.by_area.items(), key=lambda kv: (kv[0] == "", -len(kv[1]), kv[0])):
        name = area or t("dash.no_area")
        row(f"area:{area}", ("dash.open_status", {"status": name}), ids, "  " + name)
    heading("village", t("dash.section.village"))
    for village, ids in sorted(board.by_village.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        row(f"village:{village}", ("dash.open_status", {"status": village}), ids, "  " + village)
    heading("officer", t("dash.section.officer"))
    for officer, ids in sorted(board.by_officer.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        name = name_of(officer)
        row(f"officer:{officer}", ("dash.open_status", {"status": name}), ids, "  " + name)
    heading("months", t("dash.section.months"))
    for first, rate, _found, _done in reversed(board.monthly_rate):
        month = first.strftime("%Y-%m")
        shown = t("dash.no_rate") if rate is None else f"{rate:.1f}%"
        label = "  " + t("dash.month_rate", month=month, rate=shown)
        row(f"month:{month}", ("dash.month_found", {"month": month}), board.monthly_found[first], label)
    heading("weeks", t("dash.section.weeks"))
    for index in reversed(range(len(board.weeks))):
        ids = [i for weekly in board.weekly_intake.values() for i in weekly[index]]
        week = board.weeks[index].isoformat()
        row(f"week:{week}", ("dash.week", {"date": week}), ids)
    return rows


#: Cells of a chart's width that are not its plot: the y-axis labels ("100.0┤") and the frame.
CHART_MARGIN = 9


def spaced_ticks(labels: list[str], width: int) -> tuple[list[float], list[str]]:
    """Where to label a bar chart of `labels` drawn `width` cells wide: plotext's positions
    (1, 2, ... for bars given as strings) and their labels, the last bar (the current month or
    week) always, then every `step`-th bar back, the step wide enough that no two labels touch.

    plotext drops a label that would touch another, and which one it drops follows the order of
    a set (the string hash seed): labels that never touch make the chart the same on every run.
    """
    if not labels:
        return [], []
    per_bar = max(width - CHART_MARGIN, 1) / len(labels)
    step = max(1, math.ceil((max(len(label) for label in labels) + 2) / per_bar))
    positions = list(range(len(labels), 0, -step))[::-1]
    return [float(p) for p in positions], [labels[p - 1] for p in positions]


def draw_charts(board: Dashboard, screen: Widget, width: int) -> None:
    """Weekly intake by category (stacked bars, legend below) and the monthly rate, in charts
    `width` cells wide."""
    weeks = [d.strftime("%m-%d") for d in board.weeks]
    totals = {c: sum(len(w) for w in weekly) for c, weekly in board.weekly_intake.items()}
    top = [c for c in sorted(totals, key=lambda c: (-totals[c], c)) if totals[c]][:CHART_CATEGORIES]
    series = [[len(w) for w in board.weekly_intake[c]] for c in top]
    rest = [
        sum(len(board.weekly_intake[c][i]) for c in board.weekly_intake if c not in top)
        for i in range(len(weeks))
    ]
    names = [vocab("category", c) for c in top]
    if any(rest):
        series.append(rest)
        names.append(t("dash.other_categories"))
    intake = screen.query_one("#intake-chart", PlotextPlot).plt
    intake.clear_data()
    intake.clear_figure()
    if series:
        # A colour per series: plotext takes a list here, though its annotation names one colour.
        intake.stacked_bar(weeks, series, color=list(SERIES_COLOURS[: len(series)]), width=0.6)  # type: ignore[arg-type]
    intake.xticks(*spaced_ticks(weeks, width))
    screen.query_one("#intake-chart", PlotextPlot).refresh()
    legend = Text()
    for name, colour in zip(names, SERIES_COLOURS, strict=False):
        legend.append("■ ", style=SWATCH[colour])
        legend.append(f"{name}  ")
    screen.query_one("#intake-legend", Static).update(legend)
    screen.query_one("#intake-title", Static).update(t("dash.chart.intake"))
    months = [first.strftime("%y-%m") for first, _rate, _found, _done in board.monthly_rate]
    rates = [rate or 0.0 for _first, rate, _found, _done in board.monthly_rate]
    rate_plot = screen.query_one("#rate-chart", PlotextPlot).plt
    rate_plot.clear_data()
    rate_plot.clear_figure()
    rate_plot.bar(months, rates, color="green", width=0.6)
    rate_plot.ylim(0, 100)
    rate_plot.xticks(*spaced_ticks(months, width))
    screen.query_one("#rate-chart", PlotextPlot).refresh()
    screen.query_one("#rate-title", Static).update(t("dash.chart.rate"))
