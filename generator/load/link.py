"""Linking: validated records -> one portfolio with every reference resolved, both ways.

Checks that need the whole portfolio happen here: unique ids, known roles and quality
statements, references to evidence, reviews and concerns that exist, and attachments that
exist inside the portfolio folder.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import stat
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generator.errors import Problems
from generator.load.sources import KeyPath, SourceFile, record_kind
from generator.load.validate import field_name
from generator.model import (
    Action,
    Closure,
    Concern,
    Decision,
    Evidence,
    Framework,
    KeyQuestion,
    Measure,
    Review,
    Settings,
    Statement,
)


@dataclass(frozen=True)
class Location:
    """Where something is written: the file as shown to the user, and the line."""

    path: str
    line: int


@dataclass(frozen=True)
class Citation:
    """One place that cites an evidence entry."""

    concern: Concern
    target: str  # the id of the concern, action or measure that cites it
    role: str  # what the evidence supports, in words: "action", "reading 2026-02-10", ...


@dataclass(frozen=True)
class Refiled:
    """A slug a record was written with that the crosswalk files elsewhere."""

    slug: str  # as written in the record
    framework: str  # the id of the framework it belongs to
    title: str  # its title there (the slug itself where that framework is not packaged)
    now: tuple[str, ...]  # the statements of this framework it is filed under


@dataclass(frozen=True)
class DecisionRef:
    """A governance decision together with the review that took it."""

    review: Review
    decision: Decision
    index: int


@dataclass
class Portfolio:
    """The linked portfolio: records, their lookups and back-references."""

    root: Path
    display_root: str
    settings: Settings
    framework: Framework
    as_of: date
    concerns: dict[str, Concern]
    evidence: dict[str, Evidence]
    reviews: dict[str, Review]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    prefixes: dict[str, KeyPath] = field(default_factory=dict)
    actions: dict[str, tuple[Concern, Action]] = field(default_factory=dict)
    measures: dict[str, tuple[Concern, Measure]] = field(default_factory=dict)
    statements_of: dict[str, list[str]] = field(default_factory=dict)
    concerns_by_statement: dict[str, list[Concern]] = field(default_factory=dict)
    evidence_by_statement: dict[str, list[Evidence]] = field(default_factory=dict)
    statements_of_evidence: dict[str, list[str]] = field(default_factory=dict)
    refiled: dict[str, list[Refiled]] = field(default_factory=dict)  # by record id
    former_titles: dict[str, str] = field(default_factory=dict)  # crosswalked slug -> title
    filed_under: dict[str, list[str]] = field(default_factory=dict)
    citations: dict[str, list[Citation]] = field(default_factory=dict)
    evidence_of_concern: dict[str, list[Evidence]] = field(default_factory=dict)
    decisions_about: dict[str, list[DecisionRef]] = field(default_factory=dict)
    related: dict[str, list[str]] = field(default_factory=dict)
    attachments: dict[str, Path] = field(default_factory=dict)
    settings_source: SourceFile | None = None
    #: The statements the portfolio is working on (portfolio.yaml's quality_statements, as this
    #: framework names them); empty: all of them.
    focus: list[str] = field(default_factory=list)
    audience: str = "internal"  # who this view of the portfolio is for
    withheld: frozenset[str] = frozenset()  # ids of records this audience may not see
    withheld_files: frozenset[Path] = frozenset()  # their attachments
    roles_named: set[str] = field(default_factory=set)  # the roles the records name

    @property
    def settings_path(self) -> str:
        """portfolio.yaml as shown to the user."""
        return f"{self.display_root}/portfolio.yaml"

    def where(self, record_id: str, *keys: str | int) -> Location:
        """The file and line of a record (or of a key inside it)."""
        source = self.sources[record_id]
        return Location(source.display, source.line((*self.prefixes[record_id], *keys)))

    def statement(self, slug: str) -> tuple[KeyQuestion, Statement]:
        """A quality statement and its key question."""
        return self.framework.statements()[slug]

    def category_of(self, evidence: Evidence) -> str:
        """The evidence category of an entry: its own, else its type's default."""
        return evidence.category or self.framework.evidence_types[evidence.type].category

    def nature_of(self, evidence: Evidence) -> str:
        """Whether an entry shows an outcome or an activity: its own, else its type's."""
        return evidence.nature or self.framework.evidence_types[evidence.type].nature

    def role_label(self, role: str) -> str:
        """A role as people read it: "Amira Patel (Registered Manager)"."""
        known = self.settings.roles.get(role)
        if known is None:
            return role
        title = known.title or role
        return f"{known.name} ({title})" if known.name else f"{title} (no named person)"


