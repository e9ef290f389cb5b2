"""Exports people use elsewhere: the action tracker and evidence register as CSV and XLSX.

Columns follow the action plans providers and commissioners keep (item to put right,
regulation, action, owner, deadline, status colour, progress, closure evidence). Cells that a
spreadsheet would run as a formula are made inert, and both formats give the same bytes for the
same build.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from generator.check.assess import Build
from generator.digest import Memo, content_key
from generator.load.link import Portfolio
from generator.model import Action

TRACKER_COLUMNS = [
    "Concern",
    "Item to put right",
    "Regulation",
    "Quality statements",
    "Action id",
    "Action",
    "Owner",
    "Deadline",
    "Extensions",
    "Status",
    "Status colour",
    "Progress",
    "Closure evidence",
    "Findings",
]
REGISTER_COLUMNS = [
    "Evidence id",
    "Title",
    "Type",
    "Category",
    "Shows",
    "Date",
    "Owner",
    "Held",
    "Quality statements",
    "Cited by",
    "SHA-256",
]
# Characters an XLSX file (XML 1.0) cannot hold; removed from CSV too, so both show the same.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# An XLSX string shows _x0041_ as "A"; a literal "_x" before four hex digits and "_" is escaped.
_XLSX_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _unseen(char: str) -> bool:
    """Spaces, control characters and invisible marks, which a spreadsheet may pass over."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs")


def _named(columns: list[str], build: Build) -> list[str]:
    """``columns`` with the statements' column named as the portfolio's framework names them
    ("Key lines of enquiry" under CQC's 2026 draft)."""
    terms = build.portfolio.framework.terms.statements
    name = terms[:1].upper() + terms[1:]
    return [name if c == "Quality statements" else c for c in columns]


def tracker_columns(build: Build) -> list[str]:
    """The action tracker's header row."""
    return _named(TRACKER_COLUMNS, build)


def register_columns(build: Build) -> list[str]:
    """The evidence register's header row."""
    return _named(REGISTER_COLUMNS, build)


def inert(value: str) -> str:
    """Text a spreadsheet will show, never evaluate (OWASP's advice on CSV injection).

    A cell that starts with a sign of a formula, or with spaces or invisible characters and then
    one, is given a leading apostrophe.
    """
    first = next((char for char in value if not _unseen(char)), "")
    if value.startswith(_FORMULA_START) or first in _FORMULA_START[:4]:
        return "'" + value
    return value


def cell_text(value: str) -> str:
    """One cell of a CSV or XLSX file: what a workbook cannot hold removed, then made inert.

    Made inert last, so no later cleaning can uncover a formula.
    """
    return inert(_UNWRITABLE.sub("", value))


def progress_of(action: Action) -> str:
    """An action's latest progress note, dated: "2026-07-01: note" (or "")."""
    latest = max(action.updates, key=lambda u: u.date, default=None)
    return f"{latest.date.isoformat()}: {latest.note}" if latest else ""


def closure_evidence(portfolio: Portfolio, action: Action) -> str:
    """The evidence an action's closure cites, by id and title ("withheld" where hidden)."""
    if action.closure is None:
        return ""
    return "; ".join(
        f"{e} {portfolio.evidence[e].title}" if e in portfolio.evidence else "withheld"
        for e in action.closure.evidence
    )


def tracker_rows(build: Build) -> list[list[str]]:
    """One row per action, in concern order."""
    p, status = build.portfolio, build.status
    statements = p.framework.statements()
    rows = []
    for concern, action in p.actions.values():
        progress = progress_of(action)
        evidence = closure_evidence(p, action)
        brag = status[action.id]
        rows.append(
            [
                concern.id,
                f"{concern.title}: {concern.baseline}",
                ", ".join(concern.regulation),
                "; ".join(statements[s][1].title for s in p.statements_of[concern.id]),
                action.id,
                action.title,
                p.role_label(action.owner),
                action.current_due.isoformat(),
                str(len(action.extensions)),
                action.status,
                f"{brag.colour.capitalize()}: {brag.label}",
                progress,
                evidence,
                ", ".join(f.code for f in build.findings_for(action.id)),
            ]
        )
    return rows


def register_rows(build: Build) -> list[list[str]]:
    """One row per evidence entry, with the checksum of its attached file."""
    p = build.portfolio
    statements = p.framework.statements()
    rows = []
    for evidence in p.evidence.values():
        digest = build.checksums.get(evidence.id, "")
        cited = sorted({c.concern.id for c in p.citations[evidence.id]})
        rows.append(
            [
                evidence.id,
                evidence.title,
                evidence.type,
                p.category_of(evidence),
                p.nature_of(evidence),
                evidence.date.isoformat(),
                p.role_label(evidence.owner) if evidence.owner else "",
                evidence.file or evidence.location or "",
                "; ".join(statements[s][1].title for s in p.filed_under[evidence.id]),
                ", ".join(cited),
                digest,
            ]
        )
    return rows


