"""The master's store content: versions in every state (valid with formula-like text, errors and late, draft).

Shared by the master-publish tests (integration) and the publish-master command's (e2e).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.bootstrap import App
from schemas.report import Issue, ValidationReport
from schemas.submission import ParsedSubmission

NOW = dt.datetime(2022, 11, 25, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))

ORGANISER = "wjsqjy@example.org"


def activity(i: int, day: dt.date, **extra: Any) -> dict[str, Any]:
    return {"seq": i, "name": f"终身学习活动{i}", "category": "讲座", "start_date": day, "venue": "社区活动室",
            "mode": "线下", "audience": ["社区居民", "老年人"], "expected_participants": 50 + i, "free": "是",
            "host": "测试单位", "lead": "张老师", "phone": "13812345678", "notes": ""} | extra  # fmt: skip


def add(app: App, unit: str, deliverable: str, tables: dict[str, Any], *, status: str = "submitted",
        errors: list[Issue] | None = None, late: bool = False) -> None:  # fmt: skip
    sub = ParsedSubmission(unit=unit, deliverable=deliverable, source=f"test:{unit}", tables=tables,
                           status=status)  # type: ignore[arg-type]  # fmt: skip
    warnings = [Issue(code="few-photos", severity="warning", sheet="材料", cell="B5", message="照片少于5张")]
    report = ValidationReport(file=sub.source, unit=unit, deliverable=deliverable, valid=not errors,
                              errors=errors or [], warnings=warnings if errors else [])  # fmt: skip
    app.store.add_version(sub, report, received_at=NOW - dt.timedelta(days=1), late=late)


def fill_store(app: App) -> None:
    """One unit valid (with text that looks like formulas), one with errors and late, one draft."""
    day = app.campaign.week.start
    codes = [u.code for u in app.roster.units]
    tricky = activity(1, day, name='=HYPERLINK("http://evil.example")', venue="+86 热线", notes="@所有人 -1")
    add(app, codes[0], "plan", {"activities": [tricky, activity(2, day + dt.timedelta(days=1))],
                                "plan_materials": [{"work_plan_url": "https://e.org/p"}]})  # fmt: skip
    bad = Issue(code="missing-value", severity="error", sheet="活动安排", cell="F3", message="活动地点未填写")
    add(app, codes[1], "plan", {"activities": [activity(1, day)]}, errors=[bad], late=True)
    add(app, codes[2], "plan", {"activities": [activity(1, day)]}, status="draft")
    stats = {k: 3 for k in ("total_sessions", "lecture_sessions", "total_participants")}
    add(app, codes[0], "summary", {"statistics": [stats | {"filled_by": "张", "phone": "13812345678"}]})
