"""`huizong serve`'s scheduled jobs that mail take its lock (`hold`) for their store steps only: the
reminder run (each unit's reminder, the 退回 mails a refusal left, the coordinators' and the organiser's
digests) and the mailbox's replies (and their retries). A mailer that notes every send made with the lock
held, and a store that notes every call made without it (reads included: serve's lock serialises every
store access), check both sides; the mailer also notes which claims said "sending" when it was called,
so each mail is seen claimed before it goes and recorded before the next one.

On the wujin-2022 example with its SQLite store in tmp_path; mailers and the mailbox are in-memory.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.bootstrap import App, open_app
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.console.coordinator_digest import PREFIX as COORDINATOR_PREFIX
from functions.services.loop import remind
from functions.services.mail_intake.process import MESSAGE_PREFIX, run_mail_intake
from functions.services.mail_intake.reply import REPLY_PREFIX
from functions.services.mail_intake.retry import RETRY_PREFIX
from functions.services.review.actions import MAIL_PREFIX, return_submission
from tests.fakes.held import SENDING, CheckingMailbox, CheckingMailer, GuardedStore, Hold
from tests.fakes.mailer import ScriptedMailer
from tests.helpers.campaigns import customise
from tests.helpers.mailed import mailed_plan
from tests.helpers.serve_lock import PEOPLE
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)  # plan overdue by a day, digests on
RETURNED = "WJ009"


@pytest.fixture
def hold() -> Hold:
    return Hold()


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    return open_app(wujin_dir)


def guard(app: App, hold: Hold, fail: Exception | None = None) -> tuple[GuardedStore, CheckingMailer]:
    """From here on the app's store needs the lock, and its mailer notes how it is called."""
    store = GuardedStore(app.store, hold)
    mailer = CheckingMailer(hold, app.store, fail)
    app.store = store  # type: ignore[assignment]
    app.use_mailer(mailer)
    return store, mailer


def claims_before_each_send(mailer: CheckingMailer) -> None:
    """Each mail had its own claim saying "sending" when it went, and the one before it was recorded."""
    seen: set[str] = set()
    for keys in mailer.sending_at_send:
        assert keys, "a mail was sent without a claim saying 'sending'"
        assert not keys & seen, f"a claim still said 'sending' at the next mail: {sorted(keys & seen)}"
        seen |= keys


def a_refused_return_mail(app: App) -> None:
    """A 退回 mail the server refused, which the reminder run sends again."""
    sub = submission(RETURNED, "plan", n=1, source=f"inbox/{RETURNED}.xlsx")
    app.store.add_version(sub, report(sub, errors=1), received_at=NOW - dt.timedelta(days=1), late=False)
    app.use_mailer(ScriptedMailer(MailRefused("421 later")))
    done = return_submission(app, RETURNED, "plan", by="王老师", now=NOW, comment="请补充活动照片")
    assert "被邮件服务器拒绝" in done.mail and app.store.claims(MAIL_PREFIX) == []


def test_the_reminder_run_mails_with_the_lock_released(app: App, hold: Hold) -> None:
    a_refused_return_mail(app)
    store, mailer = guard(app, hold)

    result = remind(app, now=NOW, hold=hold)

    assert store.unguarded == [] and mailer.sent_while_held == 0
    subjects = [str(m["Subject"]) for m in mailer.sent]
    reminders = [s for s in subjects if s.startswith(("【催报】", "【请修改】"))]
    assert result.sent == len(reminders) == 40  # every unit's plan is overdue; WJ009's has errors
    assert sum(s.startswith("【退回修改】") for s in subjects) == 1
    assert result.digest_sent and sum(s.startswith("【日报】") for s in subjects) == 2  # 王老师's, 李协调's
    assert len(subjects) == result.sent + 3
    claims_before_each_send(mailer)
    # Taken for the store's steps around every send, never held across one.
    assert hold.taken > 2 * len(mailer.sent)
    inner = store.inner
    everything = inner.claims()
    assert [c.key for c in everything if c.payload.get("result") == SENDING] == []
    assert {c.payload["result"] for c in inner.claims("remind/")} == {"已发送"}
    assert [c.payload["result"] for c in inner.claims(MAIL_PREFIX)] == ["sent"]
    assert [c.payload["result"] for c in inner.claims(COORDINATOR_PREFIX)] == ["sent"]
    assert [c.payload["result"] for c in inner.claims("digest/")] == ["sent"]

    # A second run the same day sends nothing: every mail was claimed once.
    again = remind(app, now=NOW + dt.timedelta(hours=1), hold=hold)
    assert again.sent == 0 and not again.digest_sent and len(mailer.sent) == len(subjects)


class SubmittingMeanwhile(CheckingMailer):
    """While the first reminder is on its way (the lock free), a unit further down the plan submits, as
    a web form save in another thread would."""

    def __init__(self, hold: Hold, store: object, unit: str) -> None:
        super().__init__(hold, store)
        self.unit = unit

    def send(self, message: EmailMessage) -> str:
        if self.tries == 0:
            assert not self.hold.held
            sub = submission(self.unit, "plan", n=7, source="web")
            self.store.add_version(sub, report(sub), received_at=NOW, late=True)
        return super().send(message)


