"""What the streaming writer tells a printer: A4 page setup, fit to width, row heights for wrapped text."""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path

from functions.adapters.xlsx.stream import Cell, Column, StreamingWorkbook, Style

PARAGRAPH = "活动周期间，全区33个单位共开展各类活动230场，参与20,040人次。" * 6


def _sheet_xml(path: Path, number: int = 1) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{number}.xml").decode()


def test_a_narrow_sheet_prints_portrait_and_a_wide_one_landscape_both_one_page_wide(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    with StreamingWorkbook(path) as book:
        with book.sheet("窄", columns=[Column(20), Column(20)], header=["单位", "状态"]) as ws:
            ws.append(["第一中学", "已通过"])
        with book.sheet("宽", columns=[Column(30)] * 5, header=["a", "b", "c", "d", "e"]) as ws:
            ws.append([1, 2, 3, 4, 5])
    narrow, wide = _sheet_xml(path, 1), _sheet_xml(path, 2)
    for xml in (narrow, wide):
        assert '<pageSetUpPr fitToPage="1"/>' in xml
        assert 'paperSize="9"' in xml and 'fitToWidth="1" fitToHeight="0"' in xml
    assert 'orientation="portrait"' in narrow
    assert 'orientation="landscape"' in wide


def test_wrapped_text_gets_the_height_of_its_lines_and_plain_rows_none(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    with StreamingWorkbook(path) as book:
        with book.sheet("总览", columns=[Column(30)] + [Column(10)] * 10) as ws:
            ws.append(["计入单位数", 33])
            ws.merge("A2:K2")
            ws.append([Cell(PARAGRAPH, Style.WRAP)])
            ws.append([Cell(PARAGRAPH, Style.WRAP)])  # not merged: one 30-unit column, many more lines
    xml = _sheet_xml(path)
    heights = {
        int(r): float(h) for r, h in re.findall(r'<row r="(\d+)" ht="([\d.]+)" customHeight="1">', xml)
    }
    assert 1 not in heights
    # Counted by hand: each sentence is 25 wide characters (2 units each) and 11 narrow ones = 61 units.
    units = 6 * 61
    assert heights[2] == 15 * math.ceil(units / (30 + 10 * 10 - 1)) + 3  # across the merged A:K
    assert heights[3] == 15 * math.ceil(units / (30 - 1)) + 3  # in column A alone


def test_the_workbook_names_a_chinese_font(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    with StreamingWorkbook(path) as book, book.sheet("a") as ws:
        ws.append(["中文"])
    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
    assert "Calibri" not in styles
    assert styles.count('<name val="宋体"/>') == styles.count("<font>") and '<charset val="134"/>' in styles
