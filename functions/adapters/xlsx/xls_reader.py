"""Old binary .xls workbooks (Excel 97–2003, BIFF), read with python-calamine.

openpyxl reads only .xlsx, and units still save as .xls from old WPS or Excel. Where calamine can read
the file, its sheets are handed to the same identity and table readers as an .xlsx (through a small
object with the few workbook methods they use), so an .xls is checked exactly like an .xlsx. Where it
cannot (a damaged or unusual file), the caller keeps `legacy-xls`, which tells the unit to save as .xlsx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Values the raw model accepts; calamine may also give a timedelta (a duration-formatted cell).
_Plain = str | int | float | bool | dt.datetime | dt.date | dt.time | None


class _Cell:
    __slots__ = ("number_format", "value")

    def __init__(self, value: _Plain) -> None:
        self.value = value
        # calamine has already turned date-formatted numbers into dates; no format is left to read.
        self.number_format: str | None = None


class _Sheet:
    def __init__(self, rows: list[list[_Plain]]) -> None:
        self._rows = rows

    def iter_rows(
        self,
        min_row: int = 1,
        max_row: int | None = None,
        max_col: int | None = None,
        values_only: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        for row in self._rows[min_row - 1 : max_row]:
            cells = row[:max_col] if max_col else row
            yield tuple(cells) if values_only else tuple(_Cell(v) for v in cells)


class XlsBook:
    """The part of openpyxl's Workbook the reader uses: sheet names, sheets by name, close."""

    def __init__(self, sheets: dict[str, list[list[_Plain]]]) -> None:
        self._sheets = sheets
        self.sheetnames = list(sheets)

    def __getitem__(self, name: str) -> _Sheet:
        return _Sheet(self._sheets[name])

    def close(self) -> None:
        self._sheets = {}


def _plain(value: object) -> _Plain:
    if value == "":
        return None
    if isinstance(value, dt.timedelta):
        # A duration cell: as a number of days, like Excel stores it (never a type the model refuses).
        return value.total_seconds() / 86400
    if isinstance(value, str | int | float | bool | dt.datetime | dt.date | dt.time):
        return value
    return str(value)


def open_xls(path: Path) -> XlsBook | None:
    """Every sheet of a BIFF workbook (hidden ones too: the _huizong identity sheet is hidden), or None
    when calamine cannot read it."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        sheets: dict[str, list[list[_Plain]]] = {}
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            sheets[name] = [[_plain(v) for v in row] for row in rows]
    except Exception:  # any failure of a third-party parser on untrusted bytes: the caller says legacy-xls
        return None
    return XlsBook(sheets)