_RUNS = re.compile(r"([0-9]+)|([^0-9]+)")


@functools.lru_cache(maxsize=1 << 16)  # the same ids are sorted again and again
def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort ids as people expect: MED-2 before MED-10."""
    parts: list[tuple[int, int | str]] = [
        (0, int(number)) if number else (1, word.lower()) for number, word in _RUNS.findall(text)
    ]
    return (*parts, (2, text))


class _Linker:
    def __init__(self, portfolio: Portfolio, problems: Problems) -> None:
        self.p = portfolio
        self.problems = problems
        self.ids: dict[str, str] = {}  # id -> kind
        self.statement_slugs = portfolio.framework.statements()
        self.aliases = portfolio.framework.aliases()
        self.categories = [c.slug for c in portfolio.framework.evidence_categories]
        self.root = portfolio.root.resolve()  # attachments must lie inside it
        self.root_prefix = os.path.join(self.root, "")
        self.folders: dict[str, str] = {}  # folders of attachments, resolved

    def name(self, record_id: str, keys: KeyPath) -> str:
        """A key inside a record as the user reads it: ``actions[2].owner``."""
        return field_name((*self.p.prefixes[record_id], *keys))

    def error(self, record_id: str, keys: KeyPath, message: str) -> None:
        loc = self.p.where(record_id, *keys)
        self.problems.add(loc.path, loc.line, message)

    def register(self, record_id: str, kind: str, source: SourceFile, prefix: KeyPath) -> bool:
        if record_id in self.ids and record_id not in self.p.sources:
            return False
        if record_id in self.ids:
            first = self.p.where(record_id, "id")
            here = source.line((*prefix, "id"))
            self.problems.add(
                source.display,
                here,
                f"duplicate id {record_id!r}: already used by {_a(self.ids[record_id])} at "
                f"{first.path}:{first.line}; ids must be unique across the portfolio",
            )
            return False
        self.ids[record_id] = kind
        self.p.sources[record_id] = source
        self.p.prefixes[record_id] = prefix
        return True

    # --- references ---------------------------------------------------------------------

    def role(self, owner_id: str, keys: KeyPath, role: str | None) -> None:
        if role is None:
            return
        self.p.roles_named.add(role)
        if role in self.p.settings.roles:
            return
        self.error(
            owner_id,
            keys,
            f"{self.name(owner_id, keys)}: unknown role {role!r}"
            f"{_hint(role, self.p.settings.roles)}; add it under roles in portfolio.yaml",
        )

    def statements(self, owner_id: str, written: list[str]) -> list[str]:
        """The statements of this framework that the slugs ``written`` file a record under,
        in order and once each; slugs of another framework go through the crosswalk."""
        found: list[str] = []
        refiled: list[Refiled] = []
        for index, slug in enumerate(written):
            targets = self.aliases.get(slug)
            if targets is not None:
                if targets != [slug]:
                    origin = self.p.framework.origin(slug) or ""
                    title = self.p.former_titles.get(slug, slug)
                    refiled.append(Refiled(slug, origin, title, tuple(targets)))
            elif slug in self.statement_slugs:
                targets = [slug]
            else:
                keys: KeyPath = ("quality_statements", index)
                framework = self.p.framework
                self.error(
                    owner_id,
                    keys,
                    f"{self.name(owner_id, keys)}: unknown {framework.terms.statement} {slug!r}"
                    f"{_hint(slug, self.statement_slugs)}; `portfolio framework show "
                    f"{framework.id}` lists the slugs of {framework.id}",
                )
                continue
            found.extend(t for t in targets if t not in found)
        if refiled:
            self.p.refiled[owner_id] = refiled
        return found

    def ref(self, owner_id: str, keys: KeyPath, ref: str, kinds: tuple[str, ...]) -> bool:
        kind = self.ids.get(ref)
        if kind in kinds or kind == "*":
            # A record that failed validation was reported already: no second error, no link.
            return ref in self.p.sources
        wanted = " or ".join(kinds)
        if kind is None:
            names = [i for i, k in self.ids.items() if k in kinds]
            self.error(
                owner_id,
                keys,
                f"{self.name(owner_id, keys)}: no {wanted} has id {ref!r}{_hint(ref, names)}",
            )
        else:
            self.error(
                owner_id,
                keys,
                f"{self.name(owner_id, keys)}: {ref!r} is {_a(kind)}, not {_a(wanted)}",
            )
        return False

    def evidence_refs(
        self,
        concern: Concern,
        owner_id: str,
        keys: KeyPath,
        refs: list[str],
        target: str,
        role: str,
    ) -> None:
        for index, ref in enumerate(refs):
            if self.ref(owner_id, (*keys, index), ref, ("evidence entry",)):
                self.p.citations[ref].append(Citation(concern, target, role))

    def closure(self, concern: Concern, owner_id: str, keys: KeyPath, closure: Closure) -> None:
        self.role(owner_id, (*keys, "by"), closure.by)
        if closure.recorded_in is not None:
            self.ref(owner_id, (*keys, "recorded_in"), closure.recorded_in, ("governance review",))
        self.evidence_refs(
            concern, owner_id, (*keys, "evidence"), closure.evidence, owner_id, "closure"
        )

    # --- records ------------------------------------------------------------------------

    def link_concern(self, concern: Concern) -> None:
        cid = concern.id
        statements = self.statements(cid, concern.quality_statements)
        self.p.statements_of[cid] = statements
        for slug in statements:
            self.p.concerns_by_statement[slug].append(concern)
        self.role(cid, ("owner",), concern.owner)
        self.role(cid, ("raised_by",), concern.raised_by)
        if concern.status == "closed" and concern.closure is None:
            self.error(
                cid,
                ("status",),
                "status is closed but there is no closure: add a closure block "
                "(date, by, recorded_in, evidence, rationale)",
            )
        for measure in concern.measures:
            mid = measure.id
            if measure.direction_contradicts_target:
                better = "higher" if measure.direction == "up" else "lower"
                side = "below" if measure.direction == "up" else "above"
                self.error(
                    mid,
                    ("direction",),
                    f"direction: {measure.direction} says {better} is better, but the target "
                    f"({measure.target.value:g}) is {side} the baseline "
                    f"({measure.baseline.value:g}): correct the direction, the target or "
                    "the baseline, or remove direction to have it follow from them",
                )
            self.evidence_refs(
                concern, mid, ("baseline", "evidence"), measure.baseline.evidence, mid, "baseline"
            )
            for index, reading in enumerate(measure.readings):
                self.evidence_refs(
                    concern,
                    mid,
                    ("readings", index, "evidence"),
                    reading.evidence,
                    mid,
                    f"reading {reading.date.isoformat()}",
                )
        for action in concern.actions:
            aid = action.id
            self.role(aid, ("owner",), action.owner)
            for index, ext in enumerate(action.extensions):
                self.role(aid, ("extensions", index, "agreed_by"), ext.agreed_by)
            for index, update in enumerate(action.updates):
                self.role(aid, ("updates", index, "by"), update.by)
            self.evidence_refs(concern, aid, ("evidence",), action.evidence, aid, "action")
            if action.closure is not None:
                self.closure(concern, aid, ("closure",), action.closure)
        if concern.closure is not None:
            self.closure(concern, cid, ("closure",), concern.closure)
        for index, other in enumerate(concern.related):
            if other == cid:
                self.error(
                    cid,
                    ("related", index),
                    f"related[{index}]: a concern cannot be related to itself",
                )
            elif self.ref(cid, ("related", index), other, ("concern",)):
                for a, b in ((cid, other), (other, cid)):
                    if b not in self.p.related[a]:
                        self.p.related[a].append(b)

    def link_evidence(self, evidence: Evidence) -> None:
        eid = evidence.id
        self.role(eid, ("owner",), evidence.owner)
        if evidence.category is not None and evidence.category not in self.categories:
            self.error(
                eid,
                ("category",),
                f"category: unknown evidence category {evidence.category!r}"
                f"{_hint(evidence.category, self.categories)}; use one of "
                f"{', '.join(self.categories)}",
            )
        self.p.statements_of_evidence[eid] = self.statements(eid, evidence.quality_statements)
        if evidence.file is not None:
            self.attachment(evidence)

    def attachment(self, evidence: Evidence) -> None:
        assert evidence.file is not None
        name = evidence.file
        keys: KeyPath = ("file",)
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or "://" in name:
            self.error(
                evidence.id,
                keys,
                f"file: {name!r} must be a path relative to the portfolio folder, "
                "e.g. attachments/audit.pdf",
            )
            return
        try:
            resolved, exists = self.resolve(name)
        except (OSError, ValueError):  # a NUL byte, a name too long for the file system...
            self.error(evidence.id, keys, f"file: {name!r} is not a usable file name")
            return
        if not (resolved.startswith(self.root_prefix) or resolved == str(self.root)):
            self.error(
                evidence.id,
                keys,
                f"file: {name!r} lies outside the portfolio folder; copy the file into "
                "attachments/ and point to it there",
            )
            return
        if not exists:
            self.error(
                evidence.id,
                keys,
                f"file: {name!r} does not exist in the portfolio folder; check the name, "
                "or remove 'file' and say where it is with 'location'",
            )
            return
        rel = resolved[len(self.root_prefix) :].replace(os.sep, "/")
        kind = record_kind(rel)
        if kind is not None or ("/" not in rel and rel.endswith((".yaml", ".yml"))):
            # Attached, it would be copied whole into every output that shows this entry,
            # whoever that record or setting is for.
            what = "a record file" if kind else "a settings file"
            self.error(
                evidence.id,
                keys,
                f"file: {name!r} is {what} of this portfolio, not a document to attach; "
                "attach the document itself (the PDF, scan or spreadsheet); to point at a "
                "record, name its id in the entry's text",
            )
            return
        self.p.attachments[evidence.id] = Path(resolved)

    def resolve(self, name: str) -> tuple[str, bool]:
        """The real path of the file ``name`` in the portfolio folder, and whether it is a
        file: what ``os.path.realpath`` and ``os.path.isfile`` give, with each folder
        resolved once (on strings: thousands of attachments are resolved here)."""
        full = os.path.join(self.p.root, name)
        folder, leaf = os.path.split(full)
        if leaf in ("", ".", ".."):
            resolved = os.path.realpath(full)
            return resolved, os.path.isfile(resolved)
        real = self.folders.get(folder)
        if real is None:
            real = self.folders[folder] = os.path.realpath(folder)
        target = os.path.join(real, leaf)
        try:
            status = os.lstat(target)
        except OSError:  # missing, or not reachable: realpath keeps such a name as it is
            return target, False
        if stat.S_ISLNK(status.st_mode):
            resolved = os.path.realpath(target)
            return resolved, os.path.isfile(resolved)
        return target, stat.S_ISREG(status.st_mode)

    def link_review(self, review: Review) -> None:
        rid = review.id
        self.role(rid, ("chair",), review.chair)
        for index, attendee in enumerate(review.attendees):
            self.role(rid, ("attendees", index), attendee)
        for index, decision in enumerate(review.decisions):
            if self.ref(rid, ("decisions", index, "ref"), decision.ref, ("concern", "action")):
                self.p.decisions_about[decision.ref].append(DecisionRef(review, decision, index))


def _a(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _hint(value: str, candidates: Iterable[str]) -> str:
    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def link(
    settings: Settings,
    settings_source: SourceFile,
    framework: Framework,
    root: Path,
    display_root: str,
    as_of: date,
    concerns: list[tuple[Concern, SourceFile]],
    evidence: list[tuple[Evidence, SourceFile]],
    reviews: list[tuple[Review, SourceFile]],
    problems: Problems,
    unvalidated: dict[str, str] | None = None,
    former_titles: dict[str, str] | None = None,
) -> Portfolio:
    """Resolve every reference and build the back-references; record what does not resolve.

    ``former_titles`` names the statements of other frameworks that the crosswalk maps, so a
    record's page can say what it was written under."""
    portfolio = Portfolio(
        settings_source=settings_source,
        root=root,
        display_root=display_root,
        settings=settings,
        framework=framework,
        as_of=as_of,
        concerns={},
        evidence={},
        reviews={},
        former_titles=dict(former_titles or {}),
    )
    linker = _Linker(portfolio, problems)
    for index, slug in enumerate(settings.quality_statements):
        resolved = linker.aliases.get(slug, slug)
        if resolved in linker.statement_slugs:
            portfolio.focus.append(resolved)
        else:
            problems.add(
                settings_source.display,
                settings_source.line(("quality_statements", index)),
                f"quality_statements[{index}]: unknown quality statement {slug!r}"
                f"{_hint(slug, linker.statement_slugs)}; the slugs of {framework.id} are listed "
                "in docs/format.md",
            )
    # Records that failed validation were reported already; references to them are not.
    linker.ids.update(unvalidated or {})
    kept_concerns: list[Concern] = []
    for concern, source in sorted(concerns, key=lambda cs: natural_key(cs[0].id)):
        if not linker.register(concern.id, "concern", source, ()):
            continue
        kept_concerns.append(concern)
        portfolio.concerns[concern.id] = concern
        for index, measure in enumerate(concern.measures):
            if linker.register(measure.id, "measure", source, ("measures", index)):
                portfolio.measures[measure.id] = (concern, measure)
        for index, action in enumerate(concern.actions):
            if linker.register(action.id, "action", source, ("actions", index)):
                portfolio.actions[action.id] = (concern, action)
    for record, source in sorted(evidence, key=lambda es: natural_key(es[0].id)):
        if linker.register(record.id, "evidence entry", source, ()):
            portfolio.evidence[record.id] = record
    for review, source in sorted(reviews, key=lambda rs: (rs[0].date, natural_key(rs[0].id))):
        if linker.register(review.id, "governance review", source, ()):
            portfolio.reviews[review.id] = review

    portfolio.concerns_by_statement = {slug: [] for slug in framework.statements()}
    portfolio.evidence_by_statement = {slug: [] for slug in framework.statements()}
    portfolio.citations = {eid: [] for eid in portfolio.evidence}
    portfolio.related = defaultdict(list)
    portfolio.decisions_about = defaultdict(list)
    for concern in kept_concerns:
        linker.link_concern(concern)
    for record in portfolio.evidence.values():
        linker.link_evidence(record)
    for review in portfolio.reviews.values():
        linker.link_review(review)
    for role_name in settings.roles:
        if not role_name.strip():
            problems.add(
                settings_source.display,
                settings_source.line(("roles",)),
                "roles: a role needs a name",
            )

    # Evidence of a concern: everything its measures, actions and closures cite.
    for cid in portfolio.concerns:
        portfolio.evidence_of_concern[cid] = []
    for eid, cites in portfolio.citations.items():
        for concern_id in dict.fromkeys(c.concern.id for c in cites):
            portfolio.evidence_of_concern[concern_id].append(portfolio.evidence[eid])
    # Evidence filed under a statement: named there, or cited by a concern filed there.
    for eid, record in portfolio.evidence.items():
        slugs = list(portfolio.statements_of_evidence.get(eid, []))
        for cite in portfolio.citations[eid]:
            slugs.extend(portfolio.statements_of.get(cite.concern.id, []))
        portfolio.filed_under[eid] = list(dict.fromkeys(slugs))
        for slug in portfolio.filed_under[eid]:
            portfolio.evidence_by_statement[slug].append(record)
    portfolio.related = {k: sorted(v, key=natural_key) for k, v in portfolio.related.items()}
    portfolio.decisions_about = dict(portfolio.decisions_about)
    return portfolio
