"""Scaffolding: new records in the portfolio's own id style, and new portfolio folders.

Every template shows each field that changes how a record is judged, with a note in plain words
on what it does; optional fields are shown commented out with an example, written so that
deleting the ``# `` in front of them gives a record that loads. As written, each record passes
``portfolio check`` (with findings that say what to fill in, never errors). Nothing is
overwritten.

``new`` works on any portfolio whose folder and portfolio.yaml exist, whatever else is wrong in
it: a record that does not load, or a portfolio.yaml with a mistake in it, must not stop a
manager adding the record that is missing (:func:`survey` reads as much as can be read).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

from generator.errors import PortfolioError, Problem, Problems
from generator.load.framework import DEFAULT_FRAMEWORK, read_packaged
from generator.load.portfolio import assemble, open_portfolio
from generator.load.records import read_record
from generator.model import Concern, Evidence, Review

Kind = Literal["concern", "evidence", "review"]
FOLDERS: dict[Kind, str] = {"concern": "concerns", "evidence": "evidence", "review": "governance"}
KIND_OF_FOLDER: dict[str, Kind] = {folder: kind for kind, folder in FOLDERS.items()}
DEFAULT_PREFIX: dict[Kind, str] = {"concern": "C", "evidence": "EV", "review": "GOV"}
DEFAULT_TITLE: dict[Kind, str] = {
    "concern": "New concern",
    "evidence": "New evidence",
    "review": "Governance meeting",
}
DEFAULT_ROLE = "registered-manager"
#: Where an attached file goes, in the evidence template's example.
EXAMPLE_FILE = "attachments/your-file.pdf"
_NUMBERED = re.compile(r"^(.*?)(\d+)$")
_STOPWORDS = {"the", "and", "for", "not", "with", "from", "are", "our", "all", "too", "when"}
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --- what the portfolio holds ------------------------------------------------------------------


@dataclass
class Known:
    """What a portfolio holds that a new record must fit, read as far as it could be read."""

    root: Path
    shown: str
    #: Every id in use (records, actions, measures, and ids written in files that do not load),
    #: with the file and line that holds it.
    taken: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: The ids of the records of each kind, in the order read.
    records: dict[Kind, list[str]] = field(
        default_factory=lambda: {"concern": [], "evidence": [], "review": []}
    )
    roles: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    #: Valid records, newest first, for the examples in the templates.
    evidence: list[Evidence] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    concerns: list[Concern] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def take(self, record_id: str, where: str, line: int) -> None:
        self.taken.setdefault(record_id, (where, line))

    @property
    def owner(self) -> str:
        """The role a new record names as its owner."""
        return DEFAULT_ROLE if DEFAULT_ROLE in self.roles or not self.roles else self.roles[0]

    @property
    def checker(self) -> str:
        """A role to verify closures: another than the owner where there is one."""
        others = [role for role in self.roles if role != self.owner]
        return others[0] if others else self.owner


def survey(root: Path) -> Known:
    """Read what can be read of the portfolio at ``root``.

    Only a folder that is missing, or has no portfolio.yaml, is an error here: everything else
    that is wrong is collected in ``problems`` and the rest is read around it.
    """
    problems = Problems()
    opened = open_portfolio(root, problems)
    known = Known(root, opened.shown)
    settings = opened.settings
    if settings is not None:
        known.roles = list(settings.roles)
    elif opened.settings_source is not None:
        roles = opened.settings_source.data.get("roles")
        if isinstance(roles, dict):
            known.roles = [role for role in roles if isinstance(role, str)]
    framework = opened.framework[0] if opened.framework else read_packaged(DEFAULT_FRAMEWORK)
    slugs = list(framework.statements()) if framework is not None else []
    chosen = [s for s in (settings.quality_statements if settings else []) if s in slugs]
    known.statements = chosen + [s for s in slugs if s not in chosen]
    reads = []
    for job in opened.files:
        read = read_record(job, problems)
        reads.append(read)
        kind = KIND_OF_FOLDER.get(job.kind)
        record, source = read.record, read.source
        if record is not None and source is not None:
            known.take(record.id, job.display, source.line(("id",)))
            if kind is not None:
                known.records[kind].append(record.id)
            if isinstance(record, Concern):
                known.concerns.append(record)
                for at, action in enumerate(record.actions):
                    known.take(action.id, job.display, source.line(("actions", at, "id")))
                for at, measure in enumerate(record.measures):
                    known.take(measure.id, job.display, source.line(("measures", at, "id")))
            elif isinstance(record, Evidence):
                known.evidence.append(record)
            elif isinstance(record, Review):
                known.reviews.append(record)
            continue
        # A record that does not load still holds its ids: a new record must not take them.
        line = source.line(("id",)) if source is not None else 0
        for index, record_id in enumerate(read.ids):
            known.take(record_id, job.display, line if index == 0 else 0)
            if index == 0 and kind is not None:
                known.records[kind].append(record_id)
    if settings is not None and opened.framework is not None:
        assemble(opened, reads, None, problems, strict=False)  # the errors between records
    known.problems = problems.items
    known.evidence.sort(key=lambda e: e.date, reverse=True)
    known.reviews.sort(key=lambda r: r.date, reverse=True)
    known.concerns.sort(key=lambda c: c.raised, reverse=True)
    return known


# --- ids ---------------------------------------------------------------------------------------


def title_prefix(title: str) -> str | None:
    """A short topic code from a title: "Missing clothing" -> "MISS"."""
    for word in re.findall(r"[A-Za-z]+", title):
        if len(word) >= 3 and word.lower() not in _STOPWORDS:
            return str(word[:4]).upper()
    return None


def next_id(known: Known, kind: Kind, title: str | None = None) -> str:
    """The next free id in the portfolio's own style for ``kind``.

    The style is the prefix (the id without its trailing number) that most records of the kind
    share, with the same zero padding. Where no prefix is shared, a concern takes a topic code
    from its title (as "MED-01" does), and other kinds take EV- or GOV-.
    """
    numbered = [m for i in known.records[kind] if (m := _NUMBERED.match(i))]
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
    number = 1 + max((int(m.group(2)) for m in numbered if m.group(1) == prefix), default=0)
    while f"{prefix}{number:0{width}d}" in known.taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


def slugify(text: str) -> str:
    """A file-name friendly form of ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "record"


