"""Realistic unit submissions for the demo: most correct, some with the mistakes people really make.

Deterministic: the same seed gives the same workbooks, mistakes and arrival times.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from schemas.campaign import Campaign
from schemas.roster import Roster, Unit

_ACTIVITIES: dict[str, list[tuple[str, str]]] = {
    "中小学": [
        ("国旗下讲话：做终身学习的践行者", "国旗下讲话"),
        ("“书香伴成长”主题班会", "主题班会"),
        ("终身学习主题板报评比", "主题板报"),
        ("家庭教育主题讲座", "讲座"),
        ("亲子共读分享会", "读书活动"),
        ("校园科技节成果展", "展览展示"),
    ],
    "镇（街道）社区教育中心": [
        ("全民终身学习活动周启动仪式", "启动仪式"),
        ("“智慧助老”智能手机课堂", "培训"),
        ("老年人防范电信诈骗讲座", "讲座"),
        ("非遗剪纸体验课", "学习体验"),
        ("社区书画作品展", "展览展示"),
        ("居民读书沙龙", "读书活动"),
        ("免费惠民烹饪培训班", "培训"),
    ],
    "非学历教育机构": [
        ("免费惠民公益体验课", "培训"),
        ("职业技能公益讲座", "讲座"),
        ("少儿书法公益课堂", "学习体验"),
        ("学员作品展示", "展览展示"),
    ],
    "区社区教育委员会成员单位": [
        ("职工读书分享会", "读书活动"),
        ("家庭教育公益讲座", "讲座"),
        ("青年夜校公开课", "培训"),
        ("终身学习宣传进社区", "宣传活动"),
    ],
    "开放大学": [
        ("开放教育公开课", "讲座"),
        ("老年大学学员成果展", "展览展示"),
        ("数字化学习体验活动", "学习体验"),
        ("终身学习论坛", "论坛"),
    ],
    "社区培训学院": [
        ("社区教育骨干培训", "培训"),
        ("新市民职业技能培训", "培训"),
        ("社区学习共同体展示", "展览展示"),
        ("终身学习政策宣讲", "宣传活动"),
    ],
}
_AUDIENCE = {
    "中小学": ["学生", "学生、家长"],
    "镇（街道）社区教育中心": ["社区居民", "老年人", "社区居民、老年人"],
    "非学历教育机构": ["青少年", "社区居民", "职工"],
    "区社区教育委员会成员单位": ["职工", "社区居民"],
    "开放大学": ["社区居民", "老年人"],
    "社区培训学院": ["社区居民", "农民工"],
}


@dataclass
class DemoFile:
    unit: Unit | None
    deliverable: str
    entries: dict[str, list[dict[str, Any]]]
    name: str  # file name as a person would save it
    received: dt.datetime
    mistakes: list[str] = field(default_factory=list)
    blank_template: bool = False  # filled in from the blank template (no identity inside)
    raw_bytes: bytes | None = None  # something that is not a workbook at all
    # Evidence files sent with it (issue 12 §4): (name, bytes), put in the unit's own sub-folder with it.
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


def _plan_entries(campaign: Campaign, unit: Unit, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    pool = _ACTIVITIES.get(unit.type) or _ACTIVITIES["区社区教育委员会成员单位"]
    week = campaign.week
    days = (week.end - week.start).days
    rows = []
    picks = pool if unit.type == "中小学" else rng.sample(pool, k=min(len(pool), rng.randint(3, len(pool))))
    for i, (name, category) in enumerate(picks, start=1):
        start = week.start + dt.timedelta(days=rng.randint(0, days))
        free = "是" if "免费" in name or "公益" in name else rng.choice(["是", "否", "否"])
        rows.append({
            "seq": i,
            "name": name,
            "category": category,
            "start_date": start,
            "venue": f"{unit.area or '区'}{rng.choice(['多功能厅', '报告厅', '活动室', '会议室', '文化广场'])}",
            "mode": rng.choice(["线下", "线下", "线上线下结合", "线上"]),
            "audience": rng.choice(_AUDIENCE.get(unit.type, ["社区居民"])),
            "expected_participants": rng.choice([30, 40, 50, 60, 80, 100, 120, 150, 200]),
            "free": free,
            "host": unit.name,
            "lead": unit.contact,
            "phone": unit.phone,
        })  # fmt: skip
    contact = unit.contact or "联系人"
    materials = {
        "work_plan_url": f"https://pan.baidu.com/s/1{unit.code.lower()}Plan 提取码：{rng.randint(1000, 9999)}",
        "launch_plan_url": f"https://pan.baidu.com/s/1{unit.code.lower()}Launch"
        if rng.random() < 0.5
        else None,
        "filled_by": contact,
        "phone": unit.phone,
    }
    return {"activities": rows, "plan_materials": [{k: v for k, v in materials.items() if v is not None}]}


def _summary_entries(unit: Unit, n_planned: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    total = n_planned + rng.randint(0, 4)
    lectures = rng.randint(0, total // 2)
    trainings = rng.randint(0, (total - lectures) // 2)
    exhibitions = rng.randint(0, max(0, total - lectures - trainings) // 2)
    reading = max(0, total - lectures - trainings - exhibitions - rng.randint(0, 2))
    online = rng.randint(0, total // 3)
    people = total * rng.choice([40, 60, 80, 120])
    free_classes = rng.randint(1, 3) if unit.type in ("非学历教育机构", "镇（街道）社区教育中心") else 0
    stats = {
        "total_sessions": total,
        "lecture_sessions": lectures,
        "training_sessions": trainings,
        "exhibition_sessions": exhibitions,
        "reading_sessions": reading,
        "online_sessions": online,
        "total_participants": people,
        "online_participants": people // 5 if online else 0,
        "elderly_digital_trainees": rng.choice([0, 30, 60, 120]) if unit.type != "中小学" else 0,
        "free_classes": free_classes,
        "free_class_trainees": free_classes * rng.randint(15, 40),
        "volunteers": rng.randint(2, 30),
        "leaflets": rng.choice([200, 500, 800, 1000, 2000]),
        "banners": rng.randint(1, 6),
        "boards": rng.randint(0, 10),
        "media_reports": rng.randint(0, 3),
        "learning_stars": rng.randint(0, 2),
        "brand_projects": rng.randint(0, 1),
        "open_venues": rng.randint(0, 3),
        "filled_by": unit.contact or "联系人",
        "phone": unit.phone,
    }
    mats = {
        "summary_url": f"https://pan.baidu.com/s/1{unit.code.lower()}Sum",
        "case_url": f"https://pan.baidu.com/s/1{unit.code.lower()}Case",
        "photo_count": rng.choice([5, 6, 8, 10]),
        "photo_url": f"https://pan.baidu.com/s/1{unit.code.lower()}Pics",
    }
    return {"statistics": [stats], "summary_materials": [mats]}


def _at(campaign: Campaign, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=campaign.tz)


def demo_files(campaign: Campaign, roster: Roster, *, seed: int = 2022) -> list[DemoFile]:
    """The demo's inbox. Mistakes are placed on fixed units so the story is the same every run."""
    rng = random.Random(seed)
    plan_due = campaign.deliverable("plan").due
    summary_due = campaign.deliverable("summary").due
    units = roster.units
    by_type: dict[str, list[Unit]] = {}
    for u in units:
        by_type.setdefault(u.type, []).append(u)
    schools = by_type.get("中小学", [])
    institutions = by_type.get("非学历教育机构", [])
    centres = by_type.get("镇（街道）社区教育中心", [])
    files: list[DemoFile] = []
    missing_plan = {units[-1].code, units[5].code, schools[-1].code if schools else ""}
    missing_summary = missing_plan | {units[-2].code, units[3].code, units[10].code, units[20].code}

    planned: dict[str, int] = {}
    for i, unit in enumerate(units):
        if unit.code in missing_plan:
            continue
        entries = _plan_entries(campaign, unit, rng)
        planned[unit.code] = len(entries["activities"])
        day = plan_due - dt.timedelta(days=rng.randint(0, 6))
        files.append(DemoFile(unit, "plan", entries, f"{unit.name}-活动周工作方案及活动安排表.xlsx",
                              _at(campaign, day, 9 + i % 8, (i * 7) % 60)))  # fmt: skip

    def plan_of(unit: Unit) -> DemoFile:
        return next(f for f in files if f.unit == unit and f.deliverable == "plan")

    week = campaign.week
    if len(schools) >= 4:
        # Dates outside the week: one far out (error), one within the grace days (warning).
        f = plan_of(schools[0])
        f.entries["activities"][3]["start_date"] = week.end + dt.timedelta(days=7)
        f.entries["activities"][4]["start_date"] = week.end + dt.timedelta(days=1)
        f.mistakes.append("活动日期超出活动周")
        # A school that forgot its 主题班会.
        f = plan_of(schools[1])
        f.entries["activities"] = [r for r in f.entries["activities"] if r["category"] != "主题班会"]
        f.mistakes.append("缺少主题班会")
        # 3000余 as a number, and a phone number without its area code.
        f = plan_of(schools[2])
        f.entries["activities"][0]["expected_participants"] = "3000余"
        f.entries["activities"][1]["phone"] = "8631123"
        f.mistakes += ["预计参与人数填“3000余”", "电话号码缺区号"]
        # Dates typed as people type them, end before start, a choice not in the list.
        f = plan_of(schools[3])
        f.entries["activities"][0]["start_date"] = f"{week.start.month}月{week.start.day + 1}日"
        f.entries["activities"][1]["start_date"] = f"{week.start.year}/{week.start.month}/{week.start.day}"
        f.entries["activities"][2]["end_date"] = week.start - dt.timedelta(days=1)
        f.entries["activities"][2]["start_date"] = week.start + dt.timedelta(days=1)
        f.entries["activities"][3]["mode"] = "现场"
        f.mistakes += ["结束日期早于开始日期", "活动形式填“现场”"]
    if institutions:
        f = plan_of(institutions[0])
        for r in f.entries["activities"]:
            r["free"] = "否"
            r["name"] = r["name"].replace("免费惠民", "").replace("公益", "")
        f.mistakes.append("未安排免费惠民培训")
        # A unit resubmitting: first with errors, then fixed (after the due date, but the first was on time).
        f = plan_of(institutions[1])
        broken = {k: [dict(r) for r in v] for k, v in f.entries.items()}
        broken["activities"][0]["expected_participants"] = "若干"
        broken["plan_materials"][0]["work_plan_url"] = "见附件"
        files.append(DemoFile(f.unit, "plan", broken, f"{f.unit.name if f.unit else ''}活动安排表.xlsx",
                              f.received - dt.timedelta(days=2), ["预计参与人数填“若干”", "工作方案链接填“见附件”"]))  # fmt: skip
        f.received = _at(campaign, plan_due + dt.timedelta(days=1), 10)
        f.name = f"{f.unit.name if f.unit else ''}活动安排表（修改版）.xlsx"
        f.mistakes.append("修改后重新报送")
    if len(centres) >= 2:
        # Late, and sent on the blank template with the name typed in instead of the code.
        f = plan_of(centres[1])
        f.received = _at(campaign, plan_due + dt.timedelta(days=2), 15, 30)
        f.blank_template = True
        f.name = "活动安排表(1).xlsx"
        f.mistakes += ["逾期报送", "使用空白模板（按单位名称识别）"]
    # Someone saves in the old format.
    files.append(DemoFile(None, "plan", {}, "活动安排表.xls", _at(campaign, plan_due, 16),
                          ["旧版 .xls 文件"], raw_bytes=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512))  # fmt: skip

    for i, unit in enumerate(units):
        if unit.code in missing_summary:
            continue
        entries = _summary_entries(unit, planned.get(unit.code, 4), rng)
        day = summary_due - dt.timedelta(days=rng.randint(0, 3))
        files.append(DemoFile(unit, "summary", entries, f"{unit.name}-活动周总结及统计表.xlsx",
                              _at(campaign, day, 9 + i % 8, (i * 11) % 60)))  # fmt: skip
    summaries = [f for f in files if f.deliverable == "summary"]
    if len(summaries) >= 5:
        s = summaries[0].entries["statistics"][0]
        s["lecture_sessions"] = s["total_sessions"] + 2
        summaries[0].mistakes.append("分项场次超过总场次")
        s = summaries[1].entries["statistics"][0]
        s["online_participants"] = s["total_participants"] + 100
        summaries[1].mistakes.append("线上人次超过总人次")
        m = summaries[2].entries["summary_materials"][0]
        m["photo_count"] = 2
        summaries[2].mistakes.append("照片不足且无视频")
        s = summaries[3].entries["statistics"][0]
        s["total_participants"] = "3000余人"
        summaries[3].mistakes.append("参与总人次填“3000余人”")
        s = summaries[4].entries["statistics"][0]
        s["free_classes"], s["free_class_trainees"] = 0, 45
        summaries[4].mistakes.append("有培训人次却无培训班期数")
    _add_evidence(campaign, [f for f in summaries if not f.mistakes])
    return files


