"""A 退回 mail the server refused is sent by the next run, once; an uncertain one is never repeated
(issue 15, item 2). On the wujin example with its SQLite store; the mailer is a recording stand-in."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.app import App
from functions.bootstrap import open_app
from functions.ports import MailRefused, MailUncertain
from functions.services.loop import remind
from functions.services.review.actions import retry_return_mails, return_submission
from tests.fakes.mailer import ScriptedMailer
from tests.helpers.campaigns import customise
from tests.helpers.store import report, submission

NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
UNIT = "WJ009"


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, "review: optional\n")
    app = open_app(wujin_dir)
    sub = submission(UNIT, "plan", n=1)
    app.store.add_version(sub, report(sub, errors=1), received_at=NOW, late=False)
    return app


def returned_mails(mailer: ScriptedMailer) -> list[EmailMessage]:
    return [m for m in mailer.sent if "退回修改" in str(m["Subject"])]


def test_a_refused_return_mail_is_sent_by_the_next_run_once(app: App) -> None:
    mailer = ScriptedMailer(MailRefused("421 try later"))
    app.use_mailer(mailer)
    result = return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="请补充照片")
    assert "重发" in result.mail and mailer.sent == []

    lines = remind(app, now=NOW + dt.timedelta(hours=1)).lines
    (mail,) = returned_mails(mailer)
    assert "请补充照片" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert any(UNIT in line and "已向" in line for line in lines)
    # Claimed now: later runs, and a fresh handle on the same store, send nothing more.
    assert retry_return_mails(open_app(app.folder), now=NOW + dt.timedelta(hours=2)) == []
    remind(app, now=NOW + dt.timedelta(hours=3))
    assert len(returned_mails(mailer)) == 1


def test_an_uncertain_return_mail_is_never_retried(app: App) -> None:
    mailer = ScriptedMailer(MailUncertain("connection lost after DATA"))
    app.use_mailer(mailer)
    result = return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="请补充照片")
    assert "不重发" in result.mail
    assert retry_return_mails(app, now=NOW + dt.timedelta(hours=1)) == []
    assert mailer.tries == 1


def test_no_retry_once_the_unit_has_sent_again(app: App) -> None:
    mailer = ScriptedMailer(MailRefused("421 try later"))
    app.use_mailer(mailer)
    return_submission(app, UNIT, "plan", by="王老师", now=NOW, comment="请补充照片")
    sub = submission(UNIT, "plan", n=2)
    app.store.add_version(sub, report(sub), received_at=NOW + dt.timedelta(minutes=30), late=False)
    assert retry_return_mails(app, now=NOW + dt.timedelta(hours=1)) == []
    assert mailer.tries == 1
