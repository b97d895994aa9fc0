"""The 工作总结 paragraph in the seeds' style (issue 10, item 9): figures in 万, every non-zero field,
unit counts by type, coverage, and what was left out."""

from __future__ import annotations

import pytest

from functions.services.master.summary_text import summary_paragraph, wan
from functions.services.master.totals import LeftOut, StatRow, Totals
from schemas.campaign import Campaign
from schemas.roster import Roster, Unit
from tests.helpers.workbooks import unit_of_type


@pytest.mark.parametrize(
    ("x", "written"),
    [
        (207800, "20.78万"),  # exact: no 余
        (12050, "1.2万余"),  # cut to 1.20万, trailing zero dropped, 余 for what was cut
        (110000, "11万"),
        (10000, "1万"),
        (18199, "1.81万余"),  # cut, never rounded up to 1.82万
        (9999, "9999"),
        (3000, "3000"),
        (0, "0"),
    ],
)
def test_large_figures_are_written_in_wan_never_overstated(x: int, written: str) -> None:
    assert wan(x) == written


FIGURES = {
    "total_sessions": 207, "lecture_sessions": 57, "training_sessions": 38, "exhibition_sessions": 31,
    "reading_sessions": 55, "online_sessions": 26, "total_participants": 207800, "online_participants": 2208,
    "elderly_digital_trainees": 660, "free_classes": 25, "free_class_trainees": 596, "volunteers": 512,
    "leaflets": 12050, "banners": 116, "boards": 139, "media_reports": 42, "learning_stars": 21,
    "brand_projects": 13, "open_venues": 45,
}  # fmt: skip

PHRASES = [
    "开展各类活动207场", "参与20.78万人次", "讲座57场", "培训38场", "展览展示31场", "读书活动55场",
    "开展线上活动26场", "线上参与2208人次", "智慧助老培训660人次", "免费惠民培训班25期", "免费培训596人次",
    "志愿者512人", "发放宣传资料1.2万余份", "悬挂宣传标语116条", "展出展板139块", "媒体报道42篇",
    "百姓学习之星21人", "终身学习品牌项目13个", "开放学习场所45处",
]  # fmt: skip


def totals_of(roster: Roster, sums: dict[str, int], *, left_out: int = 0) -> Totals:
    schools = [unit_of_type(roster, "中小学", i) for i in range(2)]
    centre = unit_of_type(roster, "镇（街道）社区教育中心")
    counted = [StatRow(u, "valid", False, {}, frozenset(), True) for u in [*schools, centre]]
    missing: list[Unit] = [unit_of_type(roster, "非学历教育机构", i) for i in range(left_out)]
    return Totals(
        mode="valid",
        units=3,
        sums=dict(sums),
        by_type={"镇（街道）社区教育中心": 1, "中小学": 2},
        expected=3 + left_out,
        incomplete=0,
        rows=counted,
        left_out=[LeftOut(u, "missing", "未报送") for u in missing],
    )


def test_every_non_zero_field_appears_with_its_figure(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    text = summary_paragraph(campaign, totals_of(roster, FIGURES, left_out=1))
    assert [p for p in PHRASES if p not in text] == []
    assert "已通过校验的3个单位合计开展各类活动207场" in text
    assert "应报送统计的单位4个，已报送3个（覆盖率75%）" in text
    assert "镇（街道）社区教育中心1个、中小学2个" in text
    assert "未计入合计的单位1个（未报送1个）" in text
    assert text.endswith("。")


def test_zero_fields_are_left_out_and_nothing_is_left_out_when_all_counted(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    sums = dict.fromkeys(FIGURES, 0) | {"total_sessions": 9, "total_participants": 300, "open_venues": 2}
    text = summary_paragraph(campaign, totals_of(roster, sums))
    assert "开放学习场所2处" in text and "参与300人次" in text
    for word in ("讲座", "线上", "宣传", "志愿者", "品牌", "未计入"):
        assert word not in text, word


def test_english_paragraph_uses_plain_figures(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    campaign = campaign.model_copy(update={"language": "en"})
    text = summary_paragraph(campaign, totals_of(roster, FIGURES))
    assert "total of the 3 valid units" in text and "207,800 participant visits" in text
    assert "45 learning venues opened" in text and "万" not in text
