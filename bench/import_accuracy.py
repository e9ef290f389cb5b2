"""How often the import's guess of a finding's quality statements agrees with a quality lead.

Reads the labelled tracker rows in tests/data/tracker_rows.yaml and prints, for the dev rows,
the held-out rows, the fresh rows (written after the vocabulary) and all of them: top-1 (the
best-ranked statement is one the quality lead chose) and top-2 (one of the two best-ranked is),
and how many statements the import writes per finding (one, or two when the second scores near
the first) with the share of those the quality lead chose too.
Both packaged frameworks are measured; for the 2026 draft the labels (2024 statements) are
filed under its key lines of enquiry by its crosswalk. With --misses, lists the rows it got
wrong.

    .venv/bin/python bench/import_accuracy.py [--misses]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from generator.load.framework import read_packaged
from generator.tools.guess import Guesser

ROWS = Path(__file__).resolve().parent.parent / "tests" / "data" / "tracker_rows.yaml"


def score(
    rows: list[dict[str, Any]], guesser: Guesser
) -> tuple[float, float, float, float, list[str]]:
    """Top-1 and top-2 accuracy over ``rows``, the statements chosen per row and the share of
    them the quality lead chose too, and a line for each row missed at top-2."""
    top1 = top2 = chosen = agreed = 0
    misses = []
    for row in rows:
        guess = guesser.guess(
            row["finding"],
            [row["action"]] if row.get("action") else [],
            row.get("regulation", ""),
            row.get("section"),
        )
        slugs = [r.slug for r in guess.ranked]
        labels = set(row["labels"])
        chosen += len(guess.chosen)
        agreed += sum(1 for r in guess.chosen if r.slug in labels)
        top1 += bool(slugs[:1] and slugs[0] in labels)
        hit = bool(labels & set(slugs[:2]))
        top2 += hit
        if not hit:
            misses.append(f"{row['finding'][:70]!r}: {slugs[:2]} (wanted {sorted(labels)})")
    n = len(rows)
    return top1 / n, top2 / n, chosen / n, agreed / max(chosen, 1), misses


def main() -> None:
    rows = yaml.safe_load(ROWS.read_text(encoding="utf-8"))["rows"]
    for framework_id in ("cqc-saf-2024", "cqc-asc-2026-draft"):
        framework = read_packaged(framework_id)
        assert framework is not None
        aliases = framework.aliases()
        # The labels are 2024 statements: under another framework, where its crosswalk files them.
        labelled = [
            {**row, "labels": sorted({n for old in row["labels"] for n in aliases.get(old, [old])})}
            for row in rows
        ]
        print(framework_id)
        report(labelled, Guesser(framework))


def report(rows: list[dict[str, Any]], guesser: Guesser) -> None:
    """Print the figures of each part of the labelled set."""
    for name, part in (
        ("dev", [r for r in rows if r["split"] == "dev"]),
        ("held-out", [r for r in rows if r["split"] == "held-out"]),
        ("fresh", [r for r in rows if r["split"] == "fresh"]),
        ("all", rows),
    ):
        top1, top2, per_row, agreed, misses = score(part, guesser)
        print(
            f"{name:>8}: {len(part):3d} rows  top-1 {top1:6.1%}  top-2 {top2:6.1%}  "
            f"chosen {per_row:.2f} a row, {agreed:6.1%} of them labelled"
        )
        if "--misses" in sys.argv and name != "all":
            for line in misses:
                print(f"          miss {line}")


if __name__ == "__main__":
    main()