def _yaml_text(text: str) -> str:
    """A title as a safe YAML scalar on one line: line breaks, tabs and other control
    characters become spaces (a line break could end the front matter early)."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- the templates -----------------------------------------------------------------------------

_HOW = """\
# How to fill it in: change the words after each colon, and keep the rest. A line or the end of
# a line starting with # is a note for you: the build ignores it. To use a field shown after a
# #, delete the "# " in front of it (and in front of the lines under it), so that its spaces
# line up with the fields above. Indent with spaces, never tabs. Dates are written YYYY-MM-DD.
"""

_WHO_SEES = """\
#   who may see it: internal (your own service only) | inspection (CQC
#   inspectors too) | commissioner (commissioners too) | public (anyone).
#   Left out: default_visibility in portfolio.yaml"""


@dataclass
class Examples:
    """The ids the templates' commented examples point to: real ones where the portfolio has
    them, so that an example used as it is names something that exists."""

    evidence: str
    review: str
    concern: str
    action: str
    related: str | None

    @classmethod
    def of(cls, known: Known, exclude: str = "") -> Examples:
        evidence = known.evidence[0].id if known.evidence else next_id(known, "evidence")
        review = known.reviews[0].id if known.reviews else next_id(known, "review")
        with_actions = [c for c in known.concerns if c.actions and c.id != exclude]
        others = [c for c in known.concerns if c.id != exclude]
        if with_actions:
            concern, action = with_actions[0].id, with_actions[0].actions[0].id
        elif others:
            concern, action = others[0].id, others[0].id
        else:
            concern = next_id(known, "concern")
            action = f"{concern}-A1"
        return cls(evidence, review, concern, action, others[0].id if others else None)


