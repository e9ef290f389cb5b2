"""Frameworks as data: the crosswalk from one framework to another, switching a portfolio to
the 2026 draft, and the `portfolio framework` commands (list, show, migrate)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result
from pypdf import PdfReader

from conftest import CONCERN2_MD, EVIDENCE_02, REPO, SAMPLE, MakePortfolio
from generator.cli import cli
from generator.errors import PortfolioError
from generator.load.framework import read_packaged
from generator.pipeline import load

DRAFT = "cqc-asc-2026-draft"

LOCAL_FRAMEWORK = """\
id: local-2026
title: Local framework
key_questions:
  - slug: safe
    title: Safe
    statements:
      - {slug: medicines, title: Medicines}
      - {slug: falls, title: Falls}
  - slug: well-led
    title: Well-led
    statements:
      - {slug: governance, title: Governance}
evidence_categories:
  - {slug: processes, title: Processes}
  - {slug: outcomes, title: Outcomes}
evidence_types:
  audit: {category: processes, nature: outcome}
  care-records: {category: processes, nature: activity}
  feedback: {category: outcomes, nature: outcome}
  survey: {category: outcomes, nature: outcome}
  complaint: {category: outcomes, nature: outcome}
  compliment: {category: outcomes, nature: outcome}
  incident-log: {category: outcomes, nature: outcome}
  safeguarding-log: {category: processes, nature: outcome}
  observation: {category: processes, nature: outcome}
  supervision: {category: processes, nature: activity}
  training-record: {category: processes, nature: activity}
  competency-check: {category: processes, nature: outcome}
  meeting-minutes: {category: processes, nature: activity}
  rota: {category: processes, nature: activity}
  policy: {category: processes, nature: activity}
  other: {category: processes, nature: activity}
crosswalk:
  cqc-saf-2024:
    medicines-optimisation: medicines
    safe-systems-pathways-transitions: [medicines, governance]
    assessing-needs: [falls]
    learning-culture: governance
