"""Where the service stands: the summary that opens the PDF portfolio.

An inspector reading the portfolio first wants to know where the service stands and what has
improved for people, before the detail. This view gathers that from a build: concerns and
actions by colour, overdue actions, what closed and on what evidence, every outcome measure's
baseline, latest reading and target by key question, and the assurance findings grouped as what
the service has found for itself and is acting on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from generator.check.assess import Build
from generator.check.outcomes import STATE_LABELS, MeasureState, Outcome, better, difference
from generator.check.rules import Finding, Rule, rule_by_code
from generator.check.status import COLOURS, Colour
from generator.load.link import natural_key
from generator.model import Action, Concern, KeyQuestion

#: What each colour means, in the words of the BRAG scale.
COLOUR_MEANINGS: dict[Colour, str] = {
    "red": "off track or overdue",
    "amber": "on track",
    "green": "completed",
    "blue": "closed and verified by evidence",
}

#: The order measures are counted in: the best news first, the worst last.
STATE_ORDER: tuple[MeasureState, ...] = (
    "sustained",
    "at-target",
    "improving",
    "static",
    "no-readings",
    "worsening",
    "off-track",
    "regressed",
)

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

Verdict = Literal["better", "worse", "no change", "not yet measured"]


@dataclass(frozen=True)
class MeasureLine:
    """One measure as the summary tells it: where it started, where it is, where it is going."""

    concern: Concern
    outcome: Outcome
    change: str  # latest minus baseline, in words: "+26 points", "-2 reports"
    verdict: Verdict


@dataclass(frozen=True)
class OutcomeGroup:
    """The measures of the concerns set out under one key question."""

    key_question: KeyQuestion
    lines: tuple[MeasureLine, ...]
    unmeasured: tuple[Concern, ...]  # concerns there with no outcome measure


@dataclass(frozen=True)
class FindingGroup:
    """Findings about one concern, or about a key question or the portfolio as a whole."""

    concern: Concern | None
    title: str  # what the group is about, when it is not a concern
    findings: tuple[tuple[Finding, Rule], ...]


@dataclass(frozen=True)
class FindingSection:
    """The findings under one key question (or, with no key question, across the portfolio)."""

    key_question: KeyQuestion | None
    groups: tuple[FindingGroup, ...]

    @property
    def count(self) -> int:
        """How many findings the section holds."""
        return sum(len(group.findings) for group in self.groups)


@dataclass(frozen=True)
class Standing:
    """Everything the summary shows, decided here so the template only lays it out."""

    concern_status: dict[str, int]
    colours: tuple[tuple[Colour, str, int, int], ...]  # colour, meaning, concerns, actions
    attention: tuple[Concern, ...]  # red concerns, with their reasons in the build's statuses
    overdue: tuple[tuple[Concern, Action], ...]
    closed: tuple[Concern, ...]
    closed_actions: int
    closed_actions_with_evidence: int
    states: tuple[tuple[str, int], ...]  # measure state label, how many measures are in it
    measures: int
    improved: int
    worse: int
    outcomes: tuple[OutcomeGroup, ...]
    findings: tuple[FindingSection, ...]
    severities: tuple[tuple[str, int], ...]  # severity, how many findings


def verdict(outcome: Outcome) -> Verdict:
    """Whether the latest reading is better or worse than the baseline, in the measure's
    direction."""
    if not outcome.readings:
        return "not yet measured"
    measure = outcome.measure
    if better(measure, outcome.latest.value, measure.baseline.value):
        return "better"
    if outcome.latest.value == measure.baseline.value:
        return "no change"
    return "worse"


def standing(build: Build) -> Standing:
    """Where the service stands at the as-of date, from ``build``."""
    p, status = build.portfolio, build.status
    concerns = sorted(p.concerns.values(), key=lambda c: natural_key(c.id))
    actions = [a for _, a in p.actions.values()]
    # A concern is told under the key question of the first statement it names, as in the body.
    home: dict[str, str] = {
        c.id: p.statement(p.statements_of[c.id][0])[0].slug
        for c in concerns
        if p.statements_of.get(c.id)
    }

    colours = tuple(
        (
            colour,
            COLOUR_MEANINGS[colour],
            sum(1 for c in concerns if status[c.id].colour == colour),
            sum(1 for a in actions if status[a.id].colour == colour),
        )
        for colour in COLOURS
    )
    overdue = sorted(
        ((c, a) for c, a in p.actions.values() if status[a.id].label == "Overdue"),
        key=lambda ca: (ca[1].current_due, natural_key(ca[1].id)),
    )
    closed_actions = [a for a in actions if a.status == "closed"]

    lines: list[MeasureLine] = []
    outcomes = []
    for kq in p.framework.key_questions:
        here = [c for c in concerns if home.get(c.id) == kq.slug]
        group = tuple(
            MeasureLine(
                c,
                build.outcomes[m.id],
                difference(build.outcomes[m.id].change, m.unit),
                verdict(build.outcomes[m.id]),
            )
            for c in here
            for m in c.measures
        )
        lines.extend(group)
        outcomes.append(OutcomeGroup(kq, group, tuple(c for c in here if not c.measures)))
    counted = {state: 0 for state in STATE_ORDER}
    for line in lines:
        counted[line.outcome.state] += 1

    return Standing(
        concern_status={
            s: sum(1 for c in concerns if c.status == s) for s in ("open", "monitoring", "closed")
        },
        colours=colours,
        attention=tuple(c for c in concerns if status[c.id].colour == "red"),
        overdue=tuple(overdue),
        closed=tuple(c for c in concerns if c.status == "closed"),
        closed_actions=len(closed_actions),
        closed_actions_with_evidence=sum(
            1 for a in closed_actions if a.closure is not None and a.closure.evidence
        ),
        states=tuple((STATE_LABELS[s], n) for s, n in counted.items() if n),
        measures=len(lines),
        improved=sum(1 for line in lines if line.verdict == "better"),
        worse=sum(1 for line in lines if line.verdict == "worse"),
        outcomes=tuple(outcomes),
        findings=finding_sections(build, home),
        severities=tuple(
            (severity, n)
            for severity in SEVERITY_ORDER
            if (n := sum(1 for f in build.findings if f.severity == severity))
        ),
    )


def finding_sections(build: Build, home: dict[str, str]) -> tuple[FindingSection, ...]:
    """Every finding, once: under its concern's key question, else the key question or
    statement it is about, else across the portfolio; the most urgent first in each group."""
    p = build.portfolio
    statements = p.framework.statements()
    kq_slugs = {kq.slug for kq in p.framework.key_questions}
    by_concern: dict[str, list[Finding]] = {}
    by_kq: dict[str, list[Finding]] = {}
    elsewhere: list[Finding] = []
    for finding in build.findings:
        if finding.concern is not None and finding.concern in home:
            by_concern.setdefault(finding.concern, []).append(finding)
        elif finding.record in kq_slugs:
            by_kq.setdefault(finding.record, []).append(finding)
        elif finding.record in statements:
            by_kq.setdefault(statements[finding.record][0].slug, []).append(finding)
        else:
            elsewhere.append(finding)

    def ranked(found: list[Finding]) -> tuple[tuple[Finding, Rule], ...]:
        ordered = sorted(found, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
        return tuple((f, rule_by_code(f.code)) for f in ordered)

    sections = []
    for kq in p.framework.key_questions:
        groups = [
            FindingGroup(p.concerns[cid], "", ranked(found))
            for cid, found in sorted(by_concern.items(), key=lambda cf: natural_key(cf[0]))
            if home[cid] == kq.slug
        ]
        if kq.slug in by_kq:
            groups.append(FindingGroup(None, f"Across {kq.title}", ranked(by_kq[kq.slug])))
        sections.append(FindingSection(kq, tuple(groups)))
    if elsewhere:
        group = FindingGroup(None, "Evidence entries", ranked(elsewhere))
        sections.append(FindingSection(None, (group,)))
    return tuple(sections)
