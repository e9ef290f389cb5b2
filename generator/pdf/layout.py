"""Laying out one document of the PDF with WeasyPrint, in the processes that do it.

This is what a layout worker needs, and all it needs (it starts before the portfolio is
loaded, so of the stages it imports only where the theme is): a :class:`Typesetter` made once
in each process (the theme's fonts and the print stylesheet), :func:`lay_out` to turn one
:class:`Job`'s HTML into a PDF written to disk and a :class:`Laid` telling its pages, anchors,
bookmarks and where the contents' page numbers go, the URL fetcher that confines what a
document may read, and :class:`Layouts`, the worker processes themselves. What the documents
are, and how they are joined, is :mod:`generator.pdf.document`'s business.
"""

from __future__ import annotations

import gc
import logging
import mimetypes
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from generator.parallel import Pool, WorkerFailed
from generator.pdf.engine import PdfEngineMissing, engine_problem, require_engine
from generator.pdf.join import prepare
from generator.render.theme import templates_dir

#: Where the print HTML pretends to live, so relative URLs resolve into the theme's assets.
ASSETS = "assets"

#: The class of the empty box a contents entry keeps for its page number, which the join draws.
TOC_ENTRY = "toc"

#: The layout cost model (:func:`layout_cost`): seconds of one core, roughly, fitted to
#: chunks of the sample portfolio and of synthetic ones. A document costs a third of a second
#: before it holds anything (stylesheet, fonts, writing the PDF); text, table rows (laid out
#: cell by cell, avoiding breaks inside) and the shapes of charts add to that.
DOCUMENT_COST = 0.35
TEXT_COST = 0.06 / 1000  # per character of text
ROW_COST = 0.025  # per table row
SHAPE_COST = 0.003  # per SVG shape of a chart
ENTRY_COST = 0.002  # per contents entry (a block; its leader and number are drawn by the join)

_TAG = re.compile(r"<[^>]*>")
_SHAPE = re.compile(r"<(?:path|line|polyline|polygon|circle|rect|text)\b")


def layout_cost(html: str) -> float:
    """About how many seconds one core takes to lay out ``html`` as part of a document."""
    text = len(_TAG.sub("", html)) * TEXT_COST
    shapes = len(_SHAPE.findall(html)) * SHAPE_COST
    entries = html.count(f'class="{TOC_ENTRY}"') * ENTRY_COST
    return text + html.count("<tr") * ROW_COST + shapes + entries


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


@dataclass(frozen=True)
class Setup:
    """What every layout job shares: where files may be read from, and the PDF's identity."""

    roots: tuple[Path, ...]
    identifier: bytes
    tagged: bool = True


@dataclass(frozen=True)
class Job:
    """One document to lay out and write to ``out``, prepared for the join (see join.prepare);
    ``reusable`` when it shows nothing that changes from build to build (the cover names the
    build, and carries the attachments); ``front`` for the document whose catalog the PDF
    takes; without ``for_join``, the PDF is left as WeasyPrint wrote it."""

    html: str
    out: Path
    attachments: tuple[tuple[bytes, str, str, datetime], ...] = ()
    tagged: bool = True
    reusable: bool = True
    front: bool = False
    for_join: bool = True
    numbered: bool = False  # the contents: where its page numbers go is told (Laid.numbers)


#: Where a contents entry's page number goes: page index, the anchor it gives the page of; in
#: PDF units from the page's bottom left, the right edge of the number, the left edge of the
#: column kept for it, where the entry's text ends and its last line's baseline; the size of
#: its text (points); whether bold; and its colour (red, green, blue, from 0 to 1).
Number = tuple[int, str, tuple[float, float, float, float], float, bool, tuple[float, float, float]]


@dataclass
class Laid:
    """What laying out one document told: its pages, anchors and bookmarks, and where the
    numbers the join draws go."""

    pages: int
    anchors: dict[str, int]  # anchor name -> page index, first occurrence
    bookmarks: list[tuple[int, str, int, float, float, bool]]  # level, label, page, x, y, closed
    refused: list[str]
    numbers: list[Number] = field(default_factory=list)

    def keep(self, own: frozenset[str]) -> Laid:
        """This layout without the anchors that are only stand-ins for anchors in other
        chunks."""
        return replace(self, anchors={n: p for n, p in self.anchors.items() if n in own})

    def plain(self) -> tuple[Any, ...]:
        """This layout as plain data (tuples, lists, dicts, strings and numbers)."""
        return (
            self.pages,
            dict(self.anchors),
            list(self.bookmarks),
            list(self.refused),
            list(self.numbers),
        )

    @classmethod
    def from_plain(cls, data: object) -> Laid | None:
        """The layout :meth:`plain` gave as ``data``; None when ``data`` is not one."""
        if not (isinstance(data, tuple) and len(data) == 5):
            return None
        pages, anchors, bookmarks, refused, numbers = data
        if not (
            isinstance(pages, int)
            and isinstance(anchors, dict)
            and all(isinstance(k, str) and isinstance(v, int) for k, v in anchors.items())
            and isinstance(bookmarks, list)
            and all(_shaped(b, _BOOKMARK) for b in bookmarks)
            and isinstance(refused, list)
            and all(isinstance(url, str) for url in refused)
            and isinstance(numbers, list)
            and all(_shaped(n, _NUMBER) for n in numbers)
        ):
            return None
        return cls(pages, dict(anchors), list(bookmarks), list(refused), list(numbers))


