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

    def statements(slugs: list[str]) -> list[str]:
        return [p.statement(s)[1].title for s in slugs]

    for concern in p.concerns.values():
        text = " ".join(
            [concern.baseline, concern.intended_outcome]
            + [f"{a.id} {a.title} {a.expected_outcome or ''}" for a in concern.actions]
            + [f"{m.id} {m.name}" for m in concern.measures]
            + [plain_text(concern.body)]
        )
        found.append(
            {
                "kind": "Concern",
                "id": concern.id,
                "title": concern.title,
                "url": url_of[concern.id],
                "statements": statements(p.statements_of[concern.id]),
                "owner": p.role_label(concern.owner),
                "text": " ".join(text.split())[:BODY_LIMIT],
            }
        )
        for action in concern.actions:
            found.append(
                {
                    "kind": "Action",
                    "id": action.id,
                    "title": action.title,
                    "url": url_of[action.id],
                    "statements": statements(p.statements_of[concern.id]),
                    "owner": p.role_label(action.owner),
                    "text": " ".join(
                        [action.expected_outcome or "", action.evidence_required or ""]
                        + [u.note for u in action.updates]
                    ),
                }
            )
    for evidence in p.evidence.values():
        found.append(
            {
                "kind": "Evidence",
                "id": evidence.id,
                "title": evidence.title,
                "url": url_of[evidence.id],
                "statements": statements(p.filed_under[evidence.id]),
                "owner": p.role_label(evidence.owner) if evidence.owner else "",
                "text": " ".join([evidence.summary or "", plain_text(evidence.body)])[:BODY_LIMIT],
            }
        )
    for review in p.reviews.values():
        found.append(
            {
                "kind": "Governance review",
                "id": review.id,
                "title": review.title,
                "url": url_of[review.id],
                "statements": [],
                "owner": p.role_label(review.chair) if review.chair else "",
                "text": " ".join(
                    [d.rationale or "" for d in review.decisions] + [plain_text(review.body)]
                )[:BODY_LIMIT],
            }
        )
    for kq in p.framework.key_questions:
        for statement in kq.statements:
            found.append(
                {
                    "kind": "Quality statement",
                    "id": statement.slug,
                    "title": statement.title,
                    "url": statement_url(statement.slug),
                    "statements": [kq.title],
                    "owner": "",
                    "text": statement.description,
                }
            )
    return found


def index_script(build: Build, url_of: dict[str, str], statement_url: Any) -> bytes:
    """The index as a script that sets ``window.PORTFOLIO_SEARCH``."""
    document = {"stamp": build.stamp, "entries": entries(build, url_of, statement_url)}
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # "</" cannot end the script early when the file is ever inlined.
    data = data.replace("</", "<\\/")
    return f"window.PORTFOLIO_SEARCH = {data};\n".encode()
