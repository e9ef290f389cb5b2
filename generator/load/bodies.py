"""What a record's Markdown body refers to: its images and links, and where each points.

Parsing only (markdown-it-py, CommonMark with tables and strikethrough, raw HTML off); the
checks read references from here, and the renderer (generator.render.markdown) renders bodies
with the same parser settings, so both see the same links.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

Where = Literal["inside", "missing", "outside", "remote"]


@dataclass(frozen=True)
class Reference:
    """An image or link in a record's body, and where it points."""

    kind: Literal["image", "link"]
    url: str
    text: str
    line: int  # 0-based line within the body
    where: Where
    target: Path | None  # the file inside the portfolio, when ``where`` is "inside"


def classify(url: str, base: Path, root: Path) -> tuple[Where, Path | None]:
    """Whether ``url`` (from a record in folder ``base``) stays inside the portfolio ``root``."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")):
        return "remote", None
    if not parts.path:
        return "inside", None  # a fragment on the same page
    try:
        target = (base / unquote(parts.path)).resolve()
        if not target.is_relative_to(root.resolve()):
            return "outside", None
        if not target.is_file():
            return "missing", None
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system...
        return "missing", None
    return "inside", target


def parser() -> MarkdownIt:
    """A new parser with the settings every body is read with."""
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    # Every link and image becomes a token, whatever its scheme, so the references check can
    # report it; the renderer decides what is shown, and nothing outside the portfolio ever
    # becomes a live link or an image source.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_MD = parser()


def references(text: str, base: Path, root: Path) -> Iterator[Reference]:
    """Every image and link in a body, with the line it is on and where it points."""
    if "[" not in text and "<" not in text:
        return  # CommonMark has no link or image without one of these (no autolinking here)
    for block in _MD.parse(text):
        if block.type != "inline" or not block.children:
            continue
        line = block.map[0] if block.map else 0
        children = block.children
        for index, token in enumerate(children):
            if token.type in ("softbreak", "hardbreak"):
                line += 1  # a paragraph's lines: the reference is on the line it starts on
                continue
            if token.type == "image":
                url = str(token.attrGet("src") or "")
                label = "".join(c.content for c in token.children or [])
                kind: Literal["image", "link"] = "image"
            elif token.type == "link_open":
                url = str(token.attrGet("href") or "")
                label = ""
                for follower in children[index + 1 :]:
                    if follower.type == "link_close":
                        break
                    label += follower.content
                kind = "link"
            else:
                continue
            where, target = classify(url, base, root)
            yield Reference(kind, url, label, line, where, target)
