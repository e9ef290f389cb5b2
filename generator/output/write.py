"""Writing: put a rendered site in place atomically.

Everything is written into a temporary folder beside the output, which then replaces the old
output in one rename. A failed build leaves the previous site as it was, and files an older
build wrote but this one does not are gone. An existing folder is only replaced when it is
empty or was written by this tool (it holds the marker file), so a mistyped ``-o`` can never
delete someone's documents.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from generator.errors import PortfolioError, Problem
from generator.parallel import Background, Meanwhile
from generator.render.theme import STAMP_TOKEN

if TYPE_CHECKING:
    from generator.render.site import SiteFiles

MARKER = ".portfolio-build"
PDF_NAME = "portfolio.pdf"
KEY_PREFIX = "inputs "  # the marker line that holds the inputs' hash of the build
AUDIENCE_PREFIX = "audience "  # the marker line that names the audience the site is for


def unpack_page(kept: bytes | memoryview, stamp: str) -> bytes:
    """A page as the build cache keeps it (compressed, with :data:`STAMP_TOKEN` for the
    stamp), as it is written."""
    return zlib.decompress(kept).replace(STAMP_TOKEN.encode(), stamp.encode())


def built_with(out: Path) -> str | None:
    """The key of the build that wrote ``out``, if it says."""
    return _marked(out, KEY_PREFIX)


def built_for(out: Path) -> str | None:
    """The audience of the site in ``out``, if its marker says."""
    return _marked(out, AUDIENCE_PREFIX)


def _marked(out: Path, prefix: str) -> str | None:
    found = [line.removeprefix(prefix) for line in _marker(out) if line.startswith(prefix)]
    return found[0] if found else None


def _marker(out: Path) -> list[str]:
    """The lines of the marker file of ``out`` (none when it has none, or cannot be read)."""
    try:
        return (out / MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def check_pdf_beside(out: Path, audience: str) -> None:
    """Refuse to write the PDF for ``audience`` alone into an output that holds a site for
    another audience (or one that does not say): the site links the PDF beside it, so its
    readers would be handed what is not for them."""
    if not (out / "index.html").is_file():
        return
    site = built_for(out)
    if site == audience:
        return
    held = f"the {site} site" if site else "a site whose audience it does not record"
    raise PortfolioError(
        [
            Problem(
                out.as_posix(),
                0,
                f"holds {held}, which links the PDF beside it: a PDF for {audience} cannot be "
                f"put there alone. Build it into another folder (-o), or build the site for "
                f"{audience} with it (leave out --pdf-only)",
            )
        ]
    )


def up_to_date(out: Path, key: str) -> bool:
    """Whether ``out`` was written by a build with the same key."""
    return built_with(out) == key


def check_output(out: Path, inside: Path | None = None) -> None:
    """Refuse an output folder that is not ours to replace (or that lies in the folder
    ``inside``, the portfolio, when given)."""
    if inside is not None and out.resolve().is_relative_to(inside.resolve()):
        raise PortfolioError(
            [
                Problem(
                    out.as_posix(),
                    0,
                    "is inside the portfolio folder, where it could replace records: "
                    "write it somewhere else with -o",
                )
            ]
        )
    if out.exists() and not out.is_dir():
        raise PortfolioError(
            [Problem(out.as_posix(), 0, "the output is a file, not a folder: choose a folder")]
        )
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise PortfolioError(
            [
                Problem(
                    out.as_posix(),
                    0,
                    "this folder is not empty and was not written by portfolio build; "
                    "choose another output folder (-o) or empty it first",
                )
            ]
        )


def _umask() -> int:
    """The process's file mode creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sweep(out: Path) -> None:
    """Remove what builds of ``out`` that were killed left beside it: staging folders that no
    running build holds, and old outputs that were being removed."""
    prefix_new, prefix_old = f".{out.name}-new-", f".{out.name}-old-"
    try:
        siblings = list(os.scandir(out.parent))
    except OSError:
        return
    for entry in siblings:
        if not entry.is_dir(follow_symlinks=False):
            continue
        old = entry.name.startswith(prefix_old)
        if old or (entry.name.startswith(prefix_new) and _abandoned(Path(entry.path))):
            shutil.rmtree(entry.path, ignore_errors=True)