#: The shapes of a bookmark and of a contents entry's number in plain data (see
#: :func:`_shaped`): (level, label, page, x, y, closed) and :data:`Number`.
_BOOKMARK: list[Any] = [int, str, int, float, float, bool]
_NUMBER: list[Any] = [int, str, [float] * 4, float, bool, [float] * 3]


def _shaped(value: object, shape: type | list[Any]) -> bool:
    """Whether plain ``value`` has ``shape``: a list of shapes is a tuple of as many items,
    each of its shape; ``float`` is any number but a bool; another type, an instance of it."""
    if isinstance(shape, list):
        return (
            isinstance(value, tuple)
            and len(value) == len(shape)
            and all(_shaped(item, kind) for item, kind in zip(value, shape, strict=True))
        )
    if shape is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, shape)


class Reuse(Protocol):
    """Documents laid out before, found again by what they show."""

    def find(self, job: Job) -> Any:
        """What laying out ``job``'s document told before (as :meth:`Laid.plain` gave it), its
        PDF written to ``job.out``; None when there is none."""

    def keep(self, job: Job, told: Any) -> None:
        """Remember what laying out ``job``'s document just told (as :meth:`Laid.plain` gives
        it); its PDF is at ``job.out``."""


class Typesetter:
    """What every document a process lays out uses, made once in that process: WeasyPrint's
    font configuration (the theme's @font-face fonts, loaded and shaped once rather than for
    each chunk) and the print stylesheet, read with a fetcher confined to the theme's assets.

    Laying out with one does not change a document's bytes (a chunk laid out after others is
    byte for byte the chunk laid out alone), but it is not for two threads at once.
    """

    def __init__(self) -> None:
        require_engine()  # raises, rather than WeasyPrint printing its notice again
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        assets = (templates_dir() / ASSETS).resolve()
        self.fonts = FontConfiguration()  # shared by the stylesheet and every layout
        self.stylesheet = CSS(
            filename=str(assets / "print.css"),
            url_fetcher=ConfinedFetcher([assets]).fetcher(),
            font_config=self.fonts,
        )


def lay_out(setup: Setup, job: Job, typesetter: Typesetter | None = None) -> Laid:
    """Lay out one document with WeasyPrint and write its PDF to ``job.out``, with
    ``typesetter``'s fonts and stylesheet (else a typesetter of its own).

    The cyclic garbage collector is paused meanwhile: layout makes millions of objects, and
    collecting them as they come costs a fifth of the time for no saving in peak memory.
    """
    typesetter = typesetter or Typesetter()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _lay_out(setup, job, typesetter)
    finally:
        if enabled:
            gc.enable()
        gc.collect()


