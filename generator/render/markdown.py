"""Markdown bodies -> safe HTML, with markdown-it-py.

Raw HTML in records is escaped, not passed through. Images and links to files are
kept only when they point inside the portfolio folder (the renderer copies them into the site);
anything else, such as an image or a link on another host, is shown as inert text, so a page
never fetches anything from elsewhere and the offline portfolio never depends on the network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import escape

from generator.load.bodies import Reference as Reference
from generator.load.bodies import classify, parser
from generator.load.bodies import references as references


class Withheld:
    """What a resolver returns for a file the audience may not see: the link or image says
    it is withheld, and nothing of where it points is shown."""


WITHHELD_FILE = Withheld()

#: Given a file inside the portfolio, returns its URL relative to the page being rendered,
#: None when the link stays inert (its address shown as text), or WITHHELD_FILE.
FileResolver = Callable[[Path], str | Withheld | None]


def _parser() -> MarkdownIt:
    md = parser()
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


def _resolve(url: str, env: EnvType) -> str | Withheld | None:
    """The URL to render for ``url``, None when it must stay inert, or WITHHELD_FILE."""
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
    if isinstance(resolved, Withheld):  # its description may say what it shows: not shown
        return '<span class="image-omitted">[Image withheld]</span>'
    if resolved is None:
        return f'<span class="image-omitted">[Image not included: {escape(alt or "image")}]</span>'
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
    if resolved is None or isinstance(resolved, Withheld):
        # Inert: the words stay, the address is shown as text after them, unless it is
        # withheld from this audience (its name may say what it holds).
        token.meta["inert"] = "withheld" if isinstance(resolved, Withheld) else href
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
                    url = escape(str(token.meta["inert"]))
                    return f'</span> <span class="link-url">({url})</span>'
                break
            depth -= 1
    return str(self.renderToken(tokens, idx, options, env))


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


#: What may stay as it is in a segment of a URL's path (RFC 3986 "pchar"): everything else,
#: "#", "?", "%", spaces and non-ASCII letters among it, is percent-encoded.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
#: Where the site keeps the files it copies from the portfolio.
COPIED_FILES = "files/"


def url_path(path: str) -> str:
    """A path in the site (or any output folder) as a URL path: each segment percent-encoded,
    so that a file named ``Audit #3 (50%).pdf`` is linked to, not cut at the "#"."""
    return "/".join(quote(segment, safe=_SEGMENT_SAFE) for segment in path.split("/"))


@lru_cache(maxsize=65536)
def relative_url(from_page: str, to_path: str) -> str:
    """A link from the page at ``from_page`` to ``to_path`` (both paths in the site, as on
    disk), percent-encoded. A page's path may end in a "#fragment"; the files copied into
    ``files/`` keep the names they have in the portfolio, so a "#" there is part of the name."""
    if to_path.startswith(COPIED_FILES):
        target, fragment = to_path, ""
    else:
        target, _, fragment = to_path.partition("#")
    folder, _, name = from_page.rpartition("/")
    if not target:
        rel = name
    elif folder and target.startswith(folder + "/") and "/" not in target[len(folder) + 1 :]:
        rel = target[len(folder) + 1 :]  # the same folder
    else:
        rel = "../" * from_page.count("/") + target
    rel = url_path(rel)
    return f"{rel}#{quote(fragment, safe=_SEGMENT_SAFE + '/?')}" if fragment else rel
