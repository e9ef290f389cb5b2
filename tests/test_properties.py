"""Property-based tests: whatever a file holds, the build gives a portfolio or user errors."""

from __future__ import annotations

import os
import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import BASE_FILES, write_files
from generator.errors import PortfolioError
from generator.load.sources import YamlProblem, parse_yaml
from generator.pipeline import load

# FUZZ_EXAMPLES=2000 runs a longer search locally; CI keeps it short.
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEYS = [
    "id",
    "title",
    "quality_statements",
    "source",
    "raised",
    "owner",
    "risk",
    "status",
    "baseline",
    "intended_outcome",
    "measures",
    "actions",
    "closure",
    "related",
    "type",
    "date",
    "file",
    "decisions",
    "ref",
    "decision",
    "evidence",
    "value",
    "readings",
    "target",
    "by",
    "due",
    "extensions",
    "to",
    "visibility",
    "personal_data",
    "body",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-02-30",
            "2026-01-01",
            "no",
            "010",
            "1e3",
            "MED-01",
            "../../etc/passwd",
            "EV-01",
            "closed",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=25,
)
records = st.dictionaries(st.sampled_from(KEYS), values, max_size=12)


def _build(files: dict[str, str | bytes | None]) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        root = write_files(folder / "content", {**BASE_FILES, **files})
        try:
            load(root)
        except PortfolioError as exc:
            assert exc.problems  # every user error comes with at least one located problem
            for problem in exc.problems:
                assert problem.message and problem.path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@SETTINGS
@given(st.text(max_size=400))
def test_any_text_in_a_record_file(text: str) -> None:
    _build({"concerns/fuzz.md": text})


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_in_an_evidence_file(data: bytes) -> None:
    _build({"evidence/fuzz.yaml": data})


@SETTINGS
@given(records)
def test_any_concern_fields(fields: dict[str, Any]) -> None:
    _build({"concerns/fuzz.md": "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n"})


@SETTINGS
@given(records)
def test_any_evidence_fields(fields: dict[str, Any]) -> None:
    _build({"evidence/fuzz.yaml": yaml.safe_dump(fields, allow_unicode=True)})


@SETTINGS
@given(records)
def test_any_review_fields(fields: dict[str, Any]) -> None:
    _build({"governance/fuzz.md": "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n"})


@SETTINGS
@given(records)
def test_any_settings(fields: dict[str, Any]) -> None:
    _build({"portfolio.yaml": yaml.safe_dump(fields, allow_unicode=True)})


@SETTINGS
@given(st.text(max_size=300))
def test_the_yaml_reader_only_raises_its_own_error(text: str) -> None:
    try:
        parse_yaml(text)
    except YamlProblem as exc:
        assert exc.line >= 1 and exc.message


LABELLED_DATES = st.tuples(
    st.sampled_from(["DOB", "d.o.b.", "Date of Birth", "BORN on", "born", "Dob", "b\u0131rth"]),
    st.sampled_from([" ", ": ", " - ", "\n", ""]),
    st.sampled_from(["12/03/1950", "12 March 1950", "1950-03-12", "12.3.50", "soon"]),
).map("".join)


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789 -\n", max_size=30),
            LABELLED_DATES,
            st.sampled_from(["943 476 5919", "9434765919", "943-476-5919", "\n", " "]),
            st.text(alphabet=string.printable, max_size=12),
            st.text(max_size=4),
        ),
        max_size=8,
    )
)
def test_a_file_scan_finds_what_scanning_each_line_finds(parts: list[str]) -> None:
    # Reading a file finds what scanning its text finds (the quick test of whether anything
    # can match at all never hides a match: tests/test_privacy.py checks that directly).
    from generator.check.privacy import scan_file, scan_text

    text = "".join(parts)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "record.md"
        path.write_text(text, encoding="utf-8")
        found = [(line, kind) for _, line, kind in scan_file(path, "record.md")]
    # A file is read with universal newlines: a lone CR ends a line there too.
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    assert set(found) == set(scan_text(lines)), text
