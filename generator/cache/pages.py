"""The build cache around the render stage: a page is rendered again only when what it read
has changed.

As a page renders, the renderer records the facts it reads (generator.render.reads): which
records, fields of the build's indexes, statuses, findings and paths. The cache keeps each
page with its facts and a key: the hash of the facts' values then and of what every page
shows. A later build works the key out again from the same facts' values now; when it holds,
the page would render to the same bytes, so it comes from the cache. Nothing here knows what
any template prints: a template that starts printing something reads it, and the page's
facts say so.

Pages are kept with a placeholder where the build stamp goes (the stamp changes with any
change) and the stamp is put in as they are written.
"""

from __future__ import annotations

from typing import NamedTuple

from generator.cache.store import BuildCache
from generator.digest import content_key
from generator.render.markdown import COPIED_FILES
from generator.render.reads import ALL, Fact, Values
from generator.render.site import PageJob, Rendered, SiteFiles, SiteRenderer


class CachedPages:
    """What the cache holds of one build's pages: which need rendering, and keeping the rest."""

    def __init__(self, cache: BuildCache, renderer: SiteRenderer) -> None:
        self.cache = cache
        self.values = Values(renderer.sources, renderer.given.portfolio)
        self.everywhere = content_key("site", *renderer.shown_everywhere())
        self.root = renderer.portfolio.root.resolve()
        self._facts: dict[Fact, Fact] = {}  # one object for each fact, so the index holds it once

    def key(self, job: PageJob, facts: tuple[Fact, ...]) -> bytes:
        """The key of a page that read ``facts``: their values in this build."""
        of = self.values.of
        return content_key(self.everywhere, job.path, job.template, [of(f) for f in facts])

    def todo(self, jobs: list[PageJob], files: SiteFiles) -> list[PageJob]:
        """The jobs whose pages the cache does not hold as they would render now; the pages it
        holds go into ``files.kept`` (with the files they copy into ``files.copies``)."""
        todo = []
        for job in jobs:
            facts = self.cache.page_facts(job.path)
            found = None if facts is None else self.cache.page(job.path, self.key(job, facts))
            if found is None:
                todo.append(job)
                continue
            files.kept[job.path], kept_copies = found
            for site_path in kept_copies:  # COPIED_FILES and the file's path in the portfolio
                files.copies[site_path] = self.root / site_path.removeprefix(COPIED_FILES)
        self.cache.rendered += len(todo)
        self.cache.reused += len(jobs) - len(todo)
        return todo

    def kept(self, job: PageJob, rendered: Rendered) -> Kept | None:
        """The facts a page rendered now read and its key, when the cache can keep it (worked
        out where the page was rendered: in a worker, the values it needs are its own)."""
        if not rendered.keepable or not all(_plain(key) for _, key in rendered.facts):
            return None
        facts = tuple(rendered.facts)
        return Kept(facts, self.key(job, facts))

    def keep(self, job: PageJob, rendered: Rendered, kept: Kept, compressed: bool) -> None:
        """Keep a page rendered now (with the stamp's placeholder; ``compressed`` already, or
        not) for the next build, with the facts it read and its key."""
        facts = tuple([self._facts.setdefault(f, f) for f in kept.facts])
        data, copies = rendered.data, rendered.copies
        self.cache.keep_page(job.path, kept.key, data, copies, facts, compressed)


class Kept(NamedTuple):
    """What the cache keeps beside a page: the facts it read, in order, and its key."""

    facts: tuple[Fact, ...]
    key: bytes


def _plain(key: object) -> bool:
    """Whether the cache's index can hold a fact's key (it holds plain data only)."""
    return type(key) is str or key == ALL or key is None
