"""The built HTML site: complete, cross-linked both ways, offline, relative, deterministic."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from conftest import CONCERN_MD, SAMPLE, MakePortfolio
from generator.cli import cli
from generator.output.write import MARKER
from generator.pipeline import load, render_site
from generator.render.dates import show_dates_in


class _Page(HTMLParser):
    """Collects every URL a page refers to and every id it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            if name in ("href", "src", "action", "poster", "data") or (name == "srcset"):
                self.urls.append((tag, name, value))


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def build_site(root: Path, out: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output + result.stderr


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "site"
    result = CliRunner().invoke(
        cli, ["build", str(SAMPLE), "-o", str(out), "--no-pdf", "--audience", "internal"]
    )
    assert result.exit_code == 0, result.stderr
    return out


def check_links(site: Path) -> int:
    """Every URL in every page resolves to a file in the site (and an id in it)."""
    pages = {p: parse(p) for p in site.rglob("*.html")}
    checked = 0
    for path, page in pages.items():
        for tag, attr, url in page.urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, (
                f"{path}: {tag} {attr}={url} leaves the site"
            )
            assert not url.startswith("/"), f"{path}: {url} is not relative"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_relative_to(site.resolve()), f"{path}: {url} leaves the site"
            assert target.is_file(), f"{path}: {url} does not resolve"
            if parts.fragment and target.suffix == ".html":
                assert unquote(parts.fragment) in pages[target].ids, f"{path}: {url} no anchor"
            checked += 1
    return checked


def test_every_link_and_asset_of_the_sample_site_resolves(sample_site: Path) -> None:
    assert check_links(sample_site) > 1000


def test_no_page_refers_to_another_host(sample_site: Path) -> None:
    # No attribute of any element names another host or scheme (the SVG namespace name is no
    # request), and stylesheets load nothing from elsewhere. Addresses may appear as text.
    for path in sample_site.rglob("*.html"):
        page = _Attributes()
        page.feed(path.read_text(encoding="utf-8"))
        for tag, name, value in page.values:
            if (tag, name) == ("svg", "xmlns"):
                continue
            assert "://" not in value and not value.startswith("//"), f"{path}: {tag} {name}"
            assert not value.lower().startswith(("javascript:", "data:", "file:")), path
        for style in page.styles:
            assert "url(" not in style and "@import" not in style, path
    for path in sample_site.rglob("*.css"):
        text = path.read_text(encoding="utf-8")
        assert "@import" not in text
        for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert ":" not in target and not target.startswith("/"), f"{path}: {target}"
            assert (path.parent / target).is_file(), f"{path}: {target} does not resolve"


class _Attributes(HTMLParser):
    """Every attribute value of a page, and the text of its style elements."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        self.values.extend((tag, n, v) for n, v in attrs if v is not None)

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def test_every_concern_is_reachable_from_each_statement_it_names(sample_site: Path) -> None:
    portfolio = load(SAMPLE).portfolio
    assert len(portfolio.concerns) >= 12
    for concern in portfolio.concerns.values():
        slugs = portfolio.statements_of[concern.id]
        for slug in slugs:
            page = sample_site / "statements" / f"{slug}.html"
            links = {(page.parent / u).resolve() for _, _, u in parse(page).urls}
            assert (sample_site / "concerns" / f"{concern.id}.html").resolve() in links, (
                concern.id,
                slug,
            )


def test_sample_covers_all_five_key_questions(sample_site: Path) -> None:
    portfolio = load(SAMPLE).portfolio
    covered = {
        portfolio.statement(s)[0].slug for slugs in portfolio.statements_of.values() for s in slugs
    }
    assert covered == {"safe", "effective", "caring", "responsive", "well-led"}
    assert portfolio.attachments, "the sample should attach real files"


def test_pages_of_a_small_portfolio(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(make_portfolio(), out)
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    statements = [f"statements/{p.name}" for p in (out / "statements").iterdir()]
    assert len(statements) == 34
    expected = sorted(
        [
            MARKER,
            "action-tracker.html",
            "assets/fonts/AtkinsonHyperlegible-Bold.ttf",
            "assets/fonts/AtkinsonHyperlegible-BoldItalic.ttf",
            "assets/fonts/AtkinsonHyperlegible-Italic.ttf",
            "assets/fonts/AtkinsonHyperlegible-Regular.ttf",
            "assets/fonts/OFL.txt",
            "assets/search-index.js",
            "assets/search.js",
            "assets/site.css",
            "assets/tables.js",
            "concerns/CP-01.html",
            "concerns/MED-01.html",
            "concerns/index.html",
            "downloads.html",
            "downloads/action-tracker.csv",
            "downloads/action-tracker.xlsx",
            "downloads/evidence-register.csv",
            "downloads/evidence-register.xlsx",
            "evidence/EV-01.html",
            "evidence/EV-02.html",
            "evidence/index.html",
            "files/attachments/jan-audit.csv",
            "findings.html",
            "governance/GOV-01.html",
            "governance/index.html",
            "index.html",
            "key-questions/caring.html",
            "key-questions/effective.html",
            "key-questions/index.html",
            "key-questions/responsive.html",
            "key-questions/safe.html",
            "key-questions/well-led.html",
            "roles/index.html",
            "roles/medicines-lead.html",
            "roles/quality-lead.html",
            "roles/registered-manager.html",
            "search.html",
            *statements,
        ]
    )
    assert written == expected
    check_links(out)


def test_concern_page_follows_the_chain(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(make_portfolio(), out)
    html = (out / "concerns" / "MED-01.html").read_text()
    order = [
        "Baseline: what was wrong",
        "Intended outcome",
        'id="MED-01-A1"',
        'id="MED-01-M1"',
        "Evidence cited by this concern",
        "Decisions about MED-01",
        'id="closure"',
        "Body text with a <em>word</em>",
    ]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    # Back-links: the evidence page names the concern, action and measure that cite it.
    evidence = parse(out / "evidence" / "EV-02.html").urls
    targets = {u for _, _, u in evidence}
    assert {
        "../concerns/MED-01.html",
        "../concerns/MED-01.html#MED-01-A1",
        "../concerns/MED-01.html#MED-01-M1",
    } <= targets
    # The review links to the action it closed, and the concern page links back to it.
    assert "../concerns/MED-01.html#MED-01-A1" in {
        u for _, _, u in parse(out / "governance" / "GOV-01.html").urls
    }
    assert "../governance/GOV-01.html#decision-1" in {
        u for _, _, u in parse(out / "concerns" / "MED-01.html").urls
    }
    # The owner's page lists what they own.
    role = (out / "roles" / "quality-lead.html").read_text()
    assert "MED-01-A1" in role and "CP-01" in role


def test_untrusted_markdown_stays_inert(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    body = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) ![remote](https://example.org/t.png) "
        "![secret](../../../etc/passwd) ![local](../attachments/jan-audit.csv)\n\n"
        "<javascript:alert(4)> [d](data:text/html;base64,PHNjcmlwdD4=) [f](file:///etc/passwd)\n"
    )
    root = make_portfolio(
        {"concerns/med-01.md": CONCERN_MD.replace("Body text with a *word*.", body)}
    )
    out = tmp_path / "site"
    build_site(root, out)
    html = (out / "concerns" / "MED-01.html").read_text()
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    for scheme in ("javascript:", "data:", "file:"):
        assert f'href="{scheme}' not in html  # left as plain text, not a link
    assert 'src="https://example.org' not in html
    assert "[Image not included: remote]" in html
    assert "[Image not included: secret]" in html
    assert 'src="../files/attachments/jan-audit.csv"' in html
    check_links(out)


def test_builds_are_byte_identical(make_portfolio: MakePortfolio) -> None:
    build = load(make_portfolio())
    first = render_site(build)
    second = render_site(load(make_portfolio()))
    assert first.pages == second.pages


def test_every_page_carries_the_build_stamp(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(make_portfolio(), out)
    stamp = load(make_portfolio()).stamp
    assert len(stamp) == 10
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert f"build <code>{stamp}</code>" in text and "edition · as of <time" in text, page


def test_stamp_changes_with_content(make_portfolio: MakePortfolio) -> None:
    before = load(make_portfolio()).stamp
    after = load(make_portfolio({"attachments/jan-audit.csv": "chart,complete\nA,no\n"})).stamp
    assert before != after


def test_a_failed_build_leaves_the_previous_site(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    root = make_portfolio()
    build_site(root, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (root / "concerns" / "cp-01.md").write_text("---\nid: [\n---\n")
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
    assert result.exit_code == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_files_of_an_older_build_do_not_linger(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    root = make_portfolio()
    build_site(root, out)
    assert (out / "concerns" / "CP-01.html").exists()
    (root / "concerns" / "cp-01.md").unlink()
    (root / "concerns" / "med-01.md").write_text(CONCERN_MD.replace("related: [CP-01]\n", ""))
    build_site(root, out)
    assert not (out / "concerns" / "CP-01.html").exists()


def test_refuses_to_replace_a_folder_it_did_not_write(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "letter.docx").write_text("precious")
    result = CliRunner().invoke(cli, ["build", str(make_portfolio()), "-o", str(out)])
    assert result.exit_code == 1
    assert "was not written by portfolio build" in result.stderr
    assert (out / "letter.docx").read_text() == "precious"


def test_site_works_from_a_sub_path(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    out = tmp_path / "shared" / "drive" / "portfolio"
    build_site(make_portfolio(), out)
    check_links(out)
    os.rename(out, tmp_path / "moved")
    check_links(tmp_path / "moved")


def test_every_sample_finding_is_on_the_page_of_its_record(sample_site: Path) -> None:
    build = load(SAMPLE)
    assert build.findings
    for finding in build.findings:
        if finding.concern is not None:
            page = sample_site / "concerns" / f"{finding.concern}.html"
        elif finding.record in build.portfolio.evidence:
            page = sample_site / "evidence" / f"{finding.record}.html"
        elif finding.record in build.portfolio.reviews:
            page = sample_site / "governance" / f"{finding.record}.html"
        elif finding.code == "S501":  # gaps are listed under each key question
            page = sample_site / "key-questions" / f"{finding.record}.html"
        else:
            page = sample_site / "statements" / f"{finding.record}.html"
        html = page.read_text(encoding="utf-8")
        message = show_dates_in(finding.message)  # pages show dates as 31 Jul 2026
        message = message.replace("&", "&amp;").replace("'", "&#39;")
        assert message.replace('"', "&#34;") in html, (finding.code, page)
        assert f'<span class="finding-code">{finding.code}</span>' in html


def test_findings_page_and_tracker_column(sample_site: Path) -> None:
    build = load(SAMPLE)
    findings_page = (sample_site / "findings.html").read_text()
    for code in {f.code for f in build.findings}:
        assert f'id="{code}"' in findings_page
    tracker = (sample_site / "action-tracker.html").read_text()
    assert ">A201</abbr>" in tracker and ">A203</abbr>" in tracker


def test_an_unchanged_rebuild_writes_nothing(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    out = tmp_path / "site"
    build_site(root, out)
    first = (out / ".portfolio-build").stat().st_mtime_ns
    again = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert again.exit_code == 0
    assert again.output.startswith(f"{out.as_posix()} is up to date: nothing in ")
    assert (out / ".portfolio-build").stat().st_mtime_ns == first
    # Any change to a record, to the options, or --force, builds again.
    (root / "concerns" / "cp-01.md").write_text(
        (root / "concerns" / "cp-01.md").read_text().replace("Care plans", "Plans")
    )
    changed = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert changed.output.startswith("Built ")
    assert "Plans not updated" in (out / "concerns" / "CP-01.html").read_text()
    other = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--no-pdf", "--audience", "internal"]
    )
    assert other.output.startswith("Built ")
    forced = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--no-pdf", "--audience", "internal", "--force"]
    )
    assert forced.output.startswith("Built ")


def test_pages_written_by_workers_are_what_one_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough pages for two worker processes, which write what they render as they go.
    import importlib.util

    from conftest import REPO
    from generator.pipeline import PARALLEL_RENDER_FROM

    spec = importlib.util.spec_from_file_location("synth", REPO / "bench" / "synth.py")
    assert spec is not None and spec.loader is not None
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    root = tmp_path / "p"
    synth.generate(root, 60)
    outputs = {}
    for workers, options in (("2", ()), ("2", ("--no-cache",)), ("1", ("--no-cache",))):
        monkeypatch.setenv("PORTFOLIO_WORKERS", workers)
        out = tmp_path / f"site-{workers}-{len(options)}"
        result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf", *options])
        assert result.exit_code == 0, result.output
        outputs[out.name] = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
        assert [p.name for p in tmp_path.iterdir() if "-new-" in p.name] == []
    pages = [name for name in outputs["site-1-1"] if name.endswith(".html")]
    assert len(pages) > PARALLEL_RENDER_FROM
    assert any(name.startswith("files/") for name in outputs["site-1-1"])
    assert outputs["site-2-0"] == outputs["site-1-1"]
    assert outputs["site-2-1"] == outputs["site-1-1"]
