"""Joining PDF chunks, laid out one by one, into one tagged PDF, a chunk at a time.

WeasyPrint writes each chunk as a complete tagged PDF. The worker that laid a chunk out also
prepares it for the join (:func:`prepare`): it opens the PDF with pikepdf and writes out every
object its pages and structure reach in PDF syntax, numbered within the chunk, with markers
where only the join knows the number (the page tree, the Document element, the parent-tree
keys, the folio of each page). The join (:func:`join`) then only renumbers: it reads one
prepared chunk at a time, writes its objects under new numbers and keeps a few numbers per
page, so memory does not grow with the portfolio, and a chunk prepared by an earlier build can
be joined again as it is. What makes the chunks one document again is written at the end:

- one page tree over every page;
- one structure tree: each chunk's top structure elements become children of one Document
  element, and the parent-tree keys of its pages and link annotations are shifted past the keys
  already used, so marked content still maps to its element;
- one name tree of destinations, each anchor from the chunk that really has it (chunks hold
  empty stand-ins for anchors elsewhere, only so that their links survive layout), so a link
  from any chunk to any anchor resolves;
- the outline, built from the bookmarks every chunk reported, nested by level across chunks;
- the folios: each page's footer (edition, as-of date and build stamp on the left, "Page N of
  M" on the right) drawn over it by the join itself, in the theme's regular font embedded once,
  marked as a pagination artifact. Only the join knows the page numbers, and a chunk laid out
  before holds nothing that changes from build to build, so it can be used again as it is;
- the contents' page numbers, likewise, with their dot leaders: each right-aligned in the
  column its entry keeps on its right, on the baseline of its last line, in the entry's size,
  weight and colour (the theme's regular and bold fonts, each embedded once), marked as a
  layout artifact;
- the front chunk's catalog (language, metadata, output intent, attached files) and document
  information, and a document ID that is a hash of the content, so the same input gives the
  same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import pickle
import re
import zlib
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

#: The resource names of the fonts the folios and the contents' page numbers are drawn in.
FOLIO_FONT = "/PortfolioFolio"
BOLD_FONT = "/PortfolioFolioBold"

#: Where the folios go, as print.css sets the page: 16 mm from the sides, centred in the
#: 20 mm bottom margin, 8 pt, in the theme's grey.
FOLIO_SIDE = 16 * 72 / 25.4
FOLIO_MARGIN = 20 * 72 / 25.4
FOLIO_SIZE = 8.0
FOLIO_LINE = 1.4
FOLIO_COLOUR = b"0.3137 0.3529 0.3725 rg"

#: Catalog entries the join writes itself; the front chunk's others are kept.
_REBUILT = {"/Type", "/Pages", "/StructTreeRoot", "/Outlines", "/Names", "/Dests", "/PageLabels"}


@dataclass(frozen=True)
class Bookmark:
    """An outline entry: its level, label and place (page index and point, in PDF units)."""

    level: int
    label: str
    page: int
    x: float
    y: float
    closed: bool


class Writer:
    """Writes numbered objects to a PDF file as they come, and the cross-reference at the end.

    Objects other than streams are packed, a few hundred at a time, into compressed object
    streams, as WeasyPrint does: a tagged PDF is mostly small structure elements.
    """

    PACK = 250

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        # By object number (0 heads the free list): 1 and the file offset, or 2 and the number
        # of the object stream holding it and its index there; -1 while only reserved.
        self.kind = array("b", [0])
        self.where = array("q", [0])
        self.index = array("l", [0])
        self.packing: list[tuple[int, bytes]] = []
        self.digest = hashlib.sha256()
        self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _emit(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)

    def reserve(self) -> int:
        """A new object number, to be written later."""
        self.kind.append(-1)
        self.where.append(0)
        self.index.append(0)
        return len(self.kind) - 1

    def reserve_many(self, count: int) -> int:
        """``count`` new object numbers in a row, to be written later; the first of them."""
        first = len(self.kind)
        self.kind.extend([-1] * count)
        self.where.extend([0] * count)
        self.index.extend([0] * count)
        return first

    def write(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        """Object ``number``: ``body``, and its stream data if it is a stream."""
        if stream is None:
            self.packing.append((number, body))
            if len(self.packing) >= self.PACK:
                self._pack()
            return
        self._direct(number, body, stream)

    def _direct(self, number: int, body: bytes, stream: bytes | None) -> None:
        self.kind[number] = 1
        self.where[number] = self.out.tell()
        self._emit(b"%d 0 obj\n" % number)
        self._emit(body)
        if stream is not None:
            self._emit(b"\nstream\n")
            self._emit(stream)
            self._emit(b"\nendstream")
        self._emit(b"\nendobj\n")

    def _pack(self) -> None:
        """Write the objects waiting to be packed as one compressed object stream."""
        if not self.packing:
            return
        container = self.reserve()
        header, bodies, offset = [], [], 0
        for position, (number, body) in enumerate(self.packing):
            header.append(b"%d %d" % (number, offset))
            bodies.append(body)
            offset += len(body) + 1
            self.kind[number] = 2
            self.where[number] = container
            self.index[number] = position
        first = b" ".join(header) + b"\n"
        data = zlib.compress(first + b"\n".join(bodies) + b"\n", 6)
        entries = b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>" % (
            len(self.packing),
            len(first),
            len(data),
        )
        self.packing = []
        self._direct(container, entries, data)

    def add(self, body: bytes, stream: bytes | None = None) -> int:
        """A new object, written now; its number."""
        number = self.reserve()
        self.write(number, body, stream)
        return number

    def finish(self, root: int, info: int | None) -> None:
        """The cross-reference stream, with an ID hashed from everything written."""
        self._pack()
        missing = [n for n, kind in enumerate(self.kind) if kind < 0]
        if missing:
            raise RuntimeError(f"objects reserved but never written: {missing[:5]}")
        identifier = self.digest.hexdigest()[:32].encode()
        xref = len(self.kind)
        start = self.out.tell()
        rows = [b"\x00" + (0).to_bytes(5, "big") + (65535).to_bytes(2, "big")]
        for number in range(1, xref):
            rows.append(
                bytes([self.kind[number]])
                + self.where[number].to_bytes(5, "big")
                + self.index[number].to_bytes(2, "big")
            )
        rows.append(b"\x01" + start.to_bytes(5, "big") + b"\x00\x00")  # the stream itself
        data = zlib.compress(b"".join(rows), 6)
        info_entry = b" /Info %d 0 R" % info if info is not None else b""
        self.out.write(
            b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 5 2] /Root %d 0 R%s /ID [<%s> <%s>] "
            b"/Filter /FlateDecode /Length %d >>\nstream\n"
            % (xref, xref + 1, root, info_entry, identifier, identifier, len(data))
        )
        self.out.write(data)
        self.out.write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % start)


def _number(value: Any) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, Decimal):
        text = format(value, "f")
        return (text.rstrip("0").rstrip(".") if "." in text else text).encode() or b"0"
    if isinstance(value, float):
        return (b"%.6f" % value).rstrip(b"0").rstrip(b".")
    raise TypeError(f"not a PDF number: {value!r}")


# Markers in the bytes of a prepared chunk's objects, for what only the join can number: each
# is NUL, a number and a letter, NUL (no PDF syntax that pikepdf writes holds a NUL byte).
_REF = b"r"  # the chunk's own object n
_KEY = b"k"  # parent-tree key n of the chunk, to be shifted past the keys already used
_FOLIO = b"f"  # the folio of the chunk's page n
_PAGES, _DOCUMENT, _STRUCT, _PUSH = b"P", b"D", b"S", b"Q"  # one each, joined
_FONT, _BOLD = b"F", b"B"  # the fonts the join draws in, embedded once


def _mark(letter: bytes, number: int = 0) -> bytes:
    return b"\x00%d%s\x00" % (number, letter)


@dataclass
class Source:
    """One chunk's PDF being prepared for the join: every object its pages and structure reach,
    in PDF syntax, numbered from 0 in the order they are met, with markers where the join
    puts numbers of its own."""

    pdf: Any
    objects: list[tuple[bytes, bytes | None] | None] = field(default_factory=list)
    numbers: dict[tuple[int, int], int] = field(default_factory=dict)
    pending: list[Any] = field(default_factory=list)
    #: Objects that stand for something in the joined file (the page tree, the Document).
    fixed: dict[tuple[int, int], bytes] = field(default_factory=dict)
    #: Rewrites of particular objects' dictionaries before they are written, by object.
    rewrite: dict[tuple[int, int], Callable[[dict[str, Any]], dict[str, Any]]] = field(
        default_factory=dict
    )

    def ref(self, obj: Any) -> bytes:
        """A reference to indirect ``obj``, queuing it to be copied."""
        key = obj.objgen
        if key in self.fixed:
            return self.fixed[key]
        if key not in self.numbers:
            self.numbers[key] = len(self.objects)
            self.objects.append(None)
            self.pending.append(obj)
        return _mark(_REF, self.numbers[key])

    def value(self, obj: Any) -> bytes:
        """``obj`` in PDF syntax, with references marked (and queued)."""
        import pikepdf

        if isinstance(obj, pikepdf.Object) and obj.is_indirect:
            return self.ref(obj)
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            return self.whole(obj)
        if isinstance(obj, pikepdf.Object):
            return _syntax(obj.unparse())
        if obj is None:
            return b"null"
        return _number(obj)

    def dictionary(self, entries: dict[str, Any]) -> bytes:
        import pikepdf

        out = [b"<<"]
        for key, item in entries.items():
            out.append(bytes(pikepdf.Name(key).unparse()))
            out.append(item if isinstance(item, bytes) else self.value(item))
        out.append(b">>")
        return b" ".join(out)

    def whole(self, obj: Any) -> bytes:
        """Dictionary or array ``obj`` in PDF syntax as pikepdf writes it, its references marked
        (and queued): one call into pikepdf, rather than one for each entry."""
        text = _syntax(obj.unparse(resolved=True))
        return _TOKENS.sub(self._marked, text) if b" R" in text else text

    def _marked(self, found: re.Match[bytes]) -> bytes:
        """A token :data:`_TOKENS` found: a string as it is, a reference marked (and queued)."""
        if found.group(1) is None:
            return found.group(0)  # a string, which may hold anything
        key = (int(found.group(1)), int(found.group(2)))
        if key in self.fixed:
            return self.fixed[key]
        if key in self.numbers:
            return _mark(_REF, self.numbers[key])
        return self.ref(self.pdf.get_object(key))

    def drain(self) -> None:
        """Copy every object queued so far, and every object those refer to."""
        import pikepdf

        while self.pending:
            obj = self.pending.pop()
            number = self.numbers[obj.objgen]
            change = self.rewrite.get(obj.objgen)
            if isinstance(obj, pikepdf.Stream):
                data = obj.read_raw_bytes()
                entries: dict[str, Any] = dict(obj.stream_dict.items())
                entries["/Length"] = len(data)
                if change is not None:
                    entries = change(entries)
                self.objects[number] = (self.dictionary(entries), bytes(data))
            elif isinstance(obj, pikepdf.Dictionary) and change is not None:
                self.objects[number] = (self.dictionary(change(dict(obj.items()))), None)
            elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
                self.objects[number] = (self.whole(obj), None)
            else:
                self.objects[number] = (_syntax(obj.unparse(resolved=True)), None)


#: In PDF syntax as pikepdf writes it: a literal string (pikepdf escapes every parenthesis and
#: backslash in one, so it ends at the first bare ")"; a hex string holds no space), or a
#: reference "n g R" (after a space or a bracket, so never the end of a name or a number).
_TOKENS = re.compile(rb"\((?:[^\\)]|\\.)*\)|(?<=[ \[])(\d+) (\d+) R(?![\w.])", re.DOTALL)


def _syntax(text: bytes) -> bytes:
    """PDF syntax pikepdf wrote, checked to hold no NUL (which marks what the join numbers)."""
    text = bytes(text)
    if b"\x00" in text:
        raise RuntimeError("a PDF object holds a NUL byte outside a stream")
    return text


def _parent_tree(struct_root: Any) -> Iterator[tuple[int, Any]]:
    nums = struct_root.ParentTree.Nums
    for i in range(0, len(nums), 2):
        yield int(nums[i]), nums[i + 1]


def _destinations(pdf: Any) -> dict[str, Any]:
    """The named destinations of ``pdf``, by name."""
    import pikepdf

    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    return {str(key): value for key, value in pikepdf.NameTree(names.Dests).items()}


def _string(text: str) -> bytes:
    import pikepdf

    return bytes(pikepdf.String(text).unparse())


@dataclass(frozen=True)
class PageNumber:
    """A contents entry's page number, which the join draws with its dot leader. In PDF units
    from the page's bottom left: ``right``, where the number ends (it is right-aligned);
    ``column``, the left edge of the column kept for it; ``text_end``, where the entry's text
    ends; ``baseline``, its last line's baseline. Then its text's ``size`` (points), whether
    ``bold``, and its ``colour`` (red, green, blue, from 0 to 1)."""

    text: str
    right: float
    column: float
    text_end: float
    baseline: float
    size: float
    bold: bool
    colour: tuple[float, float, float]

    def leader(self, unit: float) -> tuple[float, int]:
        """Where the dot leader starts, and how many runs of ``LEADER`` it has, each ``unit``
        wide: runs set from ``right`` leftwards, those under the number's column or the text
        left out (as WeasyPrint sets a leader)."""
        if unit <= 0:
            return self.right, 0
        first = math.ceil((self.right - self.column) / unit - 1e-6) + 1  # the first clear of it
        last = math.floor((self.right - self.text_end) / unit + 1e-6)  # the last clear of text
        count = max(0, last - first + 1)
        return self.right - last * unit, count


#: A run of the dot leader, as the contents' stylesheet set it.
LEADER = "...."


@dataclass(frozen=True)
class Folios:
    """The footer of every page, in order: (left text, right text); the font files (TrueType
    fonts, regular and bold) to draw them in; and the numbers to draw on some pages, by index
    of the page in the joined document."""

    lines: Sequence[tuple[str, str]]
    font: Path
    bold: Path | None = None
    numbers: Mapping[int, Sequence[PageNumber]] = field(default_factory=dict)


class FolioFont:
    """A TrueType font embedded whole, as a simple font in the Windows-1252 encoding: enough
    for the folios' text, which is the tool's own (dates, digits, the build stamp)."""

    FIRST, LAST = 32, 255

    def __init__(self, path: Path) -> None:
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

        self.data = path.read_bytes()
        font = TTFont(io.BytesIO(self.data))
        scale = 1000 / font["head"].unitsPerEm
        cmap = font.getBestCmap()
        advance = font["hmtx"]
        self.widths: list[int] = []
        for code in range(self.FIRST, self.LAST + 1):
            try:
                char = bytes([code]).decode("cp1252")
            except UnicodeDecodeError:
                char = ""
            glyph = cmap.get(ord(char)) if char else None
            self.widths.append(round(advance[glyph][0] * scale) if glyph else 0)
        head, hhea = font["head"], font["hhea"]
        self.ascent: int = round(hhea.ascent * scale)
        self.descent: int = round(hhea.descent * scale)
        self.bbox: list[int] = [
            round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)
        ]
        self.cap: int = round(getattr(font["OS/2"], "sCapHeight", 0) * scale) or self.ascent
        name = font["name"].getDebugName(6) or "PortfolioFolio"
        self.name = "".join(c for c in name if c.isalnum() or c in "-_") or "PortfolioFolio"

    def encode(self, text: str) -> bytes:
        """``text`` in the font's encoding; a character it cannot show becomes "?"."""
        out = bytearray()
        for char in text:
            code = char.encode("cp1252", errors="replace")[0]
            if not (self.FIRST <= code <= self.LAST) or not self.widths[code - self.FIRST]:
                code = ord("?")
            out.append(code)
        return bytes(out)

    def width(self, encoded: bytes, size: float) -> float:
        """The width of ``encoded`` text at ``size`` points."""
        return sum(self.widths[code - self.FIRST] for code in encoded) * size / 1000

    def baseline(self) -> float:
        """The baseline of a line centred in the bottom margin, from the page's bottom edge."""
        line = FOLIO_SIZE * FOLIO_LINE
        glyphs = (self.ascent - self.descent) * FOLIO_SIZE / 1000
        top = (FOLIO_MARGIN - line) / 2 + (line - glyphs) / 2 + self.ascent * FOLIO_SIZE / 1000
        return FOLIO_MARGIN - top

    def write(self, writer: Writer) -> int:
        """Write the font (file, descriptor and dictionary); the number of its dictionary."""
        packed = zlib.compress(self.data, 6)
        file = writer.add(
            b"<< /Length %d /Length1 %d /Filter /FlateDecode >>" % (len(packed), len(self.data)),
            packed,
        )
        name = self.name.encode()
        descriptor = writer.add(
            b"<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [%s] /ItalicAngle 0 "
            b"/Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
            % (
                name,
                b" ".join(b"%d" % v for v in self.bbox),
                self.ascent,
                self.descent,
                self.cap,
                file,
            )
        )
        return writer.add(
            b"<< /Type /Font /Subtype /TrueType /BaseFont /%s /FirstChar %d /LastChar %d "
            b"/Widths [%s] /Encoding /WinAnsiEncoding /FontDescriptor %d 0 R >>"
            % (
                name,
                self.FIRST,
                self.LAST,
                b" ".join(b"%d" % w for w in self.widths),
                descriptor,
            )
        )


