"""Joining PDF chunks, laid out one by one, into one tagged PDF.

WeasyPrint writes each chunk as a complete tagged PDF. The join keeps the first chunk (the front,
which carries the metadata, language, output intent and any attached files) and appends the
others' pages, then makes one document of them again:

- structure: every chunk's structure elements become children of the first chunk's Document
  element, and the parent-tree keys of their pages and link annotations are shifted past the
  keys already used, so marked content still maps to its element;
- named destinations: one name tree holds each anchor from the chunk that really has it (chunks
  hold empty stand-ins for anchors elsewhere, only so their links survive layout), so a link
  from any chunk to any anchor resolves;
- outline: rebuilt from the bookmarks every chunk reported, nested by level across chunks;
- folios: each page gets its folio page (laid out apart, since only the join knows the page
  numbers) drawn over it as a form, marked as a pagination artifact.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The resource name of the folio drawn over each page.
FOLIO = "/PortfolioFolio"


@dataclass(frozen=True)
class Bookmark:
    """An outline entry: its level, label and place (page index and point, in PDF units)."""

    level: int
    label: str
    page: int
    x: float
    y: float
    closed: bool


def _copy(target: Any, value: Any) -> Any:
    """``value`` from another PDF, copied into ``target`` with what it refers to."""
    import pikepdf

    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return target.copy_foreign(value)
    if isinstance(value, pikepdf.Array):
        return pikepdf.Array([_copy(target, item) for item in value])
    if isinstance(value, pikepdf.Dictionary):
        return pikepdf.Dictionary({key: _copy(target, item) for key, item in value.items()})
    return value


def _destinations(pdf: Any) -> dict[str, Any]:
    """The named destinations of ``pdf``, by name."""
    import pikepdf

    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    return {str(key): value for key, value in pikepdf.NameTree(names.Dests).items()}


def _parent_keys(struct_root: Any) -> list[int]:
    nums = struct_root.ParentTree.Nums
    return [int(nums[i]) for i in range(0, len(nums), 2)]


def join(
    documents: Sequence[tuple[Path, int]],
    owned: Sequence[frozenset[str]],
    bookmarks: Sequence[Bookmark],
    folios: Sequence[Path],
) -> bytes:
    """The chunk PDFs ``documents`` (path, page count) joined into one, as bytes.

    ``owned`` names, for each chunk, the anchors it really holds; ``bookmarks`` are on the
    joined document's pages; ``folios``, in order, hold one page to draw over each page.
    """
    import pikepdf

    sources = [pikepdf.open(path) for path, _ in documents]
    folio_pdfs = [pikepdf.open(path) for path in folios]
    try:
        out = sources[0]
        struct_root = out.Root.StructTreeRoot
        document = struct_root.K[0]
        nums = struct_root.ParentTree.Nums
        next_key = max(_parent_keys(struct_root), default=-1) + 1
        destinations = {name: dest for name, dest in _destinations(out).items() if name in owned[0]}
        for (path, pages), source, own in zip(documents[1:], sources[1:], owned[1:], strict=True):
            if len(source.pages) != pages:
                raise RuntimeError(f"{path.name}: {len(source.pages)} pages, expected {pages}")
            first = len(out.pages)
            with warnings.catch_warnings():
                # Named destinations are merged below, from the chunks that really hold them.
                warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
                out.pages.extend(source.pages)
            theirs = source.Root.StructTreeRoot
            their_nums = theirs.ParentTree.Nums
            shift = next_key
            for i in range(0, len(their_nums), 2):
                nums.append(int(their_nums[i]) + shift)
                nums.append(_copy(out, their_nums[i + 1]))
            for kid in theirs.K[0].K:
                element = _copy(out, kid)
                element.P = document
                document.K.append(element)
            for page in out.pages[first:]:
                page.obj.StructParents = int(page.obj.StructParents) + shift
                for annotation in page.obj.get("/Annots", []):
                    if "/StructParent" in annotation:
                        annotation.StructParent = int(annotation.StructParent) + shift
            next_key = shift + max(_parent_keys(theirs), default=-1) + 1
            for name, dest in _destinations(source).items():
                if name in own:
                    destinations.setdefault(name, _copy(out, dest))
        struct_root.ParentTreeNextKey = next_key

        tree = pikepdf.NameTree.new(out)
        for name in sorted(destinations):
            tree[name] = destinations[name]
        if "/Names" not in out.Root:
            out.Root.Names = pikepdf.Dictionary()
        out.Root.Names.Dests = tree.obj

        with out.open_outline() as outline:
            outline.root.clear()
            stack: list[tuple[int, list[Any]]] = [(0, outline.root)]
            for mark in bookmarks:
                while stack[-1][0] >= mark.level:
                    stack.pop()
                item = pikepdf.OutlineItem(mark.label, mark.page, "XYZ", left=mark.x, top=mark.y)
                item.is_closed = mark.closed
                stack[-1][1].append(item)
                stack.append((mark.level, item.children))

        folio_pages = [(pdf, page) for pdf in folio_pdfs for page in pdf.pages]
        if len(folio_pages) != len(out.pages):
            raise RuntimeError(f"{len(folio_pages)} folios for {len(out.pages)} pages")
        draw = (
            b"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC q "
            + FOLIO.encode()
            + b" Do Q EMC\n"
        )
        for page, (folio_pdf, folio) in zip(out.pages, folio_pages, strict=True):
            form = out.copy_foreign(folio_pdf.make_indirect(folio.as_form_xobject()))
            # Pages of a chunk share one resource dictionary: give each page its own.
            shared = page.obj.get("/Resources", pikepdf.Dictionary())
            resources = pikepdf.Dictionary(dict(shared.items()))
            resources.XObject = pikepdf.Dictionary(dict(shared.get("/XObject", {}).items()))
            resources.XObject[FOLIO] = form
            page.obj.Resources = resources
            page.contents_add(b"q\n", prepend=True)
            page.contents_add(draw)

        buffer = io.BytesIO()
        out.save(
            buffer,
            deterministic_id=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
        return buffer.getvalue()
    finally:
        for source in [*sources, *folio_pdfs]:
            source.close()
