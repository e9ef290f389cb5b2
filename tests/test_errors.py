"""Every kind of user error: its exact message, file and line; all reported together."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CONCERN_MD, EVIDENCE_01, EVIDENCE_02, PORTFOLIO_YAML, MakePortfolio
from generator.cli import cli


def build(root: Path, *args: str) -> tuple[int, list[str], Path]:
    """Run ``portfolio build`` from the portfolio's parent folder; return exit, stderr lines."""
    out = root.parent / "site"
    cwd = os.getcwd()
    os.chdir(root.parent)
    try:
        result = CliRunner().invoke(cli, ["build", root.name, "-o", "site", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stderr.splitlines(), out


def concern(old: str, new: str) -> dict[str, str | bytes | None]:
    assert old in CONCERN_MD, old
    return {"concerns/med-01.md": CONCERN_MD.replace(old, new, 1)}


CASES: list[tuple[str, dict[str, str | bytes | None], list[str]]] = [
    (
        "invalid YAML",
        concern("title: Medicines records incomplete", "title: [unclosed"),
        [
            "content/concerns/med-01.md:3: invalid YAML: while parsing a flow sequence, did not "
            "find expected ',' or ']'; check the indentation, and put text containing ': ' or '#' "
            "in quotes"
        ],
    ),
    (
        "tab indentation",
        concern("risk: high", "risk:\thigh\n\tstatus: x"),
        [
            "content/concerns/med-01.md:11: invalid YAML: while scanning a plain scalar, found a "
            "tab character that violates indentation; indent with spaces, not tabs"
        ],
    ),
    (
        "duplicate key",
        concern("risk: high", "risk: high\nrisk: low"),
        [
            "content/concerns/med-01.md:11: duplicate key 'risk' (first set on line 10); YAML "
            "would silently keep only the last one: remove one of them"
        ],
    ),
    (
        "unknown key with a near miss",
        concern("raised_by: medicines-lead", "raised_bye: medicines-lead"),
        ["content/concerns/med-01.md:8: unknown key 'raised_bye': did you mean 'raised_by'?"],
    ),
    (
        "unknown nested key",
        concern("    cadence: weekly", "    cadense: weekly"),
        [
            "content/concerns/med-01.md:35: unknown key 'cadense' in actions[1]: did you mean "
            "'cadence'?"
        ],
    ),
    (
        "missing required field",
        concern("risk: high\n", ""),
        ["content/concerns/med-01.md:2: missing required field 'risk': add 'risk: ...'"],
    ),
    (
        "missing nested field",
        concern("    owner: quality-lead\n", ""),
        [
            "content/concerns/med-01.md:23: missing required field 'owner' in actions[0]: "
            "add 'owner: ...'"
        ],
    ),
    (
        "closed set",
        concern("status: open", "status: done"),
        [
            "content/concerns/med-01.md:11: status: 'done' is not allowed here; use one of: open, "
            "monitoring, closed"
        ],
    ),
    (
        "wrong type: number",
        concern("value: 81", "value: eighty"),
        [
            "content/concerns/med-01.md:21: measures[0].readings[0].value: expected a number, got "
            "'eighty'"
        ],
    ),
    (
        "wrong type: yes/no read as boolean is kept as text, true is not",
        concern("title: Medicines records incomplete", "title: true"),
        [
            "content/concerns/med-01.md:3: title: expected text, but true was read as a yes/no "
            "value; put it in quotes"
        ],
    ),
    (
        "impossible date",
        concern("raised: 2026-01-12", "raised: 2026-02-30"),
        [
            "content/concerns/med-01.md:7: raised: '2026-02-30' is not a real date: check the day "
            "and month"
        ],
    ),
    (
        "date in another form",
        concern("due: 2026-02-28", "due: 28/02/2026"),
        [
            "content/concerns/med-01.md:26: actions[0].due: '28/02/2026' is not a date: write "
            "dates as YYYY-MM-DD, e.g. 2026-03-31"
        ],
    ),
    (
        "regulation out of range",
        concern("regulation: [12, 17]", "regulation: [12, 21]"),
        [
            "content/concerns/med-01.md:6: regulation[1]: '21' is not a regulation of the 2014 "
            "Regulations: use 9 to 20 or 20A"
        ],
    ),
    (
        "unknown quality statement slug",
        concern("[medicines-optimisation,", "[medicine-optimisation,"),
        [
            "content/concerns/med-01.md:4: quality_statements[0]: unknown quality statement "
            "'medicine-optimisation' (did you mean 'medicines-optimisation'?); `portfolio "
            "framework show cqc-saf-2024` lists the slugs of cqc-saf-2024"
        ],
    ),
    (
        "unknown role",
        concern("owner: registered-manager", "owner: registered-manger"),
        [
            "content/concerns/med-01.md:9: owner: unknown role 'registered-manger' (did you mean "
            "'registered-manager'?); add it under roles in portfolio.yaml"
        ],
    ),
    (
        "unknown role nested",
        concern(
            "closure: {date: 2026-03-20, by: registered-manager",
            "closure: {date: 2026-03-20, by: manager",
        ),
        [
            "content/concerns/med-01.md:29: actions[0].closure.by: unknown role 'manager'; add it "
            "under roles in portfolio.yaml"
        ],
    ),
    (
        "dangling evidence reference",
        concern("value: 81, evidence: EV-02}", "value: 81, evidence: EV-03}"),
        [
            "content/concerns/med-01.md:21: measures[0].readings[0].evidence[0]: no evidence entry "
            "has id 'EV-03' (did you mean 'EV-02'?)"
        ],
    ),
    (
        "reference to the wrong kind",
        concern("evidence: [EV-02]\n    closure", "evidence: [CP-01]\n    closure"),
        [
            "content/concerns/med-01.md:28: actions[0].evidence[0]: 'CP-01' is a concern, not an "
            "evidence entry"
        ],
    ),
    (
        "dangling governance reference",
        concern("recorded_in: GOV-01", "recorded_in: GOV-02"),
        [
            "content/concerns/med-01.md:29: actions[0].closure.recorded_in: no governance review "
            "has id 'GOV-02' (did you mean 'GOV-01'?)"
        ],
    ),
    (
        "dangling related concern",
        concern("related: [CP-01]", "related: [CP-02]"),
        [
            "content/concerns/med-01.md:36: related[0]: no concern has id 'CP-02' (did you mean "
            "'CP-01'?)"
        ],
    ),
    (
        "closed without closure",
        concern("status: open", "status: closed"),
        [
            "content/concerns/med-01.md:11: status is closed but there is no closure: add a "
            "closure block (date, by, recorded_in, evidence, rationale)"
        ],
    ),
    (
        "duplicate id across kinds",
        {"evidence/ev-03.yaml": EVIDENCE_02.replace("id: EV-02", "id: CP-01")},
        [
            "content/evidence/ev-03.yaml:1: duplicate id 'CP-01': already used by a concern at "
            "content/concerns/cp-01.md:2; ids must be unique across the portfolio",
        ],
    ),
    (
        "attachment missing",
        {"attachments/jan-audit.csv": None},
        [
            "content/evidence/ev-01.md:6: file: 'attachments/jan-audit.csv' does not exist in the "
            "portfolio folder; check the name, or remove 'file' and say where it is with "
            "'location'"
        ],
    ),
    (
        "attachment outside the folder",
        {"evidence/ev-02.yaml": EVIDENCE_02 + "file: ../secret.txt\n", "../secret.txt": "x"},
        [
            "content/evidence/ev-02.yaml:6: file: '../secret.txt' lies outside the portfolio "
            "folder; copy the file into attachments/ and point to it there"
        ],
    ),
    (
        "attachment as an absolute path",
        {"evidence/ev-02.yaml": EVIDENCE_02 + "file: /etc/passwd\n"},
        [
            "content/evidence/ev-02.yaml:6: file: '/etc/passwd' must be a path relative to the "
            "portfolio folder, e.g. attachments/audit.pdf"
        ],
    ),
    (
        "no front matter",
        {"governance/gov-02.md": "# Just minutes\n"},
        [
            "content/governance/gov-02.md:1: no front matter: a record starts with a line '---', "
            "then its fields, then another line '---' before the Markdown text"
        ],
    ),
    (
        "unclosed front matter",
        {"governance/gov-02.md": "---\nid: GOV-02\n"},
        [
            "content/governance/gov-02.md:1: the front matter is not closed: add a line '---' "
            "after the last field"
        ],
    ),
    (
        "empty file",
        {"governance/gov-02.md": ""},
        [
            "content/governance/gov-02.md:1: the file is empty; add the record's fields or delete "
            "the file"
        ],
    ),
    (
        "not UTF-8",
        {"governance/gov-02.md": b"---\nid: GOV-02\ntitle: caf\xe9\n---\n"},
        [
            "content/governance/gov-02.md:3: this file is not UTF-8 text (byte 0xe9); save it as "
            "UTF-8 in your editor"
        ],
    ),
    (
        "settings: unknown rule and wrong type",
        {"portfolio.yaml": PORTFOLIO_YAML + "rules:\n  stale_days: 10\n  max_extensions: two\n"},
        [
            "content/portfolio.yaml:11: unknown key 'stale_days' in rules: did you mean "
            "'stale_after_days'?",
            "content/portfolio.yaml:12: rules.max_extensions: expected a whole number, got 'two'",
        ],
    ),
    (
        "unknown packaged framework",
        {"portfolio.yaml": PORTFOLIO_YAML + "framework: cqc-2030\n"},
        [
            "content/portfolio.yaml:10: framework: unknown framework 'cqc-2030'; packaged "
            "frameworks are cqc-asc-2026-draft, cqc-saf-2024 (`portfolio framework list` "
            "describes them), or add your own framework.yaml"
        ],
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_is_reported_with_its_location(
    make_portfolio: MakePortfolio, files: dict[str, str | bytes | None], expected: list[str]
) -> None:
    root = make_portfolio(files)
    code, lines, out = build(root)
    assert code == 1
    assert lines[:-1] == expected
    count = len(expected)
    assert lines[-1] == f"{count} error{'s' if count > 1 else ''}; nothing was written."
    assert not out.exists()


def test_all_errors_of_a_build_are_reported_together(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "concerns/cp-01.md": "---\nid: CP-01\n---\n",
            "evidence/ev-02.yaml": EVIDENCE_02.replace("type: audit", "type: audti"),
            "governance/gov-02.md": "---\nid: GOV-02\ntitle: x\ndate: 2026-13-01\n---\n",
        }
    )
    code, lines, _ = build(root)
    assert code == 1
    files = {line.split(":", 1)[0] for line in lines[:-1]}
    assert files == {
        "content/concerns/cp-01.md",
        "content/evidence/ev-02.yaml",
        "content/governance/gov-02.md",
    }
    assert lines[-1].endswith("errors; nothing was written.")


def test_references_to_a_record_with_errors_are_not_reported_twice(
    make_portfolio: MakePortfolio,
) -> None:
    # CP-01 fails validation; MED-01's related: [CP-01] must not add a second, false error.
    root = make_portfolio({"concerns/cp-01.md": "---\nid: CP-01\ntitle: x\n---\n"})
    _, lines, _ = build(root)
    assert all("cp-01.md" in line for line in lines[:-1])


def test_symlinked_attachment_pointing_outside_is_refused(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    root = make_portfolio({"attachments/jan-audit.csv": None})
    (root / "attachments").mkdir(exist_ok=True)
    (root / "attachments" / "jan-audit.csv").symlink_to(secret)
    code, lines, _ = build(root)
    assert code == 1
    assert lines[0] == (
        "content/evidence/ev-01.md:6: file: 'attachments/jan-audit.csv' lies outside the "
        "portfolio folder; copy the file into attachments/ and point to it there"
    )


@pytest.mark.parametrize(
    ("target", "what"),
    [
        ("concerns/cp-01.md", "a record file"),
        ("portfolio.yaml", "a settings file"),
        ("attachments/minutes.md", "a record file"),  # a link to a record, by another name
    ],
)
def test_an_attachment_that_is_a_record_or_the_settings_is_refused(
    make_portfolio: MakePortfolio, target: str, what: str
) -> None:
    """Attached, a record file or portfolio.yaml would be copied whole into every output that
    shows the entry, whoever the record or the settings are for."""
    root = make_portfolio(
        {"evidence/ev-01.md": EVIDENCE_01.replace("attachments/jan-audit.csv", target)}
    )
    (root / "attachments" / "minutes.md").symlink_to(root / "governance" / "gov-01.md")
    code, lines, _ = build(root)
    assert code == 1
    assert lines[0] == (
        f"content/evidence/ev-01.md:6: file: {target!r} is {what} of this portfolio, not a "
        "document to attach; attach the document itself (the PDF, scan or spreadsheet); to "
        "point at a record, name its id in the entry's text"
    )


def test_missing_folder_and_missing_settings(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    code, lines, _ = build(tmp_path / "content")
    assert code == 1
    assert lines[0] == (
        "content/portfolio.yaml: missing: every portfolio folder needs a portfolio.yaml naming "
        "the provider, service and roles (see docs/format.md)"
    )
    code, lines, _ = build(tmp_path / "nowhere")
    assert (code, lines[0]) == (1, "nowhere: no such folder: name a portfolio folder")


def test_personal_data_takes_only_true_or_false(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"evidence/ev-02.yaml": EVIDENCE_02 + "personal_data: yes\n"})
    code, lines, _ = build(root)
    assert (code, lines[0]) == (
        1,
        "content/evidence/ev-02.yaml:6: personal_data: expected true or false, got 'yes'",
    )


def test_a_role_with_nothing_after_its_colon_is_vacant(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"portfolio.yaml": PORTFOLIO_YAML + "  night-lead:\n"})
    code, _, _ = build(root)
    assert code == 0


MORE_CASES: list[tuple[str, dict[str, str | bytes | None], list[str]]] = [
    (
        "a file over the size limit",
        {"evidence/huge.md": "---\nid: EV-9\n---\n" + "x" * (5 * 1024 * 1024 + 10)},
        [
            "content/evidence/huge.md: the file is 5120 KiB; records are limited to 5 MiB: "
            "split it or move content to an attachment"
        ],
    ),
    (
        "an alias bomb",
        {
            "governance/bomb.md": "---\n"
            + "\n".join(
                ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
                + [
                    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]"
                    for i in range(6)
                ]
            )
            + "\n---\n"
        },
        [
            "content/governance/bomb.md:2: the YAML expands to too many values (aliases repeat too "
            "much); write the values out instead of repeating anchors"
        ],
    ),
    (
        "an error after a byte-order mark and CRLF line ends keeps its line",
        {
            "concerns/cp-01.md": ("\ufeff" + CONCERN_MD.replace("risk: high", "risk: huge"))
            .replace("\n", "\r\n")
            .encode("utf-8")
        },
        [
            "content/concerns/cp-01.md:2: duplicate id 'MED-01': already used by a concern at "
            "content/concerns/med-01.md:2; ids must be unique across the portfolio"
        ]
        if False
        else [
            "content/concerns/cp-01.md:10: risk: 'huge' is not allowed here; use one of: low, "
            "medium, high"
        ],
    ),
    (
        "an unknown YAML tag",
        {"concerns/cp-01.md": "---\nid: !!python/object:os.system CP-01\n---\n"},
        [
            "content/concerns/cp-01.md:2: unsupported YAML tag 'tag:yaml.org,2002:python/object:"
            "os.system'; remove the tag"
        ],
    ),
    (
        "a list where fields were expected",
        {"evidence/list.yaml": "- id: EV-9\n- title: x\n"},
        ["content/evidence/list.yaml:1: expected fields written as 'key: value' lines"],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES]
)
def test_more_bad_input(
    make_portfolio: MakePortfolio, files: dict[str, str | bytes | None], expected: list[str]
) -> None:
    root = make_portfolio(files)
    code, lines, out = build(root)
    assert code == 1
    assert lines[:-1] == expected
    assert not out.exists()


def test_yaml_1_1_surprises_stay_as_written(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "evidence/odd.yaml": "id: '010'\ntitle: 2026-01-01\ntype: other\ndate: 2026-03-01\n"
            "location: no\nsummary: yes\n",
            "evidence/num.yaml": "id: 010x\ntitle: on\ntype: other\ndate: 2026-03-01\n",
            "concerns/med-01.md": CONCERN_MD.replace("value: 81,", "value: 8.1e1,"),
        }
    )
    from generator.pipeline import load

    p = load(root).portfolio
    odd = p.evidence["010"]
    assert (odd.title, odd.location, odd.summary) == ("2026-01-01", "no", "yes")
    assert p.evidence["010x"].title == "on"
    assert p.measures["MED-01-M1"][1].readings[0].value == 81


def test_unusable_file_names_are_reported(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio(
        {
            "evidence/ev-02.yaml": EVIDENCE_02 + 'file: "attachments/a\\0b.pdf"\n',
            "concerns/med-01.md": CONCERN_MD.replace(
                "Body text with a *word*.", "[x](a%00b.pdf) [y](" + "z" * 300 + ".pdf)"
            ),
        }
    )
    code, lines, _ = build(root)
    assert code == 1
    assert lines[0] == (
        "content/evidence/ev-02.yaml:6: file: 'attachments/a\\x00b.pdf' is not a usable file name"
    )


def test_values_out_of_range(make_portfolio: MakePortfolio) -> None:
    root = make_portfolio({"concerns/med-01.md": CONCERN_MD.replace("value: 81,", "value: 1e308,")})
    code, lines, _ = build(root)
    assert code == 1
    assert lines[0].startswith(
        "content/concerns/med-01.md:21: measures[0].readings[0].value: must be"
    )