def _literal(encoded: bytes) -> bytes:
    """``encoded`` as a PDF literal string."""
    out = bytearray(b"(")
    for code in encoded:
        if code in b"()\\":
            out += b"\\" + bytes([code])
        elif 32 <= code < 127:
            out.append(code)
        else:
            out += b"\\%03o" % code
    out += b")"
    return bytes(out)


def _folio(
    font: FolioFont,
    left: str,
    right: str,
    box: Sequence[float],
    numbers: Sequence[PageNumber] = (),
    bold: FolioFont | None = None,
) -> bytes:
    """The content that ends a page: restore its state, then draw its ``numbers`` (the
    contents' page numbers) and its folio, as artifacts."""
    x0, y0, x1, _ = box
    y = y0 + font.baseline()
    shown_left, shown_right = font.encode(left), font.encode(right)
    right_x = x1 - FOLIO_SIDE - font.width(shown_right, FOLIO_SIZE)
    face = b"%s %s Tf" % (FOLIO_FONT.encode(), _number(FOLIO_SIZE))

    def text(x: float, shown: bytes) -> bytes:
        return b"BT %s %s %s Td %s Tj ET" % (face, _number(x), _number(y), _literal(shown))

    out = [b"Q\n"]
    if numbers:
        out.append(b"/Artifact <</Type /Layout>> BDC q")
        for number in numbers:
            used, name = (font, FOLIO_FONT)
            if number.bold and bold is not None:
                used, name = bold, BOLD_FONT
            shown = used.encode(number.text)
            start, runs = number.leader(used.width(used.encode(LEADER), number.size))
            colour = b" ".join(_number(round(c, 4)) for c in number.colour)
            sized = b"%s %s Tf" % (name.encode(), _number(round(number.size, 4)))
            base = _number(round(number.baseline, 3))
            out.append(b"%s rg" % colour)
            if runs:
                dots = _literal(used.encode(LEADER * runs))
                at = _number(round(start, 3))
                out.append(b"BT %s %s %s Td %s Tj ET" % (sized, at, base, dots))
            at = _number(round(number.right - used.width(shown, number.size), 3))
            out.append(b"BT %s %s %s Td %s Tj ET" % (sized, at, base, _literal(shown)))
        out.append(b"Q EMC\n")
    out += [
        b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC q",
        FOLIO_COLOUR,
        text(x0 + FOLIO_SIDE, shown_left),
        text(right_x, shown_right),
        b"Q EMC\n",
    ]
    return b" ".join(out)


