"""The orchestrator: every command that reads a portfolio runs its stages from here.

    load -> check -> render (site, PDF, reports) -> write

Stages offer work one item at a time and know nothing of caches or processes. Around them, this
module decides what needs doing: the build cache (generator.cache) says which record files must
be parsed and which pages rendered, the rest comes from it; the work left is shared by
``workers`` processes through generator.parallel. ``build``, ``check``, ``serve``, the reports
and the export all come through here, so they follow the same rules.
"""

from __future__ import annotations

import gc
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from generator.cache.inputs import Inputs, default_cache_dir, scan_inputs
from generator.cache.store import BuildCache
from generator.check.privacy import Scanned, reader_of, scan_bytes, scan_key
from generator.errors import PortfolioError, Problem, Problems
from generator.load.sources import record_kind
from generator.output.write import (
    PDF_NAME,
    Staging,
    built_with,
    check_output,
    check_pdf_beside,
    write_file,
)
from generator.parallel import collector_paused, fork_map

# The stages are imported by the functions that run them, not with this module: a build that
# finds its output up to date (the commonest build of all) then reads none of them, and starts
# in a fraction of the time.
if TYPE_CHECKING:
    from generator.cache.pages import CachedPages, Kept
    from generator.check.assess import Build
    from generator.check.report import CheckResult
    from generator.load.records import Read, RecordFile
    from generator.pdf.document import RenderedPdf
    from generator.pdf.layout import Layouts
    from generator.render.site import PageJob, SiteFiles, SiteRenderer

PARALLEL_READ_FROM = 200  # record files to parse; below this, a worker costs more than it saves
PARALLEL_RENDER_FROM = 300  # pages; below this, starting workers costs more than it saves

# --- load and check ----------------------------------------------------------------------------


def load(
    root: Path,
    as_of: date | None = None,
    *,
    workers: int = 1,
    cache: BuildCache | None = None,
    inputs: Inputs | None = None,
    scanned: Scanned | None = None,
    on_stamp: Callable[[str], None] | None = None,
) -> Build:
    """Read, validate, link and check the portfolio at ``root``; raise every user error together.

    With a ``cache`` (and the ``inputs`` hashed for it), a record file whose bytes are as they
    were when it was cached is not parsed again; files parsed now are cached. ``scanned`` holds
    what the privacy scan found in files read before (by the SHA-256 of their bytes).
    ``on_stamp`` is called with the build stamp as soon as it is known, before the checks run.
    """
    from generator.cache.records import cached, keep
    from generator.check.assess import assess
    from generator.check.privacy import ScanMemo, scan_decoded
    from generator.load.portfolio import assemble, attachment_digests, fingerprint, open_portfolio
    from generator.load.records import read_record

    problems = Problems()
    opened = open_portfolio(root, problems)
    reads: list[Read | None] = []
    todo: list[int] = []
    for index, job in enumerate(opened.files):
        digest = inputs.files.get(job.rel) if inputs is not None else None
        found = cached(cache, job, digest) if cache is not None else None
        reads.append(found)
        if found is None:
            todo.append(index)
    seen: Scanned = cache.scans() if cache is not None else {}
    seen.update(scanned or {})

    def parse(job: RecordFile) -> tuple[Read, list[Problem], Scanned]:
        # Record files are scanned for personal identifiers as they are read, so the check
        # that does so need not read them again.
        found, scans = Problems(), {}

        def scan(text: str, digest: bytes) -> None:
            scans[digest] = scan_decoded(job.rel, text)

        return read_record(job, found, scan), found.items, scans

    jobs = [opened.files[index] for index in todo]
    parsed = fork_map(jobs, parse, workers, here=True, least=PARALLEL_READ_FROM)
    for index, (read, found_now, scans_now) in zip(todo, parsed, strict=True):
        problems.extend(found_now)
        seen.update(scans_now)
        reads[index] = read
        if cache is not None:
            keep(cache, opened.files[index], read)
    portfolio, sources = assemble(opened, [r for r in reads if r is not None], as_of, problems)
    checksums = attachment_digests(portfolio, inputs.digest_of if inputs is not None else None)
    stamp = fingerprint(sources, checksums)
    if on_stamp is not None:
        on_stamp(stamp)
    memo = ScanMemo(seen)
    built = assess(portfolio, stamp, checksums, memo)
    if cache is not None:
        cache.keep_scans(memo.now)
    return built


