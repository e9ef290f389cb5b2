"""The loading stage: YAML read predictably, with the line of every key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SAMPLE, MakePortfolio
from generator.errors import Problems
from generator.load.sources import YamlProblem, discover, load_file, parse_yaml, split_front_matter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: no", "no"),  # YAML 1.1 would read this as false
        ("a: yes", "yes"),
        ("a: on", "on"),
        ("a: 010", "010"),  # YAML 1.1 would read this as octal 8
        ("a: 1e3", "1e3"),
        ("a: 2026-01-01", "2026-01-01"),  # dates stay text until validation reads them
        ("a: 1:20", "1:20"),  # YAML 1.1 sexagesimal
        ("a: true", True),
        ("a: False", False),
        ("a: ~", None),
        ("a:", None),
        ("a: '12'", "12"),
    ],
)
def test_plain_scalars_stay_text_except_booleans_and_nulls(text: str, expected: object) -> None:
    data, _ = parse_yaml(text)
    assert data == {"a": expected}


def test_lines_of_keys_and_items_are_kept_with_the_file_offset() -> None:
    text = "id: X\nactions:\n  - id: A\n    owner: o\n  - {id: B, owner: p}\n"
    data, lines = parse_yaml(text, first_line=2)
    assert data["actions"][1] == {"id": "B", "owner": "p"}
    assert lines[("id",)] == 2
    assert lines[("actions",)] == 3
    assert lines[("actions", 0)] == 4
    assert lines[("actions", 0, "owner")] == 5
    assert lines[("actions", 1, "owner")] == 6


def test_duplicate_keys_are_reported_not_silently_dropped() -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml("a: 1\nb: 2\na: 3\n")
    assert caught.value.line == 3
    assert "duplicate key 'a' (first set on line 1)" in caught.value.message


def test_alias_bomb_is_stopped() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for n in range(1, 9):
        prev = chr(ord("a") + n - 1)
        name = chr(ord("a") + n)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(YamlProblem) as caught:
        parse_yaml("\n".join(lines))
    assert "too many values" in caught.value.message


def test_small_aliases_are_fine() -> None:
    data, _ = parse_yaml("base: &b {value: 1}\nother: *b\n")
    assert data["other"] == {"value": "1"}


def test_unknown_tags_and_merge_keys_are_refused() -> None:
    with pytest.raises(YamlProblem, match="unsupported YAML tag"):
        parse_yaml("a: !!python/object:os.system x\n")
    with pytest.raises(YamlProblem, match="merge keys"):
        parse_yaml("base: &b {x: 1}\nother:\n  <<: *b\n")


def test_front_matter_split() -> None:
    assert split_front_matter("---\na: 1\n---\nbody\n") == ("a: 1", 2, "body\n", 4)
    assert isinstance(split_front_matter("a: 1\n"), str)
    assert isinstance(split_front_matter("---\na: 1\n"), str)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\nid: X\r\ntitle: T\r\n---\r\nBody\r\n")
    problems = Problems()
    source = load_file(path, "r.md", "r.md", "concerns", problems)
    assert not problems
    assert source is not None
    assert source.data == {"id": "X", "title": "T"}
    assert source.lines[("title",)] == 3
    assert source.body == "Body\n"
    assert source.body_line == 5


def test_discovery_ignores_underscore_and_dot_files_and_sorts(tmp_path: Path) -> None:
    for rel in [
        "concerns/b.md",
        "concerns/sub/a.md",
        "concerns/_draft.md",
        "concerns/.hidden.md",
        "concerns/_old/c.md",
        "concerns/notes.txt",
        "evidence/e.yaml",
        "evidence/f.md",
        "governance/g.md",
    ]:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    found = discover(tmp_path)
    names = {
        kind: [p.relative_to(tmp_path).as_posix() for p in paths] for kind, paths in found.items()
    }
    assert names == {
        "concerns": ["concerns/b.md", "concerns/sub/a.md"],
        "evidence": ["evidence/e.yaml", "evidence/f.md"],
        "governance": ["governance/g.md"],
    }


def _loaded(root: Path) -> tuple[object, ...]:
    """Everything loading gives, as plain values to compare."""
    from generator.pipeline import load

    build = load(root)
    p = build.portfolio
    return (
        build.stamp,
        [
            (s.rel, s.kind, s.data, s.lines, s.body, s.body_line, s.digest)
            for s in p.sources.values()
        ],
        [r.model_dump() for r in (*p.concerns.values(), *p.evidence.values(), *p.reviews.values())],
        [r.body for r in (*p.concerns.values(), *p.evidence.values(), *p.reviews.values())],
        build.findings,
    )


def _problems(root: Path) -> list[str]:
    from generator.errors import PortfolioError
    from generator.pipeline import load

    with pytest.raises(PortfolioError) as caught:
        load(root)
    return [str(problem) for problem in caught.value.problems]


def test_records_parsed_by_a_worker_are_those_parsed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large portfolios are parsed by two processes: the result is the same."""
    import shutil

    import generator.pipeline

    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    monkeypatch.setenv("PORTFOLIO_WORKERS", "1")
    alone = _loaded(root)
    monkeypatch.setenv("PORTFOLIO_WORKERS", "2")
    monkeypatch.setattr(generator.pipeline, "PARALLEL_READ_FROM", 0)
    assert _loaded(root) == alone


