"""Email intake on an in-memory mailbox: real workbooks in real-looking mail, the SQLite store, the outbox.

The mail is built as qq and 163 build it (tests/helpers/mail_corpus.py); every reply is read back from
the outbox folder as a mail client would read it.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.adapters.mail.imap import utf7_folder
from functions.app import App
from functions.bootstrap import open_app
from functions.config.loading import ConfigError
from functions.services.intake.unread import unread_files
from functions.services.loop import remind
from functions.services.mail_intake.process import message_key, run_mail_intake
from functions.services.mail_intake.reading import read_mail, safe_name
from functions.services.mail_intake.records import left_for_organiser
from functions.validate import codes
from schemas.mail_intake import MailIntakeSettings
from schemas.roster import Unit
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.evidence import docx
from tests.helpers.mail import outbox_mails
from tests.helpers.mail_corpus import PHOTO, auto_reply, forwarded, unit_mail, winmail_part, zip_of
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
IN_DIGEST_WINDOW = dt.datetime(2022, 11, 22, 12, tzinfo=dt.UTC)  # digests start 3 days before the plan is due
SETTINGS = """
mail_intake:
  user: wjsqjy@example.org
  replies_per_sender_per_hour: {limit}
  max_message_mb: {max_mb}
  web_base_url: https://form.example.org
