"""The streaming xlsx writer: every file is written for real and read back with openpyxl (and LibreOffice)."""

from __future__ import annotations

import gc
import os
import stat
import time
import tracemalloc
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from functions.adapters.xlsx.stream import (
    STALE_TEMP_SECONDS,
    Cell,
    Column,
    StreamingWorkbook,
    Style,
    fit_width,
)
from tests.helpers.xlsx import FORMULA_LIKE, assert_old_master, old_master, temps, write_rows

DATE_FORMATS = {"yyyy-mm-dd", "yyyy-mm-dd hh:mm"}


def _sheet_xml(path: Path, number: int = 1) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


# -- values --------------------------------------------------------------------------------------------


AWARE = datetime(2022, 10, 20, 8, 30, tzinfo=timezone(timedelta(hours=8)))
VALUES: list[tuple[object, object, str, str]] = [
    # (written, read back by openpyxl, openpyxl data_type, number format)
    ("普通文本", "普通文本", "s", "General"),
    (42, 42, "n", "General"),
    (-7, -7, "n", "General"),
    (3.25, 3.25, "n", "General"),
    (Decimal("2.5"), 2.5, "n", "General"),
    (True, True, "b", "General"),
    (False, False, "b", "General"),
    (date(2022, 10, 20), datetime(2022, 10, 20), "d", "yyyy-mm-dd"),
    (datetime(2022, 10, 20, 8, 30, 15), datetime(2022, 10, 20, 8, 30, 15), "d", "yyyy-mm-dd hh:mm"),
    # Aware datetimes keep their wall-clock time; the caller converts to the zone to show.
    (AWARE, datetime(2022, 10, 20, 8, 30), "d", "yyyy-mm-dd hh:mm"),
    (date(1900, 3, 1), datetime(1900, 3, 1), "d", "yyyy-mm-dd"),
    # Excel cannot hold dates before 1900: ISO text instead of a wrong number.
    (date(1899, 12, 31), "1899-12-31", "s", "General"),
    (123_456_789_012_345, 123_456_789_012_345, "n", "General"),
    # 16 digits would be rounded by Excel (15 significant digits): kept exact as text.
    (1_234_567_890_123_456, "1234567890123456", "s", "General"),
    (Style.HEADER, "header", "s", "General"),  # a str subclass is still text
]


def test_values_keep_their_types_and_formats(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "v.xlsx", [[v for v, *_ in VALUES]])
    ws = load_workbook(path).active
    got = [(c.value, c.data_type, c.number_format) for c in ws[1]]
    assert got == [(back, kind, fmt) for _, back, kind, fmt in VALUES]


def test_blanks_write_no_cell_unless_styled(tmp_path: Path) -> None:
    path = write_rows(
        tmp_path / "b.xlsx",
        [["a", None, "", float("nan"), float("inf"), "\x00\x01", Cell(None, Style.STATE_MISSING), "z"]],
    )
    xml = _sheet_xml(path)
    for ref in ("B1", "C1", "D1", "E1", "F1"):
        assert f'r="{ref}"' not in xml
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == ["a", None, None, None, None, None, None, "z"]
    assert ws["G1"].fill.fgColor.rgb == "FFD9D9D9"  # the styled blank is there, with its fill


def test_unsupported_value_is_refused(tmp_path: Path) -> None:
    with StreamingWorkbook(tmp_path / "x.xlsx") as book, book.sheet("s") as ws:
        with pytest.raises(TypeError, match="cannot write a object"):
            ws.append([object()])
        with pytest.raises(ValueError, match="unknown style"):
            Cell("x", "no-such-style")  # type: ignore[arg-type]


def test_formula_like_user_text_is_always_text(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "f.xlsx", [[text, Cell(text, Style.TEXT), Cell(text, Style.STATE_ERRORS)]
                                        for text in FORMULA_LIKE] + [["普通", "-", "="]])  # fmt: skip
    xml = _sheet_xml(path)
    assert "<f>" not in xml and "<f " not in xml
    ws = load_workbook(path).active
    for text, row in zip(FORMULA_LIKE, ws.iter_rows(max_row=len(FORMULA_LIKE)), strict=True):
        for cell in row:
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    last = ws[len(FORMULA_LIKE) + 1]
    assert [(c.value, c.quotePrefix) for c in last] == [("普通", False), ("-", True), ("=", True)]
    assert ws.cell(1, 2).number_format == "@"  # TEXT keeps its format in the quote-prefixed variant


