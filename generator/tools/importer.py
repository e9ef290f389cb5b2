"""Importing an existing action tracker (CSV, XLSX or a Word action plan) into records.

Providers' trackers differ, so headers are matched loosely (case, spacing, punctuation, common
synonyms), a title row above the header is skipped, merged cells and blank cells under a finding
carry the finding down, and dates are read in the forms UK trackers use, including deadlines in
words (DATE_RULE). No map file is needed: where no column names a finding's quality statements,
they are guessed from its words by generator.tools.guess and listed for the user to confirm;
section rows (SAFE, WELL-LED...) are key questions for the rows below. Rows that share a finding
become one concern with several actions; owners become roles in portfolio.yaml. Every row that
cannot be imported is reported with its row number and why, and nothing that exists is
overwritten. What is written passes ``portfolio check``, with an import report beside it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field

from generator.check.status import action_status
from generator.errors import PortfolioError, Problem, Problems
from generator.load.link import Portfolio
from generator.load.sources import load_file
from generator.load.validate import validate
from generator.model import ID_PATTERN, Action, Model, Risk, Source, one_or_many
from generator.pipeline import load
from generator.render.xlsx import column_letter
from generator.tools.authoring import slugify
from generator.tools.guess import Guess, Guesser, regulations_named

Column = Literal[
    "finding",
    "action",
    "owner",
    "deadline",
    "risk",
    "progress",
    "closure_evidence",
    "status",
    "quality_statement",
    "key_question",
    "regulation",
    "source",
    "raised",
    "rag",
    "progress_date",
]


class ImportDefaults(Model):
    """Values for the fields a tracker does not have."""

    quality_statements: Annotated[list[str], BeforeValidator(one_or_many)] = Field(
        default_factory=list
    )
    source: Source | None = None
    risk: Risk | None = None
    intended_outcome: str | None = None


SYNONYMS: dict[str, list[str]] = {
    "finding": [
        "finding",
        "issue",
        "concern",
        "item to put right",
        "area for improvement",
        "requirement",
        "what needs to improve",
        "breach",
        "shortfall",
        "issue finding",
        "finding issue",
        "identified issue",
        "problem",
    ],
    "action": [
        "action",
        "actions",
        "action required",
        "actions required",
        "what we will do",
        "action to be taken",
        "actions to be taken",
        "improvement action",
    ],
    "owner": [
        "owner",
        "lead",
        "responsible",
        "responsible person",
        "who",
        "action owner",
        "by whom",
        "lead person",
        "person responsible",
        "assigned to",
    ],
    "deadline": [
        "deadline",
        "due",
        "due date",
        "target date",
        "by when",
        "completion date",
        "timescale",
        "date due",
        "target completion date",
    ],
    "risk": ["risk", "priority", "risk rating", "risk level", "severity"],
    "rag": ["rag", "rag rating", "rag status", "brag", "rating", "colour", "status colour"],
    "progress_date": [
        "date of update",
        "update date",
        "date updated",
        "last updated",
        "progress date",
        "date of last update",
        "date of progress",
    ],
    "progress": [
        "progress",
        "update",
        "updates",
        "comments",
        "progress update",
        "notes",
        "progress notes",
        "latest update",
    ],
    "closure_evidence": [
        "closure evidence",
        "evidence of action",
        "evidence",
        "evidence of completion",
        "how will we know",
        "evidence of closure",
        "evidence of improvement",
    ],
    "status": ["status", "state", "complete", "completed", "action status", "current status"],
    "quality_statement": [
        "quality statement",
        "statement",
        "cqc quality statement",
        "we statement",
        "quality statements",
    ],
    "key_question": [
        "key question",
        "kloe",
        "domain",
        "cqc domain",
        "key line of enquiry",
        "cqc key question",
        "section",
    ],
    "regulation": ["regulation", "reg", "regulations", "regulation breached"],
    "source": [
        "source",
        "origin",
        "raised from",
        "identified by",
        "identified through",
        "found by",
    ],
    "raised": ["date raised", "raised", "date identified", "date opened", "date found"],
}
# Fields that describe the finding, carried down to the rows below it when left blank.
CARRIED = ("finding", "quality_statement", "key_question", "regulation", "source", "risk", "raised")
MONTHS = {
    m.lower(): i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
JOB_WORDS = (
    "manager",
    "lead",
    "nurse",
    "coordinator",
    "co-ordinator",
    "officer",
    "director",
    "deputy",
    "senior",
    "head",
    "team",
    "carer",
    "administrator",
    "chef",
    "individual",
    "supervisor",
    "assistant",
    "housekeeper",
    "maintenance",
    "trainer",
    "rm",
    "dm",
)


#: Control characters that are not spacing, and the two code points no YAML file may hold: a
#: cell holding one is reported, never imported (by the import and by keeping in step alike).
CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufffe\uffff]")
_XLSX_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")  # Excel's "Unicode text" is saved as .txt


def read_map(path: Path) -> dict[str, Any]:
    """The settings of an import map file, checked; every problem raised together."""
    problems = Problems()
    source = load_file(path, path.name, path.as_posix(), "map", problems)
    checked = validate(ImportMap, source, problems) if source else None
    problems.raise_if_any()
    return checked.model_dump(exclude_none=True) if checked else {}


class ImportMap(Model):
    """A map file: what the spreadsheet's headers are, and values for what it lacks."""

    sheet: str | None = None
    header_row: int | None = Field(None, ge=1)
    date_order: Literal["dmy", "mdy"] | None = None
    id_prefix: Annotated[str, Field(pattern=ID_PATTERN)] | None = None
    columns: dict[Column, str] = Field(default_factory=dict)
    defaults: ImportDefaults = ImportDefaults()


@dataclass
class ImportReport:
    """What an import did, every row it could not import, and what the user should confirm."""

    concerns: list[str] = field(default_factory=list)
    actions: int = 0
    evidence: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    read_as: str | None = None  # how a text file was read, when not as UTF-8 with commas
    guesses: list[str] = field(default_factory=list)  # statements guessed, to confirm
    dates: list[str] = field(default_factory=list)  # vague deadlines, and how each was read
    undated: list[str] = field(default_factory=list)  # actions the tracker gave no date
    notes: list[str] = field(default_factory=list)  # progress notes the tracker did not date
    rag: list[str] = field(default_factory=list)  # the tracker's RAG against the derived colour
    owners: list[str] = field(default_factory=list)  # how owners were read as roles
    sections: list[str] = field(default_factory=list)  # section rows read as key questions
    risks: list[str] = field(default_factory=list)  # risk levels the tracker did not give
    report_file: Path | None = None
    #: How dates such as 04/05/2026 were read ("dmy", "mdy"; None: not settled, read day first
    #: and each reported), for the rows kept in step too.
    date_order: str | None = None
    #: The order settled by this import and written to portfolio.yaml for later imports.
    remembered: str | None = None
    #: portfolio.yaml as a dry run would leave it (None: unchanged): the roles it would add.
    settings: bytes | None = None
    #: Puts back every byte and folder the import wrote (nothing, before it wrote).
    put_back: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)

    def to_confirm(self) -> list[tuple[str, list[str]]]:
        """What the user should check, under headings, in the order they matter."""
        parts = [
            (
                "Quality statements guessed from the words of each finding (confirm or change "
                "quality_statements in each record; the words are in a comment beside each)",
                self.guesses,
            ),
            (
                "Actions with no due date in the tracker: each is due on the import day so that "
                "it shows as due now; set the real date",
                self.undated,
            ),
            (f"Deadlines read from words ({DATE_RULE})", self.dates),
            (
                "Progress notes with no date: kept in the record's body under 'Progress notes "
                "from the tracker', not as dated updates",
                self.notes,
            ),
            ("The tracker's RAG against the colour the build derives", self.rag),
            ("Owners read as roles", self.owners),
            ("Section rows read as key questions (not actions)", self.sections),
            ("Risk levels", self.risks),
        ]
        return [(title, lines) for title, lines in parts if lines]

    # rows whose finding is a concern already in the portfolio: concern id -> [(row, cells)]
    existing: dict[str, list[tuple[int | str, dict[str, Any]]]] = field(default_factory=dict)


SEPARATORS = {",": "comma", "\t": "tab", ";": "semicolon"}


@dataclass
class Table:
    """The cells of a tracker, and how a text file's bytes were read."""

    rows: list[list[Any]]
    encoding: str = "UTF-8"
    delimiter: str = ","
    # Where each row is, as the user would find it, when that is not "row N" of one sheet:
    # "table 2, row 3" of a Word file, "sheet 'Safe', row 12" of a workbook read whole.
    places: list[str] | None = None
    sheets: list[str] | None = None  # the sheets read, when a workbook's several were
    hidden_sheets: list[str] = field(default_factory=list)  # a workbook's, not read
    hidden_columns: set[int] = field(default_factory=set)  # a sheet's, from 0

    def place(self, index: int) -> str:
        """Where the row at ``index`` (from 0) is."""
        return self.places[index] if self.places else f"row {index + 1}"

    @property
    def guessed(self) -> bool:
        """Whether the encoding is the last resort, which reads any bytes, rightly or not."""
        return self.encoding == "Latin-1"

    def read_as(self, name: str) -> str | None:
        """What to tell the user about reading the file ``name``, unless it was UTF-8 CSV."""
        if self.sheets:
            named = ", ".join(repr(s) for s in self.sheets)
            return (
                f"Read the sheets {named} of {name} as one tracker (sheet: in a map file reads "
                "one alone)."
            )
        if self.encoding == "UTF-8" and self.delimiter == ",":
            return None
        said = f"Read {name} as {self.encoding}, {SEPARATORS[self.delimiter]}-separated"
        if self.guessed:
            return (
                f"{said}: it is neither UTF-8 nor Windows-1252, so check that accented letters "
                'and symbols came through (saving it from Excel as "CSV UTF-8" avoids the guess).'
            )
        return f"{said}."


