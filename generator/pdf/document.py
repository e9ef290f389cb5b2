"""The PDF portfolio: one print document from the same build, laid out by WeasyPrint.

The print HTML is rendered with Jinja like the site, then handed to WeasyPrint with a URL
fetcher confined to the theme's own assets and the portfolio folder: nothing else on disk and
nothing on any network is ever read. The PDF is tagged (PDF/UA-1), carries title, author,
subject, keywords and language, and its dates come from the as-of date (or SOURCE_DATE_EPOCH)
so the same content gives the same bytes.

One WeasyPrint call on a whole large portfolio is slow and its memory grows faster than the
page count, so the document is laid out in chunks, in parallel processes, and joined:

1. The body (summary, findings, coverage, key questions, statements, concerns, appendices) is
   cut into chunks of about the same layout cost (:func:`layout_cost`, a model of the time
   WeasyPrint takes, from the text, table rows and chart shapes of the HTML), at part
   boundaries: always where a new page starts anyway (a key question, an appendix, each
   opening section), and inside a section before a part that would make its chunk cost more
   than ``CHUNK_COST``. A cut depends only on the parts since the last section began, so an
   edit moves no cut outside its own section. Each chunk is a document of its own, laid out
   and written to a temporary PDF by a worker (:mod:`generator.pdf.layout`; the costliest
   first, so both workers stay busy to the end), which reports its page count, the page of
   each anchor it holds and its bookmarks. Links to anchors in other chunks get empty
   stand-in targets so WeasyPrint keeps them.
2. The cover is a document of its own (it names the build), as is the contents, which is laid
   out once, beside the body, each entry keeping a column on its right as wide as its page
   number will be; the worker tells where each entry's text ends and where its number goes
   (``pdf.layout._number_boxes``). So the contents' length is known before the body's pages are
   numbered, and it is laid out again only when a number turns out wider than its column.
3. Each worker prepares the chunk it laid out for the join (pikepdf), which then appends the
   chunks' pages, merges their structure trees and named destinations, rebuilds the outline
   from the bookmarks, and draws each page's folio ("Page N of M", edition, as-of date and
   build stamp) and each contents entry's dot leader and page number, since no chunk can know
   its page numbers.

Nothing a chunk shows changes from build to build unless its records do (the build stamp is
only on the cover, the page numbers only in what the join draws), so a chunk laid out
by an earlier build can be used again as it is: :func:`render_pdf` takes a :class:`Reuse`,
which finds a document laid out before (the build cache offers one) and keeps those made now.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.check.assess import Build
from generator.pdf.join import Bookmark, Folios, PageNumber, join
from generator.pdf.layout import (
    ASSETS,
    TOC_ENTRY,
    Job,
    Laid,
    Layouts,
    Reuse,
    Setup,
    layout_cost,
)
from generator.render.dates import show_date
from generator.render.site import SiteRenderer
from generator.render.summary import standing
from generator.render.theme import templates_dir

#: The fonts the folios and the contents' page numbers are drawn in, among the theme's fonts.
FOLIO_FONT = "AtkinsonHyperlegible-Regular.ttf"
BOLD_FONT = "AtkinsonHyperlegible-Bold.ttf"

#: The sections that open the body, before the key questions.
FRONT_SECTIONS = ("summary", "findings", "coverage")

#: About what one chunk costs to lay out: some 15 A4 pages of concerns. Smaller chunks keep
#: both workers busy to the end and mean less to lay out again after an edit; each costs
#: ``DOCUMENT_COST`` more.
CHUNK_COST = 2.5

#: At most about this many chunks: beyond, chunks grow (doubling, so that a small edit does not
#: move every cut), since each one embeds its own fonts in the PDF; but never beyond
#: ``MAX_CHUNK_COST``, so that the memory a worker needs for a chunk stays the same however
#: large the portfolio (WeasyPrint's grows faster than the document), and more chunks are made.
MAX_CHUNKS = 64
MAX_CHUNK_COST = 2 * CHUNK_COST


def chunk_target(total: float, base: float = CHUNK_COST) -> float:
    """The cost a chunk may reach, for a body of ``total`` cost: ``base``, doubled as often as
    needed to keep to about ``MAX_CHUNKS`` chunks, up to ``MAX_CHUNK_COST``."""
    if total <= base * MAX_CHUNKS:
        return base
    doublings: int = math.ceil(math.log2(total / (base * MAX_CHUNKS)))
    return min(base * 2.0**doublings, max(base, MAX_CHUNK_COST))


def creation_date(build: Build) -> str:
    """The document date: SOURCE_DATE_EPOCH when set, else the as-of date, in W3C form."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{build.as_of.isoformat()}T00:00:00Z"


