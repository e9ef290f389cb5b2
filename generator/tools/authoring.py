"""Scaffolding: new records in the portfolio's own id style, and new portfolio folders.

Everything written here passes ``portfolio check`` as written (with findings, not errors), so a
user starts from a record that builds and fills in the placeholders. Nothing is overwritten.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Literal

from generator.errors import PortfolioError, Problem
from generator.load.link import Portfolio

Kind = Literal["concern", "evidence", "review"]
FOLDERS: dict[Kind, str] = {"concern": "concerns", "evidence": "evidence", "review": "governance"}
DEFAULT_PREFIX: dict[Kind, str] = {"concern": "C", "evidence": "EV", "review": "GOV"}
DEFAULT_TITLE: dict[Kind, str] = {
    "concern": "New concern",
    "evidence": "New evidence",
    "review": "Governance meeting",
}
_NUMBERED = re.compile(r"^(.*?)(\d+)$")
_STOPWORDS = {"the", "and", "for", "not", "with", "from", "are", "our", "all", "too", "when"}


def _ids_of(portfolio: Portfolio, kind: Kind) -> list[str]:
    if kind == "concern":
        return list(portfolio.concerns)
    if kind == "evidence":
        return list(portfolio.evidence)
    return list(portfolio.reviews)


def _all_ids(portfolio: Portfolio) -> set[str]:
    return set(portfolio.sources)


def title_prefix(title: str) -> str | None:
    """A short topic code from a title: "Missing clothing" -> "MISS"."""
    for word in re.findall(r"[A-Za-z]+", title):
        if len(word) >= 3 and word.lower() not in _STOPWORDS:
            return str(word[:4]).upper()
    return None


def next_id(portfolio: Portfolio, kind: Kind, title: str | None = None) -> str:
    """The next free id in the portfolio's own style for ``kind``.

    The style is the prefix (the id without its trailing number) that most records of the kind
    share, with the same zero padding. Where no prefix is shared, a concern takes a topic code
    from its title (as "MED-01" does), and other kinds take EV- or GOV-.
    """
    numbered = [m for i in _ids_of(portfolio, kind) if (m := _NUMBERED.match(i))]
    counts = Counter(m.group(1) for m in numbered)
    prefix, width = "", 2
    if counts and counts.most_common(1)[0][1] >= 2:
        prefix = counts.most_common(1)[0][0]
        width = max(len(m.group(2)) for m in numbered if m.group(1) == prefix)
    else:
        topic = title_prefix(title) if kind == "concern" and title else None
        prefix = f"{topic or DEFAULT_PREFIX[kind]}-"
        same = [m for m in numbered if m.group(1) == prefix]
        if same:
            width = max(len(m.group(2)) for m in same)
    taken = _all_ids(portfolio)
    number = 1 + max((int(m.group(2)) for m in numbered if m.group(1) == prefix), default=0)
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def slugify(text: str) -> str:
    """A file-name friendly form of ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "record"


def _yaml_text(text: str) -> str:
    """A title as a safe YAML scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def concern_text(record_id: str, title: str, today: date, owner: str, statement: str) -> str:
    """A new concern with commented placeholders."""
    return f"""---
id: {record_id}
title: {_yaml_text(title)}
quality_statements: [{statement}]   # the quality statements this concern is about
source: internal-audit     # inspection | internal-audit | complaint | incident | safeguarding |
                           #   commissioner | feedback | provider-oversight | other
raised: {today.isoformat()}
owner: {owner}             # a role from portfolio.yaml
risk: medium               # low | medium | high
status: open               # open | monitoring | closed
baseline: >-
  What was wrong, in words and numbers: what was found, where, how often.
intended_outcome: >-
  What better care looks like when the actions work, and how you will measure it.
measures: []
  # - id: {record_id}-M1
  #   name: What you measure
  #   unit: "%"
  #   baseline: {{date: {today.isoformat()}, value: 0, evidence: EV-...}}
  #   target: {{value: 95, by: YYYY-MM-DD, sustain: 3}}
  #   readings: []
actions: []
  # - id: {record_id}-A1
  #   title: What will be done
  #   owner: {owner}
  #   due: YYYY-MM-DD
  #   status: planned
---
## Context

What happened, and why it matters for the people who use the service.

## What can go wrong

## Early warning signs

## Escalation

## Governance
"""


def evidence_text(record_id: str, title: str, today: date, owner: str) -> str:
    """A new evidence entry with commented placeholders."""
    return f"""---
id: {record_id}
title: {_yaml_text(title)}
type: other                # audit | care-records | feedback | survey | complaint | compliment |
                           #   incident-log | safeguarding-log | observation | supervision |
                           #   training-record | competency-check | meeting-minutes | rota |
                           #   policy | other
date: {today.isoformat()}
owner: {owner}
# file: attachments/...    # the file, inside the portfolio folder; or say where it is held:
location: Where the original is kept
summary: >-
  What this evidence shows, in a sentence or two, with its key figures.
