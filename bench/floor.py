"""The floor: the least a static build of the same records could do, on one core.

Reads every record file, parses its YAML with the C loader, renders its Markdown with
markdown-it-py and one trivial Jinja template, and writes one HTML file per record.

    python bench/floor.py PORTFOLIO OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from jinja2 import Template
from markdown_it import MarkdownIt

PAGE = Template("<!DOCTYPE html><title>{{ title }}</title><h1>{{ title }}</h1>{{ body }}")


def main(source: Path, out: Path) -> None:
    md = MarkdownIt("commonmark").enable("table")
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if path.suffix not in (".md", ".yaml") or path.name == "portfolio.yaml":
            continue
        text = path.read_text(encoding="utf-8")
        front, body = text, ""
        if text.startswith("---\n"):
            _, front, body = text.split("---\n", 2)
        data = yaml.load(front, Loader=yaml.CSafeLoader) or {}
        html = PAGE.render(title=str(data.get("title", path.stem)), body=md.render(body))
        (out / f"{path.stem}.html").write_text(html, encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
