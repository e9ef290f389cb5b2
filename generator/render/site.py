"""Rendering the offline HTML site: every page as bytes, keyed by its path in the site.

Pages link to each other with relative URLs only, so the site works from ``file://`` and from
any sub-path. Templates get a typed view of what to show; anything that needs deciding is
decided here or in the model, not in the templates.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, cast

from jinja2 import (
    BytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup

from generator import __version__
from generator.check.assess import Build
from generator.check.audience import NOTES
from generator.check.outcomes import (
    CONCERN_OUTCOME_LABELS,
    concern_outcome,
    difference,
    number,
    with_unit,
)
from generator.check.rules import RULES, Finding, Rule, rule_by_code
from generator.check.status import COLOURS
from generator.digest import Memo
from generator.load.bodies import references
from generator.load.link import Portfolio, natural_key
from generator.load.sources import RECORD_FOLDERS
from generator.model import Action, Concern, Evidence
from generator.render.charts import line_chart
from generator.render.dates import show_date, show_dates_in
from generator.render.exports import downloads
from generator.render.markdown import (
    COPIED_FILES,
    WITHHELD_FILE,
    Withheld,
    relative_url,
    render_markdown,
)
from generator.render.pages import Fragments
from generator.render.reads import (
    Derived,
    Fact,
    Listing,
    Lookup,
    Reads,
    RecordingEnvironment,
    Source,
)
from generator.render.search import index_script
from generator.render.theme import STAMP_TOKEN, templates_dir


class PageJob(NamedTuple):
    """One page to render: its path in the site, its template, and what makes the context the
    template shows (called as the page renders, so that what it reads is the page's)."""

    path: str
    template: str
    context: Callable[[], dict[str, Any]]


class Rendered(NamedTuple):
    """A page rendered: its bytes, the files it copies into the site (by site path), whether
    it printed the stamp only where a stamp placeholder can stand for it, and the facts it
    read (see generator.render.reads)."""

    data: bytes
    copies: dict[str, Path]
    keepable: bool
    facts: frozenset[Fact] = frozenset()


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")
ASSETS = (
    "site.css",
    "search.js",
    "tables.js",
    "fonts/AtkinsonHyperlegible-Regular.ttf",
    "fonts/AtkinsonHyperlegible-Italic.ttf",
    "fonts/AtkinsonHyperlegible-Bold.ttf",
    "fonts/AtkinsonHyperlegible-BoldItalic.ttf",
    "fonts/OFL.txt",
)


@dataclass
class SiteFiles:
    """What a site build writes: rendered files, and files copied from the portfolio."""

    pages: dict[str, bytes] = field(default_factory=dict)
    copies: dict[str, Path] = field(default_factory=dict)
    #: Files written into the staging folder as they were made (see pipeline.render_site):
    #: neither ``pages`` nor this process holds their bytes.
    written: set[str] = field(default_factory=set)
    #: Pages as the build cache keeps them (write.unpack_page), by path: Staging.finish
    #: writes them with the build's stamp, unless they were written early.
    kept: dict[str, memoryview] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every file's path in the output, in order."""
        return sorted(set(self.pages) | set(self.copies) | self.written | set(self.kept))

    def data(self, name: str) -> bytes:
        """The bytes of one file, rendered or copied (not one ``written`` or ``kept``)."""
        return self.pages[name] if name in self.pages else self.copies[name].read_bytes()


class StampToken(str):
    """The stamp's placeholder, counting how often a page prints it (as ``{{ stamp }}``)."""

    printed = 0

    def __html__(self) -> str:
        self.printed += 1
        return str.__str__(self)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Paths:
    """The site path of every record, role, statement and attachment.

    File names come from ids, made safe; two ids that differ only in case would share a file
    on Windows and macOS, so the later one gets a numbered name. With ``reads``, looking a
    path up is a fact of the page being rendered.
    """

    def __init__(self, portfolio: Portfolio, reads: Reads | None = None) -> None:
        self.by_id: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.files: dict[str, str] = {}
        taken: set[str] = set()

        def claim(folder: str, name: str) -> str:
            stem = _UNSAFE.sub("-", name).strip(".-") or "item"
            candidate, n = stem, 1
            while f"{folder}/{candidate}".lower() in taken or candidate.lower() == "index":
                n += 1
                candidate = f"{stem}-{n}"
            taken.add(f"{folder}/{candidate}".lower())
            return f"{folder}/{candidate}.html"

        for cid, concern in portfolio.concerns.items():
            page = claim("concerns", cid)
            self.by_id[cid] = page
            for action in concern.actions:
                self.by_id.setdefault(action.id, f"{page}#{action.id}")
            for measure in concern.measures:
                self.by_id.setdefault(measure.id, f"{page}#{measure.id}")
        for eid in portfolio.evidence:
            self.by_id[eid] = claim("evidence", eid)
        for rid in portfolio.reviews:
            self.by_id[rid] = claim("governance", rid)
        for role in sorted(portfolio.settings.roles):
            self.roles[role] = claim("roles", role)
        root = portfolio.root.resolve()
        for eid, path in portfolio.attachments.items():
            self.files[eid] = COPIED_FILES + path.relative_to(root).as_posix()
        if reads is not None:
            self.by_id = Lookup("path", self.by_id, reads)
            self.roles = Lookup("role path", self.roles, reads)
            self.files = Lookup("file path", self.files, reads)

    @staticmethod
    def statement(slug: str) -> str:
        """The page of a quality statement."""
        return f"statements/{slug}.html"

    @staticmethod
    def key_question(slug: str) -> str:
        """The page of a key question."""
        return f"key-questions/{slug}.html"


class SiteRenderer:
    """Renders every page of the site from one build."""

    def __init__(self, build: Build, for_print: bool = False, with_pdf: bool = False) -> None:
        self.reads = Reads()
        self.sources: dict[str, Source] = {}
        self.given = build  # the build as given, whose reads are not recorded
        build = self.recording(build)
        self.build = build
        self.for_print = for_print
        self.with_pdf = with_pdf
        self.portfolio = build.portfolio
        self.paths = Paths(self.given.portfolio, self.reads)
        self._page_copies: dict[str, Path] = {}  # files the page being rendered copies
        self._attachments = set(self.given.portfolio.attachments.values())
        self._root = build.portfolio.root.resolve()
        self._remembered: dict[Any, Any] = {}
        self.fragments = Fragments(build, self.paths, self.reads, in_document=for_print)
        self.sources.update(
            {
                "path": cast(Source, self.paths.by_id),
                "role path": cast(Source, self.paths.roles),
                "file path": cast(Source, self.paths.files),
                "concern findings": cast(Source, self.fragments.by_concern),
                "body": Derived(self.body_state),
            }
        )
        self.env = RecordingEnvironment(
            loader=FileSystemLoader(str(templates_dir())),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # a build renders from one theme: no stat per page and template
        )
        self.env.reads = self.reads
        self.env.globals.update(
            url=_url,
            p=self.portfolio,
            status=build.status,
            paths=self.paths,
            stamp=build.stamp,
            version=__version__,
            number=number,
            with_unit=with_unit,
            difference=difference,
            outcomes=build.outcomes,
            findings=build.findings,
            findings_for=build.findings_for,
            concern_findings=self.concern_findings,
            finding_url=self.finding_url,
            rule=rule_by_code,
            rules=RULES,
            line_chart=partial(line_chart, style=self.portfolio.settings.date_style),
            closed_on=_closed_on,
            concern_outcome=lambda c: CONCERN_OUTCOME_LABELS[
                concern_outcome([build.outcomes[m.id] for m in c.measures])
            ],
            colours=COLOURS,
            markdown=self.markdown,
            decisions_for=self.decisions_for,
            with_pdf=with_pdf,
            audience_note=NOTES[self.portfolio.audience],
            as_of_age=build.as_of_age,
            terms=self.portfolio.framework.terms,
        )
        self.env.globals.update(self.link_helpers())
        self.env.globals["site_header"] = self.site_header()
        style = self.portfolio.settings.date_style
        self.env.filters["isodate"] = lambda d: d.isoformat() if d else ""
        self.env.filters["day"] = lambda d: show_date(d, style)
        self.env.filters["dates"] = lambda text: show_dates_in(str(text), style)
        self.env.filters["upfirst"] = lambda text: text[:1].upper() + text[1:]
        statements = self.portfolio.framework.statements()
        self.env.filters["statement_title"] = lambda slug: statements[slug][1].title
        self.env.filters["kq_title"] = lambda slug: statements[slug][0].title
        categories = {c.slug: c.title for c in self.portfolio.framework.evidence_categories}
        self.env.filters["category_title"] = lambda slug: categories.get(slug, slug)
        ordered = list(self.given.portfolio.concerns.values())
        neighbours = {
            c.id: (ordered[i - 1] if i else None, ordered[i + 1] if i + 1 < len(ordered) else None)
            for i, c in enumerate(ordered)
        }
        self.env.globals["neighbours"] = self.lookup("neighbours", neighbours)

    # --- what pages read ------------------------------------------------------------------

    def lookup(self, name: str, data: dict[Any, Any]) -> Lookup[Any, Any]:
        """``data`` as a lookup whose reads are facts of the page being rendered."""
        found = self.sources[name] = Lookup(name, data, self.reads)
        return found

    def recording(self, build: Build) -> Build:
        """The build as pages read it: every lookup of the portfolio and every derived fact
        recorded as a page reads it (see generator.render.reads)."""
        p = build.portfolio
        lookups = {
            f.name: self.lookup(f.name, getattr(p, f.name))
            for f in dataclasses.fields(p)
            if isinstance(getattr(p, f.name), dict)
        }
        findings = Listing("findings", build.findings, self.reads)
        self.sources["findings"] = findings
        return dataclasses.replace(
            build,
            portfolio=dataclasses.replace(p, **cast(dict[str, Any], lookups)),
            status=self.lookup("status", build.status),
            outcomes=self.lookup("outcomes", build.outcomes),
            checksums=self.lookup("checksums", build.checksums),
            findings=findings,
            _by_record=self.lookup("findings about", build.by_record),
        )

    def shown_everywhere(self) -> tuple[object, ...]:
        """What every page may show, beside the facts it reads: the settings, the framework,
        the audience and the dates. (Not the portfolio's place on disk: pages link relatively
        and name files by their place in it.)"""
        p = self.given.portfolio
        return (
            p.audience,
            p.as_of.isoformat(),
            self.with_pdf,
            self.for_print,
            p.settings.model_dump_json(),
            p.framework.model_dump_json(),
            list(p.focus),
            self.given.as_of_age,
        )

    def body_state(self, record_id: str) -> object:
        """What a record's body prints from: its text, its file's place, and where each link
        or image in it points now (and whether that file may be copied)."""
        p = self.given.portfolio
        record = p.concerns.get(record_id) or p.evidence.get(record_id) or p.reviews.get(record_id)
        source = p.sources.get(record_id)
        if record is None or source is None:
            return None
        text = record.body
        targets: list[tuple[str, str, str | None, bool]] = []
        # Only an inline link or image ("](") or a link reference definition ("]:") can point
        # at a file; autolinks always name a scheme, so they never do.
        if "](" in text or "]:" in text:
            for ref in references(text, source.path.parent, self._root):
                target = ref.target
                shown = None if target is None else target.relative_to(self._root).as_posix()
                allowed = target is not None and self.may_copy(target)
                targets.append((ref.url, ref.where, shown, allowed))
        return (source.rel, text, targets)

    def markdown(self, record_id: str, text: str) -> Markup:
        """A record's body as HTML; images inside the portfolio are copied into the site."""
        self.reads.add("body", record_id)
        if not text.strip():
            return Markup("")
        source = self.given.portfolio.sources[record_id]  # the body's fact covers its file
        page = self.page_of(record_id).partition("#")[0]
        root = self._root

        def resolve(target: Path) -> str | Withheld | None:
            if not self.may_copy(target):
                # Shared outputs hold only what their audience may see; the internal edition
                # shows where a record or settings file it does not copy is.
                return None if self.portfolio.audience == "internal" else WITHHELD_FILE
            if self.for_print:
                if target.suffix.lower() in IMAGE_SUFFIXES:
                    return target.as_uri()  # read by the PDF's confined fetcher
                return None  # a link to a file: printed as text, the file is in the register
            site_path = COPIED_FILES + target.relative_to(root).as_posix()
            self._page_copies[site_path] = target
            return relative_url(page, site_path)

        html = render_markdown(text, source.path.parent, root, resolve)
        return Markup(html)

    def may_copy(self, target: Path) -> bool:
        """Whether a file a body links to may be copied into this audience's output.

        Shared outputs copy only the attachments of evidence they show. The internal edition
        also copies other files of the portfolio, but never record or settings files.
        """
        p = self.portfolio
        if target in self._attachments:
            return True
        if p.audience != "internal" or target in p.withheld_files:
            return False
        rel = target.relative_to(self._root).parts
        return rel[0] not in RECORD_FOLDERS and target.suffix not in (".yaml", ".yml")

    def link_helpers(self) -> dict[str, Any]:
        """Small pieces used on almost every line of every page, in Python for speed.

        Each returns escaped markup (see generator.render.pages); ``page_path`` from the template
        context makes links relative to the page being rendered.
        """
        parts = self.fragments

        def on_page(make: Callable[..., Markup]) -> Callable[..., Markup]:
            # The template passes what to show; the page being rendered comes from its context
            # (printed, links point within the document: there is no page to start from).
            if self.for_print:
                return partial(make, "")

            @pass_context
            def helper(context: Context, *args: Any, **kwargs: Any) -> Markup:
                return make(context["page_path"], *args, **kwargs)

            return helper

        # What a printed document may print: the rows link to pages of the site only.
        in_document = ("role", "ref", "refs", "statement_link", "finding_items")
        on_pages = (
            *in_document,
            "concern_row",
            "evidence_row",
            "reading_row",
            "tracker_row",
            "register_row",
            "citation_row",
        )
        return {
            "brag": parts.brag,
            "outcome_line": parts.outcome_line,
            "outcome_cell": parts.outcome_cell,
            **{
                name: on_page(getattr(parts, name))
                for name in (in_document if self.for_print else on_pages)
            },
        }

    def site_header(self) -> Callable[[Context], Markup]:
        """The page header of ``partials/chrome.html``, rendered once per folder.

        Its links depend only on the folder of the page (see relative_url), and its
        aria-current only on whether the page is a key question's; the build stamp is not in
        it, so the stamp's placeholder is still printed by each page itself.
        """
        made: dict[tuple[str, str], tuple[Markup, frozenset[Fact]]] = {}
        current = {Paths.key_question(kq.slug) for kq in self.portfolio.framework.key_questions}

        @pass_context
        def site_header(context: Context) -> Markup:
            path = str(context["page_path"])

            def make() -> Markup:
                chrome = self.env.get_template("partials/chrome.html")
                module = chrome.make_module({"page_path": path})
                return Markup(module.header())  # type: ignore[attr-defined]

            key = (path.rpartition("/")[0], path if path in current else "")
            return self.reads.remembered(made, key, make)

        return site_header

    def concern_findings(self, concern_id: str) -> list[Finding]:
        """Every finding about a concern or its actions and measures."""
        return cast(list[Finding], self.fragments.by_concern.get(concern_id, []))

    def finding_url(self, finding: Finding) -> str:
        """The site path of the page (and place) a finding is about."""
        return self.fragments.finding_url(finding)

    def jobs(self) -> list[PageJob]:
        """Every page of the site but the downloads page (see :meth:`downloads_job`).

        What a page shows is worked out as it renders (each job's ``context``), so that what
        it reads is recorded as the page's (see :meth:`render`).
        """
        found: list[PageJob] = []

        def page(path: str, template: str, context: Callable[[], dict[str, Any]]) -> None:
            found.append(PageJob(path, template, context))

        p = self.portfolio
        raw = self.given.portfolio  # the ids to list pages by; each page reads what it shows
        page("index.html", "home.html", lambda: {"home": self.home()})
        page("key-questions/index.html", "framework.html", lambda: {"coverage": self.coverage()})
        for kq in p.framework.key_questions:

            def kq_page(kq: Any = kq) -> dict[str, Any]:
                return {"kq": kq, "coverage": [row for row in self.coverage() if row[0] == kq]}

            page(Paths.key_question(kq.slug), "key_question.html", kq_page)
            for statement in kq.statements:

                def statement_page(kq: Any = kq, statement: Any = statement) -> dict[str, Any]:
                    listed = p.evidence_by_statement[statement.slug]
                    groups = self.evidence_by_category(listed)
                    return {"kq": kq, "statement": statement, "evidence_groups": groups}

                page(Paths.statement(statement.slug), "statement.html", statement_page)
        page("concerns/index.html", "concerns.html", dict)
        for cid in raw.concerns:

            def concern_page(cid: str = cid) -> dict[str, Any]:
                concern = p.concerns[cid]
                return {"concern": concern, "decisions": self.decisions_for(concern)}

            page(self.page_of(cid), "concern.html", concern_page)
        page("action-tracker.html", "tracker.html", lambda: {"rows": self.tracker_rows()})
        page("findings.html", "findings.html", lambda: {"groups": self.findings_by_rule()})
        page("search.html", "search.html", dict)
        page("evidence/index.html", "evidence_index.html", dict)
        for eid in raw.evidence:

            def evidence_page(eid: str = eid) -> dict[str, Any]:
                return {"evidence": p.evidence[eid]}

            page(self.page_of(eid), "evidence.html", evidence_page)
        page("governance/index.html", "reviews.html", dict)
        for rid in raw.reviews:

            def review_page(rid: str = rid) -> dict[str, Any]:
                return {"review": p.reviews[rid]}

            page(self.page_of(rid), "review.html", review_page)
        page("roles/index.html", "roles.html", lambda: {"owned": self.owned_by_role()})
        for role in raw.settings.roles:

            def role_page(role: str = role) -> dict[str, Any]:
                return {"role_name": role, "items": self.owned_by_role()[role]}

            page(dict.__getitem__(self.paths.roles, role), "role.html", role_page)
        return found

    def page_of(self, record_id: str) -> str:
        """The site path of a record, looked up without recording it (for listing the pages)."""
        return dict.__getitem__(self.paths.by_id, record_id)

    def downloads_job(self, exports: dict[str, bytes]) -> PageJob:
        """The downloads page, which lists the files :meth:`downloads` made."""
        listed = Listing(
            "downloads", [(name, len(data)) for name, data in exports.items()], self.reads
        )
        self.sources["downloads"] = listed
        return PageJob("downloads.html", "downloads.html", lambda: {"exports": listed})

    def copies(self) -> dict[str, Path]:
        """The files every build copies into the site: the theme's assets and the attachments
        of the evidence shown (files that pages link to are named as each page renders)."""
        found = {f"assets/{asset}": templates_dir() / "assets" / asset for asset in ASSETS}
        for eid, site_path in self.paths.files.items():
            found[site_path] = self.portfolio.attachments[eid]
        return found

    def downloads(self, memo: Memo | None = None) -> dict[str, bytes]:
        """The site's downloads (action tracker, evidence register), by site path (from the
        build as given: they are no page, and nothing they read is recorded)."""
        return downloads(self.given, memo)

    def search_index(self, memo: Memo | None = None) -> bytes:
        """The search index script (from the build as given, as the downloads are)."""
        by_id = dict(dict.items(self.paths.by_id))
        return index_script(self.given, by_id, Paths.statement, memo)

    def use_bytecode_cache(self, cache: BytecodeCache) -> None:
        """Keep compiled templates in ``cache`` for the next build."""
        self.env.bytecode_cache = cache

    def render_page(
        self, path: str, template: str, context: dict[str, Any], stamp: str | None = None
    ) -> bytes:
        """Render one page (with ``stamp`` in place of the build's own stamp, if given)."""
        if stamp is not None:
            context = {**context, "stamp": stamp}
        return self.env.get_template(template).render(page_path=path, **context).encode("utf-8")

    def render(self, job: PageJob, token: StampToken | None = None) -> Rendered:
        """Render one page, noting the facts it reads; with a placeholder ``token`` for the
        stamp, when it can be kept (a page whose own text holds the placeholder is rendered
        with the stamp instead)."""
        self._page_copies = {}
        with self.reads.page() as facts:
            context = job.context()
            if token is None:
                data, keepable = self.render_page(job.path, job.template, context), False
            else:
                token.printed = 0
                data = self.render_page(job.path, job.template, context, stamp=token)
                keepable = data.count(STAMP_TOKEN.encode()) == token.printed
                if not keepable:
                    data = self.render_page(job.path, job.template, context)
        return Rendered(data, self._page_copies, keepable, frozenset(facts))

    def compile(self, templates: Iterable[str]) -> None:
        """Compile ``templates`` now (before workers fork, so that each need not)."""
        for template in sorted(set(templates)):
            self.env.get_template(template)

    # --- views ------------------------------------------------------------------------------

    def home(self) -> dict[str, Any]:
        """Counts and lists for the dashboard."""
        p, status = self.portfolio, self.build.status
        concerns = list(p.concerns.values())
        actions = [a for _, a in p.actions.values()]
        overdue = [
            (concern, action)
            for concern, action in p.actions.values()
            if status[action.id].label == "Overdue"
        ]
        overdue.sort(key=lambda ca: (ca[1].current_due, natural_key(ca[1].id)))
        open_by_kq = []
        for kq in p.framework.key_questions:
            seen: dict[str, Concern] = {}
            for statement in kq.statements:
                for concern in p.concerns_by_statement[statement.slug]:
                    if concern.status != "closed":
                        seen.setdefault(concern.id, concern)
            open_by_kq.append((kq, sorted(seen.values(), key=lambda c: natural_key(c.id))))
        return {
            "findings_by_rule": [(r, f) for r, f in self.findings_by_rule() if f],
            "findings_by_kq": self.findings_by_key_question(),
            "gaps": [row for row in self.coverage() if row[3] == 0],
            "concern_status": _count(
                (c.status for c in concerns), ("open", "monitoring", "closed")
            ),
            "concern_colour": _count((status[c.id].colour for c in concerns), COLOURS),
            "action_status": _count(
                (a.status for a in actions), ("planned", "in-progress", "completed", "closed")
            ),
            "action_colour": _count((status[a.id].colour for a in actions), COLOURS),
            "overdue": overdue,
            "open_by_kq": open_by_kq,
            "total_concerns": len(concerns),
            "total_actions": len(actions),
        }

    def coverage(self) -> list[tuple[Any, Any, list[int], int]]:
        """For each statement: its key question, itself, evidence per category, and total."""
        p = self.portfolio
        order = [c.slug for c in p.framework.evidence_categories]
        rows = []
        for kq in p.framework.key_questions:
            for statement in kq.statements:
                items = p.evidence_by_statement[statement.slug]
                counts = Counter(p.category_of(e) for e in items)
                rows.append((kq, statement, [counts.get(c, 0) for c in order], len(items)))
        return rows

    def findings_by_rule(self) -> list[tuple[Rule, list[Finding]]]:
        """Every rule with its findings, in rule order (rules with none included)."""
        grouped: dict[str, list[Finding]] = {r.code: [] for r in RULES}
        for finding in self.build.findings:
            grouped[finding.code].append(finding)
        return [(r, grouped[r.code]) for r in RULES]

    def findings_by_key_question(self) -> list[tuple[Any, int]]:
        """How many findings fall under each key question (through concerns or statements)."""
        p = self.portfolio
        statements = p.framework.statements()
        kq_titles = {kq.slug: kq.title for kq in p.framework.key_questions}
        counts: Counter[str] = Counter()
        for finding in self.build.findings:
            if finding.concern is not None:
                slugs = p.statements_of.get(finding.concern, [])
            else:
                slugs = [finding.record] if finding.record in p.concerns_by_statement else []
            kq_slugs = dict.fromkeys(statements[s][0].slug for s in slugs)
            if finding.record in kq_titles:
                kq_slugs = {finding.record: None}
            for kq_slug in kq_slugs:
                counts[kq_slug] += 1
        return [(kq, counts[kq.slug]) for kq in p.framework.key_questions]

    def evidence_by_category(self, items: Iterable[Evidence]) -> list[tuple[Any, list[Evidence]]]:
        """Evidence grouped under each of the framework's categories (empty ones included)."""
        groups: dict[str, list[Evidence]] = {
            c.slug: [] for c in self.portfolio.framework.evidence_categories
        }
        for evidence in items:
            groups[self.portfolio.category_of(evidence)].append(evidence)
        return [
            (category, sorted(groups[category.slug], key=lambda e: (e.date, natural_key(e.id))))
            for category in self.portfolio.framework.evidence_categories
        ]

    def decisions_for(self, concern: Concern) -> list[Any]:
        """Governance decisions about the concern or any of its actions, in date order."""
        refs = list(self.portfolio.decisions_about.get(concern.id, []))
        for action in concern.actions:
            refs.extend(self.portfolio.decisions_about.get(action.id, []))
        return sorted(refs, key=lambda d: (d.review.date, natural_key(d.review.id), d.index))

    def tracker_rows(self) -> list[tuple[Concern, Action]]:
        """Every action with its concern, in concern order."""
        return list(self.portfolio.actions.values())

    def owned_by_role(self) -> dict[str, dict[str, list[Any]]]:
        """What each role owns, chairs, attends and closed."""
        return self.reads.remembered(self._remembered, "owned by role", self._owned_by_role)

    def _owned_by_role(self) -> dict[str, dict[str, list[Any]]]:
        p = self.portfolio
        owned: dict[str, dict[str, list[Any]]] = {
            role: {
                "concerns": [],
                "actions": [],
                "evidence": [],
                "chaired": [],
                "attended": [],
                "closed": [],
            }
            for role in p.settings.roles
        }
        for concern in p.concerns.values():
            owned[concern.owner]["concerns"].append(concern)
            if concern.closure is not None:
                owned[concern.closure.by]["closed"].append(concern.id)
            for action in concern.actions:
                owned[action.owner]["actions"].append((concern, action))
                if action.closure is not None:
                    owned[action.closure.by]["closed"].append(action.id)
        for evidence in p.evidence.values():
            if evidence.owner is not None:
                owned[evidence.owner]["evidence"].append(evidence)
        for review in p.reviews.values():
            if review.chair is not None:
                owned[review.chair]["chaired"].append(review)
            for attendee in dict.fromkeys(review.attendees):
                owned[attendee]["attended"].append(review)
        return owned


def _closed_on(concern: Concern) -> Any:
    return concern.closure.date if concern.status == "closed" and concern.closure else None


def _count(values: Iterable[str], keys: Iterable[str]) -> dict[str, int]:
    counts = Counter(values)
    return {key: counts.get(key, 0) for key in keys}


@pass_context
def _url(context: Context, target: str) -> str:
    """A relative link from the page being rendered to ``target`` (a site path)."""
    return relative_url(str(context["page_path"]), target)
