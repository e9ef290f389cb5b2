"""The inspection evidence folder, and checking a folder against its manifest.

The folder holds the PDF portfolio, the offline site, a folder per key question and quality
statement with copies of the attachments filed there, an index.html to start from, and a
MANIFEST.sha256 of every file (in the form ``sha256sum --check`` reads). It is written as a
folder, atomically, or as a zip whose entries carry fixed dates so the same build gives the
same bytes.
"""

from __future__ import annotations

import hashlib
import html
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
                rel = f"evidence/{kq.slug}/{statement.slug}/{evidence.id}-{path.name}"
                files.copies[rel] = path
                entries.append((rel, evidence.id, evidence.title))
            listing.append((kq.title, statement.title, entries))
    files.pages["index.html"] = _index(build, listing).encode("utf-8")
    files.pages[MANIFEST] = manifest(files)
    return files


def _index(build: Build, listing: list[tuple[str, str, list[tuple[str, str, str]]]]) -> str:
    p = build.portfolio
    e = html.escape
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
        "<h2>Attached evidence by quality statement</h2>" + "".join(rows) + "</main></body></html>"
    )


def manifest(files: SiteFiles) -> bytes:
    """``sha256sum`` lines for every file, in path order."""
    lines = [
        f"{hashlib.sha256(files.data(name)).hexdigest()}  {name}\n"
        for name in files.names()
        if name not in IGNORED
    ]
    return "".join(lines).encode("utf-8")


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


def verify(target: Path) -> Verification:
    """Check a folder or zip against its MANIFEST.sha256."""
    contents: dict[str, bytes] = {}
    if target.is_file() and zipfile.is_zipfile(target):
        with zipfile.ZipFile(target) as archive:
            contents = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    elif target.is_dir():
        contents = {
            p.relative_to(target).as_posix(): p.read_bytes()
            for p in sorted(target.rglob("*"))
            if p.is_file()
        }
    else:
        raise PortfolioError([Problem(target.as_posix(), 0, "no such folder or zip file")])
    if MANIFEST not in contents:
        raise PortfolioError(
            [
                Problem(
                    target.as_posix(),
                    0,
                    f"no {MANIFEST} in it: is this an evidence folder made by portfolio export?",
                )
            ]
        )
    expected: dict[str, str] = {}
    for number, line in enumerate(contents[MANIFEST].decode("utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise PortfolioError(
                [
                    Problem(
                        f"{target.as_posix()}/{MANIFEST}",
                        number,
                        "not a line of the form '<sha256>  <path>'",
                    )
                ]
            )
        expected[name] = digest
    result = Verification()
    for name, digest in expected.items():
        if name not in contents:
            result.missing.append(name)
        elif hashlib.sha256(contents[name]).hexdigest() != digest:
            result.changed.append(name)
        result.checked += 1
    result.added = sorted(n for n in contents if n not in expected and n not in IGNORED)
    return result
