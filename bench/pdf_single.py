"""The PDF baseline: the whole print document laid out in one WeasyPrint call, in one process.

The same HTML the chunked PDF is made of (cover, contents, findings, every statement and
concern, the appendices), as one document: what `portfolio build --pdf-only` would cost
without chunks and workers.

    python bench/pdf_single.py PORTFOLIO OUT.pdf
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from markupsafe import Markup

from generator.pdf.document import PrintDocument, compose
from generator.pdf.layout import ASSETS, TOC_ENTRY, Job, Setup, lay_out
from generator.pipeline import load
from generator.render.theme import templates_dir


def main(source: Path, out: Path) -> None:
    build = load(source)
    printed = PrintDocument(build)
    macros = printed.module()
    front = str(macros.cover()) + str(macros.contents(printed.placed_under, printed.also_under))
    # The contents' dot leaders and numbers laid out by WeasyPrint, as one call has to (the
    # chunked PDF draws them when it joins its chunks).
    leaders = (
        f".contents a.{TOC_ENTRY} {{ display: inline; }}"
        '.contents a::after { content: leader("....") "00"; }'
    )
    style = Markup(f"{printed.style} {leaders}")
    whole = printed.document(macros, front + compose(macros, list(printed.parts())), style)
    setup = Setup(
        roots=((templates_dir() / ASSETS).resolve(), source.resolve()),
        identifier=hashlib.sha256(build.stamp.encode()).hexdigest()[:32].encode(),
    )
    laid = lay_out(setup, Job(whole.html, out, for_join=False))
    print(laid.pages, "pages")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
