"""Reading one record file: parse its front matter, validate it into a record model.

This is the load stage's per-item work: :func:`read_record` reads one file and nothing else.
Which files need reading (the build cache keeps files parsed before) and how many processes
share them is decided around it (generator.pipeline, generator.cache.records).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from generator.errors import Problems
from generator.load.sources import SourceFile, load_file
from generator.load.validate import validate
from generator.model import Concern, Evidence, Review

MODELS: dict[str, Any] = {"concerns": Concern, "evidence": Evidence, "governance": Review}


class RecordFile(NamedTuple):
    """A record file to read: its kind (folder), path, name in the portfolio folder, and name
    in messages."""

    kind: str
    path: Path
    rel: str
    display: str


class Read(NamedTuple):
    """A record file as read: its source (None when it could not be read), its record (None
    when it is not valid), and, when it is not valid, the ids it names (so references to them
    are not reported as well)."""

    source: SourceFile | None
    record: Any
    ids: dict[str, str]


#: Called with the text of a file as it is read, and the SHA-256 of its bytes.
TextHook = Callable[[str, bytes], None]


def read_record(job: RecordFile, problems: Problems, on_text: TextHook | None = None) -> Read:
    """Parse and validate one record file; ``on_text`` sees its text as it is read (the
    privacy check uses this, so that it need not read the file again)."""
    source = load_file(job.path, job.rel, job.display, job.kind, problems, on_text)
    if source is None:
        return Read(None, None, ids_in_text(job.path))
    record = validate(MODELS[job.kind], source, problems)
    if record is None:
        return Read(source, None, raw_ids(job.kind, source.data))
    # The record holds what the fields say: the fields as read are not kept, which would
    # double what a large portfolio holds in memory and in the build cache.
    source.data = {}
    return Read(source, record, {})


def raw_ids(kind: str, data: dict[str, Any]) -> dict[str, str]:
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


def ids_in_text(path: Path) -> dict[str, str]:
    """Ids written in a file that could not be read as YAML, found line by line.

    Their kind is unknown ("*"), so any reference to them is taken as resolved: the file's
    own error is what the user needs to fix first.
    """
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return {}
    return {match: "*" for match in _ID_LINE.findall(text)}
