"""Formulas as a spreadsheet program really saves them (issue 10, item 1): a unit workbook with text typed
after "=" and a sum in 活动总场次 is saved by LibreOffice, which calculates it and caches #NAME? and the
sum; the real reader then reports error-value (with the fix) and uses the sum with formula-used.

Skipped where LibreOffice (libreoffice-calc, `soffice`) is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook
from tests.helpers.xlsx_parts import read_part, sheet_part

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


def _through_libreoffice(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / "lo"
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to",
         "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / src.name


def test_libreoffice_saved_formulas(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    plan = write_workbook(
        tmp_path / "src" / "plan.xlsx", campaign, "plan", school, school_plan(campaign, school)
    )
    table = read_workbook(plan, campaign, roster).tables["activities"]
    name_cell = f"{table.columns['name']}2"
    wb = load_workbook(plan)
    wb[table.sheet][name_cell] = "=百姓学习之星评选"  # what the clerk typed; openpyxl keeps it a formula
    wb.save(plan)

    saved = _through_libreoffice(plan, tmp_path)
    part = read_part(saved, sheet_part(saved, table.sheet)).decode()
    assert 't="e"' in part and "#NAME?" in part  # LibreOffice cached the error, as Excel and WPS do
    parsed, report = validate_submission(
        read_workbook(saved, campaign, roster), campaign, roster, ValidationContext()
    )
    errors = [(i.code, i.cell, i.value) for i in report.errors]
    assert ("error-value", name_cell, "#NAME?") in errors
    assert "删去开头的“=”" in next(i.message for i in report.errors if i.code == "error-value")
    assert not any(i.code == "missing-value" and i.cell == name_cell for i in report.errors)
    assert parsed is not None
    assert all("#NAME?" != v for row in parsed.tables["activities"] for v in row.values())


def test_libreoffice_calculated_sum_is_used(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    summary = write_workbook(tmp_path / "src" / "summary.xlsx", campaign, "summary", unit, summary_entries())
    stats = read_workbook(summary, campaign, roster).tables["statistics"]
    cells = stats.records[0].cells
    total, parts = (
        cells["total_sessions"].cell,
        [
            cells[k].cell
            for k in ("lecture_sessions", "training_sessions", "exhibition_sessions", "reading_sessions")
        ],
    )
    assert total is not None and all(parts)
    wb = load_workbook(summary)
    wb[stats.sheet][total] = "=" + "+".join(str(p) for p in parts)
    wb.save(summary)
    # Before LibreOffice: a formula nobody calculated.
    _, before = validate_submission(
        read_workbook(summary, campaign, roster), campaign, roster, ValidationContext()
    )
    assert [(i.code, i.cell) for i in before.errors] == [("formula-no-value", total)]

    saved = _through_libreoffice(summary, tmp_path)
    parsed, report = validate_submission(
        read_workbook(saved, campaign, roster), campaign, roster, ValidationContext()
    )
    assert [(i.code, i.cell, i.value) for i in report.warnings if i.code == "formula-used"] == [
        ("formula-used", total, "8")
    ]
    assert parsed is not None and parsed.tables["statistics"][0]["total_sessions"] == 8  # 3 + 2 + 1 + 2
