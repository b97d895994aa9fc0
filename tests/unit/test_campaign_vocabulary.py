"""Campaigns as the notices write them (issue 12, items 1-3): a city's words, rules as lists, fields hidden
or required per unit type, and windows per unit type, driving templates, validation and the master.

The Wuhan-style campaign in tests/data/wuhan-2021 is the "done when" of the issue: it loads and drives
real workbooks (written, read back, validated) and a real master.xlsx.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from functions.adapters.store.memory import MemoryStore
from functions.adapters.xlsx.master_writer import write_master_xlsx
from functions.adapters.xlsx.reader import read_workbook
from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.services.google.form_spec import form_spec
from functions.services.master.master_sheets import build_master
from functions.services.messages.compose import build_digest, build_reminder
from functions.services.reminders.plan import plan_reminders
from functions.services.status.unit_states import count_by_deliverable, unit_statuses
from functions.validate.validator import validate_submission
from schemas.campaign import Campaign, Rules
from schemas.report import ValidationReport
from schemas.roster import Roster, Unit
from sheets_templates.google_unit_sheet import build_unit_sheet_requests
from sheets_templates.xlsx_unit_workbook import build_unit_workbook
from tests.helpers.paths import DATA
from tests.helpers.workbooks import write_workbook

NOW = dt.datetime(2021, 12, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def wuhan_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "wuhan"
    shutil.copytree(DATA / "wuhan-2021", folder)
    return folder


@pytest.fixture
def wuhan(wuhan_dir: Path) -> tuple[Campaign, Roster]:
    campaign = load_campaign(wuhan_dir)
    roster, problems = load_roster(wuhan_dir, campaign)
    assert problems == []
    return campaign, roster


def _unit(roster: Roster, code: str) -> Unit:
    unit = roster.get(code)
    assert unit is not None
    return unit


def _activity(name: str, category: str, day: dt.date) -> dict[str, Any]:
    return {
        "name": name,
        "category": category,
        "start_date": day,
        "venue": "多功能厅",
        "mode": "线下",
        "audience": "社区居民",
        "expected_participants": 60,
        "free": "是",
        "lead": "李老师",
        "phone": "027-85801234",
    }


def _plan(*activities: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        "activities": list(activities),
        "plan_materials": [
            {"work_plan_url": "https://example.org/plan.docx", "filled_by": "李老师", "phone": "13912345678"}
        ],
    }


def _summary(**over: Any) -> dict[str, list[dict[str, Any]]]:
    stats: dict[str, Any] = {"total_sessions": 6, "total_participants": 500, "filled_by": "李老师",
                             "phone": "13912345678"}  # fmt: skip
    materials: dict[str, Any] = {"summary_url": "https://example.org/s.docx", "photo_count": 5,
                                 "photo_url": "https://example.org/p", "photo_captions": "启动仪式现场"}  # fmt: skip
    for key, value in over.items():
        (materials if key in materials or key == "photo_captions" else stats)[key] = value
    return {"statistics": [{k: v for k, v in stats.items() if v is not None}],
            "summary_materials": [{k: v for k, v in materials.items() if v is not None}]}  # fmt: skip


def _send(
    tmp_path: Path, campaign: Campaign, roster: Roster, unit: Unit, deliverable: str, entries: dict[str, Any]
) -> tuple[Any, ValidationReport]:
    path = write_workbook(tmp_path / f"{unit.code}-{deliverable}.xlsx", campaign, deliverable, unit, entries)
    return validate_submission(read_workbook(path, campaign, roster), campaign, roster)


def _codes(report: ValidationReport) -> list[tuple[str, str]]:
    return [(i.code, i.message) for i in [*report.errors, *report.warnings]]


def _instruction(wb: Any, label: str) -> str:
    """The text next to a label on 填写说明 (e.g. a table's “…” line listing its required fields)."""
    [text] = [row[1] for row in wb["填写说明"].iter_rows(values_only=True) if row[0] == label]
    return str(text)


def _sheet_text(ws: Any) -> str:
    return "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)


# ---- loading ------------------------------------------------------------------------------------


def test_the_wuhan_campaign_loads_with_its_own_words_rules_fields_and_window(
    wuhan: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wuhan
    assert (campaign.scope_zh, campaign.area_label_zh) == ("全市", "所属区")
    assert [r.unit_types for r in campaign.rules.required_activities] == [
        ["场馆"],
        ["老年大学"],
        ["区教育局"],
    ]
    assert campaign.rules.required_items_for("场馆") == ["场馆开放"]
    assert campaign.rules.required_items_for("社区学校") == []
    assert campaign.rules.needs_free_class("社区学校") and not campaign.rules.needs_free_class("场馆")
    stats = campaign.form_spec.table("statistics")
    assert not stats.has_field("learning_stars")  # hidden
    assert not stats.field("open_venues").required
    assert campaign.form_spec_for("场馆").table("statistics").field("open_venues").required
    assert campaign.form_spec.table("summary_materials").field("photo_captions").required
    assert campaign.window_for("社区学校").end == dt.date(2021, 11, 30)
    assert campaign.window_for("场馆") == campaign.week
    # The roster's 所属区 column is read as the unit's area.
    assert _unit(roster, "WH05").area == "汉阳区"


def test_the_old_single_rule_form_and_the_list_form_load_alike() -> None:
    rule = {"items": ["主题讲座", "主题班会"], "unit_types": ["中小学"]}
    old = Rules.model_validate({"required_activities": rule, "free_class": {"unit_types": ["开放大学"]}})
    new = Rules.model_validate({"required_activities": [rule], "free_class": [{"unit_types": ["开放大学"]}]})
    assert old == new
    assert old.required_items_for("中小学") == ["主题讲座", "主题班会"] and old.needs_free_class("开放大学")
    assert Rules.model_validate({"required_activities": None}).required_activities == []


def test_the_shipped_examples_keep_loading_in_both_forms(wujin_dir: Path, xinbei_dir: Path) -> None:
    wujin, xinbei = load_campaign(wujin_dir), load_campaign(xinbei_dir)
    # wujin-2022 still writes the single-mapping form; xinbei-2017 the list form with a window.
    assert wujin.rules.required_items_for("中小学") == ["国旗下讲话", "主题讲座", "主题班会", "主题板报"]
    assert xinbei.rules.required_items_for("中小学") == ["主题讲座", "主题班会", "主题板报", "志愿服务"]
    centre = xinbei.window_for("镇（街道）社区教育中心")
    assert (centre.start, centre.end) == (dt.date(2017, 10, 1), dt.date(2017, 10, 31))
    assert (xinbei.week.start, xinbei.week.end) == (dt.date(2017, 10, 23), dt.date(2017, 10, 29))


def _problems(folder: Path, edit: dict[str, Any]) -> str:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(edit)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_campaign(folder)
    return "\n".join(caught.value.problems)


def test_hiding_a_field_a_check_needs_is_refused_in_the_campaigns_language(wuhan_dir: Path) -> None:
    text = _problems(wuhan_dir, {"form": {"fields": {"activities.start_date": {"hidden": True}}}})
    assert "form.fields.activities.start_date.hidden" in text and "不能隐藏" in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"windows": {"幼儿园": {"start": "2021-11-01", "end": "2021-11-30"}}}, "windows.幼儿园"),
        ({"form": {"fields": {"statistics.open_venues": {"required_for": ["博物馆"]}}}},
         "form.fields.statistics.open_venues.required_for"),
        ({"rules": {"required_activities": [{"items": ["a"], "unit_types": ["场馆"]},
                                            {"items": ["b"], "unit_types": ["图书馆"]}]}},
         "rules.required_activities[2].unit_types"),
    ],
)  # fmt: skip
def test_an_unknown_unit_type_is_named_where_it_was_written(
    wuhan_dir: Path, edit: dict[str, Any], expected: str
) -> None:
    text = _problems(wuhan_dir, edit)
    assert expected in text and "不在 unit_types 中" in text and "可用：区教育局" in text