def test_text_is_cleaned_escaped_and_cut(tmp_path: Path) -> None:
    rows = [
        ["a\x00b\x07c\x0bd\x1fe\ufffef", "x\ud800y", "tab\tand\nline", "a\r\nb"],
        ["&<>]]>\"'", " lead", "trail ", "中文 ＡＢＣ 😀"],
        ["长" * 40_000, "😀" * 20_000, "_x0041_", "ok"],
    ]
    path = write_rows(tmp_path / "t.xlsx", rows)
    ws = load_workbook(path).active
    assert [c.value for c in ws[1]] == ["abcdef", "xy", "tab\tand\nline", "a\r\nb"]
    assert [c.value for c in ws[2]] == ["&<>]]>\"'", " lead", "trail ", "中文 ＡＢＣ 😀"]
    assert ws["A3"].value == "长" * 32_767
    # Excel counts UTF-16 units: 16,383 emoji are 32,766 units; a split surrogate pair is dropped.
    assert ws["B3"].value == "😀" * 16_383
    # Excel would show _x0041_ as "A"; it is escaped so Excel shows it literally (openpyxl reads it raw).
    assert ws["C3"].value == "_x005F_x0041_"
    assert ws["D3"].value == "ok"


# -- styles --------------------------------------------------------------------------------------------

NUMBER_FORMATS = {
    Style.TEXT: "@",
    Style.INT: "0",
    Style.NUMBER: "0.00",
    Style.PERCENT: "0.0%",
    Style.DATE: "yyyy-mm-dd",
    Style.DATETIME: "yyyy-mm-dd hh:mm",
}
FILLS = {
    Style.HEADER: "FFDDEBF7",
    Style.STATE_VALID: "FFC6EFCE",
    Style.STATE_ERRORS: "FFFFC7CE",
    Style.STATE_DRAFT: "FFFFEB9C",
    Style.STATE_MISSING: "FFD9D9D9",
}


def test_every_style_on_every_kind_of_value(tmp_path: Path) -> None:
    when = datetime(2022, 10, 21, 9, 45)
    rows = [[Cell(1.5, s), Cell(date(2022, 10, 20), s), Cell(when, s), Cell("=x", s), Cell("文本", s)]
            for s in Style]  # fmt: skip
    ws = load_workbook(write_rows(tmp_path / "s.xlsx", rows)).active
    for style, row in zip(Style, ws.iter_rows(), strict=True):
        number, day, stamp, formula_like, text = row
        # A number under DATE or DATETIME is a serial that openpyxl reads back as a datetime.
        assert number.value == (
            1.5 if style not in (Style.DATE, Style.DATETIME) else datetime(1900, 1, 1, 12)
        )
        assert number.number_format == NUMBER_FORMATS.get(style, "General"), style
        # A date stays a date under every style; DATE and DATETIME choose which of the two formats.
        assert day.value == datetime(2022, 10, 20) and day.number_format in DATE_FORMATS, style
        assert stamp.value == when and stamp.number_format in DATE_FORMATS, style
        expected_day = "yyyy-mm-dd hh:mm" if style is Style.DATETIME else "yyyy-mm-dd"
        expected_stamp = "yyyy-mm-dd" if style is Style.DATE else "yyyy-mm-dd hh:mm"
        assert (day.number_format, stamp.number_format) == (expected_day, expected_stamp), style
        assert formula_like.value == "=x" and formula_like.quotePrefix, style
        assert text.value == "文本" and not text.quotePrefix
        for cell in row:
            assert cell.fill.fgColor.rgb == FILLS.get(style, "00000000"), style
            assert cell.font.b == (style in (Style.HEADER, Style.TITLE, Style.TOTAL)), style
            assert bool(cell.alignment.wrap_text) == (style in (Style.HEADER, Style.NOTE, Style.WRAP)), style
    by_style = dict(zip(Style, ws.iter_rows(), strict=True))
    assert by_style[Style.TITLE][0].font.sz == 14 and by_style[Style.TITLE][0].font.b
    assert by_style[Style.NOTE][0].font.i
    assert by_style[Style.LATE][0].font.color.rgb == "FFC65911"
    assert by_style[Style.TOTAL][0].border.top.style == "thin"
    assert by_style[Style.HEADER][0].border.left.style == "thin"


