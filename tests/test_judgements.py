"""Judgements are never silently wrong: what a record leaves out is inferred the safe way, and
what it says against itself is an error with its line."""

from __future__ import annotations

from pathlib import Path

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
    assert "2026-06-30 (86 days before this build on 2026-09-24)" in home


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
    assert "Red Overdue: due 2026-05-31, 30 days ago, not completed" in tracker