class Staging:
    """A new output folder, put together beside the current one and swapped in by
    :meth:`finish` (or removed by :meth:`abort`)."""

    def __init__(self, out: Path) -> None:
        check_output(out)
        self.out = out.absolute()
        self.out.parent.mkdir(parents=True, exist_ok=True)
        _sweep(self.out)
        self.folder: Path | None = Path(
            tempfile.mkdtemp(prefix=f".{self.out.name}-new-", dir=self.out.parent)
        )
        self.folder.chmod(0o777 & ~_umask())  # as any folder made here, not private
        self._held = _hold(self.folder)
        self._early: dict[str, memoryview] = {}
        self._writer: Background | None = None
        self._copied: dict[str, Path] = {}  # files copied before finish()
        self._made: set[Path] = set()
        self._removing: Meanwhile | None = None  # the output this one replaced, being removed

    @property
    def can_write_now(self) -> bool:
        """Whether pages may be written before :meth:`finish`: not while an early writer is
        writing what the cache held, which may be what a build renders anew."""
        return self.folder is not None and self._writer is None and not self._early

    def write_now(self, rel: str, data: bytes) -> None:
        """Write one file into the new output now (a forked worker may do this too); the
        files given to :meth:`finish` name it among those ``written``."""
        assert self.folder is not None and self.can_write_now, "cannot write now"
        target = _inside(self.folder, rel)
        _mkdir(target.parent, self._made)
        target.write_bytes(data)

    def copy_now(self, copies: Mapping[str, Path]) -> None:
        """Copy files into the new output now; finish() does not copy them again."""
        assert self.folder is not None and self.can_write_now, "cannot write now"
        for rel, source in sorted(copies.items()):
            target = _inside(self.folder, rel)
            _mkdir(target.parent, self._made)
            shutil.copyfile(source, target)
            self._copied[rel] = source

    def write_early(self, pages: Mapping[str, memoryview], stamp: str) -> None:
        """Start writing ``pages`` (as the build cache keeps them, see :func:`unpack_page`)
        that the new output will most likely hold, with ``stamp``, in a forked process where
        there is fork, so that the writing overlaps the work still to do here. :meth:`finish`
        writes what turns out different and removes what turns out not to be.
        """
        if not pages or self.folder is None:
            return
        self._early = dict(pages)
        folder = self.folder

        def write() -> None:
            made: set[Path] = set()
            for rel, kept in sorted(self._early.items()):
                target = _inside(folder, rel)
                _mkdir(target.parent, made)
                target.write_bytes(unpack_page(kept, stamp))

        writer = Background(write)
        if writer.started:
            self._writer = writer
        else:
            self._early = {}  # no process to spare: finish() writes everything

    def _written_early(self) -> dict[str, memoryview]:
        """Wait for the early writer: the pages it wrote (none if it failed or never ran)."""
        if self._writer is None:
            return {}
        writer, self._writer = self._writer, None
        return self._early if writer.wait() else {}

    def finish(
        self,
        files: SiteFiles,
        stamp: str,
        key: str | None = None,
        links: Mapping[str, Path] | None = None,
        audience: str | None = None,
    ) -> int:
        """Write ``files`` and swap the new output in; returns the number of files.

        ``key`` (the inputs' hash) is kept in the marker file, so an unchanged rebuild can skip.
        ``links`` names files of the current output that already hold what a copy would: they
        are hard-linked into the new output instead of copied (copied where links fail).
        """
        assert self.folder is not None, "finished or aborted already"
        staging = self.folder
        try:
            early = self._written_early()
            for rel in early.keys() - files.pages.keys() - files.written - files.kept.keys():
                _inside(staging, rel).unlink()
            for rel in self._copied.keys() - files.copies.keys() - files.pages.keys():
                _inside(staging, rel).unlink()
            made = self._made
            _write_pages(staging, files.pages, made)
            for rel, kept in sorted(files.kept.items()):
                if early.get(rel) is not kept:  # not written early (or written with other bytes)
                    target = _inside(staging, rel)
                    _mkdir(target.parent, made)
                    target.write_bytes(unpack_page(kept, stamp))
            links = links or {}
            can_link = True
            for rel, source in sorted(files.copies.items()):
                if self._copied.get(rel) == source:
                    continue
                target = _inside(staging, rel)
                _mkdir(target.parent, made)
                if can_link and rel in links:
                    try:
                        os.link(links[rel], target)
                        continue
                    except OSError:
                        can_link = False  # e.g. a file system without hard links: copy
                shutil.copyfile(source, target)
            marker = f"built by portfolio; stamp {stamp}\n" + (f"inputs {key}\n" if key else "")
            marker += f"{AUDIENCE_PREFIX}{audience}\n" if audience else ""
            (staging / MARKER).write_text(marker, encoding="utf-8")
            _release(staging, self._held)
            self._held = None
            old = _swap(staging, self.out)
            self.folder = None
            if old is not None:  # removed while the build goes on (see settle)
                self._removing = Meanwhile(partial(shutil.rmtree, old, ignore_errors=True))
        except BaseException:
            self.abort()
            raise
        return len(files.names())

    def settle(self) -> None:
        """Wait until the output this one replaced is removed."""
        if self._removing is not None:
            self._removing.wait()
            self._removing = None

    def abort(self) -> None:
        """Remove the new output (after the early writer, if any, has stopped)."""
        self._written_early()
        if self.folder is not None:
            _release(self.folder, self._held)
            self._held = None
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def write_site(
    files: SiteFiles,
    out: Path,
    stamp: str,
    key: str | None = None,
    links: Mapping[str, Path] | None = None,
    audience: str | None = None,
) -> int:
    """Write ``files`` to ``out`` atomically; returns the number of files written.

    ``key`` (the inputs' hash) is kept in the marker file, so an unchanged rebuild can skip.
    ``links`` names files of the current ``out`` that already hold what a copy would: they are
    hard-linked into the new output instead of copied (copied where links are not possible).
    """
    staging = Staging(out)
    try:
        return staging.finish(files, stamp, key, links, audience)
    finally:
        staging.settle()


