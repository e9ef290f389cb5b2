"""Derived status: the BRAG colour of every action and concern, never typed by hand.

Blue: closed and verified by closure evidence. Green: completed (or closed without closure
evidence). Amber: open and on track. Red: an action overdue, or a measure's target date
passed without the target being met. Each colour comes with a word
and a reason, because colour must never be the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from generator.link import Portfolio
from generator.model import Action, Concern, Measure

Colour = Literal["blue", "green", "amber", "red"]
COLOURS: tuple[Colour, ...] = ("red", "amber", "green", "blue")


@dataclass(frozen=True)
class Brag:
    """A derived status: its colour, a short word for it, and why."""

    colour: Colour
    label: str
    reason: str


def action_status(action: Action, as_of: date) -> Brag:
    """The BRAG status of an action at ``as_of``."""
    if action.status == "closed":
        if action.closure is not None and action.closure.evidence:
            return Brag("blue", "Closed, verified", "closed with closure evidence")
        return Brag("green", "Closed", "closed without closure evidence")
    if action.status == "completed":
        return Brag("green", "Completed", "marked completed")
    due = action.current_due
    if due < as_of:
        days = (as_of - due).days
        return Brag("red", "Overdue", f"due {due.isoformat()}, {days} days ago, not completed")
    word = "In progress" if action.status == "in-progress" else "Planned"
    return Brag("amber", word, f"due {due.isoformat()}")


def missed_targets(concern: Concern, as_of: date) -> list[Measure]:
    """Measures whose target date has passed without the latest reading meeting the target."""
    missed = []
    for measure in concern.measures:
        target = measure.target
        if target.by is None or target.by >= as_of:
            continue
        latest = measure.readings[-1].value if measure.readings else None
        met = latest is not None and (
            latest >= target.value if measure.direction == "up" else latest <= target.value
        )
        if not met:
            missed.append(measure)
    return missed


def concern_status(concern: Concern, actions: list[Brag], as_of: date) -> Brag:
    """The BRAG status of a concern, from its own status, its actions and its measures."""
    if concern.status == "closed":
        if concern.closure is not None and concern.closure.evidence:
            return Brag("blue", "Closed, verified", "closed with closure evidence")
        return Brag("green", "Closed", "closed without closure evidence")
    overdue = sum(1 for a in actions if a.colour == "red")
    if overdue:
        plural = "s" if overdue > 1 else ""
        return Brag("red", "Off track", f"{overdue} action{plural} overdue")
    missed = missed_targets(concern, as_of)
    if missed:
        names = ", ".join(m.id for m in missed)
        return Brag("red", "Off track", f"target date passed without reaching target: {names}")
    if actions and all(a.colour in ("green", "blue") for a in actions):
        return Brag("green", "Actions complete", "all actions completed; outcome under watch")
    return Brag("amber", "On track", "actions under way, none overdue")


def derive(portfolio: Portfolio) -> dict[str, Brag]:
    """The status of every action and concern of the portfolio, by id."""
    result: dict[str, Brag] = {}
    for concern in portfolio.concerns.values():
        statuses = []
        for action in concern.actions:
            brag = action_status(action, portfolio.as_of)
            result[action.id] = brag
            statuses.append(brag)
        result[concern.id] = concern_status(concern, statuses, portfolio.as_of)
    return result
