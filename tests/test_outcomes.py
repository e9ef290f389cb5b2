"""Measured outcomes: the state of each measure at the as-of date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from generator.check.outcomes import concern_outcome, measure_outcome, projection
from generator.model import Measure, Rules

START = date(2026, 1, 1)


def measure(
    values: list[float],
    direction: str = "up",
    by: str | None = "2026-12-31",
    sustain: int = 2,
    step: int = 30,
    target: float = 90,
) -> Measure:
    readings = [
        {"date": (START + timedelta(days=step * (i + 1))).isoformat(), "value": v}
        for i, v in enumerate(values)
    ]
    data: dict[str, Any] = {
        "id": "M1",
        "name": "N",
        "direction": direction,
        "baseline": {"date": START.isoformat(), "value": 50},
        "target": {"value": target, "sustain": sustain, **({"by": by} if by else {})},
        "readings": readings,
    }
    return Measure.model_validate(data)


AS_OF = date(2026, 7, 1)


@pytest.mark.parametrize(
    ("values", "kwargs", "closed_on", "state"),
    [
        ([], {}, None, "no-readings"),
        ([], {"by": "2026-06-01"}, None, "off-track"),
        ([60, 70, 80], {}, None, "improving"),
        ([60, 70, 92], {}, None, "at-target"),
        ([60, 91, 92], {}, None, "sustained"),
        ([91, 92, 80], {}, None, "worsening"),  # fell from target; the trend still reaches it
        ([91, 92, 80], {"by": None}, None, "worsening"),
        ([60, 60, 60], {"by": None}, None, "static"),
        ([40, 40], {"by": None, "step": 10}, None, "worsening"),
        ([60, 70], {"by": "2026-03-15"}, None, "off-track"),
        ([91, 92, 93], {}, date(2026, 2, 15), "sustained"),
        ([91, 92, 80], {}, date(2026, 2, 15), "regressed"),
        ([40, 30, 20], {"direction": "down", "target": 25}, None, "at-target"),
        ([40, 30, 20], {"direction": "down", "target": 25, "sustain": 1}, None, "sustained"),
    ],
)
def test_measure_state(
    values: list[float], kwargs: dict[str, Any], closed_on: date | None, state: str
) -> None:
    outcome = measure_outcome(measure(values, **kwargs), AS_OF, Rules(), closed_on)
    assert outcome.state == state


def test_readings_after_the_as_of_date_are_ignored() -> None:
    outcome = measure_outcome(measure([60, 70, 95, 96]), date(2026, 3, 15), Rules())
    assert [r.value for r in outcome.readings] == [60, 70]
    assert outcome.latest.value == 70 and outcome.change == 20


def test_static_needs_the_whole_static_period() -> None:
    m = measure([60, 60, 60], by=None, step=20)  # flat for 40 days only
    assert measure_outcome(m, AS_OF, Rules(static_after_days=60)).state == "improving"
    assert measure_outcome(m, AS_OF, Rules(static_after_days=40)).state == "static"


def test_projection_is_a_least_squares_line() -> None:
    m = measure([60, 70])
    points = [m.baseline, *m.readings]
    assert projection(m, points, START + timedelta(days=90)) == pytest.approx(80)
    assert projection(m, points[:1], START) is None


def test_concern_outcome_follows_its_measures() -> None:
    def o(values: list[float], **kw: Any) -> Any:
        return measure_outcome(measure(values, **kw), AS_OF, Rules())

    assert concern_outcome([]) == "no-measure"
    assert concern_outcome([o([])]) == "no-readings"
    assert concern_outcome([o([91, 92]), o([91, 95])]) == "sustained"
    assert concern_outcome([o([91, 92]), o([60, 95])]) == "at-target"
    assert concern_outcome([o([91, 92]), o([60, 70])]) == "not-yet"
    assert concern_outcome([o([91, 92]), o([], by="2026-06-01")]) == "off-track"
