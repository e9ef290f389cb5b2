"""The build cache around the render stage: a page is rendered again only when what it
shows has changed.

A page's key is a hash of everything its template shows (:class:`PageKeys`); a page whose key
is unchanged would render to the same bytes, so it comes from the cache. Pages are kept with a
placeholder where the build stamp goes (the stamp changes with any change) and the stamp is put
in as they are written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from generator.cache.store import BuildCache
from generator.digest import content_key
from generator.load.bodies import references
from generator.render.markdown import COPIED_FILES
from generator.render.site import PageJob, Rendered, SiteFiles, SiteRenderer

if TYPE_CHECKING:
    from generator.check.rules import Finding
    from generator.load.link import DecisionRef
    from generator.model import Concern, Evidence, Review


class CachedPages:
    """What the cache holds of one build's pages: which need rendering, and keeping the rest."""

    def __init__(self, cache: BuildCache, renderer: SiteRenderer) -> None:
        self.cache = cache
        self.keys = PageKeys(renderer)
        self.root = renderer.portfolio.root.resolve()
        self._todo: dict[str, bytes | None] = {}

    def todo(self, jobs: list[PageJob], files: SiteFiles) -> list[PageJob]:
        """The jobs whose pages the cache does not hold as they would render now; the pages it
        holds go into ``files.kept`` (with the files they copy into ``files.copies``)."""
        todo = []
        for job in jobs:
            key = self.keys.key(*job)
            found = self.cache.page(job.path, key) if key else None
            if found is None:
                todo.append(job)
                self._todo[job.path] = key
                continue
            files.kept[job.path], kept_copies = found
            for site_path in kept_copies:  # COPIED_FILES and the file's path in the portfolio
                files.copies[site_path] = self.root / site_path.removeprefix(COPIED_FILES)
        self.cache.rendered += len(todo)
        self.cache.reused += len(jobs) - len(todo)
        return todo

    def keep(self, job: PageJob, rendered: Rendered, compressed: bool) -> None:
        """Keep a page rendered now (with the stamp's placeholder; ``compressed`` already, or
        not) for the next build, when it can be kept."""
        key = self._todo.get(job.path)
        if key is not None and rendered.keepable:
            self.cache.keep_page(job.path, key, rendered.data, rendered.copies, compressed)


