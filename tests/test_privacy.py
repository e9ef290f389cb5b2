"""The privacy guard: NHS numbers and labelled dates of birth, in every form they are written
and every file a shared output would show, and nothing else."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PORTFOLIO_YAML, MakePortfolio
from generator.check.privacy import (
    _BIRTH,
    _NUMBER,
    _may_hold_identifiers,
    nhs_number_valid,
    normalise,
    scan_text,
)
from generator.cli import cli

EXAMPLES = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SHARED = PORTFOLIO_YAML + "default_visibility: commissioner\n"
GUARDED = re.compile(r"^(.+?):(\d+): this looks like (.+?), which commissioner output must not")
FINDING = re.compile(r"^(.+?):(\d+): P601 this looks like (.+)$")

NUMBER = "943 476 5919"  # passes the modulus-11 check
DIGITS = NUMBER.replace(" ", "")


def evidence(eid: str, name: str | None = None, extra: str = "") -> str:
    """An evidence entry (YAML) shown to commissioners, attaching ``name`` if given."""
    attached = f"file: attachments/{name}\n" if name else ""
    return f"id: {eid}\ntitle: Notes {eid}\ntype: audit\ndate: 2026-03-01\n{attached}{extra}"


def commissioner_build(root: Path, out: Path) -> list[tuple[str, int, str]]:
    """(file in the portfolio, line, kind) of every identifier the guard stops the build for."""
    result = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--audience", "commissioner", "--no-pdf"]
    )
    assert "Traceback" not in result.output
    found = [GUARDED.match(line) for line in result.stderr.splitlines()]
    errors = [(m[1].removeprefix(root.as_posix() + "/"), int(m[2]), m[3]) for m in found if m]
    assert result.exit_code == (1 if errors else 0), result.output
    assert DIGITS not in result.stderr and NUMBER not in result.stderr
    return errors


def checked(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, kind) of every P601 finding ``portfolio check`` prints."""
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code == 0, result.output
    found = [FINDING.match(line) for line in result.stdout.splitlines()]
    return [(m[1].removeprefix(root.as_posix() + "/"), int(m[2]), m[3]) for m in found if m]


def both(
    make_portfolio: MakePortfolio, tmp_path: Path, files: dict[str, str | bytes | None]
) -> list[tuple[str, int, str]]:
    """What the guard stops a commissioner build for, checked to be what `check` reports."""
    root = make_portfolio({"portfolio.yaml": SHARED, **files})
    errors = commissioner_build(root, tmp_path / "out")
    assert sorted(checked(root)) == sorted(errors)
    assert (tmp_path / "out").exists() is not bool(errors)  # nothing is written after an error
    return errors


# --- numbers wrapped across lines ----------------------------------------------------------


def test_a_number_wrapped_in_a_folded_yaml_string(make_portfolio: MakePortfolio, tmp_path: Path):
    record = evidence(
        "EV-09", extra="summary: >\n  Feedback from the resident\n  943 476\n  5919.\n"
    )
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.yaml": record})
    assert found == [("evidence/ev-09.yaml", 7, "an NHS number")]


