"""Whether the PDF can be made here: the one place that asks if WeasyPrint loads.

WeasyPrint lays out the PDF with Pango, a system library that pip does not install. Without it
(or without WeasyPrint), ``import weasyprint`` fails: with an OSError naming the library that
could not be loaded, or an ImportError. Everything but the PDF can still be made, so the build
asks here first, makes the rest, and says how to get the PDF.
"""

from __future__ import annotations

import contextlib
import io
from functools import cache

#: How to install what the PDF needs, for the message shown when it is missing.
INSTALL_HELP = """\
To make the PDF, install the Pango library, then run the same command again:
  Debian, Ubuntu:  sudo apt install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b
  macOS:           brew install pango
  Windows:         install MSYS2 (https://www.msys2.org) in C:\\msys64, open its "MSYS2 UCRT64"
                   terminal and run: pacman -S mingw-w64-ucrt-x86_64-pango
                   Or run portfolio inside WSL (Ubuntu), as on Ubuntu above.
docs/getting-started.md says more."""


class PdfEngineMissing(Exception):
    """The PDF cannot be made here: WeasyPrint, or a library it needs, does not load."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@cache
def engine_problem() -> str | None:
    """Why WeasyPrint cannot be loaded here, or None when it can (asked once a process)."""
    try:
        # WeasyPrint prints a notice of its own before raising: the message here replaces it.
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except ImportError as exc:
        return f"WeasyPrint, which makes the PDF, is not installed ({_short(exc)})"
    except OSError as exc:
        return (
            "WeasyPrint, which makes the PDF, cannot load the Pango library it needs "
            f"({_short(exc)})"
        )
    return None


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def require_engine() -> None:
    """Raise :class:`PdfEngineMissing` when the PDF cannot be made here."""
    problem = engine_problem()
    if problem is not None:
        raise PdfEngineMissing(problem)
