"""The organiser's review loop (issue 15): approve, return, waive, reopen, and what each changes in the
statuses, the totals, reminders, the digest and the master. On the wujin example with its SQLite store
and outbox in tmp_path, so every record and every mail is written and read back."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from functions.app import App
from functions.bootstrap import open_app
from functions.services.master.master_sheets import master_sheets
from functions.services.messages.compose import build_digest, build_reminder
from functions.services.reminders.plan import plan_reminders
from functions.services.review.actions import (
    ReviewError,
    approve,
    reopen,
    return_submission,
    review_rows,
    waive,
)
from functions.services.review.records import all_records
from functions.services.status.unit_states import UnitStatus, count_by_deliverable, unit_statuses
from tests.helpers.store import report, submission

NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
UNIT = "WJ009"


def store_version(app: App, n: int, *, errors: int = 0, minutes: int = 0) -> int:
    sub = submission(UNIT, "plan", n=n, source=f"inbox/{UNIT}-{n}.xlsx")
    v, created = app.store.add_version(
        sub, report(sub, errors=errors), received_at=NOW + dt.timedelta(minutes=minutes), late=False
    )
    assert created
    return v.seq


def status_of(app: App, unit: str = UNIT, deliverable: str = "plan") -> UnitStatus:
    return next(
        s
        for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == unit and s.deliverable.key == deliverable
    )


def outbox(app: App) -> list[bytes]:
    folder = app.paths.outbox
    return [p.read_bytes() for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


def test_an_approved_version_stays_counted_until_reopened(app: App) -> None:
    store_version(app, 1)
    approve(app, UNIT, "plan", by="王老师", now=NOW, comment="内容完整")
    store_version(app, 2, minutes=5)

    s = status_of(app)
    assert (s.review, s.version.seq if s.version else None, s.review_comment) == ("approved", 1, "内容完整")

    reopen(app, UNIT, "plan", by="王老师", now=NOW)
    s = status_of(app)
    assert s.version is not None and s.version.seq == 2 and s.review == ""

    # Every action kept, in order, with who, when and which version, also for a new handle on the file.
    again = open_app(app.folder)
    records = all_records(again.store)[(UNIT, "plan")]
    assert [(r.action, r.seq, r.by) for r in records] == [("approve", 1, "王老师"), ("reopen", 2, "王老师")]
    assert records[0].at == NOW and records[0].comment == "内容完整"


def test_approval_with_open_errors_is_refused_in_chinese_and_a_waiver_unblocks_it(app: App) -> None:
    store_version(app, 1, errors=1)  # required-missing at 活动 B2
    with pytest.raises(ReviewError, match=r"还有1个错误.*活动!B2 required-missing.*review waive"):
        approve(app, UNIT, "plan", by="王老师", now=NOW)
    with pytest.raises(
        ReviewError, match=r"没有位于 B9 的错误 required-missing；该版本的错误：required-missing 活动!B2"
    ):
        waive(app, UNIT, "plan", "required-missing", "B9", by="王老师", now=NOW, reason="无")
    with pytest.raises(ReviewError, match="--reason"):
        waive(app, UNIT, "plan", "required-missing", "B2", by="王老师", now=NOW, reason="  ")

    assert status_of(app).state == "errors"
    waive(app, UNIT, "plan", "required-missing", "B2", by="王老师", now=NOW, reason="该活动无需填写")

    s = status_of(app)
    # Still visible, marked waived; no longer blocking.
    assert s.state == "valid" and [e.cell for e in s.waived] == ["B2"]
    assert s.version is not None and s.version.error_count == 1
    approve(app, UNIT, "plan", by="王老师", now=NOW)
    assert status_of(app).review == "approved"
    row = next(r for r in review_rows(app, state="approved") if r.unit == UNIT)
    assert (row.errors, row.waived) == (0, 1)


def test_a_return_mails_the_unit_once_and_reminders_treat_it_as_pending(app: App) -> None:
    store_version(app, 1)
    before = len(outbox(app))
    result = return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="请补充\x1b[31m活动地点\n")
    assert result.record.comment == "请补充[31m活动地点"  # no control character reaches a cell or a terminal
    with pytest.raises(ReviewError, match="已退回，正在等待单位重新报送"):
        return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="再次")

    mails = outbox(app)[before:]
    assert len(mails) == 1 and "hutangsqjy@example.org" in result.mail
    msg = message_from_bytes(mails[0], policy=policy.default)
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert str(msg["Subject"]).startswith("【退回修改】") and "请补充[31m活动地点" in body
    assert "11月24日" in body  # the due date
    assert len([c for c in app.store.claims("review-mail/") if c.payload["sent"]]) == 1

    s = status_of(app)
    assert s.state == "valid" and s.review == "returned"
    plan = plan_reminders(app.campaign, [s], set(), NOW)
    assert [i.status.unit.code for r in plan for i in r.items] == [UNIT]
    reminder = build_reminder(app.campaign, plan[0], now=NOW)
    assert "请补充[31m活动地点" in reminder.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert str(reminder["Subject"]).startswith("【请修改】")

    statuses = unit_statuses(app.campaign, app.roster, app.store)
    digest = build_digest(app.campaign, statuses, count_by_deliverable(app.campaign, statuses),
                          day=NOW.date(), sent=0, master_link="out/master.xlsx", now=NOW)  # fmt: skip
    assert f"{UNIT} 湖塘镇社区教育中心" in digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "已退回：请补充[31m活动地点" in digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # The unit resends: the return is answered, the new version waits for review.
    store_version(app, 2, minutes=5)
    assert status_of(app).review == ""


def test_review_required_counts_only_approved_versions(app: App) -> None:
    from functions.services.master.totals import statistics_totals

    campaign = app.campaign.model_copy(update={"review": "required"})
    app.campaign = campaign
    entries = {"statistics": [{"total_sessions": 3, "total_participants": 30}]}
    for unit in ("WJ009", "WJ010"):
        sub = submission(unit, "summary", tables=entries, source=f"inbox/{unit}.xlsx")
        app.store.add_version(sub, report(sub), received_at=NOW, late=False)
    approve(app, "WJ010", "summary", by="王老师", now=NOW)

    statuses = unit_statuses(campaign, app.roster, app.store)
    totals = statistics_totals(campaign, statuses)
    assert totals.units == 1 and totals.sums["total_sessions"] == 3
    assert {s.unit.code: s.review for s in statuses if s.deliverable.key == "summary" and s.done} == {
        "WJ009": "pending", "WJ010": "approved"
    }  # fmt: skip
    reasons = {x.unit.code: x.reason for x in totals.left_out}
    assert reasons["WJ009"] == "尚未审核通过，未计入合计"


def test_master_shows_review_state_comment_counts_and_every_action(app: App) -> None:
    store_version(app, 1)
    plain = master_sheets(app.campaign, app.roster, app.store, now=NOW)
    # No review configured, nothing done: the master keeps its six tabs and columns.
    assert [s.key for s in plain] == ["overview", "status", "activities", "statistics", "issues", "reminders"]

    return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="请补充活动地点")
    sheets = {s.key: s for s in master_sheets(app.campaign, app.roster, app.store, now=NOW)}
    log = list(sheets["review_log"].rows)
    assert sheets["review_log"].name == "审核记录"
    assert [(r[1], r[4], r[5], r[6], r[9]) for r in log] == [(UNIT, 1, "退回", "王老师", "请补充活动地点")]
    status = sheets["status"]
    assert status.header is not None and "审核状态" in status.header and "审核意见" in status.header
    row = next(r for r in status.rows if r[0] == UNIT)
    at = status.header.index("审核状态")
    assert row[at].value == "已退回" and row[at + 1] == "请补充活动地点"
    overview = [[getattr(c, "value", c) for c in r] for r in sheets["overview"].rows]
    at = next(i for i, r in enumerate(overview) if r and r[0] == "审核情况")
    assert overview[at] == ["审核情况", "待审核", "已通过", "已退回"]
    assert overview[at + 1][0] == "工作方案及主要活动安排表" and overview[at + 1][3] == 1


def test_unknown_unit_and_deliverable_are_told_with_what_exists(app: App) -> None:
    with pytest.raises(ReviewError, match="名单中没有单位编码 'WJ999'"):
        approve(app, "WJ999", "plan", by="王老师", now=NOW)
    with pytest.raises(ReviewError, match="没有材料 'budget'；可选：plan、summary"):
        approve(app, UNIT, "budget", by="王老师", now=NOW)
    with pytest.raises(ReviewError, match="尚未报送 plan"):
        return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="x")