def _write_pages(root: Path, pages: Mapping[str, bytes], made: set[Path] | None = None) -> None:
    made = set() if made is None else made
    for rel, data in sorted(pages.items()):
        target = _inside(root, rel)
        _mkdir(target.parent, made)
        target.write_bytes(data)


def write_file(out: Path, name: str, data: bytes) -> None:
    """Replace one file in the output folder atomically.

    The output then no longer holds what the build named in its marker wrote, so the marker
    forgets that build's inputs first: the next build does not take the output as up to date.
    (A PDF for one audience is never written beside a site for another: see
    :func:`check_pdf_beside`.)
    """
    check_output(out)
    out.mkdir(parents=True, exist_ok=True)
    kept = [line for line in _marker(out) if not line.startswith(KEY_PREFIX)]
    atomic_write(out / MARKER, ("\n".join(kept or ["built by portfolio"]) + "\n").encode("utf-8"))
    atomic_write(out / name, data)


#: How the files the tool writes name it: HTML ``<meta name="generator">``, PDF Creator (from
#: it), XLSX creator.
GENERATOR = "portfolio"
#: The first words of the CSV files the tool writes.
CSV_STARTS = ("Concern,Item to put right,", "Evidence,")
#: The first line of the Markdown files the tool writes.
MARKDOWN_START = f"<!-- written by {GENERATOR} -->"


def written_by_us(target: Path) -> bool:
    """Whether an existing file looks like one this tool wrote (a report, a download, an
    evidence zip): such a file may be replaced; anything else is the user's."""
    suffix = target.suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            with target.open("rb") as stream:
                head = stream.read(4096)
            return f'<meta name="generator" content="{GENERATOR}">'.encode() in head
        if suffix == ".md":
            with target.open("rb") as stream:
                return stream.read(256).startswith(MARKDOWN_START.encode())
        if suffix == ".csv":
            with target.open("rb") as stream:
                first = stream.read(256).decode("utf-8-sig", errors="replace")
            return first.startswith(CSV_STARTS)
        if suffix == ".pdf":
            import pikepdf

            with pikepdf.open(target) as pdf:
                creator = str(pdf.docinfo.get("/Creator", ""))
                title = str(pdf.docinfo.get("/Title", ""))
            return creator == GENERATOR or title.startswith("Evidence portfolio: ")
        if suffix in (".xlsx", ".zip"):
            with zipfile.ZipFile(target) as archive:
                names = set(archive.namelist())
                if suffix == ".zip":
                    return {"MANIFEST.sha256", "index.html"} <= names
                core = archive.read("docProps/core.xml") if "docProps/core.xml" in names else b""
            return f"<dc:creator>{GENERATOR}</dc:creator>".encode() in core.replace(
                b' xmlns:dc="http://purl.org/dc/elements/1.1/"', b""
            )
    except Exception:  # unreadable, or not what its name says: not ours
        return False
    return False


