"""Judgements are never silently wrong: what a record leaves out is inferred the safe way, and
what it says against itself is an error with its line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import CONCERN_MD, MakePortfolio
from generator.cli import cli
from generator.pipeline import load

LATE_VISITS = CONCERN_MD.replace(
    """    name: Complete medicines records
    unit: "%"
    baseline: {date: 2026-01-12, value: 72, evidence: EV-01}
    target: {value: 95, by: 2026-09-30, sustain: 2}
    readings:
      - {date: 2026-02-10, value: 81, evidence: EV-02}""",
    """    name: Late home-care visits
    unit: "%"
    baseline: {date: 2026-01-12, value: 12, evidence: EV-01}
    target: {value: 3, by: 2026-09-30}
    readings:
      - {date: 2026-02-10, value: 4.8, evidence: EV-02}""",
)


def test_a_target_below_the_baseline_means_lower_is_better(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    assert "direction" not in LATE_VISITS
    root = make_portfolio({"concerns/med-01.md": LATE_VISITS})
    built = load(root)
    outcome = built.outcomes["MED-01-M1"]
    assert built.portfolio.measures["MED-01-M1"][1].direction == "down"
    assert not outcome.at_target  # 4.8% late visits is not the 3% aimed for
    assert outcome.state == "improving"
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    page = (out / "concerns" / "MED-01.html").read_text(encoding="utf-8")
    assert "Lower is better" in page


def test_a_direction_against_the_target_is_an_error_at_its_line(
    make_portfolio: MakePortfolio,
) -> None:
    text = LATE_VISITS.replace('    unit: "%"\n', '    unit: "%"\n    direction: up\n', 1)
    root = make_portfolio({"concerns/med-01.md": text})
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 1, result.output
    line = text.splitlines().index("    direction: up") + 1
    assert f"concerns/med-01.md:{line}: direction: up says higher is better" in result.output
    assert "target (3) is below the baseline (12)" in result.output


def test_the_home_page_says_how_old_the_as_of_date_is(
    make_portfolio: MakePortfolio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790208000")  # 2026-09-24, the day of the build
    root = make_portfolio()  # as_of 2026-06-30
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "30\u00a0Jun\u00a02026 (86 days before this build on 24\u00a0Sep\u00a02026)" in home


def test_readings_dated_after_the_as_of_date_are_findings(make_portfolio: MakePortfolio) -> None:
    later = CONCERN_MD.replace(
        "      - {date: 2026-02-10, value: 81, evidence: EV-02}",
        "      - {date: 2026-02-10, value: 81, evidence: EV-02}\n"
        "      - {date: 2026-08-03, value: 96, evidence: EV-02}",
    )
    root = make_portfolio({"concerns/med-01.md": later})
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 0, result.output
    line = later.splitlines().index("      - {date: 2026-08-03, value: 96, evidence: EV-02}") + 1
    assert (
        f"concerns/med-01.md:{line}: E403 MED-01-M1 has a reading dated 2026-08-03, after the "
        "as-of date 2026-06-30" in result.output
    )


def test_a_commissioner_update_with_nothing_shared_is_an_error(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()  # nothing marked for commissioners
    target = tmp_path / "update.html"
    result = CliRunner().invoke(cli, ["report", "commissioner", str(root), "-o", str(target)])
    assert result.exit_code == 1, result.output
    assert "no concern is shared with commissioners" in result.output
    assert "visibility: commissioner" in result.output
    assert not target.exists()


def test_a_shared_concern_without_shared_evidence_is_warned_of(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    shared = CONCERN_MD.replace("status: open\n", "status: open\nvisibility: commissioner\n", 1)
    root = make_portfolio({"concerns/med-01.md": shared})
    target = tmp_path / "update.html"
    result = CliRunner().invoke(cli, ["report", "commissioner", str(root), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output
    assert "MED-01 is shared with commissioners but cites no evidence they may see" in result.output


def test_a_colour_says_why_beside_it(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    import re

    overdue = CONCERN_MD.replace("    due: 2026-08-31\n", "    due: 2026-05-31\n", 1)
    root = make_portfolio({"concerns/med-01.md": overdue})
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    for page in ("concerns/MED-01.html", "concerns/index.html"):
        html = (out / page).read_text(encoding="utf-8")
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
        assert "Red Off track: 1 action overdue" in text, page
    tracker = re.sub(r"<[^>]+>", "", (out / "action-tracker.html").read_text(encoding="utf-8"))
    assert "Red Overdue: due 31\u00a0May\u00a02026, 30 days ago, not completed" in tracker


def test_the_action_plan_xlsx_has_dates_colours_and_a_frozen_filtered_header(
    tmp_path: Path,
) -> None:
    import openpyxl

    from conftest import SAMPLE

    target = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(cli, ["report", "action-plan", str(SAMPLE), "-o", str(target)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    deadline, colour = header.index("Deadline") + 1, header.index("Status colour") + 1
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{sheet.max_row}"
    fills = {"Red": "00B10E1E", "Amber": "00F5A300", "Green": "0000703C", "Blue": "001D70B8"}
    seen = set()
    for row in range(2, sheet.max_row + 1):
        due = sheet.cell(row, deadline)
        assert due.is_date and due.number_format == "dd mmm yyyy"
        status = sheet.cell(row, colour)
        word = str(status.value).split(":")[0]
        assert status.fill.fgColor.rgb == fills[word]  # the fill, and the word beside it
        seen.add(word)
    assert seen == set(fills)
    assert all(sheet.column_dimensions[c].width for c in "ABCDEFGHIJKLMN")


def test_the_action_plan_pdf_fits_its_pages_and_gives_each_baseline_once(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from conftest import SAMPLE

    target = tmp_path / "plan.pdf"
    command = ["report", "action-plan", str(SAMPLE), "-o", str(target), "--format", "pdf"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    reader = PdfReader(target)
    text = ""
    for page in reader.pages:
        width = float(page.mediabox.width)
        right: list[float] = []

        def seen(
            t: str, cm: Any, tm: Any, _font: Any, _size: Any, right: list[float] = right
        ) -> None:
            if t.strip():  # where the text starts on the page: its matrix, then the page's
                right.append(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])

        text += page.extract_text(visitor_text=seen) + "\n"
        assert right and max(right) < width, "text starts past the page's right edge"
    words = " ".join(text.split())
    for heading in ("Action", "Owner", "Deadline", "Status", "Progress", "Closure evidence"):
        assert heading in words
    assert "Regulat ion" not in words and "Regulat\nion" not in text
    baseline = "The call bell system showed that in March 71% of"
    assert words.count(baseline) == 1
    assert len(reader.pages) <= 9  # 45 actions; every row used to repeat its baseline (12 pages)


def test_dates_read_the_uk_way_and_never_break(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    import re

    from generator.render.dates import show_date, show_dates_in

    assert show_date(date(2026, 7, 31)) == "31\u00a0Jul\u00a02026"
    assert show_date(date(2026, 7, 31), "iso") == "2026-07-31"
    assert (
        show_dates_in("due 2026-07-31, not 2026-13-45")
        == "due 31\u00a0Jul\u00a02026, not 2026-13-45"
    )
    root = make_portfolio()
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    page = (out / "concerns" / "MED-01.html").read_text(encoding="utf-8")
    text = re.sub(r'="[^"]*"', "", page)  # attributes aside, where machines read ISO dates
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r"<[^>]+>", " ", text))
    assert '<time datetime="2026-06-30">30\u00a0Jun\u00a02026</time>' in page
    yaml_text = (root / "portfolio.yaml").read_text(encoding="utf-8") + "date_style: iso\n"
    (root / "portfolio.yaml").write_text(yaml_text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    assert "Baseline" in (out / "concerns" / "MED-01.html").read_text(encoding="utf-8")
    assert "2026-06-30" in (out / "index.html").read_text(encoding="utf-8").split("As of")[1][:40]