def to_csv(columns: list[str], rows: list[list[str]]) -> bytes:
    """CSV with a byte-order mark, so Excel reads the UTF-8 text correctly."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([cell_text(column) for column in columns])
    writer.writerows([[cell_text(cell) for cell in row] for row in rows])
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


#: Columns that hold dates: real dates in XLSX, ISO dates in CSV.
DATE_COLUMNS = frozenset({"Deadline", "Date"})
#: The column that holds the BRAG colour with its word, and how each colour is filled.
COLOUR_COLUMN = "Status colour"
FILLS = {  # colour word -> (fill, text), as on the site
    "Red": ("B10E1E", "FFFFFF"),
    "Amber": ("F5A300", "0B0C0C"),
    "Green": ("00703C", "FFFFFF"),
    "Blue": ("1D70B8", "FFFFFF"),
}


def to_xlsx(title: str, columns: list[str], rows: list[list[str]], when: datetime) -> bytes:
    """An XLSX workbook with one sheet: a bold frozen header row with filters, columns as wide
    as their text, dates as dates, and each status colour filled in that colour beside its
    word (so colour is never the only signal)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)  # streams rows: fast and lean for large trackers
    sheet: Any = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        longest = max([len(column), *(len(r[index - 1]) for r in rows)])
        width = 13 if column in DATE_COLUMNS else min(60, longest + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    # Each look a cell can have is a named style, made once: giving a cell a named style copies
    # it, where setting its font, fill and alignment one by one looks each up again (a large
    # tracker has a hundred thousand cells).
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")

    def look(name: str, **parts: Any) -> str:
        book.add_named_style(NamedStyle(name=name, **parts))
        return name

    header_look = look("Portfolio heading", font=Font(bold=True))
    date_look = look("Portfolio date", number_format="dd mmm yyyy", alignment=top)
    text_looks = {
        False: look("Portfolio text", alignment=top),
        True: look("Portfolio long text", alignment=wrap),
    }
    colour_looks = {
        (word, long): look(
            f"Portfolio {word.lower()}{' long' if long else ''}",
            fill=PatternFill("solid", fgColor=fill),
            font=Font(bold=True, color=text),
            alignment=wrap if long else top,
        )
        for word, (fill, text) in FILLS.items()
        for long in (False, True)
    }
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(column))
        cell.style = header_look
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            day = _iso_date(value) if column in DATE_COLUMNS else None
            cell = WriteOnlyCell(sheet, value=day if day is not None else _xlsx_text(value))
            long = len(value) > 60
            word = value.split(":", 1)[0] if column == COLOUR_COLUMN else ""
            if day is not None:
                cell.style = date_look
            elif (word, long) in colour_looks:
                cell.style = colour_looks[word, long]
            else:
                cell.style = text_looks[long]
            cells.append(cell)
        sheet.append(cells)
    book.properties.creator = "portfolio"
    book.properties.created = when
    book.properties.modified = when
    raw = io.BytesIO()
    book.save(raw)
    return _stable_zip(raw.getvalue(), when)


def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _xlsx_text(value: str) -> str:
    """A cell's text as an XLSX file stores it, so that Excel shows what the CSV shows."""
    return _XLSX_ESCAPE.sub("_x005F_", cell_text(value))


def _stable_zip(data: bytes, when: datetime) -> bytes:
    """The workbook with every entry dated ``when``, so builds give the same bytes."""
    moment = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

    def entries() -> Iterator[tuple[str, bytes]]:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            for info in source.infolist():
                content = source.read(info.filename)
                if info.filename == "docProps/core.xml":
                    # openpyxl stamps "modified" with the time of saving, whatever it was told.
                    content = re.sub(
                        rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                        rb"\g<1>" + moment + rb"\g<2>",
                        content,
                    )
                yield info.filename, content

    return dated_zip(entries(), when.date())


def dated_zip(entries: Iterable[tuple[str, bytes]], day: date) -> bytes:
    """A zip whose entries all carry ``day``, so the same content gives the same bytes."""
    stamp = (min(max(day.year, 1980), 2107), day.month, day.day, 0, 0, 0)  # what zip can hold
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def downloads(build: Build, memo: Memo | None = None) -> dict[str, bytes]:
    """Every export, by its file name in the site.

    With a ``memo``, a file whose rows are unchanged is not made again.
    """
    when = datetime(build.as_of.year, build.as_of.month, build.as_of.day)
    tracker = tracker_rows(build)
    register = register_rows(build)
    tracker_head = tracker_columns(build)
    register_head = register_columns(build)
    files: dict[str, tuple[list[str], list[list[str]], Callable[[], bytes]]] = {
        "downloads/action-tracker.csv": (
            tracker_head,
            tracker,
            lambda: to_csv(tracker_head, tracker),
        ),
        "downloads/action-tracker.xlsx": (
            tracker_head,
            tracker,
            lambda: to_xlsx("Action tracker", tracker_head, tracker, when),
        ),
        "downloads/evidence-register.csv": (
            register_head,
            register,
            lambda: to_csv(register_head, register),
        ),
        "downloads/evidence-register.xlsx": (
            register_head,
            register,
            lambda: to_xlsx("Evidence register", register_head, register, when),
        ),
    }
    made: dict[str, bytes] = {}
    for name, (columns, rows, make) in files.items():
        if memo is None:
            made[name] = make()
        else:
            made[name] = memo(
                f"download/{name}", content_key(columns, rows, when.isoformat()), make
            )
    return made
