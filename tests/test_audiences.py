"""Audiences: nothing an audience may not see reaches any byte of its output."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import CONCERN2_MD, EVIDENCE_02, PORTFOLIO_YAML, MakePortfolio
from generator.check.audience import shown, view
from generator.cli import cli
from generator.pipeline import load

# Each marker appears in one record only; the audiences that may see it are listed.
MARKERS = {
    "MARKERINTERNALCONCERN": {"internal"},
    "MARKERINTERNALEVIDENCE": {"internal"},
    "MARKERPERSONALEVIDENCE": {"internal", "inspection"},
    "MARKERINSPECTIONONLY": {"internal", "inspection"},
    "MARKERCOMMISSIONERCONCERN": {"internal", "inspection", "commissioner"},
    "MARKERPUBLICEVIDENCE": {"internal", "inspection", "commissioner", "public"},
    "MARKERINTERNALREVIEW": {"internal"},
    "MARKERLOOSEFILE": {"internal"},
    # The name of a withheld file a shared body links to, and the words of an image of one.
    "MARKERFILENAME": {"internal"},
    "MARKERALTTEXT": {"internal"},
    "MARKERROLENAME": {"internal"},  # a role only a withheld record names
}

FILES: dict[str, str | bytes | None] = {
    "portfolio.yaml": PORTFOLIO_YAML
    + "  hr-investigator: {name: MARKERROLENAME Person, title: HR investigator}\n",
    "concerns/secret.md": """---
id: SECRET-01
title: Staff disciplinary MARKERINTERNALCONCERN
quality_statements: [safeguarding]
source: other
raised: 2026-02-01
owner: registered-manager
risk: high
status: open
visibility: internal
baseline: MARKERINTERNALCONCERN baseline.
intended_outcome: Resolved.
actions:
  - {id: SECRET-01-A1, title: Investigate MARKERINTERNALCONCERN, owner: hr-investigator,
     due: 2026-07-01, status: in-progress, evidence: [EV-INT]}
---
Body MARKERINTERNALCONCERN.
""",
    "concerns/shared.md": """---
id: SHARED-01
title: Hydration MARKERCOMMISSIONERCONCERN
quality_statements: [supporting-healthier-lives]
source: commissioner
raised: 2026-02-01
owner: registered-manager
risk: medium
status: open
visibility: commissioner
baseline: Fluid charts incomplete.
intended_outcome: Complete charts.
measures:
  - id: SHARED-01-M1
    name: Complete fluid charts (see SECRET-01)
    unit: "%"
    baseline: {date: 2026-02-01, value: 60, evidence: EV-PERSONAL}
    target: {value: 95, by: 2026-09-30}
    readings:
      - {date: 2026-03-01, value: 70, evidence: [EV-PERSONAL, EV-PUBLIC]}
actions:
  - {id: SHARED-01-A1, title: Daily chart checks, owner: quality-lead, due: 2026-05-01,
     status: closed, evidence: [EV-INT],
     closure: {date: 2026-04-20, by: registered-manager, evidence: [EV-PERSONAL, EV-PUBLIC]}}
