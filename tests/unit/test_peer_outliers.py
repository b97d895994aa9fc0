"""The `outlier` check compares a unit with its own type (issue 10, item 4) and prints the figure it judged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from functions.adapters.store.memory import MemoryStore
from functions.adapters.xlsx.reader import read_workbook
from functions.services.intake.peers import PeerStats
from functions.validate.peer_median import PeerFigures, peer_median
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.report import Issue
from schemas.roster import Roster, Unit
from schemas.submission import ParsedSubmission
from tests.helpers.store import report as report_of
from tests.helpers.workbooks import summary_entries, unit_of_type, write_workbook

NOW = dt.datetime(2022, 12, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def units(roster: Roster, unit_type: str, n: int, start: int = 0) -> list[Unit]:
    return [unit_of_type(roster, unit_type, i) for i in range(start, start + n)]


def outliers(
    tmp_path: Path, campaign: Campaign, roster: Roster, unit: Unit, ctx: ValidationContext, **stats: object
) -> list[Issue]:
    path = write_workbook(tmp_path / "s.xlsx", campaign, "summary", unit, summary_entries(**stats))
    _, report = validate_submission(read_workbook(path, campaign, roster), campaign, roster, ctx)
    assert report.valid  # a warning never blocks
    return [i for i in report.warnings if i.code == "outlier"]


def test_the_median_is_the_units_own_type_and_never_the_unit_itself(wujin: tuple[Campaign, Roster]) -> None:
    _, roster = wujin
    schools, centres = units(roster, "中小学", 6), units(roster, "镇（街道）社区教育中心", 5)
    figures = {u.code: 50.0 for u in schools[1:]} | {u.code: 5000.0 for u in centres}
    figures[schools[0].code] = 999999.0  # the unit's own earlier version
    m = peer_median(figures, roster, schools[0], min_peers=5)
    assert m is not None and (m.median, m.peers, m.unit_type) == (50.0, 5, "中小学")


def test_below_min_peers_of_its_type_all_units_are_used_then_nothing(wujin: tuple[Campaign, Roster]) -> None:
    _, roster = wujin
    schools, centres = units(roster, "中小学", 3), units(roster, "镇（街道）社区教育中心", 3)
    figures = {u.code: [10.0, 30.0] for u in schools[1:]} | {u.code: [100.0] for u in centres}
    m = peer_median(figures, roster, schools[0], min_peers=5)
    assert m is not None and (m.peers, m.unit_type) == (5, None)
    assert m.median == 30.0  # activities pooled: 10 30 10 30 100 100 100
    assert peer_median(figures, roster, schools[0], min_peers=6) is None


def test_per_session_message_prints_the_average_and_the_median_of_its_type(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school, *others = units(roster, "中小学", 6)
    ctx = ValidationContext(peers=PeerFigures(per_session={u.code: 80.0 for u in others}))
    [issue] = outliers(tmp_path, campaign, roster, school, ctx, total_participants=5000000)
    assert issue.cell and issue.value == "5000000"  # the cell holds the total
    # The seen bug: the total printed as the average.
    assert "每场平均参与人次 500000（参与总人次 5000000 ÷ 活动总场次 10）" in issue.message
    assert "同类单位（中小学，5个）的中位数 80" in issue.message


def test_a_figure_ordinary_for_all_units_is_an_outlier_among_its_own_type(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school, *others = units(roster, "中小学", 6)
    centres = units(roster, "镇（街道）社区教育中心", 6)
    per_session = {u.code: 40.0 for u in others} | {u.code: 900.0 for u in centres}
    ctx = ValidationContext(peers=PeerFigures(per_session=per_session))
    # 3000 per session: 75 × the schools' median, but not 5 × the median of all eleven units (900).
    [issue] = outliers(tmp_path, campaign, roster, school, ctx, total_participants=30000)
    assert "3000" in issue.message and "中位数 40" in issue.message
    centre_ctx = ValidationContext(peers=PeerFigures(per_session=per_session))
    assert outliers(tmp_path, campaign, roster, centres[0], centre_ctx, total_participants=30000) == []


def test_the_fallback_is_said_in_the_message(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school, other = units(roster, "中小学", 2)
    centres = units(roster, "镇（街道）社区教育中心", 4)
    ctx = ValidationContext(peers=PeerFigures(per_session={u.code: 50.0 for u in [other, *centres]}))
    [issue] = outliers(tmp_path, campaign, roster, school, ctx, total_participants=30000)
    assert "全区所有单位（5个；同类单位不足5个）的中位数 50" in issue.message


def test_peer_stats_keep_each_units_own_figures(wujin: tuple[Campaign, Roster]) -> None:
    _, roster = wujin
    store = MemoryStore()
    a, b = units(roster, "中小学", 2)
    for unit, people in ((a, 500), (b, 2000)):
        sub = ParsedSubmission(
            unit=unit.code,
            deliverable="summary",
            tables={"statistics": [{"total_sessions": 10, "total_participants": people}]},
            source=f"{unit.code}.xlsx",
            source_kind="file",
        )
        store.add_version(sub, report_of(sub), received_at=NOW, late=False)
    # Every unit's figures, as the fallbacks read them (the memory store answers medians by type itself).
    assert dict(PeerStats(store, ["summary"]).figures.per_session) == {a.code: 50.0, b.code: 200.0}
