"""Importing a messy spreadsheet tracker of the shape providers keep, as XLSX and as CSV."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from conftest import PORTFOLIO_YAML, MakePortfolio, excel_csv, new_sheet
from generator.cli import cli
from generator.pipeline import load

HEADER = [
    "Ref",
    "Issue / Finding",
    "CQC Quality Statement",
    "Action required",
    "Lead",
    "Target Date",
    "RAG",
    "Progress update",
    "Evidence of completion",
    "Status",
]
ROWS: list[list[object]] = [
    [
        1,
        "MAR charts have gaps on the evening round",
        "Medicines optimisation",
        "Weekly MAR spot checks by the senior on shift",
        "Medicines Lead",
        "31/01/2026",
        "Amber - improving",
        "3 of 4 weeks done",
        None,
        "In progress",
    ],
    [
        2,
        None,
        None,
        "Competency checks for staff with repeated errors",
        "Amira Patel",
        datetime(2026, 2, 15),
        None,
        None,
        "Observed practice record for each staff member",
        "Complete",
    ],
    [
        3,
        "Care plans not reviewed after falls",
        "Assessing needs; Safe environments",
        "Falls review within 72 hours of every fall",
        "Tom Reid",
        46100,
        "Red",
        None,
        None,
        "Not started",
    ],
    [None, None, None, None, None, None, None, None, None, None],
    [
        4,
        "Families not told of appointment outcomes",
        "Providing information",
        "Family contact log on each floor",
        "Deputy Manager",
        "15 Mar 2026",
        "green",
        "Started",
        None,
        "Ongoing",
    ],
    [
        5,
        "Night staffing relies on agency",
        "Safe and effective staffing",
        "Recruit two night seniors",
        "Registered Manager",
        "TBC",
        "Amber",
        None,
        None,
        "Open",
    ],
    [
        6,
        "Laundry losing clothes",
        "Key question: Caring",
        "Label all clothing on admission",
        "Housekeeper",
        "03/04/2026",
        "Green",
        None,
        None,
        "Planned",
    ],
]


def tracker_xlsx(path: Path) -> Path:
    book, sheet = new_sheet()
    sheet.append(["Larkfield House: CQC action plan, updated March 2026"])
    sheet.merge_cells("A1:J1")
    sheet.append([])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    # The finding of rows 4-5 (spreadsheet rows) is one merged cell, as trackers often do.
    sheet.merge_cells("B4:B5")
    sheet.merge_cells("C4:C5")
    book.save(path)
    return path


def run_import(root: Path, tracker: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["import", str(tracker), str(root), *args])
    return result.exit_code, result.output, result.stderr


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_messy_tracker_imports_and_passes_check(
    make_portfolio: MakePortfolio, tmp_path: Path, form: str
) -> None:
    root = make_portfolio()
    xlsx = tracker_xlsx(tmp_path / "tracker.xlsx")
    tracker = xlsx if form == "xlsx" else excel_csv(xlsx, tmp_path / "tracker.csv")
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert out.startswith(
        "Imported 6 actions into 5 concerns (IMP-01, IMP-02, IMP-03, IMP-04, IMP-05)"
    )
    assert "could not be imported" not in err
    # 'TBC' is an action with no date; "Key question: Caring" is a key question, and the
    # statement under it is guessed from the finding's words.
    assert "row 9: IMP-04-A1 'Recruit two night seniors' ('TBC')" in out
    assert "IMP-05 (row 10) 'Laundry losing clothes': kindness-compassion-dignity" in out
    assert "row 4: '31/01/2026'" not in err  # 31 cannot be a month: no ambiguity
    p = load(root).portfolio
    med = p.concerns["IMP-01"]
    assert med.title == "MAR charts have gaps on the evening round"
    assert [a.title for a in med.actions] == [
        "Weekly MAR spot checks by the senior on shift",
        "Competency checks for staff with repeated errors",
    ]
    assert [a.due.isoformat() for a in med.actions] == ["2026-01-31", "2026-02-15"]
    assert [a.status for a in med.actions] == ["in-progress", "completed"]
    assert med.risk == "medium" and med.quality_statements == ["medicines-optimisation"]
    # The tracker gives the note no date: it is kept in the body, not stamped with today.
    assert med.actions[0].updates == []
    assert "- IMP-01-A1: 3 of 4 weeks done" in med.body
    falls = p.concerns["IMP-02"]
    assert falls.quality_statements == ["assessing-needs", "safe-environments"]
    assert falls.risk == "medium"  # its RAG "Red" is the tracker's status, not the risk
    assert "row 8: IMP-03-A1: the tracker says 'green'; the build shows Red (Overdue" in out
    assert falls.actions[0].due.isoformat() == "2026-03-19"  # Excel serial date 46100
    assert p.concerns["IMP-03"].actions[0].due.isoformat() == "2026-03-15"
    # Owners became roles; known ones were matched by title or name.
    assert med.actions[0].owner == "medicines-lead"
    assert med.actions[1].owner == "registered-manager"  # Amira Patel holds that role
    assert p.settings.roles["deputy-manager"].title == "Deputy Manager"
    assert falls.actions[0].owner == "quality-lead"  # Tom Reid's role
    # Closure evidence became an evidence entry cited by the action.
    cited = med.actions[1].evidence
    assert (
        cited and p.evidence[cited[0]].summary == "Observed practice record for each staff member"
    )
    # A second import of the same file adds no concern: its rows keep those imported in step,
    # and as nothing in the tracker changed, no file changes.
    before = {f: f.read_bytes() for f in [*sorted(root.rglob("*.md")), root / "portfolio.yaml"]}
    concerns_before = sorted(p.concerns)
    code, out, err = run_import(root, tracker)
    after = {f: f.read_bytes() for f in [*sorted(root.rglob("*.md")), root / "portfolio.yaml"]}
    assert [f.name for f in before if before[f] != after.get(f)] == [], out + err
    assert code == 0 and "Imported" not in out and "in the portfolio already" not in err
    assert sorted(load(root).portfolio.concerns) == concerns_before


def test_dry_run_writes_nothing(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    settings = (root / "portfolio.yaml").read_text()
    code, out, _ = run_import(root, tracker_xlsx(tmp_path / "t.xlsx"), "--dry-run")
    assert code == 0 and out.startswith("Would import 6 actions into 5 concerns")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert (root / "portfolio.yaml").read_text() == settings


def test_ambiguous_dates_are_reported_and_a_map_settles_them(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    path = tmp_path / "t.csv"
    path.write_text(
        "Finding,Action,Owner,Due,Quality statement\n"
        "Hydration charts incomplete,Fluid chart audit,Tom Reid,03/04/2026,"
        "Supporting healthier lives\n",
        encoding="utf-8",
    )
    code, _, err = run_import(root, path, "--dry-run")
    assert code == 0
    assert (
        "row 2: '03/04/2026' read as 03 April 2026 (day/month); if it meant 04 March 2026, "
        "write 2026-03-04"
    ) in err
    mapping = tmp_path / "map.yaml"
    mapping.write_text("date_order: mdy\nid_prefix: HYD\n", encoding="utf-8")
    code, _, err = run_import(root, path, "--map", str(mapping))
    assert code == 0 and "warning" not in err
    assert load(root).portfolio.concerns["HYD-01"].actions[0].due.isoformat() == "2026-03-04"


def test_a_map_names_columns_and_defaults(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    path = tmp_path / "t.csv"
    path.write_text(
        "What went wrong,Step,Who,When\nBells slow at night,Zone the floors,Tom Reid,2026-05-01\n",
        encoding="utf-8",
    )
    code, _, err = run_import(root, path)
    assert code == 1
    assert "no header row found" in err
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {finding: What went wrong, action: Step, owner: Who, deadline: When}\n"
        "defaults: {quality_statements: [responding-to-immediate-needs], source: complaint}\n",
        encoding="utf-8",
    )
    code, _, err = run_import(root, path, "--map", str(mapping))
    assert code == 0, err
    concern = load(root).portfolio.concerns["IMP-01"]
    assert concern.source == "complaint"
    assert concern.quality_statements == ["responding-to-immediate-needs"]


def test_a_damaged_workbook_is_reported(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    bad = tmp_path / "tracker.xlsx"
    bad.write_text("not a workbook")
    code, _, err = run_import(root, bad)
    assert code == 1
    assert err.startswith(f"{bad.as_posix()}: this is not a workbook Excel can open (")


def test_map_files_are_checked(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    from typing import get_args

    from generator.tools.importer import SYNONYMS, Column

    assert set(get_args(Column)) == set(SYNONYMS)
    root = make_portfolio()
    path = tmp_path / "t.csv"
    path.write_text("Finding,Action,Due\nx,y,01/02/2026\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("date_order: dym\ncolumns: {findings: Issue}\n", encoding="utf-8")
    code, _, err = run_import(root, path, "--map", str(mapping))
    assert code == 1
    assert err.splitlines()[:2] == [
        f"{mapping.as_posix()}:1: date_order: 'dym' is not allowed here; use one of: dmy, mdy",
        f"{mapping.as_posix()}:2: columns.findings: 'findings' is not allowed here; use one of: "
        "finding, action, owner, deadline, risk, progress, closure_evidence, status, "
        "quality_statement, key_question, regulation, source, raised, rag, progress_date",
    ]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (as None) under ``root``."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


CRLF_PORTFOLIO = PORTFOLIO_YAML.replace("\n", "\r\n").encode()
FLOW_ROLES = (
    PORTFOLIO_YAML.split("roles:")[0]
    + "roles: {registered-manager: {name: Amira Patel}, quality-lead: {name: Tom Reid}, "
    "medicines-lead: {title: Medicines Lead}}\n"
)
SMALL_TRACKER = (
    "Finding,Action required,Lead,Target date,Quality statement,Evidence of completion\r\n"
    "Bells slow at night,Zone the floors,Night Supervisor,31/05/2026,Safe environments,"
    "Bell log\r\n"
)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"portfolio.yaml": FLOW_ROLES.replace("\n", "\r\n").encode()},
            "portfolio.yaml:6: cannot add the tracker's owners: write roles as a block "
            "('roles:' on a line of its own)",
        ),
        (
            {"portfolio.yaml": CRLF_PORTFOLIO, "evidence/imported": "notes\r\n"},
            "evidence/imported: a file is in the way: import writes its records into a folder "
            "of this name; rename or move the file and import again",
        ),
    ],
    ids=["roles-in-flow-style", "file-in-the-way"],
)
def test_a_failed_import_leaves_every_byte_and_folder_as_it_was(
    make_portfolio: MakePortfolio,
    tmp_path: Path,
    files: dict[str, str | bytes],
    message: str,
) -> None:
    root = make_portfolio(files)
    tracker = tmp_path / "t.csv"
    tracker.write_text(SMALL_TRACKER, encoding="utf-8")
    before = snapshot(root)
    code, _, err = run_import(root, tracker)
    assert snapshot(root) == before
    assert code == 1
    assert err.splitlines() == [f"{root.as_posix()}/{message}", "1 error; nothing was written."]


def test_an_import_keeps_the_line_endings_of_portfolio_yaml(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio({"portfolio.yaml": CRLF_PORTFOLIO})
    tracker = tmp_path / "t.csv"
    tracker.write_text(SMALL_TRACKER, encoding="utf-8")
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    after = (root / "portfolio.yaml").read_bytes()
    added = b'  night-supervisor: {title: "Night Supervisor"}  # added by portfolio import\r\n'
    remembered = b"tracker_date_order: dmy  # added by portfolio import: tracker dates are read "
    remembered += b"day first\r\n"  # its 31/05/2026 settled it
    assert after == CRLF_PORTFOLIO.replace(b"roles:\r\n", b"roles:\r\n" + added) + remembered
    assert load(root).portfolio.settings.roles["night-supervisor"].title == "Night Supervisor"


def test_control_characters_are_reported_at_their_row_and_column(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    xlsx = tracker_xlsx(tmp_path / "tracker.xlsx")
    book = load_workbook(xlsx)
    sheet = book.active
    assert sheet is not None
    # Excel keeps a control character in a workbook as _xHHHH_; this is "\x01=cmd|...".
    sheet["D8"] = "_x0001_=cmd|' /C calc'!A0"
    sheet["B10"] = "Laundry losing_x0008_ clothes"
    book.save(xlsx)
    csv_file = tmp_path / "tracker.csv"
    csv_file.write_bytes(
        b"Finding,Action required,Lead,Target date,Quality statement\r\n"
        b"Bells slow at night,\x01=cmd|' /C calc'!A0,Night \x1b\x7fLead,31/05/2026,"
        b"Safe environments\r\n"
    )
    before = snapshot(root)
    code, _, err = run_import(root, xlsx)
    assert code == 1
    assert err.splitlines() == [
        f'{xlsx.as_posix()}: row 8, column "Action required": holds an invisible control '
        "character (U+0001) at character 1; delete it (retype the text, or use Excel's CLEAN "
        "function) and import again",
        f'{xlsx.as_posix()}: row 10, column "Issue / Finding": holds an invisible control '
        "character (U+0008) at character 15; delete it (retype the text, or use Excel's CLEAN "
        "function) and import again",
        "2 errors; nothing was written.",
    ]
    code, _, err = run_import(root, csv_file)
    assert code == 1
    assert err.splitlines() == [
        f'{csv_file.as_posix()}: row 2, column "Action required": holds an invisible control '
        "character (U+0001) at character 1; delete it (retype the text, or use Excel's CLEAN "
        "function) and import again",
        f'{csv_file.as_posix()}: row 2, column "Lead": holds 2 invisible control characters '
        "(U+001B at character 7, U+007F at character 8); delete them (retype the text) and "
        "import again",
        "2 errors; nothing was written.",
    ]
    assert snapshot(root) == before


TITLE = "Café tables sticky \u2013 £5 budget"  # an en dash, as Excel's autocorrect types it
TEXT = (
    "Ref,Finding,Action required,Lead,Target date,Quality statement\r\n"
    f"R1,{TITLE},Deep clean rota,Tom Reid,31/05/2026,Safe environments\r\n"
)


@pytest.mark.parametrize(
    ("data", "read_as", "title"),
    [
        (TEXT.encode("utf-8"), None, TITLE),
        (("\ufeff" + TEXT).encode("utf-8"), None, TITLE),
        (
            ("\ufeff" + TEXT.replace(",", "\t")).encode("utf-16-le"),
            "Read t.csv as UTF-16, tab-separated.",
            TITLE,
        ),
        (
            # Excel's "Unicode text" is saved as .txt
            ("\ufeff" + TEXT.replace(",", "\t")).encode("utf-16-le"),
            "Read t.txt as UTF-16, tab-separated.",
            TITLE,
        ),
        (
            ("\ufeff" + TEXT.replace(",", "\t")).encode("utf-16-be"),
            "Read t.csv as UTF-16, tab-separated.",
            TITLE,
        ),
        (
            TEXT.encode("cp1252"),
            "Read t.csv as Windows-1252, comma-separated.",
            TITLE,
        ),
        (
            TEXT.replace(",", ";").encode("cp1252"),
            "Read t.csv as Windows-1252, semicolon-separated.",
            TITLE,
        ),
        (
            # 0x81 is no character in Windows-1252: only Latin-1 reads every byte.
            TEXT.replace("R1", "R\x81").replace(" \u2013", "").encode("latin-1"),
            "Read t.csv as Latin-1, comma-separated: it is neither UTF-8 nor Windows-1252, so "
            "check that accented letters and symbols came through (saving it from Excel as "
            '"CSV UTF-8" avoids the guess).',
            "Café tables sticky £5 budget",
        ),
    ],
    ids=[
        "utf-8",
        "utf-8-bom",
        "utf-16-le",
        "unicode-text",
        "utf-16-be",
        "cp1252",
        "cp1252-semicolons",
        "latin-1",
    ],
)
def test_csv_in_every_encoding_excel_saves(
    make_portfolio: MakePortfolio, tmp_path: Path, data: bytes, read_as: str | None, title: str
) -> None:
    root = make_portfolio()
    tracker = tmp_path / ("t.txt" if read_as and "t.txt" in read_as else "t.csv")
    tracker.write_bytes(data)
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Imported 1 actions into 1 concerns (IMP-01)")
    assert (lines[1] if lines[1].startswith("Read") else None) == read_as
    assert load(root).portfolio.concerns["IMP-01"].title == title


def test_bytes_no_encoding_explains_are_reported_with_their_cell(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "t.csv"
    # 0x9D is no character in Windows-1252; Latin-1 reads it as an invisible control character.
    tracker.write_bytes(TEXT.replace(" \u2013", "").replace("Deep", "Deep\x9d").encode("latin-1"))
    code, _, err = run_import(root, tracker)
    assert code == 1
    assert err.splitlines() == [
        f'{tracker.as_posix()}: row 2, column "Action required": holds an invisible control '
        "character (U+009D) at character 5; the file is neither UTF-8 nor Windows-1252 text, so "
        'this may be a letter read wrongly: save the tracker from Excel as "CSV UTF-8" and '
        "import again, or retype the text",
        "1 error; nothing was written.",
    ]


def test_a_header_row_past_the_end_is_reported(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    path = tmp_path / "t.csv"
    path.write_text("Finding,Action,Due\nx,y,01/02/2026\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("header_row: 40\n", encoding="utf-8")
    code, _, err = run_import(root, path, "--map", str(mapping))
    assert code == 1
    assert err.splitlines() == [
        f"{path.as_posix()}: the map file's header_row is 40, but the tracker's last row is 2; "
        "set header_row to the row that holds the headers",
        "1 error; nothing was written.",
    ]


def test_characters_no_yaml_file_can_hold_are_reported_at_their_cell(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "t.csv"
    tracker.write_text(SMALL_TRACKER.replace("Night Supervisor", "Night \ufffeSupervisor"))
    before = snapshot(root)
    code, _, err = run_import(root, tracker)
    assert snapshot(root) == before
    assert code == 1
    assert err.splitlines()[0] == (
        f'{tracker.as_posix()}: row 2, column "Lead": holds an invisible control character '
        "(U+FFFE) at character 7; delete it (retype the text) and import again"
    )
    # A workbook's escape for half of a surrogate pair stands for no character: kept as written.
    book, sheet = new_sheet()
    sheet.append(["Finding", "Action required", "Lead", "Target date", "Quality statement"])
    sheet.append(
        ["Bells_xD800_ slow", "Zone the floors", "Tom Reid", "31/05/2026", "Safe environments"]
    )
    book.save(tmp_path / "t.xlsx")
    code, _, err = run_import(root, tmp_path / "t.xlsx")
    assert code == 0, err
    assert load(root).portfolio.concerns["IMP-01"].title == "Bells_xD800_ slow"


def test_totals_rows_are_skipped_with_a_note(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio()
    book, sheet = new_sheet()
    sheet.append(["Finding", "Action", "Owner", "Target date", "Status"])
    sheet.append(["Call bells slow at night", "Night call bell audit", "RM", "31/12/2026", "Open"])
    sheet.append(["Call bells slow at night", "Fix the pager", "RM", "31/01/2027", "Done"])
    sheet.append(["Total actions", 2, None, None, 1])
    sheet.append(["Totals", "2", None, None, "50%"])
    sheet.append(["TOTAL", "TOTAL", None, None, None])  # merged across, as Excel fills it
    tracker = tmp_path / "tracker.xlsx"
    book.save(tracker)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "defaults: {quality_statements: [safe-environments], source: internal-audit}\n",
        encoding="utf-8",
    )
    code, out, err = run_import(root, tracker, "--map", str(mapping))
    assert code == 0, err
    assert out.startswith("Imported 2 actions into 1 concerns (IMP-01)"), out
    for row, text in ((4, "Total actions"), (5, "Totals"), (6, "TOTAL")):
        assert f"row {row}: a totals row ({text!r}), not an action" in err
    p = load(root).portfolio
    assert [c for c in p.concerns if c.startswith("IMP-")] == ["IMP-01"]
    assert [a.title for a in p.concerns["IMP-01"].actions] == [
        "Night call bell audit",
        "Fix the pager",
    ]
    # A finding that starts with the word is no totals row.
    sheet.append(["Total body checks not done", "Body map on admission", "RM", "31/12/2026"])
    book.save(tracker)
    code, out, err = run_import(root, tracker, "--map", str(mapping), "--dry-run")
    assert out.startswith("Would import 1 actions into 1 concerns (IMP-02)"), out + err
    assert "row 7" not in err, err


def dues_of(root: Path) -> list[str]:
    return [
        a.current_due.isoformat()
        for c in sorted(load(root).portfolio.concerns.values(), key=lambda c: c.id)
        if c.id.startswith("IMP-")
        for a in c.actions
    ]


def test_of_two_deadline_columns_the_visible_and_revised_one_is_read(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    book, sheet = new_sheet()
    # The revised column first, hidden: the visible one is read all the same.
    sheet.append(["Finding", "Action", "Owner", "Revised target date", "Target date", "Status"])
    sheet.append(
        ["Handover notes incomplete", "New handover sheet", "RM", datetime(2027, 1, 31),
         datetime(2026, 9, 30), "In progress"]
    )  # fmt: skip
    sheet.column_dimensions["D"].hidden = True
    tracker = tmp_path / "hidden.xlsx"
    book.save(tracker)
    code, _, err = run_import(root, tracker, "--dry-run")
    assert code == 0, err
    assert (
        "the columns 'Revised target date' (hidden), 'Target date' could each be the deadline: "
        "read 'Target date', as the visible one"
    ) in err
    sheet.column_dimensions["D"].hidden = False  # both visible: the revised one is read
    sheet["E1"] = "Original target date"
    book.save(tracker)
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    assert "read 'Revised target date', as the latest by its name" in err
    assert dues_of(root) == ["2027-01-31"]


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_header_over_two_rows_is_read_as_one(
    make_portfolio: MakePortfolio, tmp_path: Path, form: str
) -> None:
    root = make_portfolio()
    book, sheet = new_sheet()
    sheet.append(["Improvement plan"])
    sheet.append(["Finding", "Action", "Owner", "Target date", None, "Status", "Progress"])
    sheet.append([None, None, None, "Original", "Revised", None, None])
    sheet.merge_cells("D2:E2")
    for column in "ABCFG":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.append(
        ["Oral care plans lack detail", "Rewrite oral care plans", "RM", datetime(2026, 10, 31),
         datetime(2027, 2, 28), "In progress", "Half done"]
    )  # fmt: skip
    sheet.append(["Oral care plans lack detail", "Audit oral care", "RM", "TBC", None, "Open"])
    tracker = tmp_path / "twohead.xlsx"
    book.save(tracker)
    if form == "csv":
        tracker = excel_csv(tracker, tmp_path / "twohead.csv")
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert out.startswith("Imported 2 actions into 1 concerns (IMP-01)"), out + err
    assert "read 'Target date Revised', as the latest by its name" in err
    (concern,) = [c for c in load(root).portfolio.concerns.values() if c.id.startswith("IMP-")]
    assert [a.title for a in concern.actions] == ["Rewrite oral care plans", "Audit oral care"]
    assert concern.actions[0].current_due == date(2027, 2, 28)


def test_two_columns_nothing_tells_apart_are_named_and_the_first_read(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "tracker.csv"
    tracker.write_text(
        "Finding,Action,Deadline,Target date,Quality statement\n"
        "Call bells slow at night,Night call bell audit,31/12/2026,31/01/2027,Safe environments\n",
        encoding="utf-8",
    )
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    assert (
        "the columns 'Deadline', 'Target date' could each be the deadline: read 'Deadline', the "
        "first of them; if another is meant, name it in a map file: columns: {deadline: <header>}"
    ) in err
    assert dues_of(root) == ["2026-12-31"]


def test_an_empty_revised_cell_leaves_the_original_date_and_a_revised_one_is_its_extension(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    book, sheet = new_sheet()
    sheet.append(["Finding", "Action", "Owner", "Original target date", "Revised target date",
                  "Status", "Quality statement"])  # fmt: skip
    sheet.append(["Call bells slow at night", "Night call bell audit", "RM",
                  datetime(2027, 1, 31), None, "In progress", "Safe environments"])  # fmt: skip
    sheet.append(["Call bells slow at night", "Fix the pager", "RM", datetime(2027, 2, 28),
                  datetime(2027, 4, 30), "In progress", "Safe environments"])  # fmt: skip
    sheet.append(["Call bells slow at night", "Ask the supplier", "RM", "TBC",
                  "  ", "Not started", "Safe environments"])  # fmt: skip
    tracker = tmp_path / "revised.xlsx"
    book.save(tracker)
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    assert (
        "read 'Revised target date', as the latest by its name; each row is due on the first "
        "date of 'Original target date', 'Revised target date' it holds"
    ) in err
    (audit, pager, supplier) = load(root).portfolio.concerns["IMP-01"].actions
    assert (audit.due, audit.extensions) == (date(2027, 1, 31), [])
    assert pager.due == date(2027, 2, 28)
    assert [e.to for e in pager.extensions] == [date(2027, 4, 30)]
    assert supplier.due == date.today()  # "TBC", as the first import reads it
    imported = snapshot(root)
    code, out, err = run_import(root, tracker)
    assert code == 0 and "in step already" in out, out + err
    assert snapshot(root) == imported
    # A new row of the tracker imported again reads its two dates alike.
    sheet.append(["Call bells slow at night", "Replace the handsets", "RM", datetime(2027, 3, 31),
                  datetime(2027, 5, 31), "Not started", "Safe environments"])  # fmt: skip
    book.save(tracker)
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert (
        "IMP-01-A4 (row 5): Replace the handsets; owner registered-manager, due 2027-03-31 "
        "(extended to 2027-05-31)" in out
    )
    handsets = load(root).portfolio.concerns["IMP-01"].actions[3]
    assert (handsets.due, handsets.current_due) == (date(2027, 3, 31), date(2027, 5, 31))


@pytest.mark.parametrize(
    ("header", "cells", "due", "extended"),
    [
        # Only the first of three filled: due on it, never on the import day.
        (["Deadline", "New deadline", "Agreed deadline"], ["31/12/2026", "", ""],
         date(2026, 12, 31), []),
        (["Deadline", "New deadline", "Agreed deadline"], ["30/11/2026", "31/01/2027", ""],
         date(2026, 11, 30), [date(2027, 1, 31)]),
        # Two revisions: both kept, in order, each beside the one before.
        (["Deadline", "Revised deadline", "Second revised deadline"],
         ["30/11/2026", "31/01/2027", "28/02/2027"], date(2026, 11, 30),
         [date(2027, 1, 31), date(2027, 2, 28)]),
        (["Deadline", "Revised deadline", "Second revised deadline"],
         ["30/11/2026", "", "28/02/2027"], date(2026, 11, 30), [date(2027, 2, 28)]),
        # Numbered revisions, and one the same as the date before it (no extension).
        (["Target date", "Revised date 1", "Revised date 2"],
         ["30/11/2026", "31/01/2027", "31/01/2027"], date(2026, 11, 30), [date(2027, 1, 31)]),
        (["Revised date 2", "Target date", "Revised date 1"],
         ["28/02/2027", "30/11/2026", "31/01/2027"], date(2026, 11, 30),
         [date(2027, 1, 31), date(2027, 2, 28)]),
    ],
)  # fmt: skip
def test_three_deadline_columns_give_the_due_date_and_each_revision_in_order(
    make_portfolio: MakePortfolio,
    tmp_path: Path,
    header: list[str],
    cells: list[str],
    due: date,
    extended: list[date],
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "three.csv"
    tracker.write_text(
        ",".join(["Finding", "Action", "Lead", *header, "Status", "Quality statement"]) + "\r\n"
        + ",".join(["Call bells slow at night", "Night call bell audit", "RM", *cells,
                    "In progress", "Safe environments"]) + "\r\n",
        encoding="cp1252",
    )  # fmt: skip
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert "no due date" not in out + err
    (audit,) = load(root).portfolio.concerns["IMP-01"].actions
    assert audit.due == due
    assert [e.to for e in audit.extensions] == extended
    assert "could each be the deadline" in err
    imported = snapshot(root)
    code, out, err = run_import(root, tracker)
    assert code == 0 and "in step already" in out, out + err
    assert snapshot(root) == imported


@pytest.mark.parametrize(
    "header",
    ["Updated date", "Date last updated", "Agreed date", "Date agreed", "First date",
     "Previous date", "Review date", "Date raised", "Date opened", "Date closed",
     "Date completed"],
)  # fmt: skip
def test_a_date_column_of_something_else_is_never_a_deadline_first_or_later(
    make_portfolio: MakePortfolio, tmp_path: Path, header: str
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "dated.csv"

    def write(other: str) -> None:
        tracker.write_text(
            f"Finding,Action,Lead,Target date,{header},Status,Quality statement\r\n"
            f"Call bells slow at night,Night call bell audit,RM,31/12/2026,{other},In progress,"
            "Safe environments\r\n",
            encoding="cp1252",
        )

    write("01/10/2026")
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert "could each be the deadline" not in err
    (audit,) = load(root).portfolio.concerns["IMP-01"].actions
    assert (audit.due, audit.extensions) == (date(2026, 12, 31), [])
    write("15/11/2026")  # the tracker edited again: no new deadline
    code, out, err = run_import(root, tracker)
    assert code == 0, out + err
    (audit,) = load(root).portfolio.concerns["IMP-01"].actions
    assert (audit.due, audit.extensions) == (date(2026, 12, 31), [])


@pytest.mark.parametrize(
    "header",
    ["Revised date", "New date", "Revised date 2", "Second revised date", "New date agreed",
     "Revised date agreed"],
)  # fmt: skip
def test_a_date_column_named_revised_is_a_deadline(
    make_portfolio: MakePortfolio, tmp_path: Path, header: str
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "revised.csv"
    tracker.write_text(
        f"Finding,Action,Lead,Target date,{header},Status,Quality statement\r\n"
        "Call bells slow at night,Night call bell audit,RM,31/12/2026,31/01/2027,In progress,"
        "Safe environments\r\n",
        encoding="cp1252",
    )
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    (audit,) = load(root).portfolio.concerns["IMP-01"].actions
    assert (audit.due, audit.current_due) == (date(2026, 12, 31), date(2027, 1, 31))


@pytest.mark.parametrize("header", ["New date (if extended)", "Extended to"])
def test_a_column_of_new_dates_import_does_not_read_is_warned_about_once(
    make_portfolio: MakePortfolio, tmp_path: Path, header: str
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "extended.csv"
    tracker.write_text(
        f"Finding,Action,Lead,Target date,{header},Status,Quality statement\r\n"
        "Call bells slow at night,Night call bell audit,RM,31/12/2026,31/01/2027,In progress,"
        "Safe environments\r\n"
        "Call bells slow at night,Fix the pager,RM,30/11/2026,28/02/2027,In progress,"
        "Safe environments\r\n",
        encoding="cp1252",
    )
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    warning = (
        f"the column {header!r} (column E) holds dates and its header names a new date, but "
        "import does not read it as a deadline: if it holds revised deadlines, name it "
        '"Revised deadline" (or in a map file: columns: {deadline: <header>}) and import again'
    )
    assert " ".join(err.split()).count(warning) == 1, err


@pytest.mark.parametrize(
    ("cells", "dropped", "kept"),
    [
        (["TBC", "end of Oct", "Q1"], [("Revised deadline", "end of Oct")], "Q1"),
        (["end of Oct", "Q1", ""], [("Deadline", "end of Oct")], "Q1"),
        (["TBC", "end of Oct", ""], [], "end of Oct"),
    ],
)
def test_words_of_an_earlier_deadline_not_read_are_warned_about(
    make_portfolio: MakePortfolio,
    tmp_path: Path,
    cells: list[str],
    dropped: list[tuple[str, str]],
    kept: str,
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "worded.csv"
    tracker.write_text(
        "Finding,Action,Lead,Deadline,Revised deadline,Second revised deadline,Status,"
        "Quality statement\r\n"
        + ",".join(["Call bells slow at night", "Night call bell audit", "RM", *cells,
                    "In progress", "Safe environments"]) + "\r\n",
        encoding="cp1252",
    )  # fmt: skip
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    for header, words in dropped:
        assert (
            f"row 2: the {header!r} {words!r} is not read: with no date in the row's deadline "
            f"columns, only the latest words, {kept!r}, are; write each as a date"
        ) in err
    assert "is not read: with no date" in err if dropped else "is not read" not in err
    assert f"row 2: {kept!r} read as" in out + err


def test_an_empty_new_timescale_leaves_the_timescale(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "timescale.csv"
    tracker.write_text(
        "Finding,Action,Timescale,New timescale,Quality statement\r\n"
        "Call bells slow at night,Night call bell audit,31/12/2026,,Safe environments\r\n"
        "Call bells slow at night,Fix the pager,31/12/2026,31/03/2027,Safe environments\r\n",
        encoding="cp1252",
    )
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    (audit, pager) = load(root).portfolio.concerns["IMP-01"].actions
    assert (audit.due, audit.current_due) == (date(2026, 12, 31), date(2026, 12, 31))
    assert (pager.due, pager.current_due) == (date(2026, 12, 31), date(2027, 3, 31))


def test_a_status_column_named_exactly_wins_over_rag_and_completed_columns(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "rag.csv"
    tracker.write_text(
        "\ufeffFinding,Action,Lead,Target date,Date completed,Completed (Y/N),Status,"
        "Current RAG status,Quality statement\n"
        "Call bells slow at night,Night call bell audit,RM,31/12/2026,15/11/2026,Y,Completed,"
        "Red,Safe environments\n"
        "Call bells slow at night,Fix the pager,RM,31/12/2026,,N, In progress ,Amber,"
        "Safe environments\n",
        encoding="utf-8",
    )
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    assert "not one import knows" not in err
    assert "read 'Status', as the one its header names" in err
    actions = load(root).portfolio.concerns["IMP-01"].actions
    assert [a.status for a in actions] == ["completed", "in-progress"]
    report = next((root / "concerns" / "imported").glob("_import-report-*.md")).read_text()
    assert "IMP-01-A1: the tracker says 'Red'" in report  # read as the RAG, and compared


def test_only_a_label_beside_counts_is_a_totals_row(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    tracker = tmp_path / "totals.csv"
    tracker.write_text(
        "Finding,Action,Lead,Target date,Status,Quality statement\r\n"
        "Controlled drugs register errors,Retrain nurses on CD register,RM,31/12/2026,"
        "In progress,Medicines optimisation\r\n"
        ",Count CD stock weekly,,31/01/2027,,\r\n"
        "Total fluids not recorded,,,,,Safe environments\r\n"
        ",Seniors check fluid charts daily,RM,31/01/2027,Not started,\r\n"
        "Total actions,3,,,0 complete,\r\n"
        "Totals,,,,,\r\n",
        encoding="cp1252",
    )
    code, out, err = run_import(root, tracker)
    assert code == 0, err
    assert out.startswith("Imported 3 actions into 2 concerns (IMP-01, IMP-02)"), out + err
    assert "row 6: a totals row ('Total actions'), not an action" in err
    assert "row 7: a totals row ('Totals'), not an action" in err
    assert "row 3" not in err and "row 5" not in err, err
    assert "row 4: no action" in err  # a finding on a row of its own, its actions below
    concerns = load(root).portfolio.concerns
    assert [a.title for a in concerns["IMP-01"].actions] == [
        "Retrain nurses on CD register",
        "Count CD stock weekly",
    ]
    assert concerns["IMP-02"].baseline == "Total fluids not recorded"
    assert [a.title for a in concerns["IMP-02"].actions] == ["Seniors check fluid charts daily"]


def test_a_header_merged_across_two_columns_is_one_column_and_twins_are_told_apart(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    root = make_portfolio()
    book, sheet = new_sheet()
    sheet.append(["Finding", "Action", "Owner", "Target date", None, "Status",
                  "Quality statement", "Status"])  # fmt: skip
    sheet.merge_cells("D1:E1")
    sheet.append(["Call bells slow at night", "Night call bell audit", "RM",
                  datetime(2027, 1, 31), "moved from Dec", "In progress", "Safe environments",
                  "Done"])  # fmt: skip
    tracker = tmp_path / "merged.xlsx"
    book.save(tracker)
    code, _, err = run_import(root, tracker)
    assert code == 0, err
    assert "'Target date', 'Target date'" not in err and "could each be the deadline" not in err
    assert (
        "the columns 'Status' (column F), 'Status' (column H) could each be the status: read "
        "'Status', the first of them"
    ) in err
    assert dues_of(root) == ["2027-01-31"]
