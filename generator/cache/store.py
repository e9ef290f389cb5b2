"""Incremental builds: a build does again only what its changes affect.

Two mechanisms, from cheapest to finest:

* **Unchanged rebuilds** write nothing. The key is a hash of every file in the portfolio folder
  (but the output and the cache), of the tool's own code and theme, of Python's version and
  the installed libraries, and of the options that shape the output, computed from bytes
  alone before anything is parsed. The key of the last build is kept in the output folder's
  marker file.
* **The build cache** is a folder beside the output (never inside it: the site is what gets
  shared), by default ``.portfolio-cache/<output name>`` next to the output folder. It holds
  the parsed and validated record of every source file, keyed by the hash of the file's bytes,
  and every page, search index entry and download, keyed by a hash of everything it shows
  (:class:`PageKeys`). A build parses only the files whose bytes changed and renders only the
  pages whose key changed; everything else comes from the cache, so the output is the same
  as a clean build's. Pages are kept with a placeholder where the build stamp goes (the stamp
  changes with any change), and the stamp is put in as they are written.

The cache is an index file and a pack file of byte strings, each with a CRC (and a folder of
Jinja's compiled templates), locked while a build uses it. Beside them, the hash of every input
file is kept with the file's size, times and inode, so that the next build reads again only
the files whose state changed. A cache that is damaged,
truncated, unreadable or made by another version of the tool or its libraries is not used:
the build says why on one line and does everything, then writes a new cache. It belongs to
the output it was made with: when that is gone, the build starts from nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import marshal
import os
import pickle
import re
import stat
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from generator import __version__
from generator.output.write import MARKER
from generator.output.write import STAMP_TOKEN as STAMP_TOKEN

if TYPE_CHECKING:
    from generator.check.privacy import Scanned
    from generator.check.rules import Finding
    from generator.load.link import DecisionRef
    from generator.model import Concern, Evidence, Review
    from generator.render.site import SiteRenderer

KEY_PREFIX = "inputs "
CACHE_FOLDER = ".portfolio-cache"
CACHE_FORMAT = 2  # 2: pages kept compressed
INDEX_NAME = "index.pickle"
LOCK_NAME = "lock"
TEMPLATES_NAME = "templates"  # Jinja's compiled templates
STATES_NAME = "files.pickle"  # the hash of each input file as its size, times and inode were
STATES_FORMAT = 1
PACK_PREFIX = "pack-"
PACK_SUFFIX = ".bin"
COMPACT_FROM = 16 * 1024 * 1024  # bytes of dead entries before the pack is written anew
_PACK_NAME = re.compile(rf"{PACK_PREFIX}[0-9]+{re.escape(PACK_SUFFIX)}")

PAGE_PREFIX = "page/"
SCANS_NAME = "privacy/scans"  # what scanning for personal identifiers found, by file hash

#: Get a stored byte string by name when its key matches, else make it (and store it).
Memo = Callable[[str, bytes, Callable[[], bytes]], bytes]


def content_key(*parts: object) -> bytes:
    """A hash of ``parts``: strings, numbers, bytes, None, and tuples or lists of them."""
    try:
        # Version 2 of marshal writes values only (no references, no interning flags), so
        # equal values give equal bytes whatever objects hold them; it is several times
        # quicker than repr on the digests most keys are made of.
        data = marshal.dumps(cast(Any, parts), 2)
    except ValueError:  # another type: its repr
        data = b"r" + repr(parts).encode("utf-8", errors="surrogatepass")
    return hashlib.sha256(data).digest()


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """What a build reads, hashed: the key of the whole build and the hash of each file."""

    key: str  # every input and option: equal keys mean an unchanged rebuild
    code: str  # the tool's code and theme, Python and libraries: a cache made with others is
    # not used
    root: Path  # the portfolio folder, resolved (as attachment paths are)
    theme: Path  # the theme folder, as site.templates_dir() gives it
    files: dict[str, bytes] = field(default_factory=dict)  # portfolio file -> SHA-256
    theme_files: dict[str, bytes] = field(default_factory=dict)  # theme file -> SHA-256
    # What the privacy scan finds in the text files that could be attachments and were read
    # to be hashed, by SHA-256 (see privacy.ScanMemo): the check need not read them again.
    scanned: Scanned = field(default_factory=dict)

    def digest_of(self, path: Path) -> bytes | None:
        """The SHA-256 of a portfolio or theme file as it was read, if it was."""
        name = str(path)
        for folder, digests in ((self.root, self.files), (self.theme, self.theme_files)):
            prefix = os.path.join(folder, "")
            if name.startswith(prefix):
                return digests.get(name[len(prefix) :].replace(os.sep, "/"))
        return None


def _walk(folder: Path, skip: Callable[[Path], bool]) -> list[tuple[str, str, os.stat_result]]:
    """Every file under ``folder`` as (path relative to it with '/', absolute path, its
    status), in order. On strings: a large portfolio has tens of thousands of files."""
    found: list[tuple[str, str, os.stat_result]] = []
    base = os.path.abspath(folder)
    for current, dirs, names in os.walk(base):
        dirs[:] = [
            d for d in dirs if d != "__pycache__" and not skip(Path(os.path.join(current, d)))
        ]
        inside = os.path.relpath(current, base)
        prefix = "" if inside == os.curdir else inside.replace(os.sep, "/") + "/"
        for name in names:
            path = os.path.join(current, name)
            try:
                status = os.stat(path)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(status.st_mode):
                found.append((prefix + name, path, status))
    found.sort(key=lambda item: item[0])
    return found


# A file's identity and state: size, modification and change times, inode. Equal states mean
# equal bytes, unless the file changed within the clock's resolution of being looked at:
# files changed less than RACY_NS before a scan are hashed again next time (as git does).
_State = tuple[int, int, int, int]
RACY_NS = 2_000_000_000


def _state(status: os.stat_result) -> _State:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _read_states(path: Path) -> dict[str, tuple[_State, bytes]]:
    """The hashes of files as a scan left them, by path (empty when it cannot be read)."""
    try:
        states = _NoGlobals(io.BytesIO(path.read_bytes())).load()
    except Exception:  # missing, unreadable or damaged: hash everything
        return {}
    if not (isinstance(states, dict) and states.get("format") == STATES_FORMAT):
        return {}
    files = states.get("files")
    if not isinstance(files, dict):
        return {}
    return {name: known for name, known in files.items() if _is_state(name, known)}


def _is_state(name: object, known: object) -> bool:
    if not (isinstance(name, str) and isinstance(known, tuple) and len(known) == 2):
        return False
    state, digest = known
    return (
        isinstance(state, tuple)
        and len(state) == 4
        and all(isinstance(n, int) for n in state)
        and isinstance(digest, bytes)
        and len(digest) == 32
    )


def _write_states(folder: Path, states: dict[str, tuple[_State, bytes]]) -> None:
    """Keep the hashes of files for the next scan, in the cache folder, when it is one (or
    is not there yet); nothing is lost but time when it cannot be written."""
    try:
        if folder.exists() and not all(_ours(p.name) for p in folder.iterdir()):
            return  # not a build cache: BuildCache.open says so, and nothing is written here
        folder.mkdir(parents=True, exist_ok=True)
        data = pickle.dumps(
            {"format": STATES_FORMAT, "files": states}, protocol=pickle.HIGHEST_PROTOCOL
        )
        handle, temporary = tempfile.mkstemp(prefix=".states-", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, folder / STATES_NAME)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


_METADATA = (".dist-info", ".egg-info")


def _environment() -> str:
    """Python's version and every installed distribution with its version (the names of their
    metadata folders): the libraries that parse and render are inputs too."""
    names: list[str] = []
    for entry in sys.path:
        if entry:  # not the working folder, which changes with where the command is run
            with contextlib.suppress(OSError):
                names += [n for n in os.listdir(entry) if n.endswith(_METADATA)]
    return "\n".join([sys.version, *sorted(names)])


def scan_inputs(
    root: Path,
    options: Mapping[str, object],
    out: Path | None = None,
    cache: Path | None = None,
    remember: bool = False,
) -> Inputs:
    """Hash everything a build of ``root`` with ``options`` depends on.

    The output folder, the cache (and the default cache folder) and the build's temporary
    folders are left out when they lie inside the portfolio folder: they are what a build
    writes, not what it reads. With ``remember``, the hashes are kept in the ``cache``
    folder with each file's size, times and inode, and a file whose state is unchanged since
    the last scan is not read again.
    """
    from generator.check.privacy import TEXT_ATTACHMENTS, scan_text
    from generator.load.sources import record_kind
    from generator.render.site import templates_dir

    written = {p.absolute() for p in (out, cache) if p is not None}
    temporary: tuple[str, ...] = ()
    if out is not None:  # the folders write.write_site stages and swaps the output in
        temporary = (f".{out.absolute().name}-new-", f".{out.absolute().name}-old-")

    def skip(folder: Path) -> bool:
        folder = folder.absolute()
        if folder in written:
            return True
        return (
            out is not None
            and folder.parent == out.absolute().parent
            and (folder.name.startswith(temporary) or folder.name == CACHE_FOLDER)
        )

    environment = _environment()
    digest = hashlib.sha256(f"portfolio {__version__}\n{environment}\n".encode())
    code = hashlib.sha256(f"portfolio {__version__} cache {CACHE_FORMAT}\n{environment}\n".encode())
    # Without an as_of in portfolio.yaml, "today" is an input too.
    digest.update(f"today {date.today().isoformat()}\n".encode())
    for name, value in sorted(options.items()):
        digest.update(f"{name}={value!r}\n".encode())
    package = Path(__file__).resolve().parent.parent
    theme = templates_dir()
    inputs = Inputs("", "", root.resolve(), theme)
    folders = (
        ("portfolio", root, inputs.files),
        ("code", package, None),
        ("theme", theme, inputs.theme_files),
    )
    known = _read_states(cache / STATES_NAME) if remember and cache is not None else {}
    states: dict[str, tuple[_State, bytes]] = {}
    settled = time.time_ns() - RACY_NS
    for label, folder, kept in folders:
        for rel, path, status in _walk(folder, skip if label == "portfolio" else lambda _: False):
            state = _state(status)
            found = known.get(path)
            if found is not None and found[0] == state:
                file_digest = found[1]
            else:
                with open(path, "rb") as stream:
                    data = stream.read()
                file_digest = hashlib.sha256(data).digest()
                if (
                    label == "portfolio"
                    and os.path.splitext(path)[1].lower() in TEXT_ATTACHMENTS
                    and record_kind(rel) is None  # records are scanned as they are parsed
                ):
                    text = data.decode("utf-8-sig", errors="replace")
                    inputs.scanned[file_digest] = scan_text(text)
            if status.st_mtime_ns < settled and status.st_ctime_ns < settled:
                states[path] = (state, file_digest)
            line = f"{label}/{rel}\0".encode()
            digest.update(line)
            digest.update(file_digest)
            if kept is not None:
                kept[rel] = file_digest
            if label != "portfolio":
                code.update(line)
                code.update(file_digest)
    inputs.key = digest.hexdigest()
    inputs.code = code.hexdigest()
    if remember and cache is not None and states != known:
        _write_states(cache, states)
    return inputs


def built_with(out: Path) -> str | None:
    """The key of the build that wrote ``out``, if it says."""
    try:
        lines = (out / MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    keys = [line.removeprefix(KEY_PREFIX) for line in lines if line.startswith(KEY_PREFIX)]
    return keys[0] if keys else None


def up_to_date(out: Path, key: str) -> bool:
    """Whether ``out`` was written by a build with the same key."""
    return built_with(out) == key


def default_cache_dir(out: Path) -> Path:
    """Where the cache of output folder ``out`` is kept: beside it, never inside it."""
    out = out.absolute()
    return out.parent / CACHE_FOLDER / (out.name or "site")


# --- the cache ---------------------------------------------------------------------------------


class _Damaged(Exception):
    """The cache's files cannot be used as they are."""


