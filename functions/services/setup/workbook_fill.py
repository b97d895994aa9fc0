"""Write values into a unit workbook the way a person would (used by the demo, tests and benchmarks)."""

from __future__ import annotations

from typing import Any

from openpyxl.workbook.workbook import Workbook

from schemas.campaign import Campaign
from sheets_templates import layout

# table key -> records (field key -> what the person typed: text, number, date...)
Entries = dict[str, list[dict[str, Any]]]


def fill_workbook(wb: Workbook, campaign: Campaign, deliverable_key: str, entries: Entries) -> None:
    lang = campaign.language
    for table in campaign.tables_of(deliverable_key):
        records = entries.get(table.key)
        if not records:
            continue
        ws = wb[table.title(lang)]
        labels = {f.key: f.label(lang) for f in table.fields}
        if table.kind == "rows":
            col_of = {
                layout.normalise_label(c.value): c.column
                for c in ws[layout.ROWS_HEADER_ROW]
                if c.value is not None
            }
            for i, record in enumerate(records):
                r = layout.ROWS_FIRST_DATA_ROW + i
                for key, value in record.items():
                    _put(ws.cell(row=r, column=col_of[layout.normalise_label(labels[key])]), value)
        else:
            label_col = ord(layout.RECORD_LABEL_COLUMN) - ord("A") + 1
            value_col = ord(layout.RECORD_VALUE_COLUMN) - ord("A") + 1
            row_of = {
                layout.normalise_label(ws.cell(row=r, column=label_col).value): r
                for r in range(1, ws.max_row + 1)
            }
            for key, value in records[0].items():
                _put(ws.cell(row=row_of[layout.normalise_label(labels[key])], column=value_col), value)


def _put(cell: Any, value: Any) -> None:
    """As typed into the template's text-formatted cells: "=…" stays text, as Excel and WPS keep it."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
