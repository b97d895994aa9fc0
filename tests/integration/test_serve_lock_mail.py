"""Mails are not sent while holding serve's lock (issue 15 leftover): the console's sign-in link, the
退回 mail of a review return and the web form's receipt are claimed under the lock, sent with it
released, and their outcome recorded under it again.

A BlockingMailer stands for a slow SMTP server: while its send waits, the very lock object given to
create_web_app can be taken, and another unit saves its form through the same app. Then the send is
released and the mail must have gone out once, with its outcome in the store. With the lock held over
the send (as before), taking it times out and the test fails.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.ports import MailRefused
from functions.services.console.accounts import LINK_PREFIX, audit_log
from functions.services.intake.receipt import RECEIPT_PREFIX
from functions.services.review.actions import MAIL_PREFIX, retry_return_mails
from functions.services.web.links import campaign_secret
from functions.web.app import create_web_app
from tests.fakes.mailer import BlockingMailer, ScriptedMailer
from tests.helpers.campaigns import customise
from tests.helpers.console import csrf_of, sign_in
from tests.helpers.serve_lock import STATS, open_form, save_draft, while_mail_blocked
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
BASE = "http://testserver"
ORGANISER = "wang@example.org"
RETURNED_UNIT = "WJ009"

PEOPLE = f"""
review: optional
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
"""


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    sub = submission(RETURNED_UNIT, "plan", n=1, source=f"inbox/{RETURNED_UNIT}.xlsx")
    app.store.add_version(sub, report(sub, errors=1), received_at=NOW - dt.timedelta(days=1), late=False)
    campaign_secret(app.store, now=NOW)  # made once here, not by two racing requests
    return app


@pytest.fixture
def lock() -> threading.Lock:
    return threading.Lock()


@pytest.fixture
def asgi(app: App, lock: threading.Lock) -> Any:
    return create_web_app(app, base_url=BASE, clock=lambda: NOW, lock=lock)


def test_the_sign_in_link_is_mailed_outside_the_lock(app: App, asgi: Any, lock: threading.Lock) -> None:
    mailer = BlockingMailer()
    app.use_mailer(mailer)
    client = TestClient(asgi)
    page = client.get("/admin/login")

    answer = while_mail_blocked(
        lambda: client.post("/admin/login", data={"email": ORGANISER, "csrf": csrf_of(page.text)}),
        mailer,
        lock,
        lambda: save_draft(asgi, app, "WJ015"),
    )

    assert answer.status_code == 200 and "请查收邮件" in answer.text
    assert mailer.tries == 1 and len(mailer.sent) == 1
    mail = mailer.sent[0]
    assert ORGANISER in str(mail["To"]) and "登录链接" in str(mail["Subject"])
    claims = open_app(app.folder).store.claims(LINK_PREFIX)
    assert [(c.payload["result"], c.payload["sent"]) for c in claims] == [("sent", True)]
    assert [e.action for e in audit_log(app.store)] == ["link-sent"]
    # The mailed link signs in: the claim written before the send is the one the link redeems.
    body = mail.get_body(("plain",))
    assert body is not None
    found = re.search(r"http://testserver(/admin/signin/[A-Za-z0-9_-]+)", body.get_content())
    assert found
    signin = client.get(found.group(1))
    token = found.group(1).rsplit("/", 1)[1]
    done = client.post(
        "/admin/signin", data={"token": token, "csrf": csrf_of(signin.text)}, follow_redirects=False
    )
    assert done.status_code == 303


def test_the_return_mail_is_sent_outside_the_lock_once(app: App, asgi: Any, lock: threading.Lock) -> None:
    client = TestClient(asgi)
    csrf = sign_in(client, app, ORGANISER)  # through the outbox
    mailer = BlockingMailer()
    app.use_mailer(mailer)

    answer = while_mail_blocked(
        lambda: client.post(
            f"/admin/units/{RETURNED_UNIT}/plan/return", data={"csrf": csrf, "comment": "请补充活动照片"}
        ),
        mailer,
        lock,
        lambda: save_draft(asgi, app, "WJ015"),
    )

    assert answer.status_code == 200 and "已退回" in answer.text and "发送退回通知" in answer.text
    assert len(mailer.sent) == 1
    mail = mailer.sent[0]
    body = mail.get_body(("plain",))
    assert "退回修改" in str(mail["Subject"]) and body is not None and "请补充活动照片" in body.get_content()
    claims = open_app(app.folder).store.claims(MAIL_PREFIX)
    assert [(c.payload["result"], c.payload["sent"]) for c in claims] == [("sent", True)]
    # Recorded as sent: the retry of refused 退回 mails leaves it alone.
    assert retry_return_mails(app, now=NOW) == [] and mailer.tries == 1


def test_a_refused_return_mail_sent_outside_the_lock_is_retried(
    app: App, asgi: Any, lock: threading.Lock
) -> None:
    client = TestClient(asgi)
    csrf = sign_in(client, app, ORGANISER)
    mailer = BlockingMailer(fail=MailRefused("421 try again later"))
    app.use_mailer(mailer)

    answer = while_mail_blocked(
        lambda: client.post(
            f"/admin/units/{RETURNED_UNIT}/plan/return", data={"csrf": csrf, "comment": "请补充活动照片"}
        ),
        mailer,
        lock,
        lambda: None,
    )

    assert answer.status_code == 200 and "被邮件服务器拒绝" in answer.text
    assert app.store.claims(MAIL_PREFIX) == []  # released: nothing was sent
    later = ScriptedMailer()
    app.use_mailer(later)
    assert len(retry_return_mails(app, now=NOW)) == 1 and len(later.sent) == 1
    assert [c.payload["result"] for c in app.store.claims(MAIL_PREFIX)] == ["sent"]


def test_the_web_form_receipt_is_mailed_outside_the_lock(app: App, asgi: Any, lock: threading.Lock) -> None:
    client = TestClient(asgi)
    csrf = open_form(client, app, "WJ015")
    mailer = BlockingMailer()
    app.use_mailer(mailer)

    answer = while_mail_blocked(
        lambda: client.post("/form/summary", data={**STATS, "csrf": csrf, "action": "submit"}),
        mailer,
        lock,
        lambda: save_draft(asgi, app, "WJ016"),
    )

    assert answer.status_code == 200 and "回执已发送" in answer.text
    assert len(mailer.sent) == 1 and "【回执】" in str(mailer.sent[0]["Subject"])
    version = app.store.latest("WJ015", "summary")
    assert version is not None and version.status == "submitted"
    claims = open_app(app.folder).store.claims(RECEIPT_PREFIX)
    assert [(c.key.rsplit("/", 1)[1], c.payload["result"]) for c in claims] == [(version.id, "sent")]
