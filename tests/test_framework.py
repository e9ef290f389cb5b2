"""Frameworks as data: the crosswalk from one framework to another, switching a portfolio to
the 2026 draft, and the `portfolio framework` commands (list, show, migrate)."""

from __future__ import annotations

import pytest

from conftest import MakePortfolio
from generator.errors import PortfolioError
from generator.load.framework import read_packaged
from generator.pipeline import load

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
