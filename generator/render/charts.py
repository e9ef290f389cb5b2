"""Outcome charts as self-contained SVG: the same markup serves the site, print and the PDF.

No script, no external stylesheet or font: presentation is in attributes, text uses generic
font families. Every chart has a title and a description that say in words what it shows.
Numbers are rounded so the output is byte-identical from build to build.
"""

from __future__ import annotations

import math
from datetime import date

from markupsafe import Markup, escape

from generator.check.outcomes import Outcome
from generator.render.dates import show_date

FONT = "'Atkinson Hyperlegible', sans-serif"  # the theme's own font; a generic one otherwise
INK = "#0b0c0c"
MUTED = "#505a5f"
LINE = "#1d70b8"
TARGET = "#00703c"
GRID = "#dcdcdc"
CLOSED = "#6f2c91"


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]: steps of 1, 2 or 5 times a power of ten."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.5:
        ticks.append(round(value, 10))
        value += step
        if len(ticks) > 12:
            break
    return ticks


def description(outcome: Outcome, closed_on: date | None = None, style: str = "iso") -> str:
    """The chart in words, for its text alternative (dates in ``style``, see render.dates)."""
    m = outcome.measure
    parts = [f"Baseline {outcome.show(m.baseline.value)} on {show_date(m.baseline.date, style)}"]
    target = f"target {outcome.show(m.target.value)}"
    if m.target.by:
        target += f" by {show_date(m.target.by, style)}"
    parts.append(target)
    if outcome.readings:
        parts.append(
            f"{len(outcome.readings)} readings, latest "
            f"{outcome.show(outcome.latest.value)} on {show_date(outcome.latest.date, style)}"
        )
    else:
        parts.append("no readings yet")
    if closed_on:
        parts.append(f"concern closed on {show_date(closed_on, style)}")
    parts.append(f"state: {outcome.label}")
    return "; ".join(parts) + "."


def line_chart(
    outcome: Outcome, chart_id: str, closed_on: date | None = None, style: str = "iso"
) -> Markup:
    """A line chart of a measure over time with baseline, target, target date and closure."""
    m = outcome.measure
    width, height = 640, 270
    left, right, top, bottom = 52, 20, 18, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    points = [m.baseline, *outcome.readings]
    dates = [p.date for p in points]
    if m.target.by:
        dates.append(m.target.by)
    if closed_on:
        dates.append(closed_on)
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    values = [p.value for p in points] + [m.target.value]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or max(abs(high) * 0.1, 1)
    ticks = nice_ticks(low - pad, high + pad)
    y_min, y_max = ticks[0], ticks[-1]
    if m.unit == "%":
        y_min, y_max = max(y_min, 0), min(y_max, 100) if high <= 100 else y_max
        ticks = [t for t in ticks if y_min <= t <= y_max]

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y(value: float) -> float:
        return top + plot_h * (1 - (value - y_min) / ((y_max - y_min) or 1))

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{title_id}">{escape(m.id)}: {escape(m.name)}</title>',
        f'<desc id="{desc_id}">{escape(description(outcome, closed_on, style))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in ticks:
        ty = _num(y(tick))
        out.append(
            f'<line x1="{left}" y1="{ty}" x2="{width - right}" y2="{ty}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{ty}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{MUTED}">{escape(outcome.show(tick))}</text>'
        )
    axis_y = _num(top + plot_h)
    out.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    for day, anchor in ((first, "start"), (last, "end")):
        out.append(
            f'<text x="{_num(x(day))}" y="{_num(top + plot_h + 16)}" '
            f'text-anchor="{anchor}" fill="{MUTED}">{show_date(day, style)}</text>'
        )
    # Baseline and target as labelled horizontal lines.
    by = _num(y(m.baseline.value))
    out.append(
        f'<line x1="{left}" y1="{by}" x2="{width - right}" y2="{by}" stroke="{MUTED}" '
        'stroke-width="1.5" stroke-dasharray="2 4"/>'
    )
    out.append(
        f'<text x="{width - right}" y="{_num(y(m.baseline.value) - 4)}" text-anchor="end" '
        f'fill="{MUTED}">Baseline {escape(outcome.show(m.baseline.value))}</text>'
    )
    ty = _num(y(m.target.value))
    out.append(
        f'<line x1="{left}" y1="{ty}" x2="{width - right}" y2="{ty}" stroke="{TARGET}" '
        'stroke-width="2" stroke-dasharray="8 4"/>'
    )
    out.append(
        f'<text x="{left + 4}" y="{_num(y(m.target.value) - 4)}" fill="{TARGET}" '
        f'font-weight="bold">Target {escape(outcome.show(m.target.value))}</text>'
    )
    # Target date and closure as labelled vertical lines.
    marks = ((m.target.by, "Target date", TARGET), (closed_on, "Closed", CLOSED))
    for when, label, colour in marks:
        if when is None:
            continue
        vx = _num(x(when))
        share = (when - first).days / span
        anchor = "end" if share > 0.7 else "start" if share < 0.3 else "middle"
        row = top + plot_h + (32 if label == "Target date" else 48)
        out.append(
            f'<line x1="{vx}" y1="{top}" x2="{vx}" y2="{axis_y}" stroke="{colour}" '
            'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<text x="{vx}" y="{_num(row)}" text-anchor="{anchor}" '
            f'fill="{colour}">{label} {show_date(when, style)}</text>'
        )
    # The readings: a line from the baseline through every reading, each marked.
    coords = " ".join(f"{_num(x(p.date))},{_num(y(p.value))}" for p in points)
    out.append(
        f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="2.5" '
        'stroke-linejoin="round"/>'
    )
    for index, point in enumerate(points):
        kind = "Baseline" if index == 0 else "Reading"
        fill = "#ffffff" if index == 0 else LINE
        out.append(
            f'<circle cx="{_num(x(point.date))}" cy="{_num(y(point.value))}" r="4" fill="{fill}" '
            f'stroke="{LINE}" stroke-width="2"><title>{kind} {show_date(point.date, style)}: '
            f"{escape(outcome.show(point.value))}</title></circle>"
        )
    out.append("</svg>")
    return Markup("\n".join(out))


def sparkline(outcome: Outcome, style: str = "iso") -> Markup:
    """A small trend line for listings, with the target as a faint line."""
    m = outcome.measure
    width, height, pad = 96, 24, 3
    points = [m.baseline, *outcome.readings]
    values = [p.value for p in points] + [m.target.value]
    low, high = min(values), max(values)
    first = points[0].date
    span = max((points[-1].date - first).days, 1)

    def x(day: date) -> float:
        return pad + (width - 2 * pad) * (day - first).days / span

    def y(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / ((high - low) or 1))

    label = escape(f"Trend of {m.name}: {description(outcome, style=style)}")
    coords = " ".join(f"{_num(x(p.date))},{_num(y(p.value))}" for p in points)
    ty = _num(y(m.target.value))
    last = points[-1]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" aria-label="{label}">'
        f'<line x1="0" y1="{ty}" x2="{width}" y2="{ty}" stroke="{TARGET}" stroke-width="1" '
        'stroke-dasharray="3 2"/>'
        f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'
        f'<circle cx="{_num(x(last.date))}" cy="{_num(y(last.value))}" r="2.5" fill="{LINE}"/>'
        "</svg>"
    )