def check(path: Path, as_of: date | None = None, workers: int = 1) -> CheckResult:
    """Load the portfolio and run every assurance check; errors are returned, not raised."""
    from generator.check.report import CheckResult

    with collector_paused():
        try:
            return CheckResult([], load(path, as_of, workers=workers))
        except PortfolioError as exc:
            return CheckResult(exc.problems, None)


def shared(
    path: Path, as_of: date | None = None, audience: str | None = None, workers: int = 1
) -> Build:
    """The portfolio as ``audience`` (else portfolio.yaml's) may see it, once the privacy guard
    has passed."""
    from generator.check.audience import shared_view

    return shared_view(load(path, as_of, workers=workers), audience)


# --- render --------------------------------------------------------------------------------------


def render_site(
    build: Build,
    *,
    with_pdf: bool = False,
    workers: int = 1,
    cache: BuildCache | None = None,
    staging: Staging | None = None,
) -> SiteFiles:
    """Render the whole site for a build; ``with_pdf`` links the PDF portfolio beside it.

    With a build ``cache``, a page whose key is unchanged comes from it, and what is rendered
    now is kept in it. With a ``staging`` folder that can be written now, pages are written into
    it as they are rendered (by the workers, where there are several), and the files to copy
    are copied while the pages render.
    """
    from jinja2 import FileSystemBytecodeCache

    from generator.cache.pages import CachedPages
    from generator.render.site import SiteFiles, SiteRenderer

    renderer = SiteRenderer(build, with_pdf=with_pdf)
    files = SiteFiles()
    writer = staging if staging is not None and staging.can_write_now else None
    memo = cache.memo if cache is not None else None
    pages = CachedPages(cache, renderer) if cache is not None else None
    if cache is not None:  # compiled templates are kept too
        renderer.use_bytecode_cache(FileSystemBytecodeCache(str(cache.templates())))
    files.copies.update(renderer.copies())
    last: list[PageJob] = []

    def meanwhile() -> None:
        # The downloads and the search index are made while the pages render.
        exports = renderer.downloads(memo)
        made = {**exports, "assets/search-index.js": renderer.search_index(memo)}
        if writer is None:
            files.pages.update(made)
        else:
            for name, data in made.items():
                writer.write_now(name, data)
            files.written.update(made)
            writer.copy_now(files.copies)
        last.append(renderer.downloads_job(exports))

    _render_pages(renderer, renderer.jobs(), files, pages, writer, workers, meanwhile)
    _render_pages(renderer, last, files, pages, writer, 1)  # lists what was just made
    return files