def _lay_out(setup: Setup, job: Job, typesetter: Typesetter) -> Laid:
    from weasyprint import HTML, Attachment

    theme = templates_dir()
    policy = ConfinedFetcher(list(setup.roots))
    fetcher = policy.fetcher()
    fonts = typesetter.fonts
    base = (theme / ASSETS / "portfolio.html").resolve().as_uri()
    options: dict[str, Any] = {
        "stylesheets": [typesetter.stylesheet],
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
    numbers = _number_boxes(document) if job.numbered else []
    document.write_pdf(job.out, **options)
    pages = len(document.pages)
    del document, html
    if job.for_join:  # prepared here, in the worker, rather than by the join, alone, afterwards
        job.out.write_bytes(prepare(job.out, job.front, job.numbered))
    return Laid(pages, anchors, bookmarks, policy.refused, numbers)


def _number_boxes(document: Any) -> list[Number]:
    """Where the page numbers of the contents go, and their dot leaders, in PDF units.

    Each entry is a block (``a.toc``) whose right padding keeps a column for its number: the
    number is drawn right-aligned in that padding, on the baseline of the entry's last line, in
    its size, weight and colour; the leader fills the space between the text and the column.
    An entry split over two pages has its number on the second.
    """
    last: dict[int, Number] = {}
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = box.element
            if box.element_tag != "a" or element is None or element.get("class") != TOC_ENTRY:
                continue
            lines = [
                child for child in box.children if child.children and child.is_in_normal_flow()
            ]
            if not lines:
                continue
            line = lines[-1]
            text_end = max(child.position_x + child.margin_width() for child in line.children)
            right = box.padding_box_x() + box.padding_width()
            column = box.content_box_x() + box.width
            baseline = line.position_y + line.baseline
            style = box.style
            red, green, blue = style["color"].to("srgb").coordinates
            place = (right * 0.75, column * 0.75, text_end * 0.75, (page.height - baseline) * 0.75)
            last[id(element)] = (
                index,
                (element.get("href") or "#")[1:],
                place,
                float(style["font_size"]) * 0.75,
                int(style["font_weight"]) >= 600,
                (float(red), float(green), float(blue)),
            )
    return list(last.values())


#: What a worker lays out as it starts, so that its first chunk does not pay for what
#: WeasyPrint does once in a process (reading the fonts, preparing its C bindings' types).
_WARM_HTML = (
    '<!DOCTYPE html><html lang="en-GB"><body><h1 class="front">Warm</h1>'
    "<p>Text <strong>bold</strong> <em>italic <strong>both</strong></em> 1 Jan 2026</p>"
    '<nav class="contents"><ol><li><a class="toc" href="#w">Entry</a></li></ol></nav>'
    '<table class="grid"><thead><tr><th>Head</th></tr></thead><tbody><tr id="w"><td>Cell</td>'
    '</tr></tbody></table><div class="chart"><svg viewBox="0 0 10 10" role="img">'
    '<path d="M0 0L10 10" stroke="#000"/><text x="1" y="5">1</text></svg></div></body></html>'
)


def _warm_typesetter(typesetter: Typesetter) -> None:
    """Lay out a small document with ``typesetter`` as a worker starts, and forget it, so that
    its first chunk does not pay for what WeasyPrint does once in a process."""
    theme = templates_dir()
    setup = Setup(roots=((theme / ASSETS).resolve(),), identifier=b"0" * 32)
    with tempfile.TemporaryDirectory(prefix="portfolio-warm-") as tmp:
        try:
            lay_out(setup, Job(_WARM_HTML, Path(tmp) / "warm.pdf"), typesetter)
        except Exception:  # only a warm-up: the real chunks will say what is wrong
            logging.getLogger(__name__).debug("warming a layout worker failed", exc_info=True)


def _lay_out_job(typesetter: Typesetter, setup_job: tuple[Setup, Job]) -> Laid:
    return lay_out(*setup_job, typesetter)


class Layouts:
    """The processes that lay out the PDF's documents, taking what ``reuse`` holds of them
    from it instead.

    With several workers, the first starts as this is made: it finds out whether WeasyPrint
    loads here (:meth:`problem`) and forks the others; each loads the fonts and stylesheet and
    lays out a small document, while this process goes on loading the portfolio and writing
    the print HTML. :meth:`close` lets them go (also when no PDF was made after all).
    """

    def __init__(self, workers: int) -> None:
        self.pool = Pool(workers, Typesetter, warm_each=_warm_typesetter, ask=engine_problem)
        self.laid_out = 0  # documents laid out (not reused)
        self.reused = 0

    def problem(self) -> str | None:
        """Why the PDF cannot be made here (WeasyPrint or Pango missing), or None."""
        try:
            answer = self.pool.answer()
        except WorkerFailed as failed:  # the worker that loads WeasyPrint failed or crashed
            last = next((line for line in reversed(str(failed).splitlines()) if line), "")
            return f"WeasyPrint, which makes the PDF, could not be loaded ({last.strip()})"
        return answer if isinstance(answer, str) else None

    def run(self, setup: Setup, jobs: list[Job], reuse: Reuse | None = None) -> list[Laid]:
        """Lay out ``jobs``, the costliest first, and return their results in order; raise
        :class:`PdfEngineMissing` when they cannot be laid out here."""
        found = [
            Laid.from_plain(reuse.find(job)) if reuse and job.reusable else None for job in jobs
        ]
        todo = [index for index, laid in enumerate(found) if laid is None]
        problem = self.problem() if todo else None
        if problem is not None:
            raise PdfEngineMissing(problem)
        made = self.pool.run(
            _lay_out_job,
            [(setup, jobs[index]) for index in todo],
            cost=lambda sj: DOCUMENT_COST + layout_cost(sj[1].html),
        )
        for index, laid in zip(todo, made, strict=True):
            found[index] = laid
            if reuse is not None and jobs[index].reusable:
                reuse.keep(jobs[index], laid.plain())
        self.laid_out += len(todo)
        self.reused += len(jobs) - len(todo)
        return [laid for laid in found if laid is not None]

    def close(self) -> None:
        self.pool.close()
