"""The master's tabs (functions.sheet_model) into one xlsx file, streamed and replaced atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from functions.adapters.xlsx.stream import StreamingWorkbook
from functions.sheet_model import MasterSheet


def write_master_xlsx(
    sheets: Sequence[MasterSheet], path: Path, *, title: str, max_rows_per_sheet: int = 1_048_576
) -> dict[str, int]:
    """Stream the tabs into one workbook, replaced atomically. Returns rows written per tab key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    with StreamingWorkbook(path, title=title, max_rows_per_sheet=max_rows_per_sheet) as wb:
        for sheet in sheets:
            with wb.sheet(
                sheet.name,
                columns=sheet.columns,
                header=sheet.header,
                freeze_header=sheet.is_table,
                autofilter=sheet.is_table,
            ) as ws:
                for merged in sheet.merges:
                    ws.merge(merged)
                n = 0
                for row in sheet.rows:
                    ws.append(row)
                    n += 1
                for chart in sheet.charts:
                    ws.add_bar_chart(
                        chart.title,
                        categories=chart.categories,
                        series=chart.series,
                        anchor=chart.anchor,
                        percent_axis=chart.percent_axis,
                        width_cm=chart.width_cm,
                    )
            counts[sheet.key] = n
    return counts
