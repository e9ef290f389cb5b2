"""Importing an existing spreadsheet action tracker (CSV or XLSX) into records.

Providers' trackers differ, so headers are matched loosely (case, spacing, punctuation, common
synonyms), a title row above the header is skipped, merged cells and blank cells under a finding
carry the finding down, and dates are read in the forms UK trackers use. Rows that share a
finding become one concern with several actions; owners become roles in portfolio.yaml. Every
row that cannot be imported is reported with its row number and why, and nothing that exists is
overwritten. What is written passes ``portfolio check``.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BeforeValidator, Field

from generator.errors import PortfolioError, Problem, Problems
from generator.load.link import Portfolio
from generator.load.sources import load_file
from generator.load.validate import validate
from generator.model import ID_PATTERN, Model, Risk, Source, one_or_many
from generator.pipeline import load
from generator.tools.authoring import slugify

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
    "risk": ["risk", "rag", "rag rating", "priority", "risk rating", "rating", "rag status"],
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
        "evidence",
        "evidence of completion",
        "how will we know",
        "evidence of closure",
        "evidence of improvement",
    ],
    "status": ["status", "state", "complete", "completed", "action status"],
    "quality_statement": [
        "quality statement",
        "statement",
        "cqc quality statement",
        "we statement",
        "quality statements",
    ],
    "key_question": ["key question", "kloe", "domain", "cqc domain", "key line of enquiry"],
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


# Control characters that are not spacing, and the two code points no YAML file may hold: a
# cell holding one is reported, never imported.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufffe\uffff]")
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
    """What an import did, and every row it could not import."""

    concerns: list[str] = field(default_factory=list)
    actions: int = 0
    evidence: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    read_as: str | None = None  # how a text file was read, when not as UTF-8 with commas
    # rows whose finding is a concern already in the portfolio: concern id -> [(row, cells)]
    existing: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)


SEPARATORS = {",": "comma", "\t": "tab", ";": "semicolon"}


@dataclass
class Table:
    """The cells of a tracker, and how a text file's bytes were read."""

    rows: list[list[Any]]
    encoding: str = "UTF-8"
    delimiter: str = ","

    @property
    def guessed(self) -> bool:
        """Whether the encoding is the last resort, which reads any bytes, rightly or not."""
        return self.encoding == "Latin-1"

    def read_as(self, name: str) -> str | None:
        """What to tell the user about reading the file ``name``, unless it was UTF-8 CSV."""
        if self.encoding == "UTF-8" and self.delimiter == ",":
            return None
        said = f"Read {name} as {self.encoding}, {SEPARATORS[self.delimiter]}-separated"
        if self.guessed:
            return (
                f"{said}: it is neither UTF-8 nor Windows-1252, so check that accented letters "
                'and symbols came through (saving it from Excel as "CSV UTF-8" avoids the guess).'
            )
        return f"{said}."


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


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
            raise PortfolioError(
                [
                    Problem(
                        path.as_posix(),
                        0,
                        "this is not a workbook Excel can "
                        f"open ({type(exc).__name__}); save it again as .xlsx "
                        "or export it as CSV",
                    )
                ]
            ) from None
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
        ws: Any = book[sheet] if sheet else book.worksheets[0]
        rows = [[_unescape(v) for v in row] for row in ws.iter_rows(values_only=True)]
        for merged in ws.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row, merged.max_row + 1):
                for c in range(merged.min_col, merged.max_col + 1):
                    rows[r - 1][c - 1] = value
        return Table(rows)
    raise PortfolioError(
        [
            Problem(
                path.as_posix(),
                0,
                "import reads .csv (or tab-separated .txt and .tsv) and .xlsx files; save the "
                "tracker in one of those formats",
            )
        ]
    )


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


def _unescape(value: Any) -> Any:
    """A workbook's text as Excel shows it: the file keeps a control character as _xHHHH_,
    which openpyxl leaves as it is."""
    if isinstance(value, str):
        return _XLSX_ESCAPE.sub(_escaped, value)
    return value