@dataclass
class _Item:
    mark: Bookmark
    children: list[_Item] = field(default_factory=list)


def _outline(writer: Writer, bookmarks: Sequence[Bookmark], pages: Sequence[int]) -> int | None:
    """Write the outline from ``bookmarks``; the number of its root, if there is one."""
    root: list[_Item] = []
    stack: list[tuple[int, list[_Item]]] = [(0, root)]
    for mark in bookmarks:
        while stack[-1][0] >= mark.level:
            stack.pop()
        item = _Item(mark)
        stack[-1][1].append(item)
        stack.append((mark.level, item.children))
    if not root:
        return None

    def visible(items: list[_Item]) -> int:
        return sum(1 + (0 if i.mark.closed else visible(i.children)) for i in items)

    def write(items: list[_Item], parent: int) -> tuple[int, int]:
        numbers = [writer.reserve() for _ in items]
        for index, (item, number) in enumerate(zip(items, numbers, strict=True)):
            mark = item.mark
            dest = b"[%d 0 R /XYZ %s %s 0]" % (pages[mark.page], _number(mark.x), _number(mark.y))
            parts = [b"<< /Title", _string(mark.label), b"/Parent %d 0 R /Dest" % parent, dest]
            if index:
                parts.append(b"/Prev %d 0 R" % numbers[index - 1])
            if index + 1 < len(items):
                parts.append(b"/Next %d 0 R" % numbers[index + 1])
            if item.children:
                first, last = write(item.children, number)
                count = visible(item.children)
                parts.append(b"/First %d 0 R /Last %d 0 R" % (first, last))
                parts.append(b"/Count %d" % (-count if mark.closed else count))
            parts.append(b">>")
            writer.write(number, b" ".join(parts))
        return numbers[0], numbers[-1]

    outline = writer.reserve()
    first, last = write(root, outline)
    writer.write(
        outline,
        b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>"
        % (first, last, visible(root)),
    )
    return outline