def concern_text(
    record_id: str,
    title: str,
    today: date,
    owner: str,
    statement: str,
    examples: Examples,
    checker: str,
) -> str:
    """A new concern: required fields filled in, every other field shown with what it does."""
    t, ev, gov = today.isoformat(), examples.evidence, examples.review
    due, later = (today + timedelta(days=30)).isoformat(), (today + timedelta(days=60)).isoformat()
    by = (today + timedelta(days=90)).isoformat()
    related = (
        f"# related: [{examples.related}]      # other concerns linked to this one (their ids)\n"
        if examples.related
        else ""
    )
    return f"""---
# A concern: one thing that must get better, followed from what was wrong (the baseline),
# through the actions taken, to a measured outcome, with the evidence that shows each step.
{_HOW}
id: {record_id}                # its reference: keep it, links and meeting decisions use it
title: {_yaml_text(title)}
quality_statements: [{statement}]
#   the CQC quality statements it is about: one or more, between [ ] with commas.
#   `portfolio framework show` lists them all
source: internal-audit
#   where it came from: inspection | internal-audit | complaint | incident |
#   safeguarding | commissioner | feedback | provider-oversight | other
# regulation: [12, 17]
#   the regulations (9 to 20A) a breach or requirement notice cited, if any
raised: {t}            # the date it was raised
# raised_by: {checker}
#   who raised it: a role from portfolio.yaml
owner: {owner}
#   who is responsible for putting it right: a role from portfolio.yaml
risk: medium                 # how serious it is for people: low | medium | high
status: open
#   open | monitoring (the actions are done: you are watching that the change
#   lasts) | closed (needs the closure at the end)
# visibility: commissioner
{_WHO_SEES}
baseline: >-
  What was wrong, in words and numbers: what was found, where, and how often.
intended_outcome: >-
  What better care looks like when the actions have worked, and how you will measure it.

# Outcome measures: how you will know care got better, as a figure you count or score again and
# again (an audit score, falls in a month). Without one the concern is flagged. For another
# measure, copy the lines from "- id:" down and change the words.
# measures:
#   - id: {record_id}-M1
#     name: What you count, for example complete medicines records
#     unit: "%"
#     #   "%" (keep the quotes), or a word: falls, incidents, days
#     direction: up
#     #   up when higher is better (an audit score), down when lower is
#     #   better (falls, errors). Left out, it follows from the target
#     baseline: {{date: {t}, value: 60, evidence: {ev}}}
#     #   the starting figure, its date, and the id of the evidence it came from
#     #   (`portfolio new evidence` starts an evidence entry)
#     target: {{value: 95, by: {by}, sustain: 3}}
#     #   the figure to reach, the date to reach it by, and how many readings in a
#     #   row must be at target before the change counts as lasting (sustain)
#     readings:
#       - {{date: {t}, value: 75, evidence: {ev}, note: After training}}
#     #   each new figure as it comes in, oldest first, with its evidence. A figure
#     #   that stops improving, or too slow to reach the target in time, is flagged

# Actions: the steps taken to put it right, each with one owner and a due date. Without one the
# concern is flagged. For another action, copy the lines from "- id:" down and change the words.
# actions:
#   - id: {record_id}-A1
#     title: What will be done
#     owner: {owner}
#     #   who will do it: a role from portfolio.yaml
#     due: {due}
#     #   the date first agreed. Never change it: a new date goes under
#     #   extensions, so the move stays on record. Past it, unfinished: overdue
#     status: in-progress
#     #   planned | in-progress | completed (done) | closed (done and checked:
#     #   add the closure below)
#     cadence: weekly
#     #   for a check that repeats: per-shift | daily | weekly | fortnightly |
#     #   monthly | quarterly. An update is then expected as often as that
#     records_in: Handover sheet
#     #   where the work is recorded
#     evidence_required: Signed handover sheets for every shift
#     #   the evidence that will show it was done
#     expected_outcome: Low fluid totals are acted on the same day
#     #   what should change for people because of it
#     extensions:
#       - {{to: {later}, date: {t}, agreed_by: {owner}, reason: Staff sickness}}
#     #   each new due date agreed, in order, with who agreed it and why. The last
#     #   one is the due date in force. More than max_extensions is flagged
#     updates:
#       - {{date: {t}, by: {owner}, note: Four of twelve staff trained}}
#     #   dated progress notes, newest last. None for stale_after_days: flagged
#     evidence: [{ev}]
#     #   ids of the evidence that shows it happened or worked
#     closure:
#       date: {t}
#       by: {checker}
#       recorded_in: {gov}
#       evidence: [{ev}]
#       rationale: Training records seen for every member of staff
#     #   when it was closed, who checked it (best not its owner), the meeting
#     #   that agreed it, and the evidence. No evidence: flagged

# Closure: fill this in when status is closed. To close well, the evidence must show the
# outcome for people (not only that work was done), from at least two kinds of evidence, with
# the target met for the sustain readings, and the meeting that agreed it must hold a close
# decision for this concern. Readings go on after closure, to show the change lasts.
# closure:
#   date: {t}
#   by: {checker}
#   #   who checked it was put right: best not the concern's owner
#   recorded_in: {gov}
#   #   the id of the governance meeting that agreed to close it
#   evidence: [{ev}]
#   #   ids of the evidence that shows it was put right
#   rationale: Target met and held in three audits in a row
{related}---
## Context

What happened, and why it matters for the people who use the service.

## What can go wrong

## Early warning signs

## Escalation

## Governance
"""


