"""The PDF portfolio, rendered by WeasyPrint for real and read back with pypdf."""

from __future__ import annotations

import http.server
import io
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pypdf import PdfReader

from conftest import CONCERN_MD, PORTFOLIO_YAML, SAMPLE, MakePortfolio
from generator.check.assess import Build
from generator.check.outcomes import difference, with_unit
from generator.check.rules import rule_by_code
from generator.pdf.document import (
    BOLD_FONT,
    CHUNK_COST,
    FOLIO_FONT,
    MAX_CHUNK_COST,
    MAX_CHUNKS,
    PrintDocument,
    chunk_target,
    css_string,
    render_pdf,
)
from generator.pdf.join import FolioFont
from generator.pdf.layout import (
    ASSETS,
    ConfinedFetcher,
    FetchRefused,
    Job,
    Laid,
    Setup,
    Typesetter,
    lay_out,
    layout_cost,
)
from generator.pipeline import BuildOptions, Built, build, load
from generator.render.dates import show_dates_in
from generator.render.theme import templates_dir


@pytest.fixture(scope="module")
def sample() -> tuple[Build, PdfReader]:
    build = load(SAMPLE)
    # Small chunks, so that sections, tables and links cross chunk boundaries.
    pdf = render_pdf(build, workers=2, chunk_cost=0.5)
    assert pdf.refused == []
    return build, PdfReader(io.BytesIO(pdf.data))