def normalised(text: str) -> str:
    """Text lower-cased, with anything but letters and digits as single spaces."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def not_a_workbook(path: Path, why: str) -> PortfolioError:
    """The error for a workbook that cannot be read, with what to do about it."""
    message = (
        f"this is not a workbook Excel can open ({why}); save it again as .xlsx or export it as CSV"
    )
    return PortfolioError([Problem(path.as_posix(), 0, message)])


def read_table(
    path: Path, sheet: str | None = None, columns: dict[str, str] | None = None
) -> Table:
    """The cells of a CSV file or an XLSX sheet, merged cells filled from their first cell.

    ``columns`` (a map file's headers) help to tell which separator a text file uses.
    """
    if path.suffix.lower() in TEXT_SUFFIXES:
        text, encoding = _decode(path)
        rows, delimiter = _split(path, text, columns or {})
        return Table(rows, encoding, delimiter)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, data_only=True)
        except Exception as exc:  # openpyxl raises zip, XML and key errors for damaged files
            raise not_a_workbook(path, type(exc).__name__) from None
        if not book.worksheets:
            raise not_a_workbook(path, "it holds no sheet")
        if sheet is not None and sheet not in book.sheetnames:
            raise PortfolioError(
                [
                    Problem(
                        path.as_posix(),
                        0,
                        f"no sheet named {sheet!r}; the sheets are {', '.join(book.sheetnames)}",
                    )
                ]
            )
        if sheet is not None:  # a sheet named in a map file is read, hidden or not
            return Table(_sheet_rows(book[sheet]), hidden_columns=_hidden_columns(book[sheet]))
        # Hidden sheets (an archive, the lists a drop-down reads) are not the tracker.
        visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"] or [
            book.worksheets[0]
        ]
        hidden = [ws.title for ws in book.worksheets if ws not in visible]
        if len(visible) == 1:
            return Table(
                _sheet_rows(visible[0]),
                hidden_sheets=hidden,
                hidden_columns=_hidden_columns(visible[0]),
            )
        # Several sheets (one per key question, say): those with the tracker's header are read
        # as one, each sheet's name a possible section heading.
        blocks: list[tuple[str, list[list[Any]]] | str] = []
        titles: dict[str, str] = {}
        for ws in visible:
            label = f"sheet {_cell(ws.title)!r}, "
            titles[label] = ws.title
            blocks += [ws.title, (label, _sheet_rows(ws))]
        combined, places, used = _combine(blocks, columns or {}, continuation=False)
        if combined is None:  # the error comes with the header
            return Table(_sheet_rows(visible[0]), hidden_sheets=hidden)
        if len(used) == 1:
            ws = book[titles[used[0]]]
            return Table(_sheet_rows(ws), hidden_sheets=hidden, hidden_columns=_hidden_columns(ws))
        return Table(
            combined, places=places, sheets=[titles[u] for u in used], hidden_sheets=hidden
        )
    if path.suffix.lower() in (".docx", ".docm"):
        rows, places = read_docx(path, columns or {})
        return Table(rows, places=places)
    if path.suffix.lower() in (".doc", ".xls", ".odt", ".ods", ".pdf"):
        what = "Word" if path.suffix.lower() in (".doc", ".odt") else "the spreadsheet"
        keep = ".docx" if what == "Word" else ".xlsx"
        message = (
            f"import cannot read {path.suffix} files: open it in {what} program and save it as "
            f"{keep}" + (" (or export the table as CSV)" if what != "Word" else "")
        )
        if path.suffix.lower() == ".pdf":
            message = (
                "import cannot read PDF files: import the Word or Excel file the PDF was made from"
            )
        raise PortfolioError([Problem(path.as_posix(), 0, message)])
    raise PortfolioError(
        [
            Problem(
                path.as_posix(),
                0,
                "import reads .csv (or tab-separated .txt and .tsv), .xlsx and Word .docx "
                "files; save the tracker in one of those formats",
            )
        ]
    )


class Paragraph(str):
    """The text of a Word paragraph between tables, put among the rows: a section row when it
    names a key question, passed over quietly when it does not."""


# A Word file whose text unpacks past this is refused (a real action plan is far smaller).
DOCX_MAX_BYTES = 64 * 1024 * 1024


def read_docx(
    path: Path, columns: dict[str, str] | None = None
) -> tuple[list[list[Any]], list[str]]:
    """The rows of a Word action plan's tables, as one table.

    Merged cells give their text to every cell they cover. The first table with a header row
    sets the columns; a later table with a header of its own is laid out by its headers into
    those columns, and one without (a table carried on after a page break) is taken as it
    is. A heading or paragraph between tables that names a key question ("SAFE", "Key
    question: Effective") becomes a section row, as it would be in a spreadsheet.
    """
    import zipfile

    def unreadable(why: str) -> PortfolioError:
        return PortfolioError(
            [
                Problem(
                    path.as_posix(),
                    0,
                    f"this is not a Word document that can be read ({why}); open it in Word, "
                    "save it again as .docx and import again",
                )
            ]
        )

    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise unreadable("it has no document inside")
    except zipfile.BadZipFile:
        raise unreadable("it is not a .docx file, or it is damaged") from None
    except OSError as exc:
        raise unreadable(type(exc).__name__) from None
    if total > DOCX_MAX_BYTES:
        raise unreadable(f"it unpacks to {total // (1024 * 1024)} MB")
    from docx import Document
    from docx.table import Table as DocxTable

    try:
        document = Document(str(path))
        blocks: list[tuple[str, list[list[Any]]] | str] = []
        for block in document.iter_inner_content():
            if isinstance(block, DocxTable):
                number = sum(1 for b in blocks if not isinstance(b, str)) + 1
                cells = [[cell.text for cell in row.cells] for row in block.rows]
                blocks.append((f"table {number}, ", cells))
            elif block.text.strip():
                blocks.append(block.text)
    except Exception as exc:  # python-docx raises XML, key and value errors for damaged files
        raise unreadable(type(exc).__name__) from None
    rows, places, _used = _combine(blocks, columns or {}, continuation=True)
    if rows is None:
        raise PortfolioError(
            [
                Problem(
                    path.as_posix(),
                    0,
                    "no table with a header row found: the action plan needs a table with "
                    "columns such as 'Finding', 'Action', 'Owner' and 'Deadline'",
                )
            ]
        )
    return rows, places


def _combine(
    blocks: list[tuple[str, list[list[Any]]] | str],
    columns: dict[str, str],
    continuation: bool,
) -> tuple[list[list[Any]] | None, list[str], list[str]]:
    """Tables (a Word file's, or a workbook's sheets) as one: the rows, where each row came
    from, and the names of the tables used (None for the rows when no table has a header).

    Each block is a heading (text) or a table: (what to call it, its rows). The first table
    with a header row sets the columns; a later one with a header of its own is laid out by
    its headers into those columns; one without is taken as it is (a Word table carried on
    after a page break) where ``continuation``, else left out. The headings just above a
    table are put before its rows, to be read as section rows where they name a key question.
    """
    rows: list[list[Any]] = []
    places: list[str] = []
    used: list[str] = []
    layout: list[Any] | None = None  # the header row that sets the columns
    pending: list[str] = []  # headings since the last table
    for part in blocks:
        if isinstance(part, str):
            pending.append(part)
            continue
        name, table = part
        header_at = next(
            (i for i, row in enumerate(table[:15]) if len(match_headers(row, columns)) >= 2),
            None,
        )
        start = 0
        if header_at is not None and layout is not None:
            wanted = match_headers(layout, columns)
            have = match_headers(table[header_at], columns)
            start = header_at + 1
            body = [_relaid(row, have, wanted, len(layout)) for row in table[start:]]
        elif header_at is not None:
            layout = table[header_at]
            rows.extend(table[: header_at + 1])  # the header, and any title row above it
            places.extend(f"{name}row {n}" for n in range(1, header_at + 2))
            start = header_at + 1
            body = table[start:]
        elif layout is None or not continuation:
            pending.clear()  # a table that is not the tracker's (a cover sheet, say)
            continue
        else:
            body = table
        used.append(name)
        rows.extend([Paragraph(text)] for text in pending)
        where = name.rstrip(", ")
        heading = (
            f"the name of {where}" if where.startswith("sheet ") else f"the heading above {where}"
        )
        places.extend(heading for _ in pending)
        pending.clear()
        rows.extend(body)
        places.extend(f"{name}row {n}" for n in range(start + 1, start + len(body) + 1))
    return (rows if layout is not None else None), places, used


def _relaid(row: list[Any], have: dict[str, int], wanted: dict[str, int], width: int) -> list[Any]:
    """A row of a later table, its cells moved to the columns of the first table's header."""
    out: list[Any] = [None] * width
    for name, index in have.items():
        if name in wanted and index < len(row):
            out[wanted[name]] = row[index]
    return out


def _decode(path: Path) -> tuple[str, str]:
    """The text of a tracker saved as text, and the name of the encoding it was read in.

    Excel saves "CSV UTF-8" (with a byte-order mark), "Unicode text" (UTF-16, with one) and, on
    Windows, "CSV" in Windows-1252; Latin-1, which reads any bytes, is the last resort.
    """
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as exc:
            message = (
                f"starts as UTF-16 text, but its bytes from {exc.start} on are not; the file "
                'may be cut short: save the tracker from Excel again (as "CSV UTF-8") and import '
                "again"
            )
            raise PortfolioError([Problem(path.as_posix(), 0, message)]) from None
    for codec, name in (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "Latin-1"


def _split(path: Path, text: str, columns: dict[str, str]) -> tuple[list[list[Any]], str]:
    """The rows of a text tracker, and its separator: the one of comma, tab and semicolon whose
    rows hold the most headers the import knows, then the most filled cells."""
    best: tuple[tuple[int, int], list[list[Any]], str] | None = None
    failure: tuple[int, str] | None = None
    for delimiter in SEPARATORS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            rows: list[list[Any]] = [list(row) for row in reader]
        except csv.Error as exc:
            failure = failure or (reader.line_num, str(exc))
            continue
        head = rows[:15]
        score = (
            max((len(match_headers(row, columns)) for row in head), default=0),
            max((sum(1 for cell in row if cell.strip()) for row in head), default=0),
        )
        if best is None or score > best[0]:
            best = (score, rows, delimiter)
    if best is None:
        line, reason = failure or (0, "unreadable")
        message = (
            f"cannot be read as CSV ({reason}); check this line's cells in Excel, save the "
            "tracker again and import again"
        )
        raise PortfolioError([Problem(path.as_posix(), line, message)])
    return best[1], best[2]


def _sheet_rows(ws: Any) -> list[list[Any]]:
    """The cells of a worksheet, merged cells filled from their first cell."""
    rows = [[_xlsx_value(c) for c in row] for row in ws.iter_rows()]
    for merged in ws.merged_cells.ranges:
        value = rows[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                rows[r - 1][c - 1] = value
    return rows


def _hidden_columns(ws: Any) -> set[int]:
    """The hidden columns of a worksheet, from 0."""
    from openpyxl.utils import column_index_from_string

    hidden: set[int] = set()
    for key, dimension in ws.column_dimensions.items():
        if dimension.hidden:
            low = dimension.min or column_index_from_string(key)
            high = dimension.max or low
            hidden.update(range(low - 1, high))
    return hidden


def _xlsx_value(cell: Any) -> Any:
    """A workbook cell's value; a date shown as a month alone ("mmm-yy", "mmmm yyyy") is that
    month in words, so that it is read as the month's last day, as a deadline in words is."""
    value = cell.value
    if isinstance(value, datetime):
        shown = re.sub(r'"[^"]*"|\[[^]]*\]', "", str(getattr(cell, "number_format", ""))).lower()
        if "m" in shown and "y" in shown and "d" not in shown and "h" not in shown:
            return f"{value:%B %Y}"
    return _unescape(value)


def _unescape(value: Any) -> Any:
    return unescape_cell(value) if isinstance(value, str) else value


def unescape_cell(text: str) -> str:
    """A workbook's text as Excel shows it: the file keeps a control character as _xHHHH_,
    which openpyxl leaves as it is."""
    return _XLSX_ESCAPE.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    # Half of a surrogate pair is no character on its own: the text is kept as written.
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)


def hidden_characters(
    source: Path,
    rows: list[list[Any]],
    header_at: int,
    columns: dict[str, int],
    guessed: bool,
    place: Callable[[int], str] = lambda index: f"row {index + 1}",
) -> list[Problem]:
    """Every cell the import reads that holds an invisible control character, by row and column.

    Tabs, line breaks and other spacing characters are not among them: they become spaces.
    """
    problems = []
    header = rows[header_at]
    for number, row in enumerate(rows[header_at + 1 :], start=header_at + 1):
        for index in sorted(set(columns.values())):
            value = row[index] if index < len(row) else None
            if not isinstance(value, str):
                continue
            found = [(m.start() + 1, m.group()) for m in CONTROL.finditer(value)]
            if found:
                where = f'{place(number)}, column "{_cell(CONTROL.sub("", _cell(header[index])))}"'
                message = f"{where}: {_hidden(found, guessed)}"
                problems.append(Problem(source.as_posix(), 0, message))
    return problems


def _hidden(found: list[tuple[int, str]], guessed: bool) -> str:
    """What is wrong with a cell holding the control characters ``found``, and what to do.

    In a file read as Latin-1 (``guessed``), they are more likely letters of another encoding.
    """
    if len(found) == 1:
        at, char = found[0]
        what, it = f"an invisible control character (U+{ord(char):04X}) at character {at}", "it"
    else:
        named = [f"U+{ord(char):04X} at character {at}" for at, char in found[:3]]
        if len(found) > 3:
            named[-1] += f" and {len(found) - 3} more"
        what, it = f"{len(found)} invisible control characters ({', '.join(named)})", "them"
    if guessed:
        these = "this may be a letter" if len(found) == 1 else "these may be letters"
        return (
            f"holds {what}; the file is neither UTF-8 nor Windows-1252 text, so {these} read "
            'wrongly: save the tracker from Excel as "CSV UTF-8" and import again, or retype the '
            "text"
        )
    # Excel's CLEAN function removes the first 32 character codes, and no others.
    clean = ", or use Excel's CLEAN function" if all(ord(c) < 32 for _, c in found) else ""
    return f"holds {what}; delete {it} (retype the text{clean}) and import again"


def _cell(value: Any) -> str:
    return cell_text(value)


def cell_text(value: Any, lines: bool = False) -> str:
    """A cell as text: a date as YYYY-MM-DD, a whole number without ".0", spaces run together;
    with ``lines``, its line breaks kept (as "\n") and only its ends trimmed."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if lines:
        return cell_lines(str(value))
    return " ".join(str(value).split())


def cell_lines(text: str) -> str:
    """A cell's text with every kind of line break as a line feed (Windows' CR LF, Word's line
    break, which Excel keeps as a vertical tab, a form feed, a Unicode line separator), any
    other spacing control character as a space, and its ends trimmed."""
    return "\n".join(text.splitlines()).replace("\x1f", " ").strip()


#: Words of a header that make its column the one to read when two columns could be one field
#: ("Revised target date" over "Original target date"), and those that make it the other.
#: The field of the original deadline column, when a revised one is read as the deadline.
ORIGINAL = "original_deadline"
LATER = {"revised", "new", "current", "latest", "updated", "amended", "extended", "agreed"}
EARLIER = {"original", "initial", "old", "first", "previous"}
#: The fields of deadline columns between the original and the latest ("Revised deadline" beside
#: "Deadline" and "Second revised deadline"): REVISED + "1", "2", ... by their rank.
REVISED = "revised_deadline_"
#: Words numbering deadline columns of one kind ("Second revised deadline", "Revised date 2").
ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
            "4th": 4, "fifth": 5, "5th": 5, "final": 99, "last": 99}  # fmt: skip


def _deadline_rank(header: str, position: int) -> tuple[int, int, int]:
    """Where a deadline column comes among several: one named original before one named
    neither way, before one named revised (new, agreed...); then by its number ("Second
    revised", "Revised date 2"); then by its place."""
    words = header.split()
    later = bool(set(words) & LATER)
    named = 2 if later else 0 if set(words) & EARLIER else 1
    numbers = [ORDINALS[w] for w in words if w in ORDINALS and (later or w not in EARLIER)]
    numbers += [int(w) for w in words if w.isdigit() and len(w) < 3]
    return (named, min(numbers, default=0), position)


#: Words that make a header of "date" alone a deadline column: "Revised date", "Original date"
#: (but "Updated date", "Agreed date", "First date", "Date last updated" are dates of
#: something else, never deadlines).
DEADLINE_KINDS = {"revised", "new", "original", "initial", "extended", "amended"}


def _is_deadline_date(header: str) -> bool:
    """Whether a normalised header is "date" with words saying which deadline it is ("Revised
    date 2", "Second revised date", "Original date") and no other words."""
    words = header.split()
    others = [w for w in words if w != "date"]
    # "New date agreed", "Revised date agreed": agreed says no more than the kind beside it
    # (but "Agreed date" alone is the day something was agreed).
    agreed = {"agreed"} if set(others) & NEW_DEADLINE else set()
    return (
        len(others) == len(words) - 1
        and any(w in DEADLINE_KINDS for w in others)
        and all(w in DEADLINE_KINDS | agreed or w in ORDINALS or w.isdigit() for w in others)
    )


#: Words of a header that say its dates are a new deadline.
NEW_DEADLINE = frozenset({"revised", "new", "extended", "amended"})
_LOOKS_DATED = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")


def unread_new_dates(
    header: list[Any], rows: list[list[Any]], columns: dict[str, int]
) -> list[str]:
    """A warning for each column the import does not read whose header names a new deadline
    ("New date (if extended)") and whose cells hold dates: such dates are never dropped
    unsaid."""
    read = set(columns.values())
    warnings = []
    for index, cell in enumerate(header):
        words = set(normalised(_cell(cell)).split())
        if index in read or not words & NEW_DEADLINE:
            continue
        values = [row[index] for row in rows if index < len(row)]
        if any(isinstance(v, date) or _LOOKS_DATED.search(_cell(v)) is not None for v in values):
            warnings.append(
                f"the column {_cell(cell)!r} (column {column_letter(index)}) holds "
                "dates and its header names a new date, but import does not read it as a "
                'deadline: if it holds revised deadlines, name it "Revised deadline" (or in a '
                "map file: columns: {deadline: <header>}) and import again"
            )
    return warnings


def deadline_fields(columns: Collection[str]) -> list[str]:
    """The deadline columns found, as fields, in the order their dates come: the original, any
    revised between, the latest (``deadline``)."""
    between = sorted(
        (f for f in columns if f.startswith(REVISED)), key=lambda f: int(f[len(REVISED) :])
    )
    return [f for f in (ORIGINAL, *between, "deadline") if f in columns]


def match_headers(
    row: list[Any],
    overrides: dict[str, str],
    hidden: Collection[int] = (),
    notes: list[str] | None = None,
) -> dict[str, int]:
    """Which column holds each known field, by the header's words.

    When several columns could hold one field, a visible column is read before one ``hidden``,
    then one named revised (new, current, latest) before one named original (initial); when
    that does not settle it, the first; ``notes`` is told which was read, and of which.
    """
    found: dict[str, int] = {}
    headers = [normalised(_cell(c)) for c in row]
    for wanted, header in overrides.items():
        if normalised(header) in headers:
            found[wanted] = headers.index(normalised(header))
    lookup = {syn: name for name, syns in SYNONYMS.items() for syn in syns}
    candidates: dict[str, list[int]] = {}
    #: how closely each header names its field: 3 a synonym (but for words such as "revised"),
    #: 2 a near spelling, 1 a synonym among other words ("Date completed")
    quality: dict[int, int] = {}
    for index, header in enumerate(headers):
        if not header or index in found.values():
            continue
        plain = " ".join(w for w in header.split() if w not in LATER | EARLIER)
        name, quality[index] = lookup.get(header) or lookup.get(plain), 3
        bare = [w for w in plain.split() if w not in ORDINALS and not w.isdigit()]
        if name is None and _is_deadline_date(header):
            name = "deadline"  # "Revised date", "Revised date 2", "Original date"
        elif name is None and bare != plain.split():
            name = lookup.get(" ".join(bare))  # "Second revised deadline", "Deadline 2"
        if name is None:
            close = difflib.get_close_matches(header, list(lookup), n=1, cutoff=0.86)
            name, quality[index] = (lookup[close[0]] if close else None), 2
        if name is None:
            words = set(header.split())
            within = [
                syn
                for syn, candidate in lookup.items()
                if len(syn) > 3
                and set(syn.split()) <= words
                and ("date" not in words or "date" in syn or candidate in DATE_COLUMNS)
            ]  # a date column of another field ("Date completed") holds no status
            longest = max(within, key=lambda syn: len(syn.split()), default=None)
            name, quality[index] = (lookup[longest] if longest else None), 1
        if name is not None and name not in found:
            candidates.setdefault(name, []).append(index)

    def preferred(index: int) -> tuple[int, int, int]:
        words = set(headers[index].split())
        later = bool(words & LATER) - bool(words & EARLIER)
        return (index not in hidden, quality[index], later)

    for name, indexes in candidates.items():
        # One header cell merged across columns fills each of them with its text: one column.
        indexes = [i for i in indexes if not (i - 1 in indexes and row[i] == row[i - 1])]
        best = max(indexes, key=preferred)  # the first of the best
        found[name] = best
        if name == "deadline" and best not in hidden:
            # "Original" beside "Revised": the original is read in a row whose revised cell
            # is blank, and is the due date of a row where both hold dates (the revised one
            # then its extension).
            # Several: each row is due on the date of the first by rank that holds one, each
            # later date that differs its extension, in order ("Deadline", "Revised deadline",
            # "Second revised deadline").
            alike = [
                i for i in indexes if i not in hidden and preferred(i)[:2] == preferred(best)[:2]
            ]
            ranks = {i: _deadline_rank(headers[i], i) for i in alike}
            if len(alike) > 1 and len({r[:2] for r in ranks.values()}) > 1:
                ranked = sorted(alike, key=ranks.__getitem__)
                found[ORIGINAL], best = ranked[0], ranked[-1]
                found[name] = best
                for n, i in enumerate(ranked[1:-1], 1):
                    found[f"{REVISED}{n}"] = i
        if len(indexes) > 1 and notes is not None:
            texts = [normalised(_cell(row[i])) for i in indexes]
            named = ", ".join(
                repr(_cell(row[i]))
                + (f" (column {column_letter(i)})" if texts.count(texts[n]) > 1 else "")
                + (" (hidden)" if i in hidden else "")
                for n, i in enumerate(indexes)
            )
            tied = [i for i in indexes if preferred(i) == preferred(best)]
            why = (
                "the first of them; if another is meant, name it in a map file: "
                f"columns: {{{name}: <header>}}"
                if len(tied) > 1
                else "as the "
                + (
                    "visible one"
                    if best not in hidden and any(i in hidden for i in indexes)
                    else "latest by its name"
                    if all(preferred(i)[1] == preferred(best)[1] for i in indexes)
                    else "one its header names"
                )
            )
            if name == "deadline" and ORIGINAL in found:
                order = [_cell(row[found[f]]) for f in deadline_fields(found)]
                why = (
                    "as the latest by its name; each row is due on the first date of "
                    + ", ".join(repr(o) for o in order)
                    + " it holds, and a later date that differs is its extension"
                )
            notes.append(
                f"the columns {named} could each be the {name.replace('_', ' ')}: read "
                f"{_cell(row[best])!r}, {why}"
            )
    return dict(sorted(found.items(), key=lambda item: item[1]))


#: The columns of a tracker that hold dates: all of them settle which way 04/05/2026 is read.
DATE_COLUMNS = ("deadline", "original_deadline", "raised", "progress_date",
                *(f"{REVISED}{n}" for n in range(1, 10)))  # fmt: skip


def settle_order(
    rows: list[list[Any]], columns: dict[str, int], mapping: Mapping[str, Any], portfolio: Portfolio
) -> DateReader:
    """The reader of a tracker's dates, its day/month order settled once for the whole tracker
    (the rows it imports and the rows it keeps in step alike): as the map file gives it, else
    as portfolio.yaml remembers it from the import that first settled it, else by a date in
    any date column that reads one way only (25/03/2026, 03/25/2026)."""
    given = mapping.get("date_order") or portfolio.settings.tracker_date_order
    return read_dates(rows, columns, str(given) if given else None)


def read_dates(rows: list[list[Any]], columns: dict[str, int], given: str | None) -> DateReader:
    """The reader of a table's dates: in the order ``given`` ("dmy", "mdy"), else in the order
    a date of any of its date columns settles by reading one way only."""
    dates = DateReader(given)
    dates.learn(
        [
            _cell(row[columns[name]])
            for name in DATE_COLUMNS
            if name in columns
            for row in rows
            if columns[name] < len(row)
        ]
    )
    return dates


class DateReader:
    """Reads dates in ISO, UK numeric, written-out and Excel forms, noting ambiguity."""

    def __init__(self, order: str | None) -> None:
        self.order = order  # "dmy" or "mdy", or None to decide from the data
        self.two_ways = False  # a date that reads two ways was read day first, unsettled

    def learn(self, values: list[str]) -> None:
        """Settle day/month order from dates that can only be read one way."""
        if self.order:
            return
        for value in values:
            match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", value)
            if match:
                first, second = int(match.group(1)), int(match.group(2))
                if first > 12:
                    self.order = "dmy"
                    return
                if second > 12:
                    self.order = "mdy"
                    return

    def example(self) -> str:
        """How to write 31 January 2026 so that this reader reads it."""
        if self.order is None:
            return "31/01/2026 or 2026-01-31"
        first, example = ("month", "01/31/2026") if self.order == "mdy" else ("day", "31/01/2026")
        return (
            f"{example} (this tracker's dates are read {first} first, as its other dates, "
            "tracker_date_order in portfolio.yaml or date_order in a map file settled) or "
            "2026-01-31"
        )

    def read(self, raw: Any) -> tuple[date | None, str | None]:
        """(date, warning) for a cell; (None, None) when it is not a date."""
        if isinstance(raw, datetime):
            return raw.date(), None
        if isinstance(raw, date):
            return raw, None
        if isinstance(raw, int | float) and not isinstance(raw, bool) and 20000 < raw < 80000:
            return date(1899, 12, 30) + timedelta(days=int(raw)), None  # an Excel serial date
        text = _cell(raw)
        if not text:
            return None, None
        if text.isdigit() and 20000 < int(text) < 80000:
            return date(1899, 12, 30) + timedelta(days=int(text)), None  # a serial, as text
        try:
            return date.fromisoformat(text[:10]), None
        except ValueError:
            pass
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", text)
        if match:
            a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
            year += 2000 if year < 100 else 0
            order = self.order or "dmy"
            day, month = (a, b) if order == "dmy" else (b, a)
            try:
                value = date(year, month, day)
            except ValueError:
                return None, None
            warning = None
            if self.order is None and a <= 12 and b <= 12 and a != b:
                self.two_ways = True
                warning = (
                    f"{text!r} read as {value:%d %B %Y} (day/month); if it meant "
                    f"{date(year, a, b):%d %B %Y}, write {date(year, a, b).isoformat()}"
                )
            return value, warning
        match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})", text)
        if match:
            named = _month(match.group(2))
            if named:
                try:
                    return date(int(match.group(3)), named, int(match.group(1))), None
                except ValueError:
                    return None, None
        match = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
        if match:
            named = _month(match.group(1))
            if named:
                try:
                    return date(int(match.group(3)), named, int(match.group(2))), None
                except ValueError:
                    return None, None
        return None, None


DATE_RULE = (
    "a month alone, or 'end of' a month, is its last day ('30th Nov', with a day, is that "
    "day); 'mid' a month its 15th, 'start of' a month its 1st; a date or month with no year is "
    "the one nearest the import day; 'Jan-27' is January 2027, as Excel shows a month and "
    "year; 'w/c 12/01' is the Sunday that ends that week; 'Q1 2027' the last day of that "
    "calendar quarter (Q1 ends 31 March)"
)
# Deadlines that are not dates: the action has no due date in the tracker.
UNDATED = re.compile(
    r"(tbc|tba|tbd|tbconfirmed|to be (confirmed|agreed|decided|arranged)|ongoing|on going|"
    r"continuous|continual|rolling|n a|na|none|not applicable|as (and when )?required|"
    r"when required|monthly|weekly|daily|fortnightly|quarterly|annually|yearly|every shift|"
    r"per shift|asap|as soon as possible|immediate|immediately|urgent|now|[?]+|-+|x)"
)
CADENCES = {
    "monthly": "monthly",
    "weekly": "weekly",
    "daily": "daily",
    "fortnightly": "fortnightly",
    "quarterly": "quarterly",
    "every shift": "per-shift",
    "per shift": "per-shift",
}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"


def _nearest(candidates: list[date], near: date) -> date:
    """The candidate nearest ``near`` (the later one on a tie)."""
    return min(candidates, key=lambda d: (abs((d - near).days), -d.toordinal()))


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def vague_date(text: str, near: date, order: str | None) -> date | None:
    """A deadline written in words ("end of Nov", "Jan-27", "w/c 12/01", "Q1 2027", "12/11"),
    read by DATE_RULE with ``near`` (the import day) as the context; None when it is not one."""
    words = " ".join(re.sub(r"[^a-z0-9/]+", " ", text.lower()).split())
    words = re.sub(r"^(by|before|due|no later than|deadline|target|complete by|w ?e)\s+", "", words)
    match = re.fullmatch(r"q([1-4])\s*(?:of\s+)?(\d{4}|\d{2})?", words) or re.fullmatch(
        r"(?:quarter\s+)([1-4])\s*(\d{4}|\d{2})?", words
    )
    if match:
        quarter = int(match.group(1))
        ends = [_month_end(year, quarter * 3) for year in _years(match.group(2), near)]
        return _nearest(ends, near)
    match = re.fullmatch(r"w ?/? ?c\s+(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?", words)
    if match:
        start = _day_month(match.group(1), match.group(2), match.group(3), near, order)
        return start + timedelta(days=6 - start.weekday()) if start else None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})", words)
    if match:
        return _day_month(match.group(1), match.group(2), None, near, order)
    day_first = re.fullmatch(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}", words)
    month_first = re.fullmatch(rf"{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)", words)
    if day_first or month_first:
        day_text, month_text = (
            (day_first.group(1), day_first.group(2))
            if day_first
            else (month_first.group(2), month_first.group(1))  # type: ignore[union-attr]
        )
        named = _month(month_text)
        return _day_month(day_text, str(named), None, near, "dmy") if named else None
    match = re.fullmatch(
        rf"(?:(end|by the end|the end|late|mid|middle|start|beginning|early)\s+(?:of\s+)?)?"
        rf"{_MONTH}(?:\s+(\d{{4}}|\d{{2}}))?",
        words,
    )
    if match is None:
        return None
    month = _month(match.group(2))
    if month is None:
        return None
    which = match.group(1) or "end"
    options = []
    for year in _years(match.group(3), near):
        if which in ("mid", "middle"):
            options.append(date(year, month, 15))
        elif which in ("start", "beginning", "early"):
            options.append(date(year, month, 1))
        else:
            options.append(_month_end(year, month))
    return _nearest(options, near)


