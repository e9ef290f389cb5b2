"""Reports for people outside the service: the commissioner recovery update and the action plan.

Both are made from the audience's view of the portfolio, after the privacy guard, so they hold
only what that audience may see. The commissioner update is one self-contained HTML file (its
CSS and charts inline, nothing fetched) or a PDF of the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup

from generator.check.assess import Build
from generator.check.outcomes import CONCERN_OUTCOME_LABELS, concern_outcome, outcomes_of, with_unit
from generator.check.status import Brag, action_status, concern_status
from generator.model import Action, Concern
from generator.render.charts import line_chart
from generator.render.site import SiteRenderer
from generator.render.theme import templates_dir


@dataclass
class Change:
    """One thing that changed for a concern since the last update."""

    kind: str  # new concern | new reading | action completed | deadline missed | extended | colour
    text: str


@dataclass
class ConcernUpdate:
    """What a commissioner reads about one concern."""

    concern: Concern
    colour: Brag
    outcome: str
    actions: list[tuple[Action, Brag]]
    remaining: list[str]
    evidence: list[Any]
    findings: list[Any]
    charts: list[tuple[Any, Markup]]
    changes: list[Change] = field(default_factory=list)


def _role_title(build: Build, role: str) -> str:
    """A role as a commissioner reads it: the job title, never the person's name."""
    known = build.portfolio.settings.roles.get(role)
    return known.title if known and known.title else role.replace("-", " ").capitalize()


def colour_at(build: Build, concern: Concern, when: date) -> Brag:
    """The concern's colour as it stood at ``when``: later readings and closures not yet made."""
    actions = []
    for action in concern.actions:
        done_later = action.closure is not None and action.closure.date > when
        if done_later:
            action = action.model_copy(update={"status": "in-progress", "closure": None})
        actions.append(action_status(action, when))
    then = concern
    if concern.closure is not None and concern.closure.date > when:
        then = concern.model_copy(update={"status": "open", "closure": None})
    rules = build.portfolio.settings.rules
    return concern_status(then, actions, outcomes_of(then, when, rules))


def changes_since(build: Build, concern: Concern, since: date) -> list[Change]:
    """Everything that changed for ``concern`` after ``since``, up to the as-of date."""
    as_of = build.as_of
    found: list[Change] = []
    if since < concern.raised <= as_of:
        found.append(Change("new concern", f"Raised on {concern.raised}"))
    for measure in concern.measures:
        for reading in measure.readings:
            if since < reading.date <= as_of:
                found.append(
                    Change(
                        "new reading",
                        f"{measure.name}: "
                        f"{with_unit(reading.value, measure.unit)} on {reading.date}",
                    )
                )
    for action in concern.actions:
        if action.closure is not None and since < action.closure.date <= as_of:
            found.append(
                Change("action closed", f"{action.title}: closed on {action.closure.date}")
            )
        elif action.status == "completed":
            latest = max((u.date for u in action.updates), default=None)
            if latest is not None and since < latest <= as_of:
                found.append(
                    Change("action completed", f"{action.title}: completed (last update {latest})")
                )
        for extension in action.extensions:
            if extension.date is not None and since < extension.date <= as_of:
                found.append(
                    Change(
                        "deadline extended",
                        f"{action.title}: extended to {extension.to} on {extension.date}",
                    )
                )
        due = action.current_due
        if action.status in ("planned", "in-progress") and since < due < as_of:
            found.append(Change("deadline missed", f"{action.title}: due {due}, not done"))
    if concern.closure is not None and since < concern.closure.date <= as_of:
        found.append(Change("concern closed", f"Closed on {concern.closure.date}"))
    before = colour_at(build, concern, since)
    now = build.status[concern.id]
    if before.colour != now.colour:
        found.append(
            Change(
                "colour",
                f"{before.colour.capitalize()} ({before.label}) to "
                f"{now.colour.capitalize()} ({now.label})",
            )
        )
    return found


