"""Scaffolding and schemas: ``new``, ``init`` and ``schema``."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel

from conftest import CONCERN_MD, PORTFOLIO_YAML, SAMPLE, MakePortfolio
from generator.cli import cli
from generator.load.sources import split_front_matter
from generator.model import (
    Action,
    Closure,
    Concern,
    Decision,
    Evidence,
    Extension,
    Measure,
    Period,
    Point,
    Review,
    Role,
    Rules,
    Settings,
    Target,
    Update,
)
from generator.pipeline import load
from generator.tools.authoring import (
    EXAMPLE_FILE,
    next_id,
    portfolio_yaml,
    record_text,
    survey,
)


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
    assert "note: the portfolio had 1 error before this record, and has none now." in result.output
    after = CliRunner().invoke(cli, ["check", str(root)])
    assert after.exit_code == 0, after.output


# --- new: on a portfolio with errors ------------------------------------------------------------


def _written(result: Any) -> Path:
    line = next(x for x in result.stdout.splitlines() if x.startswith("Wrote "))
    return Path(line.removeprefix("Wrote "))


def test_new_works_when_portfolio_yaml_has_an_invalid_field(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "portfolio.yaml": PORTFOLIO_YAML + "colour: red\n",
            "evidence/ev-03.md": "---\nid: EV-03\ntitle: March audit\ntype: audit\n"
            "date: 2026-03-10\n---\n",
        }
    )
    assert invoke("check", str(root)).exit_code == 1
    result = invoke("new", "evidence", str(root), "--title", "April audit")
    assert result.exit_code == 0, result.output
    written = _written(result)
    assert written.name == "ev-04-april-audit.md"  # the portfolio's id style, read all the same
    assert "owner: registered-manager" in written.read_text(encoding="utf-8")
    assert "note: the portfolio had 1 error before this record, and has 1 now" in result.stderr
    (root / "portfolio.yaml").write_text(PORTFOLIO_YAML, encoding="utf-8")
    after = invoke("check", str(root))
    assert after.exit_code == 0, after.output


def test_new_works_when_portfolio_yaml_cannot_be_read(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"portfolio.yaml": PORTFOLIO_YAML + "roles: [unclosed\n"})
    result = invoke("new", "review", str(root))
    assert result.exit_code == 0, result.output
    assert _written(result).name.startswith("gov-02-")


def test_new_never_takes_an_id_held_by_a_record_that_does_not_load(
    make_portfolio: MakePortfolio,
) -> None:
    root = make_portfolio(
        {
            # Broken YAML (a list never closed), and a record with an unknown key: both hold ids.
            "evidence/ev-03.md": "---\nid: EV-03\ntitle: [March audit\ntype: audit\n---\n",
            "evidence/ev-04.yaml": "id: EV-04\ntitle: April\ntype: audit\ndate: 2026-04-01\n"
            "colour: red\n",
        }
    )
    result = invoke("new", "evidence", str(root))
    assert result.exit_code == 0, result.output
    assert _written(result).name.startswith("ev-05-")
    assert "note: the portfolio had 2 errors before this record, and has 2 now" in result.stderr
    for taken, where in (("EV-03", "evidence/ev-03.md"), ("EV-04", "evidence/ev-04.yaml:1")):
        refused = invoke("new", "evidence", str(root), "--id", taken)
        assert refused.exit_code == 1
        assert f"{where}: the id {taken} is taken: choose another with --id" in refused.stderr
    # An action's id in a concern that does not load is taken too.
    broken = CONCERN_MD.replace("risk: high", "risk: severe")
    root = make_portfolio({"concerns/med-01.md": broken})
    refused = invoke("new", "concern", str(root), "--id", "MED-01-A2")
    assert refused.exit_code == 1 and "the id MED-01-A2 is taken" in refused.stderr


def test_new_needs_a_portfolio_folder(tmp_path: Path) -> None:
    missing = invoke("new", "concern", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1 and "no such folder" in missing.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    no_settings = invoke("new", "concern", str(empty))
    assert no_settings.exit_code == 1
    assert "portfolio.yaml: missing" in no_settings.stderr
    assert list(empty.iterdir()) == []


# --- the templates ------------------------------------------------------------------------------

#: A field shown commented out: "# " then (indented) a key and a colon, or a list item.
_COMMENTED_FIELD = re.compile(r"^(\s*)# (\s*)(?=[a-z_]+:(?:\s|$)|- )", re.MULTILINE)


def fill_in(path: Path) -> None:
    """Do what the templates' notes say: delete the "# " in front of every field shown."""
    text = path.read_text(encoding="utf-8")
    path.write_text(_COMMENTED_FIELD.sub(r"\1\2", text), encoding="utf-8")


