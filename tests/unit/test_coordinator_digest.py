"""Each coordinator's daily digest lists only their areas' units that still need something, once a day;
a refused send is tried again by the next run (issue 15, item 5). SQLite store and outbox in tmp_path."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.app import App
from functions.bootstrap import open_app
from functions.ports import MailRefused
from functions.services.console.coordinator_digest import send_coordinator_digests
from functions.services.loop import remind
from functions.services.review.actions import return_submission
from tests.helpers.campaigns import customise
from tests.helpers.store import report, submission

NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PEOPLE = """
review: optional
people:
  - {name: 王老师, email: wang@example.org, role: organiser}
  - {name: 李协调, email: li@example.org, role: coordinator, areas: [湖塘镇]}
  - {name: 赵协调, email: zhao@example.org, role: coordinator, areas: [牛塘镇, 洛阳镇]}
"""


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    for unit, errors in (("WJ009", 1), ("WJ015", 0), ("WJ010", 2)):  # 湖塘, 湖塘, 牛塘
        sub = submission(unit, "plan")
        app.store.add_version(sub, report(sub, errors=errors), received_at=NOW, late=False)
    return app


def outbox(app: App) -> list[EmailMessage]:
    out = []
    for p in sorted(app.paths.outbox.glob("*.eml")) if app.paths.outbox.exists() else []:
        m = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert isinstance(m, EmailMessage)
        out.append(m)
    return out


def text_to(app: App, address: str) -> str:
    (mail,) = [m for m in outbox(app) if str(m["To"]) == address]
    body = mail.get_body(("plain",))
    assert body is not None
    return body.get_content()


def test_each_coordinator_gets_their_own_areas_once_a_day(app: App) -> None:
    return_submission(app, "WJ015", "plan", by="王老师", now=NOW, comment="请补充照片")
    lines = send_coordinator_digests(app, now=NOW)
    assert len(lines) == 2
    li = text_to(app, "li@example.org")
    assert "湖塘镇" in li and "WJ009" in li and "1 个错误" in li
    assert "WJ015" in li and "意见：请补充照片" in li
    assert "WJ010" not in li and "牛塘镇" not in li
    zhao = text_to(app, "zhao@example.org")
    assert "WJ010" in zhao and "WJ009" not in zhao and "WJ015" not in zhao
    assert not [
        m for m in outbox(app) if str(m["To"]) == "wang@example.org"
    ]  # organisers get the organiser's digest

    assert send_coordinator_digests(open_app(app.folder), now=NOW + dt.timedelta(hours=3)) == []
    assert len(outbox(app)) == 3  # the 退回 mail and two digests


def test_a_refused_digest_is_sent_by_the_next_run(app: App) -> None:
    class Refusing:
        def send(self, message: EmailMessage) -> str:
            raise MailRefused("421 busy")

    outbox_mailer = app.mailer
    app.use_mailer(Refusing())
    lines = send_coordinator_digests(app, now=NOW)
    assert all("下次运行重发" in line for line in lines) and len(lines) == 2
    app.use_mailer(outbox_mailer)
    assert len(send_coordinator_digests(app, now=NOW + dt.timedelta(hours=1))) == 2
    assert {str(m["To"]) for m in outbox(app)} == {"li@example.org", "zhao@example.org"}


def test_the_run_sends_them(app: App) -> None:
    lines = remind(app, now=NOW).lines
    assert any("协调人日报已发送：李协调" in line for line in lines)
    assert any(str(m["To"]) == "zhao@example.org" for m in outbox(app))


def test_no_digest_outside_the_reminder_window(app: App) -> None:
    assert send_coordinator_digests(app, now=NOW + dt.timedelta(days=120)) == []
    assert outbox(app) == []


def test_reminders_copy_the_areas_coordinator_when_asked(wujin_dir: Path) -> None:
    customise(wujin_dir, PEOPLE)
    path = (
        wujin_dir / "campaign.yaml"
    )  # into the example's own reminders: block (a second one would replace it)
    path.write_text(
        path.read_text(encoding="utf-8").replace("reminders:\n", "reminders:\n  cc_coordinator: true\n", 1),
        encoding="utf-8",
    )
    assert "cc_coordinator: true" in path.read_text(encoding="utf-8")
    app = open_app(wujin_dir)
    due = app.campaign.due_at("plan")
    remind(app, now=due.replace(hour=app.campaign.reminders.hour, minute=5) - dt.timedelta(days=1))
    reminders = [m for m in outbox(app) if "催报" in str(m["Subject"])]
    by_unit = {str(m["To"]): str(m["Cc"] or "") for m in reminders}
    assert by_unit["hutangsqjy@example.org"] == "li@example.org"  # WJ009, 湖塘镇
    assert by_unit["niutangsqjy@example.org"] == "zhao@example.org"  # WJ010, 牛塘镇
    assert by_unit["wj001@example.org"] == ""  # 区直: no coordinator


def test_without_the_setting_no_copy(wujin_dir: Path) -> None:
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    due = app.campaign.due_at("plan")
    remind(app, now=due.replace(hour=app.campaign.reminders.hour, minute=5) - dt.timedelta(days=1))
    reminders = [m for m in outbox(app) if "催报" in str(m["Subject"])]
    assert reminders and all(m["Cc"] is None for m in reminders)
