"""The privacy guard: likely NHS numbers and dates of birth in what an output would show.

An NHS number is ten digits whose last digit is a modulus-11 check digit. People write it in
groups of three, three and four, with spaces, dashes, dots or slashes between them, beside
letters ("NHS-9434765919") and in file names, and an editor may wrap it onto the next line. A
date of birth is caught where it is labelled as one ("DOB", "date of birth", "born").

Text is normalised before it is matched: every kind of space becomes a plain space and every
kind of dash, dot or slash a plain one, character for character, so that what is found still
points at the line it starts on; a line break (with the next line's indent or quote marks) may
stand between the groups of a number or the words of a date. Messages never repeat what they
found, so a report cannot leak it either.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from generator.errors import Problem

if TYPE_CHECKING:
    from generator.check.assess import Build
    from generator.load.link import Portfolio

NHS_NUMBER = "an NHS number"
DATE_OF_BIRTH = "a date of birth"

# --- normalising ---------------------------------------------------------------------------------

_SPACES = (
    "\t\v\f\r\x85\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"  # invisible: soft hyphen, zero widths
    "\ufffd"  # a byte that was not text, such as a non-breaking space in another encoding
)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_DOTS = "\u00b7\u2024\u2027\u2219\u22c5\uff0e"
_SLASHES = "\u2044\u2215\uff0f"
_FOLD = str.maketrans(
    {
        char: plain
        for chars, plain in ((_SPACES, " "), (_DASHES, "-"), (_DOTS, "."), (_SLASHES, "/"))
        for char in chars
    }
)


def normalise(text: str) -> str:
    """``text`` with every space, dash, dot and slash made plain, one character for one, so
    an offset into it is an offset into ``text``."""
    return text.translate(_FOLD)


# --- the patterns, matched on normalised text -------------------------------------------------

# What may stand between the groups of a number: spaces around at most one dash, dot, slash
# or underscore, then perhaps a line break and the next line's indent or quote marks. Runs of
# spaces are possessive (*+), never given back: a long run cannot make matching slow.
_GAP = r" *+[-./_]? *+(?:\n[ >]*+)?"
# A digit first, not after another (tested once the digit is found: much the quicker way).
_NUMBER = re.compile(
    rf"([0-9](?<![0-9]{{2}})[0-9]{{2}}){_GAP}([0-9]{{3}}){_GAP}([0-9]{{4}})(?![0-9])"
)

_BREAK = r"(?: *+\n[ >]*+| ++)"  # between words: spaces, or a line break where text was wrapped
_JOIN = r"(?:[ _-]*+\n[ >]*+|[ _-]*+)"  # between the words of a label: "DateOfBirth" too
_LABEL = rf"(?:\bdate{_JOIN}of{_JOIN}birth|\bbirth{_JOIN}date|\bd\.? ?o\.? ?b(?![a-z])\.?|\bborn\b)"
# Between the label and the date: punctuation and a few small words ("is", "on the").
_LINK = rf"(?:{_BREAK}?(?:[:=|,(-]|\b(?:is|was|on|the|of)\b))*{_BREAK}?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_NUMERIC_DATE = r"[0-9]{1,2} *[-./] *[0-9]{1,2} *[-./] *(?:[0-9]{4}|[0-9]{2})(?![0-9])"
_ISO_DATE = r"[0-9]{4} *[-./] *[0-9]{1,2} *[-./] *[0-9]{1,2}(?![0-9])"
_DAY_MONTH_YEAR = (
    rf"[0-9]{{1,2}}{_ORDINAL}(?:{_BREAK}of)?(?:{_BREAK}| *- *){_MONTH}(?:,?{_BREAK}| *- *|,)"
    r"[0-9]{4}(?![0-9])"
)
_MONTH_DAY_YEAR = rf"{_MONTH}{_BREAK}[0-9]{{1,2}}{_ORDINAL},?{_BREAK}[0-9]{{4}}(?![0-9])"
_BIRTH = re.compile(
    rf"{_LABEL}{_LINK}(?:{_NUMERIC_DATE}|{_ISO_DATE}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR})",
    re.IGNORECASE | re.ASCII,
)


# A table's heading cell naming dates of birth, and a date in the column below it.
_HEADING = re.compile(rf" *{_LABEL} *:? *", re.IGNORECASE | re.ASCII)
_DATE = re.compile(
    rf" *(?:{_NUMERIC_DATE}|{_ISO_DATE}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR}) *",
    re.IGNORECASE | re.ASCII,
)


def nhs_number_valid(digits: str) -> bool:
    """Whether ten digits pass the NHS number's modulus-11 check."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _found(text: str) -> list[tuple[int, str]]:
    """(offset, kind) of every likely identifier in ``text``, in order."""
    numbers, labels = _hints(text.encode("utf-8", "surrogatepass"))
    if not numbers and not labels:
        return []  # most files: nothing can match, and that is quick to tell
    plain = normalise(text)
    found: list[tuple[int, str]] = []
    at = 0
    while numbers and (match := _NUMBER.search(plain, at)) is not None:
        if nhs_number_valid("".join(match.groups())):
            found.append((match.start(), NHS_NUMBER))
            at = match.end()
        else:  # a longer run of groups may hold a number that starts later
            at = match.start() + 1
    if labels:
        found += [(match.start(), DATE_OF_BIRTH) for match in _BIRTH.finditer(plain)]
    return sorted(found)


