"""The downloads: action tracker and evidence register as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import shutil
import subprocess
import time
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import CONCERN_MD, SAMPLE, MakePortfolio
from generator.cli import cli
from generator.pipeline import load
from generator.render.exports import (
    COLOUR_COLUMN,
    DATE_COLUMNS,
    FILLS,
    LOOKS,
    REGISTER_COLUMNS,
    TRACKER_COLUMNS,
    downloads,
    inert,
    to_csv,
    to_xlsx,
)
from generator.render.xlsx import Look, column_letter, serial, workbook_parts


def test_tracker_csv_has_the_action_plan_columns() -> None:
    files = downloads(load(SAMPLE))
    data = files["downloads/action-tracker.csv"]
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == TRACKER_COLUMNS
    build = load(SAMPLE)
    assert len(rows) - 1 == len(build.portfolio.actions)
    by_id = {row[4]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    overdue = next(f.record for f in build.findings if f.code == "A201")
    assert by_id[overdue]["Status colour"] == "Red: Overdue"
    assert "A201" in by_id[overdue]["Findings"]
    assert by_id["MED-01-A1"]["Regulation"] == "12, 17"


def test_xlsx_matches_the_csv_and_is_reproducible() -> None:
    build = load(SAMPLE)
    files = downloads(build)
    book = load_workbook(io.BytesIO(files["downloads/evidence-register.xlsx"]))
    sheet = book.active
    assert sheet is not None
    # The same cells, but that dates are real dates in the workbook and ISO dates in the CSV.
    values = [
        [
            c.date().isoformat() if isinstance(c, datetime) else c if c is not None else ""
            for c in row
        ]
        for row in sheet.iter_rows(values_only=True)
    ]
    csv_rows = list(
        csv.reader(io.StringIO(files["downloads/evidence-register.csv"].decode("utf-8-sig")))
    )
    assert values == csv_rows
    assert values[0] == REGISTER_COLUMNS
    assert sheet.freeze_panes == "A2"
    time.sleep(1.1)  # the workbook's "modified" time must not follow the clock
    assert downloads(load(SAMPLE)) == files


def test_formulas_in_records_stay_inert(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "concerns/med-01.md": CONCERN_MD.replace(
                "title: Competency checks", 'title: \'=HYPERLINK("http://x","y")\''
            )
        }
    )
    files = downloads(load(root))
    text = files["downloads/action-tracker.csv"].decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    book = load_workbook(io.BytesIO(files["downloads/action-tracker.xlsx"]))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]  # type: ignore[union-attr]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert inert("@SUM(A1)") == "'@SUM(A1)" and inert("plain") == "plain"


def test_control_characters_do_not_break_the_workbook(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "concerns/med-01.md": CONCERN_MD.replace(
                "title: Competency checks", 'title: "Competency \\x01checks"'
            )
        }
    )
    files = downloads(load(root))
    book = load_workbook(io.BytesIO(files["downloads/action-tracker.xlsx"]))
    assert "Competency checks" in [
        c for row in book.active.iter_rows(values_only=True) for c in row
    ]  # type: ignore[union-attr]


# What Excel and LibreOffice start a formula with, in a typed cell or a CSV field.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_TITLE = '=HYPERLINK("http://x","y")'


def shown(value: object) -> str:
    """The text Excel shows for a cell read back by openpyxl (which keeps _xHHHH_ escapes)."""
    if value is None:
        return ""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), str(value))


def starts_a_formula(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as the start of a formula."""
    if text.startswith(FORMULA_START):
        return True
    visible = "".join(itertools.dropwhile(_invisible, text))
    return visible.startswith(FORMULA_START[:4])