def css_string(text: str) -> str:
    """``text`` as a CSS string literal that cannot break out of its rule or <style> element."""
    out = []
    for char in text:
        if char in '\\"<>&' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):X} ")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def running_style(build: Build) -> str:
    """The running header's fixed text: the service."""
    service = css_string(build.portfolio.settings.service)
    return f"@page {{ @top-left {{ content: {service}; }} }}"


def stamp_line(build: Build) -> str:
    """The footer's fixed text: edition, as-of date and build stamp."""
    p = build.portfolio
    day = show_date(p.as_of, p.settings.date_style)
    return f"{p.audience.capitalize()} edition · as of {day} · build {build.stamp}"


@dataclass(frozen=True)
class Part:
    """A piece of the body that no chunk boundary may cut.

    ``section`` is the key question or appendix it belongs to (wrapped in one <section> per
    chunk), ``statement`` the quality statement inside it, ``table`` the appendix table whose
    rows it holds; ``opens`` tells whether it begins its section (on a page of its own),
    ``heading`` whether it heads the parts after it, and ``title`` is the section's name for the
    running header of a chunk that starts inside it.
    """

    html: str
    section: str
    title: str
    opens: bool = False
    statement: str | None = None
    table: str | None = None
    heading: bool = False  # a heading for the parts after it: no cut right after it


@dataclass(frozen=True)
class Chunk:
    """A whole HTML document to lay out, and the anchors it really holds (not stand-ins)."""

    html: str
    own: frozenset[str]


_ID = re.compile(r'\bid="([^"]+)"')
_HREF = re.compile(r'\bhref="#([^"]+)"')


