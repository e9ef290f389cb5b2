"""The assurance checks: the ways improvement evidence fails, found on every build.

Each rule is one function registered with :func:`rule`, with a stable code (never reused), a
severity, what it finds, why it matters to an inspector or commissioner, and what to do. Rules
read the linked portfolio and its measured outcomes and return findings; a finding is data
that every renderer shows where it happens. Thresholds come from ``rules:`` in portfolio.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from generator.check.outcomes import Outcome, meets, outcomes_of, readings_until, streak_at
from generator.load.bodies import references
from generator.load.link import Portfolio
from generator.load.sources import KeyPath
from generator.model import Action, Closure, Concern, Measure, Point, Rules

if TYPE_CHECKING:
    from generator.check.privacy import ScanMemo

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")

CADENCE_DAYS = {
    "per-shift": 1,
    "daily": 1,
    "weekly": 7,
    "fortnightly": 14,
    "monthly": 31,
    "quarterly": 92,
}


@dataclass(frozen=True)
class Finding:
    """One place where the evidence of improvement falls short."""

    code: str
    name: str
    severity: Severity
    message: str
    record: str  # the id of the record it is about (or a quality statement's slug)
    concern: str | None  # the concern the record belongs to, if any
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


@dataclass
class Context:
    """What every rule reads: the portfolio, thresholds, as-of date and measured outcomes."""

    portfolio: Portfolio
    outcomes: dict[str, Outcome]
    rule: Rule | None = None
    scans: ScanMemo | None = None  # what scanning files for identifiers found before
    checksums: Mapping[str, str] = field(default_factory=dict)  # attachments' SHA-256

    @property
    def as_of(self) -> date:
        """The date findings are judged at."""
        return self.portfolio.as_of

    @property
    def rules(self) -> Rules:
        """The portfolio's thresholds."""
        return self.portfolio.settings.rules

    def finding(
        self, record: str, keys: KeyPath, message: str, concern: str | None = None
    ) -> Finding:
        """A finding of the rule being run, located at ``keys`` inside ``record``."""
        assert self.rule is not None
        where = self.portfolio.where(record, *keys)
        if concern is None and record in self.portfolio.concerns:
            concern = record
        for table in (self.portfolio.actions, self.portfolio.measures):
            if concern is None and record in table:
                concern = table[record][0].id
        return Finding(
            code=self.rule.code,
            name=self.rule.name,
            severity=self.rule.severity,
            message=message,
            record=record,
            concern=concern,
            path=where.path,
            line=where.line,
        )

    def at(
        self, record: str, path: str, line: int, message: str, concern: str | None = None
    ) -> Finding:
        """A finding of the rule being run, at an explicit file and line."""
        assert self.rule is not None
        return Finding(
            self.rule.code, self.rule.name, self.rule.severity, message, record, concern, path, line
        )


Check = Callable[[Context], Iterator[Finding]]


@dataclass(frozen=True)
class Rule:
    """A registered assurance check and its documentation."""

    code: str
    name: str
    severity: Severity
    title: str
    why: str
    fix: str
    thresholds: tuple[str, ...] = ()
    check: Check = field(repr=False, default=lambda ctx: iter(()))


RULES: list[Rule] = []


