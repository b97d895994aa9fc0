"""The reader against hostile and odd workbooks (issue 11 §2 items 1-4 and 10): each is answered with its
own code, a limit is refused while reading, every row is read whatever <dimension> says, and a valid
workbook is opened whatever its file name."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.xlsx.reader import read_workbook
from functions.adapters.xlsx.zip_guard import ReadLimits
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.report import ValidationReport
from schemas.roster import Roster
from tests.helpers.hostile_xlsx import CORPUS, Hostile, stale_dimension
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook
from tests.helpers.xlsx_parts import read_part, replace_parts, set_cell, sheet_part, zip_needing_version

FILE_CODES = {
    "unreadable-sheet",
    "not-xlsx",
    "too-many-rows",
    "too-many-columns",
    "too-compressed",
    "too-large-part",
    "too-large-unpacked",
    "too-many-cells",
    "too-slow-to-read",
}


@pytest.fixture
def plan(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> tuple[Path, str]:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "base.xlsx", campaign, "plan", school, school_plan(campaign, school))
    return path, campaign.tables_of("plan")[0].title("zh")


def _check(
    path: Path, campaign: Campaign, roster: Roster, limits: ReadLimits | None = None
) -> ValidationReport:
    raw = read_workbook(path, campaign, roster, **({"limits": limits} if limits else {}))
    _, report = validate_submission(raw, campaign, roster, ValidationContext())
    return report


LIGHT = [h for h in CORPUS if not h.heavy]  # the bombs go through ingest_all in the integration tier


@pytest.mark.parametrize("hostile", LIGHT, ids=[h.name for h in LIGHT])
def test_each_hostile_file_gets_its_code(
    tmp_path: Path, wujin: tuple[Campaign, Roster], plan: tuple[Path, str], hostile: Hostile
) -> None:
    campaign, roster = wujin
    base, title = plan
    (tmp_path / "corpus").mkdir()
    path = hostile.make(base, tmp_path / "corpus" / hostile.name, title)
    report = _check(path, campaign, roster)
    codes = [i.code for i in report.errors]
    if hostile.code:
        assert codes == [hostile.code], [(i.code, i.message) for i in report.issues]
        message = report.errors[0].message
        assert "Traceback" not in message and str(tmp_path) not in message
        assert report.unit is None or report.unit == unit_of_type(roster, "中小学").code
    else:
        assert report.valid, [(i.code, i.message) for i in report.issues]
        assert report.unit == unit_of_type(roster, "中小学").code and report.deliverable == "plan"


def test_messages_say_what_where_and_how(
    tmp_path: Path, wujin: tuple[Campaign, Roster], plan: tuple[Path, str]
) -> None:
    campaign, roster = wujin
    base, title = plan
    by_name = {h.name: h for h in CORPUS}
    far = by_name["far-row.xlsx"].make(base, tmp_path / "far.xlsx", title)
    message = _check(far, campaign, roster).errors[0].message
    assert f"“{title}”第 1048576 行" in message and "10000" in message and "请删除" in message
    broken = by_name["control-chars.xlsx"].make(base, tmp_path / "cc.xlsx", title)
    message = _check(broken, campaign, roster).errors[0].message
    assert "xl/worksheets/" in message and "另存为" in message


def test_a_stale_dimension_drops_no_row(
    tmp_path: Path, wujin: tuple[Campaign, Roster], plan: tuple[Path, str]
) -> None:
    campaign, roster = wujin
    base, title = plan
    stale = stale_dimension(base, tmp_path / "stale.xlsx", title)
    assert b'<dimension ref="A1:B2"/>' in read_part(stale, sheet_part(stale, title))
    before = read_workbook(base, campaign, roster).tables["activities"].records
    after = read_workbook(stale, campaign, roster).tables["activities"].records
    assert len(before) >= 4 and [r.row for r in after] == [r.row for r in before]


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (ReadLimits(max_unpacked_bytes=20_000), "too-large-unpacked"),
        (ReadLimits(max_part_bytes=5_000), "too-large-part"),
        (ReadLimits(max_rows=3), "too-many-rows"),
        (ReadLimits(max_columns=3), "too-many-columns"),
        (ReadLimits(max_cells=20), "too-many-cells"),
        (ReadLimits(budget_seconds=0), "too-slow-to-read"),
    ],
)
def test_each_limit_is_refused_with_its_own_code(
    wujin: tuple[Campaign, Roster], plan: tuple[Path, str], limits: ReadLimits, code: str
) -> None:
    campaign, roster = wujin
    base, _ = plan
    assert _check(base, campaign, roster).valid  # the same file within the default limits
    report = _check(base, campaign, roster, limits)
    assert [i.code for i in report.errors] == [code]
    assert not report.valid


def test_a_limit_hit_leaves_nothing_half_read(wujin: tuple[Campaign, Roster], plan: tuple[Path, str]) -> None:
    campaign, roster = wujin
    raw = read_workbook(plan[0], campaign, roster, limits=ReadLimits(max_rows=3))
    assert raw.tables == {}
    parsed, _ = validate_submission(raw, campaign, roster, ValidationContext())
    assert parsed is None  # nothing stored from a workbook cut short


def _duration_workbook(tmp_path: Path, campaign: Campaign, roster: Roster, value: str) -> tuple[Path, str]:
    """The statistics' 活动总场次 holding `value` in a cell formatted [h]:mm:ss (built-in format 46)."""
    unit = roster.units[0]
    path = write_workbook(tmp_path / "s.xlsx", campaign, "summary", unit, summary_entries())
    table = read_workbook(path, campaign, roster).tables["statistics"]
    ref = table.records[0].cells["total_sessions"].cell
    assert ref is not None
    styles = read_part(path, "xl/styles.xml").decode()
    count = styles.count("<xf ", styles.index("<cellXfs"), styles.index("</cellXfs>"))
    styles = styles.replace(
        "</cellXfs>", '<xf numFmtId="46" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs>'
    )
    styled = replace_parts(path, tmp_path / "styled.xlsx", {"xl/styles.xml": styles.encode()})
    return set_cell(
        styled, tmp_path / "duration.xlsx", table.sheet, ref, f'<c r="{ref}" s="{count}"><v>{value}</v></c>'
    ), ref