def identifiers(text: str) -> Iterator[str]:
    """What kind of identifier each likely personal identifier in ``text`` is."""
    for _, kind in _found(text):
        yield kind


# --- the quick test ----------------------------------------------------------------------------

# Bytes that may stand inside a number or between the letters of a label once text is
# normalised: they are dropped. A line break is kept (at most one may stand in each gap of a
# number); so are digits, as "0", and letters, in lower case. Every byte of a character outside
# ASCII is dropped: the normalised character is a space or a sign, or it cannot match at all.
_DROPPED = b" \t\v\f\r-./_>" + bytes(range(0x80, 0x100))
_QUICK = bytes(
    ord("0") if chr(i).isdigit() else i if i == ord("\n") or chr(i).isalpha() else ord("x")
    for i in range(0x80)
).lower() + bytes(0x80)
# Ten digits with at most one line break after the third and the sixth: the shapes every
# number takes once its gaps are dropped.
_NUMBER_SHAPES = (b"0" * 10, b"000\n0000000", b"000000\n0000", b"000\n000\n0000")
_LABEL_WORDS = (b"birth", b"born", b"dob")


def _may_hold_identifiers(data: bytes) -> bool:
    """False only when the text encoded as ``data`` (UTF-8, or another encoding that keeps
    ASCII as it is) holds no identifier that scanning would find."""
    return any(_hints(data))


def _hints(data: bytes) -> tuple[bool, bool]:
    """Whether the text encoded as ``data`` may hold an NHS number, and whether it may hold a
    label of a date of birth: False only when it cannot."""
    quick = data.translate(_QUICK, _DROPPED)
    return (
        any(shape in quick for shape in _NUMBER_SHAPES),
        any(word in quick for word in _LABEL_WORDS),
    )


# --- files -------------------------------------------------------------------------------------

#: (line, kind) of every likely identifier in a text.
Found = tuple[tuple[int, str], ...]
#: What scanning found in each file, by the SHA-256 of its bytes (see ScanMemo).
Scanned = dict[bytes, Found]
#: How a file is read for scanning.
Reader = Literal["text", "html", "json", "xlsx"]