def _invisible(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs")


def workbook_cells(data: bytes) -> list[list[tuple[str, str]]]:
    """Every cell of the first sheet of an XLSX file as (shown text, openpyxl data type)."""
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [[(shown(c.value), c.data_type) for c in row] for row in sheet.iter_rows()]


def csv_cells(data: bytes) -> list[list[str]]:
    """Every field of a CSV file the tool wrote."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
cell_texts = st.one_of(
    texts,
    # Anything that hides in front of a formula: control characters, spaces, format marks.
    st.tuples(
        st.text(st.sampled_from("\x00\x01\x08\x0b\x1f\x7f\x85\u200b\ufeff\ufffe \t\r\n")),
        st.sampled_from("=+-@"),
        texts,
    ).map("".join),
)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(cell_texts, min_size=1, max_size=4))
def test_no_text_becomes_a_formula_in_any_spreadsheet(cells: list[str]) -> None:
    columns = [f"Column {i}" for i in range(len(cells))]
    workbook = workbook_cells(to_xlsx("Tracker", columns, [cells], datetime(2026, 6, 30)))
    fields = csv_cells(to_csv(columns, [cells]))
    assert [text for text, _ in workbook[0]] == fields[0] == columns
    for (text, kind), field in zip(workbook[1], fields[1], strict=True):
        assert kind != "f"
        assert not starts_a_formula(text) and not starts_a_formula(field)
        assert text == field  # both files show the same text


@pytest.mark.parametrize("hidden", ["\\x01", "\\x1f", "\\x08\\x0b", "\\t"])
def test_a_formula_behind_a_control_character_stays_inert_everywhere(
    make_portfolio: MakePortfolio, tmp_path: Path, hidden: str
) -> None:
    title = f'"{hidden}{HOSTILE_TITLE.replace(chr(34), chr(92) + chr(34))}"'
    root = make_portfolio(
        {"concerns/med-01.md": CONCERN_MD.replace("title: Competency checks", f"title: {title}")}
    )
    site = tmp_path / "site"
    runner = CliRunner()
    result = runner.invoke(cli, ["build", str(root), "-o", str(site), "--no-pdf"])
    assert result.exit_code == 0, result.output
    files = {
        name: (site / "downloads" / name).read_bytes()
        for name in ("action-tracker.csv", "action-tracker.xlsx")
    }
    for form in ("csv", "xlsx"):
        out = tmp_path / f"plan.{form}"
        result = runner.invoke(
            cli, ["report", "action-plan", str(root), "--format", form, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        files[out.name] = out.read_bytes()
    for name, data in files.items():
        if name.endswith(".xlsx"):
            cells = [cell for row in workbook_cells(data) for cell in row]
            assert all(kind != "f" for _, kind in cells), name
            texts = [text for text, _ in cells]
        else:
            texts = [field for row in csv_cells(data) for field in row]
        assert not [t for t in texts if starts_a_formula(t)], name
        assert "'" + HOSTILE_TITLE in texts, name


def test_a_formula_in_an_imported_tracker_stays_inert(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "tracker.csv"
    header = b"Finding,Action required,Lead,Target date,Quality statement\r\n"
    row = b"=cmd|' /C calc'!A0,\x01=cmd|' /C calc'!A0,@SUM(1+1),31/05/2026,Safe environments\r\n"
    runner = CliRunner()
    tracker.write_bytes(header + row)
    result = runner.invoke(cli, ["import", str(tracker), str(root)])
    assert result.exit_code == 1  # the control character is reported at its row and column
    tracker.write_bytes(header + row.replace(b"\x01", b""))
    result = runner.invoke(cli, ["import", str(tracker), str(root)])
    assert result.exit_code == 0, result.output
    for form in ("csv", "xlsx"):
        out = tmp_path / f"plan.{form}"
        result = runner.invoke(
            cli, ["report", "action-plan", str(root), "--format", form, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        if form == "xlsx":
            cells = [cell for row in workbook_cells(out.read_bytes()) for cell in row]
            assert all(kind != "f" for _, kind in cells)
            texts = [text for text, _ in cells]
        else:
            texts = [field for row in csv_cells(out.read_bytes()) for field in row]
        assert not [t for t in texts if starts_a_formula(t)]
        assert "'=cmd|' /C calc'!A0" in texts


def test_the_workbook_shows_the_tracker_as_it_did(tmp_path: Path) -> None:
    """Read back as a spreadsheet opens it: looks, widths, dates, colours, header and filters."""
    build = load(SAMPLE)
    files = downloads(build)
    data = files["downloads/action-tracker.xlsx"]
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None and sheet.title == "Action tracker"
    rows = csv_cells(files["downloads/action-tracker.csv"])
    assert [c.value for c in sheet[1]] == rows[0] == TRACKER_COLUMNS
    assert sheet.max_row == len(rows) and sheet.max_column == len(TRACKER_COLUMNS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(rows)}"
    assert [s for s in book.named_styles if s.startswith("Portfolio")] == [
        look.name for look in LOOKS
    ]
    assert all(c.font.b and c.style == "Portfolio heading" for c in sheet[1])
    for index, column in enumerate(TRACKER_COLUMNS):
        letter = column_letter(index)
        longest = max(len(row[index]) for row in rows)
        width = 13 if column in DATE_COLUMNS else min(60, longest + 2)
        assert sheet.column_dimensions[letter].width == width, column
    deadline, colour = TRACKER_COLUMNS.index("Deadline"), TRACKER_COLUMNS.index(COLOUR_COLUMN)
    for cells, fields in zip(sheet.iter_rows(min_row=2), rows[1:], strict=True):
        for index, (cell, field) in enumerate(zip(cells, fields, strict=True)):
            assert cell.data_type != "f"
            assert cell.alignment.vertical == "top"
            if index == deadline:
                assert cell.is_date and cell.number_format == "dd mmm yyyy"
                assert cell.value.date().isoformat() == field
                continue
            assert shown(cell.value) == field
            assert bool(cell.alignment.wrap_text) == (len(field) > 60)
            if index == colour:
                fill, text = FILLS[field.split(":")[0]]
                assert cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb == "00" + fill
                assert cell.font.b and cell.font.color.rgb == "00" + text
            else:
                assert cell.fill.fill_type is None and not cell.font.b
    # The document's dates are the build's, and so is every entry of the zip.
    day = build.as_of
    assert book.properties.creator == "portfolio"
    assert book.properties.created == book.properties.modified == datetime(*day.timetuple()[:3])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert {info.date_time for info in archive.infolist()} == {(*day.timetuple()[:3], 0, 0, 0)}


HOSTILE_CELLS = [
    "_x0041_ is not A",
    "_x005F_ and _X00e9_",
    "line one\r\nline two\tand a tab",
    "<b>&amp; markup</b>",
    "  spaces either end  ",
    "\u0645\u0631\u062d\u0628\u0627 \u200fRTL\u200e mixed",
    "\U0001f642 emoji \U0001f3e5 and \u00e9\u0301 combining",
    "#N/A",
    "0042",
    "1e5",
    "TRUE",
    "\x01\x02 control \x1f characters \ufffe",
    "\u200b=1+1",
    "'already quoted",
]


def test_hostile_text_reads_back_as_the_csv_has_it() -> None:
    columns = ["Text", "Deadline"]
    rows = [[text, "2026-06-30"] for text in HOSTILE_CELLS]
    rows += [["not a date", "2026-02-30"], ["before Excel's dates", "1899-12-31"], ["", ""]]
    data = to_xlsx("Tracker", columns, rows, datetime(2026, 6, 30))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    fields = csv_cells(to_csv(columns, rows))
    for cells, row in zip(sheet.iter_rows(), fields, strict=True):
        text, deadline = cells
        assert text.data_type in ("s", "n") and (text.data_type == "s" or text.value is None)
        assert shown(text.value) == row[0]
        assert not starts_a_formula(shown(text.value))
        if row[1] == "2026-06-30":
            assert text.row == 1 or deadline.value == datetime(2026, 6, 30)
        else:
            assert shown(deadline.value) == row[1]  # what is not a date Excel can show stays text
    assert fields[1][0] == "_x0041_ is not A" and fields[12][0] == " control  characters "
    assert fields[13][0] == "'\u200b=1+1"


def test_a_cell_holds_what_excel_can_hold() -> None:
    """Excel holds 32,767 UTF-16 units in a cell: longer text is cut there (the CSV keeps it)."""
    long_text, emoji = "x" * 40_000, "\U0001f642" * 20_000
    data = to_xlsx("Tracker", ["A", "B"], [[long_text, emoji]], datetime(2026, 6, 30))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["A2"].value == "x" * 32_767
    assert sheet["B2"].value == "\U0001f642" * 16_383  # no half of a character
    assert csv_cells(to_csv(["A", "B"], [[long_text, emoji]]))[1] == [long_text, emoji]


def test_the_csv_bytes_are_as_before() -> None:
    rows = [["=1", 'say "hi"', "\x01x"], ["a\nb", "\u00e9", " @x"]]
    assert to_csv(["A", "B", "C"], rows) == (
        b'\xef\xbb\xbfA,B,C\r\n\'=1,"say ""hi""",x\r\n"a\nb",\xc3\xa9,\' @x\r\n'
    )


