"""Hardening: hostile content stays inert everywhere, output is reproducible, limits hold."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from conftest import BASE_FILES, CONCERN_MD, PORTFOLIO_YAML, MakePortfolio, write_files
from generator.cli import cli

PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'
LINKS = (
    "[a](javascript:alert(3)) [b](data:text/html,<script>alert(4)</script>) <javascript:alert(5)>"
)


def hostile_files() -> dict[str, str | bytes | None]:
    concern = CONCERN_MD
    for field in (
        "title: Medicines records incomplete",
        "baseline: Repeated MAR gaps.",
        "intended_outcome: 95% complete medicines records.",
    ):
        key, _, value = field.partition(": ")
        concern = concern.replace(field, f"{key}: '{value} {PAYLOAD}'")
    concern = concern.replace(
        "    title: Competency checks", f"    title: 'Competency checks {PAYLOAD}'"
    )
    concern = concern.replace("Body text with a *word*.", f"{PAYLOAD}\n\n{LINKS}\n")
    settings = (
        PORTFOLIO_YAML.replace("name: Tom Reid", f"name: 'Tom {PAYLOAD}'")
        .replace("service: Riverside House", f"service: 'Riverside {PAYLOAD}'")
        .replace(
            "  medicines-lead: {title: Medicines Lead}",
            "  medicines-lead: {title: Medicines Lead}\n  '../../escape': {name: Odd Role}",
        )
    )
    evidence = str(BASE_FILES["evidence/ev-01.md"]).replace(
        "summary: 72% of charts complete.", f"summary: '{PAYLOAD}'"
    )
    return {
        "concerns/med-01.md": concern,
        "portfolio.yaml": settings,
        "evidence/ev-01.md": evidence,
    }


def every_text(out: Path) -> list[tuple[Path, str]]:
    found = []
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        found.append((path, data.decode("utf-8", errors="replace")))
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    found.append((path, archive.read(name).decode("utf-8", errors="replace")))
    return found


def test_hostile_content_never_becomes_live_markup(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio(hostile_files())
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--audience", "internal"])
    assert result.exit_code == 0, result.stderr
    pages = 0
    for path, text in every_text(out):
        lowered = text.lower()
        if path.suffix == ".html":
            pages += 1
            assert "<script>alert" not in lowered, path
            assert "onerror=" not in lowered.replace("onerror=&#34;", "").replace(
                "onerror=&quot;", ""
            ), path
            assert 'href="javascript:' not in lowered and 'href="data:' not in lowered, path
            scripts = lowered.count("<script")
            allowed = lowered.count('<script src="')
            assert scripts == allowed, path  # only our own script files, never inline
        elif path.suffix == ".js" and path.name == "search-index.js":
            assert "</script" not in lowered  # "</" is escaped in the index
    assert pages > 50
    # An odd role name cannot place a page outside its folder.
    assert (out / "roles").is_dir()
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert not (tmp_path / "escape.html").exists()
    text = "".join(p.extract_text() or "" for p in PdfReader(out / "portfolio.pdf").pages)
    assert "alert(1)" in text  # shown as text in the PDF, never run


def test_reproducible_whatever_the_order_files_were_created(tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    first = write_files(tmp_path / "a" / "content", files)
    second_root = tmp_path / "b" / "content"
    for rel in reversed(list(files)):  # created in the opposite order
        write_files(second_root, {rel: files[rel]})
    outputs = []
    for root in (first, second_root):
        out = root.parent / "site"
        result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        outputs.append(
            {
                p.relative_to(out).as_posix(): p.read_bytes()
                for p in sorted(out.rglob("*"))
                if p.is_file()
            }
        )
    a, b = outputs
    assert a.keys() == b.keys()
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []


def test_a_five_megabyte_record_builds(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    paragraph = "The evening medicines round was observed and recorded in full. " * 40 + "\n\n"
    body = paragraph * (5_000_000 // len(paragraph))
    root = make_portfolio({"concerns/med-01.md": CONCERN_MD + body})
    assert (root / "concerns" / "med-01.md").stat().st_size > 4_900_000
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(tmp_path / "s"), "--no-pdf"])
    assert result.exit_code == 0, result.stderr
    index = (tmp_path / "s" / "assets" / "search-index.js").stat().st_size
    assert index < 200_000  # bodies are capped in the search index


def test_an_interrupted_build_leaves_the_previous_site(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = make_portfolio()
    out = tmp_path / "site"
    assert CliRunner().invoke(cli, ["build", str(root), "-o", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    # Builds stopped at different points (reading, laying out the PDF, writing, swapping)
    # leave the site complete: the same content gives the same bytes, so any half-written
    # state would show as a missing or different file.
    for delay in (0.3, 0.8, 1.5, 2.2, 2.6, 3.0):
        process = subprocess.Popen(
            [sys.executable, "-m", "generator", "build", str(root), "-o", str(out), "--force"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        # The marker names the inputs' key of the build that wrote the site: the same.
        assert now == before, delay
    # Nor does a killed build leave its worker processes behind.
    proc = Path("/proc")
    if proc.is_dir():
        deadline = time.monotonic() + 10
        while True:
            left = []
            for entry in proc.iterdir():
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if str(out).encode() in command:
                    left.append(entry.name)
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert left == []
