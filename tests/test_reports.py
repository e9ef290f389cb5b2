"""Reports: the commissioner update (with --since), the action plan, the inspection folder."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import EVIDENCE_01, PORTFOLIO_YAML, SAMPLE, MakePortfolio
from generator.check.audience import view
from generator.cli import cli
from generator.pipeline import load
from generator.render.reports import changes_since

SHARED = PORTFOLIO_YAML + "default_visibility: commissioner\n"

CHANGING = """---
id: HYD-01
title: Fluid charts incomplete
quality_statements: [supporting-healthier-lives]
source: commissioner
raised: 2026-03-01
owner: registered-manager
risk: medium
status: open
baseline: Charts 60% complete.
intended_outcome: Charts 95% complete.
measures:
  - id: HYD-01-M1
    name: Complete fluid charts
    unit: "%"
    baseline: {date: 2026-03-01, value: 60}
    target: {value: 95, by: 2026-12-31}
    readings:
      - {date: 2026-05-01, value: 70}
      - {date: 2026-06-15, value: 80}
actions:
  - {id: HYD-01-A1, title: Chart audit, owner: quality-lead, due: 2026-05-15, status: closed,
     closure: {date: 2026-05-20, by: registered-manager, evidence: []}}
  - {id: HYD-01-A2, title: Night checks, owner: quality-lead, due: 2026-06-10, status: closed,
     closure: {date: 2026-06-20, by: registered-manager, evidence: []}}
  - {id: HYD-01-A3, title: Fluid targets on care plans, owner: quality-lead, due: 2026-06-20,
     status: in-progress}
  - id: HYD-01-A4
    title: Staff briefing
    owner: quality-lead
    due: 2026-05-01
    status: in-progress
    extensions: [{to: 2026-07-31, date: 2026-06-12, agreed_by: registered-manager}]
  - id: HYD-01-A5
    title: Hydration station
    owner: quality-lead
    due: 2026-07-31
    status: completed
    updates: [{date: 2026-06-25, by: quality-lead, note: Installed}]