class _NoGlobals(pickle.Unpickler):
    """Reads the index: plain containers, strings, numbers and bytes, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected {module}.{name}")


class _Records(pickle.Unpickler):
    """Reads a cached record: the record models and dates, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "generator.model" or (module, name) == ("datetime", "date"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name}")


# name -> (key, offset in the pack, length, CRC-32, extra data kept in the index)
_Entry = tuple[bytes, int, int, int, Any]
# output file -> (SHA-256 of its source, size, modification time in ns) as last written
_Written = tuple[bytes, int, int]


class BuildCache:
    """The build cache of one output folder: byte strings by name, each valid for one key.

    Open it with :meth:`open`, which holds a lock on it until :meth:`close`; entries not
    used by a build are dropped when it is saved.
    """

    def __init__(self, folder: Path, code: str, lock: int) -> None:
        self.folder = folder
        self.code = code
        self._lock = lock
        self._entries: dict[str, _Entry] = {}
        self._pack = b""
        self._pack_name = ""
        self._generation = 0
        self._new: dict[str, tuple[bytes, bytes, Any]] = {}
        self._used: set[str] = set()
        self._kept: dict[str, memoryview] = {}  # what kept_pages() gave, by site path
        self.written: dict[str, _Written] = {}
        self.output: str | None = None  # the key of the build that wrote the output last
        self.rendered = 0  # pages rendered by this build
        self.reused = 0  # pages taken from the cache

    # opening and saving

    @classmethod
    def open(cls, folder: Path, code: str, out: Path) -> tuple[BuildCache | None, str | None]:
        """The cache in ``folder`` for code ``code`` and output ``out``, and a note when it
        could not be used.

        Returns no cache when the folder cannot hold one (it is a file, holds other files,
        cannot be created, or another build holds it); an empty cache when there was none, or
        the one there was damaged, unreadable or made by other code. A cache belongs to the
        output its build wrote: when ``out`` is gone or another build wrote it since, the cache
        starts empty too, so deleting the output is how to build from nothing.
        """
        shown = folder.as_posix()
        if folder.exists() and not folder.is_dir():
            return None, f"{shown} is a file, not a build cache; building without the cache"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            others = [p.name for p in folder.iterdir() if not _ours(p.name)]
        except OSError as exc:
            return None, f"cannot use the build cache {shown} ({exc.strerror}); building without it"
        if others:
            return None, (
                f"{shown} holds files that are not the build cache's ({others[0]}); "
                "building without the cache"
            )
        try:
            lock = _lock(folder / LOCK_NAME)
        except OSError as exc:
            return None, f"cannot use the build cache {shown} ({exc.strerror}); building without it"
        if lock is None:
            return None, f"the build cache {shown} is in use by another build; building without it"
        cache = cls(folder, code, lock)
        try:
            found = cache._read()
        except OSError as exc:
            return cache, f"the build cache {shown} cannot be read ({exc.strerror}); building all"
        except _Damaged as exc:
            cache._reset()
            return cache, f"the build cache {shown} is damaged ({exc}); building all"
        if found == "foreign":
            return cache, (
                f"the build cache {shown} was made by another version of portfolio, its theme "
                "or its libraries; building all"
            )
        if found == "ok" and (cache.output is None or cache.output != built_with(out)):
            cache._reset()
        return cache, None

    def _reset(self) -> None:
        self._entries, self._pack, self.written, self.output = {}, b"", {}, None

    def _read(self) -> str:
        """Read the index and the pack; 'none', 'foreign' or 'ok'."""
        index_path = self.folder / INDEX_NAME
        if not index_path.exists():
            return "none"
        raw = index_path.read_bytes()
        try:
            index = _NoGlobals(io.BytesIO(raw)).load()
        except Exception as exc:  # any way a damaged pickle fails
            raise _Damaged("its index cannot be read") from exc
        if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
            if isinstance(index, dict) and "format" in index:
                return "foreign"
            raise _Damaged("its index is not a cache index")
        if index.get("code") != self.code:
            return "foreign"
        entries = index.get("entries")
        written = index.get("written")
        pack_name = index.get("pack")
        generation = index.get("generation")
        output = index.get("output")
        if not (
            isinstance(entries, dict)
            and all(_is_entry(e) for e in entries.values())
            and isinstance(written, dict)
            and all(_is_written(w) for w in written.values())
            and isinstance(pack_name, str)
            and (pack_name == "" or _PACK_NAME.fullmatch(pack_name) is not None)
            and isinstance(generation, int)
            and isinstance(output, str)
        ):
            raise _Damaged("its index is incomplete")
        try:
            pack = (self.folder / pack_name).read_bytes() if entries else b""
        except FileNotFoundError:
            raise _Damaged("its pack file is missing") from None
        view = memoryview(pack)
        for _, offset, length, crc, _ in entries.values():
            if offset < 0 or length < 0 or offset + length > len(pack):
                raise _Damaged("its pack file is truncated")
            if zlib.crc32(view[offset : offset + length]) != crc:
                raise _Damaged("its pack file does not match its checksums")
        self._entries, self._pack, self._pack_name = entries, pack, pack_name
        self._generation, self.written, self.output = generation, written, output
        return "ok"

    def save(self, output: str) -> None:
        """Write the entries this build used or made, for the output it wrote with key
        ``output``; drop the rest."""
        # Left by a build that was stopped (one that is writing its file states now only
        # loses them if they go).
        for stale in [*self.folder.glob(".index-*"), *self.folder.glob(".states-*")]:
            stale.unlink(missing_ok=True)
        kept = {name: e for name, e in self._entries.items() if name in self._used}
        kept = {name: e for name, e in kept.items() if name not in self._new}
        live = sum(e[2] for e in kept.values())
        pack_path = self.folder / self._pack_name if self._pack_name else None
        size = pack_path.stat().st_size if pack_path and pack_path.exists() else 0
        entries: dict[str, _Entry] = {}
        if pack_path is None or size - live > max(COMPACT_FROM, live):
            # Write the pack anew: what is kept from the old one, then the new entries.
            self._generation += 1
            while (self.folder / f"{PACK_PREFIX}{self._generation}{PACK_SUFFIX}").exists():
                self._generation += 1  # left by a cache that could not be used
            self._pack_name = f"{PACK_PREFIX}{self._generation}{PACK_SUFFIX}"
            pack_path = self.folder / self._pack_name
            with pack_path.open("wb") as stream:
                for name, (key, offset, length, crc, extra) in kept.items():
                    entries[name] = (key, stream.tell(), length, crc, extra)
                    stream.write(self._pack[offset : offset + length])
                self._append(stream, entries)
        else:
            entries.update(kept)
            with pack_path.open("ab") as stream:
                stream.seek(0, os.SEEK_END)
                self._append(stream, entries)
        index = {
            "format": CACHE_FORMAT,
            "code": self.code,
            "version": __version__,
            "generation": self._generation,
            "pack": self._pack_name,
            "entries": entries,
            "written": self.written,
            "output": output,
        }
        data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        handle, temporary = tempfile.mkstemp(prefix=".index-", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self.folder / INDEX_NAME)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        for old in self.folder.iterdir():
            if old.name.startswith(PACK_PREFIX) and old.name != self._pack_name:
                with contextlib.suppress(OSError):  # only disk space is lost if it stays
                    old.unlink()

    def _append(self, stream: io.BufferedWriter, entries: dict[str, _Entry]) -> None:
        for name, (key, data, extra) in self._new.items():
            entries[name] = (key, stream.tell(), len(data), zlib.crc32(data), extra)
            stream.write(data)

    def templates(self) -> Path:
        """The folder for compiled templates (Jinja checks their sources itself)."""
        folder = self.folder / TEMPLATES_NAME
        folder.mkdir(exist_ok=True)
        return folder

    def close(self) -> None:
        """Release the lock (the cache's files stay)."""
        _unlock(self._lock)

    # entries

    def get(self, name: str, key: bytes) -> tuple[bytes, Any] | None:
        """The bytes and extra data stored as ``name``, when stored with ``key``."""
        entry = self._entries.get(name)
        if entry is None or entry[0] != key:
            return None
        self._used.add(name)
        _, offset, length, _, extra = entry
        return self._pack[offset : offset + length], extra

    def put(self, name: str, key: bytes, data: bytes, extra: Any = None) -> None:
        """Store ``data`` (and ``extra``, plain data kept in the index) as ``name``."""
        self._new[name] = (key, data, extra)
        self._used.add(name)

    def kept_pages(self) -> dict[str, memoryview]:
        """Every page the cache holds, by site path, as kept (see write.unpack_page): views
        of the pack, not copies."""
        view = memoryview(self._pack)
        self._kept = {
            name.removeprefix(PAGE_PREFIX): view[offset : offset + length]
            for name, (_, offset, length, _, _) in self._entries.items()
            if name.startswith(PAGE_PREFIX)
        }
        return self._kept

    def page(self, path: str, key: bytes) -> tuple[memoryview, tuple[str, ...]] | None:
        """A cached page as kept (see write.unpack_page) and the files it copies, if its key
        holds: the same view :meth:`kept_pages` gave, when it gave one."""
        entry = self._entries.get(PAGE_PREFIX + path)
        if entry is None or entry[0] != key:
            return None
        self._used.add(PAGE_PREFIX + path)
        key, offset, length, _, copies = entry
        found = self._kept.get(path)
        if found is None:
            found = memoryview(self._pack)[offset : offset + length]
        return found, copies

    def keep_page(
        self, path: str, key: bytes, data: bytes, copies: Iterable[str], compressed: bool = False
    ) -> None:
        """Store a page rendered with :data:`STAMP_TOKEN` for its stamp (``compressed`` with
        zlib already, or not); pages are kept compressed."""
        packed = data if compressed else zlib.compress(data, 1)
        self.put(PAGE_PREFIX + path, key, packed, tuple(sorted(copies)))

    def memo(self, name: str, key: bytes, make: Callable[[], bytes]) -> bytes:
        """The bytes stored as ``name`` with ``key``, else ``make()``, stored for next time."""
        found = self.get(name, key)
        if found is not None:
            return found[0]
        data = make()
        self.put(name, key, data)
        return data

    def record(self, name: str, key: bytes) -> Any:
        """A cached parsed record, or None (also when it cannot be read back)."""
        found = self.get(name, key)
        if found is None:
            return None
        try:
            return _Records(io.BytesIO(found[0])).load()
        except Exception:  # a miss: the file is parsed again
            self._used.discard(name)
            return None

    def keep_record(self, name: str, key: bytes, parts: object) -> None:
        """Store a parsed record (plain data and record models), or the bytes a worker
        pickled it to already."""
        if not isinstance(parts, bytes):
            parts = pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)
        self.put(name, key, parts)

    def scans(self) -> Scanned:
        """What earlier builds found scanning files for personal identifiers, by the SHA-256
        of each file's bytes (see privacy.ScanMemo); empty when it cannot be read back."""
        found = self.get(SCANS_NAME, b"")
        if found is None:
            return {}
        try:
            scans = _NoGlobals(io.BytesIO(found[0])).load()
        except Exception:  # any way a damaged pickle fails: scan again
            return {}
        if not isinstance(scans, dict):
            return {}
        return {
            digest: found
            for digest, found in scans.items()
            if isinstance(digest, bytes)
            and isinstance(found, tuple)
            and all(
                isinstance(item, tuple)
                and len(item) == 2
                and isinstance(item[0], int)
                and isinstance(item[1], str)
                for item in found
            )
        }

    def keep_scans(self, scans: Scanned) -> None:
        """Store what this build found scanning files for personal identifiers."""
        self.put(SCANS_NAME, b"", pickle.dumps(scans, protocol=pickle.HIGHEST_PROTOCOL))

    # copied files

    def links(self, copies: Mapping[str, Path], out: Path, inputs: Inputs) -> dict[str, Path]:
        """The files of ``copies`` that ``out`` already holds as they are now: link, not copy."""
        found: dict[str, Path] = {}
        for rel, source in copies.items():
            written = self.written.get(rel)
            if written is None or written[0] != inputs.digest_of(source):
                continue
            target = out / rel
            try:
                stat = target.stat()
            except OSError:
                continue
            if (stat.st_size, stat.st_mtime_ns) == written[1:]:
                found[rel] = target
        return found

    def remember_copies(self, copies: Mapping[str, Path], out: Path, inputs: Inputs) -> None:
        """Note the files copied into ``out``, so the next build can link them."""
        self.written = {}
        for rel, source in copies.items():
            digest = inputs.digest_of(source)
            if digest is None:
                continue
            try:
                stat = (out / rel).stat()
            except OSError:
                continue
            self.written[rel] = (digest, stat.st_size, stat.st_mtime_ns)


