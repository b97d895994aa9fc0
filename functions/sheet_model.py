"""The master's vocabulary, independent of where a sheet is written (xlsx file or Google Sheet).

Services describe tabs with these; the xlsx writer and the Google publisher (adapters) render them. It
sits beside the ports, importing nothing of the services or the adapters.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

# Day 0 of the serial numbers Excel, LibreOffice and Google Sheets share (serial 61 and later; Excel's
# serial 60 is the fictitious 1900-02-29).
SPREADSHEET_EPOCH = dt.date(1899, 12, 30)


class Style(StrEnum):
    DEFAULT = "default"
    TEXT = "text"
    HEADER = "header"
    INT = "int"
    NUMBER = "number"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"
    TITLE = "title"
    NOTE = "note"
    TOTAL = "total"
    STATE_VALID = "state_valid"
    STATE_ERRORS = "state_errors"
    STATE_DRAFT = "state_draft"
    STATE_MISSING = "state_missing"
    LATE = "late"
    WRAP = "wrap"


_STYLES = frozenset(Style)


@dataclass(frozen=True, slots=True)
class Cell:
    """A value with an explicit style; ``Cell(None, style)`` is a styled blank cell."""

    value: str | bool | int | float | Decimal | dt.date | dt.datetime | None
    style: Style | None = None

    def __post_init__(self) -> None:
        if self.style is not None and self.style not in _STYLES:
            raise ValueError(f"unknown style {self.style!r}; use a Style member")


@dataclass(frozen=True)
class Column:
    """Column settings; ``width`` is in Excel character units (None: Excel's default)."""

    width: float | None = None

    def __post_init__(self) -> None:
        if self.width is not None and not 0 < self.width <= 255:
            raise ValueError(f"column width must be in (0, 255], got {self.width}")


def display_width(line: str) -> int:
    """Width in Excel character units: wide (CJK, full-width) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def fit_width(texts: Iterable[str], *, minimum: float = 6, maximum: float = 60) -> float:
    """A column width for the longest line of ``texts``: wide (CJK, full-width) characters count 2."""
    longest = 0
    for text in texts:
        for line in str(text).splitlines() or [""]:
            longest = max(longest, display_width(line))
    return float(min(maximum, max(minimum, longest + 2)))


@dataclass(frozen=True)
class Chart:
    title: str
    categories: tuple[int, int, int]  # first row, last row, column (1-based) of the labels
    series: list[tuple[str, int, int, int]]  # name, first row, last row, column of the values
    anchor: str
    percent_axis: bool = False
    width_cm: float = 16.0


@dataclass
class MasterSheet:
    """One tab of the master, independent of where it is published (xlsx file or Google Sheet)."""

    key: str
    name: str
    header: list[str] | None
    columns: list[Column]
    rows: Iterable[Sequence[Any]]
    charts: list[Chart] = field(default_factory=list)
    # Ranges like "A30:K30" merged in the first part (a long paragraph across the printed width).
    merges: list[str] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        return self.header is not None