class PrintDocument:
    """The print HTML of one build, as parts to be cut into chunks."""

    def __init__(self, build: Build) -> None:
        self.build = build
        renderer = SiteRenderer(build, for_print=True)
        p = build.portfolio
        # Each concern is printed once, under the first statement it names; the contents also
        # lists it under the others.
        self.placed = {cid: slugs[0] for cid, slugs in p.statements_of.items() if slugs}
        self.placed_under: dict[str, list[Any]] = {}
        self.also_under: dict[str, list[Any]] = {}
        for concern in p.concerns.values():
            self.placed_under.setdefault(self.placed[concern.id], []).append(concern)
            for slug in p.statements_of[concern.id][1:]:
                self.also_under.setdefault(slug, []).append(concern)
        self.renderer = renderer
        self.template = renderer.env.get_template("pdf/portfolio.html")
        self.created = creation_date(build)
        self.style = Markup(running_style(build))  # built by css_string: safe in <style>

    def module(self) -> Any:
        """The template's macros, bound to this build."""
        return self.template.make_module(
            {
                "checksums": self.build.checksums,
                "created": self.created,
                "stamp_line": stamp_line(self.build),
            }
        )

    def cover(self) -> Chunk:
        """The cover, which names the build."""
        macros = self.module()
        return self.document(macros, str(macros.cover()))

    def contents(self, digits: int) -> Chunk:
        """The contents, each entry keeping a column on its right as wide as ``digits`` digits
        for its page number, which the join draws with the dot leader (see
        :func:`page_numbers`)."""
        macros = self.module()
        style = Markup(f"{self.style} .contents .{TOC_ENTRY} {{ padding-right: {int(digits)}ch; }}")
        body = str(macros.contents(self.placed_under, self.also_under))
        return self.document(macros, body, style)

    def document(self, macros: Any, body: str, style: Markup | None = None) -> Chunk:
        """A whole HTML document around ``body``, with stand-ins for anchors it lacks."""
        own = frozenset(_ID.findall(body))
        names = sorted(set(_HREF.findall(body)) - own)
        if names:
            # Inside the first element, so that they start no page of their own.
            body = body.lstrip()
            cut = body.index(">") + 1
            body = body[:cut] + str(macros.elsewhere(names)) + body[cut:]
        return Chunk(str(macros.document("", style or self.style, Markup(body))), own)

    def parts(self) -> Iterator[Part]:
        """The body's parts, in reading order."""
        p = self.build.portfolio
        macros = self.module()
        yield from self._front_sections(macros)
        for kq in p.framework.key_questions:
            section = f"kq-{kq.slug}"
            yield Part(str(macros.key_question(kq)), section, kq.title, opens=True, heading=True)
            for st in kq.statements:
                html = str(macros.statement(st, self.placed))
                yield Part(html, section, kq.title, statement=st.slug, heading=True)
                for concern in p.concerns_by_statement[st.slug]:
                    if self.placed[concern.id] == st.slug:
                        html = str(macros.concern(concern))
                        yield Part(html, section, kq.title, statement=st.slug)
        titles = {
            "tracker": "Appendix A: Action tracker",
            "register": "Appendix B: Evidence register",
            "decisions": "Appendix C: Governance decisions",
        }
        rows: dict[str, Iterable[str]] = {
            "tracker": (str(macros.tracker_row(c, a)) for c, a in self.renderer.tracker_rows()),
            "register": (str(macros.register_row(e)) for e in p.evidence.values()),
            "decisions": self._decision_rows(macros),
        }
        for kind, title in titles.items():
            yield Part(str(macros.appendix_title(kind)), kind, title, opens=True, heading=True)
            for row in rows[kind]:
                yield Part(row, kind, title, table=kind)
            if kind == "decisions":
                for review in p.reviews.values():
                    if not review.decisions:
                        yield Part(str(macros.undecided(review)), kind, title)

    def _front_sections(self, macros: Any) -> Iterator[Part]:
        """The summary, the findings and the coverage, which open the body.

        Their lists and tables are parts of their own, row by row, so that a large portfolio's
        summary can be cut into chunks like the rest.
        """
        s = standing(self.build)
        section, title = "summary", "Summary: where the service stands"

        def part(
            html: Any, table: str | None = None, opens: bool = False, heading: bool = False
        ) -> Part:
            return Part(str(html), section, title, opens=opens, table=table, heading=heading)

        yield part(macros.standing_opening(s), opens=True, heading=True)
        for concern in s.attention:
            yield part(macros.attention_row(concern), "attention")
        yield part(macros.overdue_opening(s), heading=True)
        for concern, action in s.overdue:
            yield part(macros.overdue_row(concern, action), "overdue")
        yield part(macros.closed_opening(s), heading=True)
        for concern in s.closed:
            yield part(macros.closed_row(concern), "closed")
        yield part(macros.outcomes_opening(s), heading=True)
        for group in s.outcomes:
            yield part(macros.outcome_group(group), heading=True)
            for line in group.lines:
                yield part(macros.outcome_row(line), "outcomes")
        section, title = "findings", "Findings: what the service has found and is acting on"
        yield part(macros.findings_opening(s), opens=True, heading=True)
        for found in s.findings:
            yield part(macros.finding_section(found), heading=True)
            for told in found.groups:
                yield part(macros.finding_group(told))
        section, title = "coverage", "Coverage of the quality statements"
        yield part(macros.coverage(self.renderer.coverage()), opens=True)

    def _decision_rows(self, macros: Any) -> Iterator[str]:
        previous = None
        for review in self.build.portfolio.reviews.values():
            for decision in review.decisions:
                yield str(macros.decision_row(review, decision, review is not previous))
                previous = review

    def chunks(self, target: float | None = None) -> list[Chunk]:
        """The body as whole HTML documents of about the same layout cost (``target`` each, else
        what :func:`chunk_target` gives for the body's cost)."""
        macros = self.module()
        parts = list(self.parts())
        costs = [layout_cost(part.html) for part in parts]
        limit = target if target is not None else chunk_target(sum(costs))
        groups: list[list[Part]] = [[]]
        filled = 0.0
        for index, (part, cost) in enumerate(zip(parts, costs, strict=True)):
            # Cut where a new page starts anyway, or before a part that would make the chunk
            # cost more than the limit (never right after a heading, which would be left alone
            # at the end of its chunk).
            after_heading = index > 0 and parts[index - 1].heading
            if groups[-1] and (part.opens or (filled + cost > limit and not after_heading)):
                groups.append([])
                filled = 0.0
            groups[-1].append(part)
            filled += cost
        return [self.document(macros, compose(macros, group)) for group in groups if group]