def evidence_text(record_id: str, title: str, today: date, owner: str, statement: str) -> str:
    """A new evidence entry: required fields filled in, every other field shown."""
    t = today.isoformat()
    return f"""---
# An evidence entry: one source of evidence, such as an audit, a survey, an observation or
# minutes. Concerns point to it by its id.
{_HOW}
id: {record_id}              # its reference: keep it, concerns use it
title: {_yaml_text(title)}
type: other
#   what it is: audit | care-records | feedback | survey | complaint | compliment |
#   incident-log | safeguarding-log | observation | supervision | training-record |
#   competency-check | meeting-minutes | rota | policy | other.
#   The type decides its CQC evidence category and whether it shows an outcome
#   (an audit, feedback, an observation) or only that something was done
#   (training, minutes, a policy, other): see category and nature below
date: {t}            # the date of the evidence (of the audit, the visit, the meeting)
owner: {owner}
#   who holds it: a role from portfolio.yaml
# file: {EXAMPLE_FILE}
#   the file itself: put it in the attachments folder and write its name here
location: Where the original is kept
#   where it is held when it is not attached (Care system > Audits > May)
summary: >-
  What this evidence shows, in a sentence or two, with its key figures.
# quality_statements: [{statement}]
#   the quality statements to file it under when no concern points to it (a
#   compliment, a policy); evidence a concern cites is filed under the concern's
# category: people-experience
#   only when the type's category is wrong: people-experience | staff-feedback |
#   partner-feedback | observation | processes | outcomes. A concern's outcome
#   evidence should span min_evidence_categories of these, or it is flagged
# nature: outcome
#   only when the type's is wrong: outcome (shows a result or a change for
#   people) | activity (shows only that something was done). A concern closed
#   on activity evidence alone is flagged
# visibility: commissioner
{_WHO_SEES}
# personal_data: true
#   true when it names or identifies people who use the service or staff: it
#   is then never shared with commissioners or the public (true or false only)
---
Notes on the evidence, if any.
"""


def review_text(record_id: str, title: str, today: date, chair: str, examples: Examples) -> str:
    """A new governance review: required fields filled in, every other field shown."""
    t, later = today.isoformat(), (today + timedelta(days=60)).isoformat()
    concern, action = examples.concern, examples.action
    return f"""---
# A governance review: a meeting, or another formal review, and the decisions it took.
# Closures point to it with recorded_in, so an inspector can see who agreed what, and when.
{_HOW}
id: {record_id}             # its reference: keep it, closures use it (recorded_in)
title: {_yaml_text(title)}
date: {t}            # the date of the meeting
forum: Monthly governance meeting   # the meeting or board it belongs to
chair: {chair}
#   who chaired it: a role from portfolio.yaml
attendees: [{chair}]
#   who attended: roles from portfolio.yaml, between [ ] with commas
# visibility: internal
{_WHO_SEES}

# Decisions: one line for each decision about a concern or an action, named by its id. The
# decision is close | keep-open | reopen | extend | escalate | note. A closure's recorded_in
# must name a meeting with a close decision for it, or it is flagged. An extend decision needs
# the new date (to:), and the same date added to the action's extensions.
# decisions:
#   - {{ref: {action}, decision: close, rationale: Training records seen for all staff}}
#   - {{ref: {concern}, decision: keep-open, rationale: One audit at target so far}}
#   - {{ref: {action}, decision: extend, to: {later}, rationale: Audit moved}}
---
Minutes of the meeting.
"""


def record_text(known: Known, kind: Kind, record_id: str, title: str, today: date) -> str:
    """The text of a new record of ``kind`` for the portfolio ``known``."""
    statement = known.statements[0] if known.statements else "governance-management-sustainability"
    if kind == "concern":
        examples = Examples.of(known, exclude=record_id)
        return concern_text(
            record_id, title, today, known.owner, statement, examples, known.checker
        )
    if kind == "evidence":
        return evidence_text(record_id, title, today, known.owner, statement)
    return review_text(record_id, title, today, known.owner, Examples.of(known))


def new_record(
    known: Known, kind: Kind, record_id: str | None, title: str | None, today: date
) -> Path:
    """Write a new record into the portfolio; never overwrite. Returns its path."""
    record_id = record_id or next_id(known, kind, title)
    title = title or DEFAULT_TITLE[kind]
    if not _VALID_ID.fullmatch(record_id) or len(record_id) > 80:
        raise PortfolioError(
            [
                Problem(
                    record_id,
                    0,
                    "not a valid id: use up to 80 letters, digits, "
                    "'-', '_' and '.', starting with a letter or digit",
                )
            ]
        )
    if record_id in known.taken:
        where, line = known.taken[record_id]
        raise PortfolioError(
            [Problem(where, line, f"the id {record_id} is taken: choose another with --id")]
        )
    text = record_text(known, kind, record_id, title, today)
    folder = known.root / FOLDERS[kind]
    path = folder / f"{record_id.lower()}-{slugify(title)}.md"
    if path.exists():
        raise PortfolioError([Problem(path.as_posix(), 0, "a file of that name exists already")])
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as stream:
        stream.write(text)
    return path


