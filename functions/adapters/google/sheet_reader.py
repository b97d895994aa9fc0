"""Read a unit's Google Sheet from ONE values batchGet, into the same RawSubmission the xlsx reader makes.

The tabs and cells are the xlsx layout (sheets_templates/layout.py), so the grid parsers of the xlsx
reader do the work; this module only chooses the ranges, turns the API's value ranges into rows of cells
and reads the 提交 checkbox. Identity comes from the sheet registry, not from the sheet: the system made
the sheet for that unit, and a unit cannot make its sheet speak for another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from functions.adapters.xlsx.reader import read_record_grid, read_rows_grid
from functions.ports import SheetContent
from functions.validate import codes
from functions.validate.messages import make_issue
from schemas.campaign import Campaign
from schemas.formspec import TableSpec
from schemas.raw import RawSubmission, RawTable
from sheets_templates import google_layout as gl
from sheets_templates import layout

# Columns read beyond a rows table's fields, so a column a unit added is reported, not silently lost.
EXTRA_COLUMNS = gl.EXTRA_COLUMNS
# Rows read beyond a record table's fields (a moved label is still found).
EXTRA_RECORD_ROWS = 5
# The date format provisioning gives date columns: a serial number there is a date, not a count.
GOOGLE_DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class _Cell:
    value: Any
    number_format: str | None = None


def _last_column(table: TableSpec, width: int | None = None) -> str:
    """The last column read; never past `width`, the tab's grid, which Google refuses to read beyond."""
    if table.kind == "rows":
        wanted = len(table.fields) + EXTRA_COLUMNS
    else:
        wanted = column_index_from_string(layout.RECORD_HELP_COLUMN)
    return get_column_letter(max(1, min(wanted, width)) if width else wanted)


def sheet_ranges(campaign: Campaign, deliverable: str, columns: Mapping[str, int] | None = None) -> list[str]:
    """The ranges of the one batchGet: the instructions' status area, then every table tab in order.

    `columns` maps a tab's title to its grid width (the sheet as provisioned or as it is now); a read
    is clamped to it, since Google answers 400 "exceeds grid limits" for the whole batch otherwise.
    Without it the ranges are the ones a tab made by the current template holds."""
    lang = campaign.language
    widths = columns or {}
    out = [f"{gl.a1_tab(layout.INSTRUCTIONS_SHEET[lang])}!{gl.INSTRUCTIONS_READ_RANGE}"]
    for table in campaign.tables_of(deliverable):
        title = table.title(lang)
        tab = gl.a1_tab(title)
        last = _last_column(table, widths.get(title))
        if table.kind == "rows":
            # Open-ended rows: however many rows a unit adds, they are read.
            out.append(f"{tab}!A1:{last}")
        else:
            last_row = layout.RECORD_FIRST_FIELD_ROW + len(table.fields) + EXTRA_RECORD_ROWS
            out.append(f"{tab}!A1:{last}{last_row}")
    return out


def _rows(value_range: dict[str, Any]) -> list[tuple[_Cell, ...]]:
    # The API leaves out trailing empty rows and cells, and "values" itself when the range is empty.
    return [tuple(_Cell(v) for v in row) for row in value_range.get("values", [])]


def _checkbox(value_range: dict[str, Any]) -> bool:
    letters, row = coordinate_from_string(gl.SUBMIT_CELL)
    col = column_index_from_string(letters) - 1
    rows = value_range.get("values", [])
    if row - 1 >= len(rows) or col >= len(rows[row - 1]):
        return False
    value = rows[row - 1][col]
    # A checkbox reads as a boolean; a unit who types "TRUE" over it means the same.
    return value is True or (isinstance(value, str) and value.strip().upper() == "TRUE")


def read_unit_sheet(
    value_ranges: list[dict[str, Any]],
    campaign: Campaign,
    *,
    spreadsheet_id: str,
    unit_code: str,
    unit_name: str,
    deliverable: str,
) -> SheetContent:
    """`value_ranges` is batchGet's answer for :func:`sheet_ranges`, in the same order."""
    lang = campaign.language
    tables = campaign.tables_of(deliverable)
    raw = RawSubmission(
        source=f"google:{spreadsheet_id}",
        source_kind="sheet",
        campaign_id=campaign.id,
        unit_code=unit_code,
        unit_name=unit_name,
        deliverable=deliverable,
        template_version=layout.TEMPLATE_VERSION,
    )
    expected = 1 + len(tables)
    if len(value_ranges) != expected:
        # The API answers one value range per requested range; anything else is not a reply to ours.
        raise ValueError(f"batchGet answered {len(value_ranges)} ranges, {expected} were asked for")
    submitted = _checkbox(value_ranges[0])
    raw.status = "submitted" if submitted else "draft"
    for table, value_range in zip(tables, value_ranges[1:], strict=True):
        sheet = table.title(lang)
        rows = _rows(value_range)
        if not rows:
            # A tab that reads back empty has lost its header (deleted or cleared).
            raw.issues.append(make_issue(codes.UNKNOWN_TEMPLATE_SHEET_EMPTY, lang, sheet=sheet))
            continue
        if table.kind == "rows":
            read_rows_grid(rows, table, sheet, raw, lang)
        else:
            read_record_grid(rows, table, sheet, raw, lang)
        found = raw.tables.get(table.key)
        if found is None:
            continue
        for record in found.records:
            for key, cell in record.cells.items():
                if table.field(key).type == "date" and isinstance(cell.value, int | float):
                    cell.number_format = GOOGLE_DATE_FORMAT
    # Empty: nothing typed anywhere and nothing broken; such a sheet is simply "not submitted".
    empty = not raw.issues and not any(_has_typed_rows(t) for t in raw.tables.values())
    return SheetContent(raw=raw, submitted=submitted, empty=empty)


def _has_typed_rows(table: RawTable) -> bool:
    return any(any(c.value is not None for c in r.cells.values()) for r in table.records)
