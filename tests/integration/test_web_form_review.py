"""The organiser's review on the unit's form: a return shows its comment (escaped) until the unit submits
again; an approval shows as 已通过. Through Starlette's TestClient on the wujin-2022 example (SQLite)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.review.records import ReviewRecord, append_record
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)
FIELDS = {
    "plan_materials.work_plan_url": "https://example.org/plan.docx",
    "plan_materials.filled_by": "李老师",
    "plan_materials.phone": "13912345678",
    "activities.0.name": "智慧助老手机课堂",
    "activities.0.category": "培训",
    "activities.0.start_date": "2022-12-03",
    "activities.0.venue": "社区教育中心",
    "activities.0.mode": "线下",
    "activities.0.audience": "老年人",
    "activities.0.expected_participants": "50",
    "activities.0.free": "是",
    "activities.0.lead": "张老师",
    "activities.0.phone": "13912345678",
}


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m
    return m.group(1)


def _review(app: App, action: str, comment: str) -> None:
    version = app.store.latest("WJ009", "plan", status="submitted")
    assert version is not None
    record = ReviewRecord(n=1, action=action, unit="WJ009", deliverable="plan", version_id=version.id,  # type: ignore[arg-type]
                          seq=version.seq, by="区社教办", at=NOW, comment=comment)  # fmt: skip
    append_record(app.store, record)


def test_a_return_shows_its_comment_until_the_unit_submits_again(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    client = TestClient(create_web_app(app, base_url="http://testserver", clock=lambda: NOW))
    client.get("/u/" + link_token(campaign_secret(app.store, now=NOW), app.campaign, "WJ009", "plan"))
    page = client.get("/form/plan").text
    assert 'id="review"' not in page  # nothing submitted, nothing reviewed
    done = client.post("/form/plan", data={**FIELDS, "csrf": _csrf(page), "action": "submit"}).text
    assert "已提交" in done and 'id="review"' not in done  # campaign without review: no 待审核

    _review(app, "return", "<b>照片</b>不清楚，请补充活动照片")
    page = client.get("/form/plan").text
    section = page[page.index('id="review"') : page.index("</section>", page.index('id="review"'))]
    assert "组织方审核：已退回" in section and "请按审核意见修改后重新提交" in section
    assert "审核意见：&lt;b&gt;照片&lt;/b&gt;不清楚，请补充活动照片" in section  # escaped, not markup
    # a draft saved after the return does not clear it; a new submission does
    saved = client.post("/form/plan", data={**FIELDS, "activities.0.venue": "社区教育中心二楼", "csrf": _csrf(page),
                                             "action": "save"}).text  # fmt: skip
    assert "组织方审核：已退回" in saved
    again = client.post("/form/plan", data={**FIELDS, "activities.0.venue": "社区教育中心二楼",
                                             "csrf": _csrf(saved), "action": "submit"}).text  # fmt: skip
    assert 'id="review"' not in again and "已提交" in again

    _review(app, "approve", "")
    page = client.get("/form/plan").text
    assert "组织方审核：已通过" in page and "审核意见" not in page
