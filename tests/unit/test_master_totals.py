"""What the master's totals count (issue 10, item 3): only valid units by default, the others listed
with why; with `consolidate.count: all`, units with errors are counted but a failed cell never is."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from functions.adapters.store.memory import MemoryStore
from functions.adapters.xlsx.master_writer import write_master_xlsx
from functions.adapters.xlsx.reader import read_workbook
from functions.services.master.master_sheets import build_master
from functions.services.master.totals import counted_label, statistics_totals
from functions.services.status.unit_states import unit_statuses
from functions.validate.validator import validate_submission
from schemas.campaign import Campaign, ConsolidateSettings
from schemas.report import ValidationReport
from schemas.roster import Roster, Unit
from tests.helpers.workbooks import summary_entries, unit_of_type, write_workbook

NOW = dt.datetime(2022, 12, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def send(
    tmp_path: Path, campaign: Campaign, roster: Roster, store: MemoryStore, unit: Unit, **stats: Any
) -> ValidationReport:
    """A unit's summary workbook, written, read back, validated and stored as the intake does."""
    path = write_workbook(tmp_path / f"{unit.code}.xlsx", campaign, "summary", unit, summary_entries(**stats))
    parsed, report = validate_submission(read_workbook(path, campaign, roster), campaign, roster)
    assert parsed is not None
    store.add_version(parsed, report, received_at=NOW, late=False)
    return report


def two_units(tmp_path: Path, campaign: Campaign, roster: Roster) -> tuple[MemoryStore, Unit, Unit]:
    """A valid school, and a centre whose 参与总人次 is 若干 (an error: the cell cannot be read)."""
    store = MemoryStore()
    school, centre = unit_of_type(roster, "中小学"), unit_of_type(roster, "镇（街道）社区教育中心")
    assert send(tmp_path, campaign, roster, store, school).valid
    bad = send(tmp_path, campaign, roster, store, centre, total_sessions=12, total_participants="若干")
    assert not bad.valid
    return store, school, centre


def test_by_default_only_valid_units_are_counted_and_the_others_are_listed_with_why(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    store, school, centre = two_units(tmp_path, campaign, roster)
    totals = statistics_totals(campaign, unit_statuses(campaign, roster, store))

    assert totals.mode == "valid" and totals.units == 1 and totals.incomplete == 0
    assert totals.sums["total_sessions"] == 10 and totals.sums["total_participants"] == 800
    assert totals.by_type == {"中小学": 1} and totals.expected == len(roster.units)
    reasons = {x.unit.code: x.reason for x in totals.left_out}
    assert len(reasons) == len(roster.units) - 1 and school.code not in reasons
    assert "有1处错误，未计入合计" in reasons[centre.code] and "参与总人次" in reasons[centre.code]
    assert reasons[unit_of_type(roster, "开放大学").code] == "未报送"
    assert counted_label(campaign, totals) == "已通过校验的1个单位合计"


def test_count_all_sums_units_with_errors_but_never_a_failed_cell(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    campaign = campaign.model_copy(update={"consolidate": ConsolidateSettings(count="all")})
    store, _school, centre = two_units(tmp_path, campaign, roster)
    totals = statistics_totals(campaign, unit_statuses(campaign, roster, store))

    assert totals.units == 2 and totals.incomplete == 1
    assert totals.sums["total_sessions"] == 22  # the centre's readable cells count
    assert totals.sums["total_participants"] == 800  # its 若干 does not, not even as 0 shown as a figure
    [row] = [r for r in totals.rows if r.unit.code == centre.code]
    assert row.counted and row.failed == {"total_participants"}
    assert "其中1个单位有错误，出错的数据未计入" in counted_label(campaign, totals)


def test_the_statistics_sheet_shows_state_failed_cells_and_the_left_out_units(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    store, school, centre = two_units(tmp_path, campaign, roster)
    path = tmp_path / "out" / "master.xlsx"
    build_master(campaign, roster, store, path, now=NOW, write=write_master_xlsx)

    wb = load_workbook(path)
    rows = list(wb["统计"].iter_rows(values_only=True))
    header = rows[0]
    state, people = header.index("状态"), header.index("参与总人次")
    by_code = {r[0]: r for r in rows[1:3]}
    assert by_code[school.code][state] == "已通过" and by_code[school.code][people] == 800
    assert by_code[centre.code][state] == "有错误，未计入合计"
    assert by_code[centre.code][people] == "有误，未计入"  # never an empty cell that reads as 0
    [total] = [r for r in rows if r[0] == "合计"]
    assert total[2] == "已通过校验的1个单位合计" and total[people] == 800
    assert total[header.index("活动总场次")] == 10
    end = rows.index(total)
    assert rows[end + 1][0] == f"未计入合计的单位（{len(roster.units) - 1}个）"
    listed = {r[0]: r for r in rows[end + 2 :]}
    assert listed[centre.code][state] == "有错误" and "未计入合计" in listed[centre.code][state + 1]
    overview = [[c for c in r if c is not None] for r in wb["总览"].iter_rows(values_only=True)]
    assert ["已通过校验的1个单位合计"] in overview and ["计入单位数", 1] in overview
    assert ["参与总人次", 800] in overview
