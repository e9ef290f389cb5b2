"""Audiences: the view of a portfolio that one audience may see.

Visibility levels run from narrowest to widest: internal, inspection, commissioner, public. A
build for an audience holds what is visible to it: records whose visibility is that audience or
wider; never, for commissioner and public output, evidence marked ``personal_data``. Statuses,
outcomes and findings are judged on the whole portfolio (a concern closed on evidence a
commissioner may not see is still closed), then every file of the output is made from the view:
withheld records, the decisions about them and the findings that concern them are absent, ids
of withheld records are replaced in messages, and a reference to something withheld says so.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Literal, TypeVar, cast

from generator.check.assess import Build
from generator.check.outcomes import outcomes_of
from generator.check.rules import Finding, run_rule
from generator.errors import Problems
from generator.load.link import Portfolio, link
from generator.model import VISIBILITY_ORDER, Concern, Evidence, Review, Visibility

COVERAGE_RULE = "S501"  # quality statements with no evidence: per audience

Audience = Literal["internal", "inspection", "commissioner", "public"]
WITHHELD = "[withheld]"
NOTES: dict[str, str] = {
    "internal": "everything in the portfolio, for the service's own use; not for sharing.",
    "inspection": "for CQC inspectors: records marked internal are left out.",
    "commissioner": "for commissioners: records marked internal or inspection, and all "
    "personal data, are left out.",
    "public": "for anyone: only records marked public, and no personal data.",
}


def visible(visibility: Visibility, audience: Audience) -> bool:
    """Whether a record of ``visibility`` may be shown to ``audience``."""
    return VISIBILITY_ORDER.index(visibility) >= VISIBILITY_ORDER.index(audience)


def shown(portfolio: Portfolio, record: Concern | Evidence | Review, audience: Audience) -> bool:
    """Whether ``record`` is in the output for ``audience``."""
    default = portfolio.settings.default_visibility
    level = getattr(record, "visibility", None) or default
    if not visible(level, audience):
        return False
    return not (
        isinstance(record, Evidence)
        and record.personal_data
        and audience in ("commissioner", "public")
    )


def view(build: Build, audience: Audience) -> Build:
    """The build as ``audience`` may see it (the whole build for internal)."""
    p = build.portfolio
    if audience == "internal":
        return replace(build, portfolio=replace(p, audience="internal"))
    kept_concerns = [c for c in p.concerns.values() if shown(p, c, audience)]
    kept_evidence = [e for e in p.evidence.values() if shown(p, e, audience)]
    kept_reviews = [r for r in p.reviews.values() if shown(p, r, audience)]
    kept_ids = {c.id for c in kept_concerns} | {e.id for e in kept_evidence}
    kept_ids |= {r.id for r in kept_reviews}
    for concern in kept_concerns:
        kept_ids |= {a.id for a in concern.actions} | {m.id for m in concern.measures}
    withheld = frozenset(set(p.sources) - kept_ids)
    concerns = [(_redact_record(c, withheld), p.sources[c.id]) for c in kept_concerns]
    evidence = [(_redact_record(e, withheld), p.sources[e.id]) for e in kept_evidence]
    reviews = []
    for review in kept_reviews:
        decisions = [d for d in review.decisions if d.ref in kept_ids]
        trimmed = review.model_copy(update={"decisions": decisions})
        reviews.append((_redact_record(trimmed, withheld), p.sources[review.id]))
    assert p.settings_source is not None
    problems = Problems()
    linked = link(
        p.settings,
        p.settings_source,
        p.framework,
        p.root,
        p.display_root,
        p.as_of,
        concerns,
        evidence,
        reviews,
        problems,
        dict.fromkeys(withheld, "*"),
        p.former_titles,
    )
    linked.audience = audience
    # The people named in roles that only withheld records name are not this audience's to see.
    roles = {r: person for r, person in p.settings.roles.items() if r in linked.roles_named}
    linked.settings = p.settings.model_copy(update={"roles": roles})
    linked.withheld = withheld
    linked.withheld_files = frozenset(
        path for eid, path in p.attachments.items() if eid in withheld
    ) - frozenset(linked.attachments.values())
    # Outcomes again from the redacted records, so measure names and notes are redacted too.
    outcomes = {
        o.measure.id: o
        for c in linked.concerns.values()
        for o in outcomes_of(c, linked.as_of, linked.settings.rules)
    }
    findings = [_redact(f, withheld) for f in build.findings if _keeps(f, withheld)]
    findings += run_rule(COVERAGE_RULE, linked, outcomes)
    findings.sort(key=lambda f: (f.path, f.line, f.code))
    return replace(build, portfolio=linked, findings=findings, outcomes=outcomes, _by_record=None)


def _keeps(finding: Finding, withheld: frozenset[str]) -> bool:
    if finding.code == COVERAGE_RULE:
        return False  # coverage is judged again on what the audience sees
    return finding.record not in withheld and finding.concern not in withheld


def redact_text(text: str, withheld: frozenset[str]) -> str:
    """``text`` with every id of a withheld record replaced."""
    for record_id in withheld:
        if record_id in text:
            # An id may end a sentence: a following "." is punctuation unless more id follows.
            pattern = rf"(?<![\w.-]){re.escape(record_id)}(?![\w-]|\.[\w-])"
            text = re.sub(pattern, WITHHELD, text)
    return text


def _redact(finding: Finding, withheld: frozenset[str]) -> Finding:
    return replace(finding, message=redact_text(finding.message, withheld))


# Fields that hold ids or roles: a reference to a withheld record stays as it is (and renders
# as "withheld"); every other string is prose, where a withheld id is replaced.
_REFERENCE_KEYS = {
    "id",
    "evidence",
    "recorded_in",
    "ref",
    "related",
    "owner",
    "by",
    "raised_by",
    "agreed_by",
    "chair",
    "attendees",
    "quality_statements",
    "file",
    "category",
    "type",
}

R = TypeVar("R", Concern, Evidence, Review)


def _redact_record(record: R, withheld: frozenset[str]) -> R:
    """A record whose prose names no withheld record."""
    if not withheld:
        return record

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, str):
            return value if key in _REFERENCE_KEYS else redact_text(value, withheld)
        if isinstance(value, list):
            return [walk(item, key) for item in value]
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        return value

    data = walk(record.model_dump(by_alias=True, exclude_none=True), None)
    redacted = type(record).model_validate(data)
    return redacted.model_copy(update={"body": redact_text(record.body, withheld)})


def shared_view(build: Build, audience: str | None) -> Build:
    """The view for ``audience`` (else portfolio.yaml's), once the privacy guard has passed.

    Raises PortfolioError, with the file and line of each, when a commissioner or public
    output would hold a likely NHS number or date of birth.
    """
    from generator.check.privacy import guard
    from generator.errors import PortfolioError

    chosen = cast(Audience, audience or build.portfolio.settings.audience)
    shown = view(build, chosen)
    problems = guard(shown)
    if problems:
        raise PortfolioError(problems)
    return shown