def _add_evidence(campaign: Campaign, clean: list[DemoFile]) -> None:
    """Two units send their summary with files in their own folder (issue 12 §4): one with a 工作总结
    and five photos taken in the week; the other with a photo from before the week and one of the
    first unit's photos (photo-outside-week, duplicate-photo)."""
    from functions.services.setup.evidence_samples import sample_docx, sample_jpeg

    if len(clean) < 2 or not campaign.deliverable("summary").attachments:
        return
    first, second = clean[0], clean[1]
    day = campaign.week.start
    photos = [
        (f"活动照片{i + 1}.jpg", sample_jpeg(f"{first.name} {i}", dt.datetime.combine(day, dt.time(9 + i))))
        for i in range(5)
    ]
    first.attachments = [("活动周工作总结.docx", sample_docx(f"{first.name} 活动周工作总结")), *photos]
    first.entries["summary_materials"][0]["photo_count"] = 5
    early = dt.datetime.combine(day - dt.timedelta(days=40), dt.time(15))
    second.attachments = [
        *(
            (
                f"IMG_000{i + 1}.jpg",
                sample_jpeg(f"{second.name} {i}", dt.datetime.combine(day, dt.time(10 + i))),
            )
            for i in range(3)
        ),
        ("IMG_0004.jpg", sample_jpeg(f"{second.name} 3", early)),
        ("IMG_0005.jpg", photos[0][1]),
    ]
    second.entries["summary_materials"][0]["photo_count"] = 5
    first.mistakes.append("随附工作总结和5张照片")
    second.mistakes += ["一张照片拍摄于活动周之外", "一张照片与其他单位相同"]
