"""What a build reads, hashed before anything is parsed: the key of an unchanged rebuild.

The key is a hash of every file in the portfolio folder (but the output and the cache), of the
tool's own code and theme, of Python's version and the installed libraries, and of the options
that shape the output. The key of the last build is kept in the output folder's marker file; a
build whose key is the same writes nothing. The hash of every input file is kept in the cache
folder with the file's size, times and inode, so that the next build reads again only the files
whose state changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generator import __version__
from generator.cache.store import CACHE_FORMAT, STATES_NAME, NoGlobals, make_private, ours
from generator.render.theme import templates_dir

CACHE_FOLDER = ".portfolio-cache"
STATES_FORMAT = 1


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
        states = NoGlobals(io.BytesIO(path.read_bytes())).load()
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
        if folder.exists() and not all(ours(p.name) for p in folder.iterdir()):
            return  # not a build cache: BuildCache.open says so, and nothing is written here
        make_private(folder)
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
    on_read: Callable[[str, bytes, bytes], None] | None = None,
    wants: Callable[[str], bool] | None = None,
) -> Inputs:
    """Hash everything a build of ``root`` with ``options`` depends on.

    The output folder, the cache (and the default cache folder) and the build's temporary
    folders are left out when they lie inside the portfolio folder: they are what a build
    writes, not what it reads. With ``remember``, the hashes are kept in the ``cache``
    folder with each file's size, times and inode, and a file whose state is unchanged since
    the last scan is not read again. ``on_read`` is given the name in the portfolio folder,
    the bytes and the SHA-256 of each portfolio file that is read and that ``wants`` (given
    that name) asks for (the privacy check scans text attachments this way, so that it need
    not read them again). Other files are hashed as they are read, a block at a time, so a
    large file is never held in memory.
    """
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
                wanted = label == "portfolio" and on_read is not None
                wanted = wanted and (wants is None or wants(rel))
                with open(path, "rb") as stream:
                    if wanted:
                        data = stream.read()
                        file_digest = hashlib.sha256(data).digest()
                    else:
                        file_digest = hashlib.file_digest(stream, "sha256").digest()
                if wanted and on_read is not None:
                    on_read(rel, data, file_digest)
            if status.st_mtime_ns < settled and status.st_ctime_ns < settled:
                states[path] = (state, file_digest)
            line = f"{label}/{rel}\0".encode("utf-8", "surrogateescape")  # any name
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


def default_cache_dir(out: Path) -> Path:
    """Where the cache of output folder ``out`` is kept: beside it, never inside it."""
    out = out.absolute()
    return out.parent / CACHE_FOLDER / (out.name or "site")