def prepare(path: Path, front: bool = False, numbered: bool = False) -> bytes:
    """The chunk PDF at ``path``, prepared for the join (in the worker that laid it out): its
    objects in PDF syntax with markers for what the join numbers, its pages and their boxes, its
    structure elements and parent tree, its named destinations, and, for the ``front`` chunk,
    its catalog entries and document information. The pages of a ``numbered`` chunk (the
    contents) can also use the bold font, for the page numbers the join draws. Plain data,
    pickled."""
    import pikepdf

    with pikepdf.open(path) as pdf:
        source = Source(pdf)
        root = pdf.Root.StructTreeRoot
        top = root.K[0] if isinstance(root.K, pikepdf.Array) else root.K
        source.fixed[pdf.Root.Pages.objgen] = _mark(_PAGES)
        source.fixed[top.objgen] = _mark(_DOCUMENT)
        source.fixed[root.objgen] = _mark(_STRUCT)

        def page_entries(entries: dict[str, Any], index: int) -> dict[str, Any]:
            entries["/StructParents"] = _mark(_KEY, int(entries["/StructParents"]))
            contents = entries["/Contents"]
            inner = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            refs = b" ".join(source.value(c) for c in inner)
            entries["/Contents"] = b"[%s %s %s]" % (_mark(_PUSH), refs, _mark(_FOLIO, index))
            resources = dict(entries["/Resources"].items())
            fonts = dict(resources.get("/Font", pikepdf.Dictionary()).items())
            fonts[FOLIO_FONT] = _mark(_FONT)
            if numbered:
                fonts[BOLD_FONT] = _mark(_BOLD)
            resources["/Font"] = source.dictionary(fonts)
            entries["/Resources"] = source.dictionary(resources)
            return entries

        def annotation_entries(entries: dict[str, Any]) -> dict[str, Any]:
            if "/StructParent" in entries:
                entries["/StructParent"] = _mark(_KEY, int(entries["/StructParent"]))
            return entries

        pages, boxes = [], []
        for index, page in enumerate(pdf.pages):
            source.rewrite[page.obj.objgen] = partial(page_entries, index=index)
            for annotation in page.obj.get("/Annots", []):
                if annotation.is_indirect:
                    source.rewrite[annotation.objgen] = annotation_entries
            source.ref(page.obj)
            pages.append(source.numbers[page.obj.objgen])
            box = [float(v) for v in page.obj.MediaBox]
            boxes.append((box[0], box[1], box[2], box[3]))
        kids = [source.ref(kid) for kid in top.K]
        tree: list[tuple[int, int | None, bytes]] = []
        used = -1
        for key, value in _parent_tree(root):
            used = max(used, key)
            if value.is_indirect:
                source.ref(value)
                tree.append((key, source.numbers[value.objgen], b""))
            else:
                tree.append((key, None, source.value(value)))
        dests = [(name, source.value(dest)) for name, dest in _destinations(pdf).items()]
        catalog: list[tuple[str, bytes]] = []
        names: list[tuple[str, bytes]] = []
        info = None
        if front:
            catalog = [
                (key, source.value(value)) for key, value in pdf.Root.items() if key not in _REBUILT
            ]
            found = pdf.Root.get("/Names")
            if found is not None:
                names = [(key, source.value(v)) for key, v in found.items() if key != "/Dests"]
            if "/Info" in pdf.trailer:
                source.ref(pdf.trailer.Info)
                info = source.numbers[pdf.trailer.Info.objgen]
        source.drain()
        objects = [found for found in source.objects if found is not None]
        if len(objects) != len(source.objects):
            raise RuntimeError(f"{path.name}: an object was referred to but never copied")
    prepared = (objects, pages, boxes, kids, tree, used, dests, catalog, names, info)
    return pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL)


