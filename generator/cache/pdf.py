"""The build cache around the PDF stage: a chunk of the PDF is laid out again only when what it
shows has changed.

The PDF is laid out in chunks (generator.pdf.document), each a whole HTML document. Nothing in
a chunk changes from build to build unless what it shows does: the build stamp is only on the
cover, and the page numbers (of the folios and of the contents) are drawn by the join. So a
chunk's key is a hash of its HTML, of whether it is tagged, and of the bytes of every file it
reads (the images of record bodies); the theme's stylesheet and fonts, WeasyPrint and the tool
itself are in the cache's code key already (a cache made with others is not used). What is
kept under that key is the chunk as the worker prepared it for the join (generator.pdf.join:
its objects, numbered within the chunk), compressed, with what its layout told (its page
count, the page of each anchor, its bookmarks, the files it was refused), which is all the
join needs. The join then puts the chunks together again, numbering pages, contents, outline
and links anew, so the PDF is the same, byte for byte, as one made from nothing.
"""

from __future__ import annotations

import hashlib
import html
import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from generator.cache.store import BuildCache
from generator.digest import content_key

if TYPE_CHECKING:
    from generator.pdf.layout import Job

PDF_PREFIX = "pdf/"

#: The files a chunk's HTML reads: images of record bodies, by file: URL.
_FILE_URL = re.compile(r'\b(?:src|href)="(file:[^"]*)"')


class CachedPdf:
    """The PDF chunks the build cache holds: finds those laid out before, keeps those made now
    (a generator.pdf.layout.Reuse)."""

    def __init__(self, cache: BuildCache) -> None:
        self.cache = cache
        self._files: dict[str, bytes | None] = {}

    def key(self, job: Job) -> bytes:
        """A hash of everything that decides how ``job``'s document is laid out."""
        urls = sorted(set(_FILE_URL.findall(job.html)))
        return content_key(
            "pdf chunk", job.html, job.tagged, [(url, self._digest(url)) for url in urls]
        )

    def _digest(self, url: str) -> bytes | None:
        """The SHA-256 of the file ``url`` names, or None when there is none to read."""
        url = html.unescape(url)
        if url not in self._files:
            parts = urlsplit(url)
            try:
                data = Path(url2pathname(unquote(parts.path))).read_bytes()
            except (OSError, ValueError):
                self._files[url] = None
            else:
                self._files[url] = hashlib.sha256(data).digest()
        return self._files[url]

    def find(self, job: Job) -> Any:
        """What laying out ``job``'s document told before (as Laid.plain gave it), the chunk
        as prepared for the join written to ``job.out``; None when the cache does not hold it."""
        key = self.key(job)
        found = self.cache.get(PDF_PREFIX + key.hex(), key)
        if found is None:
            return None
        data, told = found
        try:
            job.out.write_bytes(zlib.decompress(data))
        except zlib.error:  # a miss: the chunk is laid out again
            return None
        return told

    def keep(self, job: Job, told: Any) -> None:
        """Keep ``job``'s chunk, just prepared at ``job.out``, and what laying it out told."""
        key = self.key(job)
        packed = zlib.compress(job.out.read_bytes(), 1)
        self.cache.put(PDF_PREFIX + key.hex(), key, packed, told)
