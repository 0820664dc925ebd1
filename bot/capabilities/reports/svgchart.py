"""Bar charts as inline SVG, drawn on the server: values written on every bar, the 50% line in the
legend, bars under it hatched and marked (not colour alone), a title and a description for screen
readers. No script, no external request: the page works offline."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.core.i18n import _, percent

ROW = 28  # height of one bar's row
LABEL_W = 220
PLOT_W = 420
VALUE_W = 70
TOP = 8
LEGEND_H = 34


@dataclass(frozen=True)
class Bar:
    label: str
    ratio: float | None  # None: nothing measured yet
    detail: str = ""  # e.g. "12/20", read out with the value


def _bar_text(bar: Bar) -> str:
    if bar.ratio is None:
        return _("not measured yet")
    return f"{percent(bar.ratio)} ({bar.detail})" if bar.detail else percent(bar.ratio)


def description(bars: list[Bar], threshold: float) -> str:
    """The chart in words, for screen readers and the `desc` of the SVG."""
    parts = []
    for bar in bars:
        under = bar.ratio is not None and bar.ratio < threshold
        warn = " " + _("(under {limit})", limit=percent(threshold)) if under else ""
        parts.append(_("{label}: {title}", label=bar.label, title=_bar_text(bar) + warn))
    return "; ".join(parts)


def bar_chart(chart_id: str, title: str, bars: list[Bar], threshold: float = 0.5) -> Markup:
    """One horizontal bar per item, with its value, and a dashed line at `threshold`."""
    height = TOP + ROW * max(len(bars), 1) + LEGEND_H
    width = LABEL_W + PLOT_W + VALUE_W
    line_x = LABEL_W + PLOT_W * threshold
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="{escape(chart_id)}" class="chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description(bars, threshold))}</desc>',
        '<defs><pattern id="hatch-' + str(escape(chart_id)) + '" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#f6c8c0"/><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="#a93226" stroke-width="2"/></pattern></defs>',
    ]
    if not bars:
        empty = escape(_("Nothing yet"))
        out.append(f'<text x="{LABEL_W}" y="{TOP + 18}" class="empty">{empty}</text>')
    for i, bar in enumerate(bars):
        y = TOP + i * ROW
        under = bar.ratio is not None and bar.ratio < threshold
        fill = f"url(#hatch-{escape(chart_id)})" if under else "#2b6cb0"
        length = PLOT_W * min(max(bar.ratio or 0.0, 0.0), 1.0)
        mark = "⚠ " if under else ""
        out.append(
            f'<g class="bar{" under" if under else ""}">'
            f'<text x="{LABEL_W - 6}" y="{y + 18}" text-anchor="end" class="label">'
            f"{escape(mark)}{escape(_truncate(bar.label))}</text>"
            f'<rect x="{LABEL_W}" y="{y + 5}" width="{length:.1f}" height="{ROW - 10}" fill="{fill}" '
            f'stroke="#1a365d" stroke-width="{1 if bar.ratio is not None else 0}"/>'
            f'<text x="{LABEL_W + length + 4:.1f}" y="{y + 18}" class="value">{escape(_bar_text(bar))}</text>'
            "</g>"
        )
    bottom = TOP + ROW * max(len(bars), 1)
    out.append(
        f'<line x1="{line_x:.1f}" y1="{TOP}" x2="{line_x:.1f}" y2="{bottom}" stroke="#a93226" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )
    legend_y = bottom + 20
    hatch = f"url(#hatch-{escape(chart_id)})"
    line_words = escape(_("{limit} line", limit=percent(threshold)))
    under_words = escape(_("⚠ hatched: under {limit}", limit=percent(threshold)))
    out.append(
        f'<g class="legend"><line x1="{LABEL_W}" y1="{legend_y - 4}" x2="{LABEL_W + 28}" '
        f'y2="{legend_y - 4}" stroke="#a93226" stroke-width="2" stroke-dasharray="6 4"/>'
        f'<text x="{LABEL_W + 34}" y="{legend_y}">{line_words}</text>'
        f'<rect x="{LABEL_W + 150}" y="{legend_y - 12}" width="14" height="12" fill="{hatch}"/>'
        f'<text x="{LABEL_W + 170}" y="{legend_y}">{under_words}</text></g>'
    )
    out.append("</svg>")
    return Markup("".join(out))


def _truncate(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