def rule(
    code: str,
    name: str,
    severity: Severity,
    title: str,
    why: str,
    fix: str,
    thresholds: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Register an assurance check under a stable code."""

    def register(check: Check) -> Check:
        if any(r.code == code or r.name == name for r in RULES):
            raise ValueError(f"rule {code} {name} registered twice")
        RULES.append(Rule(code, name, severity, title, why, fix, thresholds, check))
        return check

    return register


def _open(action: Action) -> bool:
    return action.status in ("planned", "in-progress")


def _closed_concerns(ctx: Context) -> Iterator[Concern]:
    for concern in ctx.portfolio.concerns.values():
        if concern.status == "closed" and concern.closure is not None:
            yield concern


def _live_concerns(ctx: Context) -> Iterator[Concern]:
    for concern in ctx.portfolio.concerns.values():
        if concern.status != "closed":
            yield concern


def _closures(ctx: Context) -> Iterator[tuple[str, str, Closure, Concern]]:
    """Every closure of a closed concern or action: (id, owner, closure, concern)."""
    for concern in ctx.portfolio.concerns.values():
        for action in concern.actions:
            if action.status == "closed" and action.closure is not None:
                yield action.id, action.owner, action.closure, concern
        if concern.status == "closed" and concern.closure is not None:
            yield concern.id, concern.owner, concern.closure, concern


def _index(measure: Measure, reading: Point) -> int:
    """Where ``reading`` is written in the measure's readings (they need not be in date order)."""
    for index, candidate in enumerate(measure.readings):
        if candidate is reading:
            return index
    return len(measure.readings) - 1


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


# --- closure ----------------------------------------------------------------------------------


@rule(
    "C101",
    "closed-without-evidence",
    "high",
    "Closed without closure evidence",
    "A closed item with nothing to show for it is an assertion, not evidence: an inspector will "
    "ask how you know it was put right.",
    "Add the evidence that shows the item was put right to its closure (closure.evidence), or "
    "reopen it.",
)
def closed_without_evidence(ctx: Context) -> Iterator[Finding]:
    for concern in ctx.portfolio.concerns.values():
        for action in concern.actions:
            if action.status == "closed" and (
                action.closure is None or not action.closure.evidence
            ):
                keys: KeyPath = ("closure",) if action.closure else ("status",)
                yield ctx.finding(
                    action.id, keys, f"action {action.id} is closed with no closure evidence"
                )
        if concern.status == "closed" and concern.closure and not concern.closure.evidence:
            yield ctx.finding(
                concern.id,
                ("closure",),
                f"concern closed on {concern.closure.date} with no closure evidence",
            )


@rule(
    "C102",
    "closed-on-activity-only",
    "high",
    "Closed on activity evidence alone",
    "Training delivered or an audit done shows activity, not that care got better. Closure "
    "needs evidence of the outcome for people.",
    "Cite outcome evidence in the closure (an audit result, observation, feedback or incident "
    "trend), or keep the concern open until you have it.",
)
def closed_on_activity(ctx: Context) -> Iterator[Finding]:
    p = ctx.portfolio
    for concern in _closed_concerns(ctx):
        assert concern.closure is not None
        cited = [p.evidence[e] for e in concern.closure.evidence if e in p.evidence]
        if cited and all(p.nature_of(e) == "activity" for e in cited):
            names = ", ".join(e.id for e in cited)
            yield ctx.finding(
                concern.id,
                ("closure", "evidence"),
                f"concern closed on activity evidence only ({names}): nothing "
                "shows the outcome changed",
            )


@rule(
    "C103",
    "closed-before-target",
    "high",
    "Closed before the outcome target was met",
    "Closing a concern while its measure is short of target tells an inspector the work "
    "stopped before care improved.",
    "Reopen the concern, or record why the target no longer applies and set a new one.",
)
def closed_before_target(ctx: Context) -> Iterator[Finding]:
    for concern in _closed_concerns(ctx):
        assert concern.closure is not None
        closed = concern.closure.date
        for measure in concern.measures:
            readings = readings_until(measure, closed)
            outcome = ctx.outcomes[measure.id]
            if not readings:
                yield ctx.finding(
                    concern.id,
                    ("closure", "date"),
                    f"closed on {closed} before {measure.id} had any reading",
                )
            elif not meets(measure, readings[-1].value):
                yield ctx.finding(
                    concern.id,
                    ("closure", "date"),
                    f"closed on {closed} with {measure.id} at "
                    f"{outcome.show(readings[-1].value)}, short of its target of "
                    f"{outcome.show(measure.target.value)}",
                )


@rule(
    "C104",
    "closed-before-sustained",
    "medium",
    "Closed before the outcome was sustained",
    "One good reading can be chance. Improvement is shown when it holds for the number of "
    "readings the target asks for.",
    "Keep monitoring until the target is met for the required consecutive readings, then close.",
)
def closed_before_sustained(ctx: Context) -> Iterator[Finding]:
    for concern in _closed_concerns(ctx):
        assert concern.closure is not None
        closed = concern.closure.date
        for measure in concern.measures:
            readings = readings_until(measure, closed)
            streak = streak_at(measure, readings)
            if readings and 0 < streak < measure.target.sustain:
                yield ctx.finding(
                    concern.id,
                    ("closure", "date"),
                    f"closed on {closed} after {streak} of {measure.target.sustain} readings "
                    f"at target for {measure.id}",
                )


@rule(
    "C105",
    "closure-not-recorded",
    "medium",
    "Closure not recorded in governance",
    "Closures agreed outside governance cannot be shown to have been checked by leaders.",
    "Name the governance review that agreed the closure in closure.recorded_in.",
)
def closure_not_recorded(ctx: Context) -> Iterator[Finding]:
    for record, _owner, closure, concern in _closures(ctx):
        if closure.recorded_in is None:
            yield ctx.finding(
                record,
                ("closure",),
                f"closure of {record} names no governance review (recorded_in)",
                concern.id,
            )


@rule(
    "C106",
    "closure-decision-missing",
    "medium",
    "Governance review holds no matching closure decision",
    "The minutes cited for a closure must show the decision; otherwise the audit trail breaks.",
    "Add a decision {ref: <id>, decision: close} to the review, or correct recorded_in.",
)
def closure_decision_missing(ctx: Context) -> Iterator[Finding]:
    reviews = ctx.portfolio.reviews
    for record, _owner, closure, concern in _closures(ctx):
        review = reviews.get(closure.recorded_in or "")
        if review is None:
            continue
        if not any(d.ref == record and d.decision == "close" for d in review.decisions):
            yield ctx.finding(
                record,
                ("closure", "recorded_in"),
                f"{review.id} records no decision to close {record}",
                concern.id,
            )


@rule(
    "C107",
    "self-verified-closure",
    "medium",
    "Closure verified by its own owner",
    "Someone checking their own work is not assurance; closure should be verified by another "
    "person.",
    "Have someone other than the owner verify the closure, and name them in closure.by.",
)
def self_verified(ctx: Context) -> Iterator[Finding]:
    for record, owner, closure, concern in _closures(ctx):
        if closure.by == owner:
            yield ctx.finding(
                record,
                ("closure", "by"),
                f"{record} was closed by its own owner ({owner})",
                concern.id,
            )


@rule(
    "C108",
    "not-monitored-after-closure",
    "medium",
    "Not monitored after closure",
    "Improvement must be shown to last. A closed concern whose measures stop being read cannot "
    "show that it has not slipped back.",
    "Keep taking readings after closure, at least once within the stale-after period.",
    ("stale_after_days",),
)
def not_monitored(ctx: Context) -> Iterator[Finding]:
    window = ctx.rules.stale_after_days
    for concern in _closed_concerns(ctx):
        assert concern.closure is not None
        closed = concern.closure.date
        until = closed + timedelta(days=window)
        if not concern.measures or ctx.as_of <= until:
            continue
        after = [r for m in concern.measures for r in m.readings if closed < r.date <= until]
        if not after:
            yield ctx.finding(
                concern.id,
                ("closure", "date"),
                f"no reading in the {_days(window)} after closure on {closed}",
            )


@rule(
    "C109",
    "regression",
    "high",
    "Regression after closure",
    "A closed concern whose measure has fallen back below target is a risk that has returned.",
    "Reopen the concern (status: open) and record a governance decision to reopen it.",
)
def regression(ctx: Context) -> Iterator[Finding]:
    for concern in _closed_concerns(ctx):
        for measure in concern.measures:
            outcome = ctx.outcomes[measure.id]
            if outcome.state == "regressed":
                yield ctx.finding(
                    measure.id,
                    ("readings", _index(measure, outcome.latest)),
                    f"{measure.id} fell back to {outcome.show(outcome.latest.value)} on "
                    f"{outcome.latest.date}, below its target of "
                    f"{outcome.show(measure.target.value)}, after closure",
                )


# --- actions ----------------------------------------------------------------------------------


@rule(
    "A201",
    "overdue",
    "high",
    "Action overdue",
    "A missed deadline in a recovery plan is the first thing a commissioner follows up.",
    "Complete the action, or agree a new date and record it as an extension with a reason.",
)
def overdue(ctx: Context) -> Iterator[Finding]:
    for _concern, action in ctx.portfolio.actions.values():
        due = action.current_due
        if _open(action) and due < ctx.as_of:
            yield ctx.finding(
                action.id,
                ("due",) if not action.extensions else ("extensions",),
                f"{action.id} was due {due}, {_days((ctx.as_of - due).days)} ago",
            )


@rule(
    "A202",
    "due-soon",
    "low",
    "Action due soon",
    "A reminder: the action falls due within the due-soon period.",
    "Check the action is on course, or agree an extension before the date passes.",
    ("due_soon_days",),
)
def due_soon(ctx: Context) -> Iterator[Finding]:
    for _concern, action in ctx.portfolio.actions.values():
        days = (action.current_due - ctx.as_of).days
        if _open(action) and 0 <= days <= ctx.rules.due_soon_days:
            when = "today" if days == 0 else f"in {_days(days)}"
            yield ctx.finding(
                action.id, ("due",), f"{action.id} is due {when} ({action.current_due})"
            )


@rule(
    "A203",
    "repeatedly-extended",
    "medium",
    "Repeatedly extended",
    "Deadlines that keep moving suggest the action is not working or not resourced.",
    "Review the action at governance: change the approach, escalate, or set a realistic date.",
    ("max_extensions",),
)
def repeatedly_extended(ctx: Context) -> Iterator[Finding]:
    limit = ctx.rules.max_extensions
    for _concern, action in ctx.portfolio.actions.values():
        if len(action.extensions) > limit:
            yield ctx.finding(
                action.id,
                ("extensions",),
                f"{action.id} has been extended {len(action.extensions)} times (more than {limit})",
            )


@rule(
    "A204",
    "no-named-owner",
    "medium",
    "No named owner",
    "A role with no person in it cannot be held to account for the work.",
    "Give the role a name in portfolio.yaml, or assign the work to a role that has one.",
)
def no_named_owner(ctx: Context) -> Iterator[Finding]:
    roles = ctx.portfolio.settings.roles
    for concern in _live_concerns(ctx):
        if not roles[concern.owner].name:
            yield ctx.finding(
                concern.id,
                ("owner",),
                f"{concern.id} is owned by {concern.owner}, a role with no named person",
            )
        for action in concern.actions:
            if _open(action) and not roles[action.owner].name:
                yield ctx.finding(
                    action.id,
                    ("owner",),
                    f"{action.id} is owned by {action.owner}, a role with no named person",
                )


@rule(
    "A205",
    "stale-action",
    "medium",
    "No recent update",
    "An open action with no recent update may have stalled unnoticed; a recurring check with no "
    "update in its cycle may not be happening.",
    "Record an update (updates: date, by, note), or close the action if it is done.",
    ("stale_after_days",),
)
def stale_action(ctx: Context) -> Iterator[Finding]:
    for concern, action in ctx.portfolio.actions.values():
        if not _open(action):
            continue
        window = ctx.rules.stale_after_days
        if action.cadence is not None:
            window = min(window, CADENCE_DAYS[action.cadence])
        dates = [u.date for u in action.updates if u.date <= ctx.as_of]
        dates += [x.date for x in action.extensions if x.date and x.date <= ctx.as_of]
        last = max(dates, default=concern.raised)
        if (ctx.as_of - last).days > window:
            cycle = f" (it recurs {action.cadence})" if action.cadence else ""
            since = "last update" if dates else "no update since the concern was raised"
            yield ctx.finding(
                action.id,
                ("updates",) if action.updates else ("id",),
                f"{action.id}: {since} on {last}, {_days((ctx.as_of - last).days)} ago{cycle}",
            )


# --- outcomes ---------------------------------------------------------------------------------


@rule(
    "O301",
    "no-actions",
    "high",
    "Concern with no actions",
    "A concern with no owned, dated actions has no plan to put it right.",
    "Add the actions that will put it right, each with an owner and a due date.",
)
def no_actions(ctx: Context) -> Iterator[Finding]:
    for concern in ctx.portfolio.concerns.values():
        if not concern.actions:
            yield ctx.finding(concern.id, ("id",), f"{concern.id} has no actions")


@rule(
    "O302",
    "no-measures",
    "high",
    "Concern with no outcome measure",
    "Without a measure nothing shows whether the actions changed anything for people.",
    "Add a measure with a baseline, a target and readings (measures:).",
)
def no_measures(ctx: Context) -> Iterator[Finding]:
    for concern in ctx.portfolio.concerns.values():
        if not concern.measures:
            yield ctx.finding(concern.id, ("id",), f"{concern.id} has no outcome measure")


@rule(
    "O303",
    "no-readings",
    "medium",
    "Measure with no readings",
    "A measure that has never been read shows nothing yet.",
    "Record readings as audits, checks or feedback come in (readings: date, value, evidence).",
)
def no_readings(ctx: Context) -> Iterator[Finding]:
    for measure_id, outcome in ctx.outcomes.items():
        if not outcome.readings:
            yield ctx.finding(measure_id, ("id",), f"{measure_id} has no readings yet")


@rule(
    "O304",
    "static-outcome",
    "medium",
    "Static outcome",
    "Activity without change: the measure has not improved across the static period, so the "
    "actions may not be working.",
    "Review whether the actions address the cause; change the approach and record the decision.",
    ("static_after_days",),
)
def static_outcome(ctx: Context) -> Iterator[Finding]:
    for concern in _live_concerns(ctx):
        for measure in concern.measures:
            outcome = ctx.outcomes[measure.id]
            start = outcome.static_since
            if start is not None and outcome.state in ("static", "worsening", "off-track"):
                yield ctx.finding(
                    measure.id,
                    ("readings", _index(measure, outcome.latest)),
                    f"{measure.id} has not improved since {start.date} "
                    f"({outcome.show(start.value)} then, {outcome.show(outcome.latest.value)}"
                    f" on {outcome.latest.date})",
                )


@rule(
    "O305",
    "off-track",
    "high",
    "Off track",
    "At the current rate the target will not be reached by its date: the plan needs to change "
    "now, not at the deadline.",
    "Review the actions, add or change them, or agree a realistic target date at governance.",
)
def off_track(ctx: Context) -> Iterator[Finding]:
    for concern in _live_concerns(ctx):
        for measure in concern.measures:
            outcome = ctx.outcomes[measure.id]
            if outcome.state != "off-track":
                continue
            target = measure.target
            assert target.by is not None
            if target.by < ctx.as_of:
                detail = (
                    f"its target date {target.by} passed at {outcome.show(outcome.latest.value)}"
                )
            elif outcome.projected is not None:
                detail = (
                    f"on its trend it reaches {outcome.show(round(outcome.projected, 1))}"
                    f" by {target.by}"
                )
            else:
                detail = f"no trend yet and the target date is {target.by}"
            yield ctx.finding(
                measure.id,
                ("target",),
                f"{measure.id} is off track: {detail}, against a target of "
                f"{outcome.show(target.value)}",
            )


@rule(
    "O306",
    "not-triangulated",
    "medium",
    "Outcome not triangulated",
    "CQC looks for evidence from more than one source: records alone, or feedback alone, can "
    "mislead.",
    "Add evidence of another category to the measure's readings or the closure (people's "
    "feedback, observation, staff feedback, outcomes data).",
    ("min_evidence_categories",),
)
def not_triangulated(ctx: Context) -> Iterator[Finding]:
    p = ctx.portfolio
    need = ctx.rules.min_evidence_categories
    for concern in p.concerns.values():
        if not any(ctx.outcomes[m.id].readings for m in concern.measures):
            continue  # nothing measured yet: O302 or O303 says so
        ids: list[str] = []
        for measure in concern.measures:
            ids += measure.baseline.evidence
            for reading in measure.readings:
                ids += reading.evidence
        if concern.closure is not None:
            ids += concern.closure.evidence
        categories = sorted({p.category_of(p.evidence[i]) for i in ids if i in p.evidence})
        if len(categories) < need:
            have = ", ".join(categories) if categories else "no evidence"
            yield ctx.finding(
                concern.id,
                ("measures",),
                f"{concern.id}'s outcome evidence spans {len(categories)} of the {need} "
                f"categories needed ({have})",
            )


@rule(
    "O307",
    "stale-measure",
    "medium",
    "Measure not read recently",
    "An open concern whose measure has not been read recently cannot show how things stand now.",
    "Take and record a new reading.",
    ("stale_after_days",),
)
def stale_measure(ctx: Context) -> Iterator[Finding]:
    window = ctx.rules.stale_after_days
    for concern in _live_concerns(ctx):
        for measure in concern.measures:
            outcome = ctx.outcomes[measure.id]
            if not outcome.readings:
                continue
            age = (ctx.as_of - outcome.latest.date).days
            if age > window:
                yield ctx.finding(
                    measure.id,
                    ("readings", _index(measure, outcome.latest)),
                    f"{measure.id} was last read on {outcome.latest.date}, {_days(age)} ago",
                )


# --- evidence and coverage --------------------------------------------------------------------


@rule(
    "E401",
    "dated-evidence",
    "low",
    "Dated evidence",
    "Evidence for an open concern that is months old does not show the current position.",
    "Add recent evidence: a new audit, observation or feedback.",
    ("evidence_max_age_days",),
)
def dated_evidence(ctx: Context) -> Iterator[Finding]:
    limit = ctx.rules.evidence_max_age_days
    for concern in _live_concerns(ctx):
        items = [e for e in ctx.portfolio.evidence_of_concern[concern.id] if e.date <= ctx.as_of]
        if not items:
            yield ctx.finding(concern.id, ("id",), f"{concern.id} cites no evidence")
            continue
        newest = max(e.date for e in items)
        age = (ctx.as_of - newest).days
        if age > limit:
            yield ctx.finding(
                concern.id,
                ("id",),
                f"{concern.id}'s newest evidence is from {newest}, {_days(age)} old",
            )


@rule(
    "E402",
    "outside-reference",
    "low",
    "Reference outside the portfolio",
    "An image or link in a record that points to another website, or to a file outside the "
    "portfolio folder, is not included: an inspector reading the portfolio offline cannot "
    "follow it, and the build never fetches it.",
    "Copy the file into attachments/ and point to it there, or record the source as an "
    "evidence entry with a 'location'.",
)
def outside_reference(ctx: Context) -> Iterator[Finding]:
    p = ctx.portfolio
    records: list[tuple[str, str, str | None]] = [(c.id, c.body, c.id) for c in p.concerns.values()]
    records += [(e.id, e.body, None) for e in p.evidence.values()]
    records += [(r.id, r.body, None) for r in p.reviews.values()]
    for record_id, body, concern in records:
        if not body.strip():
            continue
        source = p.sources[record_id]
        for ref in references(body, source.path.parent, p.root):
            if ref.where == "inside":
                continue
            thing = f"{ref.kind} '{ref.text}'"
            if ref.where == "remote":
                host = urlsplit(ref.url).netloc or ref.url.split(":", 1)[0] + ":"
                why = f"points to {host}, outside the portfolio"
            elif ref.where == "outside":
                why = f"points to {ref.url}, outside the portfolio folder"
            else:
                why = f"points to {ref.url}, which does not exist in the portfolio folder"
            yield ctx.at(
                record_id,
                source.display,
                source.body_line + ref.line,
                f"{thing} {why}: it is not included",
                concern,
            )


@rule(
    "E403",
    "after-as-of",
    "medium",
    "Dated after the as-of date",
    "Statuses and findings are judged at the portfolio's as-of date. Readings, evidence, updates "
    "and decisions dated after it are shown but not judged, so the headline can say a measure is "
    "off track while a newer reading beside it says otherwise.",
    "Move as_of in portfolio.yaml forward to the date the portfolio is up to (or build with "
    "--as-of), or correct the date if it was mistyped.",
)
def after_as_of(ctx: Context) -> Iterator[Finding]:
    p, when = ctx.portfolio, ctx.as_of
    for concern in p.concerns.values():
        for measure in concern.measures:
            for index, reading in enumerate(measure.readings):
                if reading.date > when:
                    yield ctx.finding(
                        measure.id,
                        ("readings", index, "date"),
                        f"{measure.id} has a reading dated {reading.date}, after the as-of "
                        f"date {when}: it is shown but not judged",
                    )
        for action in concern.actions:
            for index, update in enumerate(action.updates):
                if update.date > when:
                    yield ctx.finding(
                        action.id,
                        ("updates", index, "date"),
                        f"{action.id} has an update dated {update.date}, after the as-of date "
                        f"{when}: it is shown but not judged",
                    )
    for evidence in p.evidence.values():
        if evidence.date > when:
            yield ctx.finding(
                evidence.id,
                ("date",),
                f"{evidence.id} is dated {evidence.date}, after the as-of date {when}: it is "
                "shown but not judged",
            )
    for review in p.reviews.values():
        if review.date > when and review.decisions:
            yield ctx.finding(
                review.id,
                ("date",),
                f"{review.id}'s decisions are dated {review.date}, after the as-of date {when}: "
                "they are shown but not judged",
            )


@rule(
    "P601",
    "personal-identifier",
    "high",
    "Likely personal identifier",
    "An NHS number or a date of birth in a shared record, in a file attached to it or in the "
    "file's name identifies a person: a breach of UK GDPR if it reaches a commissioner or the "
    "public.",
    "Remove it from the record or the attached file, or rename the file (refer to people by "
    "initials or a room number); or mark the record personal_data: true or visibility: internal.",
)
def personal_identifier(ctx: Context) -> Iterator[Finding]:
    from generator.check.privacy import attachment_display, scan

    p = ctx.portfolio
    found = scan(p, ctx.scans, ctx.checksums)
    if not found:
        return
    # Each file's finding belongs to every record that shows it: an attached file may be
    # shown by several evidence entries, and an audience that sees any of them gets the file.
    shown_by: dict[str, list[str]] = {
        s.display: [r] for r, s in p.sources.items() if p.prefixes[r] == ()
    }
    root = p.root.resolve()
    for evidence_id, file in sorted(p.attachments.items()):
        shown_by.setdefault(attachment_display(p, file, root), []).append(evidence_id)
    for path, line, kind in found:
        for record in shown_by.get(path, ["portfolio.yaml"]):
            concern = record if record in p.concerns else None
            for table in (p.actions, p.measures):
                if record in table:
                    concern = table[record][0].id
            yield ctx.at(record, path, line, f"this looks like {kind}", concern)


@rule(
    "S501",
    "statement-without-evidence",
    "low",
    "Quality statements with no evidence",
    "An inspector assessing a quality statement will find nothing filed under it. One finding "
    "per key question lists its statements without evidence, among those the portfolio is "
    "working on (portfolio.yaml's quality_statements; all of them when it names none).",
    "File evidence under the statements: cite it from a concern, or name the statement in the "
    "evidence entry's quality_statements. If the portfolio is not working on a statement, "
    "leave it out of quality_statements in portfolio.yaml.",
    ("min_statement_evidence",),
)
def statement_without_evidence(ctx: Context) -> Iterator[Finding]:
    p = ctx.portfolio
    need = ctx.rules.min_statement_evidence
    focus = set(p.focus)
    line = p.settings_source.line(("quality_statements",)) if p.settings_source else 1
    for kq in p.framework.key_questions:
        gaps = [
            st
            for st in kq.statements
            if (not focus or st.slug in focus) and len(p.evidence_by_statement[st.slug]) < need
        ]
        if not gaps:
            continue
        what = "no evidence" if need == 1 else f"fewer than {need} evidence entries"
        listed = "; ".join(f"{st.title} ({st.slug})" for st in gaps)
        count = f"{len(gaps)} statement{'s' if len(gaps) != 1 else ''}"
        yield ctx.at(
            kq.slug, p.settings_path, line or 1, f"{count} under {kq.title} with {what}: {listed}"
        )


SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def run_checks(
    portfolio: Portfolio,
    scans: ScanMemo | None = None,
    checksums: Mapping[str, str] | None = None,
) -> tuple[list[Finding], dict[str, Outcome]]:
    """Measure every outcome, then run every rule; findings in file and line order.

    ``scans`` and ``checksums`` (the attachments' SHA-256 by evidence id) spare reading again
    the files a previous build scanned for personal identifiers.
    """
    outcomes: dict[str, Outcome] = {}
    for concern in portfolio.concerns.values():
        for outcome in outcomes_of(concern, portfolio.as_of, portfolio.settings.rules):
            outcomes[outcome.measure.id] = outcome
    ctx = Context(portfolio, outcomes, scans=scans, checksums=checksums or {})
    findings: list[Finding] = []
    for registered in RULES:
        ctx.rule = registered
        findings.extend(registered.check(ctx))
    # Stable: findings of one rule at one line keep the order the rule gave them.
    findings.sort(key=lambda f: (f.path, f.line, f.code))
    return findings, outcomes


def run_rule(code: str, portfolio: Portfolio, outcomes: dict[str, Outcome]) -> list[Finding]:
    """The findings of one rule on ``portfolio``."""
    ctx = Context(portfolio, outcomes, rule_by_code(code))
    return list(ctx.rule.check(ctx)) if ctx.rule else []


def rule_by_code(code: str) -> Rule:
    """The registered rule with ``code``."""
    for registered in RULES:
        if registered.code == code:
            return registered
    raise KeyError(code)


def rules_markdown() -> str:
    """The reference of every rule, as docs/rules.md holds it."""
    defaults = Rules()
    lines = [
        "# Assurance checks",
        "",
        "<!-- Generated by `portfolio rules --format markdown > docs/rules.md`; do not edit. -->",
        "",
        "Every build runs these checks. A finding does not stop the build: it shows, on the "
        "record's page, on the dashboard, on the findings page and in `portfolio check`, where "
        "the evidence of improvement would not yet convince an inspector or commissioner. Codes "
        "are stable and never reused. Thresholds are set under `rules:` in portfolio.yaml.",
        "",
        "| code | rule | severity | finds |",
        "| --- | --- | --- | --- |",
    ]
    for r in RULES:
        lines.append(
            f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` | {r.severity} | {r.title} |"
        )
    lines += ["", "## Thresholds", "", "| setting | default |", "| --- | --- |"]
    for name, value in defaults.model_dump().items():
        lines.append(f"| `{name}` | {value} |")
    lines += ["", "## Rules", ""]
    for r in RULES:
        lines += [
            f"### {r.code} {r.name}",
            "",
            f"**{r.title}** (severity: {r.severity}).",
            "",
            f"Why it matters: {r.why}",
            "",
            f"What to do: {r.fix}",
            "",
        ]
        if r.thresholds:
            settings = ", ".join(f"`{t}` (default {getattr(defaults, t)})" for t in r.thresholds)
            lines += [f"Thresholds: {settings}.", ""]
    return "\n".join(lines)


def rules_text() -> str:
    """The rules as plain lines for the terminal."""
    return "\n".join(f"{r.code}  {r.severity:<6}  {r.name}: {r.title}" for r in RULES) + "\n"
