"""``portfolio check``: text and JSON reports, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from conftest import REPO, SAMPLE, MakePortfolio
from generator.cli import cli

SCHEMA = json.loads((REPO / "docs" / "check.schema.json").read_text())


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_sample_findings_as_text() -> None:
    code, out, _ = run(str(SAMPLE))
    assert code == 0
    lines = out.splitlines()
    assert f"{SAMPLE.as_posix()}/concerns/IPC-01-sluice-commode-cleaning.md:" in out
    for line in lines[:-1]:
        path, number, rest = line.split(":", 2)
        assert Path(path).is_file() and int(number) >= 1, line
        assert rest[1:5][0].isupper() and rest[2:5].isdigit(), line
    assert lines[-1].startswith(f"{len(lines) - 1} findings: C101 closed-without-evidence (1)")


def test_strict_exits_2_on_findings_and_0_when_clean(make_portfolio: MakePortfolio) -> None:
    assert run(str(SAMPLE), "--strict")[0] == 2
    assert run(str(SAMPLE))[0] == 0


def test_errors_exit_1_and_go_to_stderr(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"concerns/cp-01.md": "---\nid: CP-01\n---\n"})
    code, out, err = run(str(root))
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == "9 errors."


def test_json_report_follows_the_documented_schema(make_portfolio: MakePortfolio) -> None:
    code, out, _ = run(str(SAMPLE), "--format", "json")
    assert code == 0
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["ok"] is False
    assert document["portfolio"]["as_of"] == "2026-10-31"
    assert sum(document["summary"].values()) == len(document["findings"])
    first = document["findings"][0]
    assert set(first) == {
        "code",
        "rule",
        "severity",
        "message",
        "record",
        "concern",
        "path",
        "line",
    }

    root = make_portfolio({"concerns/cp-01.md": "---\nid: CP-01\n---\n"})
    code, out, _ = run(str(root), "--format", "json")
    assert code == 1
    document = json.loads(out)
    jsonschema.validate(document, SCHEMA)
    assert document["findings"] == [] and len(document["errors"]) == 9
    assert "portfolio" not in document


def test_as_of_changes_what_is_found(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    _, before, _ = run(str(root), "--format", "json")
    _, after, _ = run(str(root), "--format", "json", "--as-of", "2026-09-01")
    overdue = [f for f in json.loads(after)["findings"] if f["code"] == "A201"]
    assert [f["record"] for f in overdue] == ["MED-01-A2"]
    assert not [f for f in json.loads(before)["findings"] if f["code"] == "A201"]
