"""The PDF portfolio: one print document from the same build, laid out by WeasyPrint.

The print HTML is rendered with Jinja like the site, then handed to WeasyPrint with a URL
fetcher confined to the theme's own assets and the portfolio folder: nothing else on disk and
nothing on any network is ever read. The PDF is tagged (PDF/UA-1), carries title, author,
subject, keywords and language, and its dates come from the as-of date (or SOURCE_DATE_EPOCH)
so the same content gives the same bytes.

One WeasyPrint call on a whole large portfolio is slow and its memory grows faster than the
page count, so the document is laid out in chunks, in parallel processes, and joined:

1. The body (summary, findings, coverage, key questions, statements, concerns, appendices) is
   cut into chunks of about ``CHUNK_BYTES`` of HTML, at part boundaries. Each chunk is a
   document of its own, laid out and written to a temporary PDF by a worker, which reports its
   page count, the page of each anchor it holds and its bookmarks. Links to anchors in other
   chunks get empty stand-in targets so WeasyPrint keeps them.
2. The front (cover and contents) is laid out once with placeholder page numbers, to learn
   its length, then again with the real numbers (and again, should the numbers change its
   length).
3. The folios ("Page N of M", edition, as-of date and build stamp) are laid out as a document
   of their own, one empty page per page, since no chunk can know its page numbers in advance.
4. The join (pikepdf) appends the chunks' pages, merges their structure trees and named
   destinations, rebuilds the outline from the bookmarks, and lays each folio over its page as a
   pagination artifact.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markupsafe import Markup

from generator.check.assess import Build
from generator.parallel import Pool
from generator.pdf.join import Bookmark, join
from generator.render.dates import show_date
from generator.render.site import SiteRenderer, templates_dir
from generator.render.summary import standing

#: Where the print HTML pretends to live, so relative URLs resolve into the theme's assets.
ASSETS = "assets"

#: The sections that open the body, before the key questions.
FRONT_SECTIONS = ("summary", "findings", "coverage")

#: About how much HTML goes into one chunk: some 60 A4 pages, a few hundred MB to lay out.
CHUNK_BYTES = 300_000


class FetchRefused(ValueError):
    """A resource outside the places the PDF may read from."""


@dataclass
class ConfinedFetcher:
    """Reads ``file:`` URLs inside the allowed folders, and nothing else.

    Every refusal is remembered, so a build can report what a record tried to reach.
    """

    roots: list[Path]
    refused: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> Path:
        """The file ``url`` names, if it may be read; otherwise raise FetchRefused."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"only files inside the portfolio may be read, not {url}")
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise FetchRefused(f"{path} is outside the portfolio and the theme's assets")
        return path

    def fetcher(self) -> Any:
        """A WeasyPrint URL fetcher bound to this policy."""
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        policy = self

        class _Fetcher(URLFetcher):  # type: ignore[misc]
            def fetch(self, url: str, headers: Any = None) -> Any:
                try:
                    path = policy.allowed(url)
                except FetchRefused:
                    policy.refused.append(url)
                    raise
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

        return _Fetcher(allowed_protocols={"file"}, allow_redirects=False)


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
    rows it holds; ``opens`` tells whether it begins its section, and ``title`` is the section's
    name for the running header of a chunk that starts inside it.
    """

    html: str
    section: str
    title: str
    opens: bool = False
    statement: str | None = None
    table: str | None = None


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

    def module(self, pages: dict[str, int] | None = None, placeholder: str = "") -> Any:
        """The template's macros, bound to this build (and to known page numbers)."""
        return self.template.make_module(
            {
                "pages": pages or {},
                "placeholder": placeholder,
                "checksums": self.build.checksums,
                "created": self.created,
                "stamp_line": stamp_line(self.build),
            }
        )

    def front(self, pages: dict[str, int], placeholder: str) -> Chunk:
        """The cover and the contents, with ``pages`` as its numbers (else ``placeholder``)."""
        macros = self.module(pages, placeholder)
        return self.document(macros, str(macros.front(self.placed_under, self.also_under)))

    def folios(self, folios: list[tuple[str, bool]]) -> str:
        """A document of empty pages that only carry their folios: (text, landscape) each."""
        macros = self.module()
        return str(macros.document("", Markup(""), macros.folios(folios)))

    def document(self, macros: Any, body: str) -> Chunk:
        """A whole HTML document around ``body``, with stand-ins for anchors it lacks."""
        own = frozenset(_ID.findall(body))
        names = sorted(set(_HREF.findall(body)) - own)
        if names:
            # Inside the first element, so that they start no page of their own.
            body = body.lstrip()
            cut = body.index(">") + 1
            body = body[:cut] + str(macros.elsewhere(names)) + body[cut:]
        return Chunk(str(macros.document("", self.style, Markup(body))), own)

    def parts(self) -> Iterator[Part]:
        """The body's parts, in reading order."""
        p = self.build.portfolio
        macros = self.module()
        yield from self._front_sections(macros)
        for kq in p.framework.key_questions:
            section = f"kq-{kq.slug}"
            yield Part(str(macros.key_question(kq)), section, kq.title, opens=True)
            for st in kq.statements:
                yield Part(
                    str(macros.statement(st, self.placed)), section, kq.title, statement=st.slug
                )
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
            yield Part(str(macros.appendix_title(kind)), kind, title, opens=True)
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

        def part(html: Any, table: str | None = None, opens: bool = False) -> Part:
            return Part(str(html), section, title, opens=opens, table=table)

        yield part(macros.standing_opening(s), opens=True)
        for concern in s.attention:
            yield part(macros.attention_row(concern), "attention")
        yield part(macros.overdue_opening(s))
        for concern, action in s.overdue:
            yield part(macros.overdue_row(concern, action), "overdue")
        yield part(macros.closed_opening(s))
        for concern in s.closed:
            yield part(macros.closed_row(concern), "closed")
        yield part(macros.outcomes_opening(s))
        for group in s.outcomes:
            yield part(macros.outcome_group(group))
            for line in group.lines:
                yield part(macros.outcome_row(line), "outcomes")
        section, title = "findings", "Findings: what the service has found and is acting on"
        yield part(macros.findings_opening(s), opens=True)
        for found in s.findings:
            yield part(macros.finding_section(found))
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

    def chunks(self, size: int = CHUNK_BYTES) -> list[Chunk]:
        """The body as whole HTML documents of about ``size`` bytes of parts each."""
        macros = self.module()
        groups: list[list[Part]] = [[]]
        filled = 0
        for part in self.parts():
            # Cut only where a new page starts anyway, or where a chunk is full.
            starts_page = part.opens and part.section.startswith(("kq-", "tracker", "register"))
            if groups[-1] and (filled >= size or (starts_page and filled >= size // 2)):
                groups.append([])
                filled = 0
            groups[-1].append(part)
            # Table rows cost about three times as much per byte to lay out, in time and memory.
            filled += len(part.html) * (3 if part.table else 1)
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


# --- laying out, in worker processes -----------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What every layout job shares: where files may be read from, and the PDF's identity."""

    roots: tuple[Path, ...]
    identifier: bytes
    tagged: bool = True


@dataclass(frozen=True)
class Job:
    """One document to lay out and write to ``out``."""

    html: str
    out: Path
    attachments: tuple[tuple[bytes, str, str, datetime], ...] = ()
    tagged: bool = True


@dataclass
class Laid:
    """What laying out one document told: its pages, anchors and bookmarks."""

    pages: int
    anchors: dict[str, int]  # anchor name -> page index, first occurrence
    bookmarks: list[tuple[int, str, int, float, float, bool]]  # level, label, page, x, y, closed
    heights: list[float]  # page heights in points
    refused: list[str]

    def keep(self, own: frozenset[str]) -> None:
        """Forget the anchors that are only stand-ins for anchors in other chunks."""
        self.anchors = {name: page for name, page in self.anchors.items() if name in own}


def lay_out(setup: Setup, job: Job) -> Laid:
    """Lay out one document with WeasyPrint and write its PDF to ``job.out``.

    The cyclic garbage collector is paused meanwhile: layout makes millions of objects, and
    collecting them as they come costs a fifth of the time for no saving in peak memory.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _lay_out(setup, job)
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def _lay_out(setup: Setup, job: Job) -> Laid:
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    theme = templates_dir()
    policy = ConfinedFetcher(list(setup.roots))
    fetcher = policy.fetcher()
    fonts = FontConfiguration()  # @font-face rules need one, shared by the CSS and the layout
    stylesheet = CSS(
        filename=str(theme / ASSETS / "print.css"), url_fetcher=fetcher, font_config=fonts
    )
    base = (theme / ASSETS / "portfolio.html").resolve().as_uri()
    options: dict[str, Any] = {
        "stylesheets": [stylesheet],
        "pdf_variant": "pdf/ua-1" if job.tagged else None,
        "pdf_identifier": setup.identifier,
        "attachments": [
            Attachment(string=data, name=name, description=text, created=when, modified=when)
            for data, name, text, when in job.attachments
        ],
        "custom_metadata": True,
    }
    html = HTML(string=job.html, base_url=base, url_fetcher=fetcher)
    document = html.render(font_config=fonts, **options)
    anchors: dict[str, int] = {}
    bookmarks = []
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
        for level, label, (x, y), state in page.bookmarks:
            top = page.height - y  # CSS pixels from the bottom
            bookmarks.append((level, label, index, x * 0.75, top * 0.75, state == "closed"))
    document.write_pdf(job.out, **options)
    return Laid(
        pages=len(document.pages),
        anchors=anchors,
        bookmarks=bookmarks,
        heights=[page.height * 0.75 for page in document.pages],
        refused=policy.refused,
    )


def _warm() -> None:
    import weasyprint  # noqa: F401  (imported once, before the workers fork)


def _lay_out_job(setup_job: tuple[Setup, Job]) -> Laid:
    return lay_out(*setup_job)


class Layouts:
    """Lays out jobs on worker processes (or in this one, with a single worker)."""

    def __init__(self, setup: Setup, workers: int) -> None:
        self.setup = setup
        self.workers = workers
        self.pool = Pool(workers, warm=_warm)

    def run(self, jobs: list[Job]) -> list[Laid]:
        """Lay out ``jobs``, the longest first, and return their results in order."""
        return self.pool.run(
            _lay_out_job, [(self.setup, job) for job in jobs], cost=lambda sj: len(sj[1].html)
        )

    def close(self) -> None:
        self.pool.close()


@dataclass
class RenderedPdf:
    """A rendered PDF: its bytes, page count, and the URLs the fetcher refused to read."""

    data: bytes
    pages: int
    refused: list[str]


def render_pdf(
    build: Build,
    embed_attachments: bool = False,
    workers: int = 1,
    chunk_bytes: int = CHUNK_BYTES,
) -> RenderedPdf:
    """Lay out the PDF portfolio of ``build``, in chunks over ``workers`` processes."""
    theme = templates_dir()
    setup = Setup(
        roots=((theme / ASSETS).resolve(), build.portfolio.root.resolve()),
        identifier=hashlib.sha256(f"{build.stamp}{build.as_of}".encode()).hexdigest()[:32].encode(),
    )
    attachments = _attachments(build) if embed_attachments else ()
    printed = PrintDocument(build)
    layouts = Layouts(setup, workers)
    with tempfile.TemporaryDirectory(prefix="portfolio-pdf-") as tmp:
        folder = Path(tmp)
        try:
            body = printed.chunks(chunk_bytes)
            # The front's length is not known until it is laid out: first with placeholders as
            # wide as the real numbers are likely to be, alongside the body.
            guess = "0" * len(str(max(10, sum(len(c.html) for c in body) // 4000)))
            front_doc = printed.front({}, guess)
            jobs = [Job(front_doc.html, folder / "front.pdf", attachments)]
            jobs += [Job(c.html, folder / f"body-{i:05d}.pdf") for i, c in enumerate(body)]
            laid = layouts.run(jobs)
            for result, chunk in zip(laid, [front_doc, *body], strict=True):
                result.keep(chunk.own)
            front, chunks = laid[0], laid[1:]
            # Then with the real numbers, beside the folios, which need only the page count.
            for _ in range(4):
                front_doc = printed.front(_numbers(front, chunks), "")
                heights = front.heights + [h for chunk in chunks for h in chunk.heights]
                folios = [
                    (f"Page {n} of {len(heights)}", h < 700) for n, h in enumerate(heights, 1)
                ]
                # A few hundred pages each, so that the join never holds many at once.
                share = min(-(-len(folios) // layouts.workers), 400)
                folio_jobs = [
                    Job(
                        printed.folios(folios[i : i + share]),
                        folder / f"folio-{i}.pdf",
                        tagged=False,
                    )
                    for i in range(0, len(folios), share)
                ]
                again = layouts.run([Job(front_doc.html, jobs[0].out, attachments), *folio_jobs])[0]
                again.keep(front_doc.own)
                settled, front = again.pages == front.pages, again
                if settled:
                    break
            else:
                raise RuntimeError("the contents' page numbers do not settle")
        finally:
            layouts.close()
        documents = [
            (job.out, result.pages) for job, result in zip(jobs, [front, *chunks], strict=True)
        ]
        owned = [front_doc.own, *(c.own for c in body)]
        marks = _bookmarks([front, *chunks])
        joined = folder / "portfolio.pdf"
        with joined.open("wb") as out:
            join(documents, owned, marks, [job.out for job in folio_jobs], out)
        data = joined.read_bytes()
    refused = sorted({url for result in [front, *chunks] for url in result.refused})
    return RenderedPdf(data, len(heights), refused)


def _bookmarks(laid: list[Laid]) -> list[Bookmark]:
    """Every chunk's bookmarks, on the pages of the joined document."""
    marks = []
    offset = 0
    for result in laid:
        for level, label, page, x, y, closed in result.bookmarks:
            marks.append(Bookmark(level, label, offset + page, x, y, closed))
        offset += result.pages
    return marks


def _numbers(front: Laid, chunks: list[Laid]) -> dict[str, int]:
    """The printed page number of every anchor, given the front's and the chunks' lengths."""
    numbers = {name: page + 1 for name, page in front.anchors.items()}
    offset = front.pages
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
