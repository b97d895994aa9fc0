"""The streaming writer behind the master: types, text safety, overflow, atomic replace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.adapters.xlsx_stream import Cell, Column, StreamingWorkbook, Style, fit_width


def _write(path: Path, rows: list[list[object]], **kw: object) -> None:
    with (
        StreamingWorkbook(path, title="t", **kw) as wb,  # type: ignore[arg-type]
        wb.sheet("活动安排", columns=[Column(width=20)] * 4, header=["名称", "日期", "人数", "时间"],
                 freeze_header=True, autofilter=True) as ws,
    ):  # fmt: skip
        for row in rows:
            ws.append(row)


def test_types_text_safety_and_header(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    when = dt.datetime(2022, 12, 3, 9, 30)
    rows: list[list[object]] = [
        ['=HYPERLINK("http://evil.example","点我")', dt.date(2022, 12, 3), 120, Cell(when, Style.DATETIME)],
        ["+86 报告厅", None, 1.5, Cell(0.25, Style.PERCENT)],
        ["@sum(1)", "-1-", True, "a\x01b"],
    ]
    _write(path, rows)
    ws = load_workbook(path)["活动安排"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert [c.value for c in ws[1]] == ["名称", "日期", "人数", "时间"]
    a2, b2, c2, d2 = ws[2]
    assert a2.value == '=HYPERLINK("http://evil.example","点我")' and a2.data_type == "s"
    assert b2.value == dt.datetime(2022, 12, 3) and b2.is_date
    assert c2.value == 120 and c2.data_type == "n"
    assert d2.value == when
    assert ws["A3"].value == "+86 报告厅" and ws["A4"].value == "@sum(1)" and ws["B4"].value == "-1-"
    assert ws["D4"].value == "ab"  # a control character Excel would refuse is dropped
    assert ws.column_dimensions["A"].width == pytest.approx(20, abs=1)


def test_rows_past_the_limit_continue_on_a_second_sheet(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    _write(path, [[f"活动{i}", None, i, None] for i in range(25)], max_rows_per_sheet=11)
    wb = load_workbook(path)
    assert wb.sheetnames == ["活动安排", "活动安排 (2)", "活动安排 (3)"]
    firsts = [wb[n]["A1"].value for n in wb.sheetnames]
    assert firsts == ["名称"] * 3  # the header is repeated on each continuation
    values = [r[2] for n in wb.sheetnames for r in wb[n].iter_rows(min_row=2, values_only=True)]
    assert values == list(range(25))


def test_failure_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    _write(path, [["旧", None, 1, None]])
    before = path.read_bytes()

    def rows() -> list[list[object]]:
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        with StreamingWorkbook(path, title="t") as wb, wb.sheet("活动安排", header=["名称"]) as ws:
            ws.append(["新"])
            rows()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.xlsx"]


def test_fit_width_counts_chinese_double() -> None:
    assert fit_width(["推荐终身学习品牌项目数"]) > fit_width(["abcdefghijk"])
    assert fit_width(["x" * 500], maximum=60) == 60
