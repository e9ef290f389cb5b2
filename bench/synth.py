"""Generate a synthetic portfolio that follows the record format, deterministic from a seed.

    python bench/synth.py OUT --concerns 1000 [--seed 1]

Each concern has 3-6 actions, 1-2 measures of 6-24 monthly readings, and 3-5 evidence entries
of its own (with a small attachment each); one governance review a month records decisions.
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

STATEMENTS = [
    "learning-culture",
    "safe-systems-pathways-transitions",
    "safeguarding",
    "involving-people-to-manage-risks",
    "safe-environments",
    "safe-effective-staffing",
    "infection-prevention-control",
    "medicines-optimisation",
    "assessing-needs",
    "delivering-evidence-based-care",
    "staff-teams-services-work-together",
    "supporting-healthier-lives",
    "monitoring-improving-outcomes",
    "consent-to-care",
    "kindness-compassion-dignity",
    "treating-people-as-individuals",
    "independence-choice-control",
    "responding-to-immediate-needs",
    "workforce-wellbeing-enablement",
    "person-centred-care",
    "care-provision-integration-continuity",
    "providing-information",
    "listening-to-involving-people",
    "equity-in-access",
    "equity-in-experiences-outcomes",
    "planning-for-the-future",
    "shared-direction-culture",
    "capable-compassionate-inclusive-leaders",
    "freedom-to-speak-up",
    "workforce-edi",
    "governance-management-sustainability",
    "partnerships-communities",
    "learning-improvement-innovation",
    "environmental-sustainability",
]
TYPES = [
    "audit",
    "care-records",
    "feedback",
    "survey",
    "observation",
    "competency-check",
    "incident-log",
    "training-record",
    "meeting-minutes",
    "supervision",
]
ROLES = [
    "registered-manager",
    "deputy-manager",
    "quality-lead",
    "medicines-lead",
    "training-lead",
    "safeguarding-lead",
    "maintenance-lead",
    "night-lead",
]
WORDS = [
    *[
        "care",
        "plan",
        "record",
        "audit",
        "staff",
        "resident",
        "family",
        "night",
        "medicines",
        "falls",
        "review",
    ],
    *[
        "handover",
        "training",
        "supervision",
        "complaint",
        "feedback",
        "risk",
        "assessment",
        "hydration",
    ],
    *[
        "nutrition",
        "dignity",
        "choice",
        "consent",
        "capacity",
        "safeguarding",
        "referral",
        "escalation",
    ],
    *["rota", "agency", "cleaning"],
]
AS_OF = date(2026, 10, 31)
START = date(2024, 11, 1)


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, rng.randint(8, 16)) for _ in range(sentences))


def generate(out: Path, concerns: int, seed: int = 1) -> None:
    """Write a portfolio of ``concerns`` concerns into ``out`` (replaced if it exists)."""
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    for folder in ("concerns", "evidence", "governance", "attachments"):
        (out / folder).mkdir(parents=True)
    roles = "\n".join(
        f"  {r}: {{name: Person {i}, title: {r.replace('-', ' ').title()}}}"
        if r != "night-lead"
        else f"  {r}: {{title: Night Lead}}"
        for i, r in enumerate(ROLES)
    )
    (out / "portfolio.yaml").write_text(
        f"provider: Synthetic Care Ltd\nservice: Synthetic House\nlocation_id: 1-000000000\n"
        f"as_of: {AS_OF}\nperiod: {{from: {START}, to: {AS_OF}}}\nroles:\n{roles}\n",
        encoding="utf-8",
    )
    months = [START + timedelta(days=30 * i) for i in range(24)]
    decisions: dict[int, list[str]] = {i: [] for i in range(len(months))}
    for n in range(1, concerns + 1):
        cid = f"C-{n:05d}"
        raised = START + timedelta(days=rng.randint(0, 300))
        evidence_ids = []
        for e in range(rng.randint(3, 5)):
            eid = f"{cid}-E{e + 1}"
            evidence_ids.append(eid)
            day = raised + timedelta(days=rng.randint(0, 330))
            attachment = f"attachments/{cid.lower()}-e{e + 1}.csv"
            (out / attachment).write_text(
                "date,value\n" + "".join(f"{day},{rng.randint(40, 100)}\n" for _ in range(5)),
                encoding="utf-8",
            )
            (out / "evidence" / f"{eid.lower()}.md").write_text(
                f"---\nid: {eid}\ntitle: {sentence(rng, 4)[:-1]}\ntype: {rng.choice(TYPES)}\n"
                f"date: {min(day, AS_OF)}\nowner: {rng.choice(ROLES)}\nfile: {attachment}\n"
                f"summary: {sentence(rng, 12)}\n---\n{paragraph(rng, 2)}\n",
                encoding="utf-8",
            )
        measures = []
        for m in range(rng.randint(1, 2)):
            count = rng.randint(6, 24)
            value = rng.randint(40, 70)
            readings = []
            for r in range(count):
                day = raised + timedelta(days=30 * (r + 1))
                if day > AS_OF:
                    break
                value = min(100, value + rng.randint(-3, 8))
                readings.append(
                    f"      - {{date: {day}, value: {value}, evidence: {rng.choice(evidence_ids)}}}"
                )
            measures.append(
                f'  - id: {cid}-M{m + 1}\n    name: {sentence(rng, 3)[:-1]}\n    unit: "%"\n'
                f"    baseline: {{date: {raised}, value: {rng.randint(30, 60)}, "
                f"evidence: {evidence_ids[0]}}}\n"
                f"    target: {{value: 95, by: {raised + timedelta(days=365)}, sustain: 3}}\n"
                "    readings:\n" + ("\n".join(readings) if readings else "      []")
            )
        actions = []
        for a in range(rng.randint(3, 6)):
            aid = f"{cid}-A{a + 1}"
            due = raised + timedelta(days=rng.randint(20, 400))
            status = rng.choice(["planned", "in-progress", "completed", "closed"])
            text = (
                f"  - id: {aid}\n    title: {sentence(rng, 6)[:-1]}\n"
                f"    owner: {rng.choice(ROLES)}\n    due: {due}\n    status: {status}\n"
                f"    evidence: [{rng.choice(evidence_ids)}]\n"
                f"    updates:\n      - {{date: {min(raised + timedelta(days=15), AS_OF)}, "
                f"by: {rng.choice(ROLES)}, note: {sentence(rng, 6)}}}\n"
            )
            if status == "closed":
                month = min(len(months) - 1, max(0, (min(due, AS_OF) - START).days // 30))
                review = f"GOV-{month + 1:02d}"
                decisions[month].append(aid)
                text += (
                    f"    closure: {{date: {months[month]}, by: registered-manager, "
                    f"recorded_in: {review}, evidence: [{rng.choice(evidence_ids)}]}}\n"
                )
            actions.append(text)
        statements = rng.sample(STATEMENTS, rng.randint(1, 3))
        (out / "concerns" / f"{cid.lower()}.md").write_text(
            f"---\nid: {cid}\ntitle: {sentence(rng, 7)[:-1]}\n"
            f"quality_statements: [{', '.join(statements)}]\nsource: internal-audit\n"
            f"raised: {raised}\nowner: {rng.choice(ROLES)}\n"
            f"risk: {rng.choice(['low', 'medium', 'high'])}\n"
            f"status: open\nbaseline: {sentence(rng, 14)}\nintended_outcome: {sentence(rng, 12)}\n"
            "measures:\n"
            + "\n".join(measures)
            + "\nactions:\n"
            + "".join(actions)
            + f"---\n## Context\n\n{paragraph(rng, 6)}\n\n"
            + f"## What can go wrong\n\n{paragraph(rng, 5)}\n",
            encoding="utf-8",
        )
    for index, day in enumerate(months):
        if day > AS_OF:
            break
        lines = "".join(f"  - {{ref: {ref}, decision: close}}\n" for ref in decisions[index])
        (out / "governance" / f"gov-{index + 1:02d}.md").write_text(
            f"---\nid: GOV-{index + 1:02d}\ntitle: Governance meeting {day:%B %Y}\ndate: {day}\n"
            f"chair: registered-manager\nattendees: [quality-lead, deputy-manager]\n"
            f"decisions:{chr(10) + lines if lines else ' []' + chr(10)}---\n{paragraph(rng, 3)}\n",
            encoding="utf-8",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--concerns", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.concerns, args.seed)


if __name__ == "__main__":
    main()
