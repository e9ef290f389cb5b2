"""Derived BRAG status of actions and concerns."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from generator.check.outcomes import outcomes_of
from generator.check.status import action_status, concern_status
from generator.model import Action, Concern, Rules

AS_OF = date(2026, 6, 30)


def action(**fields: Any) -> Action:
    base = {"id": "A1", "title": "T", "owner": "o", "due": "2026-07-31", "status": "planned"}
    return Action.model_validate({**base, **fields})


CLOSURE = {"date": "2026-05-01", "by": "m"}


@pytest.mark.parametrize(
    ("fields", "colour", "label"),
    [
        ({}, "amber", "Planned"),
        ({"status": "in-progress"}, "amber", "In progress"),
        ({"due": "2026-06-30"}, "amber", "Planned"),  # due today is not yet overdue
        ({"due": "2026-06-29"}, "red", "Overdue"),
        ({"due": "2026-06-01", "extensions": [{"to": "2026-07-15"}]}, "amber", "Planned"),
        ({"due": "2026-06-01", "extensions": [{"to": "2026-06-15"}]}, "red", "Overdue"),
        ({"due": "2026-06-01", "status": "completed"}, "green", "Completed"),
        ({"status": "closed"}, "green", "Closed"),
        ({"status": "closed", "closure": CLOSURE}, "green", "Closed"),
        (
            {"status": "closed", "closure": {**CLOSURE, "evidence": ["E1"]}},
            "blue",
            "Closed, verified",
        ),
    ],
)
def test_action_status(fields: dict[str, Any], colour: str, label: str) -> None:
    brag = action_status(action(**fields), AS_OF)
    assert (brag.colour, brag.label) == (colour, label)
    assert brag.reason


def concern(**fields: Any) -> Concern:
    base = {
        "id": "C1",
        "title": "T",
        "quality_statements": ["safeguarding"],
        "source": "other",
        "raised": "2026-01-01",
        "owner": "o",
        "risk": "low",
        "status": "open",
        "baseline": "b",
        "intended_outcome": "i",
    }
    return Concern.model_validate({**base, **fields})


def measure(by: str, readings: list[float], direction: str = "up") -> dict[str, Any]:
    return {
        "id": "M1",
        "name": "N",
        "direction": direction,
        "baseline": {"date": "2026-01-01", "value": 50},
        "target": {"value": 90, "by": by},
        "readings": [{"date": f"2026-0{i + 2}-01", "value": v} for i, v in enumerate(readings)],
    }


@pytest.mark.parametrize(
    ("fields", "actions", "colour", "label"),
    [
        ({}, [], "amber", "On track"),
        ({}, [{"status": "completed"}], "green", "Actions complete"),
        ({}, [{"status": "completed"}, {"id": "A2", "due": "2026-01-01"}], "red", "Off track"),
        ({"status": "monitoring"}, [{"status": "completed"}], "green", "Actions complete"),
        ({"status": "closed", "closure": CLOSURE}, [], "green", "Closed"),
        (
            {"status": "closed", "closure": {**CLOSURE, "evidence": ["E"]}},
            [],
            "blue",
            "Closed, verified",
        ),
        ({"measures": [measure("2026-05-31", [60, 70])]}, [], "red", "Off track"),
        ({"measures": [measure("2026-05-31", [60, 95])]}, [], "amber", "On track"),
        ({"measures": [measure("2026-09-30", [60, 70])]}, [], "amber", "On track"),
        ({"measures": [measure("2026-05-31", [])]}, [], "red", "Off track"),
        (
            {"measures": [{**measure("2026-05-31", [40]), "direction": "down"}]},
            [],
            "amber",
            "On track",
        ),
    ],
)
def test_concern_status(
    fields: dict[str, Any], actions: list[dict[str, Any]], colour: str, label: str
) -> None:
    acts = [action(**a) for a in actions]
    record = concern(**fields, actions=[a.model_dump() for a in acts])
    brag = concern_status(
        record, [action_status(a, AS_OF) for a in acts], outcomes_of(record, AS_OF, Rules())
    )
    assert (brag.colour, brag.label) == (colour, label)