def test_columns_and_days_as_excel_counts_them() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "ZZ",
        "AAA",
    ]
    assert serial(date(1900, 3, 1)) == 61 and serial(date(2026, 6, 30)) == 46203
    assert serial(date(1900, 2, 28)) is None


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_the_workbook_as_the_csv(tmp_path: Path) -> None:
    """A real spreadsheet program opens the workbook and shows what the CSV holds."""
    columns = ["Text", "Deadline", COLOUR_COLUMN]
    rows = [[text, "2026-06-30", "Red: Overdue"] for text in HOSTILE_CELLS]
    (tmp_path / "book.xlsx").write_bytes(to_xlsx("Tracker", columns, rows, datetime(2026, 6, 30)))
    command = [
        "soffice",
        f"-env:UserInstallation=file://{tmp_path}/profile",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        "--outdir",
        str(tmp_path),
        str(tmp_path / "book.xlsx"),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=240)
    shown_rows = list(csv.reader(io.StringIO((tmp_path / "book.csv").read_text(), newline="")))
    expected = csv_cells(to_csv(columns, rows))
    for row in expected[1:]:
        row[0] = row[0].replace("\r\n", "\n")  # LibreOffice keeps a line break as one character
        row[1] = "30 Jun 2026"  # the date as the sheet shows it
    assert shown_rows == expected


@pytest.mark.parametrize(
    "name", ["", "Plan/2026", "Actions?", "'quoted'", "History", "x" * 32, "\N{GRINNING FACE}" * 16]
)
def test_a_sheet_name_excel_would_not_open_is_refused(name: str) -> None:
    """A workbook with such a sheet name would not open in Excel: the writer refuses it rather
    than write one (the downloads' sheet names are the tool's own)."""
    when = datetime(2026, 10, 31)
    with pytest.raises(ValueError, match="sheet's name"):
        workbook_parts(name, [Look("Plain")], [10.0], [[("a", 0)]], when)
    workbook_parts("Action tracker", [Look("Plain")], [10.0], [[("a", 0)]], when)
