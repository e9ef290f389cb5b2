"""Content keys: a hash of the plain values something is made from.

Equal keys mean equal inputs, so whatever was made from them can be used again. The build cache
keys its entries with them; renderers that can reuse parts of what they make take a ``Memo``.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable
from typing import Any, cast

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