def test_the_roster_accepts_the_area_columns_notices_use_and_lists_them_when_wrong(
    wuhan_dir: Path, wuhan: tuple[Campaign, Roster]
) -> None:
    campaign, _ = wuhan
    path = wuhan_dir / "units.csv"
    text = path.read_text(encoding="utf-8")
    for header in ("所属镇街", "所属县(市、区)", "所属片区"):
        path.write_text(text.replace("所属区", header, 1), encoding="utf-8")
        roster, problems = load_roster(wuhan_dir, campaign)
        assert problems == [] and _unit(roster, "WH01").area == "江岸区", header
    path.write_text(text.replace("所属区", "所在地区", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_roster(wuhan_dir, campaign)
    message = "\n".join(caught.value.problems)
    assert "所在地区" in message and "所属县（市、区）" in message and "所属片区" in message


# ---- templates ------------------------------------------------------------------------------------


def test_templates_follow_the_units_type_theme_rules_required_fields_and_window(
    wuhan: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wuhan
    venue, school = _unit(roster, "WH03"), _unit(roster, "WH04")

    venue_plan = _sheet_text(build_unit_workbook(campaign, "plan", venue)["填写说明"])
    assert "庆建党百年华诞 谱终身学习新篇" in venue_plan
    assert "场馆开放" in venue_plan and "面向市民免费开放" in venue_plan and "智能设备培训" not in venue_plan
    blank_plan = _sheet_text(build_unit_workbook(campaign, "plan", None)["填写说明"])
    assert "场馆开放" in blank_plan and "智能设备培训" in blank_plan and "启动仪式" in blank_plan
    assert "社区学校：2021-11-01 至 2021-11-30" in blank_plan

    venue_summary = build_unit_workbook(campaign, "summary", venue)
    school_summary = build_unit_workbook(campaign, "summary", school)
    stats_label = f"“{campaign.form_spec.table('statistics').title_zh}”"
    assert "开放学习场所数" in _instruction(venue_summary, stats_label).split("必填：")[1]
    assert "开放学习场所数" not in _instruction(school_summary, stats_label).split("必填：")[1]
    materials_label = f"“{campaign.form_spec.table('summary_materials').title_zh}”"
    assert "照片说明" in _instruction(school_summary, materials_label).split("必填：")[1]
    for wb in (venue_summary, school_summary):
        assert "推荐百姓学习之星人数" not in "".join(_sheet_text(ws) for ws in wb.worksheets)

    # The date cells' validation is around the community school's window, not the week.
    ws = build_unit_workbook(campaign, "plan", school)[campaign.form_spec.table("activities").title_zh]
    [date_rule] = [dv for dv in ws.data_validations.dataValidation if dv.type == "date"][:1]
    serial = (dt.date(2021, 11, 30) + dt.timedelta(days=120) - dt.date(1899, 12, 30)).days
    assert date_rule.formula2 == str(serial)
    assert "2021-11-01 至 2021-11-30" in (date_rule.error or "")


def test_google_sheet_and_form_follow_the_same_spec(wuhan: tuple[Campaign, Roster]) -> None:
    campaign, roster = wuhan
    titles = [q.title for q in form_spec(campaign, "summary", roster).questions]
    assert "照片说明" in titles and "推荐百姓学习之星人数" not in titles
    phone_help = [q.validation.help_text for q in form_spec(campaign, "summary", roster).questions
                  if q.validation is not None and "座机" in q.validation.help_text]  # fmt: skip
    assert phone_help and all("027-" in h and "0519" not in h for h in phone_help)
    requests = str(
        build_unit_sheet_requests(campaign, "plan", _unit(roster, "WH04"), service_account_email="a@b.c")
    )
    assert "2021-11-30" in requests and "庆建党百年华诞" in requests


# ---- validation -----------------------------------------------------------------------------------


def test_each_unit_is_checked_against_its_own_rules_and_window(
    tmp_path: Path, wuhan: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wuhan
    late_november = dt.date(2021, 11, 20)

    # A community school may hold its activities all November: no out-of-week, and its free class is there.
    _, school = _send(tmp_path, campaign, roster, _unit(roster, "WH04"), "plan",
                      _plan(_activity("社区插花公益课", "培训", late_november)))  # fmt: skip
    assert school.valid and not [c for c, _ in _codes(school) if c.startswith("out-of-week")], _codes(school)

    # A venue is held to the week, and to its own rule (场馆开放), not the elderly university's.
    _, venue = _send(tmp_path, campaign, roster, _unit(roster, "WH03"), "plan",
                     _plan(_activity("科普讲座", "讲座", late_november)))  # fmt: skip
    codes = _codes(venue)
    assert ("out-of-week", next(m for c, m in codes if c == "out-of-week")) in codes
    assert any("2021-11-01 至 2021-11-07" in m for c, m in codes if c == "out-of-week")
    missing = [m for c, m in codes if c == "missing-required-activity"]
    assert len(missing) == 1 and "场馆开放" in missing[0]

    # The district bureau must hold its 启动仪式; once it does, nothing is missing.
    bureau = _unit(roster, "WH01")
    _, without = _send(tmp_path, campaign, roster, bureau, "plan",
                       _plan(_activity("终身学习讲座", "讲座", dt.date(2021, 11, 2))))  # fmt: skip
    assert [m for c, m in _codes(without) if c == "missing-required-activity"] != []
    _, with_it = _send(tmp_path, campaign, roster, bureau, "plan",
                       _plan(_activity("江岸区活动周启动仪式", "启动仪式", dt.date(2021, 11, 1))))  # fmt: skip
    assert with_it.valid, _codes(with_it)


def test_fields_required_for_a_type_and_added_required_fields_are_checked(
    tmp_path: Path, wuhan: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wuhan
    venue, school = _unit(roster, "WH03"), _unit(roster, "WH05")

    _, venue_report = _send(tmp_path, campaign, roster, venue, "summary", _summary())
    missing = [m for c, m in _codes(venue_report) if c == "missing-value"]
    assert len(missing) == 1 and "开放学习场所数" in missing[0]
    _, school_report = _send(tmp_path, campaign, roster, school, "summary", _summary())
    assert school_report.valid, _codes(school_report)

    _, no_caption = _send(tmp_path, campaign, roster, school, "summary", _summary(photo_captions=None))
    missing = [m for c, m in _codes(no_caption) if c == "missing-value"]
    assert len(missing) == 1 and "照片说明" in missing[0]


def test_a_bad_phone_is_shown_an_example_in_the_organisers_area_code(
    tmp_path: Path, wuhan: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wuhan
    _, report = _send(tmp_path, campaign, roster, _unit(roster, "WH05"), "summary", _summary(phone="86311"))
    [message] = [m for c, m in _codes(report) if c == "bad-phone"]
    assert "027-" in message and "0519" not in message


# ---- the master -----------------------------------------------------------------------------------


def test_the_master_speaks_of_the_city_its_districts_its_theme_and_the_campaign_week(
    tmp_path: Path, wuhan: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wuhan
    store = MemoryStore()
    for code in ("WH04", "WH05"):
        parsed, report = _send(tmp_path, campaign, roster, _unit(roster, code), "summary", _summary())
        assert parsed is not None and report.valid, _codes(report)
        store.add_version(parsed, report, received_at=NOW, late=False)
    path = tmp_path / "out" / "master.xlsx"
    build_master(campaign, roster, store, path, now=NOW, write=write_master_xlsx)

    wb = load_workbook(path)
    overview = _sheet_text(wb["总览"])
    assert "庆建党百年华诞 谱终身学习新篇" in overview.split("\n")[0]
    assert "全市应报送统计的单位" in overview and "全区" not in overview
    assert "2021年11月1日" in overview and "2021年11月30日" not in overview  # the week, not a window
    assert "所属区" in overview and "所属镇街" not in overview
    stats = list(wb["统计"].iter_rows(values_only=True))
    assert "所属区" in stats[0] and "推荐百姓学习之星人数" not in stats[0] and "照片说明" not in stats[0]
    assert any(r[0] == "小计（按所属区）" for r in stats)


# ---- mails ----------------------------------------------------------------------------------------


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    """Text and HTML body, from the bytes a mail client would receive."""
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_reminders_and_the_digest_carry_the_theme_in_their_footer(wuhan: tuple[Campaign, Roster]) -> None:
    campaign, roster = wuhan
    now = dt.datetime(2021, 10, 28, 10, tzinfo=campaign.tz)
    statuses = unit_statuses(campaign, roster, MemoryStore())
    reminder = plan_reminders(campaign, statuses, set(), now)[0]
    digest = build_digest(campaign, statuses, count_by_deliverable(campaign, statuses), day=now.date(), sent=0,
                          master_link="out/master.xlsx", now=now)  # fmt: skip
    for msg in (build_reminder(campaign, reminder, now=now), digest):
        for body in _bodies(msg):
            assert "2021年武汉市全民终身学习活动周 · 庆建党百年华诞 谱终身学习新篇" in body