related: [SECRET-01]
---
See SECRET-01 and EV-INT for the background. Its file is [here](../evidence/personal.md),
the HR notes [there](../attachments/hr-MARKERFILENAME.csv) and
![a table MARKERALTTEXT](../attachments/loose.csv). See SECRET-01.
""",
    "governance/internal.md": "---\nid: GOV-02\ntitle: HR panel MARKERINTERNALREVIEW\n"
    "date: 2026-04-21\nchair: registered-manager\nvisibility: internal\n---\nMinutes.\n",
    "attachments/loose.csv": "MARKERLOOSEFILE\n",
    "concerns/cp-01.md": CONCERN2_MD.replace(
        "title: Care plans not updated after falls", "title: Care plans MARKERINSPECTIONONLY"
    ),
    "evidence/int.yaml": "id: EV-INT\ntitle: HR file MARKERINTERNALEVIDENCE\ntype: other\n"
    "date: 2026-02-01\nvisibility: internal\nfile: attachments/hr-MARKERFILENAME.csv\n",
    "evidence/personal.md": "---\nid: EV-PERSONAL\ntitle: Chart of Mrs B\ntype: care-records\n"
    "date: 2026-02-01\nvisibility: public\npersonal_data: true\nfile: attachments/b.csv\n"
    "summary: MARKERPERSONALEVIDENCE\n---\n",
    "evidence/public.yaml": "id: EV-PUBLIC\ntitle: Survey MARKERPUBLICEVIDENCE\ntype: survey\n"
    "date: 2026-03-01\nvisibility: public\n",
    "evidence/ev-02.yaml": EVIDENCE_02.replace(
        "title: February MAR audit", "title: Audit MARKERINSPECTIONONLY"
    ),
    "governance/gov.md": "---\nid: GOV-01\ntitle: Meeting\ndate: 2026-04-20\n"
    "chair: registered-manager\n"
    "decisions:\n  - {ref: SECRET-01, decision: note, rationale: MARKERINTERNALCONCERN}\n"
    "  - {ref: SHARED-01-A1, decision: close}\n---\nMinutes.\n",
    "attachments/hr-MARKERFILENAME.csv": "name,note\nX,MARKERINTERNALEVIDENCE\n",
    "attachments/b.csv": "resident,MARKERPERSONALEVIDENCE\n",
}


def output_text(folder: Path) -> str:
    """Every byte of an output folder as searchable text: files, zip members, PDF text."""
    chunks: list[str] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        chunks.append(data.decode("utf-8", errors="replace"))
        if path.suffix == ".pdf":
            reader = PdfReader(io.BytesIO(data))
            chunks += [page.extract_text() or "" for page in reader.pages]
            chunks += [str(reader.metadata)]
        if path.suffix in (".xlsx", ".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                chunks += [
                    archive.read(n).decode("utf-8", errors="replace") for n in archive.namelist()
                ]
    return "\n".join(chunks)


@pytest.mark.parametrize("audience", ["internal", "inspection", "commissioner", "public"])
def test_no_marker_leaks_into_any_output(
    make_portfolio: MakePortfolio, tmp_path: Path, audience: str
) -> None:
    root = make_portfolio(dict(FILES), base=False)
    out = tmp_path / f"out-{audience}"
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--audience", audience])
    assert result.exit_code == 0, result.stderr
    text = output_text(out)
    for marker, audiences in MARKERS.items():
        if audience in audiences:
            assert marker in text, (audience, marker)
        else:
            assert marker not in text, (audience, marker)
    if audience != "internal":
        assert "SECRET-01" not in text  # not even its id, named in another record's prose
    if audience in ("inspection", "commissioner"):
        assert "withheld" in text  # links to what they may not see say so


def test_views_hold_only_what_each_audience_may_see(make_portfolio: MakePortfolio) -> None:
    build = load(make_portfolio(dict(FILES), base=False))
    p = build.portfolio
    assert not shown(p, p.evidence["EV-PERSONAL"], "commissioner")
    assert shown(p, p.evidence["EV-PERSONAL"], "inspection")
    commissioner = view(build, "commissioner").portfolio
    assert list(commissioner.concerns) == ["SHARED-01"]
    assert list(commissioner.evidence) == ["EV-PUBLIC"]
    assert commissioner.reviews == {}  # reviews follow default_visibility (inspection)
    assert "EV-PERSONAL" in commissioner.withheld
    inspection = view(build, "inspection")
    [review] = inspection.portfolio.reviews.values()
    assert [d.ref for d in review.decisions] == ["SHARED-01-A1"]  # SECRET-01's is dropped
    assert all(f.record != "SECRET-01-A1" for f in inspection.findings)


def test_nhs_numbers_stop_shared_builds(make_portfolio: MakePortfolio, tmp_path: Path) -> None:
    files = dict(FILES)
    files["evidence/public.yaml"] = str(files["evidence/public.yaml"]) + (
        "summary: Feedback from resident 943 476 5919, D.O.B. 01/02/1940\n"
    )
    root = make_portfolio(files, base=False)
    result = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(tmp_path / "o"), "--audience", "commissioner"]
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    where = f"{root.as_posix()}/evidence/public.yaml:6: this looks like "
    tail = (
        ", which commissioner output must not hold: remove it, or mark the record "
        "personal_data: true or visibility: internal"
    )
    assert lines[:2] == [f"{where}a date of birth{tail}", f"{where}an NHS number{tail}"]
    assert "943 476 5919" not in result.stderr  # the message never repeats what it found
    inspection = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(tmp_path / "i"), "--audience", "inspection", "--no-pdf"]
    )
    assert inspection.exit_code == 0  # a finding, not an error, for inspection output
    assert "P601" in (tmp_path / "i" / "findings.html").read_text()


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),
        ("943 476 5919", True),
        ("943-476-5919", True),
        ("4010232137", True),
        ("9434765918", False),  # wrong check digit
        ("4010232138", False),
        ("0000000000", False),
        ("1234567890", False),  # the check digit would be 10: never issued
        ("94347659", False),
    ],
)
def test_nhs_number_check(number: str, valid: bool) -> None:
    from generator.check.privacy import identifiers, nhs_number_valid

    digits = number.replace(" ", "").replace("-", "")
    assert nhs_number_valid(digits) is valid
    assert (list(identifiers(f"Resident {number} seen")) == ["an NHS number"]) is valid


@pytest.mark.parametrize(
    "line",
    [
        "Resident 943 476 5919 seen",
        "DOB: 12/03/1950",
        "d.o.b. 12.3.50",
        "Date of birth 1950-03-12",
        "Born on 12 March 1950",
        "born - 12/03/1950",
        "BIRTH? no; date of BIRTH: 12/03/1950",
        "Résidente, date of birth 12/03/1950",
    ],
)
def test_a_file_scan_finds_each_kind_of_identifier(tmp_path: Path, line: str) -> None:
    from generator.check.privacy import identifiers, scan_file

    path = tmp_path / "record.md"
    path.write_text(f"---\nid: C-1\n---\nFirst line.\n{line}\nLast line.\n", encoding="utf-8")
    expected = [(f"{line} shown", 5, kind) for kind in identifiers(line)]
    assert expected
    assert list(scan_file(path, f"{line} shown")) == expected
