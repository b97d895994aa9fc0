"""Formulas and error values as Excel, WPS and LibreOffice save them (issue 10, item 1): the sheet XML is
written with <f> with and without a cached <v>, and with t="e" errors, then read by the real reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.report import Issue, ValidationReport
from schemas.roster import Roster, Unit
from schemas.submission import ParsedSubmission
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook
from tests.helpers.xlsx_parts import formula, set_cell

ERRORS = ["#NAME?", "#VALUE!", "#REF!", "#DIV/0!", "#N/A", "#NUM!", "#NULL!"]


def _check(
    path: Path, campaign: Campaign, roster: Roster
) -> tuple[ParsedSubmission | None, ValidationReport]:
    raw = read_workbook(path, campaign, roster)
    return validate_submission(raw, campaign, roster, ValidationContext())


def _only(report: ValidationReport, code: str) -> Issue:
    hits = [i for i in report.issues if i.code == code]
    assert len(hits) == 1, [(i.code, i.cell, i.message) for i in report.issues]
    return hits[0]


def _plan(tmp_path: Path, campaign: Campaign, school: Unit) -> tuple[Path, str, str]:
    """A valid plan, the activities sheet's title and the column letter of 活动名称."""
    path = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", school, school_plan(campaign, school))
    table = read_workbook(path, campaign, Roster(units=[school])).tables["activities"]
    return path, table.sheet, table.columns["name"]


def _summary(tmp_path: Path, campaign: Campaign, unit: Unit) -> tuple[Path, str, str]:
    """A valid summary, the statistics sheet's title and the cell of 活动总场次."""
    path = write_workbook(tmp_path / "summary.xlsx", campaign, "summary", unit, summary_entries())
    raw = read_workbook(path, campaign, Roster(units=[unit]))
    table = raw.tables["statistics"]
    cell = table.records[0].cells["total_sessions"].cell
    assert cell is not None
    return path, table.sheet, cell


def _stored_values(parsed: ParsedSubmission | None) -> list[object]:
    assert parsed is not None
    return [v for rows in parsed.tables.values() for row in rows for v in row.values()]