class PageKeys:
    """The key of each page: a hash of everything its template shows.

    Worked out from the templates: a page's key holds the records it shows (as much of each as
    it shows), the site paths it links to, the findings and statuses it prints, and what every
    page shows (settings, framework, audience, as-of date). A page whose key is unchanged
    would render to the same bytes. A template not listed here has no key: it always renders.
    """

    def __init__(self, renderer: SiteRenderer) -> None:
        self._references = references
        self.r = renderer
        self.p = p = renderer.portfolio
        self.status = renderer.build.status
        self.by_id = renderer.paths.by_id
        self._memo: dict[tuple[str, str], bytes] = {}
        self.site = content_key(
            "site",
            p.audience,
            p.as_of.isoformat(),
            bool(renderer.env.globals.get("with_pdf")),
            p.settings.model_dump_json(),
            p.framework.model_dump_json(),
        )
        self._by_template: dict[str, Callable[[dict[str, Any]], object]] = {
            "concern.html": self.concern_page,
            "evidence.html": self.evidence_page,
            "review.html": self.review_page,
            "statement.html": self.statement_page,
            "key_question.html": self.key_question_page,
            "role.html": self.role_page,
            "home.html": lambda _: (
                self.all_concerns(),
                self.all_findings(),
                self.coverage(),
                renderer.build.as_of_age,
            ),
            "concerns.html": lambda _: [self.concern_row(c) for c in p.concerns.values()],
            "tracker.html": lambda _: self.all_concerns(),
            "findings.html": lambda _: self.all_findings(),
            "framework.html": lambda _: (self.coverage(), self.statement_counts()),
            "evidence_index.html": lambda _: [self.register_row(e) for e in p.evidence.values()],
            "reviews.html": lambda _: [self.review_row(r) for r in p.reviews.values()],
            "roles.html": lambda _: self.role_counts(),
            "search.html": lambda _: (),
            "downloads.html": lambda context: list(context["exports"]),
        }

    def key(self, path: str, template: str, context: dict[str, Any]) -> bytes | None:
        """The key of the page at ``path``, or None when it must always be rendered."""
        shows = self._by_template.get(template)
        if shows is None:
            return None
        return content_key(self.site, path, template, shows(context))

    # pages

    def concern_page(self, context: dict[str, Any]) -> object:
        concern: Concern = context["concern"]
        p = self.p
        neighbours = cast(
            "dict[str, tuple[Concern | None, Concern | None]]", self.r.env.globals["neighbours"]
        )
        decisions: list[DecisionRef] = context["decisions"]
        return (
            self.concern_card(concern),
            self.body(concern.id, concern.body),
            [None if c is None else self.concern_link(c) for c in neighbours[concern.id]],
            [self.concern_link(p.concerns[other]) for other in p.related.get(concern.id, [])],
            [self.evidence_row(e) for e in p.evidence_of_concern[concern.id]],
            [(self.path(d.review.id), self.front(d.review), d.index) for d in decisions],
        )

    def evidence_page(self, context: dict[str, Any]) -> object:
        evidence: Evidence = context["evidence"]
        p = self.p
        return (
            self.register_row(evidence),
            self.body(evidence.id, evidence.body),
            self.findings(self.r.build.findings_for(evidence.id)),
            [
                (
                    cite.concern.id,
                    self.path(cite.concern.id),
                    cite.concern.title,
                    cite.target,
                    self.path(cite.target),
                    cite.role,
                )
                for cite in p.citations[evidence.id]
            ],
        )

    def review_page(self, context: dict[str, Any]) -> object:
        review: Review = context["review"]
        p = self.p
        about = []
        for decision in review.decisions:
            record = p.concerns.get(decision.ref) or p.actions[decision.ref][1]
            about.append((decision.ref, self.path(decision.ref), record.title))
        return (
            self.review_row(review),
            self.body(review.id, review.body),
            self.findings(self.r.build.findings_for(review.id)),
            about,
        )

    def statement_page(self, context: dict[str, Any]) -> object:
        slug: str = context["statement"].slug
        p = self.p
        return (
            slug,
            self.findings(self.r.build.findings_for(slug)),
            [self.concern_row(c) for c in p.concerns_by_statement[slug]],
            [self.evidence_row(e) for e in p.evidence_by_statement[slug]],
        )

    def key_question_page(self, context: dict[str, Any]) -> object:
        p = self.p
        return (
            context["kq"].slug,
            self.findings(self.r.build.findings_for(context["kq"].slug)),
            [(row[1].slug, row[2], row[3]) for row in context["coverage"]],
            [
                (
                    st.slug,
                    len(p.evidence_by_statement[st.slug]),
                    [self.concern_row(c) for c in p.concerns_by_statement[st.slug]],
                )
                for st in context["kq"].statements
            ],
        )

    def role_page(self, context: dict[str, Any]) -> object:
        items = context["items"]
        return (
            context["role_name"],
            [self.concern_row(c) for c in items["concerns"]],
            [
                (self.path(c.id), self.front(c), a.id, repr(self.status[a.id]))
                for c, a in items["actions"]
            ],
            [self.evidence_row(e) for e in items["evidence"]],
            [(r.id, self.path(r.id)) for r in items["chaired"]],
            [(r.id, self.path(r.id)) for r in items["attended"]],
            [(i, self.path(i)) for i in items["closed"]],
        )

    # what several pages show about one record

    def path(self, record_id: str) -> str | None:
        """The site path of a record (None: not in this output, shown as withheld)."""
        return self.by_id.get(record_id)

    def front(self, record: Concern | Evidence | Review) -> bytes:
        """Every field of a record but its body (as this audience sees it)."""
        found = self._memo.get(("front", record.id))
        if found is None:
            found = content_key(record.model_dump_json())
            self._memo[("front", record.id)] = found
        return found

    def body(self, record_id: str, text: str) -> object:
        """A record's body, with where each image or link in it points now."""
        source = self.p.sources[record_id]
        targets: list[tuple[str, str, str | None, bool]] = []
        # Only an inline link or image ("](") or a link reference definition ("]:") can point
        # at a file; autolinks always name a scheme, so they never do.
        if "](" in text or "]:" in text:
            root = self.p.root.resolve()
            for ref in self._references(text, source.path.parent, root):
                target = ref.target
                shown = None if target is None else target.relative_to(root).as_posix()
                allowed = target is not None and self.r.may_copy(target)
                targets.append((ref.url, ref.where, shown, allowed))
        return (source.rel, content_key(text), targets)

    def concern_link(self, concern: Concern) -> object:
        return (concern.id, concern.title, self.path(concern.id))

    def concern_row(self, concern: Concern) -> object:
        """What a table of concerns shows about one."""
        return (
            self.path(concern.id),
            self.front(concern),
            repr(self.status[concern.id]),
            len(self.r.concern_findings(concern.id)),
        )

    def concern_card(self, concern: Concern) -> bytes:
        """Everything pages show about a concern but its body: fields, statuses, findings,
        quality statements and the paths of everything it refers to."""
        found = self._memo.get(("concern", concern.id))
        if found is not None:
            return found
        refs = list(concern.related)
        closures = [concern.closure] + [a.closure for a in concern.actions]
        for closure in closures:
            if closure is not None:
                refs += [*closure.evidence, closure.recorded_in or ""]
        for action in concern.actions:
            refs += action.evidence
        for measure in concern.measures:
            refs += measure.baseline.evidence
            for reading in measure.readings:
                refs += reading.evidence
        found = content_key(
            self.path(concern.id),
            self.front(concern),
            [repr(self.status[i]) for i in [concern.id, *(a.id for a in concern.actions)]],
            self.findings(self.r.concern_findings(concern.id)),
            self.p.statements_of[concern.id],
            [(ref, self.path(ref)) for ref in refs],
        )
        self._memo[("concern", concern.id)] = found
        return found

    def evidence_row(self, evidence: Evidence) -> object:
        """What a table of evidence shows about an entry."""
        return (self.path(evidence.id), self.front(evidence))

    def register_row(self, evidence: Evidence) -> bytes:
        """What the register and the entry's own page show about it, but its body."""
        found = self._memo.get(("register", evidence.id))
        if found is None:
            p = self.p
            found = content_key(
                self.evidence_row(evidence),
                p.filed_under[evidence.id],
                sorted({c.concern.id for c in p.citations[evidence.id]}),
                self.r.paths.files.get(evidence.id),
            )
            self._memo[("register", evidence.id)] = found
        return found

    def review_row(self, review: Review) -> object:
        return (self.path(review.id), self.front(review))

    def findings(self, findings: Iterable[Finding]) -> object:
        return [(f.code, f.severity, f.message, f.record, self.r.finding_url(f)) for f in findings]

    # what the pages that list everything show

    def all_concerns(self) -> bytes:
        found = self._memo.get(("all", "concerns"))
        if found is None:
            found = content_key([self.concern_card(c) for c in self.p.concerns.values()])
            self._memo[("all", "concerns")] = found
        return found

    def all_findings(self) -> bytes:
        found = self._memo.get(("all", "findings"))
        if found is None:
            found = content_key(self.findings(self.r.build.findings))
            self._memo[("all", "findings")] = found
        return found

    def coverage(self) -> object:
        return [(row[1].slug, row[2], row[3]) for row in self.r.coverage()]

    def statement_counts(self) -> object:
        p = self.p
        return [(slug, len(items)) for slug, items in p.concerns_by_statement.items()]

    def role_counts(self) -> object:
        return [
            (name, [len(items) for _, items in sorted(owned.items())])
            for name, owned in sorted(self.r.owned_by_role().items())
        ]