def compose(macros: Any, parts: list[Part]) -> str:
    """One chunk's body: its parts inside the sections, statements and tables they belong to."""
    out: list[str] = []
    section = statement = table = None
    for part in parts:
        if part.section != section:
            if table:
                out.append("</tbody></table>")
            if statement:
                out.append("</section>")
            if section:
                out.append("</section>")
            table = statement = None
            section = part.section
            if section.startswith("kq-"):
                out.append('<section class="key-question">')
            elif section in FRONT_SECTIONS:
                out.append('<section class="front-section">')
            else:
                landscape = " landscape" if section in ("tracker", "register") else ""
                out.append(f'<section class="appendix{landscape}">')
            if not part.opens:
                out.append(str(macros.running(part.title)))
        if part.statement != statement:
            if statement:
                out.append("</section>")
            statement = part.statement
            if statement:
                out.append('<section class="statement">')
        if part.table != table:
            if table:
                out.append("</tbody></table>")
            table = part.table
            if table:
                out.append(str(macros.table_head(table)))
        out.append(part.html)
    if table:
        out.append("</tbody></table>")
    if statement:
        out.append("</section>")
    if section:
        out.append("</section>")
    return "\n".join(out)


@dataclass
class RenderedPdf:
    """A rendered PDF: its bytes, page count, the URLs the fetcher refused to read, and how many
    of its documents were laid out now and how many were reused."""

    data: bytes
    pages: int
    refused: list[str]
    laid_out: int = 0
    reused: int = 0