def _escaped(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    # Half of a surrogate pair is no character on its own: the text is kept as written.
    return match.group() if 0xD800 <= code <= 0xDFFF else chr(code)


def hidden_characters(
    source: Path, rows: list[list[Any]], header_at: int, columns: dict[str, int], guessed: bool
) -> list[Problem]:
    """Every cell the import reads that holds an invisible control character, by row and column.

    Tabs, line breaks and other spacing characters are not among them: they become spaces.
    """
    problems = []
    header = rows[header_at]
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        for index in sorted(set(columns.values())):
            value = row[index] if index < len(row) else None
            if not isinstance(value, str):
                continue
            found = [(m.start() + 1, m.group()) for m in _CONTROL.finditer(value)]
            if found:
                where = f'row {offset}, column "{_cell(_CONTROL.sub("", _cell(header[index])))}"'
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
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def match_headers(row: list[Any], overrides: dict[str, str]) -> dict[str, int]:
    """Which column holds each known field, by the header's words."""
    found: dict[str, int] = {}
    headers = [_norm(_cell(c)) for c in row]
    for wanted, header in overrides.items():
        if _norm(header) in headers:
            found[wanted] = headers.index(_norm(header))
    lookup = {syn: name for name, syns in SYNONYMS.items() for syn in syns}
    for index, header in enumerate(headers):
        if not header or index in found.values():
            continue
        name = lookup.get(header)
        if name is None:
            close = difflib.get_close_matches(header, list(lookup), n=1, cutoff=0.86)
            name = lookup[close[0]] if close else None
        if name is None:
            words = set(header.split())
            for syn, candidate in lookup.items():
                if len(syn) > 3 and set(syn.split()) <= words:
                    name = candidate
                    break
        if name is not None and name not in found:
            found[name] = index
    return found


class DateReader:
    """Reads dates in ISO, UK numeric, written-out and Excel forms, noting ambiguity."""

    def __init__(self, order: str | None) -> None:
        self.order = order  # "dmy" or "mdy", or None to decide from the data

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


def _month(word: str) -> int | None:
    word = word.lower()
    for name, number in MONTHS.items():
        if len(word) >= 3 and name.startswith(word):
            return number
    return None


def _risk(text: str, default: str) -> str:
    words = _norm(text)
    if re.search(r"\b(red|high|r)\b", words):
        return "high"
    if re.search(r"\b(amber|medium|med|a|moderate)\b", words):
        return "medium"
    if re.search(r"\b(green|low|g)\b", words):
        return "low"
    return default


def _action_status(text: str) -> str:
    words = _norm(text)
    if re.search(r"\bclosed\b", words):
        return "closed"
    if re.search(r"\b(complete|completed|done|yes|achieved|finished|met)\b", words):
        return "completed"
    if re.search(r"\b(progress|ongoing|started|underway|partially|partly)\b", words):
        return "in-progress"
    return "planned"


def _source(text: str) -> str | None:
    words = _norm(text)
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


def _regulations(text: str) -> list[str]:
    found = []
    for number in re.findall(r"\b(20a|20|1[0-9]|9)\b", text.lower()):
        value = number.upper()
        if value not in found:
            found.append(value)
    return found


def _title(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= 100 else first[:97].rstrip() + "..."


class _Statements:
    """Quality statements named in a cell, by slug or title, loosely."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.kq: dict[str, list[str]] = {}
        for kq in portfolio.framework.key_questions:
            self.kq[_norm(kq.title)] = [s.slug for s in kq.statements]
            for st in kq.statements:
                self.by_key[_norm(st.slug)] = [st.slug]
                self.by_key[_norm(st.title)] = [st.slug]
        for old, new in portfolio.framework.aliases().items():
            self.by_key[_norm(old)] = new

    def find(self, text: str) -> list[str]:
        found: list[str] = []
        for part in re.split(r"[;,\n/]| and ", text):
            key = _norm(part)
            if not key:
                continue
            slugs = self.by_key.get(key)
            if slugs is None:
                close = difflib.get_close_matches(key, list(self.by_key), n=1, cutoff=0.75)
                slugs = self.by_key[close[0]] if close else []
            found.extend(slug for slug in slugs if slug not in found)
        return found


class _Roles:
    """Owners named in the tracker, as roles of portfolio.yaml (new ones added)."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.known: dict[str, str] = {}
        for slug, role in portfolio.settings.roles.items():
            for key in (slug, role.name or "", role.title or ""):
                if key:
                    self.known[_norm(key)] = slug
        self.added: dict[str, dict[str, str]] = {}

    def role(self, text: str) -> str:
        key = _norm(text)
        if key in self.known:
            return self.known[key]
        slug = slugify(text)[:40] or "owner"
        words = set(key.split())
        entry = {"title": text} if words & set(JOB_WORDS) else {"name": text}
        self.added[slug] = entry
        self.known[key] = slug
        return slug


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
    columns = match_headers(rows[header_at], overrides)
    headers = ", ".join(_cell(c) for c in rows[header_at] if _cell(c))
    for needed in ("finding", "action", "deadline"):
        if needed not in columns:
            message = (
                f"no column for {needed}: the headers are {headers}; name it in a map file: "
                f"columns: {{{needed}: <header>}}"
            )
            raise PortfolioError([Problem(source.as_posix(), header_at + 1, message)])
    hidden = hidden_characters(source, rows, header_at, columns, table.guessed)
    if hidden:
        raise PortfolioError(hidden)
    defaults = mapping.get("defaults") or {}
    dates = DateReader(mapping.get("date_order"))
    dates.learn(
        [
            _cell(r[columns["deadline"]])
            for r in rows[header_at + 1 :]
            if columns["deadline"] < len(r)
        ]
    )
    statements = _Statements(portfolio)
    roles = _Roles(portfolio)
    default_owner = (
        "registered-manager"
        if "registered-manager" in portfolio.settings.roles
        else next(iter(portfolio.settings.roles))
    )

    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    carried: dict[str, Any] = {}
    known = {_norm(c.baseline): c.id for c in portfolio.concerns.values()}
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        cells = {name: (row[i] if i < len(row) else None) for name, i in columns.items()}
        if not any(_cell(v) for v in cells.values()):
            continue  # a blank row
        for name in CARRIED:
            if name in cells and _cell(cells[name]):
                carried[name] = cells[name]
            elif name in carried and name in cells:
                cells[name] = carried[name]
        finding = _cell(cells.get("finding"))
        if not finding:
            report.skipped.append(f"row {offset}: no finding, and none above it to carry down")
            continue
        if not _cell(cells.get("action")):
            report.skipped.append(f"row {offset}: no action")
            continue
        if _norm(finding) in known:  # kept in step by generator.tools.sync.keep_in_step
            report.existing.setdefault(known[_norm(finding)], []).append((offset, cells))
            continue
        due, warning = dates.read(cells.get("deadline"))
        if due is None:
            report.skipped.append(
                f"row {offset}: the deadline {_cell(cells.get('deadline'))!r} is not a date; "
                "write it as 31/01/2026 or 2026-01-31"
            )
            continue
        if warning:
            report.warnings.append(f"row {offset}: {warning}")
        cells["deadline"] = due
        found = statements.find(_cell(cells.get("quality_statement")))
        if not found and defaults.get("quality_statements"):
            found = statements.find("; ".join(map(str, defaults["quality_statements"])))
        if not found:
            kq = _cell(cells.get("key_question"))
            hint = f" (key question {kq!r} alone does not say which statement)" if kq else ""
            report.skipped.append(
                f"row {offset}: no quality statement I recognise{hint}; add a 'Quality "
                "statement' column, or defaults: {quality_statements: [...]} in a map file"
            )
            continue
        cells["statements"] = found
        groups.setdefault(_norm(finding), []).append((offset, cells))

    prefix = str(mapping.get("id_prefix", "IMP"))
    taken = set(portfolio.sources)
    number = 0
    evidence_number = 0
    concern_files: dict[Path, str] = {}
    for rows_of in groups.values():
        number += 1
        while f"{prefix}-{number:02d}" in taken:
            number += 1
        cid = f"{prefix}-{number:02d}"
        taken.add(cid)
        first = rows_of[0][1]
        finding = _cell(first["finding"])
        actions = []
        for index, (offset, cells) in enumerate(rows_of, start=1):
            owner_text = _cell(cells.get("owner"))
            owner = roles.role(owner_text) if owner_text else default_owner
            action: dict[str, Any] = {
                "id": f"{cid}-A{index}",
                "title": _cell(cells["action"]),
                "owner": owner,
                "due": cells["deadline"],
                "status": _action_status(_cell(cells.get("status"))),
            }
            progress = _cell(cells.get("progress"))
            if progress:
                action["updates"] = [{"date": today, "by": owner, "note": progress}]
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
                    "location": f"{source.name}, row {offset}",
                    "summary": closure_text,
                }
                path = portfolio.root / "evidence" / "imported" / f"{eid.lower()}.yaml"
                concern_files[path] = yaml.safe_dump(
                    evidence, sort_keys=False, allow_unicode=True, width=100
                )
                report.evidence.append(eid)
                action["evidence"] = [eid]
                if action["status"] == "closed":
                    action["closure"] = {"date": when, "by": owner, "evidence": [eid]}
            actions.append(action)
            report.actions += 1
        raised, _ = dates.read(first.get("raised"))
        all_done = all(a["status"] in ("completed", "closed") for a in actions)
        concern: dict[str, Any] = {
            "id": cid,
            "title": _title(finding),
            "quality_statements": first["statements"],
            "source": _source(_cell(first.get("source"))) or defaults.get("source", "other"),
            "raised": raised or today,
            "owner": actions[0]["owner"],
            "risk": _risk(_cell(first.get("risk")), str(defaults.get("risk", "medium"))),
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
        regulation = _regulations(_cell(first.get("regulation")))
        if regulation:
            concern["regulation"] = regulation
        concern["actions"] = actions
        rows_text = ", ".join(str(o) for o, _ in rows_of)
        body = (
            f"## Context\n\nImported from {source.name} on {today.isoformat()} "
            f"(rows {rows_text}).\n"
        )
        front = yaml.safe_dump(concern, sort_keys=False, allow_unicode=True, width=100)
        name = f"{cid.lower()}-{_short_slug(finding)}.md"
        path = portfolio.root / "concerns" / "imported" / name
        concern_files[path] = f"---\n{front}---\n{body}"
        report.concerns.append(cid)
    report.roles = sorted(roles.added)
    existing = [p for p in concern_files if p.exists()]
    if existing:
        raise PortfolioError([_exists_already(p) for p in existing])
    if dry_run:
        report.files = sorted(concern_files)
        return report
    _write(portfolio, concern_files, roles.added, report)
    return report


def _write(
    portfolio: Portfolio,
    files: dict[Path, str],
    new_roles: dict[str, dict[str, str]],
    report: ImportReport,
) -> None:
    """Write the records and the new roles; if anything fails, put back every byte and folder."""
    settings_path = portfolio.root / "portfolio.yaml"
    settings_before = settings_path.read_bytes()
    settings_after = None
    if new_roles:
        text = _add_roles(settings_before.decode("utf-8"), new_roles, settings_path)
        settings_after = text.encode("utf-8")
    written: list[Path] = []
    made: list[Path] = []
    settings_touched = False
    try:
        for path, text in sorted(files.items()):
            for folder in _missing_folders(path.parent):
                folder.mkdir()
                made.append(folder)
            with path.open("x", encoding="utf-8") as stream:
                written.append(path)
                stream.write(text)
        if settings_after is not None:
            settings_touched = True
            settings_path.write_bytes(settings_after)
        load(portfolio.root)
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if settings_touched:
            settings_path.write_bytes(settings_before)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            raise _in_the_way(portfolio.root, Path(exc.filename)) from None
        raise
    report.files = written


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


def _short_slug(text: str, limit: int = 40) -> str:
    slug = slugify(text)
    return slug if len(slug) <= limit else slug[:limit].rsplit("-", 1)[0]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
