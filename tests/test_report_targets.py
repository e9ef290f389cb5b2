"""Reports and exports never replace what the user keeps: nothing is written inside the
portfolio folder, and a file the tool did not write is replaced only with --force."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import MakePortfolio
from generator.cli import cli

COMMANDS = {
    "commissioner html": ["report", "commissioner", "--format", "html"],
    "commissioner pdf": ["report", "commissioner", "--format", "pdf"],
    "action plan xlsx": ["report", "action-plan", "--format", "xlsx"],
    "action plan csv": ["report", "action-plan", "--format", "csv"],
    "action plan pdf": ["report", "action-plan", "--format", "pdf"],
    "inspection zip": ["export", "inspection"],
}
SUFFIX = {name: "." + name.rsplit(" ", 1)[1] for name in COMMANDS}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _shared(root: Path) -> None:
    # The commissioner update needs a concern shared with commissioners.
    record = root / "concerns" / "med-01.md"
    text = record.read_text(encoding="utf-8").replace(
        "status: open\n", "status: open\nvisibility: commissioner\n", 1
    )
    record.write_text(text, encoding="utf-8")


def test_a_report_onto_a_record_is_refused(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    record = root / "concerns" / "med-01.md"
    before = record.read_bytes()
    result = run(
        "report", "action-plan", str(root), "-o", str(record), "--format", "csv", "--force"
    )
    assert result.exit_code == 1, result.output
    assert "inside the portfolio folder" in result.output
    assert record.read_bytes() == before


def test_an_export_folder_inside_the_portfolio_is_refused(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    result = run("export", "inspection", str(root), "-o", str(root / "handover"))
    assert result.exit_code == 1, result.output
    assert "inside the portfolio folder" in result.output
    assert not (root / "handover").exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_file_the_tool_did_not_write_is_replaced_only_with_force(
    make_portfolio: MakePortfolio, tmp_path: Path, name: str
) -> None:
    root = make_portfolio()
    _shared(root)
    target = tmp_path / f"minutes{SUFFIX[name]}"
    target.write_bytes(b"the user's own file")
    command = [*COMMANDS[name][:2], str(root), "-o", str(target), *COMMANDS[name][2:]]
    result = run(*command)
    assert result.exit_code == 1, result.output
    assert "was not written by portfolio" in result.output and "--force" in result.output
    assert target.read_bytes() == b"the user's own file"
    # What the tool wrote itself it may write again; with --force, anything.
    fresh = tmp_path / f"fresh{SUFFIX[name]}"
    again = [*COMMANDS[name][:2], str(root), "-o", str(fresh), *COMMANDS[name][2:]]
    assert run(*again).exit_code == 0
    first = fresh.read_bytes()
    result = run(*again)
    assert result.exit_code == 0, result.output
    assert fresh.read_bytes() == first
    result = run(*command, "--force")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != b"the user's own file"
