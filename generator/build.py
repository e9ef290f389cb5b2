"""The build pipeline: load -> validate -> link -> derive -> render -> write."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from generator import __version__
from generator.check.outcomes import Outcome
from generator.check.privacy import ScanMemo, Scanned, scan_text
from generator.check.rules import Finding, run_checks
from generator.check.status import Brag, derive
from generator.errors import PortfolioError, Problem, Problems
from generator.load.framework import DEFAULT_FRAMEWORK, load_framework
from generator.load.link import Portfolio, link
from generator.load.sources import SourceFile, discover, load_file
from generator.load.validate import validate
from generator.model import Concern, Evidence, Review, Settings

if TYPE_CHECKING:
    from generator.cache.store import BuildCache, Inputs

_MODELS: dict[str, Any] = {"concerns": Concern, "evidence": Evidence, "governance": Review}


@dataclass
class Build:
    """A loaded portfolio, ready for any renderer: the linked records and derived facts."""

    portfolio: Portfolio
    status: dict[str, Brag]
    stamp: str  # short hash of everything the build read, printed on every page
    findings: list[Finding] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)  # SHA-256 of attachments, by id

    def findings_for(self, record: str) -> list[Finding]:
        """The findings about one record (a concern, action, measure or statement)."""
        return self.by_record.get(record, [])

    @property
    def by_record(self) -> dict[str, list[Finding]]:
        """Findings grouped by the record they are about."""
        if self._by_record is None:
            grouped: dict[str, list[Finding]] = {}
            for finding in self.findings:
                grouped.setdefault(finding.record, []).append(finding)
            self._by_record = grouped
        return self._by_record

    _by_record: dict[str, list[Finding]] | None = field(default=None, repr=False)

    @property
    def as_of(self) -> date:
        """The date findings and statuses are judged at."""
        return self.portfolio.as_of


def display_path(root: Path) -> str:
    """How the portfolio folder is named in messages: as the user gave it."""
    text = root.as_posix()
    return text.rstrip("/") or "/"


def load(
    root: Path,
    as_of: date | None = None,
    cache: BuildCache | None = None,
    inputs: Inputs | None = None,
    on_stamp: Callable[[str], None] | None = None,
) -> Build:
    """Read, validate and link the portfolio at ``root``; raise every user error together.

    With a ``cache`` (and the ``inputs`` hashed for it), a record file whose bytes are as they
    were when it was cached is not parsed again; files parsed now are cached. ``on_stamp`` is
    called with the build stamp as soon as it is known, before the checks run.
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
    problems = Problems()
    settings_source = load_file(
        settings_path, "portfolio.yaml", f"{shown}/portfolio.yaml", "portfolio", problems
    )
    settings = validate(Settings, settings_source, problems) if settings_source else None
    framework_name = settings.framework if settings else DEFAULT_FRAMEWORK
    framework_line = settings_source.line(("framework",)) if settings_source else 0
    loaded_framework = load_framework(
        root, shown, framework_name, framework_line, f"{shown}/portfolio.yaml", problems
    )

    records: dict[str, list[tuple[Any, SourceFile]]] = {kind: [] for kind in _MODELS}
    sources: list[SourceFile] = []
    unvalidated: dict[str, str] = {}
    found: list[tuple[SourceFile, Any] | None] = []
    jobs: list[_Job] = []
    for kind, paths in discover(root).items():
        for path in paths:
            rel = path.relative_to(root).as_posix()
            display = f"{shown}/{rel}"
            digest = inputs.files.get(rel) if inputs is not None else None
            found.append(_cached(cache, kind, path, rel, display, digest))
            if found[-1] is None:
                jobs.append((len(found) - 1, kind, path, rel, display))
    scanned: Scanned = cache.scans() if cache is not None else {}
    if inputs is not None:
        scanned.update(inputs.scanned)
    for (index, kind, path, _, _), (source, record, ids, packed, found_in) in zip(
        jobs, _read_all(jobs, problems), strict=True
    ):
        unvalidated.update(ids)
        scanned.update(found_in)
        if source is not None:
            found[index] = (source, record)
            if record is not None and cache is not None:
                name = _record_name(kind, path, source.digest)
                cache.keep_record(name, source.digest, packed or _pack(source, record))
    for parsed in found:
        if parsed is not None:
            source, record = parsed
            sources.append(source)
            if record is not None:
                records[source.kind].append((record, source))

    if settings is None or settings_source is None or loaded_framework is None:
        problems.raise_if_any()
        raise AssertionError("unreachable: settings failed without a problem")  # pragma: no cover
    framework, framework_source = loaded_framework
    when = as_of or settings.as_of or date.today()
    portfolio = link(
        settings,
        settings_source,
        framework,
        root,
        shown,
        when,
        records["concerns"],
        records["evidence"],
        records["governance"],
        problems,
        unvalidated,
    )
    problems.raise_if_any()
    read = [settings_source, framework_source, *sources]
    checksums = attachment_digests(portfolio, inputs)
    stamp = fingerprint(read, checksums)
    if on_stamp is not None:
        on_stamp(stamp)
    scans = ScanMemo(scanned)
    findings, outcomes = run_checks(portfolio, scans, checksums)
    if cache is not None:
        cache.keep_scans(scans.now)
    return Build(portfolio, derive(portfolio, outcomes), stamp, findings, outcomes, checksums)


