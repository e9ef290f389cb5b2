"""Without Pango (or WeasyPrint), the build still makes the site and says how to get the PDF.

The command line runs in a process where WeasyPrint cannot load: a ``sitecustomize`` makes the
loading of the GObject library fail as it does on a machine without Pango, inside WeasyPrint's
own import (or hides WeasyPrint altogether). Nothing of the tool is replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import MakePortfolio

NO_PANGO = """\
import cffi.api

_dlopen = cffi.api.FFI.dlopen


def dlopen(self, name, *args, **kwargs):
    if "gobject" in str(name):
        raise OSError(
            f"cannot load library '{name}': {name}: cannot open shared object file: "
            "No such file or directory"
        )
    return _dlopen(self, name, *args, **kwargs)


cffi.api.FFI.dlopen = dlopen
"""

NO_WEASYPRINT = """\
import sys


class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Hide())
"""

INSTALL_LINES = (
    "sudo apt install libpango-1.0-0 libpangoft2-1.0-0",
    "brew install pango",
    "pacman -S mingw-w64-ucrt-x86_64-pango",
    "WSL",
)


def run(args: list[str], broken: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if broken is not None:
        hook = tmp_path / "hook"
        hook.mkdir(exist_ok=True)
        (hook / "sitecustomize.py").write_text(broken, encoding="utf-8")
        env["PYTHONPATH"] = str(hook)
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )


def assert_says_how_to_get_the_pdf(stderr: str) -> None:
    for line in INSTALL_LINES:
        assert line in stderr, line
    assert "Traceback" not in stderr


def test_the_site_is_built_without_pango_and_the_pdf_once_pango_is_there(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    first = run(["build", str(root), "-o", str(out)], NO_PANGO, tmp_path)
    assert first.returncode == 3, first.stderr
    assert (out / "index.html").is_file() and (out / "concerns").is_dir()
    assert (out / "downloads" / "action-tracker.xlsx").is_file()
    assert not (out / "portfolio.pdf").exists()
    pages = list(out.rglob("*.html"))
    assert pages and not any("portfolio.pdf" in p.read_text(encoding="utf-8") for p in pages)
    assert ", no PDF (" in first.stdout
    assert "warning: the PDF was not made: WeasyPrint, which makes the PDF, cannot" in first.stderr
    assert "cannot load library 'libgobject-2.0-0'" in first.stderr
    assert f"Everything else was built: open {out.as_posix()}/index.html" in first.stderr
    assert_says_how_to_get_the_pdf(first.stderr)
    # WeasyPrint's own notice (printed before it raises) is replaced by the message above.
    assert "could not import some external libraries" not in first.stdout + first.stderr
    # The output does not claim the PDF: the same build is not "up to date", it runs again.
    again = run(["build", str(root), "-o", str(out)], NO_PANGO, tmp_path)
    assert again.returncode == 3 and "up to date" not in again.stdout
    # With Pango, the same command makes the PDF, and then the output is up to date.
    fixed = run(["build", str(root), "-o", str(out)], None, tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert "up to date" not in fixed.stdout and "warning" not in fixed.stderr
    assert len(PdfReader(out / "portfolio.pdf").pages) > 1
    assert "portfolio.pdf" in (out / "index.html").read_text(encoding="utf-8")
    done = run(["build", str(root), "-o", str(out)], None, tmp_path)
    assert done.returncode == 0 and "is up to date" in done.stdout


def test_without_weasyprint_at_all(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    result = run(["build", str(root), "-o", str(out)], NO_WEASYPRINT, tmp_path)
    assert result.returncode == 3, result.stderr
    assert (out / "index.html").is_file() and not (out / "portfolio.pdf").exists()
    assert "WeasyPrint, which makes the PDF, is not installed (No module named" in result.stderr
    assert_says_how_to_get_the_pdf(result.stderr)


def test_no_pdf_asked_for_needs_no_pango(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    result = run(["build", str(root), "-o", str(out), "--no-pdf"], NO_PANGO, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "index.html").is_file() and result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["build", "{root}", "-o", "{out}", "--pdf-only"],
        ["report", "commissioner", "{root}", "--format", "pdf", "-o", "{out}.pdf"],
        ["report", "action-plan", "{root}", "--format", "pdf", "-o", "{out}.pdf"],
        ["export", "inspection", "{root}", "-o", "{out}"],
    ],
)
def test_what_is_only_a_pdf_is_refused_with_the_same_help(
    make_portfolio: MakePortfolio, tmp_path: Path, args: list[str]
) -> None:
    root, out = make_portfolio(), tmp_path / "made"
    filled = [a.format(root=root, out=out) for a in args]
    result = run(filled, NO_PANGO, tmp_path)
    assert result.returncode == 3, result.stderr
    assert "The PDF could not be made: WeasyPrint, which makes the PDF, cannot load" in (
        result.stderr
    )
    assert "nothing was written." in result.stderr
    assert_says_how_to_get_the_pdf(result.stderr)
    assert not out.exists() and not Path(f"{out}.pdf").exists()


def test_reports_that_are_not_pdfs_need_no_pango(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root, out = make_portfolio(), tmp_path / "plan.csv"
    args = ["report", "action-plan", str(root), "--format", "csv", "-o", str(out)]
    result = run(args, NO_PANGO, tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