---
"""


def review_text(record_id: str, title: str, today: date, chair: str) -> str:
    """A new governance review with commented placeholders."""
    return f"""---
id: {record_id}
title: {_yaml_text(title)}
date: {today.isoformat()}
forum: Monthly governance meeting
chair: {chair}
attendees: []
decisions: []
  # - {{ref: CONCERN-OR-ACTION-ID, decision: keep-open, rationale: Why}}
  #   decision: close | keep-open | reopen | extend (with to: YYYY-MM-DD) | escalate | note
---
Minutes of the meeting.
"""


def new_record(
    portfolio: Portfolio, kind: Kind, record_id: str | None, title: str | None, today: date
) -> Path:
    """Write a new record into the portfolio; never overwrite. Returns its path."""
    record_id = record_id or next_id(portfolio, kind, title)
    defaults = {
        "concern": "New concern",
        "evidence": "New evidence",
        "review": "Governance meeting",
    }
    title = title or defaults[kind]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", record_id):
        raise PortfolioError(
            [
                Problem(
                    record_id,
                    0,
                    "not a valid id: use letters, digits, "
                    "'-', '_' and '.', starting with a letter or digit",
                )
            ]
        )
    if record_id in _all_ids(portfolio):
        where = portfolio.where(record_id)
        raise PortfolioError(
            [
                Problem(
                    where.path, where.line, f"the id {record_id} is taken: choose another with --id"
                )
            ]
        )
    roles = list(portfolio.settings.roles)
    owner = "registered-manager" if "registered-manager" in roles else roles[0]
    if kind == "concern":
        first = next(iter(portfolio.framework.statements()))
        text = concern_text(record_id, title, today, owner, first)
    elif kind == "evidence":
        text = evidence_text(record_id, title, today, owner)
    else:
        text = review_text(record_id, title, today, owner)
    folder = portfolio.root / FOLDERS[kind]
    path = folder / f"{record_id.lower()}-{slugify(title)}.md"
    if path.exists():
        raise PortfolioError([Problem(str(path), 0, "a file of that name exists already")])
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as stream:
        stream.write(text)
    return path


PORTFOLIO_YAML = """# Who the portfolio is for, the date it is judged at, roles and rule settings.
# The record format is described in docs/format.md of the portfolio tool.
provider: {provider}
service: {service}
# location_id: 1-000000000        # the CQC location ID
service_type: residential
as_of: {today}                    # the date statuses and findings are judged at: move it
                                  # forward as the records are brought up to date
default_visibility: inspection    # internal | inspection | commissioner | public
# quality_statements: [medicines-optimisation]  # the statements you are working on: coverage
#                                 # gaps are looked for among these (default: all of them)
roles:                            # every owner named anywhere must be a role here
  registered-manager: {{name: Your Name, title: Registered Manager}}
  quality-lead: {{title: Quality Lead}}
rules:                            # thresholds of the assurance checks (these are the defaults)
  due_soon_days: 14
  stale_after_days: 30
  static_after_days: 60
  max_extensions: 1
  min_evidence_categories: 2
  evidence_max_age_days: 90
  min_statement_evidence: 1
"""

CI_WORKFLOW = """# Builds the portfolio's site and PDF on every push, and keeps them as a download.
name: portfolio
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0
      # Install the portfolio tool as your organisation provides it (package name below).
      - run: pip install care-evidence-portfolio
      - run: portfolio check . --format text
      - run: portfolio build . -o site
      - uses: actions/upload-artifact@v4
        with:
          name: portfolio
          path: site
"""


def init_portfolio(
    folder: Path, provider: str, service: str, today: date, with_ci: bool
) -> list[Path]:
    """Create a new, valid portfolio folder with one example of each record kind."""
    if folder.exists() and any(folder.iterdir()):
        raise PortfolioError(
            [
                Problem(
                    folder.as_posix(),
                    0,
                    "this folder is not empty: choose a new folder for the portfolio",
                )
            ]
        )
    files: dict[str, str] = {
        "portfolio.yaml": PORTFOLIO_YAML.format(
            provider=provider, service=service, today=today.isoformat()
        ),
        ".gitignore": "# Build output, and the build cache beside it\n/site/\n/.portfolio-cache/\n",
        "attachments/README.md": "Files that evidence entries point to with `file:`.\n",
        "concerns/c-01-example-concern.md": concern_text(
            "C-01",
            "Example concern: replace with your own",
            today,
            "registered-manager",
            "governance-management-sustainability",
        ),
        "evidence/ev-01-example-evidence.md": evidence_text(
            "EV-01", "Example evidence: replace with your own", today, "registered-manager"
        ),
        "governance/gov-01-example-review.md": review_text(
            "GOV-01", "Example governance meeting", today, "registered-manager"
        ),
    }
    if with_ci:
        files[".github/workflows/portfolio.yml"] = CI_WORKFLOW
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as stream:
            stream.write(text)
        written.append(path)
    return written
