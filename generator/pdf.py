"""The PDF portfolio: one print document from the same build, laid out by WeasyPrint.

The print HTML is rendered with Jinja like the site, then handed to WeasyPrint with a URL
fetcher confined to the theme's own assets and the portfolio folder: nothing else on disk and
nothing on any network is ever read. The PDF is tagged (PDF/UA-1), carries title, author,
subject, keywords and language, and its dates come from the as-of date (or SOURCE_DATE_EPOCH)
so the same content gives the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markupsafe import Markup

from generator.build import Build
from generator.site import SiteRenderer, templates_dir

#: Where the print HTML pretends to live, so relative URLs resolve into the theme's assets.
ASSETS = "assets"


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
    """The page margin boxes' fixed texts: the service, the as-of date and the build stamp."""
    p = build.portfolio
    service = css_string(p.settings.service)
    edition = p.audience.capitalize()
    stamp = css_string(f"{edition} edition · as of {p.as_of.isoformat()} · build {build.stamp}")
    return f"@page {{ @top-left {{ content: {service}; }} @bottom-left {{ content: {stamp}; }} }}"


def print_html(build: Build) -> str:
    """The whole portfolio as one HTML document laid out for A4 print."""
    renderer = SiteRenderer(build, for_print=True)
    p = build.portfolio
    # Each concern is printed once, under the first statement it names.
    placed = {cid: slugs[0] for cid, slugs in p.statements_of.items() if slugs}
    placed_under: dict[str, list[Any]] = {}
    for concern in p.concerns.values():
        placed_under.setdefault(placed[concern.id], []).append(concern)
    template = renderer.env.get_template("pdf/portfolio.html")
    return template.render(
        page_path="portfolio.html",
        running_style=Markup(running_style(build)),  # built by css_string: safe in <style>
        placed=placed,
        placed_under=placed_under,
        coverage=renderer.coverage(),
        groups=renderer.findings_by_rule(),
        checksums=build.checksums,
        created=creation_date(build),
        decisions=[(r, d, i) for r in p.reviews.values() for i, d in enumerate(r.decisions)],
        rows=renderer.tracker_rows(),
    )


@dataclass
class RenderedPdf:
    """A rendered PDF: its bytes, page count, and the URLs the fetcher refused to read."""

    data: bytes
    pages: int
    refused: list[str]


def render_pdf(build: Build, embed_attachments: bool = False) -> RenderedPdf:
    """Lay out the PDF portfolio of ``build`` in memory."""
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration

    theme = templates_dir()
    policy = ConfinedFetcher([(theme / ASSETS).resolve(), build.portfolio.root.resolve()])
    fetcher = policy.fetcher()
    base = (theme / ASSETS / "portfolio.html").resolve().as_uri()
    html = HTML(string=print_html(build), base_url=base, url_fetcher=fetcher)
    fonts = FontConfiguration()  # @font-face rules need one, shared by the CSS and the layout
    stylesheet = CSS(
        filename=str(theme / ASSETS / "print.css"), url_fetcher=fetcher, font_config=fonts
    )
    attachments = []
    when = datetime.strptime(creation_date(build), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    if embed_attachments:
        for eid, path in sorted(build.portfolio.attachments.items()):
            if path.suffix.lower() == ".pdf":
                evidence = build.portfolio.evidence[eid]
                attachments.append(
                    Attachment(
                        string=path.read_bytes(),
                        name=f"{eid}-{path.name}",
                        description=evidence.title,
                        created=when,
                        modified=when,
                    )
                )
    identifier = hashlib.sha256(f"{build.stamp}{build.as_of}".encode()).hexdigest()[:32]
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    options: dict[str, Any] = {
        "stylesheets": [stylesheet],
        "pdf_variant": "pdf/ua-1",
        "pdf_identifier": identifier.encode(),
        "attachments": attachments,
        "custom_metadata": True,
    }
    # As HTML.write_pdf does, in two steps so the page count is known.
    document = html.render(font_config=fonts, **options)
    data = document.write_pdf(**options)
    return RenderedPdf(bytes(data), len(document.pages), policy.refused)
