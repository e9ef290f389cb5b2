"""The pieces of markup the site's pages repeat most: links, table rows and finding lists.

A large portfolio prints thousands of these on its pages, and the same few lines of a Jinja
template cost many times what an f-string does; so they are built here, each escaping what it
prints, and the templates place them. Each takes the path of the page it is printed on (links
are relative to it) where it links anywhere.

The PDF portfolio prints the same pieces (a record's link, a list of them, a role, a list of
findings) from here too, made ``in_document``: a link then points at the record's place in the
printed document (``#concern-C1``), and a role, which has no place there, is its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from generator.check.outcomes import with_unit
from generator.check.rules import RULES, Finding
from generator.check.status import COLOURS
from generator.load.link import Citation, Portfolio
from generator.model import Action, Concern, Evidence, Measure, Point
from generator.render.charts import sparkline
from generator.render.dates import show_date, show_dates_in
from generator.render.markdown import relative_url
from generator.render.reads import Fact, Lookup, Reads

if TYPE_CHECKING:
    from generator.check.assess import Build
    from generator.render.site import Paths

NONE = Markup('<span class="none">none</span>')
WITHHELD = Markup('<span class="withheld">withheld</span>')
_OPEN = ("planned", "in-progress")


def isodate(day: date | None) -> str:
    """A date as YYYY-MM-DD, or nothing."""
    return day.isoformat() if day else ""


def unique(values: Iterable[str]) -> list[str]:
    """The values without repeats, ignoring case (as Jinja's ``unique`` filter does)."""
    seen: set[str] = set()
    kept = []
    for value in values:
        folded = value.lower()
        if folded not in seen:
            seen.add(folded)
            kept.append(value)
    return kept


class Fragments:
    """Builds the repeated pieces of every page of one build."""

    def __init__(
        self, build: Build, paths: Paths, reads: Reads | None = None, in_document: bool = False
    ) -> None:
        self.reads = reads = reads or Reads()
        self.in_document = in_document
        self.build = build
        self.p: Portfolio = build.portfolio
        self.paths = paths
        self.status = build.status
        self.outcomes = build.outcomes
        self.statements = self.p.framework.statements()
        self.key_questions = {kq.slug for kq in self.p.framework.key_questions}
        self.rules = {rule.code: rule for rule in RULES}
        by_concern: dict[str, list[Finding]] = {}
        for finding in list.__iter__(build.findings):  # each page reads its concern's
            if finding.concern is not None:
                by_concern.setdefault(finding.concern, []).append(finding)
        self.by_concern = Lookup("concern findings", by_concern, reads)
        self.date_style = self.p.settings.date_style
        # Made once per build, each with what it read (see Reads.remembered).
        self._brags: dict[str, tuple[Markup, frozenset[Fact]]] = {}
        self._outcome_lines: dict[str, tuple[Markup, frozenset[Fact]]] = {}
        self._outcome_cells: dict[str, tuple[Markup, frozenset[Fact]]] = {}

    def day(self, day: date | None) -> str:
        """A date as pages show it (see generator.render.dates)."""
        return show_date(day, self.date_style)

    def dates(self, text: str) -> str:
        """Text with its ISO dates as pages show dates."""
        return show_dates_in(text, self.date_style)

    # --- links -------------------------------------------------------------------------------

    def link(self, page: str, target: str, text: str) -> Markup:
        """A link from ``page`` to the site path ``target`` (in a document: to the place
        ``target`` names, as ``#concern-C1``)."""
        href = f"#{target}" if self.in_document else relative_url(page, target)
        # Formatting with Markup.format costs several times this, on every line of a page.
        return Markup(f'<a href="{escape(href)}">{escape(text)}</a>')

    def place(self, record_id: str) -> str | None:
        """Where a record is: its page in the site (or its anchor in a document), or None when
        this audience does not see it."""
        if not self.in_document:
            return self.paths.by_id.get(record_id)
        p = self.p
        for kind, records in (
            ("concern", p.concerns),
            ("action", p.actions),
            ("measure", p.measures),
            ("evidence", p.evidence),
            ("review", p.reviews),
        ):
            if record_id in records:
                return f"{kind}-{record_id}"
        if record_id in self.key_questions:
            return f"kq-{record_id}"
        if record_id in self.statements:
            return f"statement-{record_id}"
        return None

    def brag(self, record_id: str) -> Markup:
        """A record's colour and status, with the reason beside it where it explains the
        colour (every concern's, and a red action's) and as its title everywhere."""
        hit = self._brags.get(record_id)
        if hit is not None:
            return self.reads.replay(hit)

        def make() -> Markup:
            s = self.status[record_id]
            reason = escape(self.dates(s.reason))
            why = ""
            if record_id in self.p.concerns or s.colour == "red":
                why = f'<span class="brag-reason">: {reason}</span>'
            return Markup(
                f'<span class="brag brag-{escape(s.colour)}" title="{reason}">'
                f'<span class="brag-colour">{escape(s.colour.capitalize())}</span> '
                f"{escape(s.label)}</span>{why}"
            )

        return self.reads.remembered(self._brags, record_id, make)

    def role(self, page: str, name: str | None) -> Markup:
        """A link to a role's page (in a document, the role's name), or "none"."""
        if not name:
            return NONE
        if self.in_document:
            return escape(self.p.role_label(name))
        return self.link(page, self.paths.roles[name], self.p.role_label(name))

    def ref(self, page: str, record_id: str) -> Markup:
        """A link to a record by its id, or "withheld" when this audience does not see it."""
        target = self.place(record_id)
        if target is None:
            return WITHHELD  # not in this audience's output: say so, never link
        return self.link(page, target, record_id)

    def refs(self, page: str, ids: list[str]) -> Markup:
        """Links to records, separated by commas, or "none"."""
        if not ids:
            return NONE
        return Markup(", ".join([self.ref(page, i) for i in ids]))

    def statement_link(self, page: str, slug: str) -> Markup:
        """A link to a quality statement's page (or its place in a document)."""
        target = f"statement-{slug}" if self.in_document else self.paths.statement(slug)
        return self.link(page, target, self.statements[slug][1].title)

    def finding_url(self, finding: Finding) -> str:
        """The site path of the page (and place) a finding is about."""
        if finding.record in self.paths.by_id:
            return self.paths.by_id[finding.record]
        if finding.record in self.key_questions:
            return self.paths.key_question(finding.record)
        return self.paths.statement(finding.record)

    # --- outcomes ----------------------------------------------------------------------------

    def outcome_line(self, m: Measure) -> Markup:
        """A measure's latest reading against its baseline and target, and its state."""
        hit = self._outcome_lines.get(m.id)
        if hit is not None:
            return self.reads.replay(hit)

        def make() -> Markup:
            o = self.outcomes[m.id]
            latest = (
                f"{escape(with_unit(o.latest.value, m.unit))} ({escape(self.day(o.latest.date))})"
                if o.readings
                else "no readings yet"
            )
            baseline = escape(with_unit(m.baseline.value, m.unit))
            target = escape(with_unit(m.target.value, m.unit))
            return Markup(
                f"{escape(m.name)}: {latest}, baseline {baseline}, target {target} · "
                f'<span class="outcome outcome-{escape(o.state)}">{escape(o.label)}</span>'
            )

        return self.reads.remembered(self._outcome_lines, m.id, make)

    def outcome_cell(self, m: Measure) -> Markup:
        """The outcome line of a measure after its sparkline, for tables."""
        hit = self._outcome_cells.get(m.id)
        if hit is not None:
            return self.reads.replay(hit)

        def make() -> Markup:
            trend = sparkline(self.outcomes[m.id], self.date_style)
            return Markup(f'<span class="trend">{trend}</span> {self.outcome_line(m)}')

        return self.reads.remembered(self._outcome_cells, m.id, make)

    # --- lists and rows ----------------------------------------------------------------------

    def finding_items(self, page: str, items: list[Finding], show_record: bool = True) -> Markup:
        """Findings as a list: rule, severity, message and what to do."""
        lines = ['<ul class="findings">\n']
        for f in items:
            r = self.rules[f.code]
            record = ""
            if show_record:
                target = self.place(f.record) if self.in_document else self.finding_url(f)
                record = f" · {self.link(page, target, f.record) if target else WITHHELD}"
            lines.append(
                f'<li class="finding severity-{escape(f.severity)}">'
                f'<span class="finding-code">{escape(f.code)}</span> '
                f'<strong>{escape(r.title)}</strong> <span class="severity">'
                f"({escape(f.severity)})</span>{record}<br>{escape(self.dates(f.message))}. "
                f'<span class="fix">What to do: {escape(r.fix)}</span></li>\n'
            )
        lines.append("</ul>\n")
        return Markup("".join(lines))

    def concern_row(self, page: str, c: Concern) -> Markup:
        """A concern's row in a table of concerns."""
        href = escape(relative_url(page, self.paths.by_id[c.id]))
        if c.measures:
            outcome = "<br>".join([self.outcome_cell(m) for m in c.measures])
        else:
            outcome = '<span class="none">no outcome measure</span>'
        n = len(self.by_concern.get(c.id, ()))
        findings = f'<a href="{href}#findings">{n}</a>' if n else "0"
        return Markup(
            f'<tr>\n    <td><a href="{href}"><span class="id">{escape(c.id)}</span> '
            f"{escape(c.title)}</a></td>\n"
            f"    <td>{self.brag(c.id)} "
            f'<span class="status-word">({escape(c.status)})</span></td>\n'
            f"    <td>{escape(c.risk)}</td>\n"
            f"    <td>{self.role(page, c.owner)}</td>\n"
            f"    <td>{outcome}</td>\n"
            f'    <td class="num">{findings}</td>\n'
            "  </tr>"
        )

    def evidence_row(self, page: str, e: Evidence) -> Markup:
        """An evidence entry's row in a table of evidence."""
        return Markup(
            f'<tr>\n    <td><a href="{escape(relative_url(page, self.paths.by_id[e.id]))}">'
            f'<span class="id">{escape(e.id)}</span> {escape(e.title)}</a></td>\n'
            f"    <td>{escape(e.type)}</td>\n"
            f"    <td>{escape(self.p.category_of(e))}</td>\n"
            f"    <td>{escape(self.p.nature_of(e))}</td>\n"
            f'    <td data-value="{escape(isodate(e.date))}">{escape(self.day(e.date))}</td>\n'
            "  </tr>"
        )

    def reading_row(self, page: str, m: Measure, r: Point) -> Markup:
        """A reading's row in the table of a measure's readings."""
        return Markup(
            f"<tr><td>{escape(self.day(r.date))}</td><td>{escape(with_unit(r.value, m.unit))}</td>"
            f"<td>{self.refs(page, r.evidence)}</td><td>{escape(r.note or '')}</td></tr>"
        )

    def tracker_row(self, page: str, c: Concern, a: Action) -> Markup:
        """An action's row in the action tracker, with the values its filters and sorts use."""
        s = self.status[a.id]
        kqs, titles = self.filed_under(self.p.statements_of[c.id])
        findings = self.build.findings_for(a.id)
        codes = "|".join(unique([f.code for f in findings]))
        due = escape(isodate(a.current_due))
        times = len(a.extensions)
        extended = f' <span class="meta">(extended {times}\N{MULTIPLICATION SIGN})</span>'
        if not a.extensions:
            extended = ""
        if a.closure:
            closure = f"{escape(self.day(a.closure.date))}, {self.role(page, a.closure.by)}"
            if a.closure.recorded_in:
                closure += f", {self.ref(page, a.closure.recorded_in)}"
        else:
            closure = '<span class="none">open</span>'
        if findings:
            listed = "<br>".join(
                [
                    f'<abbr title="{escape(self.dates(f.message))}">{escape(f.code)}</abbr> '
                    f"{escape(self.rules[f.code].title)}"
                    for f in findings
                ]
            )
        else:
            listed = '<span class="none">none</span>'
        return Markup(
            f'<tr data-status="{escape(a.status)}" data-colour="{escape(s.colour.capitalize())}" '
            f'data-owner="{escape(self.p.role_label(a.owner))}" data-kq="{escape(kqs)}" '
            f'data-statement="{escape(titles)}" data-finding="{escape(codes)}" '
            f'data-due="{due}" data-open="{"yes" if a.status in _OPEN else "no"}">\n'
            f'    <td><a href="{escape(relative_url(page, self.paths.by_id[c.id]))}">'
            f'<span class="id">{escape(c.id)}</span></a> {escape(c.title)}</td>\n'
            f'    <td><a href="{escape(relative_url(page, self.paths.by_id[a.id]))}">'
            f'<span class="id">{escape(a.id)}</span> {escape(a.title)}</a></td>\n'
            f"    <td>{self.role(page, a.owner)}</td>\n"
            f'    <td data-value="{due}">{escape(self.day(a.current_due))}{extended}</td>\n'
            f"    <td>{escape(a.status)}</td>\n"
            f'    <td data-value="{COLOURS.index(s.colour)}">{self.brag(a.id)}</td>\n'
            f"    <td>{self.refs(page, a.evidence)}</td>\n"
            f"    <td>{closure}</td>\n"
            f"    <td>{listed}</td>\n"
            "  </tr>"
        )

    def filed_under(self, slugs: list[str]) -> tuple[str, str]:
        """The key questions and the quality statements of ``slugs``, as the table filters
        read them: titles separated by '|'."""
        kqs = "|".join(unique([self.statements[slug][0].title for slug in slugs]))
        return kqs, "|".join([self.statements[slug][1].title for slug in slugs])

    def register_row(self, page: str, e: Evidence) -> Markup:
        """An evidence entry's row in the evidence register, with the values its filters use."""
        p = self.p
        kqs, titles = self.filed_under(p.filed_under[e.id])
        category, nature = escape(p.category_of(e)), escape(p.nature_of(e))
        cited = len(unique([cite.concern.id for cite in p.citations[e.id]]))
        if e.id in self.paths.files:
            held = (
                f'<a href="{escape(relative_url(page, self.paths.files[e.id]))}">attached file</a>'
            )
        elif e.location:
            held = escape(e.location)
        else:
            held = '<span class="none">not stated</span>'
        return Markup(
            f'<tr data-type="{escape(e.type)}" data-category="{category}" '
            f'data-nature="{nature}" '
            f'data-owner="{escape(p.role_label(e.owner)) if e.owner else ""}" '
            f'data-statement="{escape(titles)}" data-kq="{escape(kqs)}">\n'
            f'    <td><a href="{escape(relative_url(page, self.paths.by_id[e.id]))}">'
            f'<span class="id">{escape(e.id)}</span> {escape(e.title)}</a></td>\n'
            f"    <td>{escape(e.type)}</td>\n"
            f"    <td>{category}</td>\n"
            f"    <td>{nature}</td>\n"
            f'    <td data-value="{escape(isodate(e.date))}">{escape(self.day(e.date))}</td>\n'
            f"    <td>{self.role(page, e.owner)}</td>\n"
            f'<td data-value="{cited}">{cited} concerns</td>\n'
            f"    <td>{held}</td>\n"
            "  </tr>"
        )

    def citation_row(self, page: str, cite: Citation) -> Markup:
        """A row of the table of where an evidence entry is cited."""
        concern = cite.concern
        return Markup(
            f'<tr><td><a href="{escape(relative_url(page, self.paths.by_id[concern.id]))}">'
            f'<span class="id">{escape(concern.id)}</span> {escape(concern.title)}</a></td>'
            f"<td>{self.ref(page, cite.target)}</td><td>{escape(self.dates(cite.role))}</td></tr>"
        )