def test_style_given_as_its_string_value_works(tmp_path: Path) -> None:
    ws = load_workbook(write_rows(tmp_path / "s.xlsx", [[Cell(0.5, "percent")]])).active  # type: ignore[arg-type]
    assert ws["A1"].number_format == "0.0%"


# -- sheet layout --------------------------------------------------------------------------------------


def test_fit_width_counts_cjk_as_two() -> None:
    assert fit_width(["全民终身学习活动周"]) == 9 * 2 + 2
    assert fit_width(["Activity name"]) == 13 + 2
    assert fit_width(["ab中文"]) == 8  # 2 + 4 + padding 2
    assert fit_width(["ＡＢＣ"]) == 8  # full-width Latin is wide too
    assert fit_width(["短\n一行很长很长的文字"]) == 9 * 2 + 2  # the longest line decides
    assert fit_width(["a"]) == 6 and fit_width(["a"], minimum=10) == 10
    assert fit_width(["长" * 100]) == 60 and fit_width(["长" * 100], maximum=80) == 80
    assert fit_width([]) == 6


def test_column_width_is_checked() -> None:
    for bad in (0, -1, 256):
        with pytest.raises(ValueError, match="column width"):
            Column(bad)


def test_header_frozen_filtered_and_widths(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    widths = [Column(12), Column(None), Column(fit_width(["全民终身学习活动周"]))]
    with StreamingWorkbook(path, title="汇总") as book:
        with book.sheet("活动", columns=widths, header=["单位", "名称", "活动"]) as ws:
            ws.append(["W001", "一中", "讲座"])
            ws.append(["W002", "二中", "展演", "extra"])  # the filter spans the widest row
        with book.sheet("备注", header=["说明"], freeze_header=False, autofilter=False) as ws:
            ws.append(["x"])
        with book.sheet("概览") as ws:  # no header: nothing to freeze or filter
            ws.append(["title"])
    wb = load_workbook(path)
    assert wb.sheetnames == ["活动", "备注", "概览"]
    first = wb["活动"]
    assert [c.value for c in first[1]][:3] == ["单位", "名称", "活动"]
    assert all(c.font.b and c.fill.fgColor.rgb == FILLS[Style.HEADER] for c in first[1][:3])
    assert first.freeze_panes == "A2"
    assert first.auto_filter.ref == "A1:D3"
    assert first.print_title_rows == "$1:$1"  # the header repeats on printed pages
    assert first.column_dimensions["A"].width == 12
    assert 'min="2"' not in _sheet_xml(path)  # Column(None): Excel's default width
    assert first.column_dimensions["C"].width == 20 and first.column_dimensions["C"].customWidth
    assert first.sheet_view.tabSelected and not wb["备注"].sheet_view.tabSelected
    assert wb["备注"].freeze_panes is None and wb["备注"].auto_filter.ref is None
    assert wb["概览"].freeze_panes is None and wb["概览"].auto_filter.ref is None
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        core = z.read("docProps/core.xml").decode()
    assert "<dc:title>汇总</dc:title>" in core
    assert (
        '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">\'活动\'!$A$1:$D$3</definedName>'
        in workbook
    )


def test_every_part_is_well_formed_xml(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    with StreamingWorkbook(path, title="<&>") as book:
        with book.sheet("O'Brien & <co>", header=["a", "b"]) as ws:
            ws.append(["x", 1])
            ws.add_bar_chart("A & <B>", categories=(2, 2, 1), series=[("n & m", 2, 2, 2)])
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        for name in z.namelist():
            ElementTree.fromstring(z.read(name))  # raises on anything malformed
    assert load_workbook(path).sheetnames == ["O'Brien & <co>"]


def test_merge(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    with StreamingWorkbook(path) as book, book.sheet("s") as ws:
        ws.append([Cell("标题", Style.TITLE)])
        ws.merge("A1:D1")
        with pytest.raises(ValueError, match="overlaps"):
            ws.merge("C1:E2")
        with pytest.raises(ValueError, match="more than one cell"):
            ws.merge("B3:B3")
        with pytest.raises(ValueError, match="range"):
            ws.merge("A1")
    assert [str(r) for r in load_workbook(path).active.merged_cells.ranges] == ["A1:D1"]


@pytest.mark.parametrize(
    "name", ["", "  ", "a" * 32, "a/b", "a[1]", "a:b", "a*", "a?", "a\\b", "'quoted", "History", "tab\t"]
)
def test_bad_sheet_names_are_refused(tmp_path: Path, name: str) -> None:
    with StreamingWorkbook(tmp_path / "n.xlsx") as book, pytest.raises(ValueError):
        book.sheet(name)


def test_duplicate_sheet_names_are_refused_case_insensitively(tmp_path: Path) -> None:
    with StreamingWorkbook(tmp_path / "n.xlsx") as book:
        book.sheet("Units").append(["x"])
        with pytest.raises(ValueError, match="duplicate"):
            book.sheet("UNITS")
        book.sheet("单位" * 15 + "a")  # 31 characters are fine
    assert load_workbook(tmp_path / "n.xlsx").sheetnames == ["Units", "单位" * 15 + "a"]


def test_an_empty_workbook_still_opens(tmp_path: Path) -> None:
    with StreamingWorkbook(tmp_path / "e.xlsx"):
        pass
    assert load_workbook(tmp_path / "e.xlsx").sheetnames == ["Sheet1"]


def test_opening_a_sheet_closes_the_previous_one(tmp_path: Path) -> None:
    with StreamingWorkbook(tmp_path / "c.xlsx") as book:
        first = book.sheet("一")
        first.append([1])
        second = book.sheet("二")
        with pytest.raises(ValueError, match="closed"):
            first.append([2])
        second.append([3])
        assert book.sheet_names == ["一", "二"]
    wb = load_workbook(tmp_path / "c.xlsx")
    assert (wb["一"]["A1"].value, wb["一"].max_row, wb["二"]["A1"].value) == (1, 1, 3)
    with pytest.raises(ValueError, match="closed"):
        book.sheet("三")


# -- overflow ------------------------------------------------------------------------------------------


def test_overflow_continues_on_numbered_sheets_with_the_header(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    with StreamingWorkbook(path, max_rows_per_sheet=4) as book:
        with book.sheet("活动", columns=[Column(9), Column(20)], header=["序号", "名称"]) as ws:
            for i in range(1, 9):
                ws.append([i, f"活动{i}"])
                assert ws.row_count == i
            assert ws.names == ("活动", "活动 (2)", "活动 (3)")
            assert (ws.name, ws.last_row) == ("活动 (3)", 3)
        with book.sheet("尾") as tail:
            tail.append(["end"])
    wb = load_workbook(path)
    assert wb.sheetnames == ["活动", "活动 (2)", "活动 (3)", "尾"]
    numbers: list[int] = []
    for name, rows in (("活动", 4), ("活动 (2)", 4), ("活动 (3)", 3)):
        part: Worksheet = wb[name]
        assert part.max_row == rows
        assert [c.value for c in part[1]] == ["序号", "名称"]
        assert part["A1"].font.b
        assert part.freeze_panes == "A2"
        assert part.auto_filter.ref == f"A1:B{rows}"
        assert part.column_dimensions["B"].width == 20
        numbers += [r[0].value for r in part.iter_rows(min_row=2)]
    assert numbers == list(range(1, 9))


def test_overflow_without_header_and_name_clashes(tmp_path: Path) -> None:
    path = tmp_path / "o.xlsx"
    long = "全民终身学习活动周各单位活动安排汇总表与统计明细数据"  # 26 characters
    with StreamingWorkbook(path, max_rows_per_sheet=2) as book:
        book.sheet("名单 (2)").append(["taken"])
        with book.sheet("名单") as ws:
            for i in range(5):
                ws.append([i])
        with book.sheet(long) as ws:
            for i in range(3):
                ws.append([i])
    names = load_workbook(path).sheetnames
    assert names == ["名单 (2)", "名单", "名单 (3)", "名单 (4)", long, long[:27] + " (2)"]
    assert all(len(n) <= 31 for n in names)
    wb = load_workbook(path)
    assert [wb[n].max_row for n in names[1:4]] == [2, 2, 1]


def test_max_rows_per_sheet_is_checked(tmp_path: Path) -> None:
    for bad in (1, 1_048_577):
        with pytest.raises(ValueError, match="max_rows_per_sheet"):
            StreamingWorkbook(tmp_path / "x.xlsx", max_rows_per_sheet=bad)
    assert temps(tmp_path) == []


# -- charts --------------------------------------------------------------------------------------------


def test_bar_charts_are_wired_into_the_package(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    with StreamingWorkbook(path) as book:
        with book.sheet("统计", header=["镇街", "报送率"]) as ws:
            for area, rate in (("湖塘镇", 0.5), ("牛塘镇", 0.75), ("洛阳镇", 1.0)):
                ws.append([area, Cell(rate, Style.PERCENT)])
            ws.add_bar_chart(
                "按镇街的报送率", categories=(2, 4, 1), series=[("报送率", 2, 4, 2)], percent_axis=True
            )
        with book.sheet("数量", header=["类型", "计划", "实际"]) as ws:
            ws.append(["讲座", 3, 4])
            ws.append(["展演", 5, 2])
            ws.add_bar_chart(
                "数量", categories=(2, 3, "A"), series=[("计划", 2, 3, "B"), ("实际", 2, 3, "C")]
            )
            ws.add_bar_chart("", categories=(2, 3, 1), series=[("实际", 2, 3, 3)], anchor="E20")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/charts/chart3.xml"} <= names
        assert {"xl/drawings/drawing1.xml", "xl/drawings/drawing2.xml"} <= names
        assert '<drawing r:id="rId1"/>' in z.read("xl/worksheets/sheet1.xml").decode()
        assert 'Target="../drawings/drawing1.xml"' in z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
        assert 'Target="../drawings/drawing2.xml"' in z.read("xl/worksheets/_rels/sheet2.xml.rels").decode()
        rels2 = z.read("xl/drawings/_rels/drawing2.xml.rels").decode()
        assert 'Id="rId1"' in rels2 and 'Target="../charts/chart2.xml"' in rels2
        assert 'Id="rId2"' in rels2 and 'Target="../charts/chart3.xml"' in rels2
        types = z.read("[Content_Types].xml").decode()
        for part in ("/xl/charts/chart3.xml", "/xl/drawings/drawing2.xml"):
            assert f'PartName="{part}"' in types
        chart1 = z.read("xl/charts/chart1.xml").decode()
        chart2 = z.read("xl/charts/chart2.xml").decode()
        drawing2 = z.read("xl/drawings/drawing2.xml").decode()
    assert "<c:f>'统计'!$A$2:$A$4</c:f>" in chart1 and "<c:f>'统计'!$B$2:$B$4</c:f>" in chart1
    assert 'formatCode="0%"' in chart1 and "按镇街的报送率" in chart1
    assert "<c:f>'数量'!$C$2:$C$3</c:f>" in chart2 and chart2.count("<c:ser>") == 2
    assert "<xdr:col>4</xdr:col>" in drawing2 and "<xdr:row>19</xdr:row>" in drawing2  # E20, 0-based
    wb = load_workbook(path)
    assert len(wb["统计"]._charts) == 1 and len(wb["数量"]._charts) == 2
    chart = wb["统计"]._charts[0]
    assert (chart.tagname, chart.type, chart.grouping) == ("barChart", "col", "clustered")
    assert chart.series[0].val.numRef.f == "'统计'!$B$2:$B$4"


def test_chart_arguments_are_checked(tmp_path: Path) -> None:
    with StreamingWorkbook(tmp_path / "c.xlsx") as book, book.sheet("s") as ws:
        with pytest.raises(ValueError, match="at least one series"):
            ws.add_bar_chart("t", categories=(1, 2, 1), series=[])
        with pytest.raises(ValueError, match="reversed"):
            ws.add_bar_chart("t", categories=(3, 2, 1), series=[("a", 2, 3, 2)])
        with pytest.raises(ValueError, match="not a column"):
            ws.add_bar_chart("t", categories=(1, 2, "1A"), series=[("a", 1, 2, 2)])
        with pytest.raises(ValueError, match="not a cell"):
            ws.add_bar_chart("t", categories=(1, 2, 1), series=[("a", 1, 2, 2)], anchor="nowhere")


# -- atomic replacement --------------------------------------------------------------------------------


def test_exception_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    old_master(path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="midway"):
        with StreamingWorkbook(path, title="新") as book:
            with book.sheet("新", header=["a"]) as ws:
                for i in range(30_000):  # enough to flush real bytes into the temporary file
                    ws.append([f"新数据 {i}"])
            # The temporary file sits next to the target, so os.replace is a same-file-system rename.
            assert [p.parent for p in temps(tmp_path)] == [tmp_path]
            assert temps(tmp_path)[0].stat().st_size > 10_000
            book.sheet("第二张").append(["x"])
            raise RuntimeError("midway")
    assert path.read_bytes() == before
    assert_old_master(path)
    assert temps(tmp_path) == []


def test_exception_inside_a_sheet_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    old_master(path)
    with pytest.raises(ValueError, match="duplicate"):
        with StreamingWorkbook(path) as book, book.sheet("数据") as ws:
            ws.append(["new"])
            book.sheet("数据")
    assert_old_master(path)
    assert temps(tmp_path) == []


def test_abort_and_dropping_the_writer_leave_nothing(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    book = StreamingWorkbook(path)
    book.sheet("s").append(["x"])
    book.abort()
    assert not path.exists() and temps(tmp_path) == []
    dropped = StreamingWorkbook(path)
    dropped.sheet("s").append(["x"])
    assert len(temps(tmp_path)) == 1
    del dropped
    gc.collect()  # the book and its open sheet refer to each other
    assert temps(tmp_path) == []


def test_success_replaces_and_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    old_master(path)
    os.chmod(path, 0o640)
    write_rows(path, [["新"]])
    assert load_workbook(path).active["A1"].value == "新"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fresh = write_rows(tmp_path / "fresh.xlsx", [["x"]])
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # not mkstemp's private 0600
    assert temps(tmp_path) == []


def test_a_live_writers_temporary_file_is_not_swept(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    with StreamingWorkbook(path) as slow:
        slow.sheet("慢").append(["slow"])
        (mine,) = temps(tmp_path)
        old = time.time() - STALE_TEMP_SECONDS - 5
        os.utime(mine, (old, old))  # looks stale, but its writer still holds the lock
        write_rows(path, [["fast"]])
        assert mine.exists()
    assert load_workbook(path).active["A1"].value == "slow"  # the last writer to finish wins
    assert temps(tmp_path) == []


# -- memory --------------------------------------------------------------------------------------------


def _peak_bytes(path: Path, n: int) -> int:
    row_base = ["W0001", "常州市武进区湖塘镇社区教育中心", "全民终身学习活动周 · 读书会", date(2022, 10, 20)]
    tracemalloc.start()
    try:
        with StreamingWorkbook(path) as book, book.sheet("s", header=["a", "b", "c", "d", "e", "f"]) as ws:
            for i in range(n):
                ws.append([*row_base, i, Cell(i / n, Style.PERCENT)])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_in_rows(tmp_path: Path) -> None:
    small = _peak_bytes(tmp_path / "small.xlsx", 6_000)
    big = _peak_bytes(tmp_path / "big.xlsx", 48_000)
    with zipfile.ZipFile(tmp_path / "big.xlsx") as z:
        assert z.read("xl/worksheets/sheet1.xml").count(b"<row ") == 48_001
    # 8x the rows: a writer that kept a Python object per cell would grow by tens of MiB here.
    assert big < small * 1.3 + 512 * 1024, (small, big)
    assert big < 24 * 2**20


# -- LibreOffice ---------------------------------------------------------------------------------------