def test_errors_found_by_a_worker_are_reported_with_the_rest(
    make_portfolio: MakePortfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.pipeline

    broken: dict[str, str | bytes | None] = {
        f"evidence/bad-{n}.yaml": f"id: EV-BAD-{n}\ntitle: [unclosed\n" for n in range(3)
    }
    broken.update(
        {
            f"evidence/unknown-{n}.yaml": f"id: EV-UNK-{n}\ntitle: T\ntype: audit\n"
            f"date: 2026-01-0{n + 1}\ncolour: red\n"
            for n in range(3)
        }
    )
    broken["evidence/not-utf8.yaml"] = b"id: EV-LATIN\ntitle: caf\xe9\n"
    root = make_portfolio(broken)
    monkeypatch.setenv("PORTFOLIO_WORKERS", "1")
    alone = _problems(root)
    assert len(alone) >= 7
    monkeypatch.setenv("PORTFOLIO_WORKERS", "2")
    monkeypatch.setattr(generator.pipeline, "PARALLEL_READ_FROM", 0)
    assert _problems(root) == alone


def test_without_a_process_to_spare_every_file_is_parsed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    import generator.pipeline

    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    alone = _loaded(root)

    def no_fork() -> int:
        raise OSError("no process to spare")

    monkeypatch.setenv("PORTFOLIO_WORKERS", "2")
    monkeypatch.setattr(generator.pipeline, "PARALLEL_READ_FROM", 0)
    monkeypatch.setattr(os, "fork", no_fork)
    assert _loaded(root) == alone


@pytest.mark.parametrize(
    ("rel", "kind"),
    [
        ("concerns/MED-01.md", "concerns"),
        ("concerns/night/MED-02.md", "concerns"),
        ("evidence/audit.yaml", "evidence"),
        ("evidence/audit.yml", "evidence"),
        ("evidence/notes/audit.md", "evidence"),
        ("governance/2026-06.md", "governance"),
        ("governance/2026-06.yaml", None),  # only evidence may be plain YAML
        ("concerns/_draft.md", None),
        ("concerns/.hidden/MED-03.md", None),
        ("evidence/audit.csv", None),
        ("attachments/notes.md", None),
        ("portfolio.yaml", None),
        ("concerns/README", None),
        ("concerns", None),
    ],
)
def test_which_files_are_records(rel: str, kind: str | None) -> None:
    from generator.load.sources import record_kind

    assert record_kind(rel) == kind
