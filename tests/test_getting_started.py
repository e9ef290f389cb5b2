"""The getting-started guide, followed as written: every `portfolio` command in it runs, in order,
in a new folder, and what it shows (messages, records to copy) is what the tool really does."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from conftest import REPO, SAMPLE, new_sheet
from generator.model import Action, Extension

GUIDE = REPO / "docs" / "getting-started.md"


def blocks(language: str) -> list[str]:
    """The text of the guide's fenced code blocks in ``language`` ("" for plain ones)."""
    found: list[str] = []
    inside: str | None = None  # the language of the block we are in
    lines: list[str] = []
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        fence = line.strip()
        if inside is None and fence.startswith("```"):
            inside, lines = fence[3:], []
        elif inside is not None and fence == "```":
            if inside == language:
                found.append("\n".join(lines) + "\n")
            inside = None
        elif inside is not None:
            lines.append(line)
    return found


def commands() -> list[list[str]]:
    """Every `portfolio` command of the guide's shell blocks, in order, as arguments."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            if line.startswith("portfolio "):
                found.append(shlex.split(line, comments=True))
    return found


def tracker(path: Path) -> None:
    """An action plan of the usual shape, as a manager keeps it."""
    book, sheet = new_sheet()
    sheet.append(["Oak Lodge action plan"])
    sheet.append([])
    sheet.append(["Ref", "Issue / Finding", "Action required", "Lead", "Target date", "RAG"])
    sheet.append([1, "Call bells slow at night", "Audit call bell log", "Deputy Manager",
                  "31/01/2027", "Amber"])  # fmt: skip
    sheet.append([2, None, "Night senior checks", "Deputy Manager", "28/02/2027", "Red"])
    book.save(path)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args[1:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def preview(args: list[str], cwd: Path) -> None:
    """Start the preview as the guide says (on a free port), open the page, stop it."""
    server = subprocess.Popen(
        [sys.executable, "-m", "generator", *args[1:], "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    try:
        assert server.stdout is not None
        address = ""
        for line in server.stdout:
            if match := re.search(r"Serving (http://\S+)", line):
                address = match.group(1)
                break
        assert address, server.stderr.read() if server.stderr else ""
        with urllib.request.urlopen(address, timeout=60) as answer:
            assert b"Oak Lodge" in answer.read()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    sequence = commands()
    names = [" ".join(c[:2]) for c in sequence]
    for step in ("init", "import", "new", "serve", "check", "build", "export", "verify"):
        assert f"portfolio {step}" in names, step
    tracker(tmp_path / "Action plan.xlsx")
    for args in sequence:
        if args[1] == "serve":
            preview(args, tmp_path)
            continue
        if args[1:3] == ["report", "commissioner"]:
            # The guide's instruction before this command: share with commissioners.
            settings = tmp_path / "my-home" / "portfolio.yaml"
            text = settings.read_text(encoding="utf-8")
            assert "default_visibility: inspection" in text
            text = text.replace(
                "default_visibility: inspection", "default_visibility: commissioner"
            )
            settings.write_text(text, encoding="utf-8")
        result = run(args, tmp_path)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
    site = tmp_path / "my-home-site"
    assert (site / "index.html").is_file()
    assert len(PdfReader(site / "portfolio.pdf").pages) > 1
    folder = tmp_path / "inspection-evidence"
    assert (folder / "MANIFEST.sha256").is_file() and (folder / "portfolio.pdf").is_file()
    assert (tmp_path / "commissioner-update.html").is_file()
    assert (tmp_path / "action-plan.xlsx").is_file()
    concerns = [p.name for p in (tmp_path / "my-home" / "concerns").glob("*.md")]
    assert any(name.startswith("call-01-") for name in concerns), concerns


def test_the_error_the_guide_shows_is_the_one_the_tool_gives(tmp_path: Path) -> None:
    assert run(["portfolio", "init", "my-home"], tmp_path).returncode == 0
    (concern,) = (tmp_path / "my-home" / "concerns").glob("*.md")
    text = concern.read_text(encoding="utf-8")
    concern.write_text(text.replace("owner: registered-manager", "owner: registered-manger", 1))
    result = run(["portfolio", "check", "my-home"], tmp_path)
    assert result.returncode == 1
    (message,) = [line for line in result.stderr.splitlines() if "unknown role" in line]
    assert any(message in block.splitlines() for block in blocks(""))


def test_the_findings_the_guide_shows_are_the_samples() -> None:
    result = run(["portfolio", "check", os.path.relpath(SAMPLE, REPO)], REPO)
    shown = [line for block in blocks("") for line in block.splitlines() if "content/" in line]
    assert len(shown) == 3
    for line in shown:
        assert line in result.stdout.splitlines(), line


@pytest.mark.parametrize("index", [0, 1])
def test_the_records_to_copy_load(index: int) -> None:
    snippet = blocks("yaml")[index]
    data = yaml.safe_load(snippet)
    if index == 0:
        (action,) = data
        assert Action.model_validate(action).updates
    else:
        (extension,) = data["extensions"]
        assert Extension.model_validate(extension).reason
