"""Attachments whose names hold characters that mean something in a URL ("#", "%", spaces,
brackets, letters beyond ASCII) open from every output that links to them."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from conftest import EVIDENCE_01, MakePortfolio
from generator.cli import cli
from generator.render.markdown import relative_url

AWKWARD = "Audit #3 (50%).pdf"


def _targets(page: Path, html: str) -> list[Path]:
    """Where each relative link of a page leads on disk, as a browser would resolve it."""
    found = []
    for href in re.findall(r'href="([^"]+)"', html):
        parts = urlsplit(href.replace("&amp;", "&"))
        if parts.scheme or not parts.path:
            continue
        found.append((page.parent / unquote(parts.path)).resolve())
    return found


@pytest.fixture
def awkward(make_portfolio: MakePortfolio) -> Path:
    entry = EVIDENCE_01.replace("attachments/jan-audit.csv", f"'attachments/{AWKWARD}'")
    return make_portfolio({"evidence/ev-01.md": entry, f"attachments/{AWKWARD}": b"%PDF-1.4 x"})


def test_an_awkward_name_opens_from_its_evidence_page(awkward: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(awkward), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    page = out / "evidence" / "EV-01.html"
    copied = (out / "files" / "attachments" / AWKWARD).resolve()
    assert copied.is_file()
    assert copied in _targets(page, page.read_text(encoding="utf-8"))
    register = out / "evidence" / "index.html"
    assert copied in _targets(register, register.read_text(encoding="utf-8"))


def test_an_awkward_name_opens_from_the_pdf(awkward: Path, tmp_path: Path) -> None:
    # The PDF holds the attachment itself, under its own name: a PDF reader opens it from the
    # portfolio's list of attached files.
    out = tmp_path / "site"
    args = ["build", str(awkward), "-o", str(out), "--pdf-only", "--embed-attachments"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    reader = PdfReader(out / "portfolio.pdf")
    assert dict(reader.attachments) == {f"EV-01-{AWKWARD}": [b"%PDF-1.4 x"]}


def test_an_awkward_name_opens_from_the_inspection_folder(awkward: Path, tmp_path: Path) -> None:
    out = tmp_path / "inspection"
    result = CliRunner().invoke(cli, ["export", "inspection", str(awkward), "-o", str(out)])
    assert result.exit_code == 0, result.output
    index = out / "index.html"
    targets = _targets(index, index.read_text(encoding="utf-8"))
    filed = [t for t in targets if t.name.endswith(AWKWARD)]
    assert filed and all(t.is_file() for t in filed)
    page = out / "site" / "evidence" / "EV-01.html"
    assert (out / "site" / "files" / "attachments" / AWKWARD).resolve() in _targets(
        page, page.read_text(encoding="utf-8")
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(
            st.characters(codec="utf-8", exclude_characters="/\\\x00"), min_size=1, max_size=12
        ).filter(lambda s: s not in (".", "..")),
        min_size=1,
        max_size=3,
    )
)
def test_every_file_name_makes_a_link_back_to_it(segments: list[str]) -> None:
    """Whatever a file is called, its link from any page leads back to that file."""
    site_path = "files/" + "/".join(segments)
    for page in ("index.html", "evidence/EV-01.html", "key-questions/safe.html"):
        href = relative_url(page, site_path)
        assert "#" not in href and "?" not in href and " " not in href
        base = Path("/site") / page
        resolved = (base.parent / unquote(href)).resolve()
        assert resolved == (Path("/site") / site_path).resolve()