class _Plain(pickle.Unpickler):
    """Reads a prepared chunk: plain containers, strings, numbers and bytes, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a prepared chunk")


def _resolve(
    body: bytes, first: int, shift: int, folios: Sequence[int], fixed: dict[bytes, int]
) -> bytes:
    """``body`` with its markers replaced by the joined file's numbers."""
    if b"\x00" not in body:
        return body
    parts = body.split(b"\x00")
    for i in range(1, len(parts), 2):
        token = parts[i]
        letter, number = token[-1:], int(token[:-1])
        if letter == _REF:
            parts[i] = b"%d 0 R" % (first + number)
        elif letter == _KEY:
            parts[i] = b"%d" % (number + shift)
        elif letter == _FOLIO:
            parts[i] = b"%d 0 R" % folios[number]
        else:
            parts[i] = b"%d 0 R" % fixed[letter]
    return b"".join(parts)


def join(
    documents: Sequence[tuple[Path, int]],
    owned: Sequence[frozenset[str]],
    bookmarks: Sequence[Bookmark],
    folios: Folios,
    out: BinaryIO,
) -> None:
    """Write the prepared chunks ``documents`` (path of what :func:`prepare` gave, page count),
    joined into one PDF, to ``out``; the first is the front, whose catalog the PDF takes.

    ``owned`` names, for each chunk, the anchors it really holds; ``bookmarks`` are on the
    joined document's pages; ``folios`` holds the footer of each page, in order.
    """
    import pikepdf

    total = sum(count for _, count in documents)
    if len(folios.lines) != total:
        raise RuntimeError(f"{len(folios.lines)} folios for {total} pages")
    writer = Writer(out)
    page_tree = writer.reserve()
    document = writer.reserve()
    struct_root = writer.reserve()
    # Every page: "q", its own content, then "Q" and its folio as a pagination artifact.
    push = writer.add(b"<< /Length 2 >>", b"q\n")
    font = FolioFont(folios.font)
    bold = FolioFont(folios.bold) if folios.bold is not None else None
    fixed = {
        _PAGES: page_tree,
        _DOCUMENT: document,
        _STRUCT: struct_root,
        _PUSH: push,
        _FONT: font.write(writer),
    }
    if bold is not None:
        fixed[_BOLD] = bold.write(writer)
    pages: list[int] = []
    kids: list[bytes] = []
    tree: list[tuple[int, int]] = []  # parent-tree key, number of its value
    destinations: dict[str, bytes] = {}
    next_key = 0
    catalog: dict[str, bytes] = {}
    front_names: dict[str, bytes] = {}
    info: int | None = None
    for index, ((path, count), own) in enumerate(zip(documents, owned, strict=True)):
        with path.open("rb") as stream:
            prepared = _Plain(stream).load()
        objects, chunk_pages, boxes, chunk_kids, chunk_tree, used, dests = prepared[:7]
        if len(chunk_pages) != count:
            raise RuntimeError(f"{path.name}: {len(chunk_pages)} pages, expected {count}")
        first = writer.reserve_many(len(objects))
        drawn: list[int] = []
        for box in boxes:
            page = len(pages) + len(drawn)
            left, right = folios.lines[page]
            folio = _folio(font, left, right, box, folios.numbers.get(page, ()), bold)
            drawn.append(writer.add(b"<< /Length %d >>" % len(folio), folio))
        resolve = partial(_resolve, first=first, shift=next_key, folios=drawn, fixed=fixed)
        for number, (body, data) in enumerate(objects, first):
            writer.write(number, resolve(body), data)
        pages += [first + n for n in chunk_pages]
        kids += [resolve(kid) for kid in chunk_kids]
        for key, ref, value in chunk_tree:
            number = first + ref if ref is not None else writer.add(resolve(value))
            tree.append((key + next_key, number))
        for name, dest in dests:
            if name in own and name not in destinations:
                destinations[name] = resolve(dest)
        if index == 0:
            front_catalog, names, front_info = prepared[7:]
            catalog = {key: resolve(value) for key, value in front_catalog}
            front_names = {key: resolve(value) for key, value in names}
            info = first + front_info if front_info is not None else None
        next_key += used + 1
        del prepared, objects

    kid_refs = b" ".join(b"%d 0 R" % n for n in pages)
    writer.write(page_tree, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(pages), kid_refs))
    writer.write(
        document,
        b"<< /Type /StructElem /S /Document /P %d 0 R /K [%s] >>" % (struct_root, b" ".join(kids)),
    )
    nums = b" ".join(b"%d %d 0 R" % (key, number) for key, number in sorted(tree))
    writer.write(
        struct_root,
        b"<< /Type /StructTreeRoot /K [%d 0 R] /ParentTree << /Nums [%s] >> "
        b"/ParentTreeNextKey %d >>" % (document, nums, next_key),
    )
    dests_body = b" ".join(
        _string(name) + b" " + dest for name, dest in sorted(destinations.items())
    )
    names_body = b" ".join(
        bytes(pikepdf.Name(name).unparse()) + b" " + value for name, value in front_names.items()
    )
    entries = [b"<< /Type /Catalog /Pages %d 0 R" % page_tree]
    entries.append(b"/StructTreeRoot %d 0 R" % struct_root)
    entries.append(b"/Names << /Dests << /Names [%s] >> %s >>" % (dests_body, names_body))
    outline = _outline(writer, bookmarks, pages)
    if outline is not None:
        entries.append(b"/Outlines %d 0 R" % outline)
    for name, value in catalog.items():
        entries.append(bytes(pikepdf.Name(name).unparse()) + b" " + value)
    entries.append(b">>")
    root_number = writer.add(b" ".join(entries))
    writer.finish(root_number, info)
