"""Markdown bodies -> safe HTML, with markdown-it-py.

Raw HTML in records is escaped, not passed through. markdown-it's own link check drops
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links. Images are shown only when they
are files inside the portfolio folder (copied into the site); any other image, such as one on
another host, is replaced by its description, so a page never fetches anything from elsewhere.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

#: Given a file inside the portfolio, returns its URL relative to the page being rendered.
ImageResolver = Callable[[Path], str | None]


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    md.add_render_rule("image", _render_image)
    md.add_render_rule("heading_open", _shift_heading)
    md.add_render_rule("heading_close", _shift_heading)
    return md


def _shift_heading(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A body sits under the page's own h1 and a section h2: its "#" becomes h3, and so on.
    token = tokens[idx]
    level = min(int(token.tag[1]) + 2, 6)
    token.tag = f"h{level}"
    return str(self.renderToken(tokens, idx, options, env))


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    resolved = _local_image(src, env)
    if resolved is None:
        escaped = _escape(alt or "image")
        return f'<span class="image-omitted">[Image not included: {escaped}]</span>'
    token.attrSet("src", resolved)
    token.attrSet("alt", alt)
    token.children = []
    return str(self.renderToken(tokens, idx, options, env))


def _local_image(src: str, env: EnvType) -> str | None:
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or not parts.path or src.startswith(("/", "\\")):
        return None
    base: Path | None = env.get("base")
    root: Path | None = env.get("root")
    resolve: ImageResolver | None = env.get("resolve_image")
    if base is None or root is None or resolve is None:
        return None
    target = (base / unquote(parts.path)).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return None
    return resolve(target)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_MD = _parser()


def render_markdown(
    text: str,
    base: Path | None = None,
    root: Path | None = None,
    resolve_image: ImageResolver | None = None,
) -> str:
    """Render a record's Markdown body to HTML.

    ``base`` is the folder of the record (relative image paths start there), ``root`` the
    portfolio folder no image may leave, ``resolve_image`` turns an image file into its URL.
    """
    env: dict[str, Any] = {"base": base, "root": root, "resolve_image": resolve_image}
    return str(_MD.render(text, env))


def relative_url(from_page: str, to_path: str) -> str:
    """A link from the page at ``from_page`` to ``to_path`` (both relative to the site root)."""
    target, _, fragment = to_path.partition("#")
    start = posixpath.dirname(from_page) or "."
    rel = posixpath.relpath(target, start) if target else posixpath.basename(from_page)
    return f"{rel}#{fragment}" if fragment else rel
