"""The assessment framework as versioned data: packaged files or a portfolio's own."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from generator.errors import Problems
from generator.load.sources import KeyPath, SourceFile, load_file
from generator.load.validate import validate
from generator.model import EvidenceType, Framework

DEFAULT_FRAMEWORK = "cqc-saf-2024"


def packaged_frameworks() -> list[str]:
    """The ids of the frameworks shipped with the package."""
    folder = resources.files("generator") / "data" / "frameworks"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_framework(
    root: Path,
    display_root: str,
    name: str,
    name_line: int,
    settings_display: str,
    problems: Problems,
) -> tuple[Framework, SourceFile] | None:
    """Load the portfolio's ``framework.yaml`` if it has one, else the packaged ``name``."""
    own = root / "framework.yaml"
    if own.is_file():
        source = load_file(
            own, "framework.yaml", f"{display_root}/framework.yaml", "framework", problems
        )
    else:
        available = packaged_frameworks()
        if name not in available:
            problems.add(
                settings_display,
                name_line,
                f"framework: unknown framework {name!r}{_hint(name, available)}; packaged "
                f"frameworks are {', '.join(available)} (`portfolio framework list` describes "
                "them), or add your own framework.yaml",
            )
            return None
        path = Path(str(resources.files("generator") / "data" / "frameworks" / f"{name}.yaml"))
        source = load_file(path, f"{name}.yaml", f"<packaged>/{name}.yaml", "framework", problems)
    if source is None:
        return None
    framework = validate(Framework, source, problems)
    if framework is None:
        return None
    before = len(problems.items)
    check_framework(framework, source, problems)
    if len(problems.items) > before:
        return None
    return framework, source


def read_packaged(name: str) -> Framework | None:
    """A packaged framework by id, or None when there is none by that name (or it does not
    load, which the package's own tests rule out)."""
    if name not in packaged_frameworks():
        return None
    path = Path(str(resources.files("generator") / "data" / "frameworks" / f"{name}.yaml"))
    problems = Problems()
    source = load_file(path, f"{name}.yaml", f"<packaged>/{name}.yaml", "framework", problems)
    if source is None:
        return None
    return validate(Framework, source, problems)


def former_titles(framework: Framework) -> dict[str, str]:
    """The titles of the old slugs in ``framework``'s crosswalk, where the framework they
    come from is packaged."""
    titles: dict[str, str] = {}
    for other in framework.crosswalk:
        old = read_packaged(other)
        if old is not None:
            titles.update({slug: st.title for slug, (_kq, st) in old.statements().items()})
    return titles


def check_framework(framework: Framework, source: SourceFile, problems: Problems) -> None:
    """Checks across the framework: unique slugs, known categories, crosswalk targets."""
    seen: dict[str, str] = {}
    for k, kq in enumerate(framework.key_questions):
        for s, statement in enumerate(kq.statements):
            if statement.slug in seen:
                problems.add(
                    source.display,
                    source.line(("key_questions", k, "statements", s, "slug")),
                    f"statement slug {statement.slug!r} is used twice; slugs must be unique",
                )
            seen[statement.slug] = kq.slug
    categories = {c.slug for c in framework.evidence_categories}
    for type_name, defaults in framework.evidence_types.items():
        if defaults.category not in categories:
            problems.add(
                source.display,
                source.line(("evidence_types", type_name, "category")),
                f"evidence_types.{type_name}: unknown category {defaults.category!r}; use one "
                f"of {', '.join(sorted(categories))}",
            )
    missing = [t for t in typing.get_args(EvidenceType) if t not in framework.evidence_types]
    if missing:
        problems.add(
            source.display,
            source.line(("evidence_types",)),
            f"evidence_types: give defaults for every evidence type; missing {', '.join(missing)}",
        )
    for regulation, targets in framework.regulations.items():
        written_as_list = isinstance(source.data.get("regulations", {}).get(regulation), list)
        for index, new in enumerate(targets):
            if new not in seen:
                problems.add(
                    source.display,
                    source.line(
                        ("regulations", regulation, index)
                        if written_as_list
                        else ("regulations", regulation)
                    ),
                    f"regulations: {regulation!r} points to {new!r}, which is not a statement of "
                    f"{framework.id}{_hint(new, seen)}; use one of its slugs",
                )
    for other, table in framework.crosswalk.items():
        if other == framework.id:
            problems.add(
                source.display,
                source.line(("crosswalk", other)),
                f"crosswalk: {other!r} is this framework's own id; name the framework the old "
                "slugs come from",
            )
        for old, targets in table.items():
            written_as_list = isinstance(
                source.data.get("crosswalk", {}).get(other, {}).get(old), list
            )
            for index, new in enumerate(targets):
                if new in seen:
                    continue
                keys: KeyPath = (
                    ("crosswalk", other, old, index)
                    if written_as_list
                    else ("crosswalk", other, old)
                )
                problems.add(
                    source.display,
                    source.line(keys),
                    f"crosswalk: {other}: {old!r} maps to {new!r}, which is not a statement of "
                    f"{framework.id}{_hint(new, seen)}; use one of its slugs (`portfolio "
                    f"framework show {framework.id}` lists them)",
                )


def _hint(value: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""
