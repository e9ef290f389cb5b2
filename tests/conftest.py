"""Shared fixtures: small portfolios built in tmp_path from a dict of files."""

from __future__ import annotations

import csv
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "content"

PORTFOLIO_YAML = """\
provider: Riverside Care Group
service: Riverside House
location_id: 1-123456789
as_of: 2026-06-30
period: {from: 2026-01-01, to: 2026-06-30}
roles:
  registered-manager: {name: Amira Patel, title: Registered Manager}
  quality-lead: {name: Tom Reid, title: Quality Lead}
  medicines-lead: {title: Medicines Lead}
"""

CONCERN_MD = """\
---
id: MED-01
title: Medicines records incomplete
quality_statements: [medicines-optimisation, safe-systems-pathways-transitions]
source: internal-audit
regulation: [12, 17]
raised: 2026-01-12
raised_by: medicines-lead
owner: registered-manager
risk: high
status: open
baseline: Repeated MAR gaps.
intended_outcome: 95% complete medicines records.
measures:
  - id: MED-01-M1
    name: Complete medicines records
    unit: "%"
    baseline: {date: 2026-01-12, value: 72, evidence: EV-01}
    target: {value: 95, by: 2026-09-30, sustain: 2}
    readings:
      - {date: 2026-02-10, value: 81, evidence: EV-02}
actions:
  - id: MED-01-A1
    title: Competency checks
    owner: quality-lead
    due: 2026-02-28
    status: completed
    evidence: [EV-02]
    closure: {date: 2026-03-20, by: registered-manager, recorded_in: GOV-01, evidence: [EV-02]}
  - id: MED-01-A2
    title: Weekly MAR spot checks
    owner: medicines-lead
    due: 2026-08-31
    status: in-progress
    cadence: weekly
related: [CP-01]
---
## Context

Body text with a *word*.
"""

CONCERN2_MD = """\
---
id: CP-01
title: Care plans not updated after falls
quality_statements: [assessing-needs]
source: incident
raised: 2026-02-01
owner: quality-lead
risk: medium
status: open
baseline: Care plans out of date.
intended_outcome: Every fall leads to a plan review within 72 hours.
---
"""

EVIDENCE_01 = """\
---
id: EV-01
title: January MAR audit
type: audit
date: 2026-01-12
file: attachments/jan-audit.csv
summary: 72% of charts complete.
---
Audit notes.
"""

EVIDENCE_02 = """\
id: EV-02
title: February MAR audit
type: audit
date: 2026-02-10
quality_statements: [learning-culture]
"""

REVIEW_MD = """\
---
id: GOV-01
title: March governance meeting
date: 2026-03-28
chair: registered-manager
attendees: [quality-lead]
decisions:
  - {ref: MED-01-A1, decision: close, rationale: Competency seen}
  - {ref: MED-01, decision: keep-open}
---
Minutes.
"""

BASE_FILES: dict[str, str | bytes] = {
    "portfolio.yaml": PORTFOLIO_YAML,
    "concerns/med-01.md": CONCERN_MD,
    "concerns/cp-01.md": CONCERN2_MD,
    "evidence/ev-01.md": EVIDENCE_01,
    "evidence/ev-02.yaml": EVIDENCE_02,
    "governance/gov-01.md": REVIEW_MD,
    "attachments/jan-audit.csv": "chart,complete\nA,yes\n",
}

MakePortfolio = Callable[..., Path]


def write_files(root: Path, files: dict[str, str | bytes | None]) -> Path:
    """Write ``files`` (path -> text or bytes; None removes it) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        if content is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(
                textwrap.dedent(content) if content.startswith("\n") else content, encoding="utf-8"
            )
    return root


@pytest.fixture
def make_portfolio(tmp_path: Path) -> MakePortfolio:
    """Build a small valid portfolio in tmp_path/content, with files replaced or added."""

    def make(files: dict[str, str | bytes | None] | None = None, base: bool = True) -> Path:
        root = tmp_path / "content"
        merged: dict[str, str | bytes | None] = dict(BASE_FILES) if base else {}
        merged.update(files or {})
        return write_files(root, merged)

    return make


def excel_csv(xlsx: Path, path: Path, encoding: str = "utf-8") -> Path:
    """A workbook's first sheet as Excel saves it as CSV: a merged cell's text only in its
    first cell, dates as dd/mm/yyyy."""
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert sheet is not None
    with path.open("w", newline="", encoding=encoding) as stream:
        writer = csv.writer(stream)
        for row in sheet.iter_rows(values_only=True):
            writer.writerow(
                [
                    "" if v is None else (f"{v:%d/%m/%Y}" if isinstance(v, datetime) else v)
                    for v in row
                ]
            )
    return path


def new_sheet() -> tuple[Workbook, Worksheet]:
    """A new workbook and its first sheet, for a test to fill as a tracker."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    return book, sheet
