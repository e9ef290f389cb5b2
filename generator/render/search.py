"""The search index of the site: one script file, so search works from ``file://``.

Browsers refuse to fetch JSON from ``file://`` pages, so the index is a JavaScript file that
assigns one object; the search page loads it with a plain ``<script>`` element. Entries are in
a stable order and serialised with sorted keys, so the same build gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from markdown_it import MarkdownIt

from generator.check.assess import Build
from generator.digest import Memo, content_key
from generator.model import Concern, Evidence, Review

_PLAIN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
BODY_LIMIT = 4000  # characters of body text indexed per record


def plain_text(markdown: str) -> str:
    """A Markdown body as plain words, for searching and snippets."""
    words: list[str] = []
    for token in _PLAIN.parse(markdown):
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type in ("text", "code_inline"):
                    words.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    words.append(" ")
            words.append(" ")
        elif token.type in ("code_block", "fence"):
            words.append(token.content)
    return " ".join("".join(words).split())[:BODY_LIMIT]


def entries(build: Build, url_of: dict[str, str], statement_url: Any) -> list[dict[str, Any]]:
    """Every searchable record: kind, id, title, page, statements, owner and text."""
    return [entry for _, _, make in _groups(build, url_of, statement_url) for entry in make()]


_Group = tuple[str, tuple[Any, ...], Callable[[], list[dict[str, Any]]]]


def _groups(build: Build, url_of: dict[str, str], statement_url: Any) -> Iterator[_Group]:
    """The entries of each record, made on demand: (name, what they are made from, make)."""
    p = build.portfolio
    statements = p.framework.statements()

    def entry(
        kind: str,
        record_id: str,
        title: str,
        url: str,
        slugs: list[str] | None,
        owner: str | None,
        parts: list[str],
        headings: list[str] | None = None,
    ) -> dict[str, Any]:
        text = " ".join(" ".join(parts).split())[:BODY_LIMIT]
        return {
            "kind": kind,
            "id": record_id,
            "title": title,
            "url": url,
            "text": text,
            "statements": headings
            if headings is not None
            else [statements[s][1].title for s in slugs or []],
            "owner": p.role_label(owner) if owner else "",
        }

    def titles(slugs: list[str]) -> list[str]:
        return [statements[s][1].title for s in slugs]

    def label(owner: str | None) -> str:
        return p.role_label(owner) if owner else ""

    for concern in p.concerns.values():

        def concern_entries(concern: Concern = concern) -> list[dict[str, Any]]:
            slugs = p.statements_of[concern.id]
            made = [
                entry(
                    "Concern",
                    concern.id,
                    concern.title,
                    url_of[concern.id],
                    slugs,
                    concern.owner,
                    [concern.baseline, concern.intended_outcome]
                    + [f"{a.id} {a.title} {a.expected_outcome or ''}" for a in concern.actions]
                    + [f"{m.id} {m.name}" for m in concern.measures]
                    + [plain_text(concern.body)],
                )
            ]
            for action in concern.actions:
                made.append(
                    entry(
                        "Action",
                        action.id,
                        action.title,
                        url_of[action.id],
                        slugs,
                        action.owner,
                        [action.expected_outcome or "", action.evidence_required or ""]
                        + [u.note for u in action.updates],
                    )
                )
            return made

        yield (
            f"search/concern/{concern.id}",
            (
                concern.id,
                concern.title,
                concern.baseline,
                concern.intended_outcome,
                concern.body,
                [
                    (
                        a.id,
                        a.title,
                        a.expected_outcome,
                        a.evidence_required,
                        a.owner,
                        [u.note for u in a.updates],
                    )
                    for a in concern.actions
                ],
                [(m.id, m.name) for m in concern.measures],
                [url_of[i] for i in (concern.id, *(a.id for a in concern.actions))],
                titles(p.statements_of[concern.id]),
                [label(o) for o in (concern.owner, *(a.owner for a in concern.actions))],
            ),
            concern_entries,
        )
    for evidence in p.evidence.values():

        def evidence_entries(evidence: Evidence = evidence) -> list[dict[str, Any]]:
            return [
                entry(
                    "Evidence",
                    evidence.id,
                    evidence.title,
                    url_of[evidence.id],
                    p.filed_under[evidence.id],
                    evidence.owner,
                    [evidence.summary or "", plain_text(evidence.body)],
                )
            ]

        yield (
            f"search/evidence/{evidence.id}",
            (
                evidence.id,
                evidence.title,
                evidence.summary,
                evidence.body,
                url_of[evidence.id],
                titles(p.filed_under[evidence.id]),
                label(evidence.owner),
            ),
            evidence_entries,
        )
    for review in p.reviews.values():

        def review_entries(review: Review = review) -> list[dict[str, Any]]:
            return [
                entry(
                    "Governance review",
                    review.id,
                    review.title,
                    url_of[review.id],
                    [],
                    review.chair,
                    [d.rationale or "" for d in review.decisions] + [plain_text(review.body)],
                )
            ]

        yield (
            f"search/review/{review.id}",
            (
                review.id,
                review.title,
                [d.rationale for d in review.decisions],
                review.body,
                url_of[review.id],
                label(review.chair),
            ),
            review_entries,
        )

    def statement_entries() -> list[dict[str, Any]]:
        return [
            entry(
                p.framework.terms.statement[:1].upper() + p.framework.terms.statement[1:],
                statement.slug,
                statement.title,
                statement_url(statement.slug),
                None,
                None,
                [statement.description],
                headings=[kq.title],
            )
            for kq in p.framework.key_questions
            for statement in kq.statements
        ]

    urls = [statement_url(slug) for slug in p.framework.statements()]
    yield "search/statements", (p.framework.model_dump_json(), urls), statement_entries


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def index_script(
    build: Build, url_of: dict[str, str], statement_url: Any, memo: Memo | None = None
) -> bytes:
    """The index as a script that sets ``window.PORTFOLIO_SEARCH``.

    With a ``memo``, the entries of a record whose inputs are unchanged are not made again.
    """
    fragments = []
    for name, inputs, make in _groups(build, url_of, statement_url):

        def serialise(make: Callable[[], list[dict[str, Any]]] = make) -> bytes:
            return ",".join(_json(entry) for entry in make()).encode()

        made = memo(name, content_key(inputs), serialise) if memo else serialise()
        if made:
            fragments.append(made)
    # The same bytes as the whole document serialised at once, with sorted keys.
    data = b'{"entries":[' + b",".join(fragments) + b'],"stamp":' + _json(build.stamp).encode()
    # "</" cannot end the script early when the file is ever inlined.
    data = (data + b"}").replace(b"</", b"<\\/")
    return b"window.PORTFOLIO_SEARCH = " + data + b";\n"
