"""The web form's workbook upload as a service (functions/services/web/form_upload.py), without HTTP.

What the TestClient tests (tests/integration/test_web_form_upload.py) leave to this tier: how a workbook's
row numbers become the form's card numbers, and a workbook that names another unit only by its name.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.bootstrap import App, open_app
from functions.services.web.form_upload import form_report, upload_workbook
from schemas.raw import RawCell, RawRecord, RawSubmission, RawTable
from schemas.report import Issue, ValidationReport
from sheets_templates import layout
from tests.helpers.workbooks import school_plan, write_workbook

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


def _issue(sheet: str, row: int | None, cell: str | None) -> Issue:
    return Issue(code="bad-number", severity="error", sheet=sheet, row=row, cell=cell, message="m")


def test_workbook_rows_become_the_forms_card_numbers(app: App) -> None:
    lang = app.campaign.language
    activities = app.campaign.form_spec.table("activities").title(lang)
    materials = app.campaign.form_spec.table("plan_materials").title(lang)
    # Two activities on the sheet's rows 2 and 5 (rows 3 and 4 left blank by the unit).
    raw = RawSubmission(
        source="x",
        tables={
            "activities": RawTable(
                key="activities",
                sheet=activities,
                records=[
                    RawRecord(row=2, cells={"name": RawCell(value="a", cell="B2")}),
                    RawRecord(row=5, cells={"name": RawCell(value="b", cell="B5")}),
                ],
            )
        },
    )
    report = ValidationReport(
        file="x",
        valid=False,
        errors=[_issue(activities, 5, "I5"), _issue(activities, 3, "I3"), _issue(materials, 2, "B2")],
        warnings=[_issue(activities, 2, "I2")],
    )
    shown = form_report(app, "plan", raw, report)
    assert [(i.sheet, i.row, i.cell) for i in shown.errors] == [
        (activities, 2, "I5"),  # the second card, its cell as in the workbook
        (activities, None, "I3"),  # no card for a blank row: the table's
        (materials, 2, "B2"),  # a one-record table: its row is not a card's, left as it was
    ]
    assert [(i.row, i.cell) for i in shown.warnings] == [(1, "I2")]
    assert [i.row for i in report.errors] == [5, 3, 2]  # the stored report is not changed


def test_a_workbook_naming_another_roster_unit_by_name_is_refused(app: App, tmp_path: Path) -> None:
    """No code typed, but the name of another unit on 填写说明 (the hidden sheet is this unit's)."""
    unit, other = app.roster.get("WJ015"), app.roster.get("WJ016")
    assert unit is not None and other is not None
    path = write_workbook(tmp_path / "plan.xlsx", app.campaign, "plan", unit, school_plan(app.campaign, unit))
    wb = load_workbook(path)
    ws = wb[layout.INSTRUCTIONS_SHEET[app.campaign.language]]
    label = layout.IDENTITY_LABELS["unit_name"][app.campaign.language]
    row = next(c.row for r in ws.iter_rows() for c in r if layout.normalise_label(c.value) == label)
    ws[f"{layout.IDENTITY_VALUE_COLUMN}{row}"] = f" {other.name} "
    wb.save(path)
    result = upload_workbook(
        app, unit, "plan", name="plan.xlsx", data=path.read_bytes(), now=NOW, link="http://x/u/t"
    )
    assert result.saved is None and f"“{other.name}（{other.code}）”" in result.refused
    assert app.store.latest("WJ015", "plan") is None and app.store.latest("WJ016", "plan") is None

    # The unit's own name, written with full-width brackets or spaces, is the unit's.
    ws[f"{layout.IDENTITY_VALUE_COLUMN}{row}"] = unit.name.replace("区", "区 ")
    wb.save(path)
    result = upload_workbook(
        app, unit, "plan", name="plan.xlsx", data=path.read_bytes(), now=NOW, link="http://x/u/t"
    )
    assert result.refused == "" and result.saved is not None and result.saved.stored


def test_another_campaigns_workbook_is_refused_and_nothing_is_written(app: App, tmp_path: Path) -> None:
    """Last year's workbook of the same unit (its hidden sheet names another campaign): the folder channel
    would not store it either; the upload says why, and leaves the unit's report file alone."""
    unit = app.roster.get("WJ015")
    assert unit is not None
    path = write_workbook(tmp_path / "plan.xlsx", app.campaign, "plan", unit, school_plan(app.campaign, unit))
    wb = load_workbook(path)
    meta = wb[layout.META_SHEET]
    row = next(c.row for r in meta.iter_rows() for c in r if c.value == "campaign_id")
    meta.cell(row=row, column=2, value="wujin-2021")
    wb.save(path)
    result = upload_workbook(
        app, unit, "plan", name="plan.xlsx", data=path.read_bytes(), now=NOW, link="http://x/u/t"
    )
    assert result.saved is None and "未保存任何内容" in result.refused
    assert [i.code for i in result.problems] == ["unknown-template"]
    assert "wujin-2021" in result.problems[0].message
    assert app.store.latest("WJ015", "plan") is None
    assert not (app.paths.reports / "WJ015-plan.json").exists()
