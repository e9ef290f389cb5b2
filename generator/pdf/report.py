"""Reports (the commissioner update, the action plan) as PDF files."""

from __future__ import annotations

import logging
from typing import Any

from generator.check.assess import Build
from generator.pdf.layout import ASSETS, ConfinedFetcher
from generator.render.theme import templates_dir


def render_report_pdf(build: Build, html: str) -> bytes:
    """A report's HTML as a PDF, fetching nothing but the theme's fonts."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # screen-only CSS is ignored
    theme = templates_dir()
    policy = ConfinedFetcher([(theme / ASSETS).resolve()])
    fetcher = policy.fetcher()
    fonts = FontConfiguration()
    stylesheet = CSS(
        filename=str(theme / ASSETS / "report-print.css"), url_fetcher=fetcher, font_config=fonts
    )
    document = HTML(
        string=html,
        base_url=(theme / ASSETS / "report.html").resolve().as_uri(),
        url_fetcher=fetcher,
    )
    options: dict[str, Any] = {
        "stylesheets": [stylesheet],
        "pdf_variant": "pdf/ua-1",
        "pdf_identifier": build.stamp.encode(),
        "custom_metadata": True,
    }
    rendered = document.render(font_config=fonts, **options)
    return bytes(rendered.write_pdf(**options))
