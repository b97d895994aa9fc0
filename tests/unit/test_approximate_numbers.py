"""Approximate figures always carry the approximate-number warning (issue 10, item 6): at the cell level
and through a real workbook, where 1.2万 used to be stored as 12000 without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.cells import Place, read_cell
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.formspec import FieldSpec
from schemas.raw import RawCell
from schemas.roster import Roster
from tests.helpers.workbooks import summary_entries, write_workbook

_SPEC = FieldSpec(
    key="total_participants", label_zh="参与总人次", label_en="Total participant visits", type="integer"
)
_WHERE = Place(sheet="统计表", cell="B9", row=9)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1.2万", 12000),
        ("近两万", 20000),
        ("约300", 300),
        ("3000余", 3000),
        ("1.2w", 12000),
        ("0.5万人次", 5000),
    ],
)
def test_each_approximate_figure_is_counted_with_a_warning(typed: str, number: int) -> None:
    result = read_cell(_SPEC, RawCell(value=typed, cell="B9"), _WHERE, "zh", 2022)
    assert result.ok and result.value == number
    assert [(i.code, i.severity, i.cell) for i in result.issues] == [("approximate-number", "warning", "B9")]
    assert f"约数“{typed}”" in result.issues[0].message and str(number) in result.issues[0].message


@pytest.mark.parametrize("typed", ["12000", "1万2000", "两万", "共3000人", "11万人次"])
def test_exact_figures_get_no_warning(typed: str) -> None:
    result = read_cell(_SPEC, RawCell(value=typed, cell="B9"), _WHERE, "zh", 2022)
    assert result.ok and result.issues == []


def test_an_approximate_figure_in_a_real_workbook_is_warned(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    path = write_workbook(
        tmp_path / "s.xlsx",
        campaign,
        "summary",
        unit,
        summary_entries(total_participants="1.2万", online_participants="约300"),
    )
    raw = read_workbook(path, campaign, roster)
    parsed, report = validate_submission(raw, campaign, roster, ValidationContext())
    warned = sorted((i.code, i.value) for i in report.warnings if i.code == "approximate-number")
    assert warned == [("approximate-number", "1.2万"), ("approximate-number", "约300")]
    assert parsed is not None and parsed.tables["statistics"][0]["total_participants"] == 12000
