"""Markdown bodies -> safe HTML, with markdown-it-py.

Raw HTML in records is escaped, not passed through. Images and links to files are
kept only when they point inside the portfolio folder (the renderer copies them into the site);
anything else, such as an image or a link on another host, is shown as inert text, so a page
never fetches anything from elsewhere and the offline portfolio never depends on the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

#: Given a file inside the portfolio, returns its URL relative to the page being rendered.
FileResolver = Callable[[Path], str | None]

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


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )
    # Every link and image becomes a token, whatever its scheme, so the references check can
    # report it; the render rules below decide what is shown, and nothing outside the portfolio
    # ever becomes a live link or an image source.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.add_render_rule("image", _render_image)
    md.add_render_rule("link_open", _render_link_open)
    md.add_render_rule("link_close", _render_link_close)
    md.add_render_rule("heading_open", _shift_heading)
    md.add_render_rule("heading_close", _shift_heading)
    return md


def _shift_heading(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # A body sits under the page's h1, in a section of its own: "#" becomes h2, "##" h3...
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return str(self.renderToken(tokens, idx, options, env))


def _resolve(url: str, env: EnvType) -> str | None:
    """The URL to render for ``url``, or None when it must stay inert."""
    base: Path | None = env.get("base")
    root: Path | None = env.get("root")
    resolve: FileResolver | None = env.get("resolve_file")
    if base is None or root is None or resolve is None:
        return None
    where, target = classify(url, base, root)
    if where != "inside":
        return None
    return url if target is None else resolve(target)


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    resolved = _resolve(str(token.attrGet("src") or ""), env)
    if resolved is None:
        return f'<span class="image-omitted">[Image not included: {_escape(alt or "image")}]</span>'
    token.attrSet("src", resolved)
    token.attrSet("alt", alt)
    token.children = []
    return str(self.renderToken(tokens, idx, options, env))


def _render_link_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    resolved = _resolve(href, env)
    if resolved is None:
        # Inert: the words stay, the address is shown as text after them.
        token.meta["inert"] = href
        return '<span class="link-inert">'
    token.attrSet("href", resolved)
    return str(self.renderToken(tokens, idx, options, env))


def _render_link_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    depth = 0
    for back in range(idx - 1, -1, -1):
        token = tokens[back]
        if token.type == "link_close":
            depth += 1
        elif token.type == "link_open":
            if depth == 0:
                if "inert" in token.meta:
                    url = _escape(str(token.meta["inert"]))
                    return f'</span> <span class="link-url">({url})</span>'
                break
            depth -= 1
    return str(self.renderToken(tokens, idx, options, env))


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_MD = _parser()


def render_markdown(
    text: str,
    base: Path | None = None,
    root: Path | None = None,
    resolve_file: FileResolver | None = None,
) -> str:
    """Render a record's Markdown body to HTML.

    ``base`` is the folder of the record (relative paths start there), ``root`` the portfolio
    folder nothing may leave, ``resolve_file`` turns a file inside it into its URL.
    """
    env: dict[str, Any] = {"base": base, "root": root, "resolve_file": resolve_file}
    return str(_MD.render(text, env))


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


@lru_cache(maxsize=65536)
def relative_url(from_page: str, to_path: str) -> str:
    """A link from the page at ``from_page`` to ``to_path`` (both relative to the site root)."""
    target, _, fragment = to_path.partition("#")
    folder, _, name = from_page.rpartition("/")
    if not target:
        rel = name
    elif folder and target.startswith(folder + "/") and "/" not in target[len(folder) + 1 :]:
        rel = target[len(folder) + 1 :]  # the same folder
    else:
        rel = "../" * from_page.count("/") + target
    return f"{rel}#{fragment}" if fragment else rel
