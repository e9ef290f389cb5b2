"""The downloads: action tracker and evidence register as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import time

from openpyxl import load_workbook

from conftest import CONCERN_MD, SAMPLE, MakePortfolio
from generator.pipeline import load
from generator.render.exports import REGISTER_COLUMNS, TRACKER_COLUMNS, downloads, inert


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
    values = [
        [c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)
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
