"""Outcome charts: well-formed, self-contained, accessible SVG."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date

from generator.check.outcomes import measure_outcome
from generator.model import Measure, Rules
from generator.render.charts import line_chart, nice_ticks, sparkline

SVG = "{http://www.w3.org/2000/svg}"

MEASURE = Measure.model_validate(
    {
        "id": "MED-01-M1",
        "name": "Complete <records> & more",
        "unit": "%",
        "baseline": {"date": "2026-01-12", "value": 72},
        "target": {"value": 95, "by": "2026-04-30", "sustain": 3},
        "readings": [
            {"date": "2026-02-10", "value": 81},
            {"date": "2026-03-10", "value": 96},
            {"date": "2026-04-10", "value": 97},
        ],
    }
)


def chart() -> ET.Element:
    outcome = measure_outcome(MEASURE, date(2026, 6, 30), Rules())
    return ET.fromstring(str(line_chart(outcome, "c1", date(2026, 5, 1))))


def test_line_chart_is_well_formed_and_accessible() -> None:
    svg = chart()
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None and title.text == "MED-01-M1: Complete <records> & more"
    assert desc is not None and desc.text is not None
    assert desc.text.startswith("Baseline 72% on 2026-01-12; target 95% by 2026-04-30; 3 readings")
    assert "concern closed on 2026-05-01" in desc.text


def test_line_chart_draws_every_reading_and_the_reference_lines() -> None:
    svg = chart()
    [line] = svg.findall(f"{SVG}polyline")
    assert len(line.get("points", "").split()) == 4  # baseline and three readings
    assert len(svg.findall(f"{SVG}circle")) == 4
    texts = ["".join(t.itertext()) for t in svg.findall(f"{SVG}text")]
    assert "Target 95%" in texts and "Baseline 72%" in texts
    assert "Target date 2026-04-30" in texts and "Closed 2026-05-01" in texts


def test_charts_make_no_reference_outside_themselves() -> None:
    text = str(line_chart(measure_outcome(MEASURE, date(2026, 6, 30), Rules()), "c"))
    text += str(sparkline(measure_outcome(MEASURE, date(2026, 6, 30), Rules())))
    for marker in ("href", "url(", "<script", "<style", "@import", "<image"):
        assert marker not in text


def test_sparkline_has_a_text_alternative() -> None:
    svg = ET.fromstring(str(sparkline(measure_outcome(MEASURE, date(2026, 6, 30), Rules()))))
    assert svg.get("role") == "img"
    assert (svg.get("aria-label") or "").startswith("Trend of Complete <records> & more:")


def test_charts_are_deterministic() -> None:
    outcome = measure_outcome(MEASURE, date(2026, 6, 30), Rules())
    assert str(line_chart(outcome, "c")) == str(line_chart(outcome, "c"))


def test_nice_ticks() -> None:
    assert nice_ticks(0, 100) == [0, 50, 100]
    assert nice_ticks(0, 10) == [0, 5, 10]
    ticks = nice_ticks(63.5, 98.4)
    assert ticks[0] <= 63.5 and ticks[-1] >= 98.4
    assert all(b > a for a, b in itertools.pairwise(ticks))
