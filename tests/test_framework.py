"""Frameworks as data: the crosswalk from one framework to another, switching a portfolio to
the 2026 draft, and the `portfolio framework` commands (list, show, migrate)."""

from __future__ import annotations

import pytest

from conftest import MakePortfolio
from generator.errors import PortfolioError
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
