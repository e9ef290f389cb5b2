"""Dates as people in UK care read them: "31 Jul 2026", never broken across lines.

Pages, reports and the PDF show dates this way (or as ISO dates, when portfolio.yaml says
``date_style: iso``); the ISO date stays wherever a machine reads it (``datetime`` and data
attributes, CSV, XLSX, the output of ``portfolio check``).
"""

from __future__ import annotations

import re
from datetime import date

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NBSP = "\N{NO-BREAK SPACE}"
_ISO = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def show_date(day: date | None, style: str = "uk") -> str:
    """A date as shown to people: "31 Jul 2026" (with no-break spaces), or ISO; "" for none."""
    if day is None:
        return ""
    if style == "iso":
        return day.isoformat()
    return f"{day.day}{NBSP}{MONTHS[day.month - 1]}{NBSP}{day.year}"


def show_dates_in(text: str, style: str = "uk") -> str:
    """``text`` with every ISO date in it shown as :func:`show_date` shows it."""
    if style == "iso" or "-" not in text:
        return text

    def shown(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]  # not a date after all
        return show_date(day, style)

    return _ISO.sub(shown, text)