"""


def test_a_list_in_the_crosswalk_files_a_record_under_each(
    make_portfolio: MakePortfolio,
) -> None:
    p = load(make_portfolio({"framework.yaml": LOCAL_FRAMEWORK})).portfolio
    # MED-01 names medicines-optimisation and safe-systems-pathways-transitions.
    assert p.statements_of["MED-01"] == ["medicines", "governance"]
    assert [c.id for c in p.concerns_by_statement["governance"]] == ["MED-01"]
    assert [c.id for c in p.concerns_by_statement["falls"]] == ["CP-01"]
    # The page can say what the record was written under, where that differs.
    refiled = p.refiled["MED-01"]
    assert [(r.slug, r.framework, r.title, r.now) for r in refiled] == [
        (
            "medicines-optimisation",
            "cqc-saf-2024",
            "Medicines optimisation",
            ("medicines",),
        ),
        (
            "safe-systems-pathways-transitions",
            "cqc-saf-2024",
            "Safe systems, pathways and transitions",
            ("medicines", "governance"),
        ),
    ]


@pytest.mark.parametrize(
    ("entry", "line", "bad"),
    [
        ("    learning-culture: governence\n", 38, "governence"),
        ("    learning-culture:\n      - governance\n      - medicine\n", 40, "medicine"),
    ],
)
def test_a_crosswalk_target_that_does_not_exist_is_an_error(
    make_portfolio: MakePortfolio, entry: str, line: int, bad: str
) -> None:
    framework = LOCAL_FRAMEWORK.replace("    learning-culture: governance\n", entry)
    with pytest.raises(PortfolioError) as caught:
        load(make_portfolio({"framework.yaml": framework}))
    [problem] = caught.value.problems
    assert problem.path.endswith("content/framework.yaml")
    assert problem.line == line
    assert f"'learning-culture' maps to {bad!r}, which is not a statement of local-2026" in (
        problem.message
    )
    assert "`portfolio framework show local-2026` lists them" in problem.message


def test_an_empty_crosswalk_list_is_an_error(make_portfolio: MakePortfolio) -> None:
    framework = LOCAL_FRAMEWORK.replace(
        "    learning-culture: governance\n", "    learning-culture: []\n"
    )
    with pytest.raises(PortfolioError) as caught:
        load(make_portfolio({"framework.yaml": framework}))
    [problem] = caught.value.problems
    assert problem.path.endswith("content/framework.yaml")
    assert problem.line == 38
    assert "learning-culture" in problem.message


# --- the 2026 draft ----------------------------------------------------------------------------


def test_the_draft_has_24_kloes_under_the_five_key_questions() -> None:
    draft = read_packaged("cqc-asc-2026-draft")
    assert draft is not None
    assert "draft" in draft.title.lower()
    assert [(kq.slug, len(kq.statements)) for kq in draft.key_questions] == [
        ("safe", 7),
        ("effective", 4),
        ("caring", 3),
        ("responsive", 4),
        ("well-led", 6),
    ]
    assert draft.terms.statements == "key lines of enquiry"
    for _kq, statement in draft.statements().values():
        assert statement.description.endswith(".")
    saf = read_packaged("cqc-saf-2024")
    assert saf is not None
    assert draft.evidence_categories == saf.evidence_categories
    assert draft.evidence_types == saf.evidence_types


def test_the_crosswalk_maps_all_34_statements_to_kloes_that_exist() -> None:
    draft = read_packaged("cqc-asc-2026-draft")
    saf = read_packaged("cqc-saf-2024")
    assert draft is not None and saf is not None
    table = draft.crosswalk["cqc-saf-2024"]
    assert sorted(table) == sorted(saf.statements())
    assert len(table) == 34
    kloes = draft.statements()
    for old, targets in table.items():
        assert targets, old
        assert all(t in kloes for t in targets), (old, targets)
        # An old slug that is also a KLOE's slug keeps meaning that KLOE.
        if old in kloes:
            assert targets == [old]
    # Every KLOE can be reached from the old framework.
    assert {t for targets in table.values() for t in targets} == set(kloes)
    # The statements the draft folds away go where the comments say.
    assert table["learning-culture"] == ["safety-culture"]
    assert table["workforce-wellbeing-enablement"] == ["workforce-equity-culture", "safe-staffing"]
    assert table["environmental-sustainability"] == ["governance-management"]


# --- the one-line switch -------------------------------------------------------------------


def switched(root: Path) -> Path:
    """The portfolio at ``root`` switched to the draft by its one line in portfolio.yaml."""
    settings = root / "portfolio.yaml"
    text = settings.read_text(encoding="utf-8")
    if "framework:" in text:
        text = re.sub(r"(?m)^framework: .*$", f"framework: {DRAFT}", text)
    else:
        text += f"framework: {DRAFT}\n"
    settings.write_text(text, encoding="utf-8")
    return root


def sample_copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(SAMPLE, root)
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_sample_switched_by_one_line_files_concerns_under_the_kloes(tmp_path: Path) -> None:
    root = switched(sample_copy(tmp_path, "content"))
    before = files_of(SAMPLE)
    out = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--no-pdf", "--audience", "internal"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    # No record was edited: only the line in portfolio.yaml differs.
    after = files_of(root)
    assert [k for k in before if before[k] != after[k]] == ["portfolio.yaml"]
    p = load(root).portfolio
    under = {slug: [c.id for c in cs] for slug, cs in p.concerns_by_statement.items()}
    assert "MED-01" in under["safe-medicines-treatments"]
    assert "STAFF-01" in under["safe-staffing"]
    assert "OUT-01" in under["governance-management"]
    assert len(under) == 24
    # The pages follow: a page per KLOE, the concern's page names them and what it was
    # written under, the framework page names the draft.
    assert sorted(x.stem for x in (out / "statements").glob("*.html")) == sorted(under)
    page = (out / "concerns" / "MED-01.html").read_text(encoding="utf-8")
    assert "<dt>Key lines of enquiry</dt>" in page
    assert "safe-medicines-treatments.html" in page
    assert "<dt>Written under</dt><dd>Medicines optimisation" in page
    assert "(cqc-saf-2024)</span>, now" in page
    medicines = (out / "statements" / "safe-medicines-treatments.html").read_text("utf-8")
    assert "Safe · key line of enquiry" in medicines and "MED-01" in medicines
    overview = (out / "key-questions" / "index.html").read_text(encoding="utf-8")
    assert "Key questions and key lines of enquiry" in overview
    assert "(draft for consultation, March 2026)" in overview
    assert "draft" in (out / "index.html").read_text(encoding="utf-8")
    # A page where the record was written under a KLOE's own slug says nothing more.
    dols = (out / "concerns" / "DOLS-01.html").read_text(encoding="utf-8")
    assert "Written under" not in dols
    # The downloads name the column as the framework does.
    tracker = (out / "downloads" / "action-tracker.csv").read_text(encoding="utf-8-sig")
    assert tracker.splitlines()[0].startswith("Concern,Item to put right,Regulation,Key lines")


def test_findings_and_coverage_are_judged_under_the_new_framework(tmp_path: Path) -> None:
    build = load(switched(sample_copy(tmp_path, "content")))
    # One finding per key question lists its gaps: every slug named in one is a gap.
    listed = " ".join(f.message for f in build.findings if f.code == "S501")
    gaps = sorted(re.findall(r"\(([a-z0-9-]+)\)", listed))
    # Nothing in the sample is about these; the draft's coverage gaps, not the old ones.
    assert gaps == sorted(
        [
            "timely-equitable-access",
            "equity-in-experiences",
            "strategic-direction",
            "partnerships-communities",
        ]
    )


def test_a_switched_small_portfolio_builds_its_pdf(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = switched(make_portfolio())
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output + result.stderr
    reader = PdfReader(out / "portfolio.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "CQC adult social care assessment framework (draft for consultation" in text
    assert "Coverage of the key lines of enquiry" in text
    assert "Safe medicines and treatments" in text
    assert "Written under" in text
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Safe" in outline


# --- migrate -------------------------------------------------------------------------------

COMMENTED_CONCERN = """\
---
# Medicines: found at the April audit.
id: MED-01
title: Medicines records incomplete
quality_statements:   # what CQC will ask about
  - medicines-optimisation    # the main one
  - learning-culture
  - involving-people-to-manage-risks