def _keys(*models: type[BaseModel]) -> set[str]:
    return {
        field.alias or name
        for model in models
        for name, field in model.model_fields.items()
        if name != "body"
    }


def _shown(text: str) -> set[str]:
    """Keys written in a template, in use or commented out, as 'key:' or '{key: ...'."""
    return set(re.findall(r"(?:^[\s#-]*|[{,]\s*)([a-z_]+):(?:\s|$)", text, re.MULTILINE))


def test_templates_show_every_field_of_the_format(tmp_path: Path) -> None:
    known = survey(SAMPLE)
    today = date(2026, 11, 2)
    concern = record_text(known, "concern", "NEW-01", "New", today)
    missing = _keys(Concern, Measure, Point, Target, Action, Extension, Update, Closure)
    assert missing - _shown(concern) == set()
    evidence = record_text(known, "evidence", "EV-NEW-01", "New", today)
    assert _keys(Evidence) - _shown(evidence) == set()
    review = record_text(known, "review", "GOV-NEW", "New", today)
    assert _keys(Review, Decision) - _shown(review) == set()
    settings = portfolio_yaml("Oak Care", "Oak Lodge", today)
    assert _keys(Settings, Rules, Period, Role) - _shown(settings) == set()
    for text in (concern, evidence, review, settings):
        assert all(len(line) <= 100 for line in text.splitlines()), text
        assert "\t" not in text


def test_a_new_portfolio_filled_in_as_its_notes_say_passes_check(tmp_path: Path) -> None:
    folder = tmp_path / "oak"
    assert invoke("init", str(folder)).exit_code == 0
    for path in [folder / "portfolio.yaml", *folder.glob("*/*.md")]:
        if path.parent.name != "attachments":
            fill_in(path)
    (folder / EXAMPLE_FILE).write_bytes(b"%PDF-1.4\n")  # the file the evidence names
    check = invoke("check", str(folder))
    assert check.exit_code == 0, check.output
    p = load(folder).portfolio
    s = p.settings
    assert s.location_id and s.service_type and s.period and s.date_style == "uk"
    assert s.quality_statements == ["medicines-optimisation", "safe-effective-staffing"]
    (concern,) = p.concerns.values()
    assert concern.regulation == ["12", "17"] and concern.visibility == "commissioner"
    assert concern.raised_by == "quality-lead" and concern.closure is not None
    (measure,) = concern.measures
    assert measure.direction == "up" and measure.target.sustain == 3 and measure.readings
    (action,) = concern.actions
    assert action.cadence == "weekly" and action.extensions and action.updates
    assert action.closure is not None and action.closure.by != action.owner
    assert action.current_due > action.due  # the extension moved the date, the original kept
    evidence = p.evidence["EV-01"]
    assert evidence.personal_data is True and evidence.nature == "outcome"
    assert evidence.category == "people-experience" and "EV-01" in p.attachments
    assert [d.decision for d in p.reviews["GOV-01"].decisions] == ["close", "keep-open", "extend"]


@pytest.mark.parametrize("kind", ["concern", "evidence", "review"])
def test_each_new_record_filled_in_as_its_notes_say_passes_check(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    result = invoke("new", kind, str(root), "--title", "Filled in")
    assert result.exit_code == 0, result.output
    written = _written(result)
    before = written.read_text(encoding="utf-8")
    fill_in(written)
    assert written.read_text(encoding="utf-8") != before
    (root / EXAMPLE_FILE).write_bytes(b"%PDF-1.4\n")
    check = invoke("check", str(root), "--format", "json")
    assert check.exit_code == 0, check.output
    assert json.loads(check.output)["errors"] == []


def test_a_hostile_title_stays_one_line_of_the_record(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    title = 'Falls\n---\nstatus: closed\t"quoted" \\ back\u2028slash\udcff'
    result = invoke("new", "concern", str(root), "--title", title)
    assert result.exit_code == 0, result.output
    check = invoke("check", str(root))
    assert check.exit_code == 0, check.output
    written = _written(result)
    record = next(c for c in load(root).portfolio.concerns.values() if c.id.startswith("FALL"))
    assert record.title == 'Falls --- status: closed "quoted" \\ back slash'
    assert record.status == "open" and written.name.startswith("fall-01-falls-status-closed")