"""


def _app(folder: Path, *, limit: int = 5, max_mb: float = 5) -> App:
    customise(folder, SETTINGS.format(limit=limit, max_mb=max_mb))
    return open_app(folder)


def _plan(tmp_path: Path, app: App, unit: Unit | None, name: str = "plan.xlsx") -> bytes:
    school = unit or unit_of_type(app.roster, "中小学")
    path = write_workbook(
        tmp_path / "made" / name, app.campaign, "plan", unit, school_plan(app.campaign, school)
    )
    return path.read_bytes()


def _outbox(app: App) -> list[EmailMessage]:
    return outbox_mails(app.paths.outbox)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return body.get_content()


def test_a_qq_mail_with_a_workbook_is_stored_answered_in_its_thread_and_moved(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    raw = unit_mail(
        sender=school.emails[0].upper(),  # addresses compare without case
        subject=f"{school.name}工作方案",
        message_id="<qq-1@qq.com>",
        files=[("学习周工作方案（最终版）.xlsx", _plan(tmp_path, app, school))],
        headers={"References": "<earlier@qq.com>"},
    )
    box = FakeMailbox()
    box.deliver(raw)
    result = run_mail_intake(app, box, now=NOW)

    [message] = result.messages
    assert message.kind == "submission" and message.reply == "sent"
    [book] = message.workbooks
    assert (book.name, book.unit, book.deliverable, book.seq, book.unit_by) == (
        "学习周工作方案（最终版）.xlsx",
        school.code,
        "plan",
        1,
        "workbook",
    )
    version = app.store.latest(school.code, "plan")
    assert version is not None and version.source.startswith("mail:<qq-1@qq.com>")
    assert [m.folder for m in box.messages] == ["handled"] and box.closed == 1

    [reply] = _outbox(app)
    assert reply["To"] == school.emails[0].upper().lower()
    assert reply["In-Reply-To"] == "<qq-1@qq.com>"
    assert reply["References"] == "<earlier@qq.com> <qq-1@qq.com>"
    assert reply["Subject"] == f"回复：{school.name}工作方案【已收到】"
    text = _text(reply)
    assert "结果：通过" in text and "第 1 版" in text  # the workbook channel's report text
    assert "截止日期：" in text and "https://form.example.org/u/" in text

    # A second run finds nothing new; the same message delivered again (another copy) changes nothing.
    assert run_mail_intake(app, box, now=NOW).messages == []
    box.deliver(raw)
    again = run_mail_intake(app, box, now=NOW)
    assert [m.kind for m in again.messages] == ["duplicate"]
    assert len(app.store.history(school.code, "plan")) == 1 and len(_outbox(app)) == 1
    assert [m.folder for m in box.messages] == ["handled", "handled"]


def test_gbk_gb18030_and_utf8_names_are_decoded() -> None:
    settings = MailIntakeSettings()
    for style in ("rfc2231-gbk", "rfc2047-gb18030", "rfc2231-utf8"):
        raw = unit_mail(
            sender="a@qq.com",
            subject="报送",
            message_id="<n@qq.com>",
            files=[("武进区实验小学-活动统计表.xlsx", b"PK"), ("活动照片1.jpg", PHOTO)],
            style=style,
        )
        mail = read_mail(raw, settings)
        assert [f.name for f in mail.workbooks] == ["武进区实验小学-活动统计表.xlsx"], style
        assert [f.name for f in mail.evidence] == ["活动照片1.jpg"], style
        assert mail.subject == "报送"


def test_no_name_ever_becomes_a_path() -> None:
    for hostile in (
        "../../etc/passwd.xlsx",
        "..\\..\\boot.ini.jpg",
        "/abs/x.pdf",
        "a\r\nBcc: x@y.z.jpg",
        "..",
    ):
        name = safe_name(hostile, "fallback")
        assert "/" not in name and "\\" not in name and "\n" not in name and "\r" not in name
        assert name not in ("", ".", "..")


def test_workbooks_without_identity_are_tied_by_sender_then_by_subject_else_listed(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    other = unit_of_type(app.roster, "中小学", 1)
    blank = _plan(tmp_path, app, None)  # the blank template, filled, no unit code anywhere
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0], subject="方案", message_id="<s@x.org>", files=[("方案.xlsx", blank)]
        )
    )
    box.deliver(
        unit_mail(
            sender="someone@163.com",
            subject=f"{other.name}报送",
            message_id="<t@x.org>",
            files=[("方案.xlsx", blank)],
        )
    )
    box.deliver(
        unit_mail(
            sender="nobody@163.com", subject="材料", message_id="<u@x.org>", files=[("方案.xlsx", blank)]
        )
    )
    result = run_mail_intake(app, box, now=NOW)

    by_sender, by_subject, unknown = (m.workbooks[0] for m in result.messages)
    assert (by_sender.unit, by_sender.unit_by, by_sender.seq) == (school.code, "sender", 1)
    assert (by_subject.unit, by_subject.unit_by, by_subject.seq) == (other.code, "mail-text", 1)
    assert unknown.seq is None and unknown.unit is None
    version = app.store.latest(school.code, "plan")
    assert version is not None and codes.UNIT_BY_SENDER.code in {i.code for i in version.report.warnings}
    version = app.store.latest(other.code, "plan")
    assert version is not None and codes.UNIT_BY_MAIL_TEXT.code in {i.code for i in version.report.warnings}
    # The unidentified one is in the organiser's list and its sender is told to fix it.
    assert [f.name for f in unread_files(app.store)] == ["方案.xlsx"]
    replies = {m["To"]: m for m in _outbox(app)}
    assert replies["nobody@163.com"]["Subject"] == "回复：材料【需修改】"
    assert "未能入库" in _text(replies["nobody@163.com"])


def test_a_coordinator_mail_with_several_workbooks_stores_each_on_its_own_identity(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    first, second = unit_of_type(app.roster, "中小学"), unit_of_type(app.roster, "中小学", 1)
    files = [(f"{u.name}.xlsx", _plan(tmp_path, app, u, f"{u.code}.xlsx")) for u in (first, second)]
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender="coordinator@163.com", subject="两所学校的方案", message_id="<c@163.com>", files=files
        )
    )
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert [(w.unit, w.seq) for w in message.workbooks] == [(first.code, 1), (second.code, 1)]
    [reply] = _outbox(app)
    assert reply["To"] == "coordinator@163.com" and first.name in _text(reply) and second.name in _text(reply)


def test_a_units_files_in_the_mail_are_stored_with_its_submission_but_not_in_a_coordinators(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    first, second = unit_of_type(app.roster, "中小学"), unit_of_type(app.roster, "中小学", 1)
    plan_doc = docx("学习周工作方案")
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=first.emails[0],
            subject="工作方案",
            message_id="<one@qq.com>",
            files=[("方案.xlsx", _plan(tmp_path, app, first)), ("工作方案.docx", plan_doc)],
        )
    )
    both = [(f"{u.name}.xlsx", _plan(tmp_path, app, u, f"{u.code}-2.xlsx")) for u in (first, second)]
    box.deliver(
        unit_mail(
            sender="coordinator@163.com",
            subject="两所学校",
            message_id="<two@163.com>",
            files=[*both, ("方案.docx", docx("谁的方案"))],
        )
    )
    one, two = run_mail_intake(app, box, now=NOW).messages

    version = app.store.history(first.code, "plan")[0]
    assert version.source.startswith("mail:<one@qq.com>")
    [ref] = app.store.attachments(version.id)
    assert (ref.rule, ref.kind, ref.name) == ("plan_doc", "docx", "工作方案.docx")
    assert app.store.get_blob(ref.sha256) == plan_doc
    assert one.evidence["attached"] is True
    # Two units' workbooks in one mail: whose document it is cannot be said, so it is only listed.
    assert two.evidence["attached"] is False and two.evidence["unit"] is None
    for unit in (first, second):
        latest = app.store.latest(unit.code, "plan")
        assert latest is not None and latest.source.startswith("mail:<two@163.com>")
        assert app.store.attachments(latest.id) == []


def test_forwarded_mail_zip_of_photos_and_winmail(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    inner = unit_mail(
        sender="teacher@qq.com",
        subject="方案",
        message_id="<inner@qq.com>",
        files=[("方案.xlsx", _plan(tmp_path, app, school)), ("签到表.pdf", b"%PDF-1.4")],
    )
    photos = zip_of([("活动照片1.jpg", PHOTO), ("活动照片2.jpg", PHOTO), ("说明.exe", b"MZ")])
    outer = forwarded(inner, sender=school.emails[0], subject="转发：方案", message_id="<fw@qq.com>")
    box = FakeMailbox()
    box.deliver(outer)
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="照片",
            message_id="<z@qq.com>",
            files=[("照片.zip", photos)],
            extra_parts=[winmail_part()],
        )
    )
    fw, zipped = run_mail_intake(app, box, now=NOW).messages

    assert [(w.name, w.unit, w.seq) for w in fw.workbooks] == [("方案.xlsx", school.code, 1)]
    assert fw.evidence["count"] == 1 and fw.evidence["files"][0]["name"] == "签到表.pdf"
    assert zipped.evidence["unit"] == school.code  # no workbook: the sender's unit
    assert [f["name"] for f in zipped.evidence["files"]] == ["活动照片1.jpg", "活动照片2.jpg"]
    assert {p["kind"] for p in zipped.problems} == {"winmail", "unknown-file"}
    # The handling record in the store says the same, for the organiser and for the lead's evidence hook.
    [record] = [c for c in app.store.claims("mail-msg/") if c.key == message_key("<z@qq.com>")]
    assert record.payload["evidence"]["count"] == 2 and record.payload["kind"] == "submission"
    reply = next(m for m in _outbox(app) if m["In-Reply-To"] == "<z@qq.com>")
    text = _text(reply)
    assert "winmail.dat" in text and "活动照片2.jpg" in text and reply["Subject"].endswith("【需修改】")


def test_a_zip_bomb_is_refused_whole(wujin_dir: Path) -> None:
    settings = MailIntakeSettings(zip_max_ratio=20, zip_max_files=3)
    bomb = zip_of([("大照片.jpg", b"\0" * (8 << 20))])
    mail = read_mail(
        unit_mail(sender="a@qq.com", subject="x", message_id="<b@x>", files=[("p.zip", bomb)]), settings
    )
    assert mail.evidence == [] and [p.kind for p in mail.problems] == ["zip-limit"]
    many = zip_of([(f"{i}.jpg", PHOTO) for i in range(4)], gbk_names=False)
    mail = read_mail(
        unit_mail(sender="a@qq.com", subject="x", message_id="<m@x>", files=[("p.zip", many)]), settings
    )
    assert mail.evidence == [] and [p.kind for p in mail.problems] == ["zip-limit"]
    broken = read_mail(
        unit_mail(sender="a@qq.com", subject="x", message_id="<d@x>", files=[("p.zip", b"PK\3\4xx")]),
        settings,
    )
    assert [p.kind for p in broken.problems] == ["zip-bad"]


def test_robots_lists_and_our_own_mail_get_no_reply(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    plan = _plan(tmp_path, app, school)
    box = FakeMailbox()
    box.deliver(auto_reply(sender=school.emails[0], message_id="<auto@qq.com>"))
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="方案",
            message_id="<list@x>",
            files=[("a.xlsx", plan)],
            headers={"List-Id": "<teachers.example.org>"},
        )
    )
    box.deliver(unit_mail(sender="MAILER-DAEMON@qq.com", subject="退信", message_id="<bounce@x>"))
    box.deliver(
        unit_mail(
            sender="huizong@example.org",
            subject="回复：方案【已收到】",
            message_id="<own@x>",
            files=[("a.xlsx", plan)],
        )
    )
    result = run_mail_intake(app, box, now=NOW)
    assert [m.kind for m in result.messages] == ["auto", "submission", "auto", "own"]
    assert result.messages[1].reply == "auto: List-Id" and result.messages[1].workbooks[0].seq == 1
    assert _outbox(app) == []


def test_mail_without_files_is_left_unflagged_for_the_organiser(wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    box = FakeMailbox()
    box.deliver(unit_mail(sender="q@163.com", subject="请问总结什么时候交？", message_id="<q@163.com>"))
    [message] = run_mail_intake(app, box, now=IN_DIGEST_WINDOW).messages
    assert message.kind == "not-submission" and message.settle == "left"
    assert box.messages[0].folder == "INBOX" and box.messages[0].flags == set()
    [left] = left_for_organiser(app.store)
    assert left["subject"] == "请问总结什么时候交？" and left["sender"] == "q@163.com"
    assert _outbox(app) == []
    # The organiser's daily digest lists it.
    assert remind(app, now=IN_DIGEST_WINDOW).digest_sent
    [digest] = [m for m in _outbox(app) if "【日报】" in m["Subject"]]
    assert "q@163.com：请问总结什么时候交？" in _text(digest)


def test_oversized_mail_is_moved_aside_and_the_sender_told(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir, max_mb=0.05)
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender="big@qq.com",
            subject="视频",
            message_id="<big@qq.com>",
            files=[("活动视频.mp4", b"v" * 200_000)],
        )
    )
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert message.kind == "oversized" and box.messages[0].folder == "aside"
    [reply] = _outbox(app)
    assert "邮件太大" in _text(reply) and reply["Subject"] == "回复：视频【需修改】"
    assert [(m["sender"], m["kind"]) for m in left_for_organiser(app.store)] == [("big@qq.com", "oversized")]


def test_replies_per_sender_are_limited(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir, limit=1)
    school = unit_of_type(app.roster, "中小学")
    box = FakeMailbox()
    for n in range(3):
        box.deliver(
            unit_mail(
                sender=school.emails[0],
                subject=f"第{n}次",
                message_id=f"<r{n}@qq.com>",
                files=[("a.jpg", PHOTO + bytes([n]))],
            )
        )
    result = run_mail_intake(app, box, now=NOW)
    assert [m.reply for m in result.messages] == ["sent", "rate-limited", "rate-limited"]
    assert len(_outbox(app)) == 1
    # An hour later the sender is answered again.
    box.deliver(
        unit_mail(sender=school.emails[0], subject="再次", message_id="<r9@qq.com>", files=[("b.jpg", PHOTO)])
    )
    later = run_mail_intake(app, box, now=NOW + dt.timedelta(hours=1, minutes=1))
    assert [m.reply for m in later.messages] == ["sent"]


def test_a_changed_uidvalidity_rereads_without_processing_twice(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    box = FakeMailbox()
    raw = unit_mail(
        sender=school.emails[0],
        subject="方案",
        message_id="<v@qq.com>",
        files=[("a.xlsx", _plan(tmp_path, app, school))],
    )
    box.deliver(raw)
    run_mail_intake(app, box, now=NOW)
    box.messages[0].folder = "INBOX"  # a server rebuilt: the message is back, under a new UID
    box.renumber()
    result = run_mail_intake(app, box, now=NOW)
    assert result.uidvalidity_changed and [m.kind for m in result.messages] == ["duplicate"]
    assert len(app.store.history(school.code, "plan")) == 1 and len(_outbox(app)) == 1


def test_header_injection_and_malformed_ids_go_nowhere(wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    raw = unit_mail(
        sender="x@qq.com",
        subject="照片",
        message_id="<ok@qq.com>",
        files=[("a.jpg", PHOTO)],
    )
    # A Message-ID that is not one, and a subject whose encoded word hides a CR LF and a header.
    raw = raw.replace(b"Message-ID: <ok@qq.com>", b"Message-ID: <bad id> <x>", 1)
    raw = raw.replace(b"Subject: ", b"Subject: =?utf-8?b?5oql6YCBDQpCY2M6IHZAeC5vcmc=?=\r\nX-Was: ", 1)
    box = FakeMailbox()
    box.deliver(raw)
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert message.reply == "sent"
    [reply] = _outbox(app)
    assert reply["Bcc"] is None and reply["In-Reply-To"] is None
    assert "\n" not in reply["Subject"] and reply["Subject"].startswith("回复：报送 Bcc: v@x.org")


def test_dry_run_changes_nothing(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="方案",
            message_id="<d@qq.com>",
            files=[("a.xlsx", _plan(tmp_path, app, school))],
        )
    )
    [message] = run_mail_intake(app, box, now=NOW, dry_run=True).messages
    assert message.reply == "dry run" and message.workbooks[0].unit == school.code
    assert app.store.latest(school.code, "plan") is None and app.store.claims("mail-") == []
    assert box.messages[0].folder == "INBOX" and _outbox(app) == []
    assert [m.reply for m in run_mail_intake(app, box, now=NOW).messages] == ["sent"]


@pytest.mark.parametrize(
    ("name", "wire"), [("INBOX", "INBOX"), ("huizong-已处理", "huizong-&XfJZBHQG-"), ("A&B", "A&-B")]
)
def test_folder_names_in_modified_utf7(name: str, wire: str) -> None:
    assert utf7_folder(name) == wire


def test_a_bounce_and_a_signature_logo_bring_no_files() -> None:
    from email.mime.base import MIMEBase
    from email.mime.image import MIMEImage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@qq.com"
    report["Message-ID"] = "<bounce-2@qq.com>"
    report.attach(MIMEText("投递失败", "plain", "utf-8"))
    original = MIMEBase("application", "octet-stream")
    original.set_payload(b"PK")
    original.add_header("Content-Disposition", "attachment", filename="方案.xlsx")
    report.attach(original)
    bounce = read_mail(report.as_bytes(), MailIntakeSettings())
    assert bounce.workbooks == [] and bounce.auto

    logo = MIMEImage(b"\x89PNG\r\n\x1a\n" + b"l" * 100, "png")
    logo.add_header("Content-ID", "<logo@qq.com>")
    logo.add_header("Content-Disposition", "inline", filename="logo.png")
    pasted = MIMEImage(b"\xff\xd8\xff" + b"p" * (40 * 1024), "jpeg")
    pasted.add_header("Content-ID", "<photo@qq.com>")
    pasted.add_header("Content-Disposition", "inline", filename="现场.jpg")
    raw = unit_mail(sender="a@qq.com", subject="照片", message_id="<i@qq.com>", extra_parts=[logo, pasted])
    assert [f.name for f in read_mail(raw, MailIntakeSettings()).evidence] == ["现场.jpg"]


def test_a_mailbox_that_fails_keeps_the_cursor(tmp_path: Path, wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    box = FakeMailbox()
    box.deliver(
        unit_mail(sender="a@qq.com", subject="照片", message_id="<f@qq.com>", files=[("a.jpg", PHOTO)])
    )
    box.fail_fetch = True
    failed = run_mail_intake(app, box, now=NOW)
    assert failed.error == "connection reset" and failed.messages == [] and box.closed == 1
    box.fail_fetch = False
    assert [m.reply for m in run_mail_intake(app, box, now=NOW).messages] == ["sent"]


def test_a_name_sent_as_raw_gbk_bytes_is_read_as_gbk() -> None:
    # Some clients put the GBK bytes of a name straight into the header, with no encoding declared.
    raw = unit_mail(
        sender="a@163.com",
        subject="报送",
        message_id="<raw@163.com>",
        files=[("PLACEHOLDER.xlsx", b"PK")],
        style="plain",
    )
    raw = raw.replace(b'filename="PLACEHOLDER.xlsx"', b'filename="' + "活动统计表.xlsx".encode("gbk") + b'"')
    assert [f.name for f in read_mail(raw, MailIntakeSettings()).workbooks] == ["活动统计表.xlsx"]


def test_a_message_claimed_by_a_run_that_stopped_is_left_for_the_organiser(wujin_dir: Path) -> None:
    app = _app(wujin_dir)
    box = FakeMailbox()
    box.deliver(
        unit_mail(sender="a@qq.com", subject="照片", message_id="<cut@qq.com>", files=[("a.jpg", PHOTO)])
    )
    # What a run killed between its claim and its record leaves behind.
    app.store.claim(message_key("<cut@qq.com>"), {"state": "processing", "uid": 1}, at=NOW)
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert message.kind == "duplicate" and message.settle == "left" and "interrupted" in message.reply
    assert box.messages[0].folder == "INBOX" and _outbox(app) == []


def test_a_mailbox_password_never_crosses_the_network_in_clear(wujin_dir: Path) -> None:
    customise(wujin_dir, "\nmail_intake:\n  host: imap.qq.com\n  security: none\n")
    with pytest.raises(ConfigError) as caught:
        open_app(wujin_dir)
    assert "明文" in str(caught.value) and "imap.qq.com" in str(caught.value)