def commissioner_updates(build: Build, since: date | None) -> list[ConcernUpdate]:
    """The update for every concern in the (commissioner) view."""
    p = build.portfolio
    style = p.settings.date_style
    updates = []
    for concern in p.concerns.values():
        outcomes = [build.outcomes[m.id] for m in concern.measures]
        remaining = [
            f"{a.title} (due {a.current_due})"
            for a in concern.actions
            if a.status in ("planned", "in-progress")
        ]
        remaining += [
            f"{o.measure.name}: {o.label.lower()}" for o in outcomes if o.state != "sustained"
        ]
        closed_on = concern.closure.date if concern.status == "closed" and concern.closure else None
        update = ConcernUpdate(
            concern=concern,
            colour=build.status[concern.id],
            outcome=CONCERN_OUTCOME_LABELS[concern_outcome(outcomes)],
            actions=[(a, build.status[a.id]) for a in concern.actions],
            remaining=remaining,
            evidence=p.evidence_of_concern[concern.id],
            findings=[f for f in build.findings if f.concern == concern.id],
            charts=[(o, line_chart(o, f"c-{o.measure.id}", closed_on, style)) for o in outcomes],
        )
        if since is not None:
            update.changes = changes_since(build, concern, since)
        updates.append(update)
    return updates


def commissioner_html(build: Build, since: date | None) -> str:
    """The commissioner recovery update as one self-contained HTML file."""
    renderer = SiteRenderer(build)
    p = build.portfolio
    updates = commissioner_updates(build, since)
    counts: dict[str, int] = {}
    for concern in p.concerns.values():
        counts[concern.status] = counts.get(concern.status, 0) + 1
    colours: dict[str, int] = {}
    for concern in p.concerns.values():
        colour = build.status[concern.id].colour
        colours[colour] = colours.get(colour, 0) + 1
    overdue = [(c, a) for c, a in p.actions.values() if build.status[a.id].label == "Overdue"]
    closed = [
        u
        for u in updates
        if u.concern.status == "closed"
        and (since is None or (u.concern.closure and u.concern.closure.date > since))
    ]
    css = (templates_dir() / "reports" / "report.css").read_text(encoding="utf-8")
    return renderer.env.get_template("reports/commissioner.html").render(
        page_path="report.html",
        updates=updates,
        since=since,
        counts=counts,
        colour_counts=colours,
        overdue=overdue,
        closed=closed,
        role_title=lambda role: _role_title(build, role),
        css=Markup(css),  # our own stylesheet, inlined so the file stands alone
    )


def action_plan_html(build: Build) -> str:
    """The action plan as a landscape table, for print: each concern once, with its item to
    put right, above the rows of its actions."""
    from generator.check.rules import rule_by_code
    from generator.render.exports import closure_evidence, progress_of

    p, status = build.portfolio, build.status
    statements = p.framework.statements()
    groups = []
    for concern in p.concerns.values():
        rows = []
        for action in concern.actions:
            titles = dict.fromkeys(
                rule_by_code(f.code).title for f in build.findings_for(action.id)
            )
            rows.append(
                {
                    "action": action,
                    "owner": p.role_label(action.owner),
                    "colour": status[action.id],
                    "progress": progress_of(action),
                    "closure": closure_evidence(p, action),
                    "findings": "; ".join(titles),
                }
            )
        groups.append(
            {
                "concern": concern,
                "colour": status[concern.id],
                "statements": "; ".join(
                    statements[s][1].title for s in p.statements_of[concern.id]
                ),
                "rows": rows,
            }
        )
    renderer = SiteRenderer(build)
    css = (templates_dir() / "reports" / "report.css").read_text(encoding="utf-8")
    return renderer.env.get_template("reports/action-plan.html").render(
        page_path="report.html",
        groups=groups,
        css=Markup(css),  # our own stylesheet, inlined so the file stands alone
    )


def action_plan(build: Build, output: str) -> bytes:
    """The action plan as CSV or XLSX bytes (its PDF is made from :func:`action_plan_html`)."""
    from datetime import datetime

    from generator.render.exports import to_csv, to_xlsx, tracker_columns, tracker_rows

    if output == "csv":
        return to_csv(tracker_columns(build), tracker_rows(build))
    if output == "xlsx":
        when = datetime(build.as_of.year, build.as_of.month, build.as_of.day)
        return to_xlsx("Action plan", tracker_columns(build), tracker_rows(build), when)
    raise ValueError(f"no action plan as {output!r}")
