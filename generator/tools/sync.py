"""Keeping a portfolio in step with its tracker: an edited action plan imported back.

The action plan ``portfolio report action-plan --format xlsx`` writes (or its CSV) carries each
action's concern id and action id. A registered manager edits it in Excel (a status, a dated
progress update, the evidence of completion, new rows under a concern) and imports it back;
rows of a tracker of their own whose finding is a concern imported before come here too, from
the importer. Each existing action is updated in place and each new row becomes a new action
of its concern, with a fresh id.

Only the changed fields of a record's YAML front matter are touched: the new text is spliced in
where the YAML nodes (found with ruamel.yaml) say it belongs, so comments, key order, quoting,
blank lines and the Markdown body keep every byte. What is spliced is read back as the build
reads it and must say what was meant; the whole portfolio, as it would be after the change, is
loaded and checked before any file is written. Importing the same file twice changes nothing.
"""

from __future__ import annotations

import codecs
import copy
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import PortfolioError, Problem
from generator.load.link import Portfolio
from generator.load.portfolio import display_path
from generator.load.sources import front_span, parse_yaml
from generator.model import Action, Concern
from generator.output.write import atomic_write
from generator.pipeline import load
from generator.render.exports import inert
from generator.tools.importer import (
    CONTROL,
    STAGES,
    STATUS_WORDS,
    UNDATED,
    DateReader,
    ImportReport,
    OwnerRoles,
    RowFacts,
    alike_actions,
    cell_lines,
    cell_text,
    has_no_year,
    import_tracker,
    is_rag_colour,
    normalised,
    not_a_workbook,
    note_date,
    pair_rows,
    read_dates,
    read_status,
    read_table,
    status_of,
    status_reads_by_day,
    undated_note,
    unescape_cell,
    vague_date,
)

#: A cell longer than this is not imported (Excel holds up to 32,767 characters).
MAX_CELL = 10_000
#: The columns of the exported action plan that import reads, by their normalised header.
PLAN_COLUMNS = {
    "concern": "concern",
    "item to put right": "item",
    "action id": "action_id",
    "action": "title",
    "owner": "owner",
    "deadline": "deadline",
    "status": "status",
    "progress": "progress",
    "closure evidence": "evidence",
}
_DATED = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4})\s*[:\u2013\u2014-]\s*(.*)$"
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PLAIN = re.compile(r"^[^\W_][\w .'()/&%\u00a3\u20ac$!?+-]*$")
EVIDENCE_NOTE = "Evidence of completion: "


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- what a row says -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of a tracker, as the sheet has it (text, trimmed; dates as dates)."""

    number: int  # the row number the spreadsheet shows
    concern: str = ""
    action_id: str = ""
    item: str = ""  # the action plan's "Item to put right"
    title: str = ""
    owner: str = ""
    deadline: date | None = None
    deadline_text: str = ""
    status: str = ""
    progress: str = ""
    evidence: str = ""
    label: str = ""  # where the row is, when not just "row N" ("table 2, row 3")
    deadline_warning: str = ""  # how a deadline that reads two ways was read, when unsettled
    owner_role: str = ""  # the role the importer read the owner as, for a new action
    undated: str = ""  # what a tracker's deadline cell said when it gave no date ("TBC")
    progress_date: date | None = None  # the date of the progress cell, from a column of its own
    vague: str = ""  # a deadline in words ("end of March"), read by the import's rule
    cadence: str = ""  # how often an action is done, when the deadline said so ("monthly")
    #: the original date beside a revised one (``deadline``): a new action's due date, the
    #: revised one its extension
    original: date | None = None
    revision: str = ""  # the columns the two dates came from, as the extension's reason

    @property
    def where(self) -> str:
        """The row as messages name it."""
        return self.label or f"row {self.number}"


@dataclass(frozen=True)
class Wanted:
    """What one row asks of one action."""

    status: str | None
    due: date | None
    updates: tuple[tuple[date, str], ...]
    evidence: tuple[str, ...]
    notes: tuple[str, ...]  # evidence-of-completion text that names no evidence entry
    #: the updates that are the owner's, as the first import of a tracker of the user's own
    #: reads them: dated by a progress-date column or at their start
    signed: frozenset[tuple[date, str]] = frozenset()
    #: the updates dated at their start with no year ("12/11 - chased pharmacy")
    yearless: frozenset[tuple[date, str]] = frozenset()


def read_updates(text: str, today: date, dates: DateReader) -> list[tuple[date, str]]:
    """The dated updates a progress cell holds.

    Each line that starts with a date and a colon or dash ("2026-10-01: Audit done",
    "01/10/2026 - Audit done") starts an update of that date; lines that follow it continue its
    note. Text before the first dated line is an update dated ``today``.
    """
    return [(day, note) for day, note, _, _ in _updates(text, today, dates)]


def _updates(text: str, today: date, dates: DateReader) -> list[tuple[date, str, bool, bool]]:
    """The updates of read_updates, each with whether the cell dates it (else: ``today``) and
    whether its date gives no year."""
    found: list[tuple[date | None, list[str], bool]] = []
    for line in text.splitlines():
        match = _DATED.match(line)
        day = dates.read(match.group(1))[0] if match else None
        if match and day is not None:
            found.append((day, [match.group(2)], False))
        elif (noted := note_date(line, today, dates.order)) is not None:
            # "12/11 - chased pharmacy", as import reads it
            found.append((noted[0], [noted[1]], has_no_year(line)))
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            found.append((None, [line], False))
    updates = []
    for day, lines, no_year in found:
        note = "\n".join(part.strip() for part in lines).strip()
        if note:
            updates.append((day or today, note, day is not None, no_year))
    return updates


def is_action_plan(path: Path) -> bool:
    """Whether ``path`` is an action plan this tool exported (it has Concern and Action id
    columns), which import keeps in step rather than imports as new concerns."""
    try:
        rows = _sheet(path, limit=10)
    except (PortfolioError, OSError):
        return False
    return _plan_header(rows) is not None


class _Formula:
    """A cell that holds a formula: never evaluated, never imported."""

    def __init__(self, text: str) -> None:
        self.text = text


def _sheet(path: Path, limit: int | None = None) -> list[list[Any]]:
    """The cells of the first sheet of an XLSX file (formulas kept as formulas), or of a CSV;
    with ``limit``, its first rows only."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return read_table(path).rows[:limit]
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=False, read_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors for damaged files
        raise not_a_workbook(path, type(exc).__name__) from None
    rows: list[list[Any]] = []
    try:  # a read-only workbook reads its sheet only now: damage shows here too
        sheet: Any = book.worksheets[0]
        for cells in sheet.iter_rows(max_row=limit):
            row: list[Any] = []
            for cell in cells:
                value = cell.value
                if cell.data_type == "f" or type(value).__name__ in (
                    "ArrayFormula",
                    "DataTableFormula",
                ):
                    row.append(_Formula(str(getattr(value, "text", value))))
                elif isinstance(value, str):
                    row.append(unescape_cell(value))
                else:
                    row.append(value)
            rows.append(row)
    except Exception as exc:
        why = "it holds no sheet" if isinstance(exc, IndexError) else type(exc).__name__
        raise not_a_workbook(path, why) from None
    finally:
        book.close()
    return rows


