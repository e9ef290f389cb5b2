"""Loading a portfolio folder: its settings and framework, then its records linked into one.

The per-file work is generator.load.records; :func:`open_portfolio` reads what every build
reads first, :func:`assemble` links the records that were read, and :func:`fingerprint` names
everything read with one short hash, the build stamp printed on every page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from generator import __version__
from generator.errors import PortfolioError, Problem, Problems
from generator.load.framework import DEFAULT_FRAMEWORK, former_titles, load_framework
from generator.load.link import Portfolio, link
from generator.load.records import MODELS, Read, RecordFile
from generator.load.sources import SourceFile, discover, load_file
from generator.load.validate import validate
from generator.model import Framework, Settings


def display_path(root: Path) -> str:
    """How the portfolio folder is named in messages: as the user gave it."""
    text = root.as_posix()
    return text.rstrip("/") or "/"


@dataclass
class Opened:
    """What a build reads before the records: settings and framework (None where they could
    not be read; the problems say why), and the record files to read."""

    root: Path
    shown: str
    settings: Settings | None
    settings_source: SourceFile | None
    framework: tuple[Framework, SourceFile] | None
    files: list[RecordFile]


def open_portfolio(root: Path, problems: Problems) -> Opened:
    """Read portfolio.yaml and the framework, and list the record files of ``root``.

    A folder that is missing, a file, or has no portfolio.yaml is an error at once.
    """
    shown = display_path(root)
    if not root.exists():
        raise PortfolioError([Problem(shown, 0, "no such folder: name a portfolio folder")])
    if not root.is_dir():
        raise PortfolioError(
            [Problem(shown, 0, "this is a file: name the portfolio folder that holds it")]
        )
    settings_path = root / "portfolio.yaml"
    if not settings_path.is_file():
        raise PortfolioError(
            [
                Problem(
                    f"{shown}/portfolio.yaml",
                    0,
                    "missing: every portfolio folder needs a portfolio.yaml naming the provider, "
                    "service and roles (see docs/format.md)",
                )
            ]
        )
    settings_source = load_file(
        settings_path, "portfolio.yaml", f"{shown}/portfolio.yaml", "portfolio", problems
    )
    settings = validate(Settings, settings_source, problems) if settings_source else None
    framework_name = settings.framework if settings else DEFAULT_FRAMEWORK
    framework_line = settings_source.line(("framework",)) if settings_source else 0
    framework = load_framework(
        root, shown, framework_name, framework_line, f"{shown}/portfolio.yaml", problems
    )
    files = [
        RecordFile(kind, path, rel := path.relative_to(root).as_posix(), f"{shown}/{rel}")
        for kind, paths in discover(root, problems, shown).items()
        for path in paths
    ]
    return Opened(root, shown, settings, settings_source, framework, files)


def assemble(
    opened: Opened,
    read: Iterable[Read],
    as_of: date | None,
    problems: Problems,
    strict: bool = True,
) -> tuple[Portfolio, list[SourceFile]]:
    """Link the records read into one portfolio; raise every problem found so far together.

    Returns the portfolio and every file it was read from (settings and framework first).
    Not ``strict``, the portfolio is returned as far as it could be linked, its problems left
    in ``problems`` (only settings or a framework that cannot be read still raise).
    """
    records: dict[str, list[tuple[Any, SourceFile]]] = {kind: [] for kind in MODELS}
    sources: list[SourceFile] = []
    unvalidated: dict[str, str] = {}
    for item in read:
        unvalidated.update(item.ids)
        if item.source is not None:
            sources.append(item.source)
            if item.record is not None:
                records[item.source.kind].append((item.record, item.source))
    settings, settings_source = opened.settings, opened.settings_source
    if settings is None or settings_source is None or opened.framework is None:
        problems.raise_if_any()
        raise AssertionError("unreachable: settings failed without a problem")  # pragma: no cover
    framework, framework_source = opened.framework
    when = as_of or settings.as_of or date.today()
    portfolio = link(
        settings,
        settings_source,
        framework,
        opened.root,
        opened.shown,
        when,
        records["concerns"],
        records["evidence"],
        records["governance"],
        problems,
        unvalidated,
        former_titles(framework),
    )
    if strict:
        problems.raise_if_any()
    return portfolio, [settings_source, framework_source, *sources]


def attachment_digests(
    portfolio: Portfolio, known: Callable[[Path], bytes | None] | None = None
) -> dict[str, str]:
    """The SHA-256 of every attached file, by evidence id: read once per build (or given by
    ``known``, for files hashed before the build)."""
    found: dict[str, str] = {}
    for eid, path in portfolio.attachments.items():
        digest = known(path) if known is not None else None
        found[eid] = digest.hex() if digest else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def fingerprint(sources: list[SourceFile], attachments: dict[str, str]) -> str:
    """A short hash of the tool version, every file read, and every attachment."""
    digest = hashlib.sha256(f"portfolio {__version__}\n".encode())
    files = {s.rel if s.kind != "framework" else f"<framework>/{s.rel}": s.digest for s in sources}
    for eid, hexdigest in attachments.items():
        files[f"<attachment>/{eid}"] = bytes.fromhex(hexdigest)
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()[:10]
