"""Assessing a linked portfolio: measured outcomes, every assurance rule, derived colours.

The result, :class:`Build`, is what every renderer reads: the linked records with their
findings, outcomes and statuses, and the build stamp.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from generator.check.outcomes import Outcome
from generator.check.privacy import ScanMemo
from generator.check.rules import Finding, run_checks
from generator.check.status import Brag, derive
from generator.load.link import Portfolio


@dataclass
class Build:
    """A loaded portfolio, ready for any renderer: the linked records and derived facts."""

    portfolio: Portfolio
    status: dict[str, Brag]
    stamp: str  # short hash of everything the build read, printed on every page
    findings: list[Finding] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)  # SHA-256 of attachments, by id
    built: date = field(default_factory=lambda: build_date())  # the day of the build

    def findings_for(self, record: str) -> list[Finding]:
        """The findings about one record (a concern, action, measure or statement)."""
        return self.by_record.get(record, [])

    @property
    def by_record(self) -> dict[str, list[Finding]]:
        """Findings grouped by the record they are about."""
        if self._by_record is None:
            grouped: dict[str, list[Finding]] = {}
            for finding in self.findings:
                grouped.setdefault(finding.record, []).append(finding)
            self._by_record = grouped
        return self._by_record

    _by_record: dict[str, list[Finding]] | None = field(default=None, repr=False)

    @property
    def as_of(self) -> date:
        """The date findings and statuses are judged at."""
        return self.portfolio.as_of

    @property
    def as_of_age(self) -> str:
        """How the as-of date stands against the day of the build, in words."""
        days = (self.built - self.as_of).days
        day = self.built.isoformat()
        if days == 0:
            return "the day of this build"
        if days > 0:
            return f"{days} day{'s' if days != 1 else ''} before this build on {day}"
        return f"{-days} day{'s' if days != -1 else ''} after this build on {day}"


def build_date() -> date:
    """The day of the build: SOURCE_DATE_EPOCH when set (so a build can be repeated exactly),
    else today."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return date.today()


def assess(
    portfolio: Portfolio, stamp: str, checksums: dict[str, str], scans: ScanMemo | None = None
) -> Build:
    """Run every check on ``portfolio`` and derive its colours; ``scans`` holds what scanning
    files for personal identifiers found before (see privacy.ScanMemo)."""
    findings, outcomes = run_checks(portfolio, scans, checksums)
    status = derive(portfolio, outcomes)
    return Build(portfolio, status, stamp, findings, outcomes, checksums, build_date())
