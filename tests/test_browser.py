"""The built sample site in a real headless Chromium, opened from file://.

Debian's chromium is driven by Playwright (``executable_path``); ``make test`` installs it when
it is missing. Set CHROMIUM to use another binary. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import REPO, SAMPLE
from generator.cli import cli
from generator.pipeline import load

playwright_api = pytest.importorskip("playwright.sync_api")

AXE = REPO / "tests" / "vendor" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    result = CliRunner().invoke(
        cli, ["build", str(SAMPLE), "-o", str(out), "--no-pdf", "--audience", "internal"]
    )
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs it with apt-get")
        pytest.skip("chromium is not installed (make test installs it)")
    with playwright_api.sync_playwright() as driver:
        instance = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Visit:
    """A browser tab that records every request and console error."""

    def __init__(self, browser: Any, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()
        outside = [u for u in self.requests if not u.startswith("file://")]
        assert outside == [], f"requests left file://: {outside}"
        assert self.errors == [], self.errors


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def make(width: int = 1280, height: int = 900) -> Visit:
        tab = Visit(browser, width, height)
        opened.append(tab)
        return tab

    yield make
    for tab in opened:
        tab.close()


def page_types(site: Path) -> dict[str, Path]:
    first = {
        folder: sorted(p for p in (site / folder).glob("*.html") if p.name != "index.html")[0]
        for folder in ("concerns", "evidence", "governance", "roles", "statements", "key-questions")
    }
    return {
        "home": site / "index.html",
        "framework": site / "key-questions" / "index.html",
        "key question": first["key-questions"],
        "statement": site / "statements" / "medicines-optimisation.html",
        "concern list": site / "concerns" / "index.html",
        "concern": site / "concerns" / "MED-01.html",
        "action tracker": site / "action-tracker.html",
        "findings": site / "findings.html",
        "evidence register": site / "evidence" / "index.html",
        "evidence": first["evidence"],
        "governance list": site / "governance" / "index.html",
        "review": first["governance"],
        "roles": site / "roles" / "index.html",
        "role": first["roles"],
        "search": site / "search.html",
    }


def test_every_page_type_loads_cleanly_and_offline(site: Path, visit: Any) -> None:
    tab = visit()
    for name, path in page_types(site).items():
        page = tab.open(path.as_uri())
        assert page.locator("h1").count() == 1, name
        assert page.locator("main#main").count() == 1, name
        assert page.title().endswith("Larkfield House"), name
    # every request of the whole run stayed on file:// (checked when the tab closes)


def test_no_serious_accessibility_violations(site: Path, visit: Any) -> None:
    tab = visit()
    script = AXE.read_text(encoding="utf-8")
    problems = []
    for name, path in page_types(site).items():
        page = tab.open(path.as_uri())
        page.add_script_tag(content=script)
        result = page.evaluate(
            "async () => { const r = await axe.run(document,"
            " {resultTypes: ['violations'], preload: false});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
            " target: v.nodes[0].target.join(' ')})); }"
        )
        problems += [(name, v) for v in result if v["impact"] in ("serious", "critical")]
    assert problems == []


def body_only_word() -> tuple[str, str]:
    """A word that appears in exactly one record, only in a concern's Markdown body."""
    build = load(SAMPLE)
    from generator.render.search import plain_text

    others: list[str] = []
    for concern in build.portfolio.concerns.values():
        others.append(f"{concern.title} {concern.baseline} {concern.intended_outcome}")
    for evidence in build.portfolio.evidence.values():
        others.append(f"{evidence.title} {evidence.summary or ''} {evidence.body}")
    for review in build.portfolio.reviews.values():
        others.append(f"{review.title} {review.body}")
    haystack = " ".join(others).lower()
    bodies = {c.id: plain_text(c.body).lower() for c in build.portfolio.concerns.values()}
    for concern_id, text in bodies.items():
        for word in sorted(set(re.findall(r"[a-z]{9,}", text))):
            elsewhere = [c for c, t in bodies.items() if c != concern_id and word in t]
            if word not in haystack and not elsewhere:
                return word, concern_id
    raise AssertionError("no word unique to one body")


