"""Guessing the quality statements of a tracker's finding from its words.

The vocabulary is data in the framework: each statement's ``phrases`` (and its title), and
``regulations``, the statements a breach of each regulation points to. A framework without
them still works: only the statements' titles are then matched, so fewer findings are guessed.

The score of a statement is the sum of the weights of its phrases found in the finding (full
weight) and in its actions (0.6 of it). A phrase weighs 1, plus 0.5 for each word past the
first (a longer phrase says more), divided by the number of statements that list it (a phrase
shared by three statements tells less about each). Words are compared with their plural,
-ing, -ed and final -e endings removed, so "falls", "falling" and "fall" match. A regulation
named in the row adds 2.5, shared among the statements it points to (regulation 17 points to
one statement and weighs fully; regulation 12 to five). A key question named by a section row
above the finding, or a key question column, lifts the scores of its own statements that
matched anything by a third. The best statement is chosen, and the second as well when it
scores at least 0.6 of the best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.model import Framework

FINDING_WEIGHT = 1.0
ACTION_WEIGHT = 0.6
REGULATION_WEIGHT = 2.5
SECTION_FACTOR = 4 / 3
SECOND_RATIO = 0.6
WEAK_SCORE = 1.0  # a best score under this is reported as a weak guess

_WORD = re.compile(r"[A-Za-z0-9]+")
_REGULATION = re.compile(r"\b(?:regulations?|regs?)\b\.?\s*(\d{1,2}[a-z]?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b(\d{1,2}[a-z]?)\b", re.IGNORECASE)


def stem(word: str) -> str:
    """``word`` without the endings that change little of its meaning, the same way for the
    vocabulary and for the tracker's text."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = _undouble(word[:-3])
    elif len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        word = _undouble(word[:-2])
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _undouble(word: str) -> str:
    if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        return word[:-1]
    return word


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` stemmed, with where each stands in ``text``."""
    return [(stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def regulations_named(text: str, known: set[str], column: bool = False) -> list[str]:
    """The regulations ``text`` names ("Reg 12", "Regulation 17: Good governance"), as keys of
    a framework's ``regulations``; in a regulation column a number alone counts. "Registration"
    or "2009" in the text reads 18 as the notifications regulation of 2009, where known."""
    pattern = _NUMBER if column else _REGULATION
    registration = bool(re.search(r"registration|2009", text, re.IGNORECASE))
    found: list[str] = []
    for match in pattern.finditer(text):
        number = match.group(1).upper()
        key = f"2009-{number}" if registration and f"2009-{number}" in known else number
        if key in known and key not in found:
            found.append(key)
    return found


@dataclass
class Ranked:
    """A statement's score for a finding, and the words it rested on."""

    slug: str
    score: float
    words: list[str] = field(default_factory=list)


@dataclass
class Guess:
    """The statements chosen for a finding, and every statement that scored, best first."""

    chosen: list[Ranked]
    ranked: list[Ranked]

    @property
    def weak(self) -> bool:
        return bool(self.chosen) and self.chosen[0].score < WEAK_SCORE


class Guesser:
    """Scores a framework's statements against the words of a finding."""

    def __init__(self, framework: Framework) -> None:
        self.order: list[str] = []
        self.key_question: dict[str, str] = {}
        phrases: dict[tuple[str, ...], set[str]] = {}
        for kq in framework.key_questions:
            for statement in kq.statements:
                self.order.append(statement.slug)
                self.key_question[statement.slug] = kq.slug
                for phrase in [statement.title, *statement.phrases]:
                    key = tuple(t for t, _, _ in _tokens(phrase))
                    if key:
                        phrases.setdefault(key, set()).add(statement.slug)
        self.phrases = {
            key: (slugs, (1 + 0.5 * (len(key) - 1)) / len(slugs)) for key, slugs in phrases.items()
        }
        self.longest = max((len(k) for k in self.phrases), default=1)
        self.regulations = {k: list(v) for k, v in framework.regulations.items()}

    def rank(
        self,
        finding: str,
        actions: list[str] | None = None,
        regulation: str = "",
        key_question: str | None = None,
    ) -> list[Ranked]:
        """Every statement that scored for the finding, best first."""
        scores: dict[str, Ranked] = {}

        def add(slug: str, weight: float, word: str) -> None:
            ranked = scores.setdefault(slug, Ranked(slug, 0.0))
            ranked.score += weight
            if word not in ranked.words:
                ranked.words.append(word)

        for text, weight in [(finding, FINDING_WEIGHT)] + [
            (a, ACTION_WEIGHT) for a in actions or []
        ]:
            for phrase, slug, words in self._matches(text):
                add(slug, weight * self.phrases[phrase][1], words)
        known = set(self.regulations)
        named = regulations_named(regulation, known, column=True) if regulation else []
        for text in [finding, *(actions or [])]:
            named += [r for r in regulations_named(text, known) if r not in named]
        for key in named:
            targets = self.regulations[key]
            label = "Regulation 18 (Registration) 2009" if key == "2009-18" else f"Reg {key}"
            for slug in targets:
                add(slug, REGULATION_WEIGHT / len(targets), label)
        if key_question:
            for ranked in scores.values():
                if self.key_question.get(ranked.slug) == key_question:
                    ranked.score *= SECTION_FACTOR
        position = {slug: i for i, slug in enumerate(self.order)}
        return sorted(scores.values(), key=lambda r: (-r.score, position.get(r.slug, 0)))

    def guess(
        self,
        finding: str,
        actions: list[str] | None = None,
        regulation: str = "",
        key_question: str | None = None,
    ) -> Guess:
        """One or two statements for the finding (none when no word of it is known)."""
        ranked = self.rank(finding, actions, regulation, key_question)
        chosen = ranked[:1]
        if len(ranked) > 1 and ranked[1].score >= SECOND_RATIO * ranked[0].score:
            chosen.append(ranked[1])
        return Guess(chosen, ranked)

    def _matches(self, text: str) -> list[tuple[tuple[str, ...], str, str]]:
        """(phrase, statement, the words of ``text`` it matched) for each phrase found, once."""
        tokens = _tokens(text)
        stems = [t for t, _, _ in tokens]
        found: dict[tuple[tuple[str, ...], str], str] = {}
        for start in range(len(stems)):
            for length in range(1, min(self.longest, len(stems) - start) + 1):
                key = tuple(stems[start : start + length])
                entry = self.phrases.get(key)
                if entry is None:
                    continue
                words = text[tokens[start][1] : tokens[start + length - 1][2]]
                for slug in entry[0]:
                    found.setdefault((key, slug), words)
        return [(key, slug, words) for (key, slug), words in found.items()]