def _record_name(kind: str, path: Path, digest: bytes) -> str:
    # Named by content, not by path: a renamed file is not parsed again. The suffix counts,
    # as only .md files have front matter.
    return f"record/{kind}/{path.suffix == '.md'}/{digest.hex()}"


def _cached(
    cache: BuildCache | None, kind: str, path: Path, rel: str, display: str, digest: bytes | None
) -> tuple[SourceFile, Any] | None:
    """A record file as a build parsed it before, when its bytes are the same."""
    if cache is None or digest is None:
        return None
    parts = cache.record(_record_name(kind, path, digest), digest)
    if not (isinstance(parts, tuple) and len(parts) == 5):
        return None
    source, record = _unpack(parts, (0, kind, path, rel, display), digest)
    if not isinstance(record, _MODELS[kind]):
        return None
    return source, record


def _pack(source: SourceFile, record: Any) -> bytes:
    """A parsed record file as the build cache keeps it (see :func:`_unpack`)."""
    parts = (source.data, source.lines, source.body, source.body_line, record)
    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(parts: tuple[Any, ...], job: _Job, digest: bytes) -> tuple[SourceFile, Any]:
    """The source and record of a file from what :func:`_pack` kept."""
    _, kind, path, rel, display = job
    data, lines, body, body_line, record = parts
    return SourceFile(path, rel, display, kind, data, lines, body, body_line, digest), record


#: Record files to parse: their place among all files, kind, path, name in the folder, and
#: name in messages.
_Job = tuple[int, str, Path, str, str]
#: A file parsed: its source (None when it could not be read), its record (None when it is
#: not valid), the ids it names when it is not valid, when a worker parsed it its source and
#: record as the build cache keeps them, and what the privacy scan found in its text (by the
#: hash of its bytes), when it could be read.
_Read = tuple[SourceFile | None, Any, dict[str, str], bytes | None, Scanned]

PARALLEL_READ_FROM = 200  # files to parse; below this, a worker costs more than it saves
_PENDING: list[_Job] = []  # what forked workers parse


def _read(job: _Job, problems: Problems) -> _Read:
    """Parse and validate one record file, and scan its text for personal identifiers (the
    check that does so then need not read it again)."""
    _, kind, path, rel, display = job
    scanned: Scanned = {}

    def scan(text: str, digest: bytes) -> None:
        scanned[digest] = scan_text(text)

    source = load_file(path, rel, display, kind, problems, scan)
    if source is None:
        return None, None, _ids_in_text(path), None, scanned
    record = validate(_MODELS[kind], source, problems)
    if record is None:
        return source, None, _raw_ids(kind, source.data), None, scanned
    # The record holds what the fields say: the fields as read are not kept, which would
    # double what a large portfolio holds in memory and in the build cache.
    source.data = {}
    return source, record, {}, None, scanned


