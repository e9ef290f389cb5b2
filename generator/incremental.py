"""Unchanged rebuilds: a build whose inputs are all as they were last time writes nothing.

The key is a hash of every file in the portfolio folder, of the tool's own code and theme, and
of the options that shape the output. It is computed from bytes alone, before anything is
parsed, so an unchanged rebuild costs about as much as reading the files once. The key of the
last build is kept in the output folder's marker file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from generator import __version__
from generator.write import MARKER

KEY_PREFIX = "inputs "


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def input_key(root: Path, options: Mapping[str, object]) -> str:
    """A hash of everything a build of ``root`` with ``options`` depends on."""
    from generator.site import templates_dir

    digest = hashlib.sha256(f"portfolio {__version__}\n".encode())
    # Without an as_of in portfolio.yaml, "today" is an input too.
    digest.update(f"today {date.today().isoformat()}\n".encode())
    for name, value in sorted(options.items()):
        digest.update(f"{name}={value!r}\n".encode())
    package = Path(__file__).resolve().parent
    for label, folder in (("portfolio", root), ("code", package), ("theme", templates_dir())):
        for path in _files(folder):
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def up_to_date(out: Path, key: str) -> bool:
    """Whether ``out`` was written by a build with the same key."""
    marker = out / MARKER
    try:
        lines = marker.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return f"{KEY_PREFIX}{key}" in lines