def _plan_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:10]):
        names = [normalised(value) if isinstance(value, str) else "" for value in row]
        columns = {PLAN_COLUMNS[n]: i for i, n in enumerate(names) if n in PLAN_COLUMNS}
        if "concern" in columns and "action_id" in columns and "title" in columns:
            return index, columns
    return None


def _cell_text(
    value: Any, where: str, problems: list[Problem], source: str
) -> tuple[str, date | None]:
    """A cell as text (and as a date, when it holds one); problems for what cannot be read."""
    if value is None:
        return "", None
    if isinstance(value, _Formula):
        shown = value.text if len(value.text) <= 60 else value.text[:57] + "..."
        problems.append(
            Problem(
                source,
                0,
                f"{where} holds a formula ({shown}); import never runs formulas: type the value "
                "itself in the cell (or copy it and paste it as values) and import again",
            )
        )
        return "", None
    if isinstance(value, datetime):
        return value.date().isoformat(), value.date()
    if isinstance(value, date):
        return value.isoformat(), value
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    text = str(value)
    if len(text) > MAX_CELL:
        problems.append(
            Problem(
                source,
                0,
                f"{where} holds {len(text):,} characters, more than the {MAX_CELL:,} import "
                "takes from a cell: shorten it (a long account belongs in the record's text or "
                "an evidence file) and import again",
            )
        )
        return "", None
    hidden = CONTROL.search(text)
    if hidden:
        problems.append(
            Problem(
                source,
                0,
                f"{where} holds an invisible control character (U+{ord(hidden.group()):04X}) at "
                f"character {hidden.start() + 1}; delete it (retype the text) and import again",
            )
        )
        return "", None
    text = cell_lines(text)
    if text.startswith("'") and inert(text[1:]) == text:
        text = text[1:]  # the apostrophe the export put before text that looks like a formula
    return text, None


def read_plan(
    path: Path, date_order: str | None = None
) -> tuple[list[Row], list[Problem], str | None]:
    """The rows of an exported action plan, the problems of its cells (by row, column), and
    the day/month order its dates were read in: ``date_order`` (portfolio.yaml's
    tracker_date_order) when given, else as its deadlines that read one way only settle it."""
    rows = _sheet(path)
    found = _plan_header(rows)
    source = path.as_posix()
    if found is None:
        message = "no action plan header (Concern, Action id, Action, ...) in the first 10 rows"
        raise PortfolioError([Problem(source, 0, message)])
    at, columns = found
    header = rows[at]
    problems: list[Problem] = []
    dates = read_dates(rows[at + 1 :], columns, date_order)
    read: list[Row] = []
    for number, row in enumerate(rows[at + 1 :], start=at + 2):
        values: dict[str, str] = {}
        day: date | None = None
        for name, index in columns.items():
            cell = row[index] if index < len(row) else None
            where = f'row {number}, column "{header[index]}"'
            text, as_date = _cell_text(cell, where, problems, source)
            values[name] = text
            if name == "deadline":
                day = as_date
        if not any(values.values()) or any(f"row {number}," in p.message for p in problems):
            continue  # a blank row, or one whose cells are reported
        warning = None
        if day is None and values.get("deadline"):
            day, warning = dates.read(values["deadline"])
        read.append(
            Row(
                number,
                concern=values.get("concern", ""),
                action_id=values.get("action_id", ""),
                item=values.get("item", ""),
                title=_squash(values.get("title", "")),
                owner=_squash(values.get("owner", "")),
                deadline=day,
                deadline_text=values.get("deadline", ""),
                status=values.get("status", ""),
                progress=values.get("progress", ""),
                evidence=values.get("evidence", ""),
                deadline_warning=warning or "",
            )
        )
    return read, problems, dates.order


def rows_from_cells(
    rows: Iterable[tuple[int | str, Mapping[str, Any]]],
    concern: str,
    date_order: str | None = None,
    today: date | None = None,
) -> list[Row]:
    """Rows of a tracker of the user's own, as the importer parsed them (its column names:
    action, owner, deadline, status, progress, closure_evidence), under ``concern``; dates read
    in ``date_order``, the order the importer settled for the whole tracker."""
    dates = DateReader(date_order)
    found = []
    for index, (offset, cells) in enumerate(rows, start=1):
        number = offset if isinstance(offset, int) else index
        label = offset if isinstance(offset, str) else ""

        def text(name: str, cells: Mapping[str, Any] = cells) -> str:
            return cell_text(cells.get(name), lines=True)

        deadline = cells.get("deadline")
        day = (
            deadline if isinstance(deadline, date) and not isinstance(deadline, datetime) else None
        )
        deadline_text = text("deadline")
        warning = None
        if "owner_role" in cells:  # the importer read the row by the rules of the first import
            deadline_text = str(cells.get("vague") or "")
            warning = cells.get("deadline_warning")
        elif day is None:
            day, warning = dates.read(deadline)
        if day is None and today is not None and deadline_text and "owner_role" not in cells:
            # As the first import read it: a deadline in words by its rule; "TBC" changes nothing.
            if UNDATED.fullmatch(normalised(deadline_text)):
                deadline_text = ""
            else:
                day = vague_date(deadline_text, today, dates.order)
        found.append(
            Row(
                number,
                concern=concern,
                title=_squash(text("action")),
                owner=_squash(text("owner")),
                deadline=day,
                deadline_text=deadline_text,
                status=text("status"),
                # A date alone (a cell formatted as a date) says nothing of progress.
                progress="" if isinstance(cells.get("progress"), date) else text("progress"),
                evidence=text("closure_evidence"),
                label=label,
                deadline_warning=warning or "",
                owner_role=str(cells.get("owner_role") or ""),
                progress_date=dates.read(cells.get("progress_date"))[0],
                vague=str(cells.get("vague") or ""),
                cadence=str(cells.get("cadence") or ""),
                undated=str(cells.get("undated") or ""),
                original=cells.get("original_due"),
                revision=str(cells.get("revision") or ""),
            )
        )
    return found


# --- what changes ----------------------------------------------------------------------------


