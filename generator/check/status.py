"""Derived status: the BRAG colour of every action and concern, never typed by hand.

Blue: closed and verified by closure evidence. Green: completed (or closed without closure
evidence). Amber: open and on track. Red: an action overdue, a measure off track (its target
date passed, or its trend will not reach the target by then), or a measure that fell back below
target after the concern was closed. Each colour comes with a word
and a reason, because colour must never be the only signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from generator.check.outcomes import Outcome
from generator.load.link import Portfolio
from generator.model import Action, Concern

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


def concern_status(concern: Concern, actions: list[Brag], outcomes: list[Outcome]) -> Brag:
    """The BRAG status of a concern, from its own status, its actions and its measures."""
    regressed = [o.measure.id for o in outcomes if o.state == "regressed"]
    if regressed:
        return Brag(
            "red", "Regressed", f"fell back below target after closure: {', '.join(regressed)}"
        )
    if concern.status == "closed":
        if concern.closure is not None and concern.closure.evidence:
            return Brag("blue", "Closed, verified", "closed with closure evidence")
        return Brag("green", "Closed", "closed without closure evidence")
    overdue = sum(1 for a in actions if a.colour == "red")
    if overdue:
        plural = "s" if overdue > 1 else ""
        return Brag("red", "Off track", f"{overdue} action{plural} overdue")
    off = [o.measure.id for o in outcomes if o.state == "off-track"]
    if off:
        return Brag("red", "Off track", f"outcome off track: {', '.join(off)}")
    if actions and all(a.colour in ("green", "blue") for a in actions):
        return Brag("green", "Actions complete", "all actions completed; outcome under watch")
    return Brag("amber", "On track", "actions under way, none overdue")


def derive(portfolio: Portfolio, outcomes: dict[str, Outcome]) -> dict[str, Brag]:
    """The status of every action and concern of the portfolio, by id."""
    result: dict[str, Brag] = {}
    for concern in portfolio.concerns.values():
        statuses = []
        for action in concern.actions:
            brag = action_status(action, portfolio.as_of)
            result[action.id] = brag
            statuses.append(brag)
        measured = [outcomes[m.id] for m in concern.measures]
        result[concern.id] = concern_status(concern, statuses, measured)
    return result
