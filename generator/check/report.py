"""``portfolio check``: errors and findings as text lines or a stable JSON document."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from generator import __version__
from generator.check.assess import Build
from generator.check.rules import RULES, Finding
from generator.errors import Problem

#: Version of the JSON document; raised only when a change would break a reader.
JSON_VERSION = 1


@dataclass
class CheckResult:
    """What a check found: user errors (the build cannot run) or findings."""

    errors: list[Problem]
    build: Build | None

    @property
    def findings(self) -> list[Finding]:
        """The findings of a build that loaded (none when there were errors)."""
        return self.build.findings if self.build else []


def summary_line(findings: list[Finding]) -> str:
    """Counts by rule, in rule order: "12 findings: A201 overdue (2), ..."."""
    if not findings:
        return "No findings."
    counts = Counter(f.code for f in findings)
    parts = [f"{r.code} {r.name} ({counts[r.code]})" for r in RULES if counts[r.code]]
    total = len(findings)
    return f"{total} finding{'s' if total != 1 else ''}: " + ", ".join(parts)


def as_text(result: CheckResult) -> list[str]:
    """The report as lines: every error or finding as ``path:line: ...``, then a summary."""
    if result.errors:
        count = len(result.errors)
        return [str(p) for p in result.errors] + [f"{count} error{'s' if count != 1 else ''}."]
    return [str(f) for f in result.findings] + [summary_line(result.findings)]


def as_json(result: CheckResult) -> str:
    """The report as the JSON document described by docs/check.schema.json."""
    document: dict[str, Any] = {
        "version": JSON_VERSION,
        "tool": f"portfolio {__version__}",
        "ok": not result.errors and not result.findings,
        "errors": [{"path": p.path, "line": p.line, "message": p.message} for p in result.errors],
        "findings": [],
        "summary": {},
    }
    if result.build is not None:
        p = result.build.portfolio
        document["portfolio"] = {
            "provider": p.settings.provider,
            "service": p.settings.service,
            "as_of": p.as_of.isoformat(),
            "build": result.build.stamp,
        }
        document["findings"] = [
            {
                "code": f.code,
                "rule": f.name,
                "severity": f.severity,
                "message": f.message,
                "record": f.record,
                "concern": f.concern,
                "path": f.path,
                "line": f.line,
            }
            for f in result.findings
        ]
        counts = Counter(f.code for f in result.findings)
        document["summary"] = {r.code: counts[r.code] for r in RULES if counts[r.code]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