# --- a new portfolio ---------------------------------------------------------------------------


def portfolio_yaml(provider: str, service: str, today: date) -> str:
    """portfolio.yaml for a new portfolio, every setting shown with what it does."""
    t = today.isoformat()
    start = today.replace(day=1).isoformat()
    return f"""\
# Who the portfolio is for, the date it is judged at, who holds which role, and the settings of
# the checks. The record format is described in docs/format.md of the portfolio tool.
{_HOW}
provider: {_yaml_text(provider)}
#   the registered provider
service: {_yaml_text(service)}
#   the registered location or service
# location_id: 1-000000000
#   its CQC location ID, shown on the cover
# service_type: Residential care home for older people
#   the kind of service, in your own words
as_of: {t}
#   the date the portfolio is judged at: what is overdue, due soon or has gone
#   without an update is worked out as on this date. Move it on each time you
#   bring the records up to date. Left out: the day you build
# period: {{from: {start}, to: {t}}}
#   the reporting period shown on the cover
default_visibility: inspection
#   who may see a record that does not say: internal (your own service only) |
#   inspection (CQC inspectors too) | commissioner (commissioners too) | public
# audience: inspection
#   who `portfolio build` makes the site and PDF for, unless told otherwise:
#   internal | inspection | commissioner | public. Left out: inspection
# framework: cqc-saf-2024
#   the CQC framework records are filed under: cqc-saf-2024 (the 34 quality
#   statements, the default) or cqc-asc-2026-draft (CQC's 2026 draft)
# date_style: uk
#   how dates are shown: uk (31 Jul 2026, the default) or iso (2026-07-31)
# tracker_date_order: dmy
#   whether `portfolio import` reads a tracker's 04/05/2026 day first (dmy: 4 May)
#   or month first (mdy: 5 April). The first import writes it for you
# quality_statements: [medicines-optimisation, safe-effective-staffing]
#   the quality statements you are working on: the check for statements with
#   no evidence looks only at these. Left out: all of them
roles:
#   Records never name people: they name a role, and this list says who holds
#   it now, so when someone leaves you change one line. Every owner, chair,
#   "by" and "agreed_by" in the records must be one of these roles. A role
#   with no name is a vacant post: open work it owns is flagged
  registered-manager: {{name: Your Name, title: Registered Manager}}
  quality-lead: {{title: Quality Lead}}
rules:
#   The thresholds of the assurance checks (these are the defaults). A check
#   that trips gives a finding: a warning shown on the record, never an error
  due_soon_days: 14
  #   an unfinished action due within this many days is "due soon"
  stale_after_days: 30
  #   an action with no update, or a measure with no reading, for this many
  #   days is flagged; so is a closed concern with no reading this long after
  static_after_days: 60
  #   a measure no better than it was this many days before shows "no change"
  max_extensions: 1
  #   an action given a new due date more times than this is flagged
  min_evidence_categories: 2
  #   a concern's outcome evidence should come from at least this many of CQC's
  #   six evidence categories (people's experience, staff, partners,
  #   observation, processes, outcomes)
  evidence_max_age_days: 90
  #   an open concern whose newest evidence is older than this is flagged
  min_statement_evidence: 1
  #   a quality statement with fewer evidence entries than this is a gap
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
    examples = Examples("EV-01", "GOV-01", "C-01", "C-01-A1", None)
    owner, checker = DEFAULT_ROLE, "quality-lead"
    files: dict[str, str] = {
        "portfolio.yaml": portfolio_yaml(provider, service, today),
        ".gitignore": "# Build output, and the build cache beside it\n/site/\n/.portfolio-cache/\n",
        "attachments/README.md": "Files that evidence entries point to with `file:`.\n",
        "concerns/c-01-example-concern.md": concern_text(
            "C-01",
            "Example concern: replace with your own",
            today,
            owner,
            "governance-management-sustainability",
            examples,
            checker,
        ),
        "evidence/ev-01-example-evidence.md": evidence_text(
            "EV-01",
            "Example evidence: replace with your own",
            today,
            owner,
            "governance-management-sustainability",
        ),
        "governance/gov-01-example-review.md": review_text(
            "GOV-01", "Example governance meeting", today, owner, examples
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
