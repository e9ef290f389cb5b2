"""The errors a user can cause, each tied to a file and line.

Every stage collects :class:`Problem` items instead of raising at the first one, so a build
reports all its errors at once; :class:`PortfolioError` carries them to the command line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One error in the user's files: where it is and what to do about it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


class PortfolioError(Exception):
    """An error the user can fix; the command line shows it without a traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Problems:
    """Collects problems across a stage and raises them together."""

    items: list[Problem] = field(default_factory=list)

    def add(self, path: str, line: int, message: str) -> None:
        """Record one problem."""
        self.items.append(Problem(path, line, message))

    def extend(self, problems: list[Problem]) -> None:
        """Record several problems."""
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        """Stop the build if anything was recorded."""
        if self.items:
            raise PortfolioError(self.items)


def _problem_order(p: Problem) -> tuple[str, int, list[str | int]]:
    # Numbers in messages in their numeric order, so "row 8" comes before "row 10".
    parts: list[str | int] = [
        int(part) if index % 2 else part for index, part in enumerate(re.split(r"(\d+)", p.message))
    ]
    return (p.path, p.line, parts)