def test_a_duration_formatted_whole_number_is_accepted_as_a_number(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    path, _ = _duration_workbook(tmp_path, campaign, roster, "10")
    raw = read_workbook(path, campaign, roster)
    cell = raw.tables["statistics"].records[0].cells["total_sessions"]
    assert (cell.value, cell.number_format) == (10, "[h]:mm:ss")
    parsed, report = validate_submission(raw, campaign, roster, ValidationContext())
    assert report.valid and parsed is not None and parsed.tables["statistics"][0]["total_sessions"] == 10


def test_a_duration_formatted_fraction_is_a_bad_number(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    path, ref = _duration_workbook(tmp_path, campaign, roster, "0.5")
    report = _check(path, campaign, roster)
    assert [(i.code, i.cell) for i in report.errors] == [("bad-number", ref)]


@pytest.mark.parametrize(
    "name", ["plan.xls", "plan", "plan.xlsx.download", "计划（最终版）.XLSX", ".hidden name.xlsx"]
)
def test_a_valid_workbook_is_opened_by_content_whatever_its_name(
    tmp_path: Path, wujin: tuple[Campaign, Roster], plan: tuple[Path, str], name: str
) -> None:
    campaign, roster = wujin
    renamed = tmp_path / name
    renamed.write_bytes(plan[0].read_bytes())
    report = _check(renamed, campaign, roster)
    assert report.valid and report.deliverable == "plan"


def test_every_corpus_code_is_a_file_level_refusal() -> None:
    assert {h.code for h in CORPUS if h.code} <= FILE_CODES


def test_a_zip_python_cannot_open_is_not_xlsx_not_a_crash(
    tmp_path: Path, wujin: tuple[Campaign, Roster], plan: tuple[Path, str]
) -> None:
    campaign, roster = wujin
    path = tmp_path / "from-the-future.xlsx"
    path.write_bytes(zip_needing_version(plan[0].read_bytes()))
    raw = read_workbook(path, campaign, roster)
    assert [i.code for i in raw.issues] == ["not-xlsx"]
