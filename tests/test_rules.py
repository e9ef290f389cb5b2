"""Each assurance rule: a portfolio that triggers it, one that does not, and the thresholds."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, write_files
from generator.check.rules import RULES, rules_markdown
from generator.errors import PortfolioError
from generator.pipeline import load

AS_OF = date(2026, 6, 30)
STATEMENTS = [
    s["slug"]
    for kq in yaml.safe_load((REPO / "generator/data/frameworks/cqc-saf-2024.yaml").read_text())[
        "key_questions"
    ]
    for s in kq["statements"]
]

SETTINGS: dict[str, Any] = {
    "provider": "Test Care",
    "service": "Test House",
    "as_of": AS_OF,
    "roles": {
        "registered-manager": {"name": "Amira Patel", "title": "Registered Manager"},
        "quality-lead": {"name": "Tom Reid", "title": "Quality Lead"},
        "vacant-lead": {"title": "Night Lead"},
    },
}

# A concern with nothing wrong at 2026-06-30: every rule stays quiet.
CLEAN: dict[str, Any] = {
    "id": "C-01",
    "title": "Clean concern",
    "quality_statements": ["medicines-optimisation"],
    "source": "internal-audit",
    "raised": date(2026, 1, 10),
    "owner": "registered-manager",
    "risk": "medium",
    "status": "open",
    "baseline": "Seventy per cent.",
    "intended_outcome": "Ninety per cent.",
    "measures": [
        {
            "id": "C-01-M1",
            "name": "Complete records",
            "unit": "%",
            "baseline": {"date": date(2026, 1, 10), "value": 70, "evidence": "EV-A"},
            "target": {"value": 90, "by": date(2026, 12, 31), "sustain": 2},
            "readings": [
                {"date": date(2026, 4, 10), "value": 78, "evidence": "EV-A"},
                {"date": date(2026, 6, 10), "value": 84, "evidence": "EV-B"},
            ],
        }
    ],
    "actions": [
        {
            "id": "C-01-A1",
            "title": "Weekly checks",
            "owner": "quality-lead",
            "due": date(2026, 9, 30),
            "status": "in-progress",
            "updates": [{"date": date(2026, 6, 20), "by": "quality-lead", "note": "On course"}],
        }
    ],
}

EVIDENCE = {
    "evidence/a.yaml": {"id": "EV-A", "title": "Audit", "type": "audit", "date": date(2026, 4, 10)},
    "evidence/b.yaml": {
        "id": "EV-B",
        "title": "Feedback",
        "type": "feedback",
        "date": date(2026, 6, 10),
    },
    "evidence/t.yaml": {
        "id": "EV-T",
        "title": "Training",
        "type": "training-record",
        "date": date(2026, 6, 1),
    },
    "evidence/all.yaml": {
        "id": "EV-ALL",
        "title": "Policy",
        "type": "policy",
        "date": date(2026, 6, 1),
        "quality_statements": STATEMENTS,
    },
}

REVIEW = {
    "id": "GOV-1",
    "title": "June governance",
    "date": date(2026, 6, 15),
    "chair": "registered-manager",
    "decisions": [{"ref": "C-01", "decision": "close"}],
}


def front(data: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True) + "---\n"


def findings(
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None] | None = None,
    as_of: date = AS_OF,
    rules: dict[str, int] | None = None,
    drop_statement_evidence: bool = False,
) -> list[tuple[str, str]]:
    concern = copy.deepcopy(CLEAN)
    if change is not None:
        change(concern)
    settings = copy.deepcopy(SETTINGS)
    if rules:
        settings["rules"] = rules
    files: dict[str, str | bytes | None] = {
        "portfolio.yaml": yaml.safe_dump(settings, sort_keys=False),
        "concerns/c-01.md": front(concern),
        "governance/gov-1.md": front(REVIEW),
    }
    for rel, data in EVIDENCE.items():
        if drop_statement_evidence and data["id"] == "EV-ALL":
            continue
        files[rel] = yaml.safe_dump(data, sort_keys=False)
    root = write_files(tmp_path / "content", files)
    build = load(root, as_of)
    return [(f.code, f.message) for f in build.findings]


def codes(*args: Any, **kwargs: Any) -> set[str]:
    return {code for code, _ in findings(*args, **kwargs)}


def test_the_clean_portfolio_has_no_findings(tmp_path: Path) -> None:
    assert findings(tmp_path) == []


def close(concern: dict[str, Any], **closure: Any) -> None:
    concern["status"] = "closed"
    concern["closure"] = {
        "date": date(2026, 6, 15),
        "by": "quality-lead",
        "recorded_in": "GOV-1",
        "evidence": ["EV-B"],
        **closure,
    }
    concern["measures"][0]["readings"].append(
        {"date": date(2026, 5, 10), "value": 91, "evidence": "EV-B"}
    )
    concern["measures"][0]["readings"].sort(key=lambda r: r["date"])
    concern["measures"][0]["readings"][-1]["value"] = 92  # 2026-06-10 at target too


def at(days_from: date, days: int) -> date:
    return date.fromordinal(days_from.toordinal() + days)


Change = Callable[[dict[str, Any]], None]


def set_path(path: str, value: Any) -> Change:
    """A change that sets a dotted path (list indexes as numbers) in the concern."""

    def change(concern: dict[str, Any]) -> None:
        parts = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = concern
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value

    return change


def both(*changes: Change) -> Change:
    def change(concern: dict[str, Any]) -> None:
        for one in changes:
            one(concern)

    return change


def close_action(**closure: Any) -> Change:
    def change(concern: dict[str, Any]) -> None:
        action = concern["actions"][0]
        action["status"] = "closed"
        action["closure"] = {
            "date": date(2026, 6, 15),
            "by": "registered-manager",
            "recorded_in": "GOV-1",
            "evidence": ["EV-B"],
            **closure,
        }

    return change


CLOSED_OK = lambda c: close(c)  # noqa: E731 - a closed concern with a sound chain

# (rule code, description, change, as_of, rules, fires)
CASES: list[tuple[str, str, Change | None, date, dict[str, int] | None, bool]] = [
    ("C101", "closed concern without evidence", lambda c: close(c, evidence=[]), AS_OF, None, True),
    ("C101", "closed concern with evidence", CLOSED_OK, AS_OF, None, False),
    ("C101", "closed action without evidence", close_action(evidence=[]), AS_OF, None, True),
    (
        "C101",
        "completed action needs no closure",
        set_path("actions.0.status", "completed"),
        AS_OF,
        None,
        False,
    ),
    ("C102", "closed on training only", lambda c: close(c, evidence=["EV-T"]), AS_OF, None, True),
    (
        "C102",
        "closed on training and feedback",
        lambda c: close(c, evidence=["EV-T", "EV-B"]),
        AS_OF,
        None,
        False,
    ),
    (
        "C103",
        "closed below target",
        both(CLOSED_OK, set_path("measures.0.readings.2.value", 89)),
        AS_OF,
        None,
        True,
    ),
    (
        "C103",
        "closed exactly at target",
        both(CLOSED_OK, set_path("measures.0.readings.2.value", 90)),
        AS_OF,
        None,
        False,
    ),
    (
        "C104",
        "closed after 1 of 2 readings at target",
        both(CLOSED_OK, set_path("measures.0.readings.1.value", 85)),
        AS_OF,
        None,
        True,
    ),
    ("C104", "closed after 2 of 2 readings at target", CLOSED_OK, AS_OF, None, False),
    (
        "C105",
        "closure without recorded_in",
        lambda c: close(c, recorded_in=None),
        AS_OF,
        None,
        True,
    ),
    ("C105", "closure recorded", CLOSED_OK, AS_OF, None, False),
    (
        "C106",
        "action closure recorded in a review with no decision about it",
        close_action(),
        AS_OF,
        None,
        True,
    ),
    (
        "C106",
        "concern closure recorded in a review that decided to close it",
        CLOSED_OK,
        AS_OF,
        None,
        False,
    ),
    ("C107", "closed by its owner", lambda c: close(c, by="registered-manager"), AS_OF, None, True),
    ("C107", "closed by someone else", CLOSED_OK, AS_OF, None, False),
    (
        "C108",
        "no reading within 30 days after closure, judged on day 31",
        CLOSED_OK,
        at(date(2026, 6, 15), 31),
        None,
        True,
    ),
    ("C108", "judged on day 30: not yet due", CLOSED_OK, at(date(2026, 6, 15), 30), None, False),
    (
        "C108",
        "a reading on day 30 after closure",
        both(
            CLOSED_OK,
            lambda c: c["measures"][0]["readings"].append({"date": date(2026, 7, 15), "value": 93}),
        ),
        date(2026, 7, 20),
        None,
        False,
    ),
    (
        "C109",
        "fell below target after closure",
        both(
            CLOSED_OK,
            lambda c: c["measures"][0]["readings"].append({"date": date(2026, 6, 25), "value": 80}),
        ),
        AS_OF,
        None,
        True,
    ),
    (
        "C109",
        "still at target after closure",
        both(
            CLOSED_OK,
            lambda c: c["measures"][0]["readings"].append({"date": date(2026, 6, 25), "value": 90}),
        ),
        AS_OF,
        None,
        False,
    ),
    ("A201", "due yesterday", set_path("actions.0.due", date(2026, 6, 29)), AS_OF, None, True),
    ("A201", "due today", set_path("actions.0.due", AS_OF), AS_OF, None, False),
    (
        "A201",
        "extended past the as-of date",
        both(
            set_path("actions.0.due", date(2026, 6, 1)),
            set_path("actions.0.extensions", [{"to": date(2026, 7, 31)}]),
        ),
        AS_OF,
        None,
        False,
    ),
    (
        "A201",
        "completed late is not overdue",
        both(
            set_path("actions.0.due", date(2026, 6, 1)), set_path("actions.0.status", "completed")
        ),
        AS_OF,
        None,
        False,
    ),
    ("A202", "due in 14 days", set_path("actions.0.due", at(AS_OF, 14)), AS_OF, None, True),
    ("A202", "due in 15 days", set_path("actions.0.due", at(AS_OF, 15)), AS_OF, None, False),
    (
        "A202",
        "threshold from portfolio.yaml",
        set_path("actions.0.due", at(AS_OF, 15)),
        AS_OF,
        {"due_soon_days": 15},
        True,
    ),
    (
        "A203",
        "two extensions",
        set_path("actions.0.extensions", [{"to": date(2026, 10, 1)}, {"to": date(2026, 10, 15)}]),
        AS_OF,
        None,
        True,
    ),
    (
        "A203",
        "one extension",
        set_path("actions.0.extensions", [{"to": date(2026, 10, 1)}]),
        AS_OF,
        None,
        False,
    ),
    (
        "A204",
        "action owned by a vacant role",
        set_path("actions.0.owner", "vacant-lead"),
        AS_OF,
        None,
        True,
    ),
    ("A204", "concern owned by a vacant role", set_path("owner", "vacant-lead"), AS_OF, None, True),
    (
        "A205",
        "last update 31 days ago",
        set_path("actions.0.updates.0.date", at(AS_OF, -31)),
        AS_OF,
        None,
        True,
    ),
    (
        "A205",
        "last update 30 days ago",
        set_path("actions.0.updates.0.date", at(AS_OF, -30)),
        AS_OF,
        None,
        False,
    ),
    (
        "A205",
        "weekly action with no update for 8 days",
        both(
            set_path("actions.0.cadence", "weekly"),
            set_path("actions.0.updates.0.date", at(AS_OF, -8)),
        ),
        AS_OF,
        None,
        True,
    ),
    (
        "A205",
        "weekly action updated 7 days ago",
        both(
            set_path("actions.0.cadence", "weekly"),
            set_path("actions.0.updates.0.date", at(AS_OF, -7)),
        ),
        AS_OF,
        None,
        False,
    ),
    ("O301", "no actions", set_path("actions", []), AS_OF, None, True),
    ("O302", "no measures", set_path("measures", []), AS_OF, None, True),
    ("O303", "no readings", set_path("measures.0.readings", []), AS_OF, None, True),
    ("O303", "readings only after the as-of date", None, date(2026, 3, 1), None, True),
    (
        "O304",
        "no improvement across 61 days",
        set_path(
            "measures.0.readings",
            [
                {"date": date(2026, 4, 10), "value": 78, "evidence": "EV-A"},
                {"date": date(2026, 6, 10), "value": 78, "evidence": "EV-B"},
            ],
        ),
        AS_OF,
        None,
        True,
    ),
    ("O304", "improved by the latest reading", None, AS_OF, None, False),
    (
        "O304",
        "flat but over less than the static period",
        set_path(
            "measures.0.readings",
            [
                {"date": date(2026, 4, 10), "value": 78, "evidence": "EV-A"},
                {"date": date(2026, 6, 10), "value": 78, "evidence": "EV-B"},
            ],
        ),
        AS_OF,
        {"static_after_days": 62},
        False,
    ),
    (
        "O305",
        "trend misses the target date",
        set_path("measures.0.target.by", date(2026, 7, 31)),
        AS_OF,
        None,
        True,
    ),
    (
        "O305",
        "trend reaches the target just in time",
        set_path("measures.0.target.by", date(2026, 8, 31)),
        AS_OF,
        None,
        False,
    ),
    (
        "O305",
        "target date passed",
        set_path("measures.0.target.by", date(2026, 6, 1)),
        AS_OF,
        None,
        True,
    ),
    ("O305", "trend reaches the target", None, AS_OF, None, False),
    (
        "O306",
        "outcome evidence from one category",
        set_path("measures.0.readings.1.evidence", "EV-A"),
        AS_OF,
        None,
        True,
    ),
    ("O306", "two categories needed and given", None, AS_OF, None, False),
    ("O306", "three categories asked for", None, AS_OF, {"min_evidence_categories": 3}, True),
    ("O307", "last read 31 days ago", None, at(date(2026, 6, 10), 31), None, True),
    ("O307", "last read 30 days ago", None, at(date(2026, 6, 10), 30), None, False),
    (
        "E401",
        "newest evidence 91 days old",
        None,
        at(date(2026, 6, 10), 91),
        {"stale_after_days": 200},
        True,
    ),
    (
        "E401",
        "newest evidence 90 days old",
        None,
        at(date(2026, 6, 10), 90),
        {"stale_after_days": 200},
        False,
    ),
    (
        "E401",
        "closed concerns are not judged",
        CLOSED_OK,
        at(date(2026, 6, 10), 91),
        {"stale_after_days": 200},
        False,
    ),
    (
        "E403",
        "a reading after the as-of date",
        set_path("measures.0.readings.1.date", date(2026, 7, 2)),
        AS_OF,
        None,
        True,
    ),
    (
        "E403",
        "an update after the as-of date",
        set_path("actions.0.updates", [{"date": date(2026, 7, 1), "note": "Done."}]),
        AS_OF,
        None,
        True,
    ),
    ("E403", "everything on or before the as-of date", None, AS_OF, None, False),
]


@pytest.mark.parametrize(
    ("code", "change", "as_of", "rules", "fires"),
    [c[:1] + c[2:] for c in CASES],
    ids=[f"{c[0]} {c[1]}" for c in CASES],
)
def test_rule(
    tmp_path: Path,
    code: str,
    change: Change | None,
    as_of: date,
    rules: dict[str, int] | None,
    fires: bool,
) -> None:
    found = codes(tmp_path, change, as_of, rules)
    assert (code in found) is fires, found


def test_closure_decision_missing(tmp_path: Path) -> None:
    # GOV-1 holds a close decision for C-01; a closure recorded in it passes, and one recorded
    # in a review without the decision fails.
    assert "C106" not in codes(tmp_path, CLOSED_OK)
    review_without = {**REVIEW, "id": "GOV-2", "decisions": [{"ref": "C-01", "decision": "note"}]}
    (tmp_path / "content" / "governance" / "gov-2.md").write_text(front(review_without))
    concern = copy.deepcopy(CLEAN)
    close(concern, recorded_in="GOV-2")
    (tmp_path / "content" / "concerns" / "c-01.md").write_text(front(concern))
    found = [(f.code, f.message) for f in load(tmp_path / "content").findings]
    assert ("C106", "GOV-2 records no decision to close C-01") in found


def test_statement_without_evidence(tmp_path: Path) -> None:
    found = findings(tmp_path, drop_statement_evidence=True)
    gaps = [m for c, m in found if c == "S501"]
    # One finding per key question, listing its statements but the one the concern's evidence
    # is filed under.
    assert len(gaps) == 5
    assert gaps[0].startswith(
        "7 statements under Safe with no evidence: Learning culture (learning-culture); "
        "Safe systems, pathways and transitions"
    )
    assert "medicines-optimisation" not in gaps[0]


def test_statement_gaps_only_among_the_statements_worked_on(tmp_path: Path) -> None:
    def working_on(slugs: list[str], **rules: int) -> list[str]:
        SETTINGS["quality_statements"] = slugs
        try:
            found = findings(tmp_path, rules=rules or None, drop_statement_evidence=True)
        finally:
            del SETTINGS["quality_statements"]
        return [m for c, m in found if c == "S501"]

    assert working_on(["medicines-optimisation"]) == []
    assert working_on(["medicines-optimisation", "safeguarding"]) == [
        "1 statement under Safe with no evidence: Safeguarding (safeguarding)"
    ]
    # A threshold, as for the other rules: statements with fewer entries than it are gaps.
    assert working_on(["medicines-optimisation"], min_statement_evidence=5) == [
        "1 statement under Safe with fewer than 5 evidence entries: Medicines optimisation "
        "(medicines-optimisation)"
    ]


def test_an_unknown_statement_worked_on_is_an_error_at_its_line(tmp_path: Path) -> None:
    SETTINGS["quality_statements"] = ["medicines-optimisation", "medicine-optimisation"]
    try:
        with pytest.raises(PortfolioError) as caught:
            findings(tmp_path)
    finally:
        del SETTINGS["quality_statements"]
    [problem] = caught.value.problems
    assert problem.path.endswith("portfolio.yaml")
    assert problem.line > 1
    assert "unknown quality statement 'medicine-optimisation'" in problem.message
    assert "did you mean 'medicines-optimisation'?" in problem.message


def test_findings_point_at_the_line_of_the_fault(tmp_path: Path) -> None:
    findings(tmp_path, set_path("actions.0.due", date(2026, 6, 29)))
    build = load(tmp_path / "content")
    [overdue] = [f for f in build.findings if f.code == "A201"]
    text = (tmp_path / "content" / "concerns" / "c-01.md").read_text().splitlines()
    assert text[overdue.line - 1].strip().startswith("due:")
    assert overdue.path.endswith("content/concerns/c-01.md")
    assert (overdue.record, overdue.concern) == ("C-01-A1", "C-01")
    assert str(overdue).endswith(f":{overdue.line}: A201 C-01-A1 was due 2026-06-29, 1 day ago")


def test_every_rule_is_documented() -> None:
    doc = (REPO / "docs" / "rules.md").read_text()
    # docs/rules.md is generated: regenerate with `portfolio rules --format markdown`.
    assert doc == rules_markdown()
    codes_in_doc = set(re.findall(r"^### ([A-Z]\d{3}) ", doc, re.MULTILINE))
    assert codes_in_doc == {r.code for r in RULES}
    for registered in RULES:
        assert f"### {registered.code} {registered.name}" in doc
        assert registered.title and registered.why and registered.fix


def test_codes_are_unique_and_well_formed() -> None:
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
    for registered in RULES:
        assert re.fullmatch(r"[A-Z]\d{3}", registered.code)
        assert re.fullmatch(r"[a-z-]+", registered.name)


def test_every_rule_fires_in_the_sample_portfolio() -> None:
    build = load(REPO / "content")
    assert {f.code for f in build.findings} == {r.code for r in RULES}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "See [NICE](https://www.nice.org.uk/guidance/sc1).",
            "link 'NICE' points to www.nice.org.uk, outside the portfolio: it is not included",
        ),
        (
            "Our chart:\n![chart](http://127.0.0.1:8000/chart.png)",
            "image 'chart' points to 127.0.0.1:8000, outside the portfolio: it is not included",
        ),
        (
            "![secret](file:///etc/passwd)",
            "image 'secret' points to file:, outside the portfolio: it is not included",
        ),
        (
            "![up](../../../outside.png)",
            "image 'up' points to ../../../outside.png, outside the portfolio folder: it is not "
            "included",
        ),
        (
            "[gone](../attachments/missing.pdf)",
            "link 'gone' points to ../attachments/missing.pdf, which does not exist in the "
            "portfolio folder: it is not included",
        ),
    ],
)
def test_outside_reference(tmp_path: Path, body: str, expected: str) -> None:
    findings(tmp_path)  # the clean portfolio; then give its concern a body
    text = front(CLEAN) + "\n## Context\n\n" + body + "\n"
    write_files(tmp_path / "content", {"concerns/c-01.md": text})
    [finding] = load(tmp_path / "content").findings
    assert (finding.code, finding.message) == ("E402", expected)
    line = text.splitlines()[finding.line - 1]
    assert "](" in line, line


def test_links_inside_the_portfolio_are_fine(tmp_path: Path) -> None:
    findings(tmp_path)
    write_files(
        tmp_path / "content",
        {
            "attachments/plan.pdf": b"%PDF-1.4",
            "concerns/c-01.md": front(CLEAN)
            + "\n[The plan](../attachments/plan.pdf) and [above](#context)\n",
        },
    )
    assert load(tmp_path / "content").findings == []
