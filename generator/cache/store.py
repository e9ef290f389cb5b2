"""The build cache: byte strings by name, each valid for one key, in a pack file beside an index.

The cache is a folder beside the output (never inside it: the site is what gets shared), by
default ``.portfolio-cache/<output name>`` next to the output folder. It holds the parsed record
of every source file (generator.cache.records), every page, search index entry and download as
rendered (generator.cache.pages), and what the privacy scan found in each file, each under a key
that changes when what it was made from changes. Everything in it is an index file and a pack
file of byte strings, each with a CRC (and a folder of Jinja's compiled templates), locked while
a build uses it. A cache that is damaged, truncated, unreadable or made by another version of
the tool or its libraries is not used: the build says why on one line and does everything,
then writes a new cache. It belongs to the output it was made with: when that is gone, the
build starts from nothing.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import __version__

if TYPE_CHECKING:
    from generator.check.privacy import Scanned

CACHE_FORMAT = 3  # 2: pages kept compressed; 3: with the facts each page read
INDEX_NAME = "index.pickle"
INDEX_MAGIC = b"portfolio build cache index\n"  # then the CRC-32 of the pickle, then the pickle
LOCK_NAME = "lock"
TEMPLATES_NAME = "templates"  # Jinja's compiled templates
STATES_NAME = "files.pickle"  # the hash of each input file as its size, times and inode were
PACK_PREFIX = "pack-"
PACK_SUFFIX = ".bin"
COMPACT_FROM = 16 * 1024 * 1024  # bytes of dead entries before the pack is written anew
_PACK_NAME = re.compile(rf"{PACK_PREFIX}[0-9]+{re.escape(PACK_SUFFIX)}")

PAGE_PREFIX = "page/"
SCANS_NAME = "privacy/scans"  # what scanning for personal identifiers found, by file hash


# --- the cache ---------------------------------------------------------------------------------


class _Damaged(Exception):
    """The cache's files cannot be used as they are."""


class NoGlobals(pickle.Unpickler):
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
    def open(
        cls, folder: Path, code: str, output: str | None
    ) -> tuple[BuildCache | None, str | None]:
        """The cache in ``folder`` for code ``code`` and the output that the build with key
        ``output`` wrote (None: no output, or one no build of ours wrote), and a note when it
        could not be used.

        Returns no cache when the folder cannot hold one (it is a file, holds other files,
        cannot be created, or another build holds it); an empty cache when there was none, or
        the one there was damaged, unreadable or made by other code. A cache belongs to the
        output its build wrote: when that output is gone or another build wrote it since, the cache
        starts empty too, so deleting the output is how to build from nothing.
        """
        shown = folder.as_posix()
        if folder.exists() and not folder.is_dir():
            return None, f"{shown} is a file, not a build cache; building without the cache"
        try:
            make_private(folder)
            others = [p.name for p in folder.iterdir() if not ours(p.name)]
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
        if found == "ok" and (cache.output is None or cache.output != output):
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
        if not raw.startswith(INDEX_MAGIC):
            if raw.startswith(b"\x80"):  # a pickle: an index written before indexes had a checksum
                return "foreign"
            raise _Damaged("its index cannot be read")
        data = raw[len(INDEX_MAGIC) + 4 :]
        if zlib.crc32(data).to_bytes(4, "big") != raw[len(INDEX_MAGIC) : len(INDEX_MAGIC) + 4]:
            raise _Damaged("its index cannot be read")  # never handed to the unpickler
        try:
            index = NoGlobals(io.BytesIO(data)).load()
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
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(pack_path, flags, 0o600), "wb") as stream:
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
        data = index_bytes(index)
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
        key, offset, length, _, (copies, _facts) = entry
        found = self._kept.get(path)
        if found is None:
            found = memoryview(self._pack)[offset : offset + length]
        return found, copies

    def page_facts(self, path: str) -> tuple[tuple[str, Any], ...] | None:
        """The facts a cached page read as it rendered (see cache.pages), if the cache has it."""
        entry = self._entries.get(PAGE_PREFIX + path)
        return None if entry is None else entry[4][1]

    def keep_page(
        self,
        path: str,
        key: bytes,
        data: bytes,
        copies: Iterable[str],
        facts: tuple[tuple[str, Any], ...],
        compressed: bool = False,
    ) -> None:
        """Store a page rendered with render.site.STAMP_TOKEN for its stamp (``compressed`` with
        zlib already, or not), with the facts it read; pages are kept compressed."""
        packed = data if compressed else zlib.compress(data, 1)
        self.put(PAGE_PREFIX + path, key, packed, (tuple(sorted(copies)), facts))

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
            scans = NoGlobals(io.BytesIO(found[0])).load()
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

    def links(
        self, copies: Mapping[str, Path], out: Path, digest_of: Callable[[Path], bytes | None]
    ) -> dict[str, Path]:
        """The files of ``copies`` that ``out`` already holds as they are now: link, not copy."""
        found: dict[str, Path] = {}
        for rel, source in copies.items():
            written = self.written.get(rel)
            if written is None or written[0] != digest_of(source):
                continue
            target = out / rel
            try:
                stat = target.stat()
            except OSError:
                continue
            if (stat.st_size, stat.st_mtime_ns) == written[1:]:
                found[rel] = target
        return found

    def remember_copies(
        self, copies: Mapping[str, Path], out: Path, digest_of: Callable[[Path], bytes | None]
    ) -> None:
        """Note the files copied into ``out``, so the next build can link them."""
        self.written = {}
        for rel, source in copies.items():
            digest = digest_of(source)
            if digest is None:
                continue
            try:
                stat = (out / rel).stat()
            except OSError:
                continue
            self.written[rel] = (digest, stat.st_size, stat.st_mtime_ns)


def make_private(folder: Path) -> None:
    """Make the cache folder ``folder`` if need be, readable by its owner only: the cache holds
    every page of every audience it was built for, and may sit beside an output published
    from a web server's folder."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # one made by another user stays as it is
        folder.chmod(0o700)


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


def ours(name: str) -> bool:
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


def index_bytes(index: dict[str, Any]) -> bytes:
    """An index as the cache writes it: a first line saying what it is, the CRC-32 of the
    pickle after it, and the pickle (read back only when the CRC holds)."""
    data = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    return INDEX_MAGIC + zlib.crc32(data).to_bytes(4, "big") + data
