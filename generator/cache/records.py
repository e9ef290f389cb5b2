"""The build cache around the load stage: record files parsed before are not parsed again.

A record file is kept as parsed and validated, named by the hash of its bytes (not its path: a
renamed file is not parsed again), so a build reads only the files whose bytes changed.
"""

from __future__ import annotations

import pickle
from typing import Any

from generator.cache.store import BuildCache
from generator.load.records import MODELS, Read, RecordFile
from generator.load.sources import SourceFile


def record_name(job: RecordFile, digest: bytes) -> str:
    """The cache entry of a record file with these bytes. The suffix counts, as only .md files
    have front matter."""
    return f"record/{job.kind}/{job.path.suffix == '.md'}/{digest.hex()}"


def cached(cache: BuildCache, job: RecordFile, digest: bytes | None) -> Read | None:
    """A record file as a build parsed it before, when its bytes are the same."""
    if digest is None:
        return None
    parts = cache.record(record_name(job, digest), digest)
    if not (isinstance(parts, tuple) and len(parts) == 6):
        return None
    read = unpack(parts, job, digest)
    if not isinstance(read.record, MODELS[job.kind]):
        return None
    return read


def pack(read: Read) -> bytes:
    """A valid record file as the build cache keeps it (see :func:`unpack`)."""
    source = read.source
    assert source is not None and read.record is not None
    parts = (
        source.data,
        source.lines,
        source.body,
        source.body_line,
        source.front_digest,
        read.record,
    )
    return pickle.dumps(parts, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(parts: tuple[Any, ...], job: RecordFile, digest: bytes) -> Read:
    """The source and record of a file from what :func:`pack` kept."""
    data, lines, body, body_line, front, record = parts
    path, rel, display, kind = job.path, job.rel, job.display, job.kind
    source = SourceFile(path, rel, display, kind, data, lines, body, body_line, digest, front)
    return Read(source, record, {})


def keep(cache: BuildCache, job: RecordFile, read: Read, packed: bytes | None = None) -> None:
    """Keep a valid record file for the next build (``packed`` when a worker packed it)."""
    if read.source is None or read.record is None:
        return
    digest = read.source.digest
    cache.keep_record(record_name(job, digest), digest, packed or pack(read))
