"""The command line: help, exit codes, messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from conftest import REPO, MakePortfolio
from generator.cli import cli


def commands() -> list[str]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands)


def test_every_command_has_help_and_is_documented() -> None:
    readme = (REPO / "README.md").read_text()
    for name in commands():
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.help, name
        assert f"portfolio {name}" in readme, f"README does not document {name}"


def test_build_reports_what_it_wrote(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    out, root = tmp_path / "out", make_portfolio()
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
    assert result.exit_code == 0
    assert result.output.startswith(f"Built {out.as_posix()}/index.html (inspection edition): ")
    assert "2 concerns, 2 actions, 2 evidence entries, 13 findings, as of 2026-06-30" in (
        result.output
    )
    assert re.search(r", PDF \d+ pages \(", result.output)
    assert (out / "portfolio.pdf").read_bytes().startswith(b"%PDF-1.7")

    # After an edit, it says how much of the PDF was laid out again.
    concern = next((root / "concerns").glob("*.md"))
    concern.write_text(concern.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")
    again = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
    assert again.exit_code == 0, again.output
    found = re.search(r", PDF \d+ pages \((\d+) of its (\d+) parts laid out again, ", again.output)
    assert found and 0 < int(found[1]) < int(found[2])


def test_as_of_option(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--as-of", "2026-09-01"])
    assert result.exit_code == 0
    assert "as of 2026-09-01" in result.output
    # MED-01-A2 was due 2026-08-31: overdue at the new date.
    assert "Overdue" in (out / "action-tracker.html").read_text()
    bad = CliRunner().invoke(cli, ["build", str(root), "--as-of", "1/9/2026"])
    assert bad.exit_code == 2
    assert "'1/9/2026' is not a date: use YYYY-MM-DD" in bad.stderr


def test_runs_as_a_module(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "build",
            str(make_portfolio()),
            "-o",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "index.html").is_file()


def test_user_errors_never_show_a_traceback(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"portfolio.yaml": "provider: [\n"})
    result = subprocess.run(
        [sys.executable, "-m", "generator", "build", str(root), "-o", str(root.parent / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.endswith("1 error; nothing was written.\n")


def test_pdf_options(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf"])
    assert result.exit_code == 0
    assert not (out / "portfolio.pdf").exists()
    assert "portfolio.pdf" not in (out / "index.html").read_text()
    page = (out / "index.html").read_bytes()
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--pdf-only"])
    assert result.exit_code == 0, result.stderr
    assert result.output.startswith(f"Built {out.as_posix()}/portfolio.pdf (inspection edition): ")
    assert (out / "portfolio.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "index.html").read_bytes() == page  # the site is left as it was
    both = CliRunner().invoke(cli, ["build", str(root), "--no-pdf", "--pdf-only"])
    assert both.exit_code == 2
    assert "--no-pdf and --pdf-only cannot be used together" in both.stderr