@pytest.mark.parametrize(
    "body",
    [
        "Seen with resident 943\n476 5919 today.\n",
        "Seen with resident 943 476\n5919 today.\n",
        "Seen with resident 943-476-\n5919 today.\n",
        "- seen with resident 943 476\n  5919 today\n",
        "> seen with resident 943 476\n> 5919 today\n",
    ],
)
def test_a_number_wrapped_in_a_markdown_paragraph(
    make_portfolio: MakePortfolio, tmp_path: Path, body: str
) -> None:
    record = f"---\n{evidence('EV-09')}---\nFirst paragraph.\n\n{body}"
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.md": record})
    assert found == [("evidence/ev-09.md", 9, "an NHS number")]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("Seen with resident 943&nbsp;476&nbsp;5919 today.", "an NHS number"),  # pasted text
        ("Seen with resident &#57;434765919 today.", "an NHS number"),
        ("Seen with resident &#x39;43 476 5919 today.", "an NHS number"),
        ("Seen with resident 943\\-476\\-5919 today.", "an NHS number"),
        ("Seen with resident 943*476*5919 today.", "an NHS number"),
        ("Seen with resident `943`476`5919` today.", "an NHS number"),
        ("Seen with resident 943<span></span>476 5919 today.", "an NHS number"),
        ("Resident's DOB&#58; 01/02/1950.", "a date of birth"),
        ("Resident's DOB\\: 01/02/1950.", "a date of birth"),
        ("| Resident | DOB |\n| --- | --- |\n| AB | 01/02/1950 |", "a date of birth"),
    ],
)
def test_what_markdown_shows_differently_from_how_it_is_written(
    make_portfolio: MakePortfolio, tmp_path: Path, body: str, kind: str
) -> None:
    """A character reference, an escape, or markers of emphasis or code between the digits
    are not shown: the page shows the number, so the guard finds it."""
    record = f"---\n{evidence('EV-09')}---\nFirst paragraph.\n\n{body}\n"
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.md": record})
    line = 9 + body.count("\n") if "|" in body else 9
    assert found == [("evidence/ev-09.md", line, kind)]


