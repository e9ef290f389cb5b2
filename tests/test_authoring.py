"""Scaffolding and schemas: ``new``, ``init`` and ``schema``."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from conftest import CONCERN_MD, SAMPLE, MakePortfolio
from generator.cli import cli
from generator.load.sources import split_front_matter
from generator.pipeline import load
from generator.tools.authoring import next_id, survey


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_init_makes_a_portfolio_that_checks(tmp_path: Path) -> None:
    folder = tmp_path / "oak"
    result = invoke(
        "init", str(folder), "--provider", "Oak Care", "--service", "Oak Lodge", "--with-ci"
    )
    assert result.exit_code == 0, result.stderr
    assert f"Wrote {folder.as_posix()}/portfolio.yaml" in result.output
    for rel in (
        "concerns",
        "evidence",
        "governance",
        "attachments",
        ".gitignore",
        ".github/workflows/portfolio.yml",
    ):
        assert (folder / rel).exists(), rel
    check = invoke("check", str(folder))
    assert check.exit_code == 0 and "finding" in check.output
    build = load(folder)
    assert build.portfolio.settings.provider == "Oak Care"
    assert list(build.portfolio.concerns) == ["C-01"]
    again = invoke("init", str(folder))
    assert again.exit_code == 1
    assert "this folder is not empty" in again.stderr


@pytest.mark.parametrize(
    ("kind", "args", "expected_id"),
    [
        ("concern", ["--title", "Missing clothing"], "MISS-01"),
        ("concern", [], "C-01"),
        ("concern", ["--id", "LAUNDRY-7", "--title", "Laundry"], "LAUNDRY-7"),
        ("evidence", ["--title", "Laundry audit"], "EV-03"),
        ("review", [], "GOV-02"),
    ],
)
def test_new_records_take_the_next_id_and_check_clean(
    make_portfolio: MakePortfolio, kind: str, args: list[str], expected_id: str
) -> None:
    root = make_portfolio()
    result = invoke("new", kind, str(root), *args)
    assert result.exit_code == 0, result.stderr
    written = Path(result.output.removeprefix("Wrote ").strip())
    assert written.is_file() and written.name.startswith(expected_id.lower())
    check = invoke("check", str(root))
    assert check.exit_code == 0, check.stderr
    portfolio = load(root).portfolio
    assert expected_id in portfolio.sources
    assert f"raised: {date.today().isoformat()}" in written.read_text() or kind != "concern"


def test_new_follows_the_sample_id_style() -> None:
    known = survey(SAMPLE)
    assert known.problems == []
    assert next_id(known, "evidence") == "EV-QA-2026-11"
    assert next_id(known, "review") == "GOV-2026-11"
    assert next_id(known, "concern", "Falls at night") == "FALL-02"


def test_new_never_overwrites(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    taken = invoke("new", "concern", str(root), "--id", "MED-01")
    assert taken.exit_code == 1
    assert "the id MED-01 is taken: choose another with --id" in taken.stderr
    bad = invoke("new", "evidence", str(root), "--id", "../escape")
    assert bad.exit_code == 1 and "not a valid id" in bad.stderr


class _Yaml12Loader(yaml.SafeLoader):
    """YAML as editors read it (1.2): dates stay text, numbers are numbers."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in value if tag != "tag:yaml.org,2002:timestamp"]
    for key, value in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def test_sample_front_matter_validates_against_the_generated_schemas(tmp_path: Path) -> None:
    result = invoke("schema", str(SAMPLE), "-o", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    schemas = {p.name.split(".")[0]: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert set(schemas) == {"portfolio", "concern", "evidence", "review", "framework"}
    kinds = {"concerns": "concern", "evidence": "evidence", "governance": "review"}
    checked = 0
    for folder, kind in kinds.items():
        validator = jsonschema.Draft202012Validator(schemas[kind])
        for path in sorted((SAMPLE / folder).rglob("*")):
            if path.suffix not in (".md", ".yaml"):
                continue
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".md":
                split = split_front_matter(text)
                assert not isinstance(split, str)
                text = split[0]
            data = yaml.load(text, Loader=_Yaml12Loader)
            errors = [e.message for e in validator.iter_errors(data)]
            assert errors == [], (path, errors)
            checked += 1
    settings = yaml.load((SAMPLE / "portfolio.yaml").read_text(), Loader=_Yaml12Loader)
    jsonschema.validate(settings, schemas["portfolio"])
    assert checked > 60


def test_schemas_list_the_portfolio_slugs_and_roles(tmp_path: Path) -> None:
    invoke("schema", str(SAMPLE), "-o", str(tmp_path))
    concern = json.loads((tmp_path / "concern.schema.json").read_text())
    text = json.dumps(concern)
    assert '"medicines-optimisation"' in text and '"night-team-lead"' in text
    bad = {
        "id": "X",
        "title": "T",
        "quality_statements": ["made-up"],
        "source": "other",
        "raised": "2026-01-01",
        "owner": "nobody",
        "risk": "low",
        "status": "open",
        "baseline": "b",
        "intended_outcome": "i",
        "colour": "red",
    }
    messages = [e.message for e in jsonschema.Draft202012Validator(concern).iter_errors(bad)]
    assert any("made-up" in m for m in messages)
    assert any("nobody" in m for m in messages)
    assert any(re.search(r"'colour' was unexpected", m) for m in messages)


def test_new_writes_the_record_the_portfolio_is_missing(make_portfolio: MakePortfolio) -> None:
    """A portfolio with errors can still be added to: here the error is the evidence entry that
    `new` is asked to write."""
    cited = CONCERN_MD.replace(
        "evidence: [EV-02]\n    closure:", "evidence: [EV-99]\n    closure:", 1
    )
    root = make_portfolio({"concerns/med-01.md": cited})
    before = CliRunner().invoke(cli, ["check", str(root)])
    assert before.exit_code == 1 and "EV-99" in before.output
    result = CliRunner().invoke(cli, ["new", "evidence", str(root), "--id", "EV-99"])
    assert result.exit_code == 0, result.output
    assert "note: the portfolio had 1 error before this record" in result.output
    after = CliRunner().invoke(cli, ["check", str(root)])
    assert after.exit_code == 0, after.output