READERS: dict[str, Reader] = {
    **dict.fromkeys((".txt", ".text", ".md", ".markdown", ".csv", ".tsv", ".log"), "text"),
    **dict.fromkeys((".yaml", ".yml", ".rtf", ".ics", ".vcf"), "text"),
    **dict.fromkeys((".htm", ".html", ".xhtml", ".xml"), "html"),
    ".json": "json",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


def reader_of(name: str) -> Reader | None:
    """How a file named ``name`` is read for scanning; None for files that hold no text it
    can read (images, PDFs, Word documents)."""
    dot = name.rfind(".")
    return READERS.get(name[dot:].lower()) if dot > name.rfind("/") else None


def scan_key(name: str, digest: bytes) -> bytes | None:
    """The key of what scanning the file ``name`` with SHA-256 ``digest`` found, in a
    ScanMemo: the same bytes read another way may hold other text."""
    reader = reader_of(name)
    if reader is None:
        return None
    return digest if reader == "text" else digest + reader.encode()


def scan_text(text: str) -> Found:
    """(line, kind) for every likely identifier in ``text``; a number wrapped across lines is
    found on the line where it starts."""
    found = _found(text)
    lines: list[tuple[int, str]] = []
    line, last = 1, 0
    for offset, kind in found:
        line += text.count("\n", last, offset)
        last = offset
        lines.append((line, kind))
    return tuple(lines)


def scan_bytes(name: str, data: bytes) -> Found:
    """(line, kind) for every likely identifier in the file ``name`` holding ``data``
    (nothing for a file that holds no text this can read). In a spreadsheet, the line is the
    row, and the kind names the sheet and the cell."""
    reader = reader_of(name)
    if reader is None:
        return ()
    if reader == "xlsx":
        return _scan_workbook(data)
    # UTF-8 or another encoding that keeps ASCII: no need to decode to tell, unless what the
    # pages show of it differs from what it holds.
    if (
        reader == "text"
        and b"\x00" not in data
        and not _may_hold_identifiers(data)
        and not (name.lower().endswith(_SHOWN_AS_MARKDOWN) and _SHOWN_MARKS.search(data))
    ):
        return ()
    return scan_decoded(name, decode(data))


def scan_decoded(name: str, text: str) -> Found:
    """(line, kind) for every likely identifier in the text of the file ``name`` (not a
    spreadsheet), as written and as it reads where it is shown."""
    reader = reader_of(name)
    found = set(scan_text(text))
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")) and _hints(text.encode("utf-8", "replace"))[1]:
        found.update(_dates_in_table(text))
    if reader == "html":  # also as it reads: without tags, and with characters named
        found.update(scan_text(_html_text(text)))
    elif reader == "json":  # also with the escapes in its strings read
        found.update(scan_text(_JSON_ESCAPE.sub(_json_unescape, text)))
    elif lower.endswith(_SHOWN_AS_MARKDOWN):  # records and settings: as the pages show them
        shown = (
            _markdown_text(text) if _SHOWN_MARKS.search(text.encode("utf-8", "replace")) else text
        )
        if shown is not text:
            found.update(scan_text(shown))
        if "|" in text and _hints(shown.encode("utf-8", "surrogatepass"))[1]:
            found.update(_dates_in_pipe_tables(shown))
    return tuple(sorted(found))


#: Files whose text the build shows through Markdown and YAML: records and settings.
_SHOWN_AS_MARKDOWN = (".md", ".markdown", ".yaml", ".yml")
#: What Markdown and YAML read as something else: a YAML escape of a character, a backslash
#: before punctuation, markers of emphasis, code and strike-through, and HTML tags.
_YAML_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
_MARKUP = re.compile(r"\\(?=[!-/:-@[-`{-~])|[*`~]")
#: The characters without which a record reads as it is written.
_SHOWN_MARKS = re.compile(rb"[\\&<*`~]")


def _markdown_text(text: str) -> str:
    """What a record reads as once Markdown and YAML are read: escapes read, character
    references named, tags and markers of emphasis and code each a space. Line breaks stay
    where they are, so what is found is found on its line."""
    text = _YAML_ESCAPE.sub(_yaml_unescape, text)
    text = _html_text(text)
    return _MARKUP.sub(" ", text)


def _yaml_unescape(escape: re.Match[str]) -> str:
    code = int(escape[0][2:], 16)
    if code > 0x10FFFF:
        return escape[0]  # no character: YAML refuses it
    return " " if chr(code) == "\n" else chr(code)  # lines stay the file's lines


def _dates_in_pipe_tables(text: str) -> list[tuple[int, str]]:
    """(line, kind) of every date in a Markdown table (rows of cells between '|') under a
    date-of-birth heading."""
    found: list[tuple[int, str]] = []
    columns = _BirthColumns()
    for line, row in enumerate(text.split("\n"), start=1):
        if "|" not in row:
            columns = _BirthColumns()  # the table has ended
            continue
        cells = row.strip().removeprefix("|").removesuffix("|").split("|")
        labelled = _hints(row.encode("utf-8", "surrogatepass"))[1]
        found += [(line, DATE_OF_BIRTH) for _ in columns.dates(cells, labelled)]
    return found


def decode(data: bytes) -> str:
    """The text of a file, whatever its encoding: UTF-8 or UTF-16 or UTF-32 by their marks,
    UTF-16 without a mark by its zero bytes, else UTF-8, else Windows-1252; line ends as
    ``\\n``."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding = "utf-32"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = _utf16_without_mark(data[:4096]) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        text = data.decode("cp1252" if encoding == "utf-8" else encoding, errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utf16_without_mark(sample: bytes) -> str | None:
    """UTF-16 text in western languages has a zero byte in every other place."""
    if len(sample) < 4 or b"\x00" not in sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > len(sample) // 4 and even * 8 < odd:
        return "utf-16-le"
    if even > len(sample) // 4 and odd * 8 < even:
        return "utf-16-be"
    return None


_TAG = re.compile(r"<[^<>]*>")
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|[^u])")
_JSON_ESCAPES = {"n": " ", "r": " ", "t": " ", "b": " ", "f": " "}


def _html_text(text: str) -> str:
    """What an HTML or XML file reads as: each tag a space (its line breaks kept), each
    character reference the character (a line break as a space, so lines stay the file's)."""
    text = _TAG.sub(lambda tag: " " + "\n" * tag[0].count("\n"), text)
    return _REFERENCE.sub(lambda ref: html.unescape(ref[0]).replace("\n", " "), text)


def _json_unescape(escape: re.Match[str]) -> str:
    # An escaped line break is a space here, so that lines stay the file's lines.
    code = escape[0][1:]
    if code.startswith("u"):
        return chr(int(code[1:], 16))
    return _JSON_ESCAPES.get(code, code)


class _BirthColumns:
    """The columns of a table headed as dates of birth, as its rows are read in order."""

    def __init__(self) -> None:
        self.columns: list[int] = []

    def dates(self, cells: list[str], labelled: bool) -> list[int]:
        """The columns of ``cells`` (a row; ``labelled`` when it may hold a label) that hold
        a date under a date-of-birth heading. A row with such a heading is a row of headings,
        which names the columns for the rows after it."""
        if labelled:
            headings = [i for i, cell in enumerate(cells) if _HEADING.fullmatch(normalise(cell))]
            if headings:
                self.columns = headings
                return []
        return [
            i
            for i in self.columns
            if i < len(cells) and _DATE.fullmatch(normalise(cells[i].replace("\n", " ")))
        ]


def _dates_in_table(text: str) -> list[tuple[int, str]]:
    """(line, kind) of every date in a CSV or TSV table under a date-of-birth heading."""
    first = text[: text.find("\n")] if "\n" in text else text
    delimiter = max(",;\t|", key=first.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = _BirthColumns()
    found: list[tuple[int, str]] = []
    line = 1
    try:
        for cells in rows:
            labelled = _hints("\t".join(cells).encode("utf-8", "surrogatepass"))[1]
            found += [(line, DATE_OF_BIRTH) for _ in columns.dates(cells, labelled)]
            line = rows.line_num + 1
    except csv.Error:  # a row the table cannot be read past (its lines were scanned as text)
        pass
    return found


def _scan_workbook(data: bytes) -> Found:
    """(row, kind with sheet and cell) for every likely identifier in a workbook's cells; the
    cells of a row are read together, apart, so that a label and its date are read together
    but no number runs from one cell into the next."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    found: list[tuple[int, str]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # every way a damaged or encrypted workbook fails to open
        return ()
    try:
        order = book.sheetnames
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # the stored size may be wrong: read every row there is
            place = order.index(sheet.title) + 1
            rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
            columns = _BirthColumns()
            for row_number, values in enumerate(rows, start=1):
                starts, texts, at = [], [], 0
                for value in values:
                    text = _cell_text(value)
                    starts.append(at)
                    texts.append(text)
                    at += len(text) + 3
                line = " | ".join(texts)
                for offset, kind in _found(line):
                    column = sum(1 for start in starts if start <= offset)
                    cell = f"{get_column_letter(column)}{row_number}"
                    found.append((row_number, f"{kind} (sheet {place}, cell {cell})"))
                labelled = _hints(line.encode("utf-8", "surrogatepass"))[1]
                for index in columns.dates(texts, labelled):
                    cell = f"{get_column_letter(index + 1)}{row_number}"
                    found.append((row_number, f"{DATE_OF_BIRTH} (sheet {place}, cell {cell})"))
    except Exception:  # a workbook damaged past its first sheets: what was read is kept
        pass
    finally:
        book.close()
    return tuple(found)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == time() else value
    if isinstance(value, date | datetime):
        return value.isoformat()
    # A line break inside a cell would move the rows apart: the cell is one line here.
    return str(value).replace("\r", " ").replace("\n", " ")


def scan_file(path: Path, display: str) -> Iterator[tuple[str, int, str]]:
    """(file, line, kind) for every likely identifier in a file."""
    for number, kind in _scan_path(path):
        yield display, number, kind


def _scan_path(path: Path) -> Found:
    try:
        data = path.read_bytes()
    except OSError:
        return ()
    return scan_bytes(path.name, data)


@dataclass
class ScanMemo:
    """What scanning found in each file, by the SHA-256 of its bytes (see scan_key): a file a
    build scanned before is not read again. ``now`` holds what this build looked up or
    scanned."""

    before: Mapping[bytes, Found] = field(default_factory=dict)
    now: Scanned = field(default_factory=dict)

    def found_in(self, path: Path, digest: bytes | None) -> Found:
        """(line, kind) of every likely identifier in the file at ``path``."""
        key = scan_key(path.name, digest) if digest else None
        if key is None:
            return _scan_path(path)
        found = self.now.get(key)
        if found is None:
            found = self.before.get(key)
            if found is None:
                found = _scan_path(path)
            self.now[key] = found
        return found


def scan(
    portfolio: Portfolio,
    memo: ScanMemo | None = None,
    attachment_digests: Mapping[str, str] | None = None,
) -> list[tuple[str, int, str]]:
    """Every likely identifier in the files behind what ``portfolio`` shows: its record files,
    the attached files that hold text, and the names of attached files (found at the line of
    the entry's ``file``).

    With a ``memo`` (and the SHA-256 of the attachments by evidence id, as hexadecimal), a
    file whose bytes were scanned before is not read again.
    """
    memo = memo or ScanMemo()
    digests = attachment_digests or {}
    found: list[tuple[str, int, str]] = []
    seen: set[Path] = set()
    for source in [portfolio.settings_source, *portfolio.sources.values()]:
        if source is None or source.path in seen:
            continue
        seen.add(source.path)
        for line, kind in memo.found_in(source.path, source.digest or None):
            found.append((source.display, line, kind))
    # A portfolio's own framework: its titles are on every page.
    own = portfolio.root / "framework.yaml"
    if own.is_file() and own not in seen:
        seen.add(own)
        for line, kind in memo.found_in(own, None):
            found.append((f"{portfolio.display_root}/framework.yaml", line, kind))
    root = portfolio.root.resolve()
    for eid, path in sorted(portfolio.attachments.items(), key=lambda item: item[1]):
        if path not in seen and reader_of(path.name) is not None:
            seen.add(path)
            hexdigest = digests.get(eid)
            for line, kind in memo.found_in(path, bytes.fromhex(hexdigest) if hexdigest else None):
                found.append((attachment_display(portfolio, path, root), line, kind))
    known = set(found)
    for eid, path in sorted(portfolio.attachments.items()):
        # The output names the file as it is on disk, which the entry may not spell out.
        where = portfolio.where(eid, "file")
        for kind in dict.fromkeys(identifiers(path.relative_to(root).as_posix())):
            if (where.path, where.line, kind) not in known:
                found.append((where.path, where.line, f"{kind} in the name of the attached file"))
    return found


def attachment_display(portfolio: Portfolio, path: Path, root: Path) -> str:
    """How messages name an attached file: inside the portfolio folder as the user gave it."""
    return f"{portfolio.display_root}/{path.relative_to(root).as_posix()}"


def guard(build: Build) -> list[Problem]:
    """Errors for commissioner and public output holding likely personal identifiers.

    ``build`` is the audience's view: its P601 findings are exactly the identifiers in what
    that audience would be shown, so nothing is read twice. A file shown by several entries
    is named once.
    """
    audience = build.portfolio.audience
    if audience not in ("commissioner", "public"):
        return []
    problems = {
        (finding.path, finding.line, finding.message): Problem(
            finding.path,
            finding.line,
            f"{finding.message}, which {audience} output must not hold: "
            "remove it, or mark the record personal_data: true or visibility: internal",
        )
        for finding in build.findings
        if finding.code == "P601"
    }
    return list(problems.values())
