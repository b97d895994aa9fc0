"""Unit workbooks print whole: a Chinese font throughout and instruction rows tall enough for their text."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from schemas.campaign import Campaign
from schemas.roster import Roster
from sheets_templates import layout
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, display_width, save_workbook_atomically


def test_every_font_of_a_unit_workbook_is_the_chinese_one(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    path = tmp_path / "plan.xlsx"
    save_workbook_atomically(build_unit_workbook(campaign, "plan", roster.units[0]), path)
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
    assert "Calibri" not in styles
    assert styles.count("<name ") == styles.count('<name val="宋体" />') > 0


def test_long_instruction_lines_get_rows_tall_enough(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    path = tmp_path / "plan.xlsx"
    save_workbook_atomically(build_unit_workbook(campaign, "plan", roster.units[0]), path)
    ws = load_workbook(path)[layout.INSTRUCTIONS_SHEET["zh"]]
    width = ws.column_dimensions["B"].width
    long_rows = [c.row for c in ws["B"] if isinstance(c.value, str) and display_width(c.value) > width]
    assert long_rows, "the example's instructions have lines longer than the column"
    for row in long_rows:
        lines = -(-display_width(ws[f"B{row}"].value) // (width - 2))
        height = ws.row_dimensions[row].height
        assert height is not None and height >= 15 * lines, (row, height, lines)