def test_a_yaml_escape_in_a_title(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    record = evidence("EV-09").replace("title: Notes EV-09", 'title: "Room \\u0039434765919"')
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.yaml": record})
    assert found == [("evidence/ev-09.yaml", 2, "an NHS number")]


def test_an_escaped_number_in_portfolio_yaml_and_an_attached_markdown_file(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """Files read as bytes (the settings, attachments) are read as the pages show them too,
    though no ten digits stand together in what they hold."""
    settings = SHARED.replace("service: Riverside House", 'service: "Riverside 943 476 591\\u0039"')
    found = both(
        make_portfolio,
        tmp_path,
        {
            "portfolio.yaml": settings,
            "attachments/notes.md": "Seen with resident 943&nbsp;476&nbsp;5919.\n",
            "evidence/ev-09.yaml": evidence("EV-09", "notes.md"),
        },
    )
    assert sorted(found) == [
        ("attachments/notes.md", 1, "an NHS number"),
        ("portfolio.yaml", 2, "an NHS number"),
    ]


def test_a_number_in_the_portfolio_s_own_framework(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """A framework.yaml of the portfolio's own is shown on every page: it is read too."""
    packaged = Path(__file__).parents[1] / "generator/data/frameworks/cqc-saf-2024.yaml"
    text = packaged.read_text(encoding="utf-8")
    first = text.index("title:", text.index("statements:"))
    line = text.count("\n", 0, first) + 1
    text = text[:first] + f"title: Room 4 ({NUMBER})," + text[first + len("title:") :]
    found = both(make_portfolio, tmp_path, {"framework.yaml": text})
    assert found == [("framework.yaml", line, "an NHS number")]


def test_a_number_wrapped_in_an_attached_file(make_portfolio: MakePortfolio, tmp_path: Path):
    files = {"attachments/jan-audit.csv": b"chart,complete\r\nresident 943 476\r\n5919,yes\r\n"}
    assert both(make_portfolio, tmp_path, files) == [
        ("attachments/jan-audit.csv", 2, "an NHS number")
    ]


def test_a_blank_line_ends_a_number(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    record = f"---\n{evidence('EV-09')}---\nRoom 943 476\n\n5919 people.\n"
    assert both(make_portfolio, tmp_path, {"evidence/ev-09.md": record}) == []


# --- numbers beside letters and hyphens, and in file names -----------------------------------


@pytest.mark.parametrize(
    "text",
    [f"NHS-{DIGITS}", "943 476 5919-A", f"NHS{DIGITS}", f"ref:{DIGITS}b", "(943-476-5919)"],
)
def test_a_number_beside_letters_or_hyphens(
    make_portfolio: MakePortfolio, tmp_path: Path, text: str
) -> None:
    record = evidence("EV-09", extra=f"summary: Resident {text} seen.\n")
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.yaml": record})
    assert found == [("evidence/ev-09.yaml", 5, "an NHS number")]


def test_a_number_in_an_attached_file_name(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    name = f"care-plan-{DIGITS}.pdf"
    files = {"evidence/ev-09.yaml": evidence("EV-09", name), f"attachments/{name}": b"%PDF-1.4\n"}
    assert both(make_portfolio, tmp_path, files) == [("evidence/ev-09.yaml", 5, "an NHS number")]


def test_a_number_in_the_name_of_the_file_a_link_leads_to(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """The site names the file as it is on disk, which a symbolic link can hide."""
    root = make_portfolio(
        {
            "portfolio.yaml": SHARED,
            "evidence/ev-09.yaml": evidence("EV-09", "plan.pdf"),
            f"attachments/store/care-plan-{DIGITS}.pdf": b"%PDF-1.4\n",
        }
    )
    (root / "attachments" / "plan.pdf").symlink_to(f"store/care-plan-{DIGITS}.pdf")
    found = [("evidence/ev-09.yaml", 5, "an NHS number in the name of the attached file")]
    assert commissioner_build(root, tmp_path / "out") == found
    assert checked(root) == found


# --- numbers with other separators -------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "943\u00a0476\u00a05919",  # non-breaking spaces
        "943\u202f476\u202f5919",  # narrow non-breaking spaces
        "943.476.5919",
        "943/476/5919",
        "943\u2013476\u20135919",  # en dashes
        "943\t476\t5919",
        "943  476  5919",
        "943 - 476 - 5919",
    ],
)
def test_a_number_with_other_separators(
    make_portfolio: MakePortfolio, tmp_path: Path, number: str
) -> None:
    record = f"---\n{evidence('EV-09')}---\nResident {number} seen.\n"
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.md": record})
    assert found == [("evidence/ev-09.md", 7, "an NHS number")]


# --- attachments of every kind that holds text ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "line"),
    [
        ("notes.txt", "Notes\nresident 943 476 5919\n".encode("utf-16"), 2),
        ("notes.txt", "Notes\nresident 943 476 5919\n".encode("utf-16-be"), 2),
        ("notes.csv", "\ufeffa,b\r\n1,943 476 5919\r\n".encode("utf-16-le"), 2),
        ("notes.txt", "Notes\nresident 943\xa0476\xa05919\n".encode("cp1252"), 2),
        ("residents.json", b'{\n  "name": "A",\n  "nhs": 9434765919\n}\n', 3),
        ("letter.htm", b"<p>Hello</p>\n<p>NHS no: <b>943</b>&nbsp;476&nbsp;5919</p>\n", 2),
        ("letter.html", b"<html>\n<body>\n<td data-id='9434765919'>x</td>\n", 3),
        ("letter.HTML", b"<p>Resident\n<span>943</span>\n476 5919</p>\n", 2),
        ("notes.xml", b"<?xml version='1.0'?>\n<r>\n<nhs>943 476 5919</nhs></r>\n", 3),
        ("notes.xml", b"<r>\n<p>Line&#10;two</p>\n<nhs>943&#160;476&#160;5919</nhs></r>\n", 3),
        ("export.json", b'[{"note": "seen"},\n {"note": "NHS 943\\u00a0476\\n5919"}]', 2),
        ("notes.yaml", b"resident:\n  nhs: 943 476 5919\n", 2),
    ],
)
def test_text_attachments_of_every_kind(
    make_portfolio: MakePortfolio, tmp_path: Path, name: str, data: bytes, line: int
) -> None:
    files = {"evidence/ev-09.yaml": evidence("EV-09", name), f"attachments/{name}": data}
    assert both(make_portfolio, tmp_path, files) == [(f"attachments/{name}", line, "an NHS number")]


def xlsx(*sheets: list[list[object]]) -> bytes:
    """A workbook with one sheet per list of rows."""
    from openpyxl import Workbook

    book = Workbook()
    for index, rows in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet(f"Sheet {index + 1}")
        assert sheet is not None
        for row in rows:
            sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_spreadsheet_cells(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    from datetime import datetime

    book = xlsx(
        [["Resident", "Note"], ["A", "fine"], ["B", "NHS 943 476 5919"]],
        [["Room", "Number"], [], ["12", 9434765919], ["Date of birth", datetime(1950, 2, 1)]],
    )
    files = {"evidence/ev-09.yaml": evidence("EV-09", "list.xlsx"), "attachments/list.xlsx": book}
    assert both(make_portfolio, tmp_path, files) == [
        ("attachments/list.xlsx", 3, "an NHS number (sheet 1, cell B3)"),
        ("attachments/list.xlsx", 3, "an NHS number (sheet 2, cell B3)"),
        ("attachments/list.xlsx", 4, "a date of birth (sheet 2, cell A4)"),
    ]


def test_dates_in_a_column_headed_date_of_birth(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """A table's heading labels every date below it; other date columns are not births."""
    from datetime import datetime

    book = xlsx(
        [["Resident", "Admitted", "DOB"], ["A", datetime(2026, 1, 5), datetime(1950, 2, 1)]],
        [["Resident", "Seen"], ["A", "1 February 2026"]],
    )
    table = 'name;Admitted;Date of birth\nA;05/01/2026;01/02/1950\n"B\nC";x;1 Feb 1950\n'
    files = {
        "evidence/ev-08.yaml": evidence("EV-08", "list.xlsx"),
        "attachments/list.xlsx": book,
        "evidence/ev-09.yaml": evidence("EV-09", "list.csv"),
        "attachments/list.csv": table,
        "attachments/jan-audit.csv": "date,value\n2026-01-12,72\n2026-02-10,81\n",
    }
    assert both(make_portfolio, tmp_path, files) == [
        ("attachments/list.csv", 2, "a date of birth"),
        ("attachments/list.csv", 3, "a date of birth"),
        ("attachments/list.xlsx", 2, "a date of birth (sheet 1, cell C2)"),
    ]


def test_a_workbook_changed_since_the_last_build(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """What was found in a workbook is kept by its hash: a changed workbook is read again."""
    root = make_portfolio(
        {
            "portfolio.yaml": SHARED,
            "evidence/ev-09.yaml": evidence("EV-09", "list.xlsx"),
            "attachments/list.xlsx": xlsx([["Resident"], ["A"]]),
            "attachments/unattached.xlsx": xlsx([["NHS 943 476 5919"]]),
        }
    )
    assert commissioner_build(root, tmp_path / "out") == []
    assert commissioner_build(root, tmp_path / "out") == []  # up to date: nothing is read
    (root / "attachments" / "list.xlsx").write_bytes(xlsx([["Resident"], ["NHS 943 476 5919"]]))
    assert commissioner_build(root, tmp_path / "out") == [
        ("attachments/list.xlsx", 2, "an NHS number (sheet 1, cell A2)")
    ]


def test_a_damaged_spreadsheet_is_not_a_fault(make_portfolio: MakePortfolio, tmp_path: Path):
    files = {
        "evidence/ev-09.yaml": evidence("EV-09", "list.xlsx"),
        "attachments/list.xlsx": b"PK\x03\x04 not really a workbook",
    }
    assert both(make_portfolio, tmp_path, files) == []


# --- an attachment shared by two entries -----------------------------------------------------


@pytest.mark.parametrize("withheld", ["EV-08", "EV-09", None])
def test_a_file_shared_with_a_withheld_entry(
    make_portfolio: MakePortfolio, tmp_path: Path, withheld: str | None
) -> None:
    """The finding belongs to every entry that shows the file, not only to one of them; the
    guard names the file once however many entries show it."""
    files: dict[str, str | bytes | None] = {
        "attachments/shared.csv": b"resident,seen\n943 476 5919,yes\n",
    }
    for eid in ("EV-08", "EV-09"):
        extra = "visibility: internal\n" if eid == withheld else ""
        files[f"evidence/{eid.lower()}.yaml"] = evidence(eid, "shared.csv", extra)
    root = make_portfolio({"portfolio.yaml": SHARED, **files})
    assert commissioner_build(root, tmp_path / "out") == [
        ("attachments/shared.csv", 2, "an NHS number")
    ]
    result = CliRunner().invoke(cli, ["check", str(root), "--format", "json"])
    records = [f["record"] for f in json.loads(result.stdout)["findings"] if f["code"] == "P601"]
    assert sorted(records) == ["EV-08", "EV-09"]


def test_a_file_only_a_withheld_entry_shows(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    root = make_portfolio(
        {
            "portfolio.yaml": SHARED,
            "attachments/shared.csv": b"resident,seen\n943 476 5919,yes\n",
            "evidence/ev-09.yaml": evidence("EV-09", "shared.csv", "personal_data: true\n"),
        }
    )
    assert commissioner_build(root, tmp_path / "out") == []
    assert checked(root) == [("attachments/shared.csv", 2, "an NHS number")]


# --- dates of birth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Date of birth: 1st February 1950",
        "date of birth is 01/02/1950",
        "DOB - 1/2/50",
        "born 1 February 1950",
        "Born on the 1st of February, 1950",
        "born on February 1, 1950",
        "D.O.B.: 1950-02-01",
        "birth date 01.02.1950",
        "DOB 1-Feb-1950",
        "Date of birth\u00a0:\u00a001\u201302\u20131950",
        "date of\n  birth: 01/02/1950",
        "date of birth: 1st\n  February 1950",
    ],
)
def test_labelled_dates_of_birth(make_portfolio: MakePortfolio, tmp_path: Path, text: str) -> None:
    record = f"---\n{evidence('EV-09')}---\nAbout the resident.\n{text}.\n"
    found = both(make_portfolio, tmp_path, {"evidence/ev-09.md": record})
    assert found == [("evidence/ev-09.md", 8, "a date of birth")]


# --- what is not personal data ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Call the office on 01632 960001.",
        "Call 01632 960 001 or +44 1632 960001 or 020 7946 0958.",
        "Mobile 07700 900123; fax 0116 496 0999.",
        "Invoice 943 476 5918 (the check digit does not match).",
        "Reference 1234567890 (its check digit would be 10).",
        "Order 19434765919 and 94347659190 are longer than an NHS number.",
        "Audit held on 01/02/1950, reviewed 1 February 2026 and 2026-02-01.",
        "Date of birth checks were added to admissions on 01/02/2026.",
        "DOB not recorded; chased 1 February 2026.",
        "The idea was born at the meeting of 1 February 2026.",
        "Rooms 943 to 476, 5919 visits.",
        "Version 9.434.765.919 of the software.",
    ],
)
def test_ordinary_numbers_and_dates_are_not_flagged(
    make_portfolio: MakePortfolio, tmp_path: Path, text: str
) -> None:
    record = f"---\n{evidence('EV-09')}---\n{text}\n"
    attachment = {"attachments/jan-audit.csv": f"note\n{text}\n"}
    assert both(make_portfolio, tmp_path, {"evidence/ev-09.md": record, **attachment}) == []


# --- every way of writing a number ------------------------------------------------------------


def check_digit(nine: str) -> int | None:
    """The modulus-11 check digit of nine digits (None: no number ends them)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


SEPARATORS = st.sampled_from(
    [
        *["", " ", "-", ".", "/", "\t", "  ", " - ", "\u00a0", "\u202f", "\u2009", "\u2013"],
        *["\u2011", "\n", " \n", "\n  ", "-\n", " \n    ", "\n> ", "\r\n", "\u00a0\n"],
    ]
)
BEFORE = st.sampled_from(["", "NHS", "NHS-", "NHS no. ", "nhs_", "(", "#", "ID:", "a ", "x\n"])
AFTER = st.sampled_from(["", "-A", "A", ".", ")", ".pdf", ",", "b c", "_plan", "\n"])
NINE = st.text("0123456789", min_size=9, max_size=9)


def written(digits: str, first: str, second: str) -> str:
    return f"{digits[:3]}{first}{digits[3:6]}{second}{digits[6:]}"


@EXAMPLES
@given(NINE, SEPARATORS, SEPARATORS, BEFORE, AFTER)
def test_every_valid_number_is_found(
    nine: str, first: str, second: str, before: str, after: str
) -> None:
    check = check_digit(nine)
    digits = f"{nine}{check}"
    if check is None or not nhs_number_valid(digits):
        return
    text = f"Notes about the visit\nseen: {before}{written(digits, first, second)}{after} ok\n"
    assert scan_text(text) == ((2 + before.count("\n"), "an NHS number"),)


@EXAMPLES
@given(NINE, st.integers(0, 9), SEPARATORS, SEPARATORS, BEFORE, AFTER)
def test_numbers_failing_the_check_are_not_found(
    nine: str, last: int, first: str, second: str, before: str, after: str
) -> None:
    if check_digit(nine) == last:
        last = (last + 1) % 10
    digits = f"{nine}{last}"
    assert not nhs_number_valid(digits)
    text = f"Notes about the visit\nseen: {before}{written(digits, first, second)}{after} ok\n"
    assert scan_text(text) == ()


LABELS = st.sampled_from(
    [
        *["Date of birth", "date of birth", "DOB", "D.O.B.", "d.o.b", "born", "Born on"],
        *[
            "birth date",
            "Date\u00a0of\u00a0birth",
            "date of\n  birth",
            "Birthdate",
            "date-of-birth",
        ],
    ]
)
CONNECTORS = st.sampled_from(["", ":", " :", " -", " is", " was", " =", "\u00a0:", " \u2013"])
MONTHS = ["January", "Feb", "March", "Apr.", "may", "June", "Jul", "AUGUST", "Sept", "October"]


@st.composite
def birth_dates(draw: st.DrawFn) -> str:
    day, month = draw(st.integers(1, 28)), draw(st.integers(1, 10))
    year = draw(st.sampled_from(["1950", "50", "1938", "2001"]))
    name = MONTHS[month - 1]
    ordinal = draw(st.sampled_from(["", "st", "th"]))
    space = draw(st.sampled_from([" ", "  ", "\u00a0", "\n  "]))
    sep = draw(st.sampled_from(["/", ".", "-", "\u2013", " / "]))
    if len(year) == 2:  # a two-digit year is read in numbers only
        return f"{day}{sep}{month}{sep}{year}"
    return draw(
        st.sampled_from(
            [
                f"{day:02d}{sep}{month:02d}{sep}{year}",
                f"{year}-{month:02d}-{day:02d}",
                f"{day}{ordinal}{space}{name}{space}{year}",
                f"{day}{ordinal} of {name},{space}{year}",
                f"{name}{space}{day}{ordinal},{space}{year}",
                f"{day}-{name}-{year}",
            ]
        )
    )


@EXAMPLES
@given(LABELS, CONNECTORS, birth_dates())
def test_every_labelled_date_of_birth_is_found(label: str, connector: str, when: str) -> None:
    text = f"Notes about the visit\nResident's {label}{connector} {when}. Seen.\n"
    assert scan_text(text) == ((2, "a date of birth"),)


@EXAMPLES
@given(birth_dates(), st.sampled_from(["Audit on", "Reviewed", "Due", "Closed:", "Meeting of"]))
def test_dates_not_labelled_as_births_are_not_found(when: str, label: str) -> None:
    assert scan_text(f"Notes about the visit\n{label} {when}. Seen.\n") == ()


# --- the quick test that spares most files the patterns ---------------------------------------

TOKENS = st.sampled_from(
    [
        *["943", "476", "5919", "12", "7", "1950", "0", "Feb", "born", "Date of birth", "DOB"],
        *["Date of birth:", "DOB -", "1/2/50", "1st February\n 1950", "01.02.1950", "1950-02-01"],
        *["D.O.B.", "d. o. b", "birth date", "of", "on", ":", "|", ",", "x", "a"],
        *[" ", "  ", "-", ".", "/", "_", ">", "\n", "\n  ", "\n> ", "\n\n", "\t", "\r"],
        *["\u00a0", "\u2013", "\u2009", "\u200b", "\u2044", "\u00b7", "\ufeff", "é"],
    ]
)


@EXAMPLES
@given(st.lists(TOKENS, max_size=14).map("".join))
def test_the_quick_test_never_hides_what_the_patterns_find(text: str) -> None:
    plain = normalise(text)
    if _NUMBER.search(plain) or _BIRTH.search(plain):
        assert _may_hold_identifiers(text.encode("utf-8"))