def _read_all(jobs: list[_Job], problems: Problems) -> list[_Read]:
    """Parse and validate ``jobs``, in their order: shared with forked workers when there
    are enough of them (this process parses its share meanwhile)."""
    from generator.parallel import can_fork, default_workers, leave_with_parent

    workers = default_workers()
    if workers < 2 or len(jobs) < PARALLEL_READ_FROM or not can_fork():
        return [_read(job, problems) for job in jobs]
    global _PENDING
    _PENDING = jobs
    try:
        pool = mp.get_context("fork").Pool(workers - 1, initializer=leave_with_parent)
    except OSError:  # no process to spare: parse them all here
        _PENDING = []
        return [_read(job, problems) for job in jobs]
    try:
        with pool:
            pending = pool.map_async(_read_share, [(share, workers) for share in range(1, workers)])
            done: list[_Read | None] = [None] * len(jobs)
            for index in range(0, len(jobs), workers):
                done[index] = _read(jobs[index], problems)
            shares = pending.get()
    finally:
        _PENDING = []
    for found, parsed in shares:
        problems.extend(found)
        for index, digest, ids, packed, scanned in parsed:
            if packed is None:
                done[index] = (None, None, ids, None, scanned)
                continue
            source, record = _unpack(pickle.loads(packed), jobs[index], digest)
            done[index] = (source, record, ids, packed if record is not None else None, scanned)
    assert all(read is not None for read in done), "a file was parsed by no process"
    return cast("list[_Read]", done)


def _read_share(
    share_of: tuple[int, int],
) -> tuple[list[Problem], list[tuple[int, bytes, dict[str, str], bytes | None, Scanned]]]:
    """In a forked worker: parse every n-th pending file, starting at ``share``; each file
    comes back as the build cache keeps it."""
    share, workers = share_of
    problems = Problems()
    parsed = []
    for index in range(share, len(_PENDING), workers):
        source, record, ids, _, scanned = _read(_PENDING[index], problems)
        packed = None
        digest = b""
        if source is not None:
            digest, packed = source.digest, _pack(source, record)
        parsed.append((index, digest, ids, packed, scanned))
    return problems.items, parsed


def _raw_ids(kind: str, data: dict[str, Any]) -> dict[str, str]:
    """Ids of a record that failed validation, so references to it are not reported too."""
    names = {"concerns": "concern", "evidence": "evidence entry", "governance": "governance review"}
    found: dict[str, str] = {}
    if isinstance(data.get("id"), str):
        found[data["id"]] = names[kind]
    for key, name in (("actions", "action"), ("measures", "measure")):
        items = data.get(key)
        if kind == "concerns" and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    found[item["id"]] = name
    return found


_ID_LINE = re.compile(r"^[\s-]*id:\s*(?:!\S*\s+)?['\"]?([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


def _ids_in_text(path: Path) -> dict[str, str]:
    """Ids written in a file that could not be read as YAML, found line by line.

    Their kind is unknown ("*"), so any reference to them is taken as resolved: the file's
    own error is what the user needs to fix first.
    """
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return {}
    return {match: "*" for match in _ID_LINE.findall(text)}


def attachment_digests(portfolio: Portfolio, inputs: Inputs | None = None) -> dict[str, str]:
    """The SHA-256 of every attached file, by evidence id: read once per build (or taken
    from the ``inputs`` hashed before the build, when they hold it)."""
    found: dict[str, str] = {}
    for eid, path in portfolio.attachments.items():
        known = inputs.digest_of(path) if inputs is not None else None
        found[eid] = known.hex() if known else hashlib.sha256(path.read_bytes()).hexdigest()
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
