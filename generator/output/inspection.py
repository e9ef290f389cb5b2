"""The inspection evidence folder, and checking a folder against its manifest.

The folder holds the PDF portfolio, the offline site, a folder per key question and quality
statement with copies of the attachments filed there, an index.html to start from, and a
MANIFEST.sha256 of every file (in the form ``sha256sum --check`` reads). It is written as a
folder, atomically, or as a zip whose entries carry fixed dates so the same build gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from markupsafe import escape

from generator.check.assess import Build
from generator.errors import PortfolioError, Problem
from generator.output.write import MARKER
from generator.render.exports import dated_zip
from generator.render.markdown import url_path
from generator.render.site import SiteFiles

MANIFEST = "MANIFEST.sha256"
IGNORED = {MANIFEST, MARKER}


def evidence_folder(build: Build, pdf: bytes, site: SiteFiles) -> SiteFiles:
    """Every file of the inspection folder, keyed by its path inside it, from the PDF and the
    site (its pages rendered, not written) of ``build``."""
    p = build.portfolio
    files = SiteFiles()
    files.pages["portfolio.pdf"] = pdf
    for name, data in site.pages.items():
        files.pages[f"site/{name}"] = data
    for name, source in site.copies.items():
        files.copies[f"site/{name}"] = source
    listing: list[tuple[str, str, list[tuple[str, str, str]]]] = []
    for kq in p.framework.key_questions:
        for statement in kq.statements:
            entries = []
            for evidence in p.evidence_by_statement[statement.slug]:
                path = p.attachments.get(evidence.id)
                if path is None:
                    continue
                name = _fitted(f"{evidence.id}-{path.name}")
                rel = f"evidence/{kq.slug}/{statement.slug}/{name}"
                files.copies[rel] = path
                entries.append((rel, evidence.id, evidence.title))
            listing.append((kq.title, statement.title, entries))
    files.pages["index.html"] = _index(build, listing).encode("utf-8")
    files.pages[MANIFEST] = manifest(files)
    return files


#: The longest file name most file systems (and the programs that unpack zips) take, in bytes.
NAME_BYTES = 255


def _fitted(name: str) -> str:
    """``name`` shortened before its extension to fit :data:`NAME_BYTES` in UTF-8: an
    attachment's name fits, but may not once the evidence id is put before it."""
    if len(name.encode("utf-8")) <= NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = name, ""
    ending = f".{suffix}" if suffix else ""
    room = NAME_BYTES - len(ending.encode("utf-8"))
    return stem.encode("utf-8")[:room].decode("utf-8", errors="ignore") + ending


def _index(build: Build, listing: list[tuple[str, str, list[tuple[str, str, str]]]]) -> str:
    p = build.portfolio
    e = escape
    rows = []
    for kq, statement, entries in listing:
        links = "".join(
            f'<li><a href="{e(url_path(rel))}">{e(eid)} {e(title)}</a></li>'
            for rel, eid, title in entries
        )
        rows.append(
            f"<h3>{e(kq)}: {e(statement)}</h3>"
            + (f"<ul>{links}</ul>" if links else "<p>No attached files.</p>")
        )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Inspection evidence: {e(p.settings.service)}</title>"
        "<style>body{font-family:sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.45}h3{margin:1.2rem 0 .3rem}</style></head><body><main>"
        f"<h1>Inspection evidence: {e(p.settings.service)}</h1>"
        f"<p>{e(p.settings.provider)}. As of {build.as_of.isoformat()}, build {build.stamp}. "
        "Records marked internal are left out.</p><ul>"
        '<li><a href="portfolio.pdf">The PDF portfolio</a></li>'
        '<li><a href="site/index.html">The portfolio site</a> (opens in a browser, offline)</li>'
        f'<li><a href="{MANIFEST}">{MANIFEST}</a>: the SHA-256 of every file here; check the '
        "folder with <code>portfolio verify</code> or <code>sha256sum --check</code></li></ul>"
        f"<p>Filed by the {e(p.framework.title)}.</p>"
        f"<h2>Attached evidence by {e(p.framework.terms.statement)}</h2>"
        + "".join(rows)
        + "</main></body></html>"
    )


def manifest(files: SiteFiles) -> bytes:
    """``sha256sum`` lines for every file, in path order (a name holding a backslash or a line
    break is escaped as ``sha256sum`` escapes it, with a backslash before the line)."""
    lines = [
        _manifest_line(hashlib.sha256(files.data(name)).hexdigest(), name)
        for name in files.names()
        if name not in IGNORED
    ]
    return "".join(lines).encode("utf-8")