SUMMARY = "Summary: where the service stands"
FINDINGS = "Findings: what the service has found and is acting on"


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, 0-based page) of every bookmark, in order."""
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                found.append((depth, str(item.title), page))

    walk(reader.outline, 0)
    return found


def page_text(reader: PdfReader, index: int) -> str:
    return reader.pages[index].extract_text() or ""


def test_outline_mirrors_the_framework_sections(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    p = build.portfolio
    marks = outline(reader)
    top = [title for depth, title, _ in marks if depth == 0]
    assert top == [
        "Contents",
        SUMMARY,
        FINDINGS,
        "Coverage of the quality statements",
        *[kq.title for kq in p.framework.key_questions],
        "Appendix A: Action tracker",
        "Appendix B: Evidence register",
        "Appendix C: Governance decisions",
    ]
    statements = [title for depth, title, _ in marks if depth == 1]
    assert statements == [s.title for kq in p.framework.key_questions for s in kq.statements]
    concerns = [title for depth, title, _ in marks if depth == 2]
    assert sorted(concerns) == sorted(f"{c.id} {c.title}" for c in p.concerns.values())
    # Each concern sits under the first statement it names.
    current = ""
    for depth, title, _ in marks:
        if depth == 1:
            current = title
        elif depth == 2:
            concern = p.concerns[title.split(" ", 1)[0]]
            first = p.statement(p.statements_of[concern.id][0])[1].title
            assert current == first, title


def contents_numbers(reader: PdfReader) -> dict[str, int]:
    """The page number printed in the contents for each entry, read as the page shows it: the
    number on the line of its entry, after the dot leader."""
    starts = {title: page for depth, title, page in outline(reader) if depth == 0}
    text = "\n".join(
        reader.pages[i].extract_text(extraction_mode="layout")
        for i in range(starts["Contents"], starts[SUMMARY])
    )
    numbers = {}
    for line in text.splitlines():
        match = re.match(r"^(.*?)\s*\.{3,}\s*(\d+)$", line.strip())
        if match:
            numbers[match.group(1).strip()] = int(match.group(2))
    return numbers


def test_contents_page_numbers_are_where_the_headings_are(
    sample: tuple[Build, PdfReader],
) -> None:
    build, reader = sample
    numbers = contents_numbers(reader)
    marks = outline(reader)
    checked = 0
    for _depth, title, page in marks:
        if title == "Contents":
            continue
        if title in numbers:
            assert numbers[title] == page + 1, title
            checked += 1
    concern_marks = [(t, pg) for d, t, pg in marks if d == 2]
    assert len(concern_marks) == len(build.portfolio.concerns)
    for title, page in concern_marks:
        assert numbers[title] == page + 1, title
        # The concern's heading is on that page.
        assert title.split(" ", 1)[0] in page_text(reader, page)
    assert checked >= len(build.portfolio.concerns) + 8


def placed_text(reader: PdfReader, index: int) -> list[tuple[str, float, float, str]]:
    """Every piece of text shown on a page: its text, where it starts (x, baseline y, in PDF
    units) and its font's name."""
    found: list[tuple[str, float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            name = str(font.get("/BaseFont", "")) if font else ""
            found.append((text.strip(), x, y, name))

    reader.pages[index].extract_text(visitor_text=visit)
    return found


def test_contents_numbers_are_right_aligned_after_their_leaders(
    sample: tuple[Build, PdfReader],
) -> None:
    build, reader = sample
    starts = {title: page for depth, title, page in outline(reader) if depth == 0}
    regular = FolioFont(templates_dir() / ASSETS / "fonts" / FOLIO_FONT)
    bold = FolioFont(templates_dir() / ASSETS / "fonts" / BOLD_FONT)
    key_questions = {kq.title for kq in build.portfolio.framework.key_questions}
    drawn = 0
    for index in range(starts["Contents"], starts[SUMMARY]):
        shown = placed_text(reader, index)
        # The leaders and numbers are drawn by the join, in the theme's fonts embedded whole
        # (WeasyPrint's are subsets, named "ABCDEF+...").
        numbers = [t for t in shown if t[0].isdigit() and "+" not in t[3]]
        assert numbers
        texts: dict[int, list[str]] = {}
        leaders: dict[int, tuple[float, str]] = {}
        for text, x, y, font in shown:
            if "+" in font:
                texts.setdefault(round(y), []).append(text)
            elif set(text) == {"."}:
                assert len(text) % 4 == 0, text  # runs of four dots
                face = bold if "Bold" in font else regular
                leaders[round(y)] = (x + face.width(face.encode(text), 10.0), font)
        rights = set()
        for text, x, y, font in numbers:
            face = bold if "Bold" in font else regular
            rights.add(round(x + face.width(face.encode(text), 10.0), 1))  # 10pt, as the text
            # On the line of its entry, after its dot leader, in the entry's weight.
            entry = " ".join(texts.get(round(y), []))
            assert entry, (text, y)
            assert round(y) in leaders, entry
            leader_end, leader_font = leaders[round(y)]
            assert leader_end <= x, entry
            key_question = entry in key_questions
            assert ("Bold" in font) == ("Bold" in leader_font) == key_question, entry
        assert len(rights) == 1, rights  # one right edge: the numbers are right-aligned
        drawn += len(numbers)
    assert drawn >= len(build.portfolio.concerns) + 8


def test_a_page_number_wider_than_its_column_widens_the_column(tmp_path: Path) -> None:
    build = load(SAMPLE)
    # A column one digit wide: the numbers from 10 on do not fit, so the contents is laid out
    # again with two.
    pdf = render_pdf(build, workers=2, contents_digits=1)
    assert pdf.laid_out == len(PrintDocument(build).chunks()) + 3  # cover, contents twice
    reader = PdfReader(io.BytesIO(pdf.data))
    numbers = contents_numbers(reader)
    assert max(numbers.values()) >= 10
    for _depth, title, page in outline(reader):
        if title in numbers:
            assert numbers[title] == page + 1, title


def link_targets(reader: PdfReader, index: int) -> list[str]:
    """The named destinations the links on one page go to."""
    found = []
    for annot in reader.pages[index].get("/Annots") or []:
        dest = annot.get_object().get("/Dest")
        if dest is not None and not isinstance(dest, list):
            found.append(str(dest))
    return found


def test_cross_references_point_at_the_concern(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    pages = {t.split(" ", 1)[0]: pg for d, t, pg in outline(reader) if d == 2}
    dests = {
        name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()
    }
    multi = {c for c, slugs in build.portfolio.statements_of.items() if len(slugs) > 1}
    assert multi, "the sample files some concerns under more than one statement"
    seen = set()
    for index in range(len(reader.pages)):
        text = re.sub(r"\s+", " ", page_text(reader, index))
        refs = re.findall(r"([A-Z]+-\d+) [^()]*? \([a-z]+: [^)]*\) is set out in full under", text)
        targets = link_targets(reader, index)
        for concern_id in refs:
            assert f"concern-{concern_id}" in targets, (index, concern_id)
            assert dests[f"concern-{concern_id}"] == pages[concern_id]
            seen.add(concern_id)
    # Every concern named under more than one statement is referred to from the others, and the
    # contents lists it there too, with its page.
    assert seen == multi
    numbers = contents_numbers(reader)
    for concern_id in multi:
        concern = build.portfolio.concerns[concern_id]
        assert numbers[f"Also: {concern_id} {concern.title}"] == pages[concern_id] + 1


def test_every_internal_link_resolves(sample: tuple[Build, PdfReader]) -> None:
    _, reader = sample
    names = set(reader.named_destinations)
    links = 0
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            action = annot.get("/A")
            assert action is None or action.get("/S") != "/URI", "a link leaves the document"
            dest = annot.get("/Dest")
            if dest is not None and not isinstance(dest, list):
                assert str(dest) in names, dest
                links += 1
    assert links > 500


def test_every_concern_title_and_the_cover(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    p = build.portfolio
    text = re.sub(r"\s+", " ", "\n".join(page_text(reader, i) for i in range(len(reader.pages))))
    for concern in p.concerns.values():
        assert f"{concern.id} {concern.title}" in text
    cover = page_text(reader, 0)
    for fact in (
        p.settings.provider,
        p.settings.service,
        "1-1234567890",
        "1\u00a0Apr\u00a02026 to 31\u00a0Oct\u00a02026",
        build.stamp,
    ):
        assert fact in cover


def test_every_page_names_the_as_of_date_build_and_page_count(
    sample: tuple[Build, PdfReader],
) -> None:
    build, reader = sample
    total = len(reader.pages)
    for index in range(total):
        text = page_text(reader, index)
        assert f"edition · as of 31\u00a0Oct\u00a02026 · build {build.stamp}" in text, index
        assert f"Page {index + 1} of {total}" in text, index


def test_metadata_tagging_and_language(sample: tuple[Build, PdfReader]) -> None:
    _, reader = sample
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "Evidence portfolio: Larkfield House"
    assert meta.author == "Larkfield Care Ltd"
    assert meta.subject and "Larkfield House" in meta.subject
    assert "CQC" in str(meta.get("/Keywords"))
    assert meta.get("/CreationDate") == "D:20261031000000Z"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root


def test_the_joined_structure_tree_is_whole(sample: tuple[Build, PdfReader]) -> None:
    """Every page and link of every chunk maps into one structure tree, and folios are artifacts."""
    import pikepdf

    _, reader = sample
    with pikepdf.open(io.BytesIO(reader.stream.getvalue())) as pdf:
        root = pdf.Root.StructTreeRoot
        nums = root.ParentTree.Nums
        tree = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        assert len(tree) == len(nums) // 2, "a parent-tree key is used twice"
        assert int(root.ParentTreeNextKey) > max(tree)
        assert len(root.K) == 1 and root.K[0].S == "/Document"
        page_ids = {page.obj.objgen for page in pdf.pages}
        keys = []
        links = 0
        for page in pdf.pages:
            key = int(page.obj.StructParents)
            keys.append(key)
            # The page's marked content maps to elements that point back at this page.
            for element in tree[key]:
                assert element.Pg.objgen == page.obj.objgen
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Link":
                    continue
                links += 1
                element = tree[int(annot.StructParent)]
                assert element.S == "/Link"
                assert any(
                    isinstance(k, pikepdf.Dictionary) and k.get("/Obj") == annot for k in element.K
                )
            contents = b"".join(
                s.read_bytes()
                for s in (
                    page.obj.Contents
                    if isinstance(page.obj.Contents, pikepdf.Array)
                    else [page.obj.Contents]
                )
            )
            # The page ends with its folio, drawn by the join as a pagination artifact.
            folio = contents.rsplit(b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC", 1)
            assert len(folio) == 2
            assert folio[1].rstrip().endswith(b"Tj ET Q EMC")
            assert b"(Page %d of %d) Tj" % (len(keys), len(pdf.pages)) in folio[1]
            assert b"/Span" not in folio[1]
        assert len(set(keys)) == len(keys)
        assert links > 500

        def walk(element: Any, parent: Any) -> int:
            assert element.P.objgen == parent.objgen
            if "/Pg" in element:
                assert element.Pg.objgen in page_ids
            count = 1
            for kid in element.get("/K", []):
                if (
                    isinstance(kid, pikepdf.Dictionary)
                    and kid.get("/Type") != "/OBJR"
                    and "/S" in kid
                ):
                    count += walk(kid, element)
            return count

        assert walk(root.K[0], root) > 1000


def test_text_that_looks_like_pdf_syntax_reaches_the_joined_pdf_as_written(
    make_portfolio: MakePortfolio,
) -> None:
    """The join copies each chunk's objects as PDF syntax and renumbers the references in it:
    a name, a title, a chart's text or a link that reads like a reference, or holds
    parentheses and backslashes, is copied as written, and no object is left out or numbered
    wrong."""
    import pikepdf

    odd = r"Gaps (see 12 0 R) \ in 3 0 R records ) ("
    link = "https://example.org/a(1)/12%200%20R?q=3+0+R"
    root = make_portfolio(
        {
            "portfolio.yaml": PORTFOLIO_YAML.replace(
                "service: Riverside House", "service: 'Riverside (East) 5 0 R'"
            ),
            "concerns/med-01.md": CONCERN_MD.replace("Medicines records incomplete", odd)
            .replace("name: Complete medicines records", f"name: '{odd} measure'")
            .replace("Body text with a *word*.", f"See [the policy ( 7 0 R]({link})."),
        }
    )
    data = render_pdf(load(root)).data
    reader = PdfReader(io.BytesIO(data))
    assert any(title == f"MED-01 {odd}" for _, title, _ in outline(reader))
    text = "".join(page_text(reader, i) for i in range(len(reader.pages)))
    assert f"the policy ( 7 0 R ({link})" in text  # the print shows where a link goes
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "Riverside (East) 5 0 R" in str(pdf.docinfo.get("/Title", ""))
        texts: list[str] = []

        def walk(element: Any) -> None:
            for key in ("/Alt", "/T", "/ActualText"):
                if key in element:
                    texts.append(str(element[key]))
            for kid in element.get("/K", []):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    walk(kid)

        walk(pdf.Root.StructTreeRoot.K[0])
        assert any(odd in text for text in texts)  # the chart's alternative text
        assert not pdf.check_pdf_syntax()  # every reference resolves; no object is malformed


def test_fonts_are_embedded_from_the_project(sample: tuple[Build, PdfReader]) -> None:
    _, reader = sample
    fonts: set[str] = set()
    for page in reader.pages[:12]:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    assert any("Atkinson-Hyperlegible" in f for f in fonts), fonts


def test_appendices_hold_checksums_and_the_decisions_log(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    text = re.sub(r"\s+", "", "\n".join(page_text(reader, i) for i in range(len(reader.pages))))
    import hashlib

    for eid, path in build.portfolio.attachments.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() in text, eid
    assert "AppendixC:Governancedecisions" in text


def test_the_same_build_gives_the_same_bytes(make_portfolio: MakePortfolio) -> None:
    build = load(make_portfolio())
    assert render_pdf(build).data == render_pdf(load(make_portfolio())).data


def test_a_chunk_laid_out_after_others_is_the_chunk_laid_out_alone(tmp_path: Path) -> None:
    """A worker lays out chunk after chunk with one typesetter (fonts and stylesheet loaded
    once): what it laid out before changes no byte of the next."""
    build = load(SAMPLE)
    body = PrintDocument(build).chunks(0.5)
    assets = (templates_dir() / ASSETS).resolve()
    setup = Setup(roots=(assets, SAMPLE.resolve()), identifier=b"0" * 32)
    last = body[-1].html
    alone = lay_out(setup, Job(last, tmp_path / "alone.pdf"))
    shared = Typesetter()
    for index, chunk in enumerate(body[:3]):
        lay_out(setup, Job(chunk.html, tmp_path / f"before-{index}.pdf"), shared)
    after = lay_out(setup, Job(last, tmp_path / "after.pdf"), shared)
    assert after == alone
    assert (tmp_path / "after.pdf").read_bytes() == (tmp_path / "alone.pdf").read_bytes()


def test_source_date_epoch_sets_the_dates(
    make_portfolio: MakePortfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    reader = PdfReader(io.BytesIO(render_pdf(load(make_portfolio())).data))
    assert reader.metadata is not None
    assert reader.metadata.get("/CreationDate") == "D:20260101000000Z"


def test_embedded_attachments(make_portfolio: MakePortfolio) -> None:
    attached = next((SAMPLE / "attachments").rglob("*.pdf")).read_bytes()
    root = make_portfolio(
        {
            "attachments/visit.pdf": attached,
            "evidence/ev-03.yaml": "id: EV-03\ntitle: Visit\ntype: other\ndate: 2026-02-01\n"
            "file: attachments/visit.pdf\n",
        }
    )
    build = load(root)
    assert not PdfReader(io.BytesIO(render_pdf(build).data)).attachments
    reader = PdfReader(io.BytesIO(render_pdf(build, embed_attachments=True).data))
    # Only PDF attachments are embedded; the CSV stays in the register with its checksum.
    assert dict(reader.attachments) == {"EV-03-visit.pdf": [attached]}


# --- confined fetching ------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.requests = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_records_cannot_make_the_pdf_fetch_anything(
    make_portfolio: MakePortfolio, tmp_path: Path, server: str
) -> None:
    secret = tmp_path / "secret.svg"
    secret.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="20">'
        '<text x="0" y="15">TOPSECRETVALUE</text></svg>'
    )
    body = (
        f"![remote]({server}/tracker.png)\n\n![outside](../../secret.svg)\n\n"
        f"![passwd](file:///etc/passwd)\n\n[a link]({server}/page)\n"
    )
    root = make_portfolio(
        {"concerns/med-01.md": CONCERN_MD.replace("Body text with a *word*.", body)}
    )
    build = load(root)
    pdf = render_pdf(build)
    assert _Recorder.requests == []
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "TOPSECRETVALUE" not in text and "root:x:" not in text
    e402 = [f.message for f in build.findings if f.code == "E402"]
    assert len(e402) == 4


def test_the_fetcher_itself_refuses_everything_outside(tmp_path: Path, server: str) -> None:
    from weasyprint import HTML

    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "ok.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')
    (tmp_path / "outside.svg").write_text("<svg/>")
    policy = ConfinedFetcher([inside.resolve()])
    html = (
        f'<img src="{server}/x.png"><img src="{(tmp_path / "outside.svg").as_uri()}">'
        f'<img src="{(inside / "ok.svg").as_uri()}">'
        f'<img src="{(inside / ".." / "outside.svg").as_uri()}">'
        '<link rel="stylesheet" href="https://example.org/x.css">'
    )
    HTML(string=html, url_fetcher=policy.fetcher()).write_pdf()
    assert _Recorder.requests == []
    assert len(policy.refused) == 4
    assert policy.allowed((inside / "ok.svg").as_uri()) == (inside / "ok.svg").resolve()
    for url in (
        f"{server}/x",
        "file:///etc/passwd",
        (tmp_path / "outside.svg").as_uri(),
        "data:image/png;base64,AAAA",
    ):
        with pytest.raises(FetchRefused):
            policy.allowed(url)


def test_css_strings_cannot_break_out() -> None:
    assert css_string('a"b') == '"a\\22 b"'
    assert css_string("</style><script>") == '"\\3C /style\\3E \\3C script\\3E "'
    assert css_string("x\\ny") == '"x\\5C ny"'


# --- the summary and the findings that open the body ------------------------------------------


def section_text(reader: PdfReader, first: str, after: str) -> str:
    """The text of the pages from top-level bookmark ``first`` up to ``after``, on one line."""
    starts = {title: page for depth, title, page in outline(reader) if depth == 0}
    pages = range(starts[first], starts[after])
    text = re.sub(r"\s+", " ", " ".join(page_text(reader, i) for i in pages))
    # A line broken after a hyphen ("same-/day") reads back as "same- day".
    return re.sub(r"(\w)- (\w)", r"\1-\2", text)


def shows_date(text: str, day: date) -> bool:
    """Whether ``text`` names ``day``, as an ISO date or the UK way ("31 Oct 2026")."""
    return day.isoformat() in text or f"{day.day} {day:%b %Y}" in text


def measure_rows(build: Build, text: str) -> dict[str, str]:
    """Each measure's row in the summary's outcome tables: the text from its id and name to
    the next row's."""
    starts = {}
    for outcome in build.outcomes.values():
        m = outcome.measure
        found = text.find(f"{m.id} {m.name}")
        assert found >= 0, f"{m.id} is not in the summary"
        starts[m.id] = found
    ordered = sorted(starts.items(), key=lambda item: item[1])
    ends = [start for _, start in ordered[1:]] + [len(text)]
    return {mid: text[start:end] for (mid, start), end in zip(ordered, ends, strict=True)}


def test_the_summary_comes_first_then_the_findings(sample: tuple[Build, PdfReader]) -> None:
    _, reader = sample
    top = [(title, page) for depth, title, page in outline(reader) if depth == 0]
    titles = [title for title, _ in top]
    assert titles[:4] == ["Contents", SUMMARY, FINDINGS, "Coverage of the quality statements"]
    pages = [page for _, page in top]
    assert pages == sorted(pages)
    assert pages[1] < pages[2] < pages[3]
    # The summary starts on the page after the contents, and says what it is on that page.
    contents_end = pages[1]
    assert "Contents" in page_text(reader, contents_end - 1)
    assert "Summary: where the service stands" in page_text(reader, pages[1])
    numbers = contents_numbers(reader)
    assert numbers[SUMMARY] == pages[1] + 1
    assert numbers[FINDINGS] == pages[2] + 1


def test_the_summary_tells_where_the_service_stands(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    text = section_text(reader, SUMMARY, FINDINGS)
    p = build.portfolio
    assert f"is working on {len(p.concerns)} concerns" in text
    for colour in ("Red", "Amber", "Green", "Blue"):
        assert colour in text
    overdue = [a for _, a in p.actions.values() if build.status[a.id].label == "Overdue"]
    assert overdue, "the sample has an overdue action"
    for action in overdue:
        assert f"{action.id} {action.title}" in text
    closed = [c for c in p.concerns.values() if c.status == "closed"]
    assert closed, "the sample has closed concerns"
    for concern in closed:
        assert concern.closure is not None
        assert f"{concern.id} {concern.title}" in text
        for evidence in concern.closure.evidence:
            assert evidence in text


def test_the_summary_names_each_measure_from_baseline_to_target(
    sample: tuple[Build, PdfReader],
) -> None:
    build, reader = sample
    text = section_text(reader, SUMMARY, FINDINGS)
    rows = measure_rows(build, text)
    for kq in build.portfolio.framework.key_questions:
        assert kq.title in text
    for mid, row in rows.items():
        outcome = build.outcomes[mid]
        m = outcome.measure
        baseline = row.index(with_unit(m.baseline.value, m.unit), len(m.id) + len(m.name))
        assert shows_date(row, m.baseline.date), mid
        if outcome.readings:
            latest = row.index(with_unit(outcome.latest.value, m.unit), baseline + 1)
            assert shows_date(row[latest:], outcome.latest.date), mid
        else:
            latest = row.index("none yet")
        target = row.index(with_unit(m.target.value, m.unit), latest + 1)
        if m.target.by is not None:
            assert shows_date(row[target:], m.target.by), mid
        assert outcome.label in row[target:], mid


def test_a_change_in_a_percent_measure_is_in_points(sample: tuple[Build, PdfReader]) -> None:
    build, reader = sample
    rows = measure_rows(build, section_text(reader, SUMMARY, FINDINGS))
    percent = [o for o in build.outcomes.values() if o.measure.unit == "%" and o.readings]
    assert percent
    for outcome in percent:
        change = difference(outcome.change, "%")
        assert change.endswith(("point", "points"))
        assert change in rows[outcome.measure.id], outcome.measure.id
    # A count keeps its own unit.
    counted = [o for o in build.outcomes.values() if o.measure.unit not in (None, "%")]
    assert counted
    for outcome in counted:
        change = difference(outcome.change, outcome.measure.unit)
        assert change in rows[outcome.measure.id], outcome.measure.id


def test_the_findings_section_keeps_every_finding_with_its_title(
    sample: tuple[Build, PdfReader],
) -> None:
    build, reader = sample
    text = section_text(reader, FINDINGS, "Coverage of the quality statements")
    assert build.findings
    for finding in build.findings:
        title = rule_by_code(finding.code).title
        assert f"{title} ({finding.severity} priority, {finding.code})" in text, finding
        assert re.sub(r"\s+", " ", show_dates_in(finding.message)) in text, finding
    # Grouped under the key questions, and each concern with findings named with its title.
    for kq in build.portfolio.framework.key_questions:
        assert kq.title in text
    for concern_id in {f.concern for f in build.findings if f.concern}:
        concern = build.portfolio.concerns[concern_id]
        assert f"{concern.id} {concern.title}" in text


def test_a_measure_that_got_worse_is_shown_as_worse(make_portfolio: MakePortfolio) -> None:
    worse = CONCERN_MD.replace(
        "{date: 2026-02-10, value: 81, evidence: EV-02}",
        "{date: 2026-02-10, value: 60, evidence: EV-02}",
    )
    build = load(make_portfolio({"concerns/med-01.md": worse}))
    reader = PdfReader(io.BytesIO(render_pdf(build).data))
    text = section_text(reader, SUMMARY, FINDINGS)
    row = measure_rows(build, text)["MED-01-M1"]
    assert "72%" in row and "60%" in row and "95%" in row
    assert "-12 points" in row
    assert "worse" in row
    assert "and 1 is worse" in text


# --- incremental builds: only the chunks whose content changed are laid out again ---------------


def _built_pdf(source: Path, out: Path, use_cache: bool = True) -> tuple[Built, bytes]:
    built = build(BuildOptions(path=source, out=out, use_cache=use_cache, workers=2))
    assert built.pdf is not None
    return built, (out / "portfolio.pdf").read_bytes()


def _first_concern(reader: PdfReader) -> str:
    """The id of the concern printed first."""
    return next(t for d, t, _ in outline(reader) if d == 2).split(" ", 1)[0]


def _check_pages_and_links(build_: Build, reader: PdfReader) -> None:
    """Contents numbers, outline, "see" references, links and folios, read back."""
    numbers = contents_numbers(reader)
    marks = outline(reader)
    concerns = {t.split(" ", 1)[0]: pg for d, t, pg in marks if d == 2}
    assert len(concerns) == len(build_.portfolio.concerns)
    for depth, title, page in marks:
        if depth and title in numbers:
            assert numbers[title] == page + 1, title
    for concern_id, page in concerns.items():
        assert concern_id in page_text(reader, page)
    dests = {
        name: reader.get_destination_page_number(d) for name, d in reader.named_destinations.items()
    }
    for concern_id, page in concerns.items():
        assert dests[f"concern-{concern_id}"] == page
    for index in range(len(reader.pages)):
        for target in link_targets(reader, index):
            assert target in dests, (index, target)
        assert f"Page {index + 1} of {len(reader.pages)}" in page_text(reader, index)


def test_an_edit_that_adds_pages_early_gives_the_pdf_a_clean_build_gives(tmp_path: Path) -> None:
    source = tmp_path / "portfolio"
    shutil.copytree(SAMPLE, source)
    out = tmp_path / "site"
    first, before = _built_pdf(source, out)
    assert first.pdf is not None and first.pdf.reused == 0
    reader = PdfReader(io.BytesIO(before))
    early = _first_concern(reader)
    assert first.build is not None
    path = first.build.portfolio.sources[early].path
    # Some five pages more, in the first concern printed: every page after it moves.
    words = "The team went through the records again with the family and wrote down what changed. "
    added = "\n\n".join(f"Follow-up note {n}. " + words * 6 for n in range(60))
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + added + "\n", encoding="utf-8")

    second, after = _built_pdf(source, out)
    assert second.pdf is not None and second.build is not None
    assert second.pdf.pages >= first.pdf.pages + 3
    assert second.pdf.reused > 0, "chunks after the edit's section are used again"
    clean, scratch = _built_pdf(source, tmp_path / "clean", use_cache=False)
    assert clean.pdf is not None and clean.pdf.reused == 0
    assert after == scratch
    reader = PdfReader(io.BytesIO(after))
    _check_pages_and_links(second.build, reader)
    # The added text is there, once, in the concern's pages.
    text = "\n".join(page_text(reader, i) for i in range(len(reader.pages)))
    assert text.count("Follow-up note 59.") == 1


def test_an_edit_inside_one_concern_lays_out_only_its_chunk_and_the_cover(tmp_path: Path) -> None:
    source = tmp_path / "portfolio"
    shutil.copytree(SAMPLE, source)
    out = tmp_path / "site"
    first, _ = _built_pdf(source, out)
    assert first.pdf is not None and first.build is not None
    concern = sorted(first.build.portfolio.concerns)[-1]
    path = first.build.portfolio.sources[concern].path
    # A word shorter in the body's text: the concern's pages stay as many.
    head, _, body = path.read_text(encoding="utf-8").partition("\n---\n")
    assert " and " in body
    path.write_text(head + "\n---\n" + body.replace(" and ", " & ", 1), encoding="utf-8")
    second, after = _built_pdf(source, out)
    assert second.pdf is not None and second.build is not None
    assert second.pdf.pages == first.pdf.pages
    # The cover names the build, so it is always laid out; the contents' numbers are as they were.
    assert second.pdf.laid_out == 2
    assert second.pdf.reused == first.pdf.laid_out - 2
    _, scratch = _built_pdf(source, tmp_path / "clean", use_cache=False)
    assert after == scratch
    _check_pages_and_links(second.build, PdfReader(io.BytesIO(after)))


def test_a_layout_kept_wrong_is_laid_out_again() -> None:
    number = (0, "concern-A-1", (500.0, 480.0, 300.5, 700.0), 10.5, True, (0.1, 0.2, 0.3))
    good = Laid(3, {"concern-A-1": 2}, [(1, "Title", 0, 56.0, 700.5, False)], [], [number])
    assert Laid.from_plain(good.plain()) == good
    pages, anchors, bookmarks, refused, numbers = good.plain()
    for bad in (
        None,
        (),
        [pages, anchors, bookmarks, refused, numbers],
        ("3", anchors, bookmarks, refused, numbers),
        (pages, {"a": "1"}, bookmarks, refused, numbers),
        (pages, anchors, [(1, "Title", 0, 56.0, 700.5)], refused, numbers),
        (pages, anchors, [(1, "Title", 0, "x", 700.5, False)], refused, numbers),
        (pages, anchors, [(1, "Title", 0, 56.0, 700.5, "closed")], refused, numbers),
        (pages, anchors, bookmarks, [b"url"], numbers),
        (pages, anchors, bookmarks, refused, [number[:5]]),
        (pages, anchors, bookmarks, refused, [(*number[:2], (500.0, 480.0, 300.5), *number[3:])]),
        (pages, anchors, bookmarks, refused, [(*number[:3], True, *number[4:])]),
        (pages, anchors, bookmarks, refused, [(*number[:5], (0.1, 0.2, "0.3"))]),
    ):
        assert Laid.from_plain(bad) is None, bad


def test_chunks_start_with_each_section_and_an_edit_moves_no_cut_outside_its_own(
    tmp_path: Path,
) -> None:
    source = tmp_path / "portfolio"
    shutil.copytree(SAMPLE, source)
    built = load(source)
    printed = PrintDocument(built)
    largest = max(layout_cost(part.html) for part in printed.parts())
    before = printed.chunks(1.0)
    kqs = built.portfolio.framework.key_questions
    for kq in kqs:
        opening = [c for c in before if f'id="kq-{kq.slug}"' in c.html]
        assert len(opening) == 1, kq.slug
        # The key question starts its chunk: nothing of another section comes before it.
        assert "data-section=" not in opening[0].html.split(f'id="kq-{kq.slug}"')[0]
    for chunk in before:
        assert layout_cost(chunk.html) <= 1.0 + largest + 0.1
    # The first concern printed under the last key question grows a lot.
    kq = kqs[-1]
    concern = next(
        c
        for st in kq.statements
        for c in built.portfolio.concerns_by_statement[st.slug]
        if printed.placed[c.id] == st.slug
    )
    path = built.portfolio.sources[concern.id].path
    added = "\n\n".join(f"Note {n}: the family were told what changed." * 5 for n in range(40))
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + added + "\n", encoding="utf-8")
    after = PrintDocument(load(source)).chunks(1.0)
    kept = {c.html for c in before}
    changed = [c for c in after if c.html not in kept]
    assert changed
    for chunk in changed:
        assert f'id="kq-{kq.slug}"' in chunk.html or f'data-section="{kq.title}"' in chunk.html
    assert len(after) - len(changed) >= len(before) // 2


def test_chunks_grow_by_doubling_beyond_the_most_chunks_up_to_the_largest() -> None:
    most = CHUNK_COST * MAX_CHUNKS
    assert chunk_target(10.0) == CHUNK_COST
    assert chunk_target(most) == CHUNK_COST
    assert chunk_target(most * 1.01) == chunk_target(most * 1.9) == 2 * CHUNK_COST
    # Never beyond the largest chunk, however large the portfolio: more chunks instead, so
    # that a worker's memory stays flat.
    assert MAX_CHUNK_COST == 2 * CHUNK_COST
    assert chunk_target(most * 5) == chunk_target(most * 100) == MAX_CHUNK_COST
    assert chunk_target(most * 5, base=MAX_CHUNK_COST * 2) == MAX_CHUNK_COST * 2


def test_folio_text_is_encoded_for_its_font() -> None:
    font = FolioFont(templates_dir() / ASSETS / "fonts" / FOLIO_FONT)
    shown = font.encode("Internal edition · as of 1\u00a0Apr\u00a02026 · Page 1 of 2 ✓")
    assert shown == b"Internal edition \xb7 as of 1\xa0Apr\xa02026 \xb7 Page 1 of 2 ?"
    assert font.width(b"10", 8.0) == font.width(b"1", 8.0) + font.width(b"0", 8.0) > 0