---
"""

NEW = """---
id: NEW-01
title: Call bells slow
quality_statements: [responding-to-immediate-needs]
source: complaint
raised: 2026-06-10
owner: registered-manager
risk: low
status: open
baseline: Slow.
intended_outcome: Fast.
---
"""


def test_changes_since_lists_each_kind_and_nothing_older(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {"portfolio.yaml": SHARED, "concerns/hyd.md": CHANGING, "concerns/new.md": NEW}
    )
    build = view(load(root), "commissioner")
    hyd = build.portfolio.concerns["HYD-01"]
    changes = [(c.kind, c.text) for c in changes_since(build, hyd, date(2026, 6, 1))]
    assert changes == [
        ("new reading", "Complete fluid charts: 80% on 2026-06-15"),
        ("action closed", "Night checks: closed on 2026-06-20"),
        ("deadline missed", "Fluid targets on care plans: due 2026-06-20, not done"),
        ("deadline extended", "Staff briefing: extended to 2026-07-31 on 2026-06-12"),
        ("action completed", "Hydration station: completed (last update 2026-06-25)"),
        ("colour", "Amber (On track) to Red (Off track)"),
    ]
    new = build.portfolio.concerns["NEW-01"]
    assert [c.kind for c in changes_since(build, new, date(2026, 6, 1))] == ["new concern"]
    assert changes_since(build, new, date(2026, 6, 10)) == []
    older = [c.text for c in changes_since(build, hyd, date(2026, 6, 21))]
    assert older == ["Hydration station: completed (last update 2026-06-25)"]


def test_commissioner_update_html_is_self_contained(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio({"portfolio.yaml": SHARED, "concerns/hyd.md": CHANGING})
    out = tmp_path / "update.html"
    result = CliRunner().invoke(
        cli, ["report", "commissioner", str(root), "--since", "2026-06-01", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    page = out.read_text()
    for text in (
        "Recovery update: Riverside House",
        "Since 1\u00a0Jun\u00a02026",
        "Night checks",
        "Baseline",
        "Evidence reviewed",
        "What remains under monitoring",
        "Open findings",
        "<svg",
    ):
        assert text in page, text
    assert "Amira Patel" not in page  # owners appear as roles, not people
    for marker in ("<link", "<script", " src=", "url("):
        assert marker not in page
    pdf = tmp_path / "update.pdf"
    result = CliRunner().invoke(
        cli, ["report", "commissioner", str(root), "--format", "pdf", "-o", str(pdf)]
    )
    assert result.exit_code == 0, result.stderr
    text = "".join(p.extract_text() or "" for p in PdfReader(pdf).pages)
    assert "Fluid charts incomplete" in text


def test_sample_commissioner_update_holds_only_shared_concerns(tmp_path: Path) -> None:
    out = tmp_path / "u.html"
    result = CliRunner().invoke(cli, ["report", "commissioner", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    build = load(SAMPLE)
    page = out.read_text()
    for concern in build.portfolio.concerns.values():
        shared = (concern.visibility or "inspection") in ("commissioner", "public")
        assert (f"{concern.id} " in page) is shared, concern.id
    personal = [e for e in build.portfolio.evidence.values() if e.personal_data]
    assert personal and all(e.title not in page for e in personal)


@pytest.mark.parametrize("form", ["csv", "xlsx", "pdf"])
def test_action_plan_formats(make_portfolio: MakePortfolio, tmp_path: Path, form: str) -> None:
    root = make_portfolio()
    out = tmp_path / f"plan.{form}"
    result = CliRunner().invoke(
        cli, ["report", "action-plan", str(root), "--format", form, "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    if form == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0][:3] == ["Concern", "Item to put right", "Regulation"]
        assert len(rows) == 3
    elif form == "xlsx":
        assert zipfile.is_zipfile(io.BytesIO(data))
    else:
        reader = PdfReader(io.BytesIO(data))
        box = reader.pages[0].mediabox
        assert box.width > box.height  # landscape
        assert "Competency checks" in (reader.pages[0].extract_text() or "")


def test_inspection_folder_and_verify(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    out = tmp_path / "evidence"
    result = CliRunner().invoke(cli, ["export", "inspection", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    for rel in (
        "index.html",
        "portfolio.pdf",
        "site/index.html",
        "MANIFEST.sha256",
        "evidence/safe/medicines-optimisation/EV-01-jan-audit.csv",
    ):
        assert (out / rel).is_file(), rel
    ok = CliRunner().invoke(cli, ["verify", str(out)])
    assert ok.exit_code == 0 and "match the manifest" in ok.output

    (out / "site" / "index.html").write_bytes((out / "site" / "index.html").read_bytes() + b" ")
    (out / "portfolio.pdf").unlink()
    (out / "site" / "extra.txt").write_text("added")
    bad = CliRunner().invoke(cli, ["verify", str(out)])
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "changed: site/index.html",
        "missing: portfolio.pdf",
        "added: site/extra.txt",
        f"{out.as_posix()} does not match its manifest.",
    ]


def test_an_attachment_with_the_longest_name_fits_in_the_inspection_folder(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """The folder names each file with its evidence id first: a name that fits the file system
    without it is shortened before its extension, never refused."""
    long = "résumé-" + "x" * 237 + ".csv"  # 250 bytes: fits, and no more with "EV-01-"
    assert len(long.encode()) == 250
    root = make_portfolio(
        {
            f"attachments/{long}": "chart,complete\nA,yes\n",
            "evidence/ev-01.md": EVIDENCE_01.replace("jan-audit.csv", long),
        }
    )
    out = tmp_path / "evidence"
    result = CliRunner().invoke(cli, ["export", "inspection", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    [copied] = (out / "evidence" / "safe" / "medicines-optimisation").iterdir()
    assert len(copied.name.encode()) == 255
    assert copied.name.startswith("EV-01-résumé-xx") and copied.name.endswith("x.csv")
    assert copied.read_text() == "chart,complete\nA,yes\n"
    index = (out / "index.html").read_text()
    assert f'href="evidence/safe/medicines-optimisation/{quote(copied.name)}"' in index
    assert CliRunner().invoke(cli, ["verify", str(out)]).exit_code == 0


def test_inspection_zip_is_reproducible_and_verifies(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    for target in (first, second):
        result = CliRunner().invoke(cli, ["export", "inspection", str(root), "-o", str(target)])
        assert result.exit_code == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    assert CliRunner().invoke(cli, ["verify", str(first)]).exit_code == 0
