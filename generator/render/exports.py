"""Exports people use elsewhere: the action tracker and evidence register as CSV and XLSX.

Columns follow the action plans providers and commissioners keep (item to put right,
regulation, action, owner, deadline, status colour, progress, closure evidence). Cells that a
spreadsheet would run as a formula are made inert, and both formats give the same bytes for the
same build.
"""

from __future__ import annotations

import csv
import functools
import io
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from generator.check.assess import Build
from generator.digest import Memo, content_key
from generator.load.link import Portfolio
from generator.model import Action
from generator.render.xlsx import UNWRITABLE, Look, workbook_parts

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    if value.startswith(_FORMULA_START):
        return "'" + value
    if not value or value[0].isalnum() or not _unseen(value[0]):  # most cells: it shows at once
        return value
    first = next((char for char in value if not _unseen(char)), "")
    return "'" + value if first in _FORMULA_START[:4] else value


def cell_text(value: str) -> str:
    """One cell of a CSV or XLSX file: what a workbook cannot hold removed, then made inert.

    Made inert last, so no later cleaning can uncover a formula.
    """
    return inert(UNWRITABLE.sub("", value))


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
    return _csv(columns, _cleaned(rows))


def _csv(columns: list[str], cleaned: list[list[str]]) -> bytes:
    """:func:`to_csv` given the rows' cells already through :func:`cell_text`."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([cell_text(column) for column in columns])
    writer.writerows(cleaned)
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


def _colour_look(word: str, long: bool) -> str:
    return f"Portfolio {word.lower()}{' long' if long else ''}"


#: The looks a cell can have, each a named cell style in the workbook (as Excel lists them).
HEADING, DATE, TEXT, LONG_TEXT = range(4)
LOOKS = [
    Look("Portfolio heading", bold=True),
    Look("Portfolio date", top=True, number_format="dd mmm yyyy"),
    Look("Portfolio text", top=True),
    Look("Portfolio long text", top=True, wrap=True),
    *(
        Look(_colour_look(word, long), bold=True, fill=fill, colour=text, top=True, wrap=long)
        for word, (fill, text) in FILLS.items()
        for long in (False, True)
    ),
]
_NAMED = {look.name: index for index, look in enumerate(LOOKS)}
_COLOUR_LOOKS = {
    (word, long): _NAMED[_colour_look(word, long)] for word in FILLS for long in (False, True)
}
#: Text longer than this wraps in the workbook.
LONG = 60


def to_xlsx(title: str, columns: list[str], rows: list[list[str]], when: datetime) -> bytes:
    """An XLSX workbook with one sheet: a bold frozen header row with filters, columns as wide
    as their text, dates as dates, and each status colour filled in that colour beside its
    word (so colour is never the only signal)."""
    return _xlsx(title, columns, rows, _cleaned(rows), when)


def _xlsx(
    title: str,
    columns: list[str],
    rows: list[list[str]],
    cleaned: list[list[str]],
    when: datetime,
) -> bytes:
    """:func:`to_xlsx` given the rows' cells already through :func:`cell_text`."""
    widths = [
        13
        if column in DATE_COLUMNS
        else min(60, max([len(column), *(len(r[i]) for r in rows)]) + 2)
        for i, column in enumerate(columns)
    ]
    dated = frozenset(i for i, column in enumerate(columns) if column in DATE_COLUMNS)
    coloured = columns.index(COLOUR_COLUMN) if COLOUR_COLUMN in columns else -1

    def sheet() -> Iterator[list[tuple[str | date, int]]]:
        yield [(cell_text(column), HEADING) for column in columns]
        for row, texts in zip(rows, cleaned, strict=True):
            cells: list[tuple[str | date, int]] = []
            for index, (value, text) in enumerate(zip(row, texts, strict=True)):
                long = len(value) > LONG
                if index in dated:
                    day = _iso_date(value)
                    if day is not None:
                        cells.append((day, DATE))
                        continue
                elif index == coloured:
                    look = _COLOUR_LOOKS.get((value.split(":", 1)[0], long))
                    if look is not None:
                        cells.append((text, look))
                        continue
                cells.append((text, LONG_TEXT if long else TEXT))
            yield cells

    parts = workbook_parts(title, LOOKS, widths, sheet(), when)
    return dated_zip(parts, when.date())


def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _cleaned(rows: list[list[str]]) -> list[list[str]]:
    """Each row's cells through :func:`cell_text`."""
    return [[cell_text(cell) for cell in row] for row in rows]


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
    # Each table's cells are cleaned once, for its CSV and its workbook, when one is made.
    tracker_clean = functools.cache(lambda: _cleaned(tracker))
    register_clean = functools.cache(lambda: _cleaned(register))
    files: dict[str, tuple[list[str], list[list[str]], Callable[[], bytes]]] = {
        "downloads/action-tracker.csv": (
            tracker_head,
            tracker,
            lambda: _csv(tracker_head, tracker_clean()),
        ),
        "downloads/action-tracker.xlsx": (
            tracker_head,
            tracker,
            lambda: _xlsx("Action tracker", tracker_head, tracker, tracker_clean(), when),
        ),
        "downloads/evidence-register.csv": (
            register_head,
            register,
            lambda: _csv(register_head, register_clean()),
        ),
        "downloads/evidence-register.xlsx": (
            register_head,
            register,
            lambda: _xlsx("Evidence register", register_head, register, register_clean(), when),
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