def _manifest_line(digest: str, name: str) -> str:
    if not any(c in name for c in "\\\n\r"):
        return f"{digest}  {name}\n"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{digest}  {escaped}\n"


def _manifest_entry(line: str) -> tuple[str, str] | None:
    """The digest and name of one manifest line, or None when it is not one."""
    escaped = line.startswith("\\")
    digest, _, name = line[escaped:].partition("  ")
    if len(digest) != 64 or not name:
        return None
    if escaped:
        name = re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), name)
    return digest, name


def to_zip(files: SiteFiles, day: date) -> bytes:
    """The folder as a zip with fixed entry dates."""
    return dated_zip(((name, files.data(name)) for name in files.names()), day)


@dataclass
class Verification:
    """What differs between a folder and its manifest."""

    checked: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every file matches the manifest."""
        return not (self.changed or self.missing or self.added)


#: A zip member that unpacks to more than this many times its packed size, and to more than
#: ``BOMB_BYTES``, is taken for a zip bomb and not unpacked.
BOMB_RATIO = 200
BOMB_BYTES = 64 * 1024 * 1024
_BLOCK = 1024 * 1024


def verify(target: Path) -> Verification:
    """Check a folder or zip against its MANIFEST.sha256.

    Files are hashed a block at a time, so neither a large folder nor a large zip is ever held
    in memory; a zip with two entries of one name, or an entry that would unpack to far more
    than its packed size, is refused.
    """
    shown = target.as_posix()
    if target.is_file() and zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            names = [info.filename for info in members]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise PortfolioError(
                    [Problem(shown, 0, f"the zip holds {twice[0]!r} twice: it cannot be checked")]
                )
            for info in members:
                if info.file_size > max(BOMB_BYTES, BOMB_RATIO * info.compress_size):
                    raise PortfolioError(
                        [
                            Problem(
                                shown,
                                0,
                                f"{info.filename!r} would unpack to {info.file_size:,} bytes "
                                f"from {info.compress_size:,}: refused as a likely zip bomb",
                            )
                        ]
                    )
            if MANIFEST not in names:
                _no_manifest(shown)
            listed = _read_manifest(_read_member(archive, archive.getinfo(MANIFEST)), shown)
            digests = {
                info.filename: _zip_digest(archive, info)
                for info in members
                if info.filename in listed
            }
            present = set(names)
    elif target.is_dir():
        files = {p.relative_to(target).as_posix(): p for p in sorted(target.rglob("*"))}
        present = {name for name, path in files.items() if path.is_file()}
        if MANIFEST not in present:
            _no_manifest(shown)
        listed = _read_manifest((target / MANIFEST).read_bytes(), shown)
        digests = {}
        for name in listed:
            if name in present:
                with files[name].open("rb") as stream:
                    digests[name] = hashlib.file_digest(stream, "sha256").hexdigest()
    else:
        raise PortfolioError([Problem(shown, 0, "no such folder or zip file")])
    result = Verification()
    for name, digest in listed.items():
        if name not in present:
            result.missing.append(name)
        elif digests[name] != digest:
            result.changed.append(name)
        result.checked += 1
    result.added = sorted(n for n in present if n not in listed and n not in IGNORED)
    return result


def _no_manifest(shown: str) -> None:
    raise PortfolioError(
        [
            Problem(
                shown,
                0,
                f"no {MANIFEST} in it: is this an evidence folder made by portfolio export?",
            )
        ]
    )


def _read_manifest(data: bytes, shown: str) -> dict[str, str]:
    """The digest of every file the manifest lists, by name."""
    expected: dict[str, str] = {}
    text = data.decode("utf-8", errors="replace")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        entry = _manifest_entry(line)
        if entry is None:
            raise PortfolioError(
                [
                    Problem(
                        f"{shown}/{MANIFEST}", number, "not a line of the form '<sha256>  <path>'"
                    )
                ]
            )
        expected[entry[1]] = entry[0]
    return expected


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A small member (the manifest), read whole but never past its stated size."""
    with archive.open(info) as stream:
        data = stream.read(min(info.file_size, BOMB_BYTES) + 1)
    return data[: info.file_size]


def _zip_digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """The SHA-256 of a zip member, read a block at a time."""
    digest = hashlib.sha256()
    with archive.open(info) as stream:
        while block := stream.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
