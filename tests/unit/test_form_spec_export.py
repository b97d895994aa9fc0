"""`huizong google form-spec`: the Google Form questions derived from the form spec."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.services.google.form_spec import (
    PHONE_HINT_PATTERN,
    URL_HINT_PATTERN,
    default_form_deliverable,
    form_spec,
)
from schemas.campaign import Campaign
from schemas.form_questions import FormQuestion
from tests.helpers.campaigns import EXTRA_FIELDS_YAML, customise


def _by_field(questions: list[FormQuestion]) -> dict[str, FormQuestion]:
    return {f"{q.table}.{q.field}": q for q in questions if q.role == "field"}


def _matches(pattern: str | None, text: str) -> bool:
    assert pattern is not None
    return re.fullmatch(pattern, text) is not None


def test_summary_questions_for_wujin(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    spec = form_spec(campaign, "summary", roster)

    assert (spec.format, spec.campaign_id, spec.deliverable, spec.language) == (
        "huizong-form-spec/1",
        "wujin-2022",
        "summary",
        "zh",
    )
    assert spec.title == "武进区2022年全民终身学习活动周-总结材料及情况统计表"
    assert spec.due == dt.datetime(2022, 12, 9, 23, 59, 59, tzinfo=campaign.tz)
    assert spec.tables_not_in_form == []
    assert "2022年12月9日 23:59" in spec.description and "wjsqjy@example.org" in spec.description

    # The unit code first, then every field of 统计表 and 总结材料 in the spec's order.
    code = spec.questions[0]
    assert (code.title, code.role, code.type, code.required) == ("单位编码", "unit_code", "TEXT", True)
    assert code.validation is not None and code.validation.kind == "regex"
    assert code.validation.pattern == r"^\s*(?:[A-Za-z]{2}[0-9]{3})\s*$"
    assert all(_matches(code.validation.pattern, u.code) for u in roster.units)
    assert _matches(code.validation.pattern, " wj001 ")
    assert not _matches(code.validation.pattern, "区委宣传部")
    assert not _matches(code.validation.pattern, "WJ0001")
    expected_fields = [(t.key, f.key) for t in campaign.tables_of("summary") for f in t.fields]
    assert [(q.table, q.field) for q in spec.questions[1:]] == expected_fields
    assert expected_fields[0] == ("statistics", "total_sessions")

    q = _by_field(spec.questions)
    total = q["statistics.total_sessions"]
    assert (total.title, total.type, total.required) == ("活动总场次", "TEXT", True)
    assert total.validation is not None
    assert (total.validation.kind, total.validation.min, total.validation.max) == ("whole_number", 0, 100000)
    assert total.validation.help_text == "请填写整数（0–100000）"
    assert q["statistics.lecture_sessions"].required is False
    assert q["statistics.total_participants"].required is True
    filled_by = q["statistics.filled_by"]
    assert filled_by.validation is not None and filled_by.type == "TEXT"
    assert (filled_by.validation.kind, filled_by.validation.max_length) == ("max_length", 30)
    phone = q["statistics.phone"]
    assert phone.validation is not None and phone.validation.pattern == PHONE_HINT_PATTERN and phone.required
    summary_url = q["summary_materials.summary_url"]
    assert (summary_url.title, summary_url.required) == ("工作总结链接", True)
    assert summary_url.validation is not None and summary_url.validation.kind == "url"
    assert summary_url.validation.pattern == URL_HINT_PATTERN
    assert q["summary_materials.case_url"].required is False
    photos = q["summary_materials.photo_count"]
    assert photos.validation is not None
    assert (photos.validation.kind, photos.validation.min, photos.validation.max) == ("whole_number", 0, 1000)
    assert all(not x.choices for x in spec.questions)  # no choice field in these two tables
    assert q["statistics.total_sessions"].help_text == ""
    assert q["statistics.phone"].help_text == ""


def test_hint_patterns_accept_real_answers_and_stay_re2() -> None:
    for good in ("0519-86311234", "13912345678", "139 1234 5678", "１３９１２３４５６７８"):
        assert _matches(PHONE_HINT_PATTERN, good), good
    for bad in ("李老师", "无", "86311"):
        assert not _matches(PHONE_HINT_PATTERN, bad), bad
    for good in (
        "https://example.org/s.docx",
        "链接: https://pan.baidu.com/s/1AbC 提取码: x7k2",
        "www.wjedu.cn/a",
    ):
        assert _matches(URL_HINT_PATTERN, good), good
    for bad in ("见附件", "百度网盘", "https://"):
        assert not _matches(URL_HINT_PATTERN, bad), bad
    # Google Forms evaluates RE2, which has no look-around and no back-references.
    for pattern in (PHONE_HINT_PATTERN, URL_HINT_PATTERN):
        assert not re.search(r"\(\?[=!<]|\\[1-9]", pattern)


def test_choice_date_and_paragraph_questions(wujin_dir: Path) -> None:
    campaign = load_campaign(customise(wujin_dir, EXTRA_FIELDS_YAML))
    q = _by_field(form_spec(campaign, "summary").questions)
    forms = q["summary_materials.activity_forms"]
    assert (forms.type, forms.choices, forms.required, forms.validation) == (
        "CHECKBOX",
        ["线下", "线上", "线上线下结合"],
        False,
        None,
    )
    assert (q["summary_materials.highlight"].type, q["summary_materials.highlight"].choices) == (
        "MULTIPLE_CHOICE",
        ["品牌", "创新", "其他"],
    )
    town = q["summary_materials.town"]
    assert town.type == "LIST" and len(town.choices) == 8  # too many to scan as radio buttons
    assert (q["summary_materials.report_date"].type, q["summary_materials.report_date"].validation) == (
        "DATE",
        None,
    )
    remarks = q["summary_materials.remarks"]
    assert remarks.type == "PARAGRAPH_TEXT" and remarks.validation is not None
    assert (remarks.validation.kind, remarks.validation.max_length) == ("max_length", 500)
    assert remarks.validation.help_text == "不超过 500 个字"


def _with_deliverable(campaign: Campaign, key: str, tables: list[str]) -> Campaign:
    data = campaign.model_dump()
    data["deliverables"].append(
        {"key": key, "title_zh": "合并报送", "title_en": "Combined", "due": "2022-12-09", "tables": tables}
    )
    return Campaign.model_validate(data)


def test_labels_shared_by_two_tables_get_the_table_title(wujin_dir: Path) -> None:
    campaign = _with_deliverable(load_campaign(wujin_dir), "combined", ["plan_materials", "statistics"])
    titles = {f"{q.table}.{q.field}": q.title for q in form_spec(campaign, "combined").questions}
    assert titles["plan_materials.filled_by"] == "方案材料 · 填报人"
    assert titles["statistics.filled_by"] == "活动周情况统计表 · 填报人"
    assert titles["statistics.phone"] == "活动周情况统计表 · 联系电话"
    assert titles["statistics.total_sessions"] == "活动总场次"  # unique labels stay plain
    assert len(set(titles.values())) == len(titles)


def test_plan_form_leaves_the_activity_table_out(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    spec = form_spec(campaign, "plan")
    assert spec.tables_not_in_form == ["activities"]
    assert [q.field for q in spec.questions[1:]] == ["work_plan_url", "launch_plan_url", "filled_by", "phone"]
    assert "主要活动安排表不在本表单中" in spec.description


def test_deliverables_a_form_cannot_carry(wujin_dir: Path) -> None:
    campaign = _with_deliverable(load_campaign(wujin_dir), "rows_only", ["activities"])
    with pytest.raises(ConfigError) as rows:
        form_spec(campaign, "rows_only")
    assert "只有多行表格，不能用表单报送" in rows.value.problems[0]
    with pytest.raises(ConfigError) as unknown:
        form_spec(campaign, "nope")
    assert unknown.value.problems == ["没有名为 nope 的报送事项；可选：plan、summary、rows_only"]
    # Two deliverables a form can carry whole and no google.form_deliverables: the organiser must choose.
    two = _with_deliverable(campaign, "combined", ["plan_materials", "statistics"])
    with pytest.raises(ConfigError, match="--deliverable"):
        default_form_deliverable(two)
    assert default_form_deliverable(campaign) == "summary"


def test_english_campaign_gives_english_questions(wujin_dir: Path) -> None:
    campaign = load_campaign(customise(wujin_dir, language="en"))
    spec = form_spec(campaign, "summary")
    assert spec.language == "en"
    assert spec.title == "武进区2022年全民终身学习活动周-Summary and statistics"
    assert spec.description.startswith("Summary and statistics. Due 2022-12-09 23:59")
    assert spec.questions[0].title == "Unit code"
    q = _by_field(spec.questions)
    assert q["statistics.total_sessions"].title == "Total sessions"
    assert q["statistics.total_sessions"].validation is not None
    assert q["statistics.total_sessions"].validation.help_text == "A whole number (0–100000)"
    assert q["summary_materials.summary_url"].title == "Summary link"
    assert not any(re.search(r"[\u4e00-\u9fff]", x.title) for x in spec.questions)
    with pytest.raises(ConfigError) as unknown:
        form_spec(campaign, "nope")
    assert unknown.value.problems == ["No deliverable named nope; choose one of: plan, summary"]