def test_text_typed_after_an_equals_sign_is_an_error_value_with_the_fix(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path, sheet, col = _plan(tmp_path, campaign, school)
    # What Excel saves for a cell typed as =百姓学习之星评选: the formula and its cached #NAME?.
    bad = set_cell(
        path,
        tmp_path / "name.xlsx",
        sheet,
        f"{col}2",
        formula(f"{col}2", "百姓学习之星评选", cached="#NAME?", kind="e"),
    )
    parsed, report = _check(bad, campaign, roster)
    issue = _only(report, "error-value")
    assert (issue.severity, issue.cell, issue.value) == ("error", f"{col}2", "#NAME?")
    assert "=百姓学习之星评选" in issue.message and "删去开头的“=”" in issue.message and "'" in issue.message
    assert not [i for i in report.issues if i.code == "missing-value"]
    assert not report.valid
    stored = _stored_values(parsed)
    assert "#NAME?" not in stored and not any(isinstance(v, str) and "百姓学习之星评选" in v for v in stored)


def test_the_same_cell_uncalculated_is_formula_no_value_not_missing(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path, sheet, col = _plan(tmp_path, campaign, school)
    bad = set_cell(path, tmp_path / "nocache.xlsx", sheet, f"{col}3", formula(f"{col}3", "百姓学习之星评选"))
    parsed, report = _check(bad, campaign, roster)
    issue = _only(report, "formula-no-value")
    assert (issue.severity, issue.cell) == ("error", f"{col}3")
    assert "没有计算结果" in issue.message and "=百姓学习之星评选" in issue.message
    assert not [i for i in report.issues if i.code == "missing-value"]
    assert "百姓学习之星评选" not in [v for v in _stored_values(parsed) if isinstance(v, str)]


def test_an_empty_cached_value_as_openpyxl_writes_it_is_no_value(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path, sheet, col = _plan(tmp_path, campaign, school)
    bad = set_cell(
        path, tmp_path / "empty-v.xlsx", sheet, f"{col}2", f'<c r="{col}2"><f>CONCAT("a","b")</f><v/></c>'
    )
    _, report = _check(bad, campaign, roster)
    assert _only(report, "formula-no-value").cell == f"{col}2"


@pytest.mark.parametrize("error", ERRORS)
def test_every_cached_error_value_is_named(
    tmp_path: Path, wujin: tuple[Campaign, Roster], error: str
) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    path, sheet, ref = _summary(tmp_path, campaign, unit)
    bad = set_cell(path, tmp_path / "err.xlsx", sheet, ref, formula(ref, "B4/B99", cached=error, kind="e"))
    parsed, report = _check(bad, campaign, roster)
    issue = _only(report, "error-value")
    assert (issue.cell, issue.value) == (ref, error)
    assert error in issue.message and "修正公式" in issue.message
    assert "删去开头" not in issue.message  # a real formula: no advice about typed text
    assert parsed is not None and parsed.tables["statistics"][0]["total_sessions"] is None
    assert error not in _stored_values(parsed)


def test_an_error_value_without_a_formula_is_still_an_error(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    path, sheet, ref = _summary(tmp_path, campaign, unit)
    bad = set_cell(path, tmp_path / "pasted.xlsx", sheet, ref, f'<c r="{ref}" t="e"><v>#N/A</v></c>')
    _, report = _check(bad, campaign, roster)
    assert _only(report, "error-value").value == "#N/A"


def test_a_calculated_formula_is_used_with_a_warning(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    path, sheet, ref = _summary(tmp_path, campaign, unit)
    # 活动总场次 = the four kinds of sessions, as a clerk would write it; Excel cached the result 10.
    good = set_cell(path, tmp_path / "sum.xlsx", sheet, ref, formula(ref, "B3+B4+B5+B6", cached="10"))
    parsed, report = _check(good, campaign, roster)
    warning = _only(report, "formula-used")
    assert (warning.severity, warning.cell, warning.value) == ("warning", ref, "10")
    assert "=B3+B4+B5+B6" in warning.message
    assert report.valid and parsed is not None
    assert parsed.tables["statistics"][0]["total_sessions"] == 10


def test_a_calculated_formula_out_of_range_keeps_both_issues(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    path, sheet, ref = _summary(tmp_path, campaign, unit)
    bad = set_cell(path, tmp_path / "neg.xlsx", sheet, ref, formula(ref, "B3-B4", cached="-5"))
    _, report = _check(bad, campaign, roster)
    assert sorted(i.code for i in report.issues if i.cell == ref) == ["formula-used", "out-of-range"]


def test_a_formula_giving_empty_text_is_a_blank_cell(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path, sheet, _ = _plan(tmp_path, campaign, school)
    notes = read_workbook(path, campaign, roster).tables["activities"].columns["notes"]
    blank = set_cell(
        path,
        tmp_path / "blank.xlsx",
        sheet,
        f"{notes}2",
        formula(f"{notes}2", 'IF(A2="","","x")', cached="", kind="str"),
    )
    _, report = _check(blank, campaign, roster)
    assert report.valid and not [i for i in report.issues if i.code.startswith("formula")]


def test_english_campaign_messages(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    campaign = campaign.model_copy(update={"language": "en"})
    school = unit_of_type(roster, "中小学")
    path, sheet, col = _plan(tmp_path, campaign, school)
    bad = set_cell(
        path, tmp_path / "en.xlsx", sheet, f"{col}2", formula(f"{col}2", "Star", cached="#NAME?", kind="e")
    )
    _, report = _check(bad, campaign, roster)
    message = _only(report, "error-value").message
    assert "Remove the leading '='" in message and "'=Star" in message