def render_pdf(
    build: Build,
    embed_attachments: bool = False,
    workers: int = 1,
    chunk_cost: float | None = None,
    reuse: Reuse | None = None,
    contents_digits: int | None = None,
    layouts: Layouts | None = None,
) -> RenderedPdf:
    """Lay out the PDF portfolio of ``build``, in chunks over ``workers`` processes (or over
    ``layouts``, started earlier; either way they are let go before the chunks are joined).

    ``chunk_cost`` is the layout cost a chunk may reach (else what :func:`chunk_target` gives);
    ``contents_digits`` how many digits wide the contents' column of page numbers is at first
    (else a guess from the body's length: it is widened should a number not fit);
    documents that ``reuse`` holds are taken from it, and those laid out now are given to it.
    """
    theme = templates_dir()
    setup = Setup(
        roots=((theme / ASSETS).resolve(), build.portfolio.root.resolve()),
        identifier=hashlib.sha256(f"{build.stamp}{build.as_of}".encode()).hexdigest()[:32].encode(),
    )
    if layouts is None:
        layouts = Layouts(workers)
    try:
        attachments = _attachments(build) if embed_attachments else ()
        printed = PrintDocument(build)
        with tempfile.TemporaryDirectory(prefix="portfolio-pdf-") as tmp:
            folder = Path(tmp)
            try:
                body = printed.chunks(chunk_cost)
                cover = printed.cover()
                # The contents is laid out once, beside the body, with a column for each page
                # number, as wide as the numbers are likely to be; the join draws them.
                estimate = max(10, sum(len(c.html) for c in body) // 4000)
                digits = contents_digits or len(str(estimate))
                contents = printed.contents(digits)
                jobs = [
                    Job(cover.html, folder / "cover.pdf", attachments, reusable=False, front=True),
                    Job(contents.html, folder / "contents.pdf", numbered=True),
                    *(Job(c.html, folder / f"body-{i:05d}.pdf") for i, c in enumerate(body)),
                ]
                laid = layouts.run(setup, jobs, reuse)
                made = [cover, contents, *body]
                chunks = [result.keep(c.own) for result, c in zip(laid, made, strict=True)]
                # Should a number be wider than its column, again with wider columns (its length
                # may change, and so the numbers).
                for _ in range(4):
                    shown = _numbers(chunks)
                    wanted = max([len(str(shown.get(n[1], 0))) for n in chunks[1].numbers] or [1])
                    if wanted <= digits:
                        break
                    digits = wanted
                    contents = printed.contents(digits)
                    jobs[1] = Job(contents.html, folder / "contents.pdf", numbered=True)
                    chunks[1] = layouts.run(setup, [jobs[1]], reuse)[0].keep(contents.own)
                else:
                    raise RuntimeError("the contents' page numbers do not settle")
            finally:
                layouts.close()
            total = sum(chunk.pages for chunk in chunks)
            line = stamp_line(build)
            fonts = theme / ASSETS / "fonts"
            folios = Folios(
                [(line, f"Page {n} of {total}") for n in range(1, total + 1)],
                fonts / FOLIO_FONT,
                fonts / BOLD_FONT,
                page_numbers(chunks, 1),
            )
            owned = [cover.own, contents.own, *(c.own for c in body)]
            joined = folder / "portfolio.pdf"
            with joined.open("wb") as out:
                documents = [(job.out, c.pages) for job, c in zip(jobs, chunks, strict=True)]
                join(documents, owned, _bookmarks(chunks), folios, out)
            data = joined.read_bytes()
    finally:
        layouts.close()  # already closed, unless the build stopped before the join
    refused = sorted({url for result in chunks for url in result.refused})
    return RenderedPdf(data, total, refused, layouts.laid_out, layouts.reused)


def _bookmarks(laid: list[Laid]) -> list[Bookmark]:
    """Every chunk's bookmarks, on the pages of the joined document."""
    marks = []
    offset = 0
    for result in laid:
        for level, label, page, x, y, closed in result.bookmarks:
            marks.append(Bookmark(level, label, offset + page, x, y, closed))
        offset += result.pages
    return marks


def page_numbers(chunks: list[Laid], index: int) -> dict[int, list[PageNumber]]:
    """The page numbers chunk ``index`` (the contents) shows, to be drawn by the join, by page
    of the joined document."""
    numbers = _numbers(chunks)
    first = sum(chunk.pages for chunk in chunks[:index])
    drawn: dict[int, list[PageNumber]] = {}
    for page, target, (right, column, text_end, baseline), size, bold, colour in chunks[
        index
    ].numbers:
        if target in numbers:
            shown = str(numbers[target])
            number = PageNumber(shown, right, column, text_end, baseline, size, bold, colour)
            drawn.setdefault(first + page, []).append(number)
    return drawn


def _numbers(chunks: list[Laid]) -> dict[str, int]:
    """The printed page number of every anchor, given the chunks' lengths."""
    numbers: dict[str, int] = {}
    offset = 0
    for chunk in chunks:
        for name, page in chunk.anchors.items():
            numbers.setdefault(name, offset + page + 1)
        offset += chunk.pages
    return numbers


def _attachments(build: Build) -> tuple[tuple[bytes, str, str, datetime], ...]:
    """The PDF attachments of the evidence, to embed in the portfolio."""
    when = datetime.strptime(creation_date(build), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    found = []
    for eid, path in sorted(build.portfolio.attachments.items()):
        if path.suffix.lower() == ".pdf":
            title = build.portfolio.evidence[eid].title
            found.append((path.read_bytes(), f"{eid}-{path.name}", title, when))
    return tuple(found)
