"""Old binary .xls workbooks (Excel 97–2003, BIFF), read with python-calamine.

openpyxl reads only .xlsx, and units still save as .xls from old WPS or Excel. Where calamine can read
the file, its sheets are handed to the same identity and table readers as an .xlsx (through a small
object with the two workbook methods they use), so an .xls is checked exactly like an .xlsx. Where it
cannot (a damaged or unusual file), the caller keeps `legacy-xls`, which tells the unit to save as .xlsx.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from functions.adapters.xlsx.workbook_xml import XCell

# Values the raw model accepts; calamine may also give a timedelta (a duration-formatted cell).
_Plain = str | int | float | bool | dt.datetime | dt.date | dt.time | None


class XlsBook:
    """What the reader asks of a workbook (workbook_xml.Book): sheet names and each sheet's rows."""

    def __init__(self, sheets: dict[str, list[list[_Plain]]]) -> None:
        self._sheets = sheets
        self.sheetnames = list(sheets)

    def rows(self, sheet: str) -> list[tuple[XCell | None, ...]]:
        # calamine has already turned date-formatted numbers into dates; no number format is left to read.
        return [tuple(None if v is None else XCell(v) for v in row) for row in self._sheets[sheet]]


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
