"""LibreOffice opens what huizong writes and saves it back intact: a unit's workbook and the streamed master.

Skipped where LibreOffice (libreoffice-calc, `soffice`) is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.adapters.xlsx.reader import read_workbook
from functions.adapters.xlsx.stream import Cell, Column, StreamingWorkbook, Style
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import ACTIVITY_HEADERS, saved_workbook, unit_of_type
from tests.helpers.xlsx import FORMULA_LIKE


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (libreoffice-calc) not installed")
def test_opens_in_libreoffice_and_survives_its_round_trip(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    src = saved_workbook(tmp_path, campaign, "plan", school)
    out = tmp_path / "lo"
    profile = (tmp_path / "lo-profile").as_uri()
    for fmt in ("pdf", "xlsx:Calc MS Excel 2007 XML"):
        done = subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt,
             "--outdir", str(out), str(src)],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (out / "plan.pdf").stat().st_size > 1000
    # What LibreOffice saved back is still our workbook: same sheets, headers and identity.
    again = out / "plan.xlsx"
    wb = load_workbook(again)
    assert [c.value for c in wb["主要活动安排表"][1]] == ACTIVITY_HEADERS
    raw = read_workbook(again, campaign, roster)
    assert (raw.unit_code, raw.deliverable) == (school.code, "plan")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (libreoffice-calc) not installed")
def test_opens_in_libreoffice(tmp_path: Path) -> None:
    src = tmp_path / "master.xlsx"
    stamp = datetime(2022, 10, 21, 9, 45, tzinfo=UTC)
    with StreamingWorkbook(src, title="武进区 汇总表") as book:
        with book.sheet("概览") as ws:
            ws.append([Cell("全民终身学习活动周 报送汇总", Style.TITLE)])
            ws.append(["数据截至", Cell(stamp, Style.DATETIME)])
            ws.append([Cell("镇街", Style.HEADER), Cell("报送率", Style.HEADER)])
            ws.append(["湖塘镇", Cell(0.5, Style.PERCENT)])
            ws.append(["牛塘镇", Cell(0.75, Style.PERCENT)])
            ws.add_bar_chart("按镇街的报送率", categories=(4, 5, 1), series=[("报送率", 4, 5, 2)], anchor="D2",
                             percent_axis=True)  # fmt: skip
        with book.sheet("活动", columns=[Column(30), Column(12)], header=["内容", "日期"]) as ws:
            for text in FORMULA_LIKE:
                ws.append([text, date(2022, 10, 20), Cell(1, Style.STATE_VALID)])
    out = tmp_path / "lo"
    profile = (tmp_path / "lo-profile").as_uri()
    for fmt in ("pdf", "xlsx:Calc MS Excel 2007 XML"):
        done = subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", fmt,
             "--outdir", str(out), str(src)],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert (out / "master.pdf").stat().st_size > 1000
    # What LibreOffice saved back: the sheets, text that stayed text, dates that stayed dates, the chart.
    again = load_workbook(out / "master.xlsx")
    assert again.sheetnames == ["概览", "活动"]
    assert again["概览"]["B2"].value == datetime(2022, 10, 21, 9, 45)
    rows = list(again["活动"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == FORMULA_LIKE
    assert all(r[1] == datetime(2022, 10, 20) for r in rows)
    # (Headless LibreOffice drops view settings such as frozen panes on export, even from openpyxl files.)
    with zipfile.ZipFile(out / "master.xlsx") as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