def _years(text: str | None, near: date) -> list[int]:
    if text:
        year = int(text)
        return [year + 2000 if year < 100 else year]
    return [near.year - 1, near.year, near.year + 1]


def _day_month(
    first: str, second: str, year: str | None, near: date, order: str | None
) -> date | None:
    a, b = int(first), int(second)
    day, month = (b, a) if order == "mdy" else (a, b)
    options = []
    for y in _years(year, near):
        with contextlib.suppress(ValueError):
            options.append(date(y, month, day))
    return _nearest(options, near) if options else None


#: A date with no year at the start of a progress note ("12/11 - chased", "12 Nov: chased").
_NO_YEAR = re.compile(
    rf"\s*(?:\d{{1,2}}[/.]\d{{1,2}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH})(?![/.]?\d|\s+\d{{4}})",
    re.IGNORECASE,
)


def has_no_year(text: str) -> bool:
    """Whether the date at the start of a progress note gives no year ("12/11 - chased
    pharmacy"): read against the day of the import, so another import's day may read another."""
    return _NO_YEAR.match(text) is not None


def note_date(text: str, near: date, order: str | None) -> tuple[date, str] | None:
    """A date at the start of a progress note ("12/11 - chased pharmacy"), and the rest of the
    note; a date with no year is the latest on or before ``near`` (a note is written after
    what it tells)."""
    match = re.match(
        r"\s*(\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{4}-\d{2}-\d{2}|"
        rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+\d{{4}})?)\s*[-\u2013\u2014:,]?\s+(\S.*)$",
        text,
        re.IGNORECASE | re.DOTALL,
    )
    if match is None:
        return None
    raw, rest = match.group(1), match.group(match.lastindex or 2)
    when: date | None = None
    with contextlib.suppress(ValueError):
        when = date.fromisoformat(raw)
    if when is None:
        parts = re.match(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2,4}))?$", raw)
        if parts:
            a, b = int(parts.group(1)), int(parts.group(2))
            day, month = (b, a) if order == "mdy" else (a, b)
            year = parts.group(3)
        else:
            named = re.match(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?", raw, re.I)
            if named is None or _month(named.group(2)) is None:
                return None
            day, month, year = int(named.group(1)), _month(named.group(2)) or 0, named.group(3)
        if year:
            full = int(year) + (2000 if int(year) < 100 else 0)
            with contextlib.suppress(ValueError):
                when = date(full, month, day)
        else:
            for y in (near.year, near.year - 1):
                with contextlib.suppress(ValueError):
                    candidate = date(y, month, day)
                    if candidate <= near:
                        when = candidate
                        break
    return (when, rest.strip()) if when else None


def _month(word: str) -> int | None:
    word = word.lower()
    for name, number in MONTHS.items():
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def _risk(text: str, default: str) -> str:
    words = normalised(text)
    if re.search(r"\b(red|high|r)\b", words):
        return "high"
    if re.search(r"\b(amber|medium|med|a|moderate)\b", words):
        return "medium"
    if re.search(r"\b(green|low|g)\b", words):
        return "low"
    return default


#: What people type in a status cell, normalised, and the status it means.
STATUS_WORDS = {
    "planned": "planned",
    "not started": "planned",
    "not yet started": "planned",
    "to do": "planned",
    "todo": "planned",
    "pending": "planned",
    "open": "planned",
    "scheduled": "planned",
    "in progress": "in-progress",
    "inprogress": "in-progress",
    "ongoing": "in-progress",
    "on going": "in-progress",
    "started": "in-progress",
    "underway": "in-progress",
    "under way": "in-progress",
    "progressing": "in-progress",
    "on track": "in-progress",
    "partially complete": "in-progress",
    "partly complete": "in-progress",
    "part complete": "in-progress",
    "partially met": "in-progress",
    "wip": "in-progress",
    "complete": "completed",
    "completed": "completed",
    "done": "completed",
    "finished": "completed",
    "achieved": "completed",
    "met": "completed",
    "fully met": "completed",
    "yes": "completed",
    "closed": "closed",
    "signed off": "closed",
    "closed off": "closed",
}
_TICKS = frozenset("\u2713\u2714\u2611\u2705")  # ✓ ✔ ☑ ✅
#: Status words read loosely, in this order: a word that says the work is not done, or only part
#: done, wins over "complete" ("Partially complete", "Nearly done").
STATUS_PATTERNS = (
    ("planned", r"\b(outstanding|to do|todo|pending|scheduled)\b"),
    ("in-progress", r"\b(partially|partly|part|nearly|almost|mostly)\b"),
    ("closed", r"\b(closed|signed off|closed off)\b"),
    ("completed", r"\b(complete|completed|done|yes|achieved|finished|met)\b"),
    (
        "in-progress",
        r"\b(progress|in hand|ongoing|on going|started|underway|under way|progressing|"
        r"on track|wip)\b",
    ),
    ("planned", r"\b(open|planned|not yet)\b"),
)
#: Words that say what follows them has not happened ("Not closed", "To be completed", "Awaiting
#: sign off", "Yet to start"), and the status words they may go before, with a few words between
#: ("Not yet fully complete"); each such word, by the stage it would mean.
NEGATION = re.compile(
    r"\b(?:not|never|to be|awaiting|await|awaits|waiting for|until|pending|yet to|still to|"
    r"needs|need)\b((?: [a-z0-9]+){0,3}?) "
    r"(signed off|sign off|signing off|sign|signed|closed off|closed|close|closure|complete|"
    r"completed|completion|done|finished|finish|achieved|met|start|started|begun|begin)\b"
)
NEGATED = {
    "started": ("start", "started", "begun", "begin"),
    "closed": ("signed off", "sign off", "signing off", "sign", "signed", "closed off", "closed",
               "close", "closure"),
}  # fmt: skip


#: Words of intent before a completion word: the work is meant to be done, not done yet ("Will
#: be completed by March", "Due to complete", "Aim to finish", "Target completion March").
INTENT = re.compile(
    r"\b(?:will|would|should|shall|due to|due for|aim to|aiming to|aim for|plan to|planning to|"
    r"planned to|intend to|hope to|expected to|expect to|going to|to|target|targeted|targeting|"
    r"by)\b((?: (?:be|have|get|being|been|fully|all|this|it|the)){0,2}?) "
    r"(signed off|sign off|closed|close|closure|complete|completed|completion|done|finished|"
    r"finish)\b"
)
#: A completion word with a time after it, which says when the work is meant to be done:
#: "Complete by March", "Finish by end of Q1", "Completed by next week" (but "Completed by RM"
#: and "Done by 12/11" say who or when it was done).
DUE_BY = re.compile(
    r"\b(signed off|sign off|close|closure|complete|completion|finish|completed|finished|done)"
    r" by ((?:the )?(?:end|mid|early|late|next|beginning|start|[a-z]+day|tomorrow|tbc|"
    r"q[1-4]|week|month|year|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|"
    r"february|march|april|june|july|august|september|october|november|december)\b|\d)"
)
_BASE_FORMS = frozenset({"sign off", "close", "closure", "complete", "completion", "finish"})


def _negated(words: str, today: date | None) -> tuple[set[str], str]:
    """The stages ``words`` says have not been reached ("started", "closed", "completed"), and
    the words with those phrases taken out: negated ("not complete", "awaiting sign off") or
    only meant ("will be completed", "complete by March", "completed by next March"). A past
    form with a time that is not after ``today`` says when the work was done ("Completed by
    end of Oct 2025" read in 2026)."""
    stages: set[str] = set()

    def stage_of(word: str) -> str:
        return next((s for s, said in NEGATED.items() if word in said), "completed")

    def cut(match: re.Match[str]) -> str:
        stages.add(stage_of(match.group(2)))
        return " " + match.group(1) + " "

    def cut_due(match: re.Match[str]) -> str:
        word, when = match.group(1), match.group(2)
        if word not in _BASE_FORMS and when[0].isdigit():
            return match.group(0)  # "Done by 12/11": done on that day
        if word not in _BASE_FORMS and today is not None:
            after = words[match.start(2) :].split()
            for end in range(len(after), 0, -1):  # the longest run of words that is a date
                day = vague_date(" ".join(after[:end]), today, None)
                if day is not None:
                    if day <= today:
                        return match.group(0)  # "Completed by January 2026", read later
                    break
        stages.add(stage_of(word))
        return " by " + when

    words = NEGATION.sub(cut, words)
    words = DUE_BY.sub(cut_due, words)
    words = INTENT.sub(cut, words)
    return stages, " ".join(words.split())


def status_reads_by_day(text: str) -> bool:
    """Whether the status ``text`` reads by the import day: a past completion word with a
    time in words after it ("Completed by end of Oct") is meant while the time is ahead and
    done once it is past, so the same cell reads otherwise as the days go by."""
    words = normalised(text)
    return any(
        match.group(1) not in _BASE_FORMS and not match.group(2)[0].isdigit()
        for match in DUE_BY.finditer(words)
    )


_DATE_WORD = (
    r"(?:\d{1,4}(?:st|nd|rd|th)?|jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|"
    r"february|march|april|june|july|august|september|october|november|december|of)"
)
#: A word after "started new" that says the work is not done: the cell is then read by the
#: other rules ("Completed - started new process not embedded" is not completed).
_NOT_DONE = (
    r"not|no|none|nothing|outstanding|awaiting|await|pending|overdue|incomplete|issues?|"
    r"problems?|working|embedded|yet|still|missing|failed|failing|delayed|late|due|needed|"
    r"needs?|required|requires?|partial|partially|open|ongoing|started|progress|to"
)
#: One plain noun of "started new audit": letters only, never a word of _NOT_DONE.
_PLAIN_NOUN = rf"(?: (?!(?:{_NOT_DONE})\b)[a-z]+)"
#: What may follow a completion word at the start of a status cell without changing it: words
#: about monitoring or follow-up, or the day it was done ("Completed - keep open for
#: monitoring", "Done - ongoing", "Completed - started new audit", "Complete 12/11/2025").
_FOLLOW_UP = (
    r"(?:ongoing|continued|continuing|continuous|regular)(?: monitoring| review| reviews| checks|"
    r" audits?)?|monitoring(?: ongoing| continues| continuing)?|(?:for|under) (?:monitoring|"
    r"review)|(?:to )?(?:keep|kept|left|leave|remains?) open(?: for (?:monitoring|review))?|"
    r"open for (?:monitoring|review)|(?:started|starting|begun|began) (?:a )?new"
    + _PLAIN_NOUN
    + r"{1,2}|see (?:the )?(?:evidence|notes?|comments?|progress|updates?|log|file|folder|"
    r"attached|below|above)(?: (?:folder|file|log|column|tab|sheet))?|(?:on |in )?"
    + _DATE_WORD
    + r"(?: "
    + _DATE_WORD
    + r")*"
)
#: A completion word then a count or share of the work ("Completed 1 of 3", "Done 2/3",
#: "Completed 50%"), never a date ("Completed 2/3/2026").
PART_DONE = re.compile(
    r"(?:complete|completed|done|finished|achieved|met)\b[\s:,\-\u2013\u2014]*(?:(\d+)\s*"
    r"(?:of|out of|/)\s*(\d+)(?![\d/.\-])|(\d+(?:\.\d+)?)\s*%)"
)
#: A status cell that starts with a completion word and goes on only with follow-up words.
DONE_THEN = re.compile(
    r"(complete|completed|done|finished|achieved|met|fully met|closed|closed off|signed off)"
    rf"(?: (?:and |with |now |but )?(?:{_FOLLOW_UP}))+"
)


#: The stages a status can be at, least finished first.
STAGES = ("planned", "in-progress", "completed", "closed")


#: A cell of a status column whose header asks yes or no ("Completed (Y/N)"), as a status; an
#: Excel checkbox puts TRUE or FALSE in its cell, and some trackers 1 or 0.
YES_NO = {"y": "Completed", "yes": "Completed", "n": "Planned", "no": "Planned",
          "true": "Completed", "false": "Planned", "1": "Completed", "0": "Planned"}  # fmt: skip
#: What a RAG column holds, typed in a status column instead of a status.
RAG_WORDS = frozenset({"red", "amber", "green", "blue", "r", "a", "g", "b"})


def is_rag_colour(text: str) -> bool:
    """Whether a status cell holds a RAG colour ("Green"), which says nothing of the status."""
    return normalised(text) in RAG_WORDS


def status_of(text: str, today: date | None = None) -> tuple[str | None, str]:
    """The status ``text`` means (None when blank), and what to tell the user when its words
    are none the import knows (the status is then None too)."""
    try:
        return read_status(text, today), ""
    except ValueError:
        return None, (
            f"the status {text[:40]!r} is not one import knows (write planned, in progress, "
            "completed or closed)"
        )


def read_status(text: str, today: date | None = None) -> str | None:
    """The action status a status cell means, read the same way by the first import and by
    every import that keeps the records in step: the words people type ("Done", "In progress
    (70%)", "Complete - awaiting sign off", "Completed ✓", "Completed - keep open for
    monitoring"); None when blank. ``today`` is the import day, against which "Completed by
    <time>" is done (the time is past) or meant (it is ahead). Raises ValueError when the
    words are none the import knows ("On hold")."""
    words = normalised(text)
    if not words:
        if any(char in _TICKS for char in text):
            return "completed"
        return None
    part = PART_DONE.match(text.strip().lower())
    if part is not None:  # "Completed 1 of 3", "Completed 2/3", "Completed 50%": under way
        done, out_of, percent = part.groups()
        if (float(percent) < 100) if percent else int(done) < int(out_of):
            return "in-progress"
    if words in STATUS_WORDS:
        return STATUS_WORDS[words]
    done = DONE_THEN.fullmatch(words)
    if done:
        return STATUS_WORDS[done.group(1)]
    stages, rest = _negated(words, today)
    # Words matching more than one stage ("Open - audit done", "In progress - audit done,
    # training next") are read as the least finished of them; "Completed and closed" is closed.
    found = {status for status, pattern in STATUS_PATTERNS if re.search(pattern, rest)}
    if found == {"completed", "closed"}:
        found = {"closed"}
    said = min(found, key=STAGES.index) if found else None
    if "started" in stages:
        return "planned"
    if "completed" in stages:  # "To be completed", "In progress - not yet complete"
        return "in-progress" if said == "in-progress" else "planned"
    if "closed" in stages:  # "Completed but not signed off"; "Not closed - awaiting evidence"
        return "completed" if said == "completed" else (said or "in-progress")
    if said is None:
        raise ValueError(text)
    return said


def _source(text: str) -> str | None:
    words = normalised(text)
    table = [
        ("inspection", ("cqc", "inspection", "inspector")),
        ("internal-audit", ("audit", "internal")),
        ("complaint", ("complaint",)),
        ("incident", ("incident", "accident")),
        ("safeguarding", ("safeguarding",)),
        ("commissioner", ("commissioner", "la", "icb", "council", "contract")),
        ("feedback", ("feedback", "survey", "family", "relative", "resident")),
        ("provider-oversight", ("provider", "oversight", "ni", "visit")),
    ]
    for value, keys in table:
        if any(re.search(rf"\b{k}\b", words) for k in keys):
            return value
    return None


REGULATIONS = {str(n) for n in range(9, 21)} | {"20A"}


def _regulations(column: str, texts: list[str]) -> list[str]:
    """The regulations of 2014 a row cites: numbers in a regulation column, and "Reg 12" or
    "Regulation 17" in the finding or its actions. Regulation 18 of the Registration
    Regulations 2009 (notifications) is not one of them."""
    known = REGULATIONS | {"2009-18"}
    found = regulations_named(column, known, column=True) if column else []
    for text in texts:
        found += [r for r in regulations_named(text, known) if r not in found]
    return [r for r in found if r in REGULATIONS]


def _title(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= 100 else first[:97].rstrip() + "..."


class _Statements:
    """Quality statements named in a cell, by slug or title, loosely."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.kq: dict[str, list[str]] = {}
        for kq in portfolio.framework.key_questions:
            self.kq[normalised(kq.title)] = [s.slug for s in kq.statements]
            for st in kq.statements:
                self.by_key[normalised(st.slug)] = [st.slug]
                self.by_key[normalised(st.title)] = [st.slug]
        for old, new in portfolio.framework.aliases().items():
            self.by_key[normalised(old)] = new
        self.kq_slugs = {normalised(kq.title): kq.slug for kq in portfolio.framework.key_questions}
        self.kq_slugs.update(
            {normalised(kq.slug): kq.slug for kq in portfolio.framework.key_questions}
        )

    def key_question(self, text: str, strict: bool = False) -> str | None:
        """The key question ``text`` names ("Safe", "Key question: Effective", "WELL-LED",
        "SAFE - are people protected..."), or None. ``strict`` (for section rows) allows only a
        question after the key question's name, not any words."""
        key = re.sub(
            r"^(cqc )?(key question|kq|domain|section|part)( \d+)?\b\s*", "", normalised(text)
        )
        key = re.sub(r"^\d+\s+", "", key)
        for name, slug in self.kq_slugs.items():
            if key == name:
                return slug
            rest = key[len(name) + 1 :] if key.startswith(name + " ") else None
            if rest is not None and (
                not strict or re.match(r"(are|is|do|does|how|key|question|domain)\b", rest)
            ):
                return slug
        return None

    def find(self, text: str) -> list[str]:
        found: list[str] = []
        for part in re.split(r"[;,\n/]| and ", text):
            key = normalised(part)
            if not key:
                continue
            slugs = self.by_key.get(key)
            if slugs is None:
                close = difflib.get_close_matches(key, list(self.by_key), n=1, cutoff=0.75)
                slugs = self.by_key[close[0]] if close else []
            found.extend(slug for slug in slugs if slug not in found)
        return found


ABBREVIATIONS = {
    "rm": "Registered Manager",
    "dm": "Deputy Manager",
    "ni": "Nominated Individual",
    "cm": "Care Manager",
    "tl": "Team Leader",
    "sn": "Senior Nurse",
    "hm": "Home Manager",
    "am": "Area Manager",
    "om": "Operations Manager",
    "cl": "Clinical Lead",
    "ql": "Quality Lead",
    "scw": "Senior Care Worker",
    "sc": "Senior Carer",
    "nic": "Nurse in Charge",
    "hr": "HR Manager",
    "deputy": "Deputy Manager",
    "manager": "Registered Manager",
    "registered": "Registered Manager",
    "admin": "Administrator",
}


class OwnerRoles:
    """Owners named in the tracker, as roles of portfolio.yaml: the job title is the role
    ("RM", "Deputy Manager - Sue", "Sue Barker (Deputy)"), matched to the roles already there,
    and a person's name goes into the role's ``name`` (the one place the format has for it),
    never into a record."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.by_title: dict[str, str] = {}
        self.by_name: dict[str, str] = {}
        for slug, role in portfolio.settings.roles.items():
            self.by_title[normalised(slug)] = slug
            if role.title:
                self.by_title[normalised(role.title)] = slug
            if role.name:
                self.by_name[normalised(role.name)] = slug
        self.added: dict[str, dict[str, str]] = {}
        self.read: dict[str, str] = {}  # the tracker's words -> the role they were read as
        self.notes: list[str] = []
        self.unnamed = 0

    def role(self, text: str, where: str) -> str:
        """The role the owner cell ``text`` names (adding one when needed)."""
        parts: list[str] = []
        for part in re.split(r"\s+[-\u2013\u2014]\s+|[()\[\],;/+]", text):
            # "RM & DM" is two owners; "Health and Safety Lead" is one.
            pieces = [p for p in re.split(r"\s*&\s*|\s+and\s+", part) if normalised(p)]
            if len(pieces) > 1 and all(self._is_title(p) for p in pieces):
                parts.extend(p.strip() for p in pieces)
            elif normalised(part):
                parts.append(part.strip())
        titles = [p for p in parts if self._is_title(p)]
        names = [p for p in parts if p not in titles and _looks_like_name(p)]
        people = titles or parts  # "Sue / Jo" names two people, and no job title
        # Several owners only where a slash, plus or "&"/"and" stands between them ("RM / DM",
        # "Sue + Jo", "RM & DM"), or a comma between job titles ("RM, Deputy Manager"); never
        # "Jo Smith (nights)" or "Smith, Sue".
        owners = 0
        for part in re.split(r"[/+]", text):
            pieces = [p for p in re.split(r"\s*[&,]\s*|\s+and\s+", part) if normalised(p)]
            if len(pieces) > 1 and all(self._is_title(p) for p in pieces):
                owners += len(pieces)
            elif normalised(part):
                owners += 1
        if owners > 1:
            self.notes.append(
                f"{where}: {text!r} names several owners; the action is owned by the first, "
                f"{people[0]!r}: name the others in the action if they matter"
            )
        if titles:
            title = ABBREVIATIONS.get(normalised(titles[0]), titles[0].strip())
            slug = self._known_title(title)
            name = names[0] if names else None
            if slug is None:
                slug = slugify(title)[:40] or "owner"
                self.added.setdefault(slug, {"title": _title_case(title)})
                self.by_title[normalised(title)] = slug
            if name:
                self._name(slug, name, text)
        else:
            name = parts[0] if parts else text
            slug = self.by_name.get(normalised(name)) or self._first_name(name) or ""
            if not slug:
                self.unnamed += 1
                slug = f"named-owner-{self.unnamed}"
                while slug in self.by_title.values():
                    self.unnamed += 1
                    slug = f"named-owner-{self.unnamed}"
                self.added[slug] = {"name": name}
                self.by_name[normalised(name)] = slug
                self.notes.append(
                    f"{where}: {text!r} gives a name and no job title: added the role {slug} "
                    "with that name; rename the role to their job title (records name roles, "
                    "not people)"
                )
        if text not in self.read:
            self.read[text] = slug
        return slug

    def _is_title(self, part: str) -> bool:
        key = normalised(part)
        return key in ABBREVIATIONS or key in self.by_title or bool(set(key.split()) & JOB_SET)

    def _known_title(self, title: str) -> str | None:
        key = normalised(title)
        if key in self.by_title:
            return self.by_title[key]
        for known, slug in self.by_title.items():
            if known.startswith(key + " ") or key.startswith(known + " "):
                return slug  # "Deputy" and "Deputy Manager"
        return None

    def _first_name(self, name: str) -> str | None:
        key = normalised(name)
        found = {slug for known, slug in self.by_name.items() if known.split()[:1] == [key]}
        found |= {slug for known, slug in self.by_name.items() if key.startswith(known + " ")}
        return found.pop() if len(found) == 1 else None

    def _name(self, slug: str, name: str, text: str) -> None:
        key = normalised(name)
        entry = self.added.get(slug)
        if entry is None:  # a role portfolio.yaml has: its name is the user's to change
            self.by_name.setdefault(key, slug)
            return
        had = entry.get("name")
        if had is None or key.startswith(normalised(had) + " "):
            entry["name"] = name  # "Sue" then "Sue Barker": the fuller name
        elif not normalised(had).startswith(key) and normalised(had) != key:
            self.notes.append(
                f"{text!r} names {name!r} for the role {slug}, which the tracker also gives to "
                f"{had!r}: kept {had!r}; correct the name in portfolio.yaml if needed"
            )
        self.by_name.setdefault(key, slug)


JOB_SET = set(JOB_WORDS) | {
    "nominated",
    "individual",
    "registered",
    "clinical",
    "quality",
    "staff",
    "all",
    "everyone",
    "housekeeping",
    "kitchen",
    "activities",
}


NOT_NAMES = {
    "night",
    "nights",
    "day",
    "days",
    "weekend",
    "weekends",
    "interim",
    "acting",
    "temporary",
    "cover",
    "covering",
    "floor",
    "unit",
    "wing",
    "home",
    "group",
    "tbc",
    "support",
    "lead",
}


def _looks_like_name(text: str) -> bool:
    """Whether ``text`` reads as a person's name ("Sue", "Sue Barker"), not a qualifier
    ("Nights", "Interim", "Rose Unit")."""
    words = text.split()
    return (
        0 < len(words) <= 4
        and all(re.fullmatch(r"[^\W\d_][^\W\d_'\-.]*", w) and w[0].isupper() for w in words)
        and not {w.lower() for w in words} & NOT_NAMES
    )


def _title_case(text: str) -> str:
    return text if any(c.isupper() for c in text) else text.title()


def _section(row: list[Any], statements: _Statements) -> str | None:
    """The key question a section row names ("SAFE", "Key question: Effective"), or None when
    the row is not one: a section row has one text (in one cell, or across merged cells)."""
    texts = {_cell(v) for v in row if _cell(v)}
    if len(texts) != 1:
        return None
    text = texts.pop()
    return statements.key_question(text, strict=True)


def import_tracker(
    portfolio: Portfolio,
    source: Path,
    mapping: dict[str, Any] | None = None,
    today: date | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import the tracker at ``source`` into ``portfolio``; returns what was (or would be) done."""
    mapping = mapping or {}
    today = today or date.today()
    report = ImportReport()
    overrides = {str(k): str(v) for k, v in (mapping.get("columns") or {}).items()}
    table = read_table(source, mapping.get("sheet"), overrides)
    rows = table.rows
    report.read_as = table.read_as(source.name)
    for name in table.hidden_sheets:
        report.warnings.append(
            f"the hidden sheet {_cell(name)!r} was not read (unhide it in Excel, or name it with "
            "sheet: in a map file, to import its rows)"
        )
    header_at = int(mapping["header_row"]) - 1 if "header_row" in mapping else None
    if header_at is not None and header_at >= len(rows):
        message = (
            f"the map file's header_row is {header_at + 1}, but the tracker's last row is "
            f"{len(rows)}; set header_row to the row that holds the headers"
        )
        raise PortfolioError([Problem(source.as_posix(), 0, message)])
    if header_at is None:
        scored = [(len(match_headers(r, overrides)), i) for i, r in enumerate(rows[:15])]
        best = max(scored, default=(0, 0))
        header_at = best[1] if best[0] >= 2 else None
    if header_at is None:
        raise PortfolioError(
            [
                Problem(
                    source.as_posix(),
                    0,
                    "no header row found: the tracker "
                    "needs columns such as 'Finding', 'Action', 'Owner' and "
                    "'Deadline' (or name them with --map)",
                )
            ]
        )
    header = rows[header_at]
    start = header_at + 1  # the first row under the header
    below = rows[start] if start < len(rows) else []
    composed = _two_row_header(header, below, match_headers(header, overrides))
    if composed is not None:
        header, start = composed, start + 1
    notes: list[str] = []
    columns = match_headers(header, overrides, table.hidden_columns, notes)
    report.warnings.extend(notes)
    report.warnings.extend(unread_new_dates(header, rows[start:], columns))
    revised_reason = (
        f"the tracker's {_cell(header[columns['deadline']])!r} column, beside its "
        f"{_cell(header[columns[ORIGINAL]])!r} one"
        if ORIGINAL in columns
        else ""
    )

    def reason(later: str, earlier: str) -> str:
        """Why a revised date is an extension: its column, beside the one of the date before."""
        return (
            f"the tracker's {_cell(header[columns[later]])!r} column, beside its "
            f"{_cell(header[columns[earlier]])!r} one"
        )

    headers = ", ".join(_cell(c) for c in header if _cell(c))
    for needed in ("finding", "action", "deadline"):
        if needed not in columns:
            message = (
                f"no column for {needed}: the headers are {headers}; name it in a map file: "
                f"columns: {{{needed}: <header>}}"
            )
            raise PortfolioError([Problem(source.as_posix(), header_at + 1, message)])
    hidden = hidden_characters(source, rows, header_at, columns, table.guessed, table.place)
    if hidden:
        raise PortfolioError(hidden)
    defaults = mapping.get("defaults") or {}
    dates = settle_order(rows[start:], columns, mapping, portfolio)
    report.date_order = dates.order
    remembered = portfolio.settings.tracker_date_order
    statements = _Statements(portfolio)
    guesser = Guesser(portfolio.framework)
    roles = OwnerRoles(portfolio)
    default_owner = (
        "registered-manager"
        if "registered-manager" in portfolio.settings.roles
        else next(iter(portfolio.settings.roles))
    )

    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    coloured: list[str] = []  # rows whose status cell is a RAG colour
    carried: dict[str, Any] = {}
    section: str | None = None
    known = {normalised(c.baseline): c.id for c in portfolio.concerns.values()}

    def kept_owner(concern: str, cells: dict[str, Any], offset: str) -> str | None:
        """The role owning a row of a concern kept in step that becomes a new action: its
        owner read as the first import reads owners (a new role added as it adds one), the
        concern's owner when it names none. (A row of an action that is there already has
        none: import does not change owners.)"""
        owner_text = _cell(cells.get("owner"))
        if not owner_text or not _names_owner(owner_text):
            owner = portfolio.concerns[concern].owner
            if owner_text:
                report.owners.append(
                    f"{offset}: no owner named ({owner_text!r}): owned by {owner} until you "
                    "name one"
                )
            return owner
        return roles.role(owner_text, offset)

    forward: list[str] = []  # rows whose revised date is earlier than the one before it
    # A status column asking yes or no ("Completed (Y/N)"): Y is completed, N planned.
    status_header = normalised(_cell(header[columns["status"]])) if "status" in columns else ""
    yes_no = re.search(r"\b(y n|yes no)\b", status_header) is not None
    for index, row in enumerate(rows[start:], start=start):
        offset = table.place(index)
        cells = {name: (row[i] if i < len(row) else None) for name, i in columns.items()}
        if yes_no and normalised(_cell(cells.get("status"))) in YES_NO:
            cells["status"] = YES_NO[normalised(_cell(cells.get("status")))]
        if not any(_cell(v) for v in row):
            continue  # a blank row
        heading = _section(row, statements)
        if heading is not None:
            section = heading
            carried = {}  # a finding does not run on into the next section
            report.sections.append(f"{offset}: {_cell(next(v for v in row if _cell(v)))!r}")
            continue
        if len(row) == 1 and isinstance(row[0], Paragraph):
            continue  # a paragraph of a Word file that is not a section heading
        if not any(_cell(v) for v in cells.values()):
            continue  # text only in columns the import does not read
        total = _totals(row)
        if total:
            report.skipped.append(f"{offset}: a totals row ({total!r}), not an action")
            continue
        if _cell(cells.get("finding")) and _cell(cells.get("finding")) != _cell(
            carried.get("finding")
        ):
            carried = {}  # a new finding: what described the one above is not carried on
        for name in CARRIED:
            if name in cells and _cell(cells[name]):
                carried[name] = cells[name]
            elif name in carried and name in cells:
                cells[name] = carried[name]
        finding = _cell(cells.get("finding"))
        if not finding:
            report.skipped.append(f"{offset}: no finding, and none above it to carry down")
            continue
        if not _cell(cells.get("action")):
            report.skipped.append(f"{offset}: no action")
            continue
        if is_rag_colour(_cell(cells.get("status"))):
            coloured.append(offset)
        # A finding that is a concern already: its rows keep that concern in step
        # (generator.tools.sync.keep_in_step), read by the same rules as the rows imported.
        kept_as = known.get(normalised(finding))
        raw_due = cells.get("deadline")
        due, warning = dates.read(raw_due)
        revised: date | None = None  # the latest revised date beside the original (the due)
        revised_words = ""
        extended: list[tuple[date, str]] = []  # each revised date, in order, and its column
        if ORIGINAL in cells:
            # The first by rank holding a date is the due date; each later date that differs
            # from the one before is an extension, in the columns' order.
            read: list[tuple[str, Any, date | None, str | None]] = []
            for f in deadline_fields(cells):
                day, said_warning = dates.read(cells[f])
                read.append((f, cells[f], day, said_warning))
            held = [(f, raw, day, w) for f, raw, day, w in read if day is not None]
            said = normalised(_cell(raw_due))
            if held:  # a revised deadline in words ("end of Jan") is read as a date
                # A revised deadline in words after the first date: read as words are read, or
                # warned about; never silently passed over.
                for n, (f, raw, day, w) in enumerate(read):
                    text = _cell(raw)
                    words = normalised(text)
                    if day is not None or not words or UNDATED.fullmatch(words):
                        continue
                    if n < read.index(next(r for r in read if r[2] is not None)):
                        continue  # words before the first date ("TBC" then a date)
                    day = vague_date(text, today, dates.order)
                    if day is None:
                        report.warnings.append(
                            f"{offset}: the {_cell(header[columns[f]])!r} {text!r} is not a "
                            f"date, and is not read; write it as {dates.example()}"
                        )
                        continue
                    read[n] = (f, raw, day, w)
                    revised_words = text
                    if not kept_as:
                        report.dates.append(f"{offset}: {text!r} read as {day:%d %B %Y}")
                held = [(f, raw, day, w) for f, raw, day, w in read if day is not None]
                if held[-1][1] is not None and _cell(held[-1][1]) != revised_words:
                    revised_words = ""  # the latest date is a date, not the words'

                before, raw_due, due, warning = held[0]
                for f, _, day, w in held[1:]:
                    last = extended[-1][0] if extended else due
                    if day is not None and last is not None and day != last:
                        extended.append((day, reason(f, before)))
                        before = f
                        if day < last and not kept_as:
                            forward.append(
                                f"{offset}: {_cell(header[columns[f]])!r} brings the deadline "
                                f"forward, from {last:%d %B %Y} to {day:%d %B %Y} (recorded as "
                                "an extension to the earlier date)"
                            )
                    warning = "; ".join(x for x in (warning, w) if x) or None
                revised = extended[-1][0] if extended else None
            else:  # no dates: the words of the latest column that has any ("TBC", "end of Nov")
                worded = [(f, raw, w) for f, raw, _, w in read if normalised(_cell(raw))]
                worded.sort(key=lambda fr: not UNDATED.fullmatch(normalised(_cell(fr[1]))))
                chosen = "deadline"
                if worded and (not said or UNDATED.fullmatch(said)):
                    chosen, raw_due, warning = worded[-1]  # words of a date before "TBC"
                for f, raw, _, _ in read:  # words of another date, not read: said so
                    words = normalised(_cell(raw))
                    if words and not UNDATED.fullmatch(words) and f != chosen:
                        report.warnings.append(
                            f"{offset}: the {_cell(header[columns[f]])!r} {_cell(raw)!r} is "
                            f"not read: with no date in the row's deadline columns, only the "
                            f"latest words, {_cell(raw_due)!r}, are; write each as a date "
                            f"({dates.example()}) to keep them all"
                        )
                due = None
        due_text = _cell(raw_due)
        cells["undated"] = None
        if due is None and normalised(due_text) and not UNDATED.fullmatch(normalised(due_text)):
            due = vague_date(due_text, today, dates.order)
            if due is None:
                unreadable = (
                    f"the deadline {due_text!r} is not a date; write it as "
                    f"{dates.example()} (or 'TBC' when there is none yet)"
                )
                if kept_as:  # a row of an action there already: its other cells are read
                    cells.update(deadline=None, deadline_warning=None, unreadable=unreadable)
                    cells["owner_role"] = None
                    report.existing.setdefault(kept_as, []).append((offset, cells))
                else:
                    report.skipped.append(f"{offset}: {unreadable}")
                continue
            if kept_as:
                cells["vague"] = due_text
            else:
                report.dates.append(f"{offset}: {due_text!r} read as {due:%d %B %Y}")
        if due is None:
            cells["undated"] = due_text or "blank"
            cadence = CADENCES.get(normalised(due_text))
            if cadence:
                cells["cadence"] = cadence
            due = None if kept_as else today
        if kept_as:
            if ORIGINAL in cells and revised_words and revised:
                cells["vague"] = revised_words  # read again as they read the first time
            cells["deadline"] = revised or due  # the date an action's current due is now
            cells["original_due"] = due if revised else None
            cells["revision"] = revised_reason
            cells["deadline_warning"] = warning
            cells["owner_role"] = None  # for a row that becomes a new action: below
            report.existing.setdefault(kept_as, []).append((offset, cells))
            continue
        if warning:
            report.warnings.append(f"{offset}: {warning}")
        cells["deadline"] = due
        cells["revised"] = revised
        cells["extended"] = extended
        cells["section"] = statements.key_question(_cell(cells.get("key_question"))) or section
        groups.setdefault(normalised(finding), []).append((offset, cells))

    # Rows of a concern kept in step that become new actions, matched to its actions as
    # generator.tools.sync matches them: they own a role, a new one added as the import adds one.
    dropped: set[tuple[str, int | str]] = set()  # rows of new actions whose deadline is no date
    for kept_as, kept_rows in report.existing.items():
        had = portfolio.concerns[kept_as].actions
        by_text: dict[str, list[int]] = {}
        for at, (_, cells) in enumerate(kept_rows):
            by_text.setdefault(normalised(_cell(cells.get("action"))), []).append(at)
        fresh: list[int] = []  # rows that are no action with their text
        for key, ats in by_text.items():
            same = [a for a in had if normalised(a.title) == key]
            facts = [
                RowFacts(
                    kept_rows[at][1]["deadline"],
                    str(kept_rows[at][1].get("vague") or ""),
                    kept_rows[at][1].get("original_due"),
                    status_of(_cell(kept_rows[at][1].get("status")), today)[0],
                )
                for at in ats
            ]
            matched, unsure = pair_rows(facts, same, dates.order)
            for n, at in enumerate(ats):
                place, cells = kept_rows[at]
                if cells.get("unreadable") and n in matched:
                    report.warnings.append(
                        f"{place}: {cells['unreadable']}; the due date of "
                        f"{same[matched[n]].id} is left as it was, and the row's other cells "
                        "are read"
                    )
                elif n not in matched and n not in unsure:
                    fresh.append(at)
        # Every row no action has the text of is a new action, however like one it reads: the
        # summary of keeping in step warns of those that read much like an action no row is.
        for at in fresh:
            place, cells = kept_rows[at]
            if cells.get("unreadable"):
                report.skipped.append(f"{place}: {cells['unreadable']}")  # a new action
                dropped.add((kept_as, place))
            else:
                cells["owner_role"] = kept_owner(kept_as, cells, str(place))
                if cells.get("vague") and cells["deadline"]:
                    said = cells["vague"]
                    report.dates.append(f"{place}: {said!r} read as {cells['deadline']:%d %B %Y}")

    report.warnings.extend(forward)
    if coloured:
        named = _cell(header[columns["status"]])
        report.warnings.append(
            f"the status column {named!r} holds RAG colours (Red, Amber, Green, Blue), not "
            f"statuses, in {len(coloured)} rows ({_places(coloured)}): their actions are "
            "planned (or, imported before, left as they were); write planned, in progress, "
            "completed or closed, or name the status column in a map file: "
            "columns: {status: <header>}"
        )
    for kept_as in list(report.existing):
        left = [(o, c) for o, c in report.existing[kept_as] if (kept_as, o) not in dropped]
        if left:
            report.existing[kept_as] = left
        else:
            del report.existing[kept_as]
    prefix = str(mapping.get("id_prefix", "IMP"))
    taken = set(portfolio.sources)
    number = 0
    evidence_number = 0
    concern_files: dict[Path, str] = {}
    unrated: dict[str, list[str]] = {}  # risk levels set by the import -> the concerns
    for rows_of in groups.values():
        first = rows_of[0][1]
        finding = _cell(first["finding"])
        where = _places([o for o, _ in rows_of])
        found = statements.find(_cell(first.get("quality_statement")))
        guess: Guess | None = None
        if not found and defaults.get("quality_statements"):
            found = statements.find("; ".join(map(str, defaults["quality_statements"])))
        if not found:
            column_kq = statements.key_question(_cell(first.get("quality_statement")))
            guess = guesser.guess(
                finding,
                _unique(_cell(c["action"]) for _, c in rows_of),
                _cell(first.get("regulation")),
                first["section"] or column_kq,
            )
            found = [r.slug for r in guess.chosen]
        if not found:
            report.skipped.append(
                f"{where}: no quality statement named, and no word of the finding or its "
                "actions that the framework's vocabulary knows; add a 'Quality statement' "
                "column, or defaults: {quality_statements: [...]} in a map file"
            )
            continue
        number += 1
        while f"{prefix}-{number:02d}" in taken:
            number += 1
        cid = f"{prefix}-{number:02d}"
        taken.add(cid)
        like = difflib.get_close_matches(normalised(finding), list(known), n=1, cutoff=0.8)
        if like:  # a finding reworded in the tracker since it was imported, perhaps
            was = portfolio.concerns[known[like[0]]]
            report.warnings.append(
                f"{where}: the finding {_title(finding)!r} is not one imported before, so it is "
                f"a new concern, {cid}; it reads much like {was.id} ({_title(was.baseline)!r}): "
                f"if it is that finding reworded, delete {cid}, write the finding's words in the "
                f"tracker as they were (or as the baseline of {was.id}) and import again"
            )
        comments: dict[tuple[str, str], str] = {}
        if guess is not None:
            for ranked in guess.chosen:
                words = ", ".join(
                    f"'{w}'" if not w.startswith(("Reg ", "Regulation")) else w
                    for w in ranked.words[:6]
                )
                comments[("statement", ranked.slug)] = f"guessed from {words}"
            weak = " (a weak guess: few words to go on)" if guess.weak else ""
            others = [r.slug for r in guess.ranked[len(guess.chosen) : len(guess.chosen) + 2]]
            also = f"; next best: {', '.join(others)}" if others else ""
            report.guesses.append(
                f"{cid} ({where}) {_title(finding)!r}: {', '.join(found)}{weak}{also}"
            )
        actions = []
        notes_body: list[str] = []
        for index, (offset, cells) in enumerate(rows_of, start=1):
            aid = f"{cid}-A{index}"
            owner_text = _cell(cells.get("owner"))
            if owner_text and not _names_owner(owner_text):
                report.owners.append(
                    f"{offset}: no owner named ({owner_text!r}): owned by {default_owner} "
                    "until you name one"
                )
                owner_text = ""
            owner = roles.role(owner_text, f"{offset}") if owner_text else default_owner
            status, unknown = status_of(_cell(cells.get("status")), today)
            if unknown and not is_rag_colour(_cell(cells.get("status"))):
                report.warnings.append(f"{offset}: {unknown}; {aid} is planned")
            action: dict[str, Any] = {
                "id": aid,
                "title": _cell(cells["action"]),
                "owner": owner,
                "due": cells["deadline"],
                "status": status or "planned",
            }
            if cells.get("cadence"):
                action["cadence"] = cells["cadence"]
            if cells.get("extended"):
                action["extensions"] = [
                    {"to": day, "reason": reason} for day, reason in cells["extended"]
                ]
            if cells["undated"] is not None:
                said = cells["undated"]
                comments[("due", aid)] = undated_note(said)
                report.undated.append(f"{offset}: {aid} {_title(action['title'])!r} ({said!r})")
            if isinstance(cells.get("progress"), date):
                report.warnings.append(
                    f"{offset}: the progress cell holds only a date "
                    f"({cells['progress']:%d %B %Y}), no words, so no progress is recorded for "
                    f"{aid}: write what was done in it (a date at its start dates it)"
                )
            updates, undated_notes = _progress(cells, owner, dates, today)
            if updates:
                action["updates"] = updates
            for note in undated_notes:
                notes_body.append(f"- {aid}: {note}")
                report.notes.append(f"{offset}: {aid}")
            closure_text = _cell(cells.get("closure_evidence"))
            if closure_text:
                evidence_number += 1
                while f"EV-{prefix}-{evidence_number:02d}" in taken:
                    evidence_number += 1
                eid = f"EV-{prefix}-{evidence_number:02d}"
                taken.add(eid)
                when = min(cells["deadline"], today)
                evidence = {
                    "id": eid,
                    "title": _title(closure_text),
                    "type": "other",
                    "date": when,
                    "owner": owner,
                    "location": f"{source.name}, {offset}",
                    "summary": closure_text,
                }
                path = portfolio.root / "evidence" / "imported" / f"{eid.lower()}.yaml"
                concern_files[path] = _dump(evidence)
                report.evidence.append(eid)
                action["evidence"] = [eid]
                if action["status"] == "closed":
                    action["closure"] = {"date": when, "by": owner, "evidence": [eid]}
            _compare_rag(_cell(cells.get("rag")), action, portfolio, offset, report)
            actions.append(action)
            report.actions += 1
        raised, _ = dates.read(first.get("raised"))
        all_done = all(a["status"] in ("completed", "closed") for a in actions)
        regulation = _regulations(
            _cell(first.get("regulation")), [finding, *(_cell(c["action"]) for _, c in rows_of)]
        )
        risk = _risk(_cell(first.get("risk")), "")
        if not risk:
            risk = str(defaults.get("risk") or ("high" if regulation else "medium"))
            why = (
                "the map file's default"
                if defaults.get("risk")
                else ("a regulation is cited" if regulation else "the default")
            )
            unrated.setdefault(f"{risk} ({why})", []).append(cid)
        concern: dict[str, Any] = {
            "id": cid,
            "title": _title(finding),
            "quality_statements": found,
            "source": _source(_cell(first.get("source"))) or defaults.get("source", "other"),
            "raised": raised or today,
            "owner": actions[0]["owner"],
            "risk": risk,
            "status": "monitoring" if all_done else "open",
            "baseline": finding,
            "intended_outcome": str(
                defaults.get(
                    "intended_outcome",
                    "Not stated in the tracker: write what better care looks like when the actions "
                    "work, and add an outcome measure.",
                )
            ),
        }
        if regulation:
            concern["regulation"] = regulation
        concern["actions"] = actions
        body = (
            f"## Context\n\nImported from {_md_text(source.name)} on {today.isoformat()} "
            f"({where}).\n"
        )
        if notes_body:
            body += "\n## Progress notes from the tracker\n\nThe tracker gives these no date.\n\n"
            body += "\n".join(_md_text(line) for line in notes_body) + "\n"
        front = _comment(_dump(concern), comments)
        name = f"{cid.lower()}-{_short_slug(finding)}.md"
        path = portfolio.root / "concerns" / "imported" / name
        concern_files[path] = f"---\n{front}---\n{body}"
        report.concerns.append(cid)
    for level, ids in unrated.items():
        report.risks.append(f"no risk in the tracker, set to {level}: {', '.join(ids)}")
    report.roles = sorted(roles.added)
    for text, slug in roles.read.items():
        if normalised(text) != normalised(slug):
            report.owners.append(f"{text!r} -> {slug}")
    report.owners.extend(roles.notes)
    # Dates that read two ways and were read day first, with nothing to settle it, are the
    # portfolio's now: remembered so, lest a later tracker's 12/25/2026 turn them round.
    settled = dates.order or ("dmy" if dates.two_ways else None)
    if settled and remembered is None and (report.concerns or report.existing):
        report.remembered = settled
    if report.concerns:
        name = f"_import-report-{report.concerns[0].lower()}.md"
        report.report_file = portfolio.root / "concerns" / "imported" / name
        concern_files[report.report_file] = report_markdown(report, source, today)
    existing = [p for p in concern_files if p.exists()]
    if existing:
        raise PortfolioError([_exists_already(p) for p in existing])
    if dry_run:
        report.files = sorted(concern_files)
        # what portfolio.yaml could not take; what it would be, for the rows kept in step
        report.settings = _settings_after(portfolio, roles.added, report)[1]
        return report
    _write(portfolio, concern_files, roles.added, report)
    return report


#: The label of a totals row, alone in its cell: "Total", "Totals", "Total actions", "Grand total",
#: "Count of open actions", "Total 12"; never a finding that starts with the word ("Total fluids
#: not recorded") nor an action ("Count CD stock weekly").
@dataclass(frozen=True)
class RowFacts:
    """What a row of a tracker imported again says that tells apart actions with one text."""

    due: date | None
    vague: str  # a deadline in words ("end of Nov"), as the tracker has it
    original: date | None  # the original date beside a revised one (``due``)
    status: str | None


def _fits_due(row: RowFacts, action: Action, order: str | None) -> bool:
    if row.due is None:
        return False
    if row.due in (action.current_due, action.due) or row.original == action.due:
        return True
    # words unchanged read as they read when the date recorded was read from them
    return bool(row.vague) and vague_date(row.vague, action.current_due, order) == (
        action.current_due
    )


def pair_rows(
    rows: Sequence[RowFacts], actions: Sequence[Action], order: str | None
) -> tuple[dict[int, int], list[int]]:
    """Which of the ``actions`` of a concern that share a text each of the ``rows`` with that
    text edits: {row: action}, by the index of each, and the rows that could each be more than
    one of the actions left over (to be warned about, their actions left as they are). A row
    in neither is a new action.

    A row is an action whose due date (else, status) is the row's, when no other row or action
    left is; rows left that every action left fits alike, as many as the actions, are taken in
    order. One row left and one action left are each other only when that is the one action
    with the text: of several, the row left could as well be a new action (the one whose row
    was deleted left unmatched), so it is warned about. Rows left when every action is matched
    are new actions.
    """
    matched: dict[int, int] = {}
    free = list(range(len(actions)))

    def fits_due(r: int, a: int) -> bool:
        return _fits_due(rows[r], actions[a], order)

    def fits_status(r: int, a: int) -> bool:
        return rows[r].status is not None and rows[r].status == actions[a].status

    for fits in (fits_due, fits_status):
        changed = True
        while changed:
            changed = False
            for r in [r for r in range(len(rows)) if r not in matched]:
                could = [a for a in free if fits(r, a)]
                rivals = [o for o in range(len(rows)) if o not in matched]
                if len(could) == 1 and sum(fits(o, could[0]) for o in rivals) == 1:
                    matched[r] = could[0]
                    free.remove(could[0])
                    changed = True
    rest = [r for r in range(len(rows)) if r not in matched]
    if not free or not rest:
        return matched, []
    alike = all(fits_due(r, a) and fits_status(r, a) for r in rest for a in free)
    if (len(actions) == 1 and len(rest) == 1) or (alike and len(rest) == len(free)):
        matched.update(zip(rest, free, strict=True))
        return matched, []
    return matched, rest


#: How alike a row's text and an action's must read to warn that the row may be that action
#: reworded (the row is a new action all the same).
REWORDED = 0.8


def alike_actions(titles: Sequence[str], actions: Sequence[Action]) -> dict[int, list[int]]:
    """For each row of ``titles`` that is a new action, the ``actions`` (by index) whose text
    reads much like the row's ("Night call bell audits" and "Night call bell audit"): only ever
    warned about, never taken for that action, since "Complete Q1 audit" and "Complete Q2
    audit" read alike too."""
    alike: dict[int, list[int]] = {}
    for r, title in enumerate(titles):
        words = normalised(title)
        could = [
            a
            for a, action in enumerate(actions)
            if difflib.SequenceMatcher(None, words, normalised(action.title)).ratio() >= REWORDED
        ]
        if could:
            alike[r] = could
    return alike


TOTALS = re.compile(
    r"(grand |sub )?(sub ?totals?|totals?|count( of)?|number of|no of)"
    r"( (actions?|items?|findings?|concerns?|rows?|open|closed|complete|completed|outstanding|"
    r"overdue|in progress|done|not started|red|amber|green|blue|rag))*( \d+)?"
)
BARE_TOTAL = re.compile(r"(grand |sub )?(sub ?totals?|totals?)")
#: A count beside the label: 12, 1,200, 50%, 12 (50%), or a count and a word or two (0 complete).
NUMBER = re.compile(r"\d[\d,]*(\.\d+)?%?( \(\d+(\.\d+)?%\))?( [A-Za-z]+){0,2}")


def _totals(row: list[Any]) -> str:
    """The label of a totals row ("Total", "Totals", "Total actions"): a row whose only text is
    that label, alone in its cell, beside at least one count (not a date) or formula; a bare
    "Total" merged across a row with nothing else counts too. "" for any other row."""
    label = ""
    counts = 0
    for value in row:
        text = _cell(value)
        if not text:
            continue
        if isinstance(value, bool | date):
            return ""  # a date beside the words is a deadline: an action, not a total
        if isinstance(value, int | float) or text.startswith("=") or NUMBER.fullmatch(text):
            counts += 1
            continue
        words = normalised(text)
        if label and words == normalised(label):
            continue  # the label again, as a merged cell is filled across
        match = TOTALS.fullmatch(words)
        if label or match is None:
            return ""  # any other words: a finding or an action
        label = text
        counts += bool(match.group(6))
    if label and (counts or BARE_TOTAL.fullmatch(normalised(label))):
        return label
    return ""


def _two_row_header(
    header: list[Any], below: list[Any], columns: dict[str, int]
) -> list[Any] | None:
    """The header read with the row under it, when that row names the parts of a header cell
    over several columns ("Target date" over "Original | Revised"): "Target date Original",
    "Target date Revised". None when the row below is not such a row (a row of data).

    A cell over several columns is merged (each column holds its text once merged cells are
    filled) or, in a CSV file, followed by blank header cells.
    """
    texts = [_cell(c) for c in header]
    subs = [_cell(c) for c in below] + [""] * max(0, len(texts) - len(below))
    if any(
        subs[i] and subs[i] != texts[i]
        for i in (columns.get("finding"), columns.get("action"))
        if i is not None
    ):
        return None  # a row with a finding or an action of its own is data

    def group(index: int) -> str:
        """The text of the header cell over several columns that ``index`` is under, or ""."""
        at = index
        while at > 0 and not texts[at]:
            at -= 1
        text = texts[at]
        if not text:
            return ""
        wide = (
            (at + 1 < len(texts) and texts[at + 1] in ("", text))
            or (at > 0 and texts[at - 1] == text)
            or at != index
        )
        return text if wide else ""

    composed = list(texts) + [""] * max(0, len(subs) - len(texts))
    named = False
    for index, sub in enumerate(subs):
        if not sub or (index < len(texts) and sub == texts[index]):
            continue  # blank, or a header cell over two rows (filled down when merged)
        over = group(index) if index < len(texts) else ""
        if not over or re.search(r"\d", sub):
            return None
        composed[index] = f"{over} {sub}"
        named = True
    return composed if named else None


def _names_owner(text: str) -> bool:
    """Whether an owner cell names someone ("TBC", "-" and "?" name nobody)."""
    return not UNDATED.fullmatch(normalised(text)) and bool(re.search(r"[^\W\d_]", text))


def undated_note(said: str) -> str:
    """The comment on the due date of an action the tracker gives no date."""
    return f"the tracker gives no date ({said!r}): set the real due date"


def _places(places: list[str]) -> str:
    """Rows of one finding together: "rows 5, 6", or "table 2, row 3; table 2, row 4"."""
    if all(p.startswith("row ") for p in places):
        return ("rows " if len(places) > 1 else "row ") + ", ".join(p[4:] for p in places)
    return "; ".join(places)


def _unique(items: Any) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


class _Dumper(yaml.SafeDumper):
    """Writes every value in full: no &anchors and *aliases, which a person editing the file
    would not expect."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _comment(front: str, comments: dict[tuple[str, str], str]) -> str:
    """``front`` with a comment at the end of the lines that ``comments`` names: a statement
    slug of quality_statements, or the due line of an action by its id."""
    lines = front.split("\n")
    in_statements = False
    action: str | None = None
    for index, line in enumerate(lines):
        if line.startswith("quality_statements:"):
            in_statements = True
            continue
        if in_statements:
            match = re.fullmatch(r"- (\S+)", line)
            if match:
                note = comments.get(("statement", match.group(1)))
                if note:
                    lines[index] = f"{line}  # {note}"
                continue
            in_statements = False
        match = re.fullmatch(r"\s*-? ?id: (\S+)", line)
        if match:
            action = match.group(1)
        if re.fullmatch(r"\s*due: \S+", line) and action and ("due", action) in comments:
            lines[index] = f"{line}  # {comments[('due', action)]}"
    return "\n".join(lines)


def _md_text(text: str) -> str:
    """A tracker's text as plain Markdown: characters that would start markup are escaped."""
    return re.sub(r"([\\`*_{}\[\]<>#|!])", r"\\\1", text)


def _progress(
    cells: dict[str, Any], owner: str, dates: DateReader, today: date
) -> tuple[list[dict[str, Any]], list[str]]:
    """The dated updates of a progress cell, and the notes that carry no date.

    A note takes its date from a progress-date column, or from a date at its start
    ("12/11 - chased pharmacy"); a cell may hold several, one a line.
    """
    raw = cells.get("progress")
    if raw is None or isinstance(raw, date) or not _cell(raw):
        return [], []  # a date alone (a cell formatted as a date) says nothing of progress
    column, _ = dates.read(cells.get("progress_date"))
    if column is not None:
        return [{"date": column, "by": owner, "note": _cell(raw)}], []
    updates: list[dict[str, Any]] = []
    undated: list[str] = []
    for line in str(raw).splitlines():
        text = _cell(line)
        if not text:
            continue
        dated = note_date(text, today, dates.order)
        if dated is not None:
            updates.append({"date": dated[0], "by": owner, "note": dated[1]})
        elif updates:
            updates[-1]["note"] += " " + text  # a line that runs on from the note above
        else:
            undated.append(text)
    return updates, undated


RAG_COLOURS = (
    ("blue", r"\b(blue|b|closed|verified)\b"),
    ("green", r"\b(green|g|complete|completed|done)\b"),
    ("amber", r"\b(amber|a|yellow|orange|on track)\b"),
    ("red", r"\b(red|r|overdue|off track)\b"),
)


def _compare_rag(
    text: str, action: dict[str, Any], portfolio: Portfolio, offset: str, report: ImportReport
) -> None:
    """Report where the tracker's own RAG for an action differs from the colour the build
    derives for it (the RAG is never the concern's risk)."""
    if not text:
        return
    words = normalised(text)
    said = next((colour for colour, pattern in RAG_COLOURS if re.search(pattern, words)), None)
    if said is None:
        return
    checked = {k: v for k, v in action.items() if k != "evidence"}
    derived = action_status(Action.model_validate(checked), portfolio.as_of)
    if derived.colour != said:
        report.rag.append(
            f"{offset}: {action['id']}: the tracker says {text!r}; the build shows "
            f"{derived.colour.title()} ({derived.label}: {derived.reason})"
        )


def report_markdown(report: ImportReport, source: Path, today: date) -> str:
    """The import report kept beside the imported records, for the user to work through."""
    lines = [
        f"# Import of {_md_text(source.name)} on {today.isoformat()}",
        "",
        f"{report.actions} actions in {len(report.concerns)} concerns "
        f"({', '.join(report.concerns)}); {len(report.evidence)} evidence entries; new roles: "
        f"{', '.join(report.roles) or 'none'}. This file starts with `_`, so builds ignore it: "
        "delete it when you have checked everything below.",
        "",
    ]
    for title, items in report.to_confirm():
        lines += [f"## {_md_text(title)}", ""] + [f"- {_md_text(i)}" for i in items] + [""]
    if report.skipped:
        lines += ["## Rows not imported", ""] + [f"- {_md_text(i)}" for i in report.skipped]
        lines.append("")
    if report.warnings:
        lines += ["## Warnings", ""] + [f"- {_md_text(i)}" for i in report.warnings] + [""]
    return "\n".join(lines)


def _write(
    portfolio: Portfolio,
    files: dict[Path, str],
    new_roles: dict[str, dict[str, str]],
    report: ImportReport,
) -> None:
    """Write the records and the new roles; if anything fails, put back every byte and folder."""
    settings_path = portfolio.root / "portfolio.yaml"
    settings_before, settings_after = _settings_after(portfolio, new_roles, report)
    written: list[Path] = []
    made: list[Path] = []
    settings: list[tuple[Path, bytes]] = []  # portfolio.yaml and its bytes before, once touched

    def put_back() -> None:
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        for path, before in settings:
            path.write_bytes(before)
        written.clear()
        made.clear()
        settings.clear()

    try:
        for path, text in sorted(files.items()):
            for folder in _missing_folders(path.parent):
                folder.mkdir()
                made.append(folder)
            with path.open("x", encoding="utf-8") as stream:
                written.append(path)
                stream.write(text)
        if settings_after is not None:
            settings.append((settings_path, settings_before))
            settings_path.write_bytes(settings_after)
        load(portfolio.root)
    except BaseException as exc:
        put_back()
        if isinstance(exc, FileExistsError | NotADirectoryError):
            raise _in_the_way(portfolio.root, Path(exc.filename)) from None
        raise
    report.files = list(written)
    report.put_back = put_back


def _settings_after(
    portfolio: Portfolio, new_roles: dict[str, dict[str, str]], report: ImportReport
) -> tuple[bytes, bytes | None]:
    """portfolio.yaml's bytes now, and after the import adds its new roles and the day/month
    order it settled (None when it adds nothing); what it cannot add is a warning."""
    path = portfolio.root / "portfolio.yaml"
    before = path.read_bytes()
    if not new_roles and not report.remembered:
        return before, None
    text = before.decode("utf-8")
    if new_roles:
        text = _add_roles(text, new_roles, path)
    if report.remembered:
        text = _remember_order(text, report.remembered, report)
    after = text.encode("utf-8")
    return before, None if after == before else after


def _missing_folders(folder: Path) -> list[Path]:
    """The folders to make, outermost first, for ``folder`` to exist."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def _in_the_way(root: Path, path: Path) -> PortfolioError:
    """The error for a file the import could not write because something is already there."""
    for place in path.parents[::-1]:
        if place.is_relative_to(root) and place.exists() and not place.is_dir():
            message = (
                "a file is in the way: import writes its records into a folder of this name; "
                "rename or move the file and import again"
            )
            return PortfolioError([Problem(place.as_posix(), 0, message)])
    return PortfolioError([_exists_already(path)])


def _exists_already(path: Path) -> Problem:
    return Problem(
        path.as_posix(),
        0,
        "exists already: import never overwrites; move it or use another id_prefix in --map",
    )


def _add_roles(text: str, roles: dict[str, dict[str, str]], path: Path) -> str:
    """portfolio.yaml with new roles added at the top of its roles block, comments and line
    endings kept."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if re.match(r"^roles:\s*(#.*)?$", line):
            indent = "  "
            for following in lines[index + 1 :]:
                if following.strip() and not following.lstrip().startswith("#"):
                    indent = following[: len(following) - len(following.lstrip())] or "  "
                    break
            end = "\r" if line.endswith("\r") else ""
            added = []
            for slug, entry in roles.items():
                fields = ", ".join(f"{k}: {_quoted(v)}" for k, v in entry.items())
                added.append(f"{indent}{slug}: {{{fields}}}  # added by portfolio import{end}")
            return "\n".join(lines[: index + 1] + added + lines[index + 1 :])
    at = next((n for n, line in enumerate(lines, start=1) if line.startswith("roles:")), 0)
    raise PortfolioError(
        [
            Problem(
                path.as_posix(),
                at,
                "cannot add the tracker's owners: "
                "write roles as a block ('roles:' on a line of its own)",
            )
        ]
    )


def _remember_order(text: str, order: str, report: ImportReport) -> str:
    """portfolio.yaml with ``tracker_date_order`` added as its last line, every other byte
    kept; as it was (and a warning) when a line added at its end would not be read so."""
    newline = "\r\n" if "\r\n" in text else "\n"
    first = "day" if order == "dmy" else "month"
    line = (
        f"tracker_date_order: {order}  # added by portfolio import: tracker dates are read "
        f"{first} first{newline}"
    )
    added = text + ("" if not text or text.endswith("\n") else newline) + line
    try:
        before, after = yaml.safe_load(text), yaml.safe_load(added)
    except yaml.YAMLError:
        before = after = None
    if (
        isinstance(before, dict)
        and "tracker_date_order" not in before
        and after == {**before, "tracker_date_order": order}
    ):
        return added
    report.remembered = None
    report.warnings.append(
        f"dates were read {first} first; portfolio.yaml could not be given that for later "
        f"imports: add the line 'tracker_date_order: {order}' to it"
    )
    return text


def _short_slug(text: str, limit: int = 40) -> str:
    slug = slugify(text)
    return slug if len(slug) <= limit else slug[:limit].rsplit("-", 1)[0]


def _quoted(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar: line breaks and control characters are
    # escaped, so the text reads back as it was.
    return json.dumps(text, ensure_ascii=False)
