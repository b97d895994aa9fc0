"""`huizong serve`'s scheduled jobs do not mail while holding its lock (follow-up of issues 14/15/16): the
daily reminder run (reminders, the 退回 mails a refusal left, the organiser's and the coordinators'
digests) and the mailbox's replies are claimed under the lock, sent with it released, and recorded under
it again; the campaign folder's lock stays held for the whole job, so a CLI run beside serve still waits.
The webhook sends nothing at all.

A LocalServer (never started: its jobs are called as the scheduler calls them) shares its lock with the
web form, as `huizong serve` wires them. A BlockingMailer stands for a hanging SMTP server: while its
first send waits, the lock can be taken and another unit saves its form through the web app. Had the job
kept the lock over the send (as before), the save would wait for it and the test would time out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.bootstrap import App, open_app
from functions.folder_lock import FolderBusy, folder_lock
from functions.ports import MailRefused
from functions.serve.local_server import LocalServer
from functions.services.console.coordinator_digest import PREFIX as COORDINATOR_PREFIX
from functions.services.intake.signature import HEADER, sign
from functions.services.mail_intake.process import MESSAGE_PREFIX
from functions.services.mail_intake.reply import REPLY_PREFIX
from functions.services.review.actions import MAIL_PREFIX, return_submission
from functions.services.web.links import campaign_secret
from functions.web.app import create_web_app
from tests.fakes.mailer import BlockingMailer, ScriptedMailer
from tests.helpers.campaigns import customise
from tests.helpers.forms import payload
from tests.helpers.mailed import mailed_plan
from tests.helpers.serve_lock import NOW, PEOPLE, save_draft, while_mail_blocked
from tests.helpers.store import report, submission
from tests.helpers.workbooks import unit_of_type

SECRET = b"a-shared-secret-of-enough-length"
BASE = "http://testserver"
RETURNED = "WJ009"


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    campaign_secret(app.store, now=NOW)  # made once here, not by two racing threads
    return app


@pytest.fixture
def server(app: App) -> Iterator[LocalServer]:
    # NOW is past the reminders' hour (9:00), so remind_if_due runs; nothing listens on the port.
    served = LocalServer(app, secret=SECRET, port=0, clock=lambda: NOW)
    try:
        yield served
    finally:
        served.httpd.server_close()


@pytest.fixture
def asgi(app: App, server: LocalServer) -> Any:
    return create_web_app(app, base_url=BASE, clock=lambda: NOW, lock=server.lock)


def a_cli_run_waits(app: App) -> None:
    """`huizong run` beside serve: the folder's lock is still the job's."""
    with pytest.raises(FolderBusy) as busy, folder_lock(app.folder, what="huizong run", wait=0.0):
        pass
    assert "huizong serve" in str(busy.value)


def test_the_reminder_run_mails_with_serves_lock_released(app: App, server: LocalServer, asgi: Any) -> None:
    sub = submission(RETURNED, "plan", n=1, source=f"inbox/{RETURNED}.xlsx")
    app.store.add_version(sub, report(sub, errors=1), received_at=NOW - dt.timedelta(days=1), late=False)
    app.use_mailer(ScriptedMailer(MailRefused("421 try again later")))
    return_submission(app, RETURNED, "plan", by="王老师", now=NOW, comment="请补充活动照片")
    assert app.store.claims(MAIL_PREFIX) == []  # refused: the reminder run sends it again
    mailer = BlockingMailer()
    app.use_mailer(mailer)

    def meanwhile() -> None:
        save_draft(asgi, app, "WJ015")
        a_cli_run_waits(app)

    ran = while_mail_blocked(server.remind_if_due, mailer, server.lock, meanwhile)

    assert ran is True and server.stats.reminder_runs == 1
    subjects = [str(m["Subject"]) for m in mailer.sent]
    assert sum(s.startswith(("【催报】", "【请修改】")) for s in subjects) == 40
    assert sum(s.startswith("【退回修改】") for s in subjects) == 1
    assert sum(s.startswith("【日报】") for s in subjects) == 2
    assert mailer.tries == len(subjects) == 43
    store = open_app(app.folder).store
    assert {c.payload["result"] for c in store.claims("remind/")} == {"已发送"}
    assert [c.payload["result"] for c in store.claims("digest/")] == ["sent"]
    assert [c.payload["result"] for c in store.claims(MAIL_PREFIX)] == ["sent"]
    assert [c.payload["result"] for c in store.claims(COORDINATOR_PREFIX)] == ["sent"]
    draft = store.latest("WJ015", "summary")
    assert draft is not None and draft.status == "draft"
    # The folder's lock was given back with the job.
    with folder_lock(app.folder, what="huizong run", wait=0.0):
        pass


def test_the_mailbox_reply_is_sent_with_serves_lock_released(
    tmp_path: Path, app: App, server: LocalServer, asgi: Any
) -> None:
    school = unit_of_type(app.roster, "中小学")  # the unit mailed_plan mails for
    box = mailed_plan(tmp_path, app)
    app.mailbox_factory = lambda: box
    mailer = BlockingMailer()
    app.use_mailer(mailer)

    def meanwhile() -> None:
        save_draft(asgi, app, "WJ015")
        a_cli_run_waits(app)

    created = while_mail_blocked(server.read_mailbox, mailer, server.lock, meanwhile)

    assert created == 1
    (reply,) = mailer.sent
    assert reply["Subject"] == "回复：活动方案【已收到】" and reply["In-Reply-To"] == "<plan@qq.com>"
    store = open_app(app.folder).store
    assert [c.payload["result"] for c in store.claims(REPLY_PREFIX)] == ["sent"]
    (record,) = store.claims(MESSAGE_PREFIX)
    assert record.payload["reply"] == "sent" and record.payload["settled"] == "moved"
    assert box.in_folder("handled") and not box.in_folder("INBOX")
    latest = store.latest(school.code, "plan")
    assert latest is not None and latest.source.startswith("mail:<plan@qq.com>")


def test_the_webhook_sends_no_mail(app: App, server: LocalServer) -> None:
    """A form response through serve's webhook is stored and answered without any mail (the service
    sends no receipt), so nothing is sent under the lock it holds: should that change, this fails."""
    mailer = BlockingMailer(timeout=0.5)
    app.use_mailer(mailer)
    unit = next(u for u in app.roster.units if u.type == "镇（街道）社区教育中心")
    body = json.dumps(payload(app, unit.code, "R1"), ensure_ascii=False).encode()
    headers = {HEADER: sign(SECRET, body, timestamp=int(NOW.timestamp()))}

    status, answer = server.handle_webhook(body, headers)

    assert status == 200 and answer["stored"] is True and answer["unit"] == unit.code
    assert mailer.tries == 0 and not mailer.entered.is_set()
    assert [v.source_kind for v in app.store.history(unit.code, "summary")] == ["form"]