@dataclass
class NewAction:
    """An action a row adds to its concern."""

    id: str
    title: str
    owner: str
    due: date
    status: str
    rows: list[str]  # where the rows it came from are
    updates: list[tuple[date, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    undated: str = ""  # what the tracker's deadline said when it gave no date ("TBC")
    by: dict[tuple[date, str], str] = field(default_factory=dict)  # an update -> its author
    cadence: str = ""
    extension: tuple[date, str] | None = None  # a revised date beside the original, and why


@dataclass
class RecordChange:
    """What changes in one record file."""

    path: Path
    display: str
    concern: str
    fields: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, field, old, new
    extensions: list[tuple[str, date, date]] = field(default_factory=list)  # id, from, to
    updates: list[tuple[str, date, str]] = field(default_factory=list)
    linked: list[tuple[str, str, str]] = field(default_factory=list)  # id, where, evidence id
    notes: list[tuple[str, str]] = field(default_factory=list)  # id, text kept as a note
    new_actions: list[NewAction] = field(default_factory=list)
    before: bytes = b""
    after: bytes = b""

    def lines(self, today: date) -> list[str]:
        """The change as the command line shows it: the file, then each action's changes."""
        found: list[tuple[str, str]] = []
        found += [
            (a, f"{name}: {old or '(none)'} \u2192 {new}") for a, name, old, new in self.fields
        ]
        found += [
            (
                a,
                f"due: {old.isoformat()} \u2192 {new.isoformat()} (an extension dated {today}"
                + ("; brought forward)" if new < old else ")"),
            )
            for a, old, new in self.extensions
        ]
        found += [(a, f"+ update {d.isoformat()}: {_short(n)}") for a, d, n in self.updates]
        found += [
            (a, f"+ evidence {e} ({'in its closure' if where == 'closure' else 'cited'})")
            for a, where, e in self.linked
        ]
        found += [
            (
                a,
                f"+ update {today.isoformat()}: {EVIDENCE_NOTE}{_short(n)} (this evidence of "
                "completion names no evidence entry: add one to the register and cite it)",
            )
            for a, n in self.notes
        ]
        order = list(dict.fromkeys(a for a, _ in found))
        found.sort(key=lambda item: order.index(item[0]))
        out = [f"{self.display} ({self.concern}):", *(f"  {a} {text}" for a, text in found)]
        for new in self.new_actions:
            rows = ", ".join(new.rows)
            out.append(
                f"  + new action {new.id} ({rows}): {_short(new.title)}; owner {new.owner}, "
                f"due {new.due.isoformat()}"
                + (
                    f" ({'brought forward' if new.extension[0] < new.due else 'extended'} to "
                    f"{new.extension[0].isoformat()})"
                    if new.extension
                    else ""
                )
                + f", {new.status}"
            )
            if new.undated:
                out.append(f"    ({undated_note(new.undated)}: it is due on the import day)")
            out += [f"    + update {d.isoformat()}: {_short(n)}" for d, n in new.updates]
            out += [f"    + evidence {e} (cited)" for e in new.evidence]
        return out


def _short(text: str, limit: int = 90) -> str:
    text = _squash(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class SyncReport:
    """What keeping the portfolio in step did (or, in a dry run, would do)."""

    source: str
    today: date
    records: list[RecordChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0  # rows read
    written: bool = False

    def lines(self) -> list[str]:
        """The summary, record by record."""
        if not self.records:
            out = [f"{self.source}: {self.rows} rows read; the portfolio is in step already."]
        else:
            verb = "Updated" if self.written else "Would update"
            out = [
                f"{verb} {len(self.records)} records from {self.source} ({self.rows} rows read):"
            ]
        for record in self.records:
            out += record.lines(self.today)
        return out


@dataclass
class _Target:
    concern: Concern
    action: Action | None  # None: a new action
    rows: list[tuple[Row, Wanted]] = field(default_factory=list)


class _Planner:
    """Works out, row by row, what changes in which action; every problem is collected."""

    def __init__(
        self, portfolio: Portfolio, source: str, today: date, date_order: str | None = None
    ) -> None:
        self.p = portfolio
        self.source = source
        self.today = today
        self.problems: list[Problem] = []
        self.dates = DateReader(date_order)
        self.lower: dict[str, list[str]] = {}
        for eid in portfolio.evidence:
            self.lower.setdefault(eid.lower(), []).append(eid)
        self.roles: dict[str, str] = {}
        for slug, role in portfolio.settings.roles.items():
            for key in (slug, role.name or "", role.title or "", portfolio.role_label(slug)):
                if key:
                    self.roles.setdefault(normalised(key), slug)
        self.owners = OwnerRoles(portfolio)  # "RM", "Deputy Manager - Sue", as the import reads
        self.lenient = False  # rows of a tracker of the user's own, read as its first import
        self.warnings: list[str] = []
        self.held: set[str] = set()  # actions rows could each be: left as they are

    def role_of(self, owner: str) -> str | None:
        """The role of portfolio.yaml an owner cell names, read as the import reads it."""
        slug = self.roles.get(normalised(owner))
        if slug is None:
            slug = self.owners.role(owner, "")
        return slug if slug in self.p.settings.roles else None

    def problem(self, row: Row, message: str) -> None:
        self.problems.append(Problem(self.source, 0, f"{row.where}: {message}"))

    def wanted(self, row: Row) -> Wanted | None:
        try:
            status = read_status(row.status, self.today)
        except ValueError:
            if self.lenient:  # a tracker of the user's own: read as its first import read it
                status = None
                if is_rag_colour(row.status):
                    return self.wanted_rest(row, status)  # the import warns once for them all
                self.warnings.append(
                    f"{row.where}: {status_of(row.status, self.today)[1]}; the action's status "
                    "is left as it was (a new action is planned)"
                )
                return self.wanted_rest(row, status)
            self.problem(
                row,
                f"the status {_short(row.status, 40)!r} is not one import knows: write planned, "
                "in progress, completed (or done) or closed",
            )
            return None
        return self.wanted_rest(row, status)

    def wanted_rest(self, row: Row, status: str | None) -> Wanted | None:
        if row.deadline_text and row.deadline is None:
            self.problem(
                row,
                f"the deadline {_short(row.deadline_text, 40)!r} is not a date: write it as "
                f"{self.dates.example()}",
            )
            return None
        ids = self.evidence_in(row.evidence)
        rest = row.evidence
        for eid in ids:  # "EV-1 Title", as the export writes it, says no more than the id
            named = re.escape(eid) + r"\s+" + re.escape(self.p.evidence[eid].title)
            rest = re.sub(named, eid, rest, flags=re.IGNORECASE)
        notes: list[str] = []
        for part in re.split(r"[;\n]", rest):
            part = part.strip()
            if not part or part.lower() == "withheld":
                continue
            left = part
            for eid in self.evidence_in(part):
                left = re.sub(re.escape(eid), " ", left, flags=re.IGNORECASE)
            if re.search(r"\w", left):
                notes.append(part)
        if row.progress_date is not None and row.progress.strip():
            # Dated by a progress-date column, the cell is one update by the owner, as the
            # first import reads it.
            update = (row.progress_date, _squash(row.progress))
            signed = frozenset([update]) if self.lenient else frozenset()
            return Wanted(status, row.deadline, (update,), tuple(ids), tuple(notes), signed)
        found = _updates(row.progress, self.today, self.dates)
        updates = tuple((day, note) for day, note, _, _ in found)
        signed = frozenset((day, note) for day, note, dated, _ in found if dated and self.lenient)
        yearless = frozenset((day, note) for day, note, _, no_year in found if no_year)
        return Wanted(status, row.deadline, updates, tuple(ids), tuple(notes), signed, yearless)

    def evidence_in(self, text: str) -> list[str]:
        found: list[str] = []
        for match in _TOKEN.finditer(text):
            token = match.group().rstrip("._-")
            if token in self.p.evidence:
                eid = token
            elif len(self.lower.get(token.lower(), [])) == 1:
                eid = self.lower[token.lower()][0]
            else:
                continue
            if eid not in found:
                found.append(eid)
        return found

    def role(self, row: Row, default: str) -> str | None:
        if row.owner_role:
            return row.owner_role  # as the first import reads owners, a new role added so
        if not row.owner:
            return default
        slug = self.role_of(row.owner)
        if slug is None:
            known = ", ".join(sorted(self.p.settings.roles))
            self.problem(
                row,
                f"the owner {_short(row.owner, 40)!r} is not a role of portfolio.yaml: write one "
                f"of {known}, or add the role to portfolio.yaml first",
            )
        return slug

    def concern_of_new(self, row: Row, rows: Sequence[Row], index: int) -> Concern | None:
        """The concern a row with no action id goes under: its Concern cell, else its "Item to
        put right", else the concern of the rows either side of it when they agree."""
        if row.concern:
            concern = self.p.concerns.get(row.concern)
            if concern is None:
                self.problem(
                    row,
                    f"the concern {row.concern!r} is not in the portfolio (deleted, or its id "
                    "changed?): write the id of an existing concern in the Concern column",
                )
            return concern
        if row.item:
            key = normalised(row.item)
            for concern in self.p.concerns.values():
                if key in (
                    normalised(f"{concern.title}: {concern.baseline}"),
                    normalised(concern.title),
                ):
                    return concern
        above = next((r for r in reversed(rows[:index]) if r.concern), None)
        below = next((r for r in rows[index + 1 :] if r.concern), None)
        if above and below and above.concern == below.concern:
            return self.p.concerns.get(above.concern)
        self.problem(
            row,
            "a new action needs its concern: write the concern's id in the Concern column",
        )
        return None

    def targets(self, rows: Sequence[Row], by_title: bool) -> dict[str, _Target]:
        """The rows grouped by the action they edit (new actions by concern and title)."""
        targets: dict[str, _Target] = {}
        self.lenient = by_title
        placed: list[tuple[Row, Concern, Action | None]] = []
        by_text: dict[tuple[str, str], list[int]] = {}  # rows with no id, by concern and text
        for index, row in enumerate(rows):
            if not row.title and not row.action_id:
                self.problem(row, "no action: write what will be done in the Action column")
                continue
            if row.action_id and not by_title:
                found = self.p.actions.get(row.action_id)
                if found is None:
                    if row.concern and row.concern not in self.p.concerns:
                        self.problem(
                            row,
                            f"neither the concern {row.concern!r} nor the action "
                            f"{row.action_id!r} is in the portfolio (deleted, or their ids "
                            "changed?): correct the ids, or delete the row",
                        )
                    else:
                        self.problem(
                            row,
                            f"the action id {row.action_id!r} is not in the portfolio: correct "
                            "it, or clear the cell to add the row as a new action",
                        )
                    continue
                concern, action = found
                if row.concern and row.concern != concern.id:
                    self.problem(
                        row,
                        f"the action {action.id} belongs to the concern {concern.id}, not "
                        f"{row.concern}; import does not move actions: write {concern.id} in "
                        "the Concern column",
                    )
                    continue
                placed.append((row, concern, action))
                continue
            found_concern = self.concern_of_new(row, rows, index)
            if found_concern is None:
                continue
            by_text.setdefault((found_concern.id, normalised(row.title)), []).append(len(placed))
            placed.append((row, found_concern, None))
        unsure = self.match_by_text(placed, by_text)
        self.warn_reworded(placed, unsure)
        new_rows: dict[tuple[str, str], int] = {}  # new actions so far, by concern and text
        for at, (row, concern, edited) in enumerate(placed):
            if at in unsure:
                continue
            wanted = self.wanted(row)
            if wanted is None:
                continue
            if edited is None:
                key = (concern.id, normalised(row.title))
                nth = new_rows[key] = new_rows.get(key, 0) + 1
                name = f"{concern.id}\0{key[1]}\0{nth}"
            else:
                name = edited.id
            targets.setdefault(name, _Target(concern, edited)).rows.append((row, wanted))
        return targets

    def match_by_text(
        self,
        placed: list[tuple[Row, Concern, Action | None]],
        by_text: dict[tuple[str, str], list[int]],
    ) -> set[int]:
        """Match rows with no action id to their concern's actions with the same text, as the
        import matches them (generator.tools.importer.pair_rows): by due date, else status.
        Returns the rows that could each be more than one action (warned about, not read)."""
        unsure: set[int] = set()
        for (cid, key), ats in by_text.items():
            same = [a for a in self.p.concerns[cid].actions if normalised(a.title) == key]
            if not same:
                continue
            facts = []
            for at in ats:
                row = placed[at][0]
                try:
                    status = read_status(row.status, self.today)
                except ValueError:
                    status = None
                facts.append(RowFacts(row.deadline, row.vague, row.original, status))
            matched, left = pair_rows(facts, same, self.dates.order)
            for n, at in enumerate(ats):
                if n in matched:
                    row, concern, _ = placed[at]
                    placed[at] = (row, concern, same[matched[n]])
            if left:
                self.held.update(a.id for a in same)
                unsure.update(ats[n] for n in left)
                taken = set(matched.values())
                ids = ", ".join(a.id for i, a in enumerate(same) if i not in taken)
                where = ", ".join(placed[ats[n]][0].where for n in left)
                self.warnings.append(
                    f"{where}: each could be more than one of {cid}'s actions "
                    f"{_short(placed[ats[left[0]]][0].title, 40)!r} ({ids}) or a new action: "
                    "neither its deadline nor its status tells them apart, so these rows are "
                    "not read and those actions are left as they are; give each row its "
                    "action's due date as the record has it (a new action: a text of its own), "
                    "then import again"
                )
        return unsure

    def warn_reworded(
        self, placed: list[tuple[Row, Concern, Action | None]], unsure: set[int]
    ) -> None:
        """Warn of rows that are new actions whose text reads much like an action of their
        concern that no row is: perhaps that action reworded in the tracker ("Night call bell
        audits"), perhaps another ("Complete Q2 audit" beside "Complete Q1 audit"). The row
        stays a new action and the action stays as it is; the user decides."""
        taken = {a.id for _, _, a in placed if a is not None} | self.held
        fresh: dict[str, list[int]] = {}
        for at, (_, concern, edited) in enumerate(placed):
            if edited is None and at not in unsure:
                fresh.setdefault(concern.id, []).append(at)
        for cid, ats in fresh.items():
            left = [a for a in self.p.concerns[cid].actions if a.id not in taken]
            for n, could in alike_actions([placed[at][0].title for at in ats], left).items():
                row = placed[ats[n]][0]
                like = ", ".join(f"{left[a].id} ({_short(left[a].title, 40)!r})" for a in could)
                self.warnings.append(
                    f"{row.where}: the action {_short(row.title, 40)!r} is not one of {cid}'s "
                    f"actions, so it is a new action; it reads much like {like}, which no row "
                    "is: if it is that action reworded, delete the new action from "
                    f"{self.p.sources[cid].display}, write the action's words in the tracker as "
                    "they were (as the record has them) and import again"
                )

    def agreed(self, target: _Target) -> Wanted | None:
        """The one thing the rows of one action ask for; a conflict is a problem."""
        first_row, first = target.rows[0]
        for row, other in target.rows[1:]:
            differ = [
                name
                for name in ("status", "due", "updates", "evidence", "notes")
                if getattr(first, name) != getattr(other, name)
            ]
            if differ:
                what = target.action.id if target.action else f"the new action {first_row.title!r}"
                self.problem(
                    row,
                    f"this row and {first_row.where} both edit {what} and differ in "
                    f"{', '.join(differ)}: keep one of the two rows, or make them agree",
                )
                return None
        return first


def _fresh_id(concern: Concern, taken: set[str]) -> str:
    numbers = [
        int(m.group(1))
        for a in concern.actions
        if (m := re.fullmatch(re.escape(concern.id) + r"-A(\d+)", a.id))
    ]
    number = max(numbers, default=len(concern.actions)) + 1
    while f"{concern.id}-A{number}" in taken:
        number += 1
    taken.add(f"{concern.id}-A{number}")
    return f"{concern.id}-A{number}"


def plan(
    portfolio: Portfolio,
    source: str,
    rows: Sequence[Row],
    today: date,
    by_title: bool = False,
    date_order: str | None = None,
) -> SyncReport:
    """What the ``rows`` change in ``portfolio``: record by record, with the new bytes of each
    file. Every problem is raised together (PortfolioError); nothing is written.

    With ``by_title``, rows are matched to their concern's actions by the action's text (a
    tracker of the user's own, which has no action ids). Dates in progress notes are read in
    ``date_order`` ("dmy", "mdy"; None: day first).
    """
    planner = _Planner(portfolio, source, today, date_order)
    targets = planner.targets(rows, by_title)
    report = SyncReport(source, today, rows=len(rows))
    changes: dict[str, RecordChange] = {}
    edits: dict[str, list[_ActionEdit]] = {}
    taken = set(portfolio.sources) | set(portfolio.actions)
    undated: dict[str, set[str]] = {}  # concern id -> its actions imported with no date

    def undated_of(concern: str, path: Path) -> set[str]:
        if concern not in undated:
            undated[concern] = _undated(path)
        return undated[concern]

    for target in targets.values():
        wanted = planner.agreed(target)
        if wanted is None:
            continue
        concern, action = target.concern, target.action
        record = portfolio.sources[concern.id]
        change = changes.get(concern.id) or RecordChange(record.path, record.display, concern.id)
        row = target.rows[0][0]
        if action is None:
            owner = planner.role(row, concern.owner)
            due = wanted.due or (today if row.undated else None)  # as the first import does
            if due is None:
                planner.problem(row, "a new action needs a deadline: fill in the Deadline")
            if owner is None or due is None:
                continue
            if row.deadline_warning:
                report.warnings.append(f"{row.where}: {row.deadline_warning}")
            notes = [(today, EVIDENCE_NOTE + n) for n in wanted.notes]
            revised = (due, row.revision) if row.original and due else None
            new = NewAction(
                _fresh_id(concern, taken),
                row.title,
                owner,
                row.original or due,
                wanted.status or "planned",
                [r.where for r, _ in target.rows],
                _unique([*wanted.updates, *notes]),
                list(wanted.evidence),
                row.undated if wanted.due is None else "",
                dict.fromkeys(wanted.signed, owner),
                row.cadence if wanted.due is None else "",
                revised,
            )
            change.new_actions.append(new)
            changes[concern.id] = change
            continue
        edit = _ActionEdit(action, today)
        if row.vague and wanted.due and wanted.due != action.current_due:
            # Words read relative to the import day: unchanged, they read as they did when the
            # date the action is due now was read from them, whatever the day now. (Words that
            # read as a date since extended are a new deadline.)
            known = action.current_due
            if vague_date(row.vague, known, planner.dates.order) == known:
                wanted = replace(wanted, due=known)
        if row.original and row.original not in (action.due, action.current_due):
            report.warnings.append(
                f"{row.where}: the original date {row.original.isoformat()} differs from "
                f"{action.id}'s due date ({action.due.isoformat()}), and is not read: import "
                "records a revised date as an extension, never changes a due date; edit "
                f"{record.display} to change it"
            )
        if (
            wanted.status
            and action.status in ("completed", "closed")
            and STAGES.index(wanted.status) < STAGES.index(action.status)
            and normalised(row.status) not in STATUS_WORDS
        ):
            # Only a status that says just that reopens a finished action, never loose words.
            report.warnings.append(
                f"{row.where}: the status {_short(row.status, 40)!r} reads as {wanted.status}, "
                f"but {action.id} is {action.status}; import reopens a finished action only "
                "for a status that says just that, so its status is left as it was: write "
                "planned, not started, in progress, open or ongoing if it is reopened"
            )
            wanted = replace(wanted, status=None)
        if wanted.status and wanted.status != action.status and status_reads_by_day(row.status):
            # "Completed by end of Oct" is planned in September and done in December: left
            # as it was, the cell must not close (or reopen) the action as the days go by.
            report.warnings.append(
                f"{row.where}: the status {_short(row.status, 40)!r} reads as {wanted.status} "
                f"on {today.isoformat()}, but {action.id} is {action.status}; words with a "
                "time in them read otherwise as the days go by, so import leaves its status "
                "as it was: write completed, in progress or planned if it has changed"
            )
            wanted = replace(wanted, status=None)
        if wanted.status and wanted.status != action.status:
            edit.status = wanted.status
            change.fields.append((action.id, "status", action.status, wanted.status))
        if (
            wanted.due
            and wanted.due != action.current_due
            and not action.extensions
            and action.id in undated_of(concern.id, record.path)
        ):
            # The import day was never an agreed deadline: the tracker's first date is the due
            # date, not an extension, and the comment asking for it goes.
            edit.due = wanted.due
            change.fields.append(
                (
                    action.id,
                    "due",
                    action.due.isoformat(),
                    f"{wanted.due.isoformat()} (the first date the tracker gives: no extension)",
                )
            )
        elif wanted.due and wanted.due != action.current_due:
            edit.extension = wanted.due
            change.extensions.append((action.id, action.current_due, wanted.due))
            if row.deadline_warning:
                report.warnings.append(f"{row.where}: {row.deadline_warning}")
        have = {(u.date, _squash(u.note)) for u in action.updates}
        notes_had = {_squash(u.note) for u in action.updates}
        # A cell whose whole text is a note already (an earlier import kept it so) adds nothing.
        same_cell = _squash(row.progress) in notes_had
        body = normalised(concern.body)
        for day, note in () if same_cell else wanted.updates:
            dated_today = day == today
            if (day, _squash(note)) in have or (dated_today and _squash(note) in notes_had):
                continue
            if (day, note) in wanted.yearless and (day.month, day.day, _squash(note)) in {
                (u.date.month, u.date.day, _squash(u.note)) for u in action.updates
            }:
                continue  # "12/11 - ..." read by an earlier import, on a day of another year
            if dated_today and f"{normalised(action.id)} {normalised(note)}" in body:
                continue  # a note with no date that an earlier import kept in the body
            have.add((day, _squash(note)))
            edit.updates.append((day, note))
            if (day, note) in wanted.signed:
                edit.by[(day, note)] = action.owner
            change.updates.append((action.id, day, note))
        cited = [*action.evidence, *(action.closure.evidence if action.closure else [])]
        described = {
            normalised(text)
            for eid in cited
            if eid in portfolio.evidence
            for text in (portfolio.evidence[eid].title, portfolio.evidence[eid].summary or "")
        }
        for note in wanted.notes:
            text = EVIDENCE_NOTE + note
            if normalised(note) in described:
                continue  # the evidence entry an earlier import made of this very text
            if _squash(text) in notes_had or (today, _squash(text)) in have:
                continue
            have.add((today, _squash(text)))
            edit.updates.append((today, text))
            change.notes.append((action.id, note))
        linked = action.closure.evidence if action.closure else action.evidence
        where = "closure" if action.closure else "action"
        for eid in wanted.evidence:
            if eid not in linked and eid not in edit.evidence:
                edit.evidence.append(eid)
                change.linked.append((action.id, where, eid))
        if row.title and normalised(row.title) != normalised(action.title) and not by_title:
            report.warnings.append(
                f"{row.where}: the action text differs from {action.id}'s title; import does "
                f"not change titles: edit {record.display} to change it"
            )
        if row.owner and planner.role_of(row.owner) != action.owner:
            report.warnings.append(
                f"{row.where}: the owner {_short(row.owner, 40)!r} differs from "
                f"{action.id}'s ({action.owner}); import does not change owners: edit "
                f"{record.display} to change it"
            )
        if edit.changed:
            edits.setdefault(concern.id, []).append(edit)
            changes[concern.id] = change
    if planner.problems:
        raise PortfolioError(planner.problems)
    report.warnings[:0] = planner.warnings
    for cid, change in changes.items():
        before = change.path.read_bytes()
        change.before = before
        change.after = _rewrite(change.path, before, edits.get(cid, []), change.new_actions)
        report.records.append(change)
    report.records.sort(key=lambda c: c.display)
    return report


def _unique(updates: Iterable[tuple[date, str]]) -> list[tuple[date, str]]:
    seen: set[tuple[date, str]] = set()
    out = []
    for day, note in updates:
        if (day, _squash(note)) not in seen:
            seen.add((day, _squash(note)))
            out.append((day, note))
    return out


@dataclass
class _ActionEdit:
    action: Action
    today: date
    status: str | None = None
    extension: date | None = None
    updates: list[tuple[date, str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    by: dict[tuple[date, str], str] = field(default_factory=dict)  # an update -> its author
    due: date | None = None  # the first date for an action imported with none

    @property
    def changed(self) -> bool:
        return bool(self.status or self.extension or self.updates or self.evidence or self.due)


# --- rewriting a record's front matter -------------------------------------------------------


def scalar(text: str) -> str:
    """``text`` as a YAML scalar that reads back as this very string, in block or flow
    context: plain where that is safe, else double-quoted."""
    if _PLAIN.match(text) and not text.endswith(" ") and "  " not in text:
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or code in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)
            or 0xD800 <= code <= 0xDFFF
        ):
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


Pairs = list[tuple[str, Any]]  # a mapping to write: (key, value); value str, list or Pairs


@dataclass(frozen=True)
class _Noted:
    """A value written with a comment after it, where it has a line of its own."""

    value: Any
    note: str


def _flow(value: Any) -> str:
    if isinstance(value, _Noted):
        return _flow(value.value)
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return scalar(str(value))


class _Editor:
    """Splices text into a record's front matter where its YAML nodes say."""

    def __init__(self, front: str, newline: str) -> None:
        self.front = front
        self.nl = newline
        self.edits: list[tuple[int, int, int, str]] = []  # start, order, end, text

    def splice(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, len(self.edits), end, text))

    def result(self) -> str:
        text = self.front
        for start, _order, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    # positions

    def line_start(self, index: int) -> int:
        return self.front.rfind("\n", 0, index) + 1

    def line_end(self, index: int) -> int:
        end = self.front.find("\n", index)
        if end < 0:
            return len(self.front)
        return end - 1 if end > 0 and self.front[end - 1] == "\r" else end

    def insert_lines_after(self, node: Node, lines: list[str]) -> None:
        """New lines after everything ``node`` holds, and after the comments below it that are
        indented deeper than the new lines (they belong to what is above them)."""
        leaf = _last_leaf(node)
        end = leaf.end_mark.index
        if leaf.end_mark.column == 0 and end > 0 and self.front[end - 1] == "\n":
            at = self.line_end(end - 1)
        else:
            at = self.line_end(end)
        indent = len(lines[0]) - len(lines[0].lstrip(" "))
        scan = at
        while scan < len(self.front):
            start = self.front.find("\n", scan) + 1
            if start == 0 or start >= len(self.front):
                break
            stop = self.line_end(start)
            line = self.front[start:stop]
            if line.strip() and not (
                line.lstrip().startswith("#") and len(line) - len(line.lstrip()) > indent
            ):
                break
            if line.strip():
                at = stop
            scan = stop
        self.splice(at, at, "".join(self.nl + line for line in lines))

    def dash_column(self, item: Node) -> int:
        dash = self.front.rfind("-", 0, item.start_mark.index)
        return dash - self.line_start(dash)

    # edits

    def set_scalar(self, mapping: MappingNode, key: str, value: str, after: str) -> None:
        found = _get(mapping, key)
        if found is not None:
            self.splice(found[1].start_mark.index, found[1].end_mark.index, value)
            return
        if mapping.flow_style:
            self.flow_key(mapping, f"{key}: {value}")
            return
        anchor = _get(mapping, after)
        column = mapping.value[0][0].start_mark.column
        line = f"{' ' * column}{key}: {value}"
        self.insert_lines_after(anchor[1] if anchor else mapping, [line])

    def flow_key(self, mapping: MappingNode, text: str) -> None:
        close = mapping.end_mark.index - 1
        if self.front[close] != "}":  # pragma: no cover - ruamel marks the closing brace
            raise AssertionError("flow mapping without its closing brace")
        self.splice(close, close, self._separated(close, text))

    def _separated(self, close: int, text: str) -> str:
        before = self.front[:close].rstrip()
        return text if before.endswith(("{", "[", ",")) else ", " + text

    def append(
        self,
        mapping: MappingNode,
        key: str,
        items: list[Any],
        before: tuple[str, ...],
        offset: int,
        scalars_flow: bool = False,
    ) -> None:
        """Append ``items`` to the list at ``key`` (made when missing, before the first of the
        keys ``before`` present, else after the mapping's last key)."""
        found = _get(mapping, key)
        if found is not None:
            node = found[1]
            if isinstance(node, SequenceNode) and node.flow_style:
                close = node.end_mark.index - 1
                text = ", ".join(_flow(i) for i in items)
                self.splice(close, close, self._separated(close, text))
            elif isinstance(node, SequenceNode) and node.value:
                first = node.value[-1]  # new items are written as the last one is
                dash = self.dash_column(first)
                lines: list[str] = []
                for item in items:
                    if isinstance(first, MappingNode) and not first.flow_style:
                        lines += _block_mapping(item, dash, first.start_mark.column, offset)
                    else:
                        lines.append(f"{' ' * dash}- {_flow(item)}")
                self.insert_lines_after(node, lines)
            elif (
                isinstance(node, ScalarNode) and node.value == "" and str(node.tag).endswith("null")
            ):
                self.splice(node.start_mark.index, node.end_mark.index, " " + _flow(items))
            elif isinstance(node, ScalarNode):  # one id written on its own: make it a list
                self.splice(node.start_mark.index, node.end_mark.index, _flow([node.value, *items]))
            else:  # pragma: no cover - the record was validated
                raise AssertionError(f"{key} is not a list")
            return
        if mapping.flow_style:
            self.flow_key(mapping, f"{key}: {_flow(items)}")
            return
        column = mapping.value[0][0].start_mark.column
        if scalars_flow:
            lines = [f"{' ' * column}{key}: {_flow(items)}"]
        else:
            lines = [f"{' ' * column}{key}:"]
            lines += [f"{' ' * (column + offset)}- {_flow(item)}" for item in items]
        for name in before:
            present = _get(mapping, name)
            if present is not None:
                start = self.line_start(present[0].start_mark.index)
                if not self.front[start : present[0].start_mark.index].strip():
                    self.splice(start, start, "".join(line + self.nl for line in lines))
                    return
        self.insert_lines_after(mapping, lines)


def _block_mapping(item: Pairs, dash: int, column: int, offset: int) -> list[str]:
    lines = []
    for index, (key, value) in enumerate(item):
        lead = f"{' ' * dash}- " if index == 0 else ""
        pad = " " * (column - len(lead)) if index == 0 else " " * column
        if isinstance(value, list) and value and isinstance(value[0], list):
            lines.append(f"{lead}{pad}{key}:")
            lines += [f"{' ' * (column + offset)}- {_flow(v)}" for v in value]
        else:
            note = f"  # {value.note}" if isinstance(value, _Noted) else ""
            lines.append(f"{lead}{pad}{key}: {_flow(value)}{note}")
    return lines


def _get(mapping: MappingNode, key: str) -> tuple[Node, Node] | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _last_leaf(node: Node) -> Node:
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _last_leaf(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _last_leaf(node.value[-1])
    return node


def _decode(raw: bytes) -> tuple[str, str, str]:
    bom = "\ufeff" if raw.startswith(codecs.BOM_UTF8) else ""
    text = raw.decode("utf-8-sig")
    newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    return text, bom, newline


def _update(day: date, note: str, by: str | None = None) -> Pairs:
    return [("date", day), ("by", by), ("note", note)] if by else [("date", day), ("note", note)]


def _rewrite(
    path: Path, raw: bytes, edits: list[_ActionEdit], new_actions: list[NewAction]
) -> bytes:
    """The bytes of the record at ``path`` with ``edits`` and ``new_actions`` spliced into its
    front matter; every other byte as it was."""
    text, bom, newline = _decode(raw)
    start, end = front_span(path, text)
    front = text[start:end]
    root = YAML().compose(front)
    if not isinstance(root, MappingNode):  # pragma: no cover - the record was validated
        raise AssertionError(f"{path}: the front matter is not a mapping")
    editor = _Editor(front, newline)
    expected, _ = parse_yaml(front.replace("\r\n", "\n"))
    expected = copy.deepcopy(expected)
    actions_node = _get(root, "actions")
    offset = 2
    items: dict[str, MappingNode] = {}
    if actions_node is not None and isinstance(actions_node[1], SequenceNode):
        seq = actions_node[1]
        if seq.value and not seq.flow_style:
            offset = max(editor.dash_column(seq.value[0]) - actions_node[0].start_mark.column, 0)
        for item in seq.value:
            found = _get(item, "id") if isinstance(item, MappingNode) else None
            if found is not None and isinstance(found[1], ScalarNode):
                items[str(found[1].value)] = item
    offset = offset or 2
    data_actions = {str(a.get("id")): a for a in expected.get("actions") or []}
    for edit in edits:
        node = items[edit.action.id]
        data = data_actions[edit.action.id]
        if edit.status:
            editor.set_scalar(node, "status", edit.status, after="due")
            data["status"] = edit.status
        if edit.due:
            due = _get(node, "due")
            if (
                due is None
                or not isinstance(due[1], ScalarNode)
                or due[1].start_mark.index < due[0].end_mark.index  # an alias (*name)
            ):
                line = node.start_mark.line + 1 + text[:start].count("\n")
                message = (
                    f"{edit.action.id}: the tracker gives its first date, {edit.due}, but its "
                    "due date is not written on the action itself (an alias or merge key?): "
                    "write it as 'due: YYYY-MM-DD' and import again"
                )
                raise PortfolioError([Problem(path.as_posix(), line, message)])
            after = due[1].end_mark.index
            rest = editor.front[after : editor.line_end(after)]
            if UNDATED_COMMENT.match(rest):  # the comment asking for the date goes with it
                editor.splice(after, after + len(rest), "")
            editor.splice(due[1].start_mark.index, after, edit.due.isoformat())
            data["due"] = edit.due
        if edit.extension:
            item = [("to", edit.extension), ("date", edit.today)]
            editor.append(node, "extensions", [item], ("updates", "evidence", "closure"), offset)
            data["extensions"] = [*(data.get("extensions") or []), dict(item)]
        if edit.updates:
            made = [_update(day, note, edit.by.get((day, note))) for day, note in edit.updates]
            editor.append(node, "updates", list(made), ("evidence", "closure"), offset)
            data["updates"] = [*(data.get("updates") or []), *(dict(u) for u in made)]
        if edit.evidence:
            closure = _get(node, "closure")
            if edit.action.closure is not None and closure is not None:
                assert isinstance(closure[1], MappingNode)
                editor.append(closure[1], "evidence", edit.evidence, ("rationale",), offset, True)
                held = data["closure"]
            else:
                editor.append(node, "evidence", edit.evidence, ("closure",), offset, True)
                held = data
            now = held.get("evidence") or []
            held["evidence"] = [*([now] if isinstance(now, str) else now), *edit.evidence]
    if new_actions:
        made_actions = [_new_action(a) for a in new_actions]
        editor.append(root, "actions", made_actions, ("closure", "related"), offset)
        expected["actions"] = [
            *(expected.get("actions") or []),
            *({k: _plain(v) for k, v in a} for a in made_actions),
        ]
    new_front = editor.result()
    _check(path, new_front, expected)
    return (bom + text[:start] + new_front + text[end:]).encode("utf-8")


#: The comment the import writes on the due date of an action its tracker gave no date.
UNDATED_COMMENT = re.compile(r"\s*#\s*the tracker gives no date\b.*$")


def _undated(path: Path) -> set[str]:
    """The actions of the record at ``path`` whose due date is the import day, as the comment
    the import wrote on it says (the tracker gave no date, "TBC")."""
    text, _, _ = _decode(path.read_bytes())
    start, end = front_span(path, text)
    front = text[start:end]
    root = YAML().compose(front)
    found: set[str] = set()
    actions = _get(root, "actions") if isinstance(root, MappingNode) else None
    if actions is None or not isinstance(actions[1], SequenceNode):
        return found
    for item in actions[1].value:
        if not isinstance(item, MappingNode):
            continue
        ident, due = _get(item, "id"), _get(item, "due")
        if ident is None or due is None:
            continue
        at = due[1].end_mark.index
        stop = front.find("\n", at)
        if UNDATED_COMMENT.match(front[at : stop if stop >= 0 else len(front)].rstrip("\r")):
            found.add(str(ident[1].value))
    return found


def _new_action(action: NewAction) -> Pairs:
    item: Pairs = [
        ("id", action.id),
        ("title", action.title),
        ("owner", action.owner),
        ("due", _Noted(action.due, undated_note(action.undated)) if action.undated else action.due),
        ("status", action.status),
    ]
    if action.cadence:
        item.append(("cadence", action.cadence))
    if action.extension:
        item.append(
            ("extensions", [[("to", action.extension[0]), ("reason", action.extension[1])]])
        )
    if action.updates:
        updates = [_update(day, note, action.by.get((day, note))) for day, note in action.updates]
        item.append(("updates", updates))
    if action.evidence:
        item.append(("evidence", list(action.evidence)))
    return item


def _plain(value: Any) -> Any:
    if isinstance(value, _Noted):
        return value.value
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [dict(v) for v in value]
    return value


def _check(path: Path, front: str, expected: dict[str, Any]) -> None:
    """Read the rewritten front matter back as the build reads it: it must say what was meant."""
    data, _ = parse_yaml(front.replace("\r\n", "\n"))
    got = Concern.model_validate(data).model_dump()
    meant = Concern.model_validate(expected).model_dump()
    if got != meant:  # pragma: no cover - a fault of this module, not of the file
        raise AssertionError(f"{path}: the rewritten record does not say what was meant")


# --- checking and writing --------------------------------------------------------------------


def check_after(portfolio: Portfolio, report: SyncReport, settings: bytes | None = None) -> None:
    """Load and check the whole portfolio as it would be after the change, in a copy of its
    folder (with ``settings`` as its portfolio.yaml, when given: the roles an import of the
    same tracker adds); raise every problem together, named by the real files."""
    root = portfolio.root
    try:
        holder = Path(tempfile.mkdtemp(prefix=".portfolio-import-", dir=root.resolve().parent))
    except OSError:
        holder = Path(tempfile.mkdtemp(prefix="portfolio-import-"))
    try:
        twin = holder / root.resolve().name
        shutil.copytree(
            root,
            twin,
            symlinks=True,
            copy_function=_link_or_copy,
            ignore=lambda folder, names: (
                [n for n in names if n.startswith(".")] if Path(folder) == root else []
            ),
        )
        for record in report.records:
            target = twin / record.path.resolve().relative_to(root.resolve())
            target.unlink()  # it may be a hard link to the real file: never write through it
            target.write_bytes(record.after)
        if settings is not None:
            (twin / "portfolio.yaml").unlink()
            (twin / "portfolio.yaml").write_bytes(settings)
        try:
            load(twin)
        except PortfolioError as exc:
            shown, real = display_path(twin), portfolio.display_root
            raise PortfolioError(
                [
                    Problem(
                        real + p.path[len(shown) :] if p.path.startswith(shown) else p.path,
                        p.line,
                        p.message,
                    )
                    for p in exc.problems
                ]
            ) from None
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """Files are linked, not copied (attachments may be large): nothing writes through the
    links, and each record rewritten in the copy is unlinked first."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def write(report: SyncReport) -> None:
    """Write every changed record, each atomically; if one write fails, put back those
    written. A file changed since it was read is an error, and nothing is written."""
    moved = [r for r in report.records if r.path.read_bytes() != r.before]
    if moved:
        raise PortfolioError(
            [
                Problem(
                    r.display,
                    0,
                    "changed while the import was running: nothing was written; import again",
                )
                for r in moved
            ]
        )
    done: list[RecordChange] = []
    try:
        for record in report.records:
            atomic_write(record.path, record.after)
            done.append(record)
    except BaseException:
        for record in done:
            atomic_write(record.path, record.before)
        raise
    report.written = True


def sync_rows(
    portfolio: Portfolio,
    source: str,
    rows: Sequence[Row],
    today: date,
    dry_run: bool,
    by_title: bool = False,
    date_order: str | None = None,
    settings: bytes | None = None,
) -> SyncReport:
    """Plan, check and (unless ``dry_run``) write what ``rows`` change."""
    found = plan(portfolio, source, rows, today, by_title, date_order)
    return _check_and_write(portfolio, found, dry_run, settings)


def _check_and_write(
    portfolio: Portfolio, report: SyncReport, dry_run: bool, settings: bytes | None = None
) -> SyncReport:
    if report.records:
        check_after(portfolio, report, settings)
        if not dry_run:
            write(report)
    return report


def sync_action_plan(root: Path, path: Path, today: date, dry_run: bool = False) -> SyncReport:
    """Keep the portfolio at ``root`` in step with the edited action plan at ``path``.

    Every problem of the file's cells and rows is raised together, by row; nothing is written
    unless the whole portfolio, as it would be after the change, loads and passes its checks.
    """
    portfolio = load(root).portfolio
    rows, problems, order = read_plan(path, portfolio.settings.tracker_date_order)
    try:
        found = plan(portfolio, path.as_posix(), rows, today, date_order=order)
    except PortfolioError as exc:
        raise PortfolioError([*problems, *exc.problems]) from None
    if problems:
        raise PortfolioError(problems)
    return _check_and_write(portfolio, found, dry_run)


def keep_in_step(
    portfolio: Portfolio,
    source: Path,
    rows: Mapping[str, Sequence[tuple[int | str, Mapping[str, Any]]]],
    today: date,
    dry_run: bool = False,
    date_order: str | None = None,
    settings: bytes | None = None,
) -> SyncReport:
    """Rows of a tracker of the user's own whose finding is a concern already in the portfolio
    (concern id -> [(where the row is, the importer's cells)]): each updates the action of that
    concern whose text it has, or becomes a new action of it. ``date_order`` is the day/month
    order the importer settled for the whole tracker (``ImportReport.date_order``): rows kept
    in step read 04/05/2026 as the rows imported do."""
    read = [
        row
        for concern, cells in rows.items()
        for row in rows_from_cells(cells, concern, date_order, today)
    ]
    if all(isinstance(where, int) for listed in rows.values() for where, _ in listed):
        read.sort(key=lambda r: r.number)  # else as the importer read them, in order
    return sync_rows(portfolio, source.as_posix(), read, today, dry_run, True, date_order, settings)


def import_in_step(
    root: Path, tracker: Path, mapping: dict[str, Any] | None, today: date, dry_run: bool
) -> tuple[ImportReport, SyncReport]:
    """Import a tracker of the user's own into the portfolio at ``root``: its new findings
    become concerns, and rows whose finding is a concern already keep that concern in step.

    Both are worked out before anything is written, and the tracker goes in whole or not at
    all: should keeping the concerns in step fail once the new concerns are written (a record
    open in another program, a full disk), every byte the import wrote is put back.
    """
    portfolio = load(root).portfolio
    report = import_tracker(portfolio, tracker, mapping, today, dry_run=True)
    order = report.date_order  # settled over the whole tracker: kept rows read as imported ones
    kept = keep_in_step(portfolio, tracker, report.existing, today, True, order, report.settings)
    if dry_run:
        return report, kept
    report = import_tracker(portfolio, tracker, mapping, today, dry_run=False)
    if kept.records:
        try:
            kept = keep_in_step(load(root).portfolio, tracker, report.existing, today, False, order)
        except BaseException:
            report.put_back()
            raise
    return report, kept