def _is_entry(entry: object) -> bool:
    return (
        isinstance(entry, tuple)
        and len(entry) == 5
        and isinstance(entry[0], bytes)
        and all(isinstance(n, int) for n in entry[1:4])
    )


def _is_written(written: object) -> bool:
    return (
        isinstance(written, tuple)
        and len(written) == 3
        and isinstance(written[0], bytes)
        and all(isinstance(n, int) for n in written[1:])
    )


def _ours(name: str) -> bool:
    """Whether a file in the cache folder may be there: one the cache writes, or one that
    file browsers leave (hidden files, Thumbs.db, desktop.ini)."""
    if name in (INDEX_NAME, LOCK_NAME, TEMPLATES_NAME, STATES_NAME, "Thumbs.db", "desktop.ini"):
        return True
    if name.startswith("."):
        return True
    return name.startswith(PACK_PREFIX) and name.endswith(PACK_SUFFIX)


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(path: Path) -> int | None:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(handle)
            return None
        return handle

    def _unlock(handle: int) -> None:
        try:
            msvcrt.locking(handle, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(handle)

else:
    import fcntl

    def _lock(path: Path) -> int | None:
        """An open handle holding the lock on ``path``, or None when another process holds it."""
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            return None
        return handle

    def _unlock(handle: int) -> None:
        os.close(handle)  # closing the file releases the lock


# --- what each page shows ----------------------------------------------------------------------


class PageKeys:
    """The key of each page: a hash of everything its template shows.

    Worked out from the templates: a page's key holds the records it shows (as much of each as
    it shows), the site paths it links to, the findings and statuses it prints, and what every
    page shows (settings, framework, audience, as-of date). A page whose key is unchanged
    would render to the same bytes. A template not listed here has no key: it always renders.
    """

    def __init__(self, renderer: SiteRenderer) -> None:
        from generator.render.markdown import references

        self._references = references
        self.r = renderer
        self.p = p = renderer.portfolio
        self.status = renderer.build.status
        self.by_id = renderer.paths.by_id
        self._memo: dict[tuple[str, str], bytes] = {}
        self.site = content_key(
            "site",
            p.audience,
            p.as_of.isoformat(),
            bool(renderer.env.globals.get("with_pdf")),
            p.settings.model_dump_json(),
            p.framework.model_dump_json(),
        )
        self._by_template: dict[str, Callable[[dict[str, Any]], object]] = {
            "concern.html": self.concern_page,
            "evidence.html": self.evidence_page,
            "review.html": self.review_page,
            "statement.html": self.statement_page,
            "key_question.html": self.key_question_page,
            "role.html": self.role_page,
            "home.html": lambda _: (self.all_concerns(), self.all_findings(), self.coverage()),
            "concerns.html": lambda _: [self.concern_row(c) for c in p.concerns.values()],
            "tracker.html": lambda _: self.all_concerns(),
            "findings.html": lambda _: self.all_findings(),
            "framework.html": lambda _: (self.coverage(), self.statement_counts()),
            "evidence_index.html": lambda _: [self.register_row(e) for e in p.evidence.values()],
            "reviews.html": lambda _: [self.review_row(r) for r in p.reviews.values()],
            "roles.html": lambda _: self.role_counts(),
            "search.html": lambda _: (),
            "downloads.html": lambda context: list(context["exports"]),
        }

    def key(self, path: str, template: str, context: dict[str, Any]) -> bytes | None:
        """The key of the page at ``path``, or None when it must always be rendered."""
        shows = self._by_template.get(template)
        if shows is None:
            return None
        return content_key(self.site, path, template, shows(context))

    # pages

    def concern_page(self, context: dict[str, Any]) -> object:
        concern: Concern = context["concern"]
        p = self.p
        neighbours = cast(
            "dict[str, tuple[Concern | None, Concern | None]]", self.r.env.globals["neighbours"]
        )
        decisions: list[DecisionRef] = context["decisions"]
        return (
            self.concern_card(concern),
            self.body(concern.id, concern.body),
            [None if c is None else self.concern_link(c) for c in neighbours[concern.id]],
            [self.concern_link(p.concerns[other]) for other in p.related.get(concern.id, [])],
            [self.evidence_row(e) for e in p.evidence_of_concern[concern.id]],
            [(self.path(d.review.id), self.front(d.review), d.index) for d in decisions],
        )

    def evidence_page(self, context: dict[str, Any]) -> object:
        evidence: Evidence = context["evidence"]
        p = self.p
        return (
            self.register_row(evidence),
            self.body(evidence.id, evidence.body),
            self.findings(self.r.build.findings_for(evidence.id)),
            [
                (
                    cite.concern.id,
                    self.path(cite.concern.id),
                    cite.concern.title,
                    cite.target,
                    self.path(cite.target),
                    cite.role,
                )
                for cite in p.citations[evidence.id]
            ],
        )

    def review_page(self, context: dict[str, Any]) -> object:
        review: Review = context["review"]
        p = self.p
        about = []
        for decision in review.decisions:
            record = p.concerns.get(decision.ref) or p.actions[decision.ref][1]
            about.append((decision.ref, self.path(decision.ref), record.title))
        return (
            self.review_row(review),
            self.body(review.id, review.body),
            self.findings(self.r.build.findings_for(review.id)),
            about,
        )

    def statement_page(self, context: dict[str, Any]) -> object:
        slug: str = context["statement"].slug
        p = self.p
        return (
            slug,
            self.findings(self.r.build.findings_for(slug)),
            [self.concern_row(c) for c in p.concerns_by_statement[slug]],
            [self.evidence_row(e) for e in p.evidence_by_statement[slug]],
        )

    def key_question_page(self, context: dict[str, Any]) -> object:
        p = self.p
        return (
            context["kq"].slug,
            [(row[1].slug, row[2], row[3]) for row in context["coverage"]],
            [
                (
                    st.slug,
                    len(p.evidence_by_statement[st.slug]),
                    [self.concern_row(c) for c in p.concerns_by_statement[st.slug]],
                )
                for st in context["kq"].statements
            ],
        )

    def role_page(self, context: dict[str, Any]) -> object:
        items = context["items"]
        return (
            context["role_name"],
            [self.concern_row(c) for c in items["concerns"]],
            [
                (self.path(c.id), self.front(c), a.id, repr(self.status[a.id]))
                for c, a in items["actions"]
            ],
            [self.evidence_row(e) for e in items["evidence"]],
            [(r.id, self.path(r.id)) for r in items["chaired"]],
            [(r.id, self.path(r.id)) for r in items["attended"]],
            [(i, self.path(i)) for i in items["closed"]],
        )

    # what several pages show about one record

    def path(self, record_id: str) -> str | None:
        """The site path of a record (None: not in this output, shown as withheld)."""
        return self.by_id.get(record_id)

    def front(self, record: Concern | Evidence | Review) -> bytes:
        """Every field of a record but its body (as this audience sees it)."""
        found = self._memo.get(("front", record.id))
        if found is None:
            found = content_key(record.model_dump_json())
            self._memo[("front", record.id)] = found
        return found

    def body(self, record_id: str, text: str) -> object:
        """A record's body, with where each image or link in it points now."""
        source = self.p.sources[record_id]
        targets: list[tuple[str, str, str | None, bool]] = []
        # Only an inline link or image ("](") or a link reference definition ("]:") can point
        # at a file; autolinks always name a scheme, so they never do.
        if "](" in text or "]:" in text:
            root = self.p.root.resolve()
            for ref in self._references(text, source.path.parent, root):
                target = ref.target
                shown = None if target is None else target.relative_to(root).as_posix()
                allowed = target is not None and self.r.may_copy(target)
                targets.append((ref.url, ref.where, shown, allowed))
        return (source.rel, content_key(text), targets)

    def concern_link(self, concern: Concern) -> object:
        return (concern.id, concern.title, self.path(concern.id))

    def concern_row(self, concern: Concern) -> object:
        """What a table of concerns shows about one."""
        return (
            self.path(concern.id),
            self.front(concern),
            repr(self.status[concern.id]),
            len(self.r.concern_findings(concern.id)),
        )

    def concern_card(self, concern: Concern) -> bytes:
        """Everything pages show about a concern but its body: fields, statuses, findings,
        quality statements and the paths of everything it refers to."""
        found = self._memo.get(("concern", concern.id))
        if found is not None:
            return found
        refs = list(concern.related)
        closures = [concern.closure] + [a.closure for a in concern.actions]
        for closure in closures:
            if closure is not None:
                refs += [*closure.evidence, closure.recorded_in or ""]
        for action in concern.actions:
            refs += action.evidence
        for measure in concern.measures:
            refs += measure.baseline.evidence
            for reading in measure.readings:
                refs += reading.evidence
        found = content_key(
            self.path(concern.id),
            self.front(concern),
            [repr(self.status[i]) for i in [concern.id, *(a.id for a in concern.actions)]],
            self.findings(self.r.concern_findings(concern.id)),
            self.p.statements_of[concern.id],
            [(ref, self.path(ref)) for ref in refs],
        )
        self._memo[("concern", concern.id)] = found
        return found

    def evidence_row(self, evidence: Evidence) -> object:
        """What a table of evidence shows about an entry."""
        return (self.path(evidence.id), self.front(evidence))

    def register_row(self, evidence: Evidence) -> bytes:
        """What the register and the entry's own page show about it, but its body."""
        found = self._memo.get(("register", evidence.id))
        if found is None:
            p = self.p
            found = content_key(
                self.evidence_row(evidence),
                p.filed_under[evidence.id],
                sorted({c.concern.id for c in p.citations[evidence.id]}),
                self.r.paths.files.get(evidence.id),
            )
            self._memo[("register", evidence.id)] = found
        return found

    def review_row(self, review: Review) -> object:
        return (self.path(review.id), self.front(review))

    def findings(self, findings: Iterable[Finding]) -> object:
        return [(f.code, f.severity, f.message, f.record, self.r.finding_url(f)) for f in findings]

    # what the pages that list everything show

    def all_concerns(self) -> bytes:
        found = self._memo.get(("all", "concerns"))
        if found is None:
            found = content_key([self.concern_card(c) for c in self.p.concerns.values()])
            self._memo[("all", "concerns")] = found
        return found

    def all_findings(self) -> bytes:
        found = self._memo.get(("all", "findings"))
        if found is None:
            found = content_key(self.findings(self.r.build.findings))
            self._memo[("all", "findings")] = found
        return found

    def coverage(self) -> object:
        return [(row[1].slug, row[2], row[3]) for row in self.r.coverage()]

    def statement_counts(self) -> object:
        p = self.p
        return [(slug, len(items)) for slug, items in p.concerns_by_statement.items()]

    def role_counts(self) -> object:
        return [
            (name, [len(items) for _, items in sorted(owned.items())])
            for name, owned in sorted(self.r.owned_by_role().items())
        ]
