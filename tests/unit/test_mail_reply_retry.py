"""A reply of the mail intake the server refused is sent by the next run, once; an uncertain one never
again (issue 16). Real mail on the in-memory mailbox, the wujin example's SQLite store, and a recording
mailer that refuses or fails as told."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from functions.app import App
from functions.bootstrap import open_app
from functions.ports import MailRefused, MailUncertain
from functions.services.mail_intake.process import run_mail_intake
from functions.services.mail_intake.reply import REPLY_PREFIX
from functions.services.mail_intake.retry import MAX_ATTEMPTS, RETRY_PREFIX
from tests.fakes.mailbox import FakeMailbox
from tests.fakes.mailer import ScriptedMailer
from tests.helpers.campaigns import customise
from tests.helpers.mailed import mailed_plan

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
SETTINGS = """
mail_intake:
  user: wjsqjy@example.org
  web_base_url: https://form.example.org
"""


def _app_with_mail(tmp_path: Path, wujin_dir: Path, mailer: ScriptedMailer) -> tuple[App, FakeMailbox]:
    customise(wujin_dir, SETTINGS)
    app = open_app(wujin_dir)
    app.use_mailer(mailer)
    box = mailed_plan(tmp_path, app)
    return app, box


def _reply_results(app: App) -> list[str]:
    return [str(c.payload.get("result")) for c in app.store.claims(REPLY_PREFIX)]


def test_a_refused_reply_goes_out_with_the_next_run_once(tmp_path: Path, wujin_dir: Path) -> None:
    mailer = ScriptedMailer(MailRefused("421 try again later"))
    app, box = _app_with_mail(tmp_path, wujin_dir, mailer)
    first = run_mail_intake(app, box, now=NOW)
    assert [m.reply for m in first.messages] == ["refused"] and mailer.sent == []
    assert _reply_results(app) == []  # the claim was released: nothing says it went out

    second = run_mail_intake(app, box, now=NOW + dt.timedelta(minutes=2))
    assert second.messages == []  # the message is not processed again...
    assert [r.result for r in second.retried] == ["sent"]  # ...its reply is sent
    (reply,) = mailer.sent
    assert reply["Subject"] == "回复：活动方案【已收到】"
    assert reply["In-Reply-To"] == "<plan@qq.com>"  # still in the unit's thread
    assert "方案.xlsx" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert _reply_results(app) == ["sent"]

    third = run_mail_intake(app, box, now=NOW + dt.timedelta(minutes=4))
    assert third.retried == [] and len(mailer.sent) == 1 and mailer.tries == 2


def test_an_uncertain_reply_is_never_sent_again(tmp_path: Path, wujin_dir: Path) -> None:
    mailer = ScriptedMailer(MailUncertain("connection lost after DATA"))
    app, box = _app_with_mail(tmp_path, wujin_dir, mailer)
    assert [m.reply for m in run_mail_intake(app, box, now=NOW).messages] == ["uncertain"]
    later = run_mail_intake(app, box, now=NOW + dt.timedelta(minutes=2))
    assert later.retried == [] and mailer.sent == [] and mailer.tries == 1
    assert app.store.claims(RETRY_PREFIX) == []
    assert [r.startswith("uncertain") for r in _reply_results(app)] == [True]


def test_a_retry_refused_again_waits_for_the_next_and_an_uncertain_retry_ends_it(
    tmp_path: Path, wujin_dir: Path
) -> None:
    mailer = ScriptedMailer(MailRefused("421"), MailRefused("421"), MailUncertain("timeout"))
    app, box = _app_with_mail(tmp_path, wujin_dir, mailer)
    run_mail_intake(app, box, now=NOW)
    assert [r.result for r in run_mail_intake(app, box, now=NOW).retried] == ["refused"]
    assert [r.result for r in run_mail_intake(app, box, now=NOW).retried] == ["uncertain"]
    assert run_mail_intake(app, box, now=NOW).retried == [] and mailer.tries == 3 and mailer.sent == []


def test_refusals_stop_after_the_last_attempt(tmp_path: Path, wujin_dir: Path) -> None:
    mailer = ScriptedMailer(*(MailRefused("550 policy") for _ in range(MAX_ATTEMPTS + 3)))
    app, box = _app_with_mail(tmp_path, wujin_dir, mailer)
    results = [r.result for _ in range(MAX_ATTEMPTS + 2) for r in run_mail_intake(app, box, now=NOW).retried]
    assert results == ["refused"] * (MAX_ATTEMPTS - 1) + ["gave-up"]
    assert mailer.tries == MAX_ATTEMPTS and mailer.sent == []


def test_a_dry_run_sends_nothing_again(tmp_path: Path, wujin_dir: Path) -> None:
    mailer = ScriptedMailer(MailRefused("421"))
    app, box = _app_with_mail(tmp_path, wujin_dir, mailer)
    run_mail_intake(app, box, now=NOW)
    assert run_mail_intake(app, box, now=NOW, dry_run=True).retried == [] and mailer.tries == 1