def test_a_unit_that_submits_during_the_run_is_not_reminded_by_it(app: App, hold: Hold) -> None:
    store = GuardedStore(app.store, hold)
    mailer = SubmittingMeanwhile(hold, app.store, "WJ040")
    app.store = store  # type: ignore[assignment]
    app.use_mailer(mailer)

    result = remind(app, now=NOW, hold=hold)

    assert store.unguarded == [] and mailer.sent_while_held == 0
    assert result.sent == 39 and len([m for m in mailer.sent if "【日报】" not in str(m["Subject"])]) == 39
    assert all("wj040@" not in str(m["To"]) for m in mailer.sent)
    (line,) = [x for x in result.lines if x.startswith("WJ040 ")]
    assert line.endswith("（计划后已收到新的报送，本次不催报）")
    # Not claimed: the next run plans afresh, and the unit, now submitted, is not due.
    assert [c.key for c in store.inner.claims("remind/") if "WJ040" in c.key] == []
    later = remind(app, now=NOW + dt.timedelta(hours=1), hold=hold)
    assert all(not r.unit.code == "WJ040" for r in later.planned)


@pytest.mark.parametrize(
    ("fail", "reminder", "digest"),
    [
        (MailRefused("421 later"), None, None),  # released: the next run sends them
        (
            MailUncertain("timeout after DATA"),
            "结果不明：timeout after DATA",
            "uncertain: timeout after DATA",
        ),
        (MailNotPermitted("not verified"), "无权发送（不重试）：not verified", "not permitted: not verified"),
    ],
    ids=["refused", "uncertain", "not-permitted"],
)
def test_a_failed_send_of_the_run_is_settled_under_the_lock(
    app: App, hold: Hold, fail: Exception, reminder: str | None, digest: str | None
) -> None:
    a_refused_return_mail(app)
    store, mailer = guard(app, hold, fail)

    result = remind(app, now=NOW, hold=hold)

    assert store.unguarded == [] and mailer.sent_while_held == 0 and mailer.sent == []
    assert mailer.tries >= 30
    claims_before_each_send(mailer)
    inner = store.inner
    assert [c.key for c in inner.claims() if c.payload.get("result") == SENDING] == []
    if reminder is None:
        assert result.refused >= 30
        assert inner.claims("remind/") == [] and inner.claims("digest/") == []
        assert inner.claims(MAIL_PREFIX) == [] and inner.claims(COORDINATOR_PREFIX) == []
    else:
        assert {c.payload["result"] for c in inner.claims("remind/")} == {reminder}
        assert [c.payload["result"] for c in inner.claims("digest/")] == [digest]
        assert len(inner.claims(MAIL_PREFIX)) == len(inner.claims(COORDINATOR_PREFIX)) == 1


def test_the_mailbox_reply_is_sent_with_the_lock_released(tmp_path: Path, app: App, hold: Hold) -> None:
    box = CheckingMailbox(mailed_plan(tmp_path, app), hold)
    store, mailer = guard(app, hold)

    result = run_mail_intake(app, box, now=NOW, hold=hold)

    assert result.error == "" and [m.reply for m in result.messages] == ["sent"]
    assert store.unguarded == [] and mailer.sent_while_held == 0 and box.calls_while_held == []
    (reply,) = mailer.sent
    assert reply["Subject"] == "回复：活动方案【已收到】" and reply["In-Reply-To"] == "<plan@qq.com>"
    claims_before_each_send(mailer)
    assert [k.split("/")[0] + "/" for k in mailer.sending_at_send[0]] == [REPLY_PREFIX]
    inner = store.inner
    assert [c.payload["result"] for c in inner.claims(REPLY_PREFIX)] == ["sent"]
    # The message's record, written after the send, says what became of the reply and of the mail.
    (record,) = inner.claims(MESSAGE_PREFIX)
    assert record.payload["reply"] == "sent" and record.payload["settled"] == "moved"
    assert [w["stored"] for w in record.payload["workbooks"]] == [True]


def test_a_refused_reply_and_its_retry_are_sent_with_the_lock_released(
    tmp_path: Path, app: App, hold: Hold
) -> None:
    box = CheckingMailbox(mailed_plan(tmp_path, app), hold)
    store, mailer = guard(app, hold, MailRefused("421 later"))

    first = run_mail_intake(app, box, now=NOW, hold=hold)

    assert [m.reply for m in first.messages] == ["refused"] and mailer.sent == []
    inner = store.inner
    assert inner.claims(REPLY_PREFIX) == [] and len(inner.claims(RETRY_PREFIX)) == 1
    (record,) = inner.claims(MESSAGE_PREFIX)
    assert record.payload["reply"] == "refused"

    mailer.fail = None
    second = run_mail_intake(app, box, now=NOW + dt.timedelta(minutes=2), hold=hold)

    assert second.messages == [] and [r.result for r in second.retried] == ["sent"]
    assert store.unguarded == [] and mailer.sent_while_held == 0 and box.calls_while_held == []
    assert mailer.tries == 2 and len(mailer.sent) == 1
    (claim,) = inner.claims(REPLY_PREFIX)
    # The same reply claimed again (its refusal released it), saying "sending" at both tries.
    assert mailer.sending_at_send == [{claim.key}, {claim.key}] and claim.payload["result"] == "sent"
    assert [c.payload["state"] for c in inner.claims(RETRY_PREFIX)] == ["done"]
