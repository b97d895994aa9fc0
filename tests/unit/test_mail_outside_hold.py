"""The services that mail on behalf of `huizong serve` take its lock (`hold`) for their store steps only:
the sign-in link, the 退回 mail and a deferred receipt are claimed with the lock held, sent with it
released, and their outcome written with it held again. A mailer that fails when it is called with the
lock held, and a store wrapper that fails when it is written without it, check both sides.

On the wujin-2022 example with its SQLite store in tmp_path; the mailers are in-memory.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from functions.bootstrap import App, open_app
from functions.ports import MailRefused, MailUncertain
from functions.services.console.accounts import LINK_PREFIX
from functions.services.console.signin import send_signin_link
from functions.services.intake.receipt import PENDING_PREFIX, RECEIPT_PREFIX
from functions.services.review.actions import MAIL_PREFIX, return_submission
from functions.services.web.form_fields import values_of_version
from functions.services.web.form_intake import deliver_saved_receipt, save_form
from tests.helpers.campaigns import customise
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
ORGANISER = "wang@example.org"


class Hold:
    """A lock that says whether it is held (not reentrant, like serve's)."""

    def __init__(self) -> None:
        self.held = False
        self.taken = 0

    def __enter__(self) -> None:
        assert not self.held, "the lock was taken while already held"
        self.held = True
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        self.held = False


class CheckingMailer:
    """Fails the test when a mail is sent with the lock held; then answers with `fail` or accepts."""

    def __init__(self, hold: Hold, fail: Exception | None = None) -> None:
        self.hold = hold
        self.fail = fail
        self.sent: list[EmailMessage] = []
        self.sent_while_held = 0

    def send(self, message: EmailMessage) -> str:
        self.sent_while_held += self.hold.held
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return "id"


class GuardedStore:
    """The app's store, refusing every write made without the lock (reads are let through)."""

    WRITES = frozenset({"claim", "update_claim", "release", "set_meta", "add_version", "put_blob"})

    def __init__(self, inner: Any, hold: Hold) -> None:
        self._inner = inner
        self._hold = hold

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in self.WRITES:

            def write(*args: Any, **kw: Any) -> Any:
                assert self._hold.held, f"store.{name} called without the lock"
                return attr(*args, **kw)

            return write
        return attr


@pytest.fixture
def hold() -> Hold:
    return Hold()


@pytest.fixture
def app(wujin_dir: Path, hold: Hold) -> App:
    customise(
        wujin_dir, f"review: optional\npeople:\n  - {{name: 王老师, email: {ORGANISER}, role: organiser}}\n"
    )
    app = open_app(wujin_dir)
    sub = submission("WJ009", "plan", n=1, source="inbox/WJ009.xlsx")
    app.store.add_version(sub, report(sub, errors=1), received_at=NOW - dt.timedelta(days=1), late=False)
    app.store = GuardedStore(app.store, hold)  # type: ignore[assignment]
    return app


def test_the_sign_in_link_is_claimed_and_recorded_under_the_lock_and_sent_outside(
    app: App, hold: Hold
) -> None:
    mailer = CheckingMailer(hold)
    app.use_mailer(mailer)
    assert send_signin_link(app, ORGANISER, base_url="http://x", now=NOW, hold=hold) == "sent"
    assert len(mailer.sent) == 1 and mailer.sent_while_held == 0
    assert [c.payload["result"] for c in app.store.claims(LINK_PREFIX)] == ["sent"]
    assert hold.taken == 2  # the claim, then the outcome with its audit entry


@pytest.mark.parametrize(
    ("fail", "result"),
    [(MailRefused("421"), "refused: 421"), (MailUncertain("timeout"), "uncertain: timeout")],
)
def test_a_failed_sign_in_mail_is_recorded_under_the_lock(
    app: App, hold: Hold, fail: Exception, result: str
) -> None:
    app.use_mailer(CheckingMailer(hold, fail))
    send_signin_link(app, ORGANISER, base_url="http://x", now=NOW, hold=hold)
    assert [(c.payload["result"], c.payload["sent"]) for c in app.store.claims(LINK_PREFIX)] == [
        (result, False)
    ]


def test_the_return_mail_is_sent_outside_the_lock(app: App, hold: Hold) -> None:
    mailer = CheckingMailer(hold)
    app.use_mailer(mailer)
    done = return_submission(app, "WJ009", "plan", by="王老师", now=NOW, comment="请补充照片", hold=hold)
    assert len(mailer.sent) == 1 and mailer.sent_while_held == 0
    assert "发送退回通知" in done.mail
    assert [c.payload["result"] for c in app.store.claims(MAIL_PREFIX)] == ["sent"]


def test_a_refused_return_mail_is_released_under_the_lock(app: App, hold: Hold) -> None:
    app.use_mailer(CheckingMailer(hold, MailRefused("421")))
    done = return_submission(app, "WJ009", "plan", by="王老师", now=NOW, comment="请补充照片", hold=hold)
    assert "被邮件服务器拒绝" in done.mail and app.store.claims(MAIL_PREFIX) == []


@pytest.mark.parametrize(("fail", "outcome"), [(None, "sent"), (MailRefused("421"), "refused")])
def test_a_deferred_receipt_is_claimed_under_the_lock_and_sent_outside(
    app: App, hold: Hold, fail: Exception | None, outcome: str
) -> None:
    mailer = CheckingMailer(hold, fail)
    app.use_mailer(mailer)
    unit = app.roster.get("WJ009")
    assert unit is not None
    sub = submission("WJ009", "plan", n=1)
    values = values_of_version(app.campaign, "plan", sub.tables)
    with hold:
        saved = save_form(
            app, unit, "plan", values, submit=True, now=NOW, link="http://x/u/t", defer_receipt=True
        )
    assert saved.receipt is None and saved.pending_receipt is not None and mailer.sent_while_held == 0
    assert [c.payload["result"] for c in app.store.claims(RECEIPT_PREFIX)] == ["sending"]
    sent = deliver_saved_receipt(app, saved, now=NOW, hold=hold)
    assert sent.receipt == outcome and sent.pending_receipt is None and mailer.sent_while_held == 0
    if fail is None:
        assert [c.payload["result"] for c in app.store.claims(RECEIPT_PREFIX)] == ["sent"]
    else:  # released and queued for the next poll, as a refused receipt always is
        assert app.store.claims(RECEIPT_PREFIX) == [] and len(app.store.claims(PENDING_PREFIX)) == 1
