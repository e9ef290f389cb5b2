"""The search index of the site: one script file, so search works from ``file://``.

Browsers refuse to fetch JSON from ``file://`` pages, so the index is a JavaScript file that
assigns one object; the search page loads it with a plain ``<script>`` element. Entries are in
a stable order and serialised with sorted keys, so the same build gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from markdown_it import MarkdownIt

from generator.build import Build

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
    p = build.portfolio
    found: list[dict[str, Any]] = []

    def add(
        kind: str,
        record_id: str,
        title: str,
        url: str,
        slugs: list[str] | None,
        owner: str | None,
        parts: list[str],
        headings: list[str] | None = None,
    ) -> None:
        text = " ".join(" ".join(parts).split())[:BODY_LIMIT]
        found.append(
            {
                "kind": kind,
                "id": record_id,
                "title": title,
                "url": url,
                "text": text,
                "statements": headings
                if headings is not None
                else [p.statement(s)[1].title for s in slugs or []],
                "owner": p.role_label(owner) if owner else "",
            }
        )

    for concern in p.concerns.values():
        slugs = p.statements_of[concern.id]
        add(
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
        for action in concern.actions:
            add(
                "Action",
                action.id,
                action.title,
                url_of[action.id],
                slugs,
                action.owner,
                [action.expected_outcome or "", action.evidence_required or ""]
                + [u.note for u in action.updates],
            )
    for evidence in p.evidence.values():
        add(
            "Evidence",
            evidence.id,
            evidence.title,
            url_of[evidence.id],
            p.filed_under[evidence.id],
            evidence.owner,
            [evidence.summary or "", plain_text(evidence.body)],
        )
    for review in p.reviews.values():
        add(
            "Governance review",
            review.id,
            review.title,
            url_of[review.id],
            [],
            review.chair,
            [d.rationale or "" for d in review.decisions] + [plain_text(review.body)],
        )
    for kq in p.framework.key_questions:
        for statement in kq.statements:
            add(
                "Quality statement",
                statement.slug,
                statement.title,
                statement_url(statement.slug),
                None,
                None,
                [statement.description],
                headings=[kq.title],
            )
    return found


def index_script(build: Build, url_of: dict[str, str], statement_url: Any) -> bytes:
    """The index as a script that sets ``window.PORTFOLIO_SEARCH``."""
    document = {"stamp": build.stamp, "entries": entries(build, url_of, statement_url)}
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # "</" cannot end the script early when the file is ever inlined.
    data = data.replace("</", "<\\/")
    return f"window.PORTFOLIO_SEARCH = {data};\n".encode()
