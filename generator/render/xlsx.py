"""A one-sheet XLSX workbook written straight as SpreadsheetML: the parts of the file, to be zipped.

The downloads are one plain table each (a bold frozen header with filters, text and dates in a
dozen looks), so the workbook is a handful of fixed parts and one sheet written row by row as
text. That costs a fraction of building a cell object per cell in a general workbook library
(a 1,000-concern portfolio has over a hundred thousand cells), and gives the same bytes for the
same table: nothing in it comes from the clock.

Text is written as Excel reads it: "&", "<" and ">" as entities, a carriage return as a
character reference (XML would read it as a line feed), a literal ``_x0041_`` with its
underscore escaped (Excel would show it as "A"), characters XML cannot hold removed, and no
more than the 32,767 characters (counted as Excel counts them, in UTF-16) a cell can hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import escape

#: The most text one cell can hold, in UTF-16 code units.
CELL_LIMIT = 32767
#: Characters XML 1.0 cannot hold (the CSV leaves them out too, so both show the same).
UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a cell's text needs changed to be written: markup, a carriage return, an "_xHHHH_".
_SPECIAL = re.compile(r"[&<>\r]|_x[0-9A-Fa-f]{4}_")
_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# Characters Excel does not allow in a sheet's name.
_NOT_IN_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system
_FIRST_TRUE_DAY = date(1900, 3, 1)  # before it, Excel's serial numbers are off by one

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class Look:
    """How a cell looks: a named cell style (shown in Excel's cell styles)."""

    name: str
    bold: bool = False
    fill: str = ""  # RGB, as "B10E1E"
    colour: str = ""  # of the text, RGB
    wrap: bool = False
    top: bool = False  # aligned to the top of its row
    number_format: str = ""  # for dates, as "dd mmm yyyy"


def column_letter(index: int) -> str:
    """The letters of the column ``index`` (0 is "A", 26 is "AA")."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text_element(value: str) -> str:
    """``value`` as a cell's ``<t>`` element: what XML cannot hold removed, cut to what a cell
    holds, escaped as Excel reads it, its spaces at either end kept."""
    value = UNWRITABLE.sub("", value)
    if len(value) > CELL_LIMIT // 2 and len(value.encode("utf-16-le")) > 2 * CELL_LIMIT:
        value = value.encode("utf-16-le")[: 2 * CELL_LIMIT].decode("utf-16-le", "ignore")
    space = ' xml:space="preserve"' if value != value.strip() else ""
    if _SPECIAL.search(value):
        value = _ESCAPED.sub("_x005F_", str(escape(value)).replace("\r", "&#13;"))
    return f"<t{space}>{value}</t>"


def serial(day: date) -> int | None:
    """A day as Excel counts days, or None for a day before 1 March 1900, which Excel's 1900
    date system cannot give (before then it counts a 29 February 1900 that never was)."""
    return (day - _EPOCH).days if day >= _FIRST_TRUE_DAY else None


def workbook_parts(
    sheet: str,
    looks: Sequence[Look],
    widths: Sequence[float],
    rows: Iterable[Sequence[tuple[str | date, int]]],
    when: datetime,
) -> list[tuple[str, bytes]]:
    """The parts of a one-sheet workbook, by their names in the zip.

    ``rows`` are lists of (text or day, look) where a look is an index into ``looks``; the
    first row is the header, frozen and given filters. Every part depends on its arguments
    alone.
    """
    if not widths:
        raise ValueError("a workbook needs at least one column")
    if (
        not sheet
        or _NOT_IN_NAME.search(sheet)
        or len(sheet.encode("utf-16-le")) > 62
        or sheet.startswith("'")
        or sheet.endswith("'")
        or sheet.lower() == "history"
    ):
        raise ValueError(f"Excel does not take {sheet!r} as a sheet's name")
    name = sheet
    letters = [column_letter(i) for i in range(len(widths))]
    body: list[str] = []
    add = body.append
    count = 0
    for count, row in enumerate(rows, start=1):
        add(f'<row r="{count}">')
        for letter, (value, look) in zip(letters, row, strict=True):
            style = look + 1  # cell format 0 is Excel's "Normal"
            if isinstance(value, str):
                if not value:
                    add(f'<c r="{letter}{count}" s="{style}"/>')
                    continue
                add(
                    f'<c r="{letter}{count}" s="{style}" t="inlineStr">'
                    f"<is>{text_element(value)}</is></c>"
                )
            else:
                number = serial(value)
                if number is None:
                    add(
                        f'<c r="{letter}{count}" s="{style}" t="inlineStr">'
                        f"<is><t>{value.isoformat()}</t></is></c>"
                    )
                else:
                    add(f'<c r="{letter}{count}" s="{style}"><v>{number}</v></c>')
        add("</row>")
    extent = f"A1:{letters[-1]}{max(count, 1)}"
    columns = "".join(
        f'<col min="{i}" max="{i}" width="{width:g}" customWidth="1"/>'
        for i, width in enumerate(widths, start=1)
    )
    worksheet = (
        f'{_HEAD}<worksheet xmlns="{_MAIN}"><dimension ref="{extent}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols>'
        f"<sheetData>{''.join(body)}</sheetData>"
        f'<autoFilter ref="{extent}"/>'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        "</worksheet>"
    )
    quoted = "'" + name.replace("'", "''") + "'"
    filtered = f"{quoted}!$A$1:${letters[-1]}${max(count, 1)}"
    book = (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name="{escape(name)}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{escape(filtered)}</definedName></definedNames>"
        "</workbook>"
    )
    moment = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        f"{_HEAD}<cp:coreProperties"
        ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>portfolio</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{moment}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{moment}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    return [
        ("[Content_Types].xml", _CONTENT_TYPES.encode()),
        ("_rels/.rels", _PACKAGE_RELS.encode()),
        ("docProps/app.xml", _APP.encode()),
        ("docProps/core.xml", core.encode()),
        ("xl/workbook.xml", book.encode()),
        ("xl/_rels/workbook.xml.rels", _BOOK_RELS.encode()),
        ("xl/styles.xml", styles(looks).encode()),
        ("xl/worksheets/sheet1.xml", worksheet.encode()),
    ]


def styles(looks: Sequence[Look]) -> str:
    """The stylesheet: Excel's "Normal", then each look as a named style and as the cell format
    that uses it (cell format ``i + 1`` is ``looks[i]``)."""
    formats: dict[str, int] = {}
    fonts = [_font("")]
    fills = [_fill("none"), _fill("gray125")]
    named = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>']
    cells = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    for index, look in enumerate(looks, start=1):
        number = 0
        if look.number_format:
            number = formats.setdefault(look.number_format, 164 + len(formats))
        font = 0
        if look.bold or look.colour:
            colour = f'<color rgb="00{look.colour}"/>' if look.colour else ""
            font = _index(fonts, _font(("<b/>" if look.bold else "") + colour))
        fill = 0
        if look.fill:
            fill = _index(
                fills, _fill("solid", f'<fgColor rgb="00{look.fill}"/><bgColor indexed="64"/>')
            )
        parts = f'numFmtId="{number}" fontId="{font}" fillId="{fill}" borderId="0"'
        applied = (
            (' applyNumberFormat="1"' if number else "")
            + (' applyFont="1"' if font else "")
            + (' applyFill="1"' if fill else "")
        )
        aligned = (' vertical="top"' if look.top else "") + (' wrapText="1"' if look.wrap else "")
        end = f' applyAlignment="1"><alignment{aligned}/></xf>' if aligned else "/>"
        named.append(f"<xf {parts}{applied}{end}")
        cells.append(f'<xf {parts} xfId="{index}"{applied}{end}')
    numbers = "".join(
        f'<numFmt numFmtId="{i}" formatCode="{escape(code)}"/>' for code, i in formats.items()
    )
    names = "".join(
        f'<cellStyle name="{escape(look.name)}" xfId="{i}"/>'
        for i, look in enumerate(looks, start=1)
    )
    return (
        f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
        + (f'<numFmts count="{len(formats)}">{numbers}</numFmts>' if formats else "")
        + f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        + f'<fills count="{len(fills)}">{"".join(fills)}</fills>'
        + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        + f'<cellStyleXfs count="{len(named)}">{"".join(named)}</cellStyleXfs>'
        + f'<cellXfs count="{len(cells)}">{"".join(cells)}</cellXfs>'
        + f'<cellStyles count="{len(named)}"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        + f"{names}</cellStyles>"
        + '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
    )


def _index(listed: list[str], element: str) -> int:
    """Where ``element`` is in ``listed``, added at the end if it is not there yet."""
    if element not in listed:
        listed.append(element)
    return listed.index(element)


def _font(marks: str) -> str:
    return f'<font>{marks}<sz val="11"/><name val="Calibri"/><family val="2"/></font>'


def _fill(pattern: str, colours: str = "") -> str:
    return f'<fill><patternFill patternType="{pattern}">{colours}</patternFill></fill>'


_CONTENT_TYPES = (
    f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml"'
    ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = (
    f'{_HEAD}<Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELS}/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_DOC_RELS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_BOOK_RELS = (
    f'{_HEAD}<Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_APP = (
    f"{_HEAD}<Properties"
    ' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>care-evidence-portfolio</Application></Properties>"
)
