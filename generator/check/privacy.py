"""The privacy guard: likely NHS numbers and dates of birth in what an output would show.

An NHS number is ten digits (often written 3-3-4 with spaces or dashes) whose last digit is a
modulus-11 check digit. A date of birth is caught where it is labelled as one. Messages never
repeat what they found, so a report cannot leak it either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import Problem

if TYPE_CHECKING:
    from generator.check.assess import Build
    from generator.load.link import Portfolio

_NUMBER = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
_BIRTH = re.compile(
    r"(?:\bDOB\b|\bD\.O\.B\.?|\bdate of birth\b|\bborn(?: on)?\b)\s*[:\-]?\s*"
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}\s+[A-Za-z]{3,9}\s+\d{4}|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)
TEXT_ATTACHMENTS = (".csv", ".txt", ".md", ".tsv")
_DIGITS = re.compile(r"\d{3}[ -]?\d{3}[ -]?\d{4}")  # what every NHS number match holds
_BIRTH_LABELS = ("dob", "d.o.b", "birth", "born")  # one of these starts every date of birth


def nhs_number_valid(digits: str) -> bool:
    """Whether ten digits pass the NHS number's modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def identifiers(text: str) -> Iterator[str]:
    """What kind of identifier each likely personal identifier in ``text`` is."""
    for match in _NUMBER.finditer(text):
        if nhs_number_valid("".join(match.groups())):
            yield "an NHS number"
    for _ in _BIRTH.finditer(text):
        yield "a date of birth"


def scan_file(path: Path, display: str) -> Iterator[tuple[str, int, str]]:
    """(file, line, kind) for every likely identifier in a text file."""
    for number, kind in _scan_path(path):
        yield display, number, kind


#: (line, kind) of every likely identifier in a text.
Found = tuple[tuple[int, str], ...]
#: What scanning found in each file, by the SHA-256 of its bytes.
Scanned = dict[bytes, Found]


def scan_text(text: str) -> Found:
    """(line, kind) for every likely identifier in ``text``."""
    if not _may_hold_identifiers(text):
        return ()  # most files: no line can match, and that is quick to tell
    return tuple(
        (number, kind)
        for number, line in enumerate(text.splitlines(), start=1)
        for kind in identifiers(line)
    )


def _scan_path(path: Path) -> Found:
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return ()
    return scan_text(text)


@dataclass
class ScanMemo:
    """What scanning found in each file, by the SHA-256 of its bytes: a file a build scanned
    before is not read again. ``now`` holds what this build looked up or scanned."""

    before: Mapping[bytes, Found] = field(default_factory=dict)
    now: Scanned = field(default_factory=dict)

    def found_in(self, path: Path, digest: bytes | None) -> Found:
        """(line, kind) of every likely identifier in the file at ``path``."""
        if digest is None:
            return _scan_path(path)
        found = self.now.get(digest)
        if found is None:
            found = self.before.get(digest)
            if found is None:
                found = _scan_path(path)
            self.now[digest] = found
        return found


def _may_hold_identifiers(text: str) -> bool:
    """False only when no line of ``text`` can hold an identifier (see identifiers())."""
    if _DIGITS.search(text):
        return True
    if not text.isascii():  # case-insensitive matching of other letters: ask the pattern
        return _BIRTH.search(text) is not None
    low = text.lower()
    return any(label in low for label in _BIRTH_LABELS)


def scan(
    portfolio: Portfolio,
    memo: ScanMemo | None = None,
    attachment_digests: Mapping[str, str] | None = None,
) -> list[tuple[str, int, str]]:
    """Every likely identifier in the files behind what ``portfolio`` shows.

    With a ``memo`` (and the SHA-256 of the attachments by evidence id, as hexadecimal), a
    file whose bytes were scanned before is not read again.
    """
    memo = memo or ScanMemo()
    digests = attachment_digests or {}
    found: list[tuple[str, int, str]] = []
    seen: set[Path] = set()
    for source in [portfolio.settings_source, *portfolio.sources.values()]:
        if source is None or source.path in seen:
            continue
        seen.add(source.path)
        for line, kind in memo.found_in(source.path, source.digest or None):
            found.append((source.display, line, kind))
    root = portfolio.root.resolve()
    for eid, path in sorted(portfolio.attachments.items(), key=lambda item: item[1]):
        if path.suffix.lower() in TEXT_ATTACHMENTS and path not in seen:
            seen.add(path)
            hexdigest = digests.get(eid)
            for line, kind in memo.found_in(path, bytes.fromhex(hexdigest) if hexdigest else None):
                found.append((attachment_display(portfolio, path, root), line, kind))
    return found


def attachment_display(portfolio: Portfolio, path: Path, root: Path) -> str:
    """How messages name an attached file: inside the portfolio folder as the user gave it."""
    return f"{portfolio.display_root}/{path.relative_to(root).as_posix()}"


def guard(build: Build) -> list[Problem]:
    """Errors for commissioner and public output holding likely personal identifiers.

    ``build`` is the audience's view: its P601 findings are exactly the identifiers in what
    that audience would be shown, so nothing is read twice.
    """
    audience = build.portfolio.audience
    if audience not in ("commissioner", "public"):
        return []
    return [
        Problem(
            finding.path,
            finding.line,
            f"{finding.message}, which {audience} output must not hold: "
            "remove it, or mark the record personal_data: true or visibility: internal",
        )
        for finding in build.findings
        if finding.code == "P601"
    ]