def _render_pages(
    renderer: SiteRenderer,
    jobs: list[PageJob],
    files: SiteFiles,
    pages: CachedPages | None,
    writer: Staging | None,
    workers: int,
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Render ``jobs`` that the cache does not hold, on ``workers`` processes when worth it."""
    from generator.render.site import Rendered, StampToken
    from generator.render.theme import STAMP_TOKEN

    todo = pages.todo(jobs, files) if pages is not None else jobs
    token = StampToken(STAMP_TOKEN) if pages is not None else None
    stamp = renderer.build.stamp.encode()
    placeholder = STAMP_TOKEN.encode()

    def render(job: PageJob) -> tuple[Rendered, Kept | None]:
        rendered = renderer.render(job, token)
        # What the cache keeps of the page is worked out here too, on the worker that made it.
        kept = pages.kept(job, rendered) if pages is not None else None
        if writer is None:
            return rendered, kept
        # Written now, where it was rendered; what comes back is what the cache keeps.
        data, copies, keep, facts = rendered
        writer.write_now(job.path, data.replace(placeholder, stamp) if keep else data)
        packed = zlib.compress(data, 1) if token is not None and keep else b""
        return Rendered(packed, copies, keep, facts), kept

    if len(todo) >= PARALLEL_RENDER_FROM:
        renderer.compile(job.template for job in todo)  # once, here, not in every worker
    done = fork_map(todo, render, workers, meanwhile=meanwhile, least=PARALLEL_RENDER_FROM)
    for job, (rendered, kept) in zip(todo, done, strict=True):
        files.copies.update(rendered.copies)
        if writer is not None:
            files.written.add(job.path)
        elif token is None or not rendered.keepable:
            files.pages[job.path] = rendered.data
        else:
            files.pages[job.path] = rendered.data.replace(placeholder, stamp)
        if pages is not None and kept is not None:
            pages.keep(job, rendered, kept, compressed=writer is not None)


# --- the build command ---------------------------------------------------------------------------


@dataclass
class BuildOptions:
    """What ``portfolio build`` was asked for."""

    path: Path
    out: Path
    as_of: date | None = None
    audience: str | None = None
    pdf: bool = True
    pdf_only: bool = False
    embed_attachments: bool = False
    force: bool = False
    cache_dir: Path | None = None
    use_cache: bool = True
    workers: int = 1


@dataclass
class Built:
    """What a build did, for the command line to report."""

    build: Build | None = None  # None: the output was up to date
    site_pages: int = 0
    rendered: int = 0
    reused: int = 0
    pdf: RenderedPdf | None = None
    pdf_seconds: float = 0.0
    #: Why the PDF asked for was not made (WeasyPrint or Pango missing); the rest was built.
    pdf_missing: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def build(options: BuildOptions) -> Built:
    """Build the site and the PDF (or either) of a portfolio into ``options.out``.

    An output whose inputs are all as they were when it was built is left alone (unless
    ``force``). Only what changed is parsed and rendered again, with the build cache; the
    result is the same, byte for byte, as a build from nothing.
    """
    started = time.perf_counter()
    out, path = options.out, options.path
    check_output(out)
    cache_dir = options.cache_dir or default_cache_dir(out)
    result = Built()
    inputs: Inputs | None = None
    scanned: Scanned = {}
    if not options.pdf_only and path.is_dir():
        chosen = {
            "as_of": options.as_of,
            "audience": options.audience,
            "pdf": options.pdf,
            "embed": options.embed_attachments,
        }

        def scans(rel: str) -> bool:
            # Files that could be attachments and hold text are scanned for personal
            # identifiers as they are hashed (records are scanned as they are parsed).
            # Workbooks are not: reading their cells takes far longer than reading the file,
            # so only those attached are read, by the check.
            reader = reader_of(rel)
            return reader is not None and reader != "xlsx" and record_kind(rel) is None

        def scan_attachment(rel: str, data: bytes, digest: bytes) -> None:
            key = scan_key(rel, digest)
            if key is not None:
                scanned[key] = scan_bytes(rel, data)

        inputs = scan_inputs(
            path,
            chosen,
            out,
            cache_dir,
            remember=options.use_cache,
            on_read=scan_attachment,
            wants=scans,
        )
        if not options.force and built_with(out) == inputs.key:
            result.seconds = time.perf_counter() - started
            return result
    # Out of date. The PDF's workers start first: they find out whether the PDF can be made
    # here, load WeasyPrint and the fonts, while this process loads the stages and the portfolio.
    # (A build without the PDF does not import its modules at all.)
    layouts: Layouts | None = None
    if options.pdf:
        from generator.pdf.layout import Layouts

        layouts = Layouts(options.workers)
    cache: BuildCache | None = None
    staging: Staging | None = None
    try:
        from generator.check.audience import shared_view
        from generator.render.site import SiteFiles

        key = inputs.key if inputs is not None else None
        if inputs is not None and options.use_cache:
            cache, note = BuildCache.open(cache_dir, inputs.code, built_with(out))
            if note:
                result.notes.append(note)

        def write_early(stamp: str) -> None:
            # Most pages will be as the cache holds them: write them while the checks run.
            nonlocal staging
            kept = cache.kept_pages() if cache is not None and not options.pdf_only else None
            if kept:
                staging = Staging(out)
                staging.write_early(kept, stamp)

        with collector_paused():
            try:
                loaded = load(
                    path,
                    options.as_of,
                    workers=options.workers,
                    cache=cache,
                    inputs=inputs,
                    scanned=scanned,
                    on_stamp=write_early,
                )
                loaded = shared_view(loaded, options.audience)
            finally:
                gc.freeze()
        result.build = loaded
        if options.pdf_only:
            check_pdf_beside(out, loaded.portfolio.audience)
        if layouts is not None and not options.pdf_only:  # the site links the PDF, or not
            result.pdf_missing = layouts.problem()
        make_pdf = layouts is not None and result.pdf_missing is None
        # An output made without the PDF asked for is not the output asked for: its marker
        # says so, and the next build makes it again (with the PDF, once it can be made).
        if key is not None and options.pdf and not make_pdf:
            key = f"{key}-without-pdf"
        files = SiteFiles()
        if not options.pdf_only:
            staging = staging or Staging(out)
            files = render_site(
                loaded,
                with_pdf=make_pdf,
                workers=options.workers,
                cache=cache,
                staging=staging,
            )
        result.site_pages = sum(1 for name in files.names() if name.endswith(".html"))
        if make_pdf:
            from generator.cache.pdf import CachedPdf
            from generator.pdf.document import render_pdf

            pdf_started = time.perf_counter()
            # With the cache, only the chunks whose content changed are laid out again.
            reuse = CachedPdf(cache) if cache is not None else None
            result.pdf = render_pdf(loaded, options.embed_attachments, reuse=reuse, layouts=layouts)
            result.pdf_seconds = time.perf_counter() - pdf_started
            if options.pdf_only:
                write_file(out, PDF_NAME, result.pdf.data)
            else:
                files.pages[PDF_NAME] = result.pdf.data
        if not options.pdf_only:
            links = None
            if cache is not None and inputs is not None:
                links = cache.links(files.copies, out, inputs.digest_of)
            staging = staging or Staging(out)
            staging.finish(files, loaded.stamp, key, links, loaded.portfolio.audience)
            if cache is not None and inputs is not None:
                try:
                    cache.remember_copies(files.copies, out, inputs.digest_of)
                    cache.save(key or inputs.key)
                except OSError as exc:
                    result.notes.append(
                        f"the build cache {cache_dir.as_posix()} could not be written "
                        f"({exc.strerror or exc}); the next build will do everything"
                    )
    finally:
        if layouts is not None:
            layouts.close()  # when the build stopped before the PDF let them go
        gc.unfreeze()
        if staging is not None:
            staging.abort()  # when the build stopped before the new output was swapped in
            staging.settle()  # the old output, removed while the cache was saved
        if cache is not None:
            cache.close()
    if cache is not None:
        result.rendered, result.reused = cache.rendered, cache.reused
    result.seconds = time.perf_counter() - started
    return result


# --- what is handed over -------------------------------------------------------------------------


def commissioner_report(
    path: Path, since: date | None, as_of: date | None, output: str, workers: int = 1
) -> tuple[Build, bytes, list[str]]:
    """The commissioner update as HTML or PDF bytes, with the view it was made from and
    warnings for the reader of the command line.

    An update with no concern in it is an error: it would tell commissioners nothing.
    """
    from generator.pdf.report import render_report_pdf
    from generator.render.reports import commissioner_html

    shown = shared(path, as_of, "commissioner", workers)
    p = shown.portfolio
    if not p.concerns:
        raise PortfolioError(
            [
                Problem(
                    f"{p.display_root}/portfolio.yaml",
                    0,
                    "no concern is shared with commissioners, so the update would be empty: "
                    "add 'visibility: commissioner' to each concern (and its evidence) that "
                    "commissioners should see, or set 'default_visibility: commissioner' here",
                )
            ]
        )
    warnings = [
        f"{p.sources[cid].display}: {cid} is shared with commissioners but cites no evidence "
        "they may see: add 'visibility: commissioner' to the evidence that shows its outcome"
        for cid in p.concerns
        if not p.evidence_of_concern.get(cid)
    ]
    html = commissioner_html(shown, since)
    data = render_report_pdf(shown, html) if output == "pdf" else html.encode("utf-8")
    return shown, data, warnings


def action_plan(
    path: Path, audience: str | None, as_of: date | None, output: str, workers: int = 1
) -> tuple[Build, bytes]:
    """The action plan as XLSX, CSV or PDF bytes, with the view it was made from."""
    from generator.pdf.report import render_report_pdf
    from generator.render.reports import action_plan as action_plan_file
    from generator.render.reports import action_plan_html

    shown = shared(path, as_of, audience, workers)
    if output == "pdf":
        return shown, render_report_pdf(shown, action_plan_html(shown))
    return shown, action_plan_file(shown, output)


def inspection_folder(path: Path, as_of: date | None, workers: int = 1) -> tuple[Build, SiteFiles]:
    """Every file of the inspection evidence folder, with the view it was made from."""
    from generator.output.inspection import evidence_folder
    from generator.pdf.document import render_pdf

    shown = shared(path, as_of, "inspection", workers)
    pdf = render_pdf(shown, workers=workers)
    return shown, evidence_folder(shown, pdf.data, render_site(shown))


def preview(source: Path, out: Path) -> None:
    """Build the site of ``source`` into ``out`` for the preview server: one process (forking
    beside the server's threads is not safe) and no PDF."""
    from generator.output.write import write_site

    loaded = load(source)
    write_site(render_site(loaded), out, loaded.stamp, audience=loaded.portfolio.audience)
