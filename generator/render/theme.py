"""Where the theme lies, and the placeholder pages carry for the build stamp: what the cache,
the output and the renderer share, light enough to read before anything is rendered."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Where the build stamp goes in a page kept in the build cache (the stamp changes with any
#: change, the rest of most pages does not); it is replaced by the stamp as the page is written.
STAMP_TOKEN = "@@portfolio-build-stamp@@"


def templates_dir() -> Path:
    """The theme folder: packaged with the wheel, or the repository's ``templates/``."""
    packaged = Path(str(resources.files("generator"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "templates"
