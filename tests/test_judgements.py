"""Judgements are never silently wrong: what a record leaves out is inferred the safe way, and
what it says against itself is an error with its line."""

from __future__ import annotations

from pathlib import Path

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
