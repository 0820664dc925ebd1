"""The report's chart: completion per module and attendance per session, as a PNG (matplotlib Agg).

Uses the object API (no pyplot), so it can run in a worker thread off the event loop (which
carries the reader's language: `asyncio.to_thread` copies the context).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.capabilities.reports.kpis import CohortReport
from bot.core.i18n import _, _n


def write_chart(report: CohortReport, path: Path) -> Path:
    figure = Figure(figsize=(9, 6), dpi=80)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.16, hspace=0.75)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1)
    _bars(
        top,
        [m.title for m in report.modules],
        [(m.rate or 0.0) * 100 for m in report.modules],
        _("Completion per module (%)"),
        "#2b7bb9",
    )
    counted = [s for s in report.sessions if s.counted]
    _bars(
        bottom,
        [s.title for s in counted],
        [(s.rate or 0.0) * 100 for s in counted],
        _("Attendance per session (%)"),
        "#3a9d5d",
    )
    figure.suptitle(
        _n("{cohort}: {n} learner", "{cohort}: {n} learners", len(report.learners), cohort=report.slug)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def _bars(axes: object, labels: list[str], values: list[float], title: str, color: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    axes.set_title(title)
    axes.set_ylim(0, 100)
    if not labels:
        axes.text(0.5, 0.5, _("nothing yet"), ha="center", va="center", transform=axes.transAxes)
        return
    positions = range(len(labels))
    axes.bar(positions, values, color=color)
    axes.axhline(50, color="#c0392b", linewidth=1, linestyle="--")
    axes.set_xticks(list(positions), labels, rotation=30, ha="right", fontsize=8)
