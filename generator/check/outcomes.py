"""Measured outcomes: how each measure stands at the as-of date, and so each concern.

A measure's state answers the inspector's question "what changed, and has it lasted?":
no readings yet, improving, static, worsening, off track (the current rate will not reach the
target by its date), at target, sustained (at target for ``sustain`` readings running), or
regressed (fell back below target after the concern was closed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from generator.model import Concern, Measure, Point, Rules

MeasureState = Literal[
    "no-readings",
    "worsening",
    "static",
    "improving",
    "off-track",
    "at-target",
    "sustained",
    "regressed",
]

STATE_LABELS: dict[MeasureState, str] = {
    "no-readings": "No readings yet",
    "worsening": "Worsening",
    "static": "No change",
    "improving": "Improving",
    "off-track": "Off track",
    "at-target": "At target",
    "sustained": "Sustained",
    "regressed": "Regressed after closure",
}


@dataclass(frozen=True)
class Outcome:
    """How one measure stands at the as-of date."""

    measure: Measure
    state: MeasureState
    readings: tuple[Point, ...]  # readings on or before the as-of date, oldest first
    latest: Point  # the latest reading, or the baseline when there is none
    change: float  # latest minus baseline, in the measure's unit
    streak: int  # readings at target running, counted back from the latest
    projected: float | None  # value the trend reaches by the target date, if it can be told
    static_since: Point | None  # where a run with no improvement started, if static

    @property
    def label(self) -> str:
        """The state in words."""
        return STATE_LABELS[self.state]

    @property
    def at_target(self) -> bool:
        """Whether the latest reading meets the target."""
        return self.streak > 0

    def show(self, value: float) -> str:
        """A value of this measure, with its unit."""
        return with_unit(value, self.measure.unit)

    @property
    def improved(self) -> bool:
        """Whether the latest reading is better than the baseline."""
        return better(self.measure, self.latest.value, self.measure.baseline.value)


def number(value: float) -> str:
    """A value as people write it: 95, not 95.0; 2.5 stays 2.5."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return f"{value:g}"


def with_unit(value: float, unit: str | None) -> str:
    """A value and its unit: "95%", "3 incidents"."""
    text = number(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def difference(change: float, unit: str | None) -> str:
    """A change between two values, signed: "+3 falls"; in percentage points for a measure in
    %, since 60% to 86% is a rise of 26 points, not of 26%."""
    sign = "+" if change > 0 else ("-" if change < 0 else "")
    size = number(abs(change))
    if unit == "%":
        return f"{sign}{size} point{'' if abs(change) == 1 else 's'}"
    return f"{sign}{with_unit(abs(change), unit)}"


def meets(measure: Measure, value: float) -> bool:
    """Whether ``value`` meets the measure's target, in its direction."""
    if measure.direction == "up":
        return value >= measure.target.value
    return value <= measure.target.value


def better(measure: Measure, value: float, than: float) -> bool:
    """Whether ``value`` is an improvement on ``than``."""
    return value > than if measure.direction == "up" else value < than


def streak_at(measure: Measure, readings: tuple[Point, ...] | list[Point]) -> int:
    """How many readings at the end of ``readings`` meet the target, running."""
    count = 0
    for reading in reversed(readings):
        if not meets(measure, reading.value):
            break
        count += 1
    return count


def readings_until(measure: Measure, day: date) -> tuple[Point, ...]:
    """The measure's readings dated on or before ``day``, oldest first."""
    return tuple(sorted((r for r in measure.readings if r.date <= day), key=lambda r: r.date))


def projection(measure: Measure, points: list[Point], day: date) -> float | None:
    """The value a least-squares line through ``points`` reaches on ``day``.

    None when the points cannot give a trend (fewer than two dates).
    """
    if len({p.date for p in points}) < 2:
        return None
    xs = [(p.date - points[0].date).days for p in points]
    ys = [p.value for p in points]
    n = len(points)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y + slope * ((day - points[0].date).days - mean_x)


def static_start(measure: Measure, points: list[Point], static_after_days: int) -> Point | None:
    """The reading a no-improvement run starts from, if the run spans ``static_after_days``.

    Looks back from the latest reading to the latest point at least ``static_after_days``
    earlier; static when the latest is no better than that point.
    """
    if len(points) < 2:
        return None
    latest = points[-1]
    horizon = latest.date - timedelta(days=static_after_days)
    earlier = [p for p in points[:-1] if p.date <= horizon]
    if not earlier:
        return None
    start = earlier[-1]
    if better(measure, latest.value, start.value):
        return None
    return start


def measure_outcome(
    measure: Measure, as_of: date, rules: Rules, closed_on: date | None = None
) -> Outcome:
    """The state of ``measure`` at ``as_of``; ``closed_on`` is its concern's closure date."""
    readings = readings_until(measure, as_of)
    latest = readings[-1] if readings else measure.baseline
    streak = streak_at(measure, readings)
    points = [measure.baseline, *readings]
    target = measure.target
    projected = projection(measure, points, target.by) if target.by is not None else None
    static = None if streak else static_start(measure, points, rules.static_after_days)

    state: MeasureState
    after_closure = [r for r in readings if closed_on is not None and r.date > closed_on]
    if after_closure and not meets(measure, after_closure[-1].value):
        state = "regressed"
    elif not readings:
        missed = target.by is not None and target.by < as_of
        state = "off-track" if missed else "no-readings"
    elif streak >= target.sustain:
        state = "sustained"
    elif streak:
        state = "at-target"
    elif target.by is not None and (
        target.by < as_of or projected is None or not meets(measure, projected)
    ):
        state = "off-track"
    elif static is not None:
        state = "worsening" if better(measure, static.value, latest.value) else "static"
    elif better(measure, latest.value, measure.baseline.value):
        state = "improving"
    elif latest.value == measure.baseline.value:
        state = "static"
    else:
        state = "worsening"
    return Outcome(
        measure=measure,
        state=state,
        readings=readings,
        latest=latest,
        change=latest.value - measure.baseline.value,
        streak=streak,
        projected=projected,
        static_since=static,
    )


ConcernOutcome = Literal[
    "no-measure", "no-readings", "regressed", "off-track", "not-yet", "at-target", "sustained"
]

CONCERN_OUTCOME_LABELS: dict[ConcernOutcome, str] = {
    "no-measure": "No outcome measure",
    "no-readings": "Not yet measured",
    "regressed": "Regressed after closure",
    "off-track": "Off track",
    "not-yet": "Not yet at target",
    "at-target": "At target",
    "sustained": "Sustained",
}


def concern_outcome(outcomes: list[Outcome]) -> ConcernOutcome:
    """A concern's outcome state follows from its measures' states."""
    if not outcomes:
        return "no-measure"
    states = {o.state for o in outcomes}
    if "regressed" in states:
        return "regressed"
    if "off-track" in states:
        return "off-track"
    if states == {"no-readings"}:
        return "no-readings"
    if states == {"sustained"}:
        return "sustained"
    if states <= {"sustained", "at-target"}:
        return "at-target"
    return "not-yet"


def outcomes_of(concern: Concern, as_of: date, rules: Rules) -> list[Outcome]:
    """The outcome of each of a concern's measures."""
    closed_on = concern.closure.date if concern.status == "closed" and concern.closure else None
    return [measure_outcome(m, as_of, rules, closed_on) for m in concern.measures]
