"""Test helpers: real unit workbooks, built from the template and filled like a person would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from functions.services.setup.workbook_fill import fill_workbook
from schemas.campaign import Campaign
from schemas.roster import Roster, Unit
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, save_workbook_atomically


def unit_of_type(roster: Roster, unit_type: str, index: int = 0) -> Unit:
    return [u for u in roster.units if u.type == unit_type][index]


def good_activity(unit: Unit, name: str, category: str, day: dt.date, **over: Any) -> dict[str, Any]:
    row = {
        "name": name,
        "category": category,
        "start_date": day,
        "venue": "学校报告厅",
        "mode": "线下",
        "audience": "学生、家长",
        "expected_participants": 120,
        "free": "是",
        "lead": "张老师",
        "phone": "0519-86311234",
    }
    row.update(over)
    return row


def school_plan(campaign: Campaign, unit: Unit) -> dict[str, list[dict[str, Any]]]:
    d = campaign.week.start
    return {
        "activities": [
            good_activity(unit, "国旗下讲话：做终身学习的践行者", "国旗下讲话", d),
            good_activity(unit, "家庭教育主题讲座", "讲座", d + dt.timedelta(days=1)),
            good_activity(unit, "书香伴成长主题班会", "主题班会", d + dt.timedelta(days=2)),
            good_activity(unit, "终身学习主题板报评比", "主题板报", d + dt.timedelta(days=3)),
        ],
        "plan_materials": [
            {
                "work_plan_url": "https://pan.baidu.com/s/1abc 提取码：x7k2",
                "filled_by": "张老师",
                "phone": "13812345678",
            }
        ],
    }


def summary_entries(**stats: Any) -> dict[str, list[dict[str, Any]]]:
    base: dict[str, Any] = {
        "total_sessions": 10,
        "lecture_sessions": 3,
        "training_sessions": 2,
        "exhibition_sessions": 1,
        "reading_sessions": 2,
        "online_sessions": 2,
        "total_participants": 800,
        "online_participants": 200,
        "free_classes": 1,
        "free_class_trainees": 30,
        "filled_by": "李老师",
        "phone": "13912345678",
    }
    base.update(stats)
    return {
        "statistics": [base],
        "summary_materials": [
            {
                "summary_url": "https://example.org/sum.docx",
                "photo_count": 6,
                "photo_url": "https://example.org/p",
            }
        ],
    }


def write_workbook(
    path: Path,
    campaign: Campaign,
    deliverable: str,
    unit: Unit | None,
    entries: dict[str, list[dict[str, Any]]],
) -> Path:
    wb = build_unit_workbook(campaign, deliverable, unit)
    fill_workbook(wb, campaign, deliverable, entries)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook_atomically(wb, path)
    return path


# The headers units see, exactly as the issue writes them (not derived from the spec on purpose).
ACTIVITY_HEADERS = [
    "序号", "活动名称", "活动类别", "开始日期", "结束日期", "活动地点", "活动形式", "参与对象",
    "预计参与人数", "是否免费惠民", "主办单位", "负责人", "联系电话", "备注",
]  # fmt: skip


def saved_workbook(tmp_path: Path, campaign: Campaign, deliverable: str, unit: object) -> Path:
    path = tmp_path / f"{deliverable}.xlsx"
    save_workbook_atomically(build_unit_workbook(campaign, deliverable, unit), path)  # type: ignore[arg-type]
    return path