source: internal-audit
raised: 2026-01-12
owner: registered-manager
risk: high
status: open
baseline: Repeated MAR gaps.
intended_outcome: 95% complete medicines records.
---
## Context

Body text with a *word*, kept as it is.
   Even odd   spacing.
"""


def migrate(root: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["framework", "migrate", str(root), "--to", DRAFT, *args], catch_exceptions=False
    )


def test_migrate_without_write_changes_no_byte(tmp_path: Path) -> None:
    root = sample_copy(tmp_path, "content")
    before = files_of(root)
    result = migrate(root)
    assert result.exit_code == 0, result.output
    assert files_of(root) == before
    lines = result.output.splitlines()
    assert lines[0] == f"{root.as_posix()}/portfolio.yaml: framework: cqc-saf-2024 -> {DRAFT}"
    assert (
        f"{root.as_posix()}/concerns/MED-01-medicines-records.md:4: MED-01: quality_statements: "
        "[medicines-optimisation] -> [safe-medicines-treatments]"
    ) in lines
    assert lines[-2] == (
        "16 records would change; 3 already name the key lines of enquiry they file under; "
        "4 key lines of enquiry have no evidence."
    )
    assert lines[-1] == "Nothing was written: add --write to rewrite the files."


def test_migrate_write_keeps_comments_order_and_body(
    make_portfolio: MakePortfolio,
) -> None:
    root = make_portfolio({"concerns/med-01.md": COMMENTED_CONCERN, "governance/gov-01.md": None})
    result = migrate(root, "--write")
    assert result.exit_code == 0, result.output
    text = (root / "concerns" / "med-01.md").read_text(encoding="utf-8")
    assert text == COMMENTED_CONCERN.replace(
        "  - medicines-optimisation    # the main one\n"
        "  - learning-culture\n"
        "  - involving-people-to-manage-risks\n",
        "  - safe-medicines-treatments    # the main one\n  - safety-culture\n  - managing-risks\n",
    )
    settings = (root / "portfolio.yaml").read_text(encoding="utf-8")
    assert settings.endswith(f"framework: {DRAFT}\n")
    # CP-01's flow list, with one slug that files under two KLOEs.
    cp = (root / "concerns" / "cp-01.md").read_text(encoding="utf-8")
    assert "quality_statements: [assessing-needs]\n" in cp
    # An evidence entry written as a .yaml file.
    ev = (root / "evidence" / "ev-02.yaml").read_text(encoding="utf-8")
    assert ev == EVIDENCE_02.replace("[learning-culture]", "[safety-culture]")
    assert load(root).portfolio.statements_of["MED-01"] == [
        "safe-medicines-treatments",
        "safety-culture",
        "managing-risks",
    ]


def test_migrate_keeps_a_byte_order_mark_and_crlf_line_endings(
    make_portfolio: MakePortfolio,
) -> None:
    crlf = "\ufeff" + COMMENTED_CONCERN.replace("\n", "\r\n")
    root = make_portfolio({"governance/gov-01.md": None})
    (root / "concerns" / "med-01.md").write_bytes(crlf.encode("utf-8"))
    assert migrate(root, "--write").exit_code == 0
    raw = (root / "concerns" / "med-01.md").read_bytes()
    assert raw == crlf.replace("medicines-optimisation ", "safe-medicines-treatments ").replace(
        "- learning-culture", "- safety-culture"
    ).replace("- involving-people-to-manage-risks", "- managing-risks").encode("utf-8")


def test_migrate_expands_and_drops_items_as_the_crosswalk_says(
    make_portfolio: MakePortfolio,
) -> None:
    concern = COMMENTED_CONCERN.replace(
        "  - learning-culture\n  - involving-people-to-manage-risks\n",
        "  - workforce-wellbeing-enablement   # staff support\n  - safe-effective-staffing\n",
    )
    flow = CONCERN2_MD.replace(
        "quality_statements: [assessing-needs]",
        "quality_statements: [freedom-to-speak-up, 'workforce-edi', learning-culture]  # note",
    )
    root = make_portfolio(
        {"concerns/med-01.md": concern, "concerns/cp-01.md": flow, "governance/gov-01.md": None}
    )
    assert migrate(root, "--write").exit_code == 0
    text = (root / "concerns" / "med-01.md").read_text(encoding="utf-8")
    assert (
        "quality_statements:   # what CQC will ask about\n"
        "  - safe-medicines-treatments    # the main one\n"
        "  - workforce-equity-culture\n"
        "  - safe-staffing   # staff support\n"
        "source: internal-audit\n"
    ) in text
    cp = (root / "concerns" / "cp-01.md").read_text(encoding="utf-8")
    assert "quality_statements: [workforce-equity-culture, safety-culture]  # note\n" in cp


def test_migrate_write_builds_with_the_same_findings_as_the_switch(tmp_path: Path) -> None:
    one_line = load(switched(sample_copy(tmp_path, "switched")))
    root = sample_copy(tmp_path, "migrated")
    result = migrate(root, "--write")
    assert result.exit_code == 0, result.output
    migrated = load(root)
    assert migrated.portfolio.settings.framework == DRAFT
    assert migrated.portfolio.statements_of == one_line.portfolio.statements_of
    assert {
        s: [e.id for e in es] for s, es in migrated.portfolio.evidence_by_statement.items()
    } == {s: [e.id for e in es] for s, es in one_line.portfolio.evidence_by_statement.items()}
    assert [(f.code, f.record, f.message) for f in migrated.findings] == [
        (f.code, f.record, f.message) for f in one_line.findings
    ]
    assert migrated.status == one_line.status
    assert migrated.portfolio.refiled == {}  # the records now say it themselves
    # Done twice, it has nothing left to do.
    again = migrate(root)
    assert again.output.splitlines()[0].startswith("0 records would change; 19 already")


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_the_migration_report(tmp_path: Path, suffix: str) -> None:
    root = sample_copy(tmp_path, "content")
    report = tmp_path / f"migration{suffix}"
    result = migrate(root, "--report", str(report))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"Wrote {report.as_posix()}"
    text = report.read_text(encoding="utf-8")
    if suffix == ".html":
        text = re.sub(r"<[^>]+>", " ", html.unescape(text))
    text = re.sub(r"\s+", " ", text)
    assert "Key lines of enquiry with no evidence" in text
    for gap in (
        "Timely and equitable access (Responsive)",
        "Equity in experiences (Responsive)",
        "Strategic direction (Well-led)",
        "Partnerships and communities (Well-led)",
    ):
        assert gap in text
    # Which old statement went where, and which records were written under it.
    assert "Medicines optimisation" in text and "medicines-optimisation" in text
    assert "Safe medicines and treatments (Safe)" in text
    assert re.search(r"Workforce wellbeing and enablement.*?Workforce equity and culture", text)
    # The records under each KLOE.
    assert "MED-01 Gaps in medicines administration records" in text
    # Written again over itself, not over someone else's file.
    assert migrate(root, "--report", str(report)).exit_code == 0
    theirs = tmp_path / f"theirs{suffix}"
    theirs.write_text("my notes\n", encoding="utf-8")
    refused = migrate(root, "--report", str(theirs))
    assert refused.exit_code == 1
    assert "exists and was not written by portfolio" in refused.stderr
    assert theirs.read_text(encoding="utf-8") == "my notes\n"


# --- list and show, and the errors ---------------------------------------------------------


def test_framework_list() -> None:
    result = CliRunner().invoke(cli, ["framework", "list"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "cqc-asc-2026-draft  CQC adult social care assessment framework (draft for consultation, "
        "March 2026)",
        "                    24 key lines of enquiry under 5 key questions; crosswalk from "
        "cqc-saf-2024",
        "cqc-saf-2024        CQC single assessment framework (2024)",
        "                    34 quality statements under 5 key questions; the default",
    ]


def test_framework_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["framework", "show", DRAFT])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{DRAFT}: CQC adult social care assessment framework (draft for consultation, March 2026)"
    )
    assert "Safe (safe)" in lines
    assert "  safe-medicines-treatments               Safe medicines and treatments" in lines
    assert "Well-led (well-led)" in lines
    assert sum(1 for line in lines if line.startswith("  ")) == 24
    described = CliRunner().invoke(cli, ["framework", "show", DRAFT, "--descriptions"])
    assert "People receive the medicines and treatments they need" in described.output
    # Without an id: the framework of the portfolio named, else the default.
    root = switched(sample_copy(tmp_path, "content"))
    mine = CliRunner().invoke(cli, ["framework", "show", "--portfolio", str(root)])
    assert mine.output.splitlines()[0].startswith(f"{DRAFT}: ")
    default = CliRunner().invoke(cli, ["framework", "show", "--portfolio", str(tmp_path / "x")])
    assert default.output.startswith("cqc-saf-2024: CQC single assessment framework (2024)\n")


@pytest.mark.parametrize("command", [["show", "cqc-asc-2026"], ["migrate", "--to", "cqc-asc-2026"]])
def test_an_unknown_framework_names_the_ones_there_are(command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["framework", *command])
    assert result.exit_code == 2
    assert "unknown framework 'cqc-asc-2026' (did you mean 'cqc-asc-2026-draft'?); packaged " in (
        result.stderr
    )
    assert "Traceback" not in result.output + result.stderr


def test_migrate_reports_a_slug_the_new_framework_does_not_know(
    make_portfolio: MakePortfolio,
) -> None:
    root = make_portfolio({"framework.yaml": LOCAL_FRAMEWORK})
    result = migrate(root)
    assert result.exit_code == 1
    assert "framework.yaml: this portfolio has its own framework.yaml" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_json_schema_takes_a_slug_or_a_list_in_the_crosswalk(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["schema", str(tmp_path / "none"), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    schema = json.loads((tmp_path / "framework.schema.json").read_text(encoding="utf-8"))
    for name in ("cqc-saf-2024", DRAFT):
        packaged = REPO / "generator" / "data" / "frameworks" / f"{name}.yaml"
        jsonschema.validate(yaml.safe_load(packaged.read_text(encoding="utf-8")), schema)
    local = yaml.safe_load(LOCAL_FRAMEWORK)
    jsonschema.validate(local, schema)
    local["crosswalk"]["cqc-saf-2024"]["learning-culture"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(local, schema)
