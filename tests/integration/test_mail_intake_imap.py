"""Email intake against a real Dovecot on 127.0.0.1, replies through a real SMTP server on loopback.

The mailbox holds what units really send (tests/helpers/mail_corpus.py): a qq-style mail with GBK names,
a forward with a workbook of another unit inside, a zip of photos, an auto-reply, the same message twice.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.adapters.mail.imap import utf7_folder
from functions.bootstrap import open_app
from functions.services.mail_intake.process import read_mailbox
from tests.fakes.smtp import RunningServer
from tests.helpers.dovecot import RunningDovecot, running_dovecot
from tests.helpers.mail import PASSWORD as SMTP_PASSWORD
from tests.helpers.mail import USER as SMTP_USER
from tests.helpers.mail import parse_mail
from tests.helpers.mail_corpus import PHOTO, auto_reply, forwarded, unit_mail, zip_of
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)


@pytest.fixture
def dovecot() -> RunningDovecot:
    with running_dovecot() as server:
        yield server  # type: ignore[misc]


def _configure(
    folder: Path, imap: RunningDovecot, smtp: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (folder / "campaign.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "mail:\n  transport: outbox\n",
        f"mail:\n  transport: smtp\n  smtp: {{host: {smtp.host}, port: {smtp.port}, security: none, "
        f"user: {SMTP_USER}, password_env: TEST_SMTP_PASSWORD}}\n",
    )
    (folder / "campaign.yaml").write_text(text, encoding="utf-8")
    imap.configure(folder, monkeypatch, timeout=10)


def test_a_real_mailbox_is_read_stored_answered_and_left_tidy(
    tmp_path: Path,
    wujin_dir: Path,
    dovecot: RunningDovecot,
    smtp_server: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    _configure(wujin_dir, dovecot, smtp_server, monkeypatch)
    app = open_app(wujin_dir)
    first, second = unit_of_type(app.roster, "中小学"), unit_of_type(app.roster, "中小学", 1)

    def plan(unit: object) -> bytes:
        path = tmp_path / "made" / f"{unit.code}.xlsx"  # type: ignore[attr-defined]
        return write_workbook(path, app.campaign, "plan", unit, school_plan(app.campaign, unit)).read_bytes()  # type: ignore[arg-type]

    qq = unit_mail(
        sender=first.emails[0],
        subject=f"{first.name}工作方案",
        message_id="<qq-1@qq.com>",
        files=[("学习周工作方案.xlsx", plan(first))],
    )
    inner = unit_mail(
        sender="teacher@163.com",
        subject="方案",
        message_id="<in@163.com>",
        files=[("方案.xlsx", plan(second)), ("签到表.pdf", b"%PDF-1.4")],
        style="rfc2047-gb18030",
    )
    fw = forwarded(inner, sender=first.emails[0], subject="转发：方案", message_id="<fw@qq.com>")
    photos = unit_mail(
        sender=first.emails[0],
        subject="活动照片",
        message_id="<zip@qq.com>",
        files=[("照片.zip", zip_of([("活动照片1.jpg", PHOTO), ("活动照片2.jpg", PHOTO)]))],
    )
    for raw in (qq, fw, photos, auto_reply(sender=second.emails[0], message_id="<auto@qq.com>"), qq):
        dovecot.append(raw)

    result = read_mailbox(app, now=NOW)
    assert result is not None and result.error == ""
    assert [m.kind for m in result.messages] == [
        "submission",
        "submission",
        "submission",
        "auto",
        "duplicate",
    ]
    # One version per workbook, each on its own identity (the forward holds the second school's plan).
    assert [len(app.store.history(u.code, "plan")) for u in (first, second)] == [1, 1]
    v = app.store.latest(first.code, "plan")
    assert v is not None and v.source.startswith("mail:<qq-1@qq.com>")
    assert result.messages[1].evidence["files"][0]["name"] == "签到表.pdf"
    assert [f["name"] for f in result.messages[2].evidence["files"]] == ["活动照片1.jpg", "活动照片2.jpg"]

    # One reply per message, in its thread, to its sender; none to the auto-reply or the duplicate.
    replies = [parse_mail(m.data) for m in smtp_server.recorder.messages]
    assert sorted(r["In-Reply-To"] for r in replies) == ["<fw@qq.com>", "<qq-1@qq.com>", "<zip@qq.com>"]
    assert all(m.rcpt_tos == [first.emails[0]] for m in smtp_server.recorder.messages)
    by_thread: dict[str, EmailMessage] = {r["In-Reply-To"]: r for r in replies}
    assert by_thread["<qq-1@qq.com>"]["Subject"] == f"回复：{first.name}工作方案【已收到】"

    # Handled mail moved (the copy too); the auto-reply left in the inbox, unread and unflagged.
    handled = dovecot.folder(utf7_folder("huizong-已处理"))
    assert len(handled) == 4
    [(flags, left)] = dovecot.folder("INBOX")
    assert b"<auto@qq.com>" in left and b"\\Seen" not in flags and b"\\Flagged" not in flags

    # A second run changes nothing.
    again = read_mailbox(open_app(wujin_dir), now=NOW)
    assert again is not None and again.messages == [] and again.error == ""
    assert len(smtp_server.recorder.messages) == 3
    assert [len(app.store.history(u.code, "plan")) for u in (first, second)] == [1, 1]


def test_a_wrong_password_is_told_plainly(
    wujin_dir: Path, dovecot: RunningDovecot, smtp_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(wujin_dir, dovecot, smtp_server, monkeypatch)
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "wrong")
    result = read_mailbox(open_app(wujin_dir), now=NOW)
    assert result is not None and result.messages == []
    assert (
        "无法登录邮箱" in result.error
        and "TEST_IMAP_PASSWORD" in result.error
        and "wrong" not in result.error
    )
