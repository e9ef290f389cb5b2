"""The markup built in generator.render.pages: it escapes every piece of record text it prints,
and the PDF prints the same pieces."""

from __future__ import annotations

import dataclasses
import json
import re

from conftest import CONCERN_MD, EVIDENCE_02, PORTFOLIO_YAML, SAMPLE, MakePortfolio
from generator.pdf.document import PrintDocument
from generator.pipeline import load, render_site
from generator.render.site import SiteRenderer

HOSTILE = "<b>x</b> & \"q\" 'a'"
ESCAPED = "&lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34; &#39;a&#39;"


def hostile(suffix: str = "") -> str:
    """The hostile text (and a word after it) as a YAML scalar."""
    return json.dumps(f"{HOSTILE} {suffix}".strip())


def test_record_text_is_escaped_in_rows_and_lists(make_portfolio: MakePortfolio) -> None:
    concern = (
        CONCERN_MD.replace("title: Medicines records incomplete", f"title: {hostile()}")
        .replace("title: Competency checks", f"title: {hostile('action')}")
        .replace("name: Complete medicines records", f"name: {hostile('measure')}")
        .replace(
            "{date: 2026-02-10, value: 81, evidence: EV-02}",
            "{date: 2026-02-10, value: 81, evidence: EV-02, note: " + hostile("note") + "}",
        )
    )
    root = make_portfolio(
        {
            "portfolio.yaml": PORTFOLIO_YAML.replace("Tom Reid", hostile()),
            "concerns/med-01.md": concern,
            "evidence/ev-02.yaml": EVIDENCE_02.replace(
                "title: February MAR audit", f"title: {hostile('audit')}"
            )
            + f"location: {hostile('shelf')}\n",
        }
    )
    pages = render_site(load(root), workers=1).pages
    shown = {
        "action-tracker.html": ["action", "", "(Quality Lead)"],
        "evidence/index.html": ["audit", "shelf"],
        "concerns/MED-01.html": ["", "action", "measure", "note"],
        "concerns/index.html": ["", "measure"],
        "statements/medicines-optimisation.html": ["", "measure"],
        "roles/quality-lead.html": ["action"],
    }
    for path, suffixes in shown.items():
        html = pages[path].decode()
        assert "<b>" not in html, path
        for suffix in suffixes:
            assert f"{ESCAPED} {suffix}".strip() in html, (path, suffix)
    for path, data in pages.items():
        if path.endswith(".html"):
            assert b"<b>" not in data, path


def test_header_marks_only_its_key_question_page(make_portfolio: MakePortfolio) -> None:
    pages = render_site(load(make_portfolio({})), workers=1).pages
    safe = pages["key-questions/safe.html"].decode()
    effective = pages["key-questions/effective.html"].decode()
    assert '<a href="safe.html" aria-current="page">' in safe
    assert '<a href="effective.html">' in safe
    assert '<a href="effective.html" aria-current="page">' in effective
    assert '<a href="safe.html">' in effective
    assert 'aria-current="page">Safe<' not in pages["statements/safeguarding.html"].decode()
    assert '<a href="../key-questions/safe.html">' in pages["concerns/MED-01.html"].decode()


def test_the_pdf_prints_the_sites_own_fragments() -> None:
    """A list of findings, a record's link and a role are defined once: the print document
    shows the same findings list as the site's page (links aside), and its links point at
    anchors within the document."""
    build = load(SAMPLE)
    site = render_site(build, workers=1).pages
    printed = "".join(part.html for part in PrintDocument(build).parts())
    lists = re.compile(r'<ul class="findings">.*?</ul>', re.S)
    # An action's findings, printed without the record they are about: the same markup.
    action = next(a for a in build.portfolio.actions if build.findings_for(a))
    concern_page = site["concerns/" + build.portfolio.actions[action][0].id + ".html"].decode()
    in_site = set(lists.findall(concern_page))
    in_print = set(lists.findall(printed))
    shared = in_site & in_print
    assert shared, "no findings list is printed as the site prints it"
    assert any(build.findings_for(action)[0].code in s for s in shared)
    # The print document's record links are anchors it holds; none points at a site page.
    hrefs = set(re.findall(r'href="([^"]*)"', printed))
    assert hrefs and all(h.startswith("#") for h in hrefs if "://" not in h)
    ids = set(re.findall(r'id="([^"]+)"', printed))
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids


def test_a_printed_finding_about_a_record_it_does_not_hold_names_no_record() -> None:
    """Printed, a finding's record is linked where the document holds it and "withheld"
    where it does not: the id of a record kept from an audience is never printed."""
    build = load(SAMPLE)
    parts = SiteRenderer(build, for_print=True).fragments
    known = next(iter(build.findings))
    hidden = dataclasses.replace(known, record="MED-99", concern="MED-99")
    shown = str(parts.finding_items("", [known, hidden], show_record=True))
    assert f'href="#{parts.place(known.record)}"' in shown
    assert "MED-99" not in shown.replace(hidden.message, "")
    assert shown.count(">withheld<") == 1