def test_search_finds_a_word_only_in_a_body_and_opens_it(site: Path, visit: Any) -> None:
    word, concern_id = body_only_word()
    tab = visit()
    page = tab.open((site / "index.html").as_uri())
    page.fill("#site-search-q", word[:3])
    page.press("#site-search-q", "Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    search = page.locator("#search-input")
    search.fill("")
    search.type(word, delay=20)
    first = page.locator("#search-results li").first
    first.wait_for()
    assert page.locator("#search-results li").count() == 1
    assert first.locator("h2").inner_text().startswith(concern_id)
    assert word in first.locator("mark").inner_text().lower()
    assert "Concern" in first.locator(".meta").inner_text()
    first.locator("a").click()
    page.wait_for_url(re.compile(rf"concerns/{re.escape(concern_id)}\.html$"))
    assert page.locator("h1").inner_text()


def test_search_reports_no_match(site: Path, visit: Any) -> None:
    page = visit().open((site / "search.html").as_uri() + "?q=zzqxnothing")
    assert page.locator("#search-status").inner_text() == "No records match “zzqxnothing”."


def test_filters_cut_the_tracker_to_the_expected_rows(site: Path, visit: Any) -> None:
    build = load(SAMPLE)
    status = build.status
    actions = [a for _, a in build.portfolio.actions.values()]
    page = visit().open((site / "action-tracker.html").as_uri())
    rows = page.locator("#tracker tbody tr:visible")
    count = page.locator("#tracker-count")
    assert count.inner_text() == f"Showing {len(actions)} of {len(actions)} rows."
    page.select_option("#tracker-filter-colour", "Red")
    red = [a for a in actions if status[a.id].colour == "red"]
    assert rows.count() == len(red) and count.inner_text().startswith(f"Showing {len(red)} of")
    page.select_option("#tracker-filter-colour", "")
    page.select_option("#tracker-filter-status", "in-progress")
    assert rows.count() == sum(1 for a in actions if a.status == "in-progress")
    page.select_option("#tracker-filter-status", "")
    page.select_option("#tracker-filter-finding", "A205")
    stale = {f.record for f in build.findings if f.code == "A205"}
    assert rows.count() == len(stale)
    page.select_option("#tracker-filter-finding", "")
    page.select_option("#tracker-filter-kq", "Caring")
    caring = [
        a
        for c, a in build.portfolio.actions.values()
        if any(
            build.portfolio.statement(s)[0].slug == "caring"
            for s in build.portfolio.statements_of[c.id]
        )
    ]
    assert rows.count() == len(caring)
    page.select_option("#tracker-filter-kq", "")
    page.select_option("#tracker-filter-due", "overdue")
    assert rows.count() == sum(1 for a in actions if status[a.id].label == "Overdue")
    page.select_option("#tracker-filter-due", "")
    page.fill("#tracker-filter-text", "fire door")
    assert 0 < rows.count() < len(actions)


def test_sorting_the_tracker_by_due_date(site: Path, visit: Any) -> None:
    page = visit().open((site / "action-tracker.html").as_uri())
    header = page.locator("#tracker thead th", has_text="Due")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    dues = page.locator("#tracker tbody tr td:nth-child(4)").evaluate_all(
        "cells => cells.map(c => c.getAttribute('data-value'))"
    )
    assert dues == sorted(dues)
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "descending"


def test_evidence_register_filters(site: Path, visit: Any) -> None:
    build = load(SAMPLE)
    page = visit().open((site / "evidence" / "index.html").as_uri())
    page.select_option("#register-filter-type", "audit")
    audits = sum(1 for e in build.portfolio.evidence.values() if e.type == "audit")
    assert page.locator("#register tbody tr:visible").count() == audits


@pytest.mark.parametrize("width", [1280, 360])
def test_screenshots_and_no_sideways_scrolling(site: Path, visit: Any, width: int) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab = visit(width=width, height=900 if width > 400 else 740)
    pages = {
        "home": site / "index.html",
        "statement": site / "statements" / "medicines-optimisation.html",
        "concern": site / "concerns" / "CALL-01.html",
        "tracker": site / "action-tracker.html",
    }
    for name, path in pages.items():
        page = tab.open(path.as_uri())
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.scrollingElement.scrollWidth")
        assert overflow <= width, f"{name} scrolls sideways at {width}px ({overflow}px)"


def test_print_hides_navigation(site: Path, visit: Any) -> None:
    page = visit().open((site / "concerns" / "MED-01.html").as_uri())
    page.emulate_media(media="print")
    assert not page.locator(".site-nav").is_visible()
    assert not page.locator(".site-search").is_visible()
    assert page.locator("h1").is_visible()


def test_the_commissioner_update_reads_on_a_phone(visit: Any, tmp_path: Path) -> None:
    """Read from an email on a phone 390 px wide: nothing scrolls sideways, and no rule code
    meant for the service's own staff appears."""
    target = tmp_path / "update.html"
    result = CliRunner().invoke(
        cli, ["report", "commissioner", str(SAMPLE), "-o", str(target), "--since", "2026-07-31"]
    )
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert not re.search(r"\b[ACEOPS][1-7]\d\d\b", re.sub(r"<[^>]+>", " ", text))
    assert " points" in text and "+%" not in text
    tab = visit(390, 844)
    page = tab.open(target.as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "commissioner-390.png"), full_page=True)
