"""Hostile and awkward files in a portfolio: nothing is skipped in silence, nothing ends in an
internal fault (exit 70), every message names the file."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import CONCERN2_MD, MakePortfolio
from generator.cli import cli

LATIN1_NAME = "Caf\xe9 menu.txt".encode("latin-1")  # as a Windows share or an old zip leaves it


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _name(raw: bytes) -> str:
    """A file name from bytes, as Python gives names that are not UTF-8."""
    return os.fsdecode(raw)


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_record_that_is_a_socket_is_named_not_skipped(
    make_portfolio: MakePortfolio, tmp_path: Path, command: str
) -> None:
    root = make_portfolio()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(root / "concerns" / "odd.md"))
        args = [command, str(root)] + (
            ["-o", str(tmp_path / "out"), "--no-pdf"] * (command == "build")
        )
        result = run(*args)
    finally:
        server.close()
    assert result.exit_code == 1, result.output
    assert "concerns/odd.md: is not a file that can be read as a record" in result.output


def test_a_dangling_link_and_linked_records_get_a_message(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "cp-02.md").write_text(CONCERN2_MD.replace("CP-01", "CP-02"), encoding="utf-8")
    (root / "concerns" / "gone.md").symlink_to(tmp_path / "missing.md")
    (root / "concerns" / "linked.md").symlink_to(outside / "cp-02.md")
    (root / "concerns" / "folder").symlink_to(outside, target_is_directory=True)
    result = run("check", str(root))
    assert result.exit_code == 1, result.output
    assert "concerns/gone.md: is a symbolic link" in result.output
    assert "concerns/linked.md: is a symbolic link" in result.output
    assert "concerns/folder: is a symbolic link to a folder" in result.output
    assert "CP-02" not in result.output  # nothing was read through the links


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="permissions do not stop the superuser from reading a folder",
)
def test_a_folder_that_cannot_be_read_is_an_error(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    locked = root / "concerns" / "locked"
    locked.mkdir()
    (locked / "cp-02.md").write_text(CONCERN2_MD.replace("CP-01", "CP-02"), encoding="utf-8")
    locked.chmod(0)
    try:
        result = run("check", str(root))
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1, result.output
    assert "concerns/locked: this folder cannot be read" in result.output


def test_a_name_that_is_not_utf8_in_the_attachments_builds(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    (root / "attachments" / _name(LATIN1_NAME)).write_bytes(b"menu\n")
    for args in (
        ["check", str(root)],
        ["build", str(root), "-o", str(tmp_path / "out"), "--no-pdf"],
    ):
        result = run(*args)
        assert result.exit_code == 0, result.output


def test_a_record_name_that_is_not_utf8_is_named(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    (root / "concerns" / _name(b"caf\xe9.md")).write_text(
        CONCERN2_MD.replace("CP-01", "CP-02"), encoding="utf-8"
    )
    result = run("check", str(root))
    assert result.exit_code == 1, result.output
    assert "concerns/caf\\xe9.md: this name is not valid UTF-8" in result.output
    assert "rename it" in result.output
