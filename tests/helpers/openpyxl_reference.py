"""The reference read for the reader equivalence test (issue 13 §3): the same file read through openpyxl.

The project's reader parses the package itself (functions/adapters/xlsx/workbook_xml.Book). This helper
gives the layout code of functions/adapters/xlsx/reader.py the same view of a workbook (sheet names, and
per row the cells' value, number format, formula and cached error) built from openpyxl instead, so that
any difference between the two reports comes from how the cells were parsed, nothing else. openpyxl gives
either formulas or cached values, never both: the file is loaded twice (full mode, not read-only, so a
stale <dimension> cannot hide rows) and the two views are joined per cell.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.formula import ArrayFormula

from functions.adapters.xlsx import reader
from functions.adapters.xlsx.workbook_xml import XCell
from functions.validate.messages import make_issue
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.raw import RawSubmission
from schemas.roster import Roster


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        # The fast reader drops control characters a unit never meant to type (tab and breaks stay).
        value = "".join(ch for ch in value if ch in "\t\n\r" or not (ord(ch) < 32 or ord(ch) == 127))
        return value or None
    if isinstance(value, dt.timedelta):
        # Intended difference, documented in the reader: a count typed in a cell formatted as a duration
        # stays the number it is (openpyxl turns it into a timedelta). Days, as Excel stores them.
        return value.total_seconds() / 86400
    return value


def _xcell(fc: Cell, vc: Cell | None) -> XCell | None:
    fmt = fc.number_format
    cached_value = vc.value if vc is not None else None
    if fc.data_type == "f":
        text = fc.value.text if isinstance(fc.value, ArrayFormula) else str(fc.value)
        formula = (text[1:] if text.startswith("=") else text).strip() or None
        if vc is not None and vc.data_type == "e":
            return XCell(None, fmt, formula, str(cached_value), True)
        value = _clean(cached_value)
        if value is None:
            # Not calculated: the file holds no result. (openpyxl reads <v></v> of a text formula as
            # None too, so an empty-text result looks uncalculated here: the test lists that case.)
            return XCell(None, fmt, formula, None, False)
        return XCell(value, fmt, formula, None, True)
    if fc.data_type == "e":
        return XCell(None, fmt, None, str(fc.value), True)
    value = _clean(fc.value)
    if value is None:
        return None
    return XCell(value, fmt)


class OpenpyxlBook:
    """The reader's view of a workbook (sheetnames, rows), built from openpyxl's object model."""

    def __init__(self, path: Path) -> None:
        # Opened by content, as the reader does: openpyxl refuses a file by its name's extension otherwise.
        data = path.read_bytes()
        with warnings.catch_warnings():
            # openpyxl warns about what it reads as an error (a date serial out of range); the reports
            # are what is compared, and the reader keeps such a serial as the number it is.
            warnings.simplefilter("ignore", UserWarning)
            self._formulas = load_workbook(io.BytesIO(data), data_only=False)
            self._values = load_workbook(io.BytesIO(data), data_only=True)

    @property
    def sheetnames(self) -> list[str]:
        return list(self._formulas.sheetnames)

    def rows(self, sheet: str) -> list[tuple[XCell | None, ...]]:
        fws, vws = self._formulas[sheet], self._values[sheet]
        kept: dict[int, dict[int, XCell]] = {}
        for (r, c), fc in sorted(fws._cells.items()):
            cell = _xcell(fc, vws._cells.get((r, c)))
            if cell is not None:
                kept.setdefault(r, {})[c] = cell
        out: list[tuple[XCell | None, ...]] = []
        for r in range(1, max(kept, default=0) + 1):
            cells = kept.get(r, {})
            out.append(tuple(cells.get(c) for c in range(1, max(cells, default=0) + 1)))
        return out


def reference_read(path: Path, campaign: Campaign, roster: Roster) -> RawSubmission | None:
    """read_workbook's shell (same sniffing, same layout code) around an openpyxl read of the file; None
    when openpyxl itself cannot load the file (the test decides whether that is expected)."""
    lang = campaign.language
    raw = RawSubmission(source=str(path), source_kind="file")
    problem = reader._sniff(path, campaign)
    if problem is not None:
        raw.issues.append(make_issue(problem[0], lang, **problem[1]))
        return raw
    try:
        book = OpenpyxlBook(path)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError):
        return None
    reader._read_book(book, raw, campaign, roster)  # type: ignore[arg-type]  # duck-typed like Book
    return raw


def report_json(raw: RawSubmission, campaign: Campaign, roster: Roster) -> str:
    """The validation report and parsed submission of a read, as the JSON that is compared byte for byte."""
    parsed, report = validate_submission(raw, campaign, roster, ValidationContext())
    report.checked_at = None  # the clock is not the reader's
    return report.model_dump_json(indent=1) + "\n" + (parsed.model_dump_json(indent=1) if parsed else "null")
