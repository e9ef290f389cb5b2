"""The linking stage: every reference resolved, and followed back the other way."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import PORTFOLIO_YAML, MakePortfolio
from generator.pipeline import load


def test_references_are_followed_both_ways(make_portfolio: MakePortfolio) -> None:
    p = load(make_portfolio()).portfolio
    # Evidence -> the places that cite it.
    assert [(c.concern.id, c.target, c.role) for c in p.citations["EV-02"]] == [
        ("MED-01", "MED-01-M1", "reading 2026-02-10"),
        ("MED-01", "MED-01-A1", "action"),
        ("MED-01", "MED-01-A1", "closure"),
    ]
    assert [c.role for c in p.citations["EV-01"]] == ["baseline"]
    # Concern -> its evidence, once each.
    assert [e.id for e in p.evidence_of_concern["MED-01"]] == ["EV-01", "EV-02"]
    assert p.evidence_of_concern["CP-01"] == []
    # Related concerns, both ways though only one side names the other.
    assert p.related == {"MED-01": ["CP-01"], "CP-01": ["MED-01"]}
    # Governance decisions -> the concern and action they are about.
    assert [(d.review.id, d.decision.decision) for d in p.decisions_about["MED-01-A1"]] == [
        ("GOV-01", "close")
    ]
    assert [d.index for d in p.decisions_about["MED-01"]] == [1]
    # Actions and measures find their concern.
    assert p.actions["MED-01-A2"][0].id == "MED-01"
    assert p.measures["MED-01-M1"][0].id == "MED-01"


def test_statements_file_concerns_and_evidence(make_portfolio: MakePortfolio) -> None:
    p = load(make_portfolio()).portfolio
    assert len(p.concerns_by_statement) == 34
    assert [c.id for c in p.concerns_by_statement["medicines-optimisation"]] == ["MED-01"]
    assert [c.id for c in p.concerns_by_statement["safe-systems-pathways-transitions"]] == [
        "MED-01"
    ]
    assert [c.id for c in p.concerns_by_statement["assessing-needs"]] == ["CP-01"]
    # Evidence is filed where the concerns citing it are, and where it names itself.
    assert [e.id for e in p.evidence_by_statement["medicines-optimisation"]] == ["EV-01", "EV-02"]
    assert [e.id for e in p.evidence_by_statement["learning-culture"]] == ["EV-02"]
    assert p.filed_under["EV-02"] == [
        "learning-culture",
        "medicines-optimisation",
        "safe-systems-pathways-transitions",
    ]
    assert p.evidence_by_statement["assessing-needs"] == []


def test_evidence_defaults_come_from_the_framework(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "evidence/ev-03.yaml": "id: EV-03\ntitle: Staff training\ntype: training-record\n"
            "date: 2026-02-01\n",
            "evidence/ev-04.yaml": "id: EV-04\ntitle: Spot check\ntype: training-record\n"
            "date: 2026-02-01\ncategory: observation\nnature: outcome\n",
        }
    )
    p = load(root).portfolio
    assert (p.category_of(p.evidence["EV-03"]), p.nature_of(p.evidence["EV-03"])) == (
        "processes",
        "activity",
    )
    assert (p.category_of(p.evidence["EV-04"]), p.nature_of(p.evidence["EV-04"])) == (
        "observation",
        "outcome",
    )


def test_as_of_comes_from_settings_then_the_command_line(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio()
    assert load(root).as_of == date(2026, 6, 30)
    assert load(root, date(2026, 9, 1)).as_of == date(2026, 9, 1)
    root = make_portfolio({"portfolio.yaml": PORTFOLIO_YAML.replace("as_of: 2026-06-30\n", "")})
    assert load(root).as_of == date.today()


def test_ids_sort_naturally(make_portfolio: MakePortfolio) -> None:
    extra = {
        f"concerns/x{n}.md": (
            f"---\nid: MED-{n}\ntitle: T\nquality_statements: [safeguarding]\nsource: other\n"
            "raised: 2026-01-01\nowner: quality-lead\nrisk: low\nstatus: open\nbaseline: b\n"
            "intended_outcome: i\n---\n"
        )
        for n in (2, 10, 9)
    }
    p = load(make_portfolio(extra)).portfolio
    assert list(p.concerns) == ["CP-01", "MED-01", "MED-2", "MED-9", "MED-10"]


def test_portfolio_framework_replaces_the_packaged_one_with_a_crosswalk(
    make_portfolio: MakePortfolio,
) -> None:
    framework = """\
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
    safe-systems-pathways-transitions: medicines
    assessing-needs: falls
    learning-culture: governance
"""
    p = load(make_portfolio({"framework.yaml": framework})).portfolio
    assert p.framework.id == "local-2026"
    assert p.statements_of["MED-01"] == ["medicines"]
    assert [c.id for c in p.concerns_by_statement["falls"]] == ["CP-01"]
    assert p.statement("governance")[0].slug == "well-led"


def test_role_labels(make_portfolio: MakePortfolio) -> None:
    p = load(make_portfolio()).portfolio
    assert p.role_label("registered-manager") == "Amira Patel (Registered Manager)"
    assert p.role_label("medicines-lead") == "Medicines Lead (no named person)"


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["MED-10", "MED-2", "MED-1"], ["MED-1", "MED-2", "MED-10"]),
        (["EV-2026-10", "EV-2026-9", "ev-2026-9"], ["EV-2026-9", "ev-2026-9", "EV-2026-10"]),
        (["A10b2", "A10b10", "A9"], ["A9", "A10b2", "A10b10"]),
        (["b", "A", "a", "10", "9"], ["9", "10", "A", "a", "b"]),
        (["x-01", "x-1"], ["x-01", "x-1"]),
    ],
)
def test_ids_sort_as_people_expect(ids: list[str], expected: list[str]) -> None:
    from generator.load.link import natural_key

    assert sorted(ids, key=natural_key) == expected
