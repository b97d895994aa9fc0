"""What a reminder and a digest say about time, read back from the message bytes as a unit reads them."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from typing import Any

from functions.services.messages.compose import build_digest, build_reminder, reminder_subject
from functions.services.reminders.plan import UnitReminder, plan_reminders
from functions.services.reminders.stuck import StuckReminder
from functions.services.status.unit_states import UnitStatus, count_by_deliverable
from schemas.campaign import Campaign
from schemas.report import Issue, ValidationReport
from schemas.roster import Roster, Unit
from schemas.submission import Version


def _at(campaign: Campaign, day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=campaign.tz)


def _policy(campaign: Campaign, **reminders: Any) -> Campaign:
    data = campaign.model_dump()
    data["reminders"] = {**data["reminders"], **reminders}
    return Campaign.model_validate(data)


def _with_errors(unit: Unit, deliverable: str) -> Version:
    at = dt.datetime(2022, 11, 20, 9, tzinfo=dt.UTC)
    issue = Issue(
        code="missing-value", severity="error", sheet="活动安排", cell="B3", message="活动名称为必填项"
    )
    report = ValidationReport(
        file="x.xlsx", unit=unit.code, deliverable=deliverable, valid=False, errors=[issue]
    )
    return Version(id="v1", unit=unit.code, deliverable=deliverable, seq=1, received_at=at, source_kind="file",
                   source="x.xlsx", content_hash="h", tables={}, report=report)  # fmt: skip


def _read(msg: EmailMessage) -> tuple[str, str, str]:
    """Subject, text body and HTML body, from the bytes a mail client would receive."""
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    return str(parsed["Subject"]), text.get_content(), html.get_content()


def _reminder(campaign: Campaign, statuses: list[UnitStatus], day: str) -> UnitReminder:
    planned = plan_reminders(campaign, statuses, set(), _at(campaign, day))
    assert len(planned) == 1
    return planned[0]


def test_the_day_before_the_due_date_nothing_says_overdue(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    campaign = _policy(campaign, stop_after_days=20)
    unit = roster.units[0]
    statuses = [UnitStatus(unit, d, "missing", None) for d in campaign.deliverables]
    # 12-08: the plan is 14 days overdue, the summary is due tomorrow (the trial's wrong subject).
    reminder = _reminder(campaign, statuses, "2022-12-08")
    subject, text, html = _read(build_reminder(campaign, reminder, now=_at(campaign, "2022-12-08")))
    plan_part, summary_part = subject.split("：", 1)[1].split("；")
    assert plan_part == "工作方案及主要活动安排表已逾期14天，请尽快报送"
    assert summary_part == "请于12月9日前报送总结材料及情况统计表"
    assert "逾期" not in summary_part
    plan_line = next(line for line in text.splitlines() if line.startswith("1. 工作方案"))
    summary_line = next(line for line in text.splitlines() if line.startswith("2. 总结材料"))
    assert "已逾期14天，请尽快报送" in plan_line and "请于" not in plan_line
    assert "距截止还有1天" in summary_line and "逾期" not in summary_line
    assert "已逾期14天，请尽快报送" in html and "请于11月24日" not in html + text


def test_after_the_due_date_a_correction_is_asked_for_now_not_by_a_past_date(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    plan = campaign.deliverable("plan")
    statuses = [UnitStatus(unit, plan, "errors", _with_errors(unit, "plan"))]
    subject, text, html = _read(
        build_reminder(campaign, _reminder(campaign, statuses, "2022-11-25"), now=_at(campaign, "2022-11-25"))
    )
    assert subject == f"【请修改】{campaign.title}：工作方案及主要活动安排表已逾期1天，请尽快修改"
    assert "请于" not in subject + text + html
    assert "已逾期1天，请尽快修改" in text and "活动名称为必填项" in text
    before = _read(
        build_reminder(campaign, _reminder(campaign, statuses, "2022-11-23"), now=_at(campaign, "2022-11-23"))
    )
    assert before[0] == f"【请修改】{campaign.title}：工作方案及主要活动安排表有错误，请于11月24日前修改"
    assert "逾期" not in "".join(before)


def test_a_catch_up_run_says_how_late_it_really_is(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    campaign = _policy(campaign, stop_after_days=60)
    unit = roster.units[0]
    statuses = [UnitStatus(unit, campaign.deliverable("plan"), "missing", None)]
    reminder = _reminder(campaign, statuses, "2023-01-04")
    assert reminder.items[0].step == 5
    subject, text, _ = _read(build_reminder(campaign, reminder, now=_at(campaign, "2023-01-04")))
    assert "已逾期41天，请尽快报送" in subject and "已逾期41天" in text
    assert "逾期5天" not in subject + text


def test_english_campaign_says_overdue_in_english(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    campaign = campaign.model_copy(update={"language": "en"})
    statuses = [UnitStatus(roster.units[0], campaign.deliverable("plan"), "missing", None)]
    reminder = _reminder(campaign, statuses, "2022-11-27")
    assert reminder_subject(campaign, reminder).endswith(
        "Work plan and activity schedule is 3 day(s) overdue: please submit now"
    )


def test_digest_separates_late_from_overdue_and_lists_interrupted_reminders(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    plan = campaign.deliverable("plan")
    u = roster.units
    statuses = [UnitStatus(u[0], plan, "missing", None), UnitStatus(u[1], plan, "missing", None)]
    now = _at(campaign, "2022-11-26")
    stuck = [StuckReminder("remind/plan/X/+1", u[0].code, u[0].name, "plan", 1, "a@example.org", now)]
    msg = build_digest(campaign, statuses, count_by_deliverable(campaign, statuses), day=now.date(), sent=0,
                       master_link="out/master.xlsx", now=now, stuck=stuck)  # fmt: skip
    _, text, html = _read(msg)
    plan_line = next(line for line in text.splitlines() if line.startswith("工作方案"))
    assert "逾期已报 0" in plan_line and "逾期未报 2" in plan_line
    assert "催报发送中断，不确定是否送达（1）" in text
    assert "huizong remind <目录> --resend-stuck" in text and f"{u[0].code} {u[0].name}" in text
    assert "--resend-stuck" in html and "sending" not in text
