"""What the user keeps beside and inside the output survives a build; what a killed build left
is cleared; outputs follow the umask; dates and names a zip or a manifest cannot hold as they
are still make a folder that verifies."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import EVIDENCE_01, MakePortfolio
from generator.cli import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_rebuild_keeps_the_hidden_entries_of_the_output(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    assert run("build", str(root), "-o", str(out), "--no-pdf").exit_code == 0
    (out / ".git").mkdir()
    (out / ".git" / "config").write_text("[remote]\n", encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")
    result = run("build", str(root), "-o", str(out), "--no-pdf", "--force")
    assert result.exit_code == 0, result.output
    assert (out / ".git" / "config").read_text(encoding="utf-8") == "[remote]\n"
    assert (out / ".nojekyll").exists()
    assert (out / "index.html").exists()


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_outputs_follow_the_umask(
    make_portfolio: MakePortfolio, tmp_path: Path, umask_022: None
) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    assert run("build", str(root), "-o", str(out), "--no-pdf").exit_code == 0
    report = tmp_path / "plan.csv"
    assert (
        run("report", "action-plan", str(root), "-o", str(report), "--format", "csv").exit_code == 0
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "index.html").stat().st_mode) == 0o644
    assert stat.S_IMODE(report.stat().st_mode) == 0o644


def test_the_build_cache_is_readable_by_its_owner_only(
    make_portfolio: MakePortfolio, tmp_path: Path, umask_022: None
) -> None:
    """The cache holds every page of every audience built from it, beside an output that may
    be published from a web server's folder: other users cannot read it, even one made
    readable by an older version."""
    root, out = make_portfolio(), tmp_path / "site"
    cache = tmp_path / ".portfolio-cache" / "site"
    cache.mkdir(parents=True, mode=0o755)
    assert run("build", str(root), "-o", str(out), "--no-pdf").exit_code == 0
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    packs = [p for p in cache.iterdir() if p.name.startswith("pack-")]
    assert packs
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in packs)


def test_what_a_killed_build_left_is_cleared(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    left = tmp_path / ".site-new-k1ll3d"  # staging that a killed build left, holding no lock
    left.mkdir()
    (left / "index.html").write_text("half", encoding="utf-8")
    old = time.time() - 7200
    os.utime(left, (old, old))
    trash = tmp_path / ".site-old-k1ll3d"  # an old output that was being removed
    trash.mkdir()
    assert run("build", str(root), "-o", str(out), "--no-pdf").exit_code == 0
    assert not left.exists() and not trash.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site-")) == []


def test_the_cache_cannot_slip_inside_the_output_by_dots(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root, out = make_portfolio(), tmp_path / "site"
    sneaky = tmp_path / "x" / ".." / "site" / "cache"
    result = run("build", str(root), "-o", str(out), "--no-pdf", "--cache-dir", str(sneaky))
    assert result.exit_code == 2, result.output
    assert "cannot be inside the output folder" in result.output


def test_an_as_of_date_past_2107_still_builds_and_exports(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    result = run(
        "build", str(root), "-o", str(tmp_path / "site"), "--no-pdf", "--as-of", "2108-03-01"
    )
    assert result.exit_code == 0, result.output
    result = run(
        "report", "action-plan", str(root), "-o", str(tmp_path / "p.xlsx"), "--as-of", "2108-03-01"
    )
    assert result.exit_code == 0, result.output


def test_a_name_with_a_line_break_verifies(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    entry = EVIDENCE_01.replace(
        "file: attachments/jan-audit.csv", 'file: "attachments/jan\\naudit.csv"'
    )
    root = make_portfolio({"evidence/ev-01.md": entry, "attachments/jan\naudit.csv": "a,b\n"})
    out = tmp_path / "inspection"
    result = run("export", "inspection", str(root), "-o", str(out))
    assert result.exit_code == 0, result.output
    result = run("verify", str(out))
    assert result.exit_code == 0, result.output
    (out / "site" / "files" / "attachments" / "jan\naudit.csv").write_text("changed\n")
    result = run("verify", str(out))
    assert result.exit_code == 1
    assert "changed: site/files/attachments/jan\naudit.csv" in result.output


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_with_one_name_twice_is_refused(tmp_path: Path) -> None:
    import warnings

    target = tmp_path / "evidence.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        target.write_bytes(
            _zip([("MANIFEST.sha256", b""), ("index.html", b"one"), ("index.html", b"two")])
        )
    result = run("verify", str(target))
    assert result.exit_code == 1
    assert "'index.html' twice" in result.output


def test_a_zip_bomb_is_not_unpacked(tmp_path: Path) -> None:
    target = tmp_path / "evidence.zip"
    target.write_bytes(_zip([("MANIFEST.sha256", b""), ("zeros.bin", bytes(100 * 1024 * 1024))]))
    assert target.stat().st_size < 1024 * 1024
    result = run("verify", str(target))
    assert result.exit_code == 1
    assert "refused as a likely zip bomb" in result.output


def test_a_large_file_is_hashed_without_being_held_in_memory(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """A build hashes every file of the portfolio; a large one (a video nobody cites, say) is
    read a block at a time, not whole."""
    import subprocess
    import sys

    root = make_portfolio()
    with (root / "attachments" / "large.bin").open("wb") as stream:
        stream.truncate(400 * 1024 * 1024)  # sparse: quick to make, read back as zeros
    build = [sys.executable, "-m", "generator", "build", str(root), "-o", str(tmp_path / "out")]
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, *build, "--no-pdf"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    code, peak_kib = (int(n) for n in done.stdout.split())
    assert code == 0
    assert peak_kib < 300 * 1024, f"peak {peak_kib // 1024} MiB"