def check_target(target: Path, portfolio: Path, force: bool = False) -> None:
    """Refuse to write a report or an export where it could destroy something: inside the
    portfolio folder, or over a file this tool did not write (unless ``force``)."""
    shown = target.as_posix()
    if target.resolve().is_relative_to(portfolio.resolve()):
        raise PortfolioError(
            [
                Problem(
                    shown,
                    0,
                    "is inside the portfolio folder, where it could replace a record: "
                    "write it somewhere else with -o",
                )
            ]
        )
    if target.is_dir():
        raise PortfolioError([Problem(shown, 0, "is a folder: name a file to write with -o")])
    if target.exists() and not force and not written_by_us(target):
        raise PortfolioError(
            [
                Problem(
                    shown,
                    0,
                    "exists and was not written by portfolio: choose another name with -o, or "
                    "add --force to replace it",
                )
            ]
        )


def atomic_write(target: Path, data: bytes) -> None:
    """Write one file so that readers see the old bytes or the new, never half of them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # as any file made here, not private
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mkdir(folder: Path, made: set[Path]) -> None:
    if folder not in made:
        folder.mkdir(parents=True, exist_ok=True)
        made.add(folder)


def _inside(root: Path, rel: str) -> Path:
    # Ids are checked; this is a last guard. It can go by the names alone: the staging folder
    # is new and holds only what this build made, so no link inside it can lead elsewhere.
    base = os.path.normpath(root.absolute())
    target = os.path.normpath(os.path.join(base, rel))
    if not target.startswith(base + os.sep):
        raise ValueError(f"refusing to write outside the output folder: {rel}")
    return Path(target)


def _swap(staging: Path, out: Path) -> Path | None:
    """Replace ``out`` with ``staging``: two renames. Returns where the old tree was moved, for
    the caller to remove (None when there was none).

    Hidden entries of ``out`` that the build did not write (a ``.git`` used to publish the
    site, say) are moved into the new output first, as they are: a build never deletes them.
    """
    if not out.exists():
        staging.rename(out)
        return None
    kept = [
        entry.name
        for entry in os.scandir(out)
        if entry.name.startswith(".") and entry.name != MARKER
    ]
    moved: list[str] = []
    try:
        for name in kept:
            os.rename(out / name, staging / name)
            moved.append(name)
    except BaseException:
        for name in moved:
            os.rename(staging / name, out / name)
        raise
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        old.rename(out)
        for name in moved:
            os.rename(staging / name, out / name)
        raise
    return old


_HOLD = ".portfolio-staging"  # held open (and locked) by the build staging into the folder

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only

    def _hold(folder: Path) -> int | None:
        return None

    def _release(folder: Path, held: int | None) -> None:
        return None

    def _abandoned(folder: Path) -> bool:
        return False  # without POSIX locks, another build's staging cannot be told apart

else:
    import fcntl

    def _hold(folder: Path) -> int | None:
        """Lock a file in the staging folder for as long as this build uses the folder."""
        try:
            handle = os.open(folder / _HOLD, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None
        return handle

    def _release(folder: Path, held: int | None) -> None:
        (folder / _HOLD).unlink(missing_ok=True)
        if held is not None:
            os.close(held)

    def _abandoned(folder: Path) -> bool:
        """Whether no running build holds a staging folder (a build killed before it finished
        left it). One that holds no lock file is abandoned once it is an hour old."""
        try:
            handle = os.open(folder / _HOLD, os.O_RDWR)
        except FileNotFoundError:
            try:
                return time.time() - folder.stat().st_mtime > 3600
            except OSError:
                return False
        except OSError:
            return False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a build is writing into it now
        finally:
            os.close(handle)
        return True
